"""The per-claim pipeline: one function per stage, in CMS order.

    read (validate) -> mark attributes -> severity candidates -> initial DRG
    -> HAC/POA -> final DRG -> affects-DRG flags -> weights

:func:`group` is the public entry point (re-exported as ``grouper.group``).
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from ..reading import Claim, claim_warnings
from ..reading import read as read_claim_input
from ..reading.values import HospitalStatus
from ..tables import default as _default_tables
from ..tables.lookup import SEVERITY as TABLE_SEVERITY
from . import grouping as drg_logic
from . import hac, severity
from . import marking as affects
from . import preprocess as marking
from .codes import (LEVEL_SEVERITY, UNGROUPABLE_DRG, AdmitDxFlag, HacStatus, MedSurg, PoaError, ReturnCode,
                    Severity, SeverityUsage)
from .compiled import compiled
from .result import Details, DxResult, LazyDetails, ProcResult, Result

OK = ReturnCode.OK


def group(claim: Claim | Mapping, *, tables=None, normalize: bool = False, version=None,
          details: bool = False) -> Result:
    """Group one claim exactly as the CMS MS-DRG grouper does.

    ``normalize`` cleans unambiguous code formatting first (reported as warnings);
    ``version`` overrides the claim's version/discharge date.  The per-code details
    (``pdx``, ``sdx``, ``procedures``, ``warnings``) are computed on first access, from
    the claim as read; ``details=True`` computes them now (cheaper when they will be read
    anyway).  Unusable input raises :class:`grouper.ClaimError` (with ``code``, ``field``
    and ``value``)."""
    ts = tables or _default_tables()
    raw, rc, changes = read_claim_input(claim, ts, version=version, normalize=normalize)
    v = rc.version
    cv = compiled(ts, v)
    run = _pipeline(cv, rc)
    return _result(raw, rc, run, changes, details)


def _pipeline(cv, rc) -> tuple:
    """The grouping stages for a claim as read: marking, CC/MCC candidates, initial DRG,
    HAC/POA, final DRG.  Returns (state, candidates, initial, final, hacs)."""
    state = marking.mark(cv, rc)
    cand = severity.candidates(state)
    initial = drg_logic.assign(state, cand)
    hacs = _hac_stage(state, cand, initial)
    if initial.return_code != OK:
        final = initial
    elif hacs.error:
        final = drg_logic.Assignment(UNGROUPABLE_DRG, 0, hacs.error, None, (), 0, 0)
    elif hacs.removed:
        final = drg_logic.assign(state, cand, hacs.removed)
    else:
        final = initial
    return state, cand, initial, final, hacs


def _details_later(claim, cv, rc, changes) -> Details:
    """Details of a result, computed when first read: the stages are run again from the
    claim as read (a result keeps only that, not the grouping's working objects, so
    keeping many results stays light)."""
    return _details(claim, *_pipeline(cv, rc), changes)


def _excluded(state, cand) -> frozenset:
    return frozenset(k for k, (_, why) in enumerate(cand, start=1) if why == "EXCLUDED")


def _hac_stage(state, cand, initial):
    """HAC/POA processing when it can change the final DRG; a no-op outcome otherwise
    (the per-code HAC entries are then computed with the details, on demand)."""
    if initial.return_code == OK and state.read.hospital_status != HospitalStatus.EXEMPT:
        for info in state.sdx_info:
            if info is not None and info.hac:        # some SDX is HAC-listed: check its POA
                if any(d is not None and d.hac and poa not in hac.POA_YES
                       for d, (_, poa) in zip(state.sdx_info, state.read.sdx)):
                    return hac.evaluate(state, True, _excluded(state, cand))
                break
    return hac.NO_HAC


# Up to v41.1 the grouper reports a procedure code it does not know as an OR procedure.
LAST_VERSION_UNKNOWN_PROC_IS_OR = 411


def _is_or(p, version: int) -> bool:
    """CMS's "is OR" flag: a known code unless it is marked non-OR (``nonor``)."""
    if not p.valid:
        return version <= LAST_VERSION_UNKNOWN_PROC_IS_OR
    return "nonor" not in p.attrs


def _hac_status(initial, final, hacs) -> HacStatus:
    if not hacs.met_numbers or initial.return_code != OK:
        return HacStatus.NOT_APPLICABLE
    if final.return_code != OK:
        return HacStatus.FINAL_DRG_UNGROUPABLE
    if final.drg != initial.drg:
        return HacStatus.FINAL_DRG_CHANGES
    return HacStatus.FINAL_DRG_NO_CHANGE


def _claim_severity(state, cand, a, removed) -> Severity:
    """Highest level among the secondary diagnoses that count for the assigning formula
    (NONE when the claim is ungroupable or lands in a DRG that is not a real grouping)."""
    if a.return_code != OK or a.row is None or not a.row.reports_claim_severity:
        return Severity.NONE
    return LEVEL_SEVERITY[a.level]         # the level of the assigning formula's suppression set


def _details(claim, state, cand, initial, final, hacs, changes) -> Details:
    """Per-code results (affects flags, severity usage, POA/HAC) and warnings."""
    cv = state.cv
    if hacs is hac.NO_HAC:
        hacs = hac.evaluate(state, initial.return_code == OK, _excluded(state, cand))
    removed = hacs.removed if final is not initial else frozenset()
    supp_i = initial.row.suppression if initial.row is not None and initial.return_code == OK else frozenset()
    supp_f = final.row.suppression if final.row is not None and final.return_code == OK else frozenset()
    use_i = severity.usage(state, cand, supp_i, grouped=initial.return_code == OK)
    if final is initial:
        use_f = use_i
    elif initial.return_code == OK and hacs.error:  # HAC made the final DRG 999
        use_f = severity.usage(state, cand, supp_i, hacs.met_positions)
    else:
        use_f = severity.usage(state, cand, supp_f, removed)
    mk_i = affects.mark(state, initial, cand, frozenset())
    mk_f = affects.mark_final(state, initial, final, cand, removed) if final is not initial else mk_i
    dx_flags, pr_flags = affects.flags(mk_i, mk_f, 1 + len(state.sdx), len(state.all_procs))

    def dx_result(d, k, iu, fu, poa_error, hac_entries):
        return DxResult(code=d.code, poa=d.poa, recognized=d.valid, affects_drg=dx_flags[k],
                        initial_severity_usage=iu, final_severity_usage=fu, poa_error=poa_error,
                        hacs=hac_entries, table_mdc=d.mdc if d.valid else None,
                        table_severity=TABLE_SEVERITY[d.severity] if d.valid else None)

    pdx = dx_result(state.pdx, 0, SeverityUsage.NEITHER, SeverityUsage.NEITHER, PoaError.POA_NOT_CHECKED, ())
    sdx = tuple(dx_result(d, k + 1, use_i[k], use_f[k], hacs.poa_error[k], hacs.entries[k])
                for k, d in enumerate(state.sdx))
    procs = tuple(ProcResult(code=p.code, recognized=p.valid, affects_drg=pr_flags[k],
                             is_or=_is_or(p, cv.version),
                             hac_usage=hacs.proc_usage[k]) for k, p in enumerate(state.all_procs))
    return Details(pdx, sdx, procs, claim_warnings(claim, state.read, cv.tables, changes))


def _drg_facts(cv, a) -> tuple:
    """(base DRG, medical/surgical, DRG title, MDC title) of an assignment."""
    vt = cv.vt
    ok = a.return_code == OK and a.row is not None
    return (a.row.base_drg if ok else UNGROUPABLE_DRG,
            a.row.med_surg if ok else MedSurg.NONE,
            vt.drg_titles.get(a.drg, ""), vt.mdc_titles.get(a.mdc, ""))


def _result_facts(cv, initial, final) -> tuple:
    """The table facts of a result that depend only on its initial and final assignment,
    memoized per version: both :func:`_drg_facts`, and the final DRG's fiscal-year weight,
    GMLOS and AMLOS.  (Formula rows live as long as the compiled version: their ids are
    stable keys.)"""
    key = ("result", initial.drg, initial.mdc, initial.return_code, id(initial.row),
           final.drg, final.mdc, final.return_code, id(final.row))
    hit = cv.memo.get(key)
    if hit is None:
        ts, fy = cv.tables, cv.vt.fiscal_year
        fig = ts.weights(fy).figures[final.drg] if fy in ts.fiscal_years else None
        hit = cv.memo[key] = _drg_facts(cv, initial) + _drg_facts(cv, final) + (fig or (None, None, None))
    return hit


def _result(claim, rc, run, changes, eager: bool) -> Result:
    state, cand, initial, final, hacs = run
    cv = state.cv
    removed = hacs.removed if final is not initial else frozenset()
    (i_base, i_ms, i_title, i_mdc_title, f_base, f_ms, f_title, f_mdc_title,
     weight, gmlos, amlos) = _result_facts(cv, initial, final)
    admit = state.read.admit_dx
    if admit is None or admit in ("", "null"):
        admit_flag = AdmitDxFlag.DX_NOT_GIVEN
    else:
        admit_flag = AdmitDxFlag.DX_VALID if cv.dx_info(admit.upper()) is not None else AdmitDxFlag.DX_INVALID
    i_sev = drg_logic.severity_used(state, initial)
    return Result(
        version=cv.version, fiscal_year=cv.vt.fiscal_year,
        initial_drg=initial.drg, initial_mdc=initial.mdc, final_drg=final.drg, final_mdc=final.mdc,
        return_code=final.return_code, initial_return_code=initial.return_code,
        initial_base_drg=i_base, final_base_drg=f_base,
        initial_med_surg=i_ms, final_med_surg=f_ms,
        initial_severity=i_sev,
        final_severity=i_sev if final is initial else drg_logic.severity_used(state, final),
        initial_claim_severity=_claim_severity(state, cand, initial, frozenset()),
        final_claim_severity=_claim_severity(state, cand, final, removed),
        hac_status=_hac_status(initial, final, hacs),
        num_hac_categories_satisfied=len(hacs.met_numbers),
        admit_dx_flag=admit_flag,
        initial_drg_description=i_title, final_drg_description=f_title,
        initial_mdc_description=i_mdc_title, final_mdc_description=f_mdc_title,
        weight=weight, gmlos=gmlos, amlos=amlos, id=claim.get("id") if type(claim) is dict else claim.id,
        details=(LazyDetails.of(_details(claim, state, cand, initial, final, hacs, changes)) if eager
                 else LazyDetails(partial(_details_later, claim, cv, rc, changes))),
    )
