"""Stage 6 — which codes affected the DRG (CMS "affects DRG" flags).

The CMS grouper marks codes as a side effect of evaluating formulas: while the
formula that assigns the DRG (and every rerouting formula on the way) is
evaluated left to right with short-circuit ``&`` / ``|``, each operand that is
evaluated and true marks the code(s) that made it true.  Where several codes
satisfy an operand, the CLINICAL_SIGNIFICANCE tie-breaker picks one:
secondary diagnoses are ranked MCC first, then CC, then by code.

The same walk tells which CC/MCC level the formula used (the "secondary dx
CC/MCC" flag, ``initial_severity`` / ``final_severity``).  A code's flag is
INITIAL, FINAL, BOTH or NONE after marking the initial and the final DRG.
"""
from __future__ import annotations

import attrs

from . import formula as fm
from . import severity as sv
from .drg_logic import Assignment
from .marking import FALLTHROUGH, JOINTS, NORMAL_NEWBORN, TRAUMA_SITES, ClaimState


@attrs.define
class Marks:
    dx: set = attrs.Factory(set)        # dx positions (0 = PDX)
    pr: set = attrs.Factory(set)        # input procedure positions
    severity: str = "NON_CC"            # level used by the assigning formula


# Newborn logic (CMS quirks, from the labelled claims).  NORMAL_NEWBORN is the attribute of
# "normal newborn" diagnoses (tested by ONLY:incident for DRG 795).  A secondary diagnosis
# is never marked through it; SDX:mdc15fallthrough ("falls through the normal-newborn
# logic") marks the first secondary diagnosis that is not a normal-newborn code, and so
# does v40's ANYDX (DRG 794) when the principal diagnosis is a normal-newborn code.


_VESSELS = tuple((k, f"vessel{k}") for k in (1, 2, 3, 4))
_STENTS = tuple((k, f"stent{k}") for k in (1, 2, 3, 4))
STRICT_STENTS = True
COUNTERS = {
    "FOUR_VESSELS": (_VESSELS, frozenset(), 4),
    "FOUR_STENTS": (_STENTS, frozenset({"NORdrugstent", "NORstent"}), 4),
    "FOUR_DRUG_ELUTING_STENTS": (_STENTS, frozenset({"NORdrugstent"}), 4),
    "FOUR_NON_DRUG_ELUTING_STENTS": (_STENTS, frozenset({"NORstent"}), 4),
}


class _Walker:
    def __init__(self, state: ClaimState, cand, removed, lst: int, level: int, suppression):
        self.state = state
        self.cand = cand
        self.removed = removed
        self.lst = lst
        self.level = level
        self.supp = suppression
        self.R = state.R(lst)
        # procedures in tie-break order: the principal procedure, then the others by code
        self.procs = sorted((p for p in state.procs if lst not in p.suppressed_in),
                            key=lambda p: (p.position != 0, p.position < 0, p.code.upper()))
        self.dx: set = set()
        self.pr: set = set()
        self.sev_used: list = []

    # tie-break order of secondary diagnoses: table severity MCC, CC, NCC, then by code
    def sdx_sorted(self):
        return sorted((d for d in self.state.sdx if d.valid), key=lambda d: (-d.severity, d.code.upper()))

    def eval(self, node) -> bool:
        if isinstance(node, fm.Atom):
            return self.atom(node)
        if isinstance(node, fm.Not):
            return not self.eval(node.child)
        if isinstance(node, fm.And):
            for c in node.children:
                if not self.eval(c):
                    return False
            return True
        for c in node.children:
            if self.eval(c):
                return True
        return False

    def atom(self, node: fm.Atom) -> bool:
        st = self.state
        if not fm.evaluate(node, st.P, st.S, self.R, st.X, self.level):
            return False
        k, n = node.kind, node.name
        if k == "PDX" or k == "ONLY":
            self.dx.add(0)
        elif k in ("SDX", "ANY"):
            if k == "ANY" and n in st.P:
                self.dx.add(0)
            elif n == NORMAL_NEWBORN:
                pass
            elif n == FALLTHROUGH and k == "SDX":
                self.mark_fallthrough()
            else:
                for d in self.sdx_sorted():
                    if n in d.attrs:
                        self.dx.add(d.position)
                        break
        elif k == "SEV":
            self.sev_used.append(n)
            want = sv.MCC if n == "MCC" else sv.CC
            for d in self.sdx_sorted():
                if self.cand[d.position - 1][0] == want and not (self.supp and d.attrs & self.supp):
                    self.dx.add(d.position)
                    break
        elif k == "PROC":
            for p in self.procs:
                if n in p.attrs:
                    self.mark_proc(p)
                    break
        elif k == "SPECIAL":
            self.special(n)
        return True

    def mark_proc(self, p) -> None:
        if p.position >= 0:
            self.pr.add(p.position)
            return
        cv = self.state.cv
        cl = next(c for c in cv.clusters if c.pr_id == p.id)
        for choice in cl.choices:
            for q in self.state.procs:
                if q.position >= 0 and q.id in choice:
                    self.pr.add(q.position)
                    break

    def mark_fallthrough(self) -> None:
        for d in self.sdx_sorted():
            if NORMAL_NEWBORN not in d.attrs:
                self.dx.add(d.position)
                break

    def special(self, n: str) -> None:
        st = self.state
        if n == "ANYDX":
            if NORMAL_NEWBORN in st.P:
                self.mark_fallthrough()
        elif n == "MULTST":
            # the PDX, then SDX in tie-break order, until two body sites are covered
            sites: set = set()
            for d in [st.pdx] + self.sdx_sorted():
                new = {s for s in TRAUMA_SITES if s in d.attrs} - sites
                if new:
                    sites |= new
                    self.dx.add(d.position)
                    if len(sites) >= 2:
                        break
        elif n == "BILATERAL":
            for p in self.procs:
                if any(j in p.attrs for j in JOINTS):
                    self.mark_proc(p)
        elif n == "ORPROC":
            for p in self.procs:
                if p.is_or_attr:
                    self.mark_proc(p)
                    break
        elif n in COUNTERS:
            self.counter(*COUNTERS[n])

    def counter(self, unit_attrs, needs, threshold) -> None:
        """Stent counters mark every contributing procedure; the vessel counter marks
        procedures in code order until the threshold is reached."""
        total = 0
        for p in self.procs:
            if needs and not (p.attrs & needs):
                continue
            units = sum(k for k, a in unit_attrs if a in p.attrs)
            if units:
                self.mark_proc(p)
                total += units
                if (total > threshold) if (needs and STRICT_STENTS) else (total >= threshold):
                    break


def mark(state: ClaimState, a: Assignment, cand, removed: frozenset) -> Marks:
    """Codes marked while evaluating the formulas that produced an assignment."""
    out = Marks()
    if a.return_code != "OK" or a.row is None:
        return out
    out.dx.add(0)
    for row, lst in a.path:
        lvl = a.level if row is a.row else sv.level(state, cand, row.suppression, removed)
        w = _Walker(state, cand, removed, lst, lvl, row.suppression)
        w.eval(row.node)
        out.dx |= w.dx
        out.pr |= w.pr
        if row is a.row and w.sev_used:
            out.severity = w.sev_used[0]
    return out


def mark_final(state: ClaimState, initial: Assignment, final: Assignment, cand, removed: frozenset) -> Marks:
    """Marks of the final DRG.  When HAC/POA processing changed the DRG, the secondary
    diagnoses it removed are themselves marked as affecting the final DRG."""
    out = mark(state, final, cand, removed)
    if final.return_code == "OK" and final.drg != initial.drg:
        out.dx |= removed
    return out


def flags(initial: Marks, final: Marks, n_dx: int, n_pr: int):
    def one(a: bool, b: bool) -> str:
        return "BOTH" if a and b else "INITIAL" if a else "FINAL" if b else "NONE"
    dx = [one(i in initial.dx, i in final.dx) for i in range(n_dx)]
    pr = [one(i in initial.pr, i in final.pr) for i in range(n_pr)]
    return dx, pr
