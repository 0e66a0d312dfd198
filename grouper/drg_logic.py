"""Stage 3 — pre-MDC, MDC and DRG: evaluate the formula lists.

CMS rules (README §5.1-5.2): the pre-MDC list (0) is evaluated first, then the
list of the principal diagnosis' MDC; each list in rank order, ties in blob
order, first true formula wins.  A matching row either assigns its DRG, or
reroutes to another list (24 multiple significant trauma, 25 HIV, 11 kidney
transplant, 29 unrelated OR procedure), or — a drg-0 row naming an
invalid-input atom — makes the claim ungroupable (DRG 999 with a return
code).  Other drg-0 rows have no effect.  The CC/MCC level is recomputed
per formula from its severity suppression list.
"""
from __future__ import annotations

import attrs

from . import severity as sv
from .compiled import Row
from .marking import ClaimState

UNGROUPABLE_DRG = 999
PRE_MDC = 0
UNRELATED_OR = 29


@attrs.frozen
class Assignment:
    drg: int
    mdc: int
    return_code: str
    row: Row | None                  # the formula that assigned the DRG (or the error row)
    path: tuple[tuple[Row, int], ...]  # (row, list) of every matched row incl. reroutes
    level: int                       # CC/MCC level seen by the assigning formula
    list_mdc: int                    # list where the DRG was found


def _run(state: ClaimState, lst: int, cand, removed, cache: dict):
    rows = state.cv.lists.get(lst, ())
    P, S, X = state.P, state.S, state.X
    R = state.R(lst)
    for row in rows:
        supp = row.suppression
        lvl = cache.get(supp)
        if lvl is None:
            lvl = cache[supp] = sv.level(state, cand, supp, removed)
        if row.pred(P, S, R, X, lvl):
            if row.drg or row.reroute_mdc or row.error:
                return row, lvl
    return None, 0


def assign(state: ClaimState, cand, removed: frozenset = frozenset()) -> Assignment:
    """Group one claim: the initial DRG with ``removed`` empty, the final DRG with the
    positions of HAC-removed secondary diagnoses."""
    cache: dict = {}
    path = []
    report_mdc = state.pdx_mdc if state.pdx_mdc is not None else max(state.pdx.mdc, 0)
    lst = PRE_MDC
    visited = set()
    while True:
        visited.add(lst)
        row, lvl = _run(state, lst, cand, removed, cache)
        if row is None:
            if lst == PRE_MDC and state.pdx_mdc is not None:
                lst = state.pdx_mdc
                if lst in visited:
                    break
                continue
            break
        path.append((row, lst))
        if row.error:
            return Assignment(UNGROUPABLE_DRG, 0, row.error, row, tuple(path), lvl, lst)
        if row.drg:
            return Assignment(row.drg, report_mdc, "OK", row, tuple(path), lvl, lst)
        nxt = row.reroute_mdc
        if nxt != UNRELATED_OR:
            report_mdc = nxt
        if nxt in visited:
            break
        lst = nxt
    return Assignment(UNGROUPABLE_DRG, 0, "UNGROUPABLE", None, tuple(path), 0, lst)
