"""The per-claim pipeline (CMS ``MsdrgComponent`` and its ``GrouperChain``): the stages in CMS order.

    read (grouper.reading) -> preprocess -> severity candidates -> initial grouping
    -> HAC/POA -> final grouping -> marking (affects-DRG flags) -> weights -> result

:func:`group` is the public entry point (re-exported as ``grouper.group``).  The claim-level
fields are computed at once; the per-code details (affects flags, severity usage, HAC
entries, warnings) when first read, from the claim as read.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from ..reading import Claim, claim_warnings
from ..reading import read as read_input
from ..tables import default as _default_tables
from . import grouping, hac, marking, severity
from .codes import UNGROUPABLE_DRG, AdmitDxFlag, PoaError, ReturnCode, SeverityUsage
from .compiled import HAC_LISTED, compiled
from .preprocess import preprocess
from .result import TOP_FIELDS, Details, DxResult, LazyDetails, ProcResult, Result
from .weights import drg_figures

OK = ReturnCode.OK


def group(claim: Claim | Mapping, *, tables=None, normalize: bool = False, version=None,
          details: bool = False, convert_codes: bool = False) -> Result:
    """Group one claim exactly as the CMS MS-DRG grouper does.

    ``normalize`` cleans unambiguous code formatting first (reported as warnings);
    ``version`` overrides the claim's version/discharge date; ``convert_codes`` converts the
    codes from the code set of the claim's discharge date to that of the version used, with
    CMS's ICD-10 conversion tables (each conversion reported as a warning; a code with several
    replacements is kept as written).  The per-code details
    (``pdx``, ``sdx``, ``procedures``, ``warnings``) are computed on first access, from
    the claim as read; ``details=True`` computes them now (cheaper when they will be read
    anyway).  Unusable input raises :class:`grouper.ClaimError` (with ``code``, ``field``
    and ``value``)."""
    ts = tables or _default_tables()
    raw, read, changes, conversions = read_input(claim, ts, version=version, normalize=normalize,
                                                 convert_codes=convert_codes)
    cv = compiled(ts, read.version)
    return _result(raw, read, _stages(cv, read), (changes, conversions), details)


def group_stages(claim, tables, version=None) -> tuple:
    """One claim mapping through the stages, for writers of the full detail
    (:mod:`grouper.bulk.detail`): ``(claim as read, the reading's edits, stages)``, the
    stages as :func:`detail_parts` and :func:`claim_values` take them; unusable input raises
    ClaimError as :func:`group` does."""
    raw, read, changes, conversions = read_input(claim, tables, version=version)
    return read, (changes, conversions), _stages(compiled(tables, read.version), read)


def _stages(cv, read) -> tuple:
    """The grouping stages for a claim as read: preprocessing, CC/MCC candidates, initial
    DRG, HAC/POA, final DRG.  Returns (state, candidates, initial, final, hacs)."""
    state = preprocess(cv, read)
    cand = severity.candidates(state)
    initial = grouping.assign(state, cand)
    hacs = _hac_stage(state, cand, initial)
    if initial.return_code != OK:
        final = initial
    elif hacs.error:
        final = grouping.Assignment(UNGROUPABLE_DRG, 0, hacs.error, None, (), 0, 0)
    elif hacs.removed:
        final = grouping.assign(state, cand, hacs.removed)
    else:
        final = initial
    return state, cand, initial, final, hacs


def _details_later(claim, cv, read, edits) -> Details:
    """Details of a result, computed when first read: the stages are run again from the
    claim as read (a result keeps only that, not the grouping's working objects, so
    keeping many results stays light)."""
    return _details(claim, *_stages(cv, read), edits)


def _excluded(cand) -> frozenset:
    """The SDX positions that the principal diagnosis excludes as CC/MCC."""
    return frozenset(k for k, (_, why) in enumerate(cand, start=1) if why == severity.EXCLUDED)


def _hac_stage(state, cand, initial):
    """HAC/POA processing when it can change the final DRG; a no-op outcome otherwise
    (the per-code HAC entries are then computed with the details, on demand)."""
    if initial.return_code == OK and state.sdx_kinds & HAC_LISTED:       # some SDX is on a HAC list
        listed = ((d is not None and d.hac, hac.poa_class(poa)) for (_, poa), d in zip(state.read.sdx, state.sdx_info))
        if hac.needs_evaluation(True, state.read.hospital_status, listed):
            return hac.evaluate_claim(state, _excluded(cand))
    return hac.NO_HAC


# Up to v41.1 the grouper reports a procedure code it does not know as an OR procedure.
LAST_VERSION_UNKNOWN_PROC_IS_OR = 411


def _or_flags(procs, version: int) -> list[bool]:
    """CMS's "is OR" flag of each procedure: a known code unless it is marked non-OR
    (``nonor``); an unknown code up to v41.1 only."""
    unknown = version <= LAST_VERSION_UNKNOWN_PROC_IS_OR
    return [("nonor" not in p.attrs) if p.valid else unknown for p in procs]


def _details(claim, state, cand, initial, final, hacs, edits) -> Details:
    """Per-code results (affects flags, severity usage, POA/HAC) and warnings (``edits``: the
    reading's code changes and conversions, reported first)."""
    from ..tables.lookup import SEVERITY as TABLE_SEVERITY  # not needed for the claim-level fields
    cv = state.cv
    pdx_part, sdx_parts, proc_parts = detail_parts(state, cand, initial, final, hacs)

    def dx_result(code, poa, info, affects, iu, fu, poa_error, raw_hacs):
        valid = info is not None
        return DxResult(code=code, poa=poa, recognized=valid, affects_drg=affects,
                        initial_severity_usage=iu, final_severity_usage=fu, poa_error=poa_error,
                        hacs=hac.entries_of(cv, raw_hacs), table_mdc=info.mdc if valid else None,
                        table_severity=TABLE_SEVERITY[info.severity] if valid else None)

    procs = tuple(ProcResult(code=p.code, recognized=p.valid, affects_drg=affects, is_or=is_or, hac_usage=usage)
                  for p, affects, is_or, usage in proc_parts)
    return Details(dx_result(*pdx_part), tuple(dx_result(*x) for x in sdx_parts), procs,
                   claim_warnings(claim, state.read, cv.tables, *edits))


def detail_parts(state, cand, initial, final, hacs) -> tuple:
    """The per-code results of a grouped claim as plain values, what :func:`_details` builds its
    :class:`DxResult` and :class:`ProcResult` from: ``(pdx, sdx, procedures)``, a diagnosis as
    (code and POA as read, its table facts -- :class:`~grouper.engine.compiled.DxInfo`, None
    when the code is not one of the version --, affects DRG, initial and final severity usage,
    POA error, HAC entries as :attr:`HacOutcome.entries` holds them), a procedure as (its
    :class:`Proc`, affects DRG, is OR, HAC usage)."""
    pdx, sdx_columns, procs = detail_columns(state, cand, initial, final, hacs)
    sdx = [(code, poa, *rest) for (code, poa), *rest in zip(*sdx_columns)]
    return pdx, sdx, procs


def detail_columns(state, cand, initial, final, hacs) -> tuple:
    """:func:`detail_parts` with the secondary diagnoses as columns, one value per diagnosis
    each: ((code, POA) as read, table facts, affects DRG, initial and final severity usage, POA
    error, HAC entries) -- what the full-detail writer (:mod:`grouper.bulk.detail`) reads."""
    cv = state.cv
    grouped = initial.return_code == OK
    if hacs is hac.NO_HAC:
        hacs = (hac.evaluate_claim(state, _excluded(cand), grouped) if state.sdx_kinds & HAC_LISTED
                else hac.unchecked(cv, len(state.sdx_info)))
    proc_hacs = hac.procedure_usage(state, hacs)
    removed = hacs.removed if final is not initial else frozenset()
    supp_i = initial.row.suppression if initial.row is not None and grouped else frozenset()
    supp_f = final.row.suppression if final.row is not None and final.return_code == OK else frozenset()
    use_i = severity.usage(state, cand, supp_i, grouped=grouped)
    if final is initial:
        use_f = use_i
    elif grouped and hacs.error:  # HAC made the final DRG 999
        use_f = severity.usage(state, cand, supp_i, hacs.met_positions)
    else:
        use_f = severity.usage(state, cand, supp_f, removed)
    mk_i = marking.mark(state, initial, cand, frozenset())
    mk_f = marking.mark_final(state, initial, final, cand, removed, proc_hacs) if final is not initial else mk_i
    sdx_read = state.read.sdx
    dx_flags, pr_flags = marking.flags(mk_i, mk_f, 1 + len(sdx_read), len(state.all_procs))
    p = state.pdx
    pdx = (p.code, p.poa, p.info, dx_flags[0], SeverityUsage.NEITHER, SeverityUsage.NEITHER,
           PoaError.POA_NOT_CHECKED, hacs.pdx_entries)
    sdx = (sdx_read, state.sdx_info, dx_flags[1:], use_i, use_f, hacs.poa_error, hacs.entries)
    procs = list(zip(state.all_procs, pr_flags, _or_flags(state.all_procs, cv.version), proc_hacs))
    return pdx, sdx, procs


def _drg_facts(cv, a) -> tuple:
    """(base DRG, medical/surgical, DRG title, MDC title) of an assignment."""
    vt = cv.vt
    return (grouping.assignment_facts(a.return_code == OK, a.row)
            + (vt.drg_titles.get(a.drg, ""), vt.mdc_titles.get(a.mdc, "")))


def _result_facts(cv, initial, final) -> tuple:
    """The table facts of a result that depend only on its initial and final assignment,
    memoized per version: both :func:`_drg_facts`, and the final DRG's fiscal-year weight,
    GMLOS and AMLOS.  (Formula rows live as long as the compiled version: their ids are
    stable keys.)"""
    key = ("result", initial.drg, initial.mdc, initial.return_code, id(initial.row),
           final.drg, final.mdc, final.return_code, id(final.row))
    hit = cv.memo.get(key)
    if hit is None:
        hit = cv.memo[key] = _drg_facts(cv, initial) + _drg_facts(cv, final) + drg_figures(cv, final.drg)
    return hit


def claim_values(read, run) -> tuple:
    """The claim-level output of a claim as read and its stages (:func:`_stages`): the values of
    :data:`~grouper.engine.result.TOP_FIELDS` in that order, then the final DRG's weight, GMLOS
    and AMLOS -- what :class:`Result` holds besides the version, fiscal year, id and details
    (the full-detail writer, :mod:`grouper.bulk.detail`, writes them without the object)."""
    state, cand, initial, final, hacs = run
    cv = state.cv
    (i_base, i_ms, i_title, i_mdc_title, f_base, f_ms, f_title, f_mdc_title,
     weight, gmlos, amlos) = _result_facts(cv, initial, final)
    admit = read.admit_dx
    if admit is None or admit in ("", "null"):
        admit_flag = AdmitDxFlag.DX_NOT_GIVEN
    else:
        admit_flag = AdmitDxFlag.DX_VALID if cv.dx_valid(admit.upper()) else AdmitDxFlag.DX_INVALID
    i_ok = initial.return_code == OK
    f_ok = final.return_code == OK
    i_sev = grouping.severity_used(state, initial)
    i_row, f_row = initial.row, final.row
    return (initial.drg, initial.mdc, final.drg, final.mdc, final.return_code, initial.return_code,
            i_base, f_base, i_ms, f_ms,
            i_sev, i_sev if final is initial else grouping.severity_used(state, final),
            grouping.claim_severity(i_ok and i_row is not None, i_row is not None and i_row.reports_claim_severity,
                                    initial.level),
            grouping.claim_severity(f_ok and f_row is not None, f_row is not None and f_row.reports_claim_severity,
                                    final.level),
            hac.hac_status(bool(hacs.met_numbers), i_ok, f_ok, final.drg != initial.drg),
            len(hacs.met_numbers), admit_flag, i_title, f_title, i_mdc_title, f_mdc_title,
            weight, gmlos, amlos)


def _result(claim, read, run, edits, eager: bool) -> Result:
    state, cand, initial, final, hacs = run
    cv = state.cv
    values = claim_values(read, run)
    fields = dict(zip(TOP_FIELDS, values))
    return Result(
        version=cv.version, fiscal_year=cv.vt.fiscal_year, **fields,
        weight=values[-3], gmlos=values[-2], amlos=values[-1],
        id=claim.get("id") if type(claim) is dict else claim.id,
        details=(LazyDetails.of(_details(claim, state, cand, initial, final, hacs, edits)) if eager
                 else LazyDetails(partial(_details_later, claim, cv, read, edits))),
    )


def read_stages(read, tables) -> tuple:
    """The stages (:func:`group_stages`' third value) of a claim already read -- a
    :class:`~grouper.reading.ReadClaim`, its version resolved -- for writers of the full detail
    that read claims a column at a time (:func:`grouper.bulk.detail.detail_arrow`)."""
    return _stages(compiled(tables, read.version), read)
