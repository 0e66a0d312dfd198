"""Stage 6 — which codes affected the DRG (CMS "affects DRG" flags).

After a DRG is assigned, the CMS grouper marks the codes that made the
matched formulas true (the rerouting rows and the assigning row).  Where
several codes satisfy the same operand it marks one, by its
CLINICAL_SIGNIFICANCE tie-breaker.  This is done for the initial and for the
final DRG; a code's flag is INITIAL, FINAL, BOTH or NONE.
"""
from __future__ import annotations

from . import formula as fm
from .drg_logic import Assignment
from .marking import JOINTS, TRAUMA_SITES, ClaimState
from .severity import CC, MCC


def _sdx_order(state: ClaimState, cand):
    """Secondary diagnoses in tie-break order: MCC first, then CC, then by code."""
    def key(d):
        sev = cand[d.position - 1][0]
        return (-sev, d.code.upper())
    return sorted((d for d in state.sdx if d.valid), key=key)


def severity_used(state: ClaimState, a: Assignment) -> str:
    """The CC/MCC level the assigning formula used: MCC / CC when the branch of the formula
    that made it true tests that level, else NON_CC (CMS "secondary dx CC/MCC" flag)."""
    if a.return_code != "OK" or a.row is None:
        return "NON_CC"
    found = []

    def walk(node):
        if isinstance(node, fm.Atom):
            ok = fm.evaluate(node, state.P, state.S, R, state.X, a.level)
            if ok and node.kind == "SEV":
                found.append(node.name)
            return ok
        if isinstance(node, fm.Not):
            return not fm.evaluate(node.child, state.P, state.S, R, state.X, a.level)
        if isinstance(node, fm.And):
            if not fm.evaluate(node, state.P, state.S, R, state.X, a.level):
                return False
            for c in node.children:
                walk(c)
            return True
        for c in node.children:
            if fm.evaluate(c, state.P, state.S, R, state.X, a.level):
                walk(c)
                return True
        return False

    R = state.R(a.list_mdc)
    walk(a.row.node)
    return found[0] if found else "NON_CC"


def mark(state: ClaimState, a: Assignment, cand, removed: frozenset) -> tuple[set, set]:
    """(dx positions, procedure positions) marked for an assignment."""
    dx: set = set()
    pr: set = set()
    if a.return_code != "OK" or a.row is None:
        return dx, pr
    dx.add(0)
    sdx_sorted = _sdx_order(state, cand)
    for row, lst in a.path:
        R = state.R(lst)
        lvl = a.level if row is a.row else None
        from . import severity as sv
        if lvl is None:
            lvl = sv.level(state, cand, row.suppression, removed)
        procs = [p for p in state.procs if lst not in p.suppressed_in]
        _walk(row.node, state, R, lvl, row.suppression, cand, removed, sdx_sorted, procs, dx, pr)
    return dx, pr


def _walk(node, state, R, lvl, supp, cand, removed, sdx_sorted, procs, dx, pr) -> bool:
    P, S, X = state.P, state.S, state.X
    if isinstance(node, fm.Atom):
        val = fm.evaluate(node, P, S, R, X, lvl)
        if not val:
            return False
        k, n = node.kind, node.name
        if k == "PDX":
            dx.add(0)
        elif k in ("SDX", "ANY"):
            if k == "ANY" and n in P:
                dx.add(0)
            else:
                for d in sdx_sorted:
                    if n in d.attrs:
                        dx.add(d.position)
                        break
        elif k == "ONLY":
            dx.add(0)
        elif k == "SEV":
            want = MCC if n == "MCC" else CC
            for d in sdx_sorted:
                if (cand[d.position - 1][0] == want and d.position not in removed
                        and not (supp and d.attrs & supp)):
                    dx.add(d.position)
                    break
        elif k == "PROC":
            for p in procs:
                if n in p.attrs:
                    if p.position >= 0:
                        pr.add(p.position)
                    else:
                        _mark_cluster_members(state, p, pr)
                    break
        elif k == "SPECIAL":
            if n == "MULTST":
                for d in [state.pdx] + sdx_sorted:
                    if any(s in d.attrs for s in TRAUMA_SITES):
                        dx.add(d.position)
            elif n == "BILATERAL":
                for p in procs:
                    if any(j in p.attrs for j in JOINTS):
                        pr.add(p.position)
            elif n.startswith("FOUR_"):
                for p in procs:
                    if any(a.startswith(("vessel", "stent")) for a in p.attrs):
                        pr.add(p.position)
        return True
    if isinstance(node, fm.Not):
        return not _walk_eval(node.child, state, R, lvl)
    if isinstance(node, fm.And):
        if not _walk_eval(node, state, R, lvl):
            return False
        for c in node.children:
            _walk(c, state, R, lvl, supp, cand, removed, sdx_sorted, procs, dx, pr)
        return True
    for c in node.children:
        if _walk_eval(c, state, R, lvl):
            _walk(c, state, R, lvl, supp, cand, removed, sdx_sorted, procs, dx, pr)
            return True
    return False


def _walk_eval(node, state, R, lvl) -> bool:
    return fm.evaluate(node, state.P, state.S, R, state.X, lvl)


def _mark_cluster_members(state: ClaimState, cluster_proc, pr: set) -> None:
    cv = state.cv
    cl = next(c for c in cv.clusters if c.pr_id == cluster_proc.id)
    for choice in cl.choices:
        for p in state.procs:
            if p.position >= 0 and p.id in choice:
                pr.add(p.position)
                break


def flags(initial: tuple[set, set], final: tuple[set, set], n_dx: int, n_pr: int):
    def one(a: bool, b: bool) -> str:
        return "BOTH" if a and b else "INITIAL" if a else "FINAL" if b else "NONE"
    dx = [one(i in initial[0], i in final[0]) for i in range(n_dx)]
    pr = [one(i in initial[1], i in final[1]) for i in range(n_pr)]
    return dx, pr
