"""Grouping (CMS ``PreMdcGrouping``, ``PdxMdcGrouping``, ``MdcRerouteGrouping`` in its initial
and final variants): evaluate the formula lists, pre-MDC, MDC and reroutes.

CMS rules (``docs/cms-rules.md``, "Formula lists"): the pre-MDC list (0) is evaluated
first, then the list of the principal diagnosis' MDC; each list in rank order, ties in
blob order, first true formula wins.  A matching row either assigns its DRG, or reroutes
to another list (24 multiple significant trauma, 25 HIV, 11 kidney transplant, 29
unrelated OR procedure), or -- a drg-0 row naming an invalid-input atom -- makes the claim
ungroupable (DRG 999 with a return code).  Other drg-0 rows have no effect.  The CC/MCC
level is recomputed per formula from its severity suppression list.  A claim never
evaluates a list twice: a reroute back to a visited list, or no formula matching outside
the pre-MDC list, leaves it ungroupable.

Initial and final grouping are the same function (:func:`assign`); the final one leaves
out the secondary diagnoses that HAC/POA processing removed.  The walk's rules (what
follows a list without a match, which reroutes change the reported MDC) are the row data
and :func:`next_list`, used by the vectorized walk (:mod:`grouper.bulk.vector`) as well.
"""
from __future__ import annotations

import attrs

from . import formula as fm
from . import severity as sv
from .atoms import NO_MDC
from .codes import LEVEL_SEVERITY, PRE_MDC, UNGROUPABLE_DRG, MedSurg, ReturnCode, Severity
from .compiled import Row
from .preprocess import ClaimState

OK = ReturnCode.OK
NO_LIST = NO_MDC                     # the "next list" of a walk that ends without a DRG


@attrs.frozen
class Assignment:
    drg: int
    mdc: int
    return_code: ReturnCode
    row: Row | None                  # the formula that assigned the DRG (or the error row)
    path: tuple[tuple[Row, int], ...]  # (row, list) of every matched row incl. reroutes
    level: int                       # CC/MCC level seen by the assigning formula
    list_mdc: int                    # list where the DRG was found


def next_list(lst, pdx_mdc):
    """The list to evaluate after list ``lst`` when none of its formulas matched: the
    principal diagnosis' MDC after the pre-MDC list, else none (NO_LIST: ungroupable).
    ``pdx_mdc`` is NO_MDC for a principal diagnosis that is not a code of the version (an
    int, or a numpy array of the claims evaluating ``lst``)."""
    return pdx_mdc if lst == PRE_MDC else NO_LIST


MEMO_LIMIT = 400_000


def _run(state: ClaimState, lst: int, summary, cache: dict):
    """First formula of list ``lst`` that assigns, reroutes or errors: (row, its CC/MCC level).

    Results are memoized per version on (list, the feature bits the list tests, the
    levels of its suppression sets): claims that look alike to a list share the answer."""
    cv = state.cv
    plan = cv.list_plan.get(lst)
    if plan is None:
        return None, 0
    bits, supp_idx = plan
    m = state.mask(lst) & bits
    # the levels of the list's sets depend only on the summary's bits of those sets: a claim
    # alike to a memoized one in these finds its answer without computing the levels
    memo = cv.memo
    sets = cv.list_sets[lst]
    key = ("run", lst, m, summary[0] & sets, summary[1] & sets)
    hit = memo.get(key)
    if hit is None:
        levels = []
        for k in supp_idx:
            lv = cache.get(k)
            if lv is None:
                lv = cache[k] = sv.level_for_set(summary[0], summary[1], k)
            levels.append(lv)
        hit = evaluate_list(cv, lst, m, tuple(levels))
        if len(memo) > MEMO_LIMIT:
            memo.clear()
        memo[key] = hit
    return hit


def evaluate_list(cv, lst: int, m: int, levels: tuple):
    """(row, level) of the first formula of list ``lst`` that assigns, reroutes or errors,
    for feature mask ``m`` (already restricted to the list's bits) and the levels of the
    list's suppression sets (in ``cv.list_plan`` order); (None, 0) when none does."""
    key = (lst, m, levels)
    memo = cv.memo
    hit = memo.get(key)
    if hit is None:
        by_k = dict(zip(cv.list_plan[lst][1], levels))
        hit = (None, 0)
        for row, pred in zip(cv.lists[lst], cv.list_predicates(lst)):
            lvl = by_k[row.supp_index]
            if (row.drg or row.reroute_mdc or row.error) and pred(m, lvl):
                hit = (row, lvl)
                break
        if len(memo) > MEMO_LIMIT:
            memo.clear()
        memo[key] = hit
    return hit


def assign(state: ClaimState, cand, removed: frozenset = frozenset()) -> Assignment:
    """Group one claim: the initial DRG with ``removed`` empty, the final DRG with the
    positions of HAC-removed secondary diagnoses."""
    cache: dict = {}
    summary = sv.severity_summary(state, cand, removed)
    path = []
    report_mdc = state.pdx_mdc if state.pdx_mdc != NO_MDC else 0
    lst = PRE_MDC
    visited = set()
    while lst != NO_LIST and lst not in visited:
        visited.add(lst)
        row, lvl = _run(state, lst, summary, cache)
        if row is None:
            lst = next_list(lst, state.pdx_mdc)
            continue
        path.append((row, lst))
        if row.error:
            return Assignment(UNGROUPABLE_DRG, 0, row.error, row, tuple(path), lvl, lst)
        if row.drg:
            return Assignment(row.drg, report_mdc, OK, row, tuple(path), lvl, lst)
        if row.reports_mdc:
            report_mdc = row.reroute_mdc
        lst = row.reroute_mdc
    return Assignment(UNGROUPABLE_DRG, 0, ReturnCode.UNGROUPABLE, None, tuple(path), 0, lst)


def assignment_facts(grouped: bool, row: Row | None) -> tuple[int, MedSurg]:
    """(base DRG, medical/surgical) of an assignment: its formula's, or (999, NONE) when the
    claim is not grouped."""
    if grouped and row is not None:
        return row.base_drg, row.med_surg
    return UNGROUPABLE_DRG, MedSurg.NONE


def claim_severity(grouped: bool, reports: bool, level: int) -> Severity:
    """The claim-level CC/MCC of an assignment: the level its formula saw (the highest
    among the secondary diagnoses that count for it), NONE when the claim is not grouped
    or its formula reports none (``Row.reports_claim_severity``: DRG 998)."""
    if not grouped or not reports:
        return Severity.NONE
    return LEVEL_SEVERITY[level]


def severity_used(state: ClaimState, a: Assignment) -> Severity:
    """The CC/MCC level the assigning formula used (MCC / CC / NON_CC): the first MCC or CC
    operand evaluated true when the formula is read left to right with short-circuit."""
    if a.return_code != OK or a.row is None:
        return Severity.NON_CC
    return row_severity_used(state.cv, a.row, state.mask(a.list_mdc), a.level)


def row_severity_used(cv, row, m: int, level: int) -> Severity:
    """:func:`severity_used` for a formula row, feature mask and level (memoized)."""
    m &= row.bits
    key = ("sev", row.list_mdc, row.position, m, level)
    hit = cv.memo.get(key)
    if hit is None:
        pred = cv.atom_predicate
        used = fm.severity_operand_used(row.node, lambda atom: pred(atom)(m, level))
        hit = cv.memo[key] = Severity(used) if used else Severity.NON_CC
    return hit
