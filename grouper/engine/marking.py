"""Marking (CMS ``logic/marking``: ``InitialDiagnosisMarking`` ... ``FinalSgFunctionMarking``):
which codes affected the DRG (CMS "affects DRG" flags).

The CMS grouper marks codes as a side effect of evaluating formulas: while the
formula that assigns the DRG (and every rerouting formula on the way) is
evaluated left to right with short-circuit ``&`` / ``|``, each operand that is
evaluated and true marks the code(s) that made it true.

Diagnoses are marked operand by operand.  Where several codes satisfy an
operand, the CLINICAL_SIGNIFICANCE tie-breaker picks one: secondary diagnoses
are ranked MCC first, then CC, then by code.

Procedures (rules read from the labelled claims):

* Procedure operands are satisfied jointly (:func:`_cover`): the operands found
  true along the whole path (rerouting rows included) are covered greedily, each
  pick being the procedure that satisfies most of the still uncovered operands,
  ties broken by :func:`_tie_order`.  So ``arterial & NORdrugstent`` marks one
  drug-eluting stent procedure, not the principal procedure plus a stent, and
  ``ORPROC`` then ``CC & d468`` marks a single d468 procedure.
* A formed cluster hides its components in its suppression MDCs — those of the
  formula list and that of the principal diagnosis (:func:`_shown`); a marked
  cluster marks every component on the claim (:func:`_members`).
* True claim-level counters mark what they counted (:func:`_counter`, from the counters'
  declarations in :mod:`grouper.engine.atoms`).
* When HAC processing changes the DRG, the procedures of the met HAC criteria
  affect the final DRG (:func:`mark_final`).

A code's flag is INITIAL, FINAL, BOTH or NONE after marking the initial and the final DRG.
"""
from __future__ import annotations

import attrs

from . import formula as fm
from . import severity as sv
from .atoms import (
    ANYDX,
    COMPOSITE,
    COUNTER,
    COUNTER_ATOMS,
    FALLTHROUGH,
    MULTIPLE_SITES,
    NORMAL_NEWBORN,
    OR_ATTRS,
    ORPROC,
    TRAUMA_SITES,
    Counter,
)
from .codes import Affects, ReturnCode
from .grouping import Assignment
from .preprocess import ClaimState


@attrs.define
class Marks:
    dx: set = attrs.Factory(set)        # dx positions (0 = PDX)
    pr: set = attrs.Factory(set)        # input procedure positions


# Newborn logic (CMS quirks, from the labelled claims).  NORMAL_NEWBORN is the attribute of
# "normal newborn" diagnoses (tested by ONLY:incident for DRG 795).  A secondary diagnosis
# is never marked through it; SDX:mdc15fallthrough ("falls through the normal-newborn
# logic") marks the first secondary diagnosis that is not a normal-newborn code, and so
# does v40's ANYDX (DRG 794) when the principal diagnosis is a normal-newborn code.



def _tie_order(p):
    """CLINICAL_SIGNIFICANCE order of procedures: the principal procedure when it is an OR
    procedure (a non-OR principal procedure has no precedence), then the others by code;
    formed cluster pseudo-codes last."""
    return (not (p.position == 0 and "nonor" not in p.attrs), p.position < 0, p.code.upper())


class _Walker:
    def __init__(self, state: ClaimState, cand, lst: int, level: int, suppression):
        self.state = state
        self.cand = cand
        self.lst = lst
        self.level = level
        self.supp = suppression
        self.R = state.R(lst)
        self.dx: set = set()
        self.needs: list = []            # (list, operand attributes) of true procedure operands
        self.counters: list = []         # (list, counter name) of true counter operands

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
            want = sv.MCC if n == "MCC" else sv.CC
            for d in self.sdx_sorted():
                if self.cand[d.position - 1][0] == want and not (self.supp and d.attrs & self.supp):
                    self.dx.add(d.position)
                    break
        elif k == "PROC":
            self.needs.append((self.lst, frozenset((n,))))
        elif k == "SPECIAL":
            self.special(n)
        return True

    def mark_fallthrough(self) -> None:
        for d in self.sdx_sorted():
            if NORMAL_NEWBORN not in d.attrs:
                self.dx.add(d.position)
                break

    def special(self, n: str) -> None:
        st = self.state
        if n == ANYDX:
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
                    if len(sites) >= MULTIPLE_SITES:
                        break
        elif n == ORPROC:
            self.needs.append((self.lst, OR_ATTRS))
        elif n in COUNTER_ATOMS:
            self.counters.append((self.lst, n))


def _shown(state: ClaimState, p, lst: int) -> bool:
    """Whether a procedure can be marked for an operand of formula list ``lst``: a formed
    cluster hides its components in its suppression MDCs, both the list's and the
    principal diagnosis' MDC."""
    return lst not in p.suppressed_in and state.pdx_mdc not in p.suppressed_in


def _visible(state: ClaimState, lst: int):
    return [p for p in state.procs if _shown(state, p, lst)]


def _members(state: ClaimState, p) -> list:
    """Input procedures a marked procedure stands for: itself, or every component of a
    formed cluster that is on the claim."""
    if p.position >= 0:
        return [p]
    cv = state.cv
    by_code = cv.tables.cached(("clusters_by_code", cv.version), lambda: {c.code: c for c in cv.clusters})
    ids = frozenset().union(*by_code[p.code].choices)
    return [q for q in state.procs if q.position >= 0 and q.id in ids]


def _cover(state: ClaimState, needs: list) -> list:
    """Procedures marked for the true procedure operands: repeatedly the procedure (in
    tie order) that satisfies most of the operands not yet satisfied."""
    out = []
    left = list(dict.fromkeys(needs))
    procs = sorted(state.procs, key=_tie_order)
    def hits(p, left):
        return [nd for nd in left if _shown(state, p, nd[0]) and p.attrs & nd[1]]

    while left:
        best = max(procs, key=lambda p: len(hits(p, left)))     # max keeps the first in tie order
        got = hits(best, left)
        if not got:
            break
        out.append(best)
        left = [nd for nd in left if nd not in got]
    return out


def _prefix(procs, counter: Counter) -> list:
    """Procedures in code order, each with its tally, until the counter's threshold is reached."""
    out, total = [], 0
    for p in sorted(procs, key=lambda p: p.code.upper()):
        u = counter.tally(p.attrs)
        if not u:
            continue
        if total >= counter.threshold:
            break
        out.append(p)
        total += u
    return out


def _counter(state: ClaimState, lst: int, name: str, needs) -> list:
    """Procedures marked by a true counter operand (``Counter.marks``): "counted", every
    procedure it counted (stent counters of one kind, fusion counters, BILATERAL);
    "prefix", the procedures in code order until the threshold (FOUR_VESSELS); "stents",
    the FOUR_STENTS rule below.  A composite (MULTFUSE) marks through its true parts."""
    if name in COMPOSITE:
        return [p for part in COMPOSITE[name] if part in state.X for p in _counter(state, lst, part, needs)]
    counter = COUNTER[name]
    procs = _visible(state, lst)
    if counter.marks == "counted":
        want = counter.marked_attrs
        return [p for p in procs if p.attrs & want]
    if counter.marks == "prefix":
        return _prefix(procs, counter)
    # "stents": the stents in code order until the threshold, and every procedure of the
    # stent kind (drug-eluting or not) that the formula's stent operand matched.
    kinds = {a for _, nd in needs for a in nd if a in counter.kinds}
    out = _prefix(procs, counter)
    # The counted procedures' stent-count attributes join the list's single-attribute
    # procedure operands.  When no one procedure holds them all, CMS marks attribute by
    # attribute, and an attribute that two or more procedures hold marks the principal
    # procedure when it has it (labelled claims: DRG 321 with a bare-metal principal).
    want = {a for p in out for a in counter.units if a in p.attrs}
    want |= {a for at, nd in needs if at == lst and len(nd) == 1 for a in nd}
    if not any(want <= p.attrs for p in procs):
        for a in sorted(want):
            holders = [p for p in procs if a in p.attrs]
            if len(holders) >= 2 and any(p.position == 0 for p in holders):
                out += [p for p in holders if p.position == 0]
    out += [p for p in procs if p.attrs & kinds]
    return out


def mark(state: ClaimState, a: Assignment, cand, removed: frozenset) -> Marks:
    """Codes marked while evaluating the formulas that produced an assignment."""
    out = Marks()
    if a.return_code != ReturnCode.OK or a.row is None:
        return out
    out.dx.add(0)
    needs, counters = [], []
    summary = None
    for row, lst in a.path:
        if row is a.row:
            lvl = a.level
        else:                                    # a rerouting row: the level its formula saw
            summary = summary or sv.severity_summary(state, cand, removed)
            lvl = sv.level_for_set(summary[0], summary[1], row.supp_index)
        w = _Walker(state, cand, lst, lvl, row.suppression)
        w.eval(row.node)
        out.dx |= w.dx
        needs += w.needs
        counters += w.counters
    picked = _cover(state, needs)
    for lst, name in counters:
        picked += _counter(state, lst, name, needs)
    for p in picked:
        out.pr |= {q.position for q in _members(state, p)}
    return out


def mark_final(state: ClaimState, initial: Assignment, final: Assignment, cand, removed: frozenset,
               hac_procedures) -> Marks:
    """Marks of the final DRG.  When HAC/POA processing changed the DRG, the secondary
    diagnoses it removed, and the procedures of the HAC criteria they met
    (``hac_procedures``: per input procedure, its HAC lists), are themselves marked as
    affecting the final DRG."""
    out = mark(state, final, cand, removed)
    if final.return_code == ReturnCode.OK and final.drg != initial.drg:
        out.dx |= removed
        out.pr |= {k for k, u in enumerate(hac_procedures) if u}
    return out


def flags(initial: Marks, final: Marks, n_dx: int, n_pr: int):
    def one(a: bool, b: bool) -> Affects:
        return Affects.BOTH if a and b else Affects.INITIAL if a else Affects.FINAL if b else Affects.NONE
    dx = [one(i in initial.dx, i in final.dx) for i in range(n_dx)]
    pr = [one(i in initial.pr, i in final.pr) for i in range(n_pr)]
    return dx, pr
