"""HAC/POA processing (CMS ``MsdrgHacProcessor``): hospital-acquired conditions and the final DRG.

CMS HAC-POA policy as the 43.1 grouper applies it (``docs/cms-rules.md``, "HAC/POA"): a
secondary diagnosis on a HAC list whose HAC formula is satisfied (formulas from the
tables; e.g. ``SDX:HAC10 & hac10_proc``)

* NOT_EXEMPT hospital, POA N or U: criteria met -- the code does not count as
  CC/MCC for the final DRG;
* NOT_EXEMPT, POA blank/1/E/invalid on a code the PDX does not exclude as CC/MCC, and
  some HAC met: final DRG 999, ``HAC_MISSING_ONE_POA``;
* UNKNOWN hospital status, POA not Y/W, some HAC met: final DRG 999,
  ``HAC_STATUS_INVALID_POA_N_OR_U`` / ``..._POA_INVALID_OR_1`` when that code is the
  claim's only secondary diagnosis (POA N/U / any other), else
  ``HAC_STATUS_INVALID_MULT_HACS_POA_NOT_Y_W``;
* POA Y or W: criteria not met, the code counts;
* EXEMPT hospital: HAC processing does not apply.

A HAC formula's SDX operands are read over every secondary diagnosis the HACs apply to
(HAC-listed, POA not Y/W, not excluded by the PDX), and a met HAC whose formula tests the
principal diagnosis (HAC 11) gives the PDX an entry too (``docs/inferred-rules.md``).

:func:`evaluate` is one pure function of the claim's values; the per-claim pipeline
(:func:`evaluate_claim`) and the vectorized core (:mod:`grouper.bulk.vector`, for the
claims that have a HAC candidate) both call it.
"""
from __future__ import annotations

from enum import IntEnum

import attrs

from ..reading.values import HospitalStatus
from . import formula as fm
from .codes import HacCriteria, HacStatus, PoaError, ReturnCode
from .compiled import HAC_LISTED
from .preprocess import ClaimState


class PoaClass(IntEnum):
    """What a POA indicator means to HAC/POA processing."""

    YES = 0        # Y, W: present on admission (or clinically undetermined): HAC criteria not met
    NO = 1         # N, U: not present on admission
    OTHER = 2      # blank, 1, E, invalid: not recognized


#: The POA indicators (as read) of each class; any other is PoaClass.OTHER.
POA_CLASS = {"Y": PoaClass.YES, "W": PoaClass.YES, "N": PoaClass.NO, "U": PoaClass.NO}


def poa_class(poa: str) -> PoaClass:
    return POA_CLASS.get(poa, PoaClass.OTHER)


@attrs.frozen
class HacEntry:
    hac_number: int
    hac_list: str | None                   # None in the principal diagnosis' entry
    hac_status: HacCriteria
    description: str


@attrs.frozen
class HacOutcome:
    poa_error: tuple[PoaError, ...]        # per SDX
    entries: tuple[tuple[tuple, ...], ...]      # per SDX: (hac_number, hac_list, status, HAC) (hac_entries)
    removed: frozenset                     # SDX positions dropped for the final DRG
    met_positions: frozenset               # SDX positions whose HAC criteria are met
    met_numbers: frozenset                 # HAC numbers whose criteria are met
    error: ReturnCode | None               # return code that makes the final DRG 999
    pdx_entries: tuple[tuple, ...] = ()    # the principal diagnosis' entries, as ``entries``


# Before v41.0 the grouper reports a single HAC entry for a code on several HAC lists
# whose criteria are all unmet; from v41.0 one entry per list (labelled claims: T814x
# codes, POA not Y/W, HAC 11/12/13 unmet: 1 entry in v40.0/v40.1, 3 from v41.0).
FIRST_VERSION_LISTING_ALL_HACS = 410

_EMPTY = frozenset()


def needs_evaluation(grouped: bool, hospital: HospitalStatus, candidates) -> bool:
    """Whether HAC/POA processing can change the final DRG: the initial DRG is grouped, the
    hospital is not exempt, and some secondary diagnosis on a HAC list (``candidates``:
    (on a HAC list, POA class) per SDX) is not POA Y/W."""
    return (grouped and hospital != HospitalStatus.EXEMPT
            and any(listed and pc != PoaClass.YES for listed, pc in candidates))


def evaluate(cv, hospital: HospitalStatus, P: frozenset, R: frozenset, X: frozenset, sdx, excluded,
             grouped: bool = True) -> HacOutcome:
    """HAC/POA processing of every secondary diagnosis of a claim.

    ``sdx``: per secondary diagnosis (input order, positions 1..), its (HAC lists, POA class,
    attributes) -- the HAC lists ``DxInfo.hac_lists`` (empty for an invalid code); ``P`` the
    principal diagnosis' attributes, ``R`` every procedure attribute, ``X`` the claim-level
    atoms (what a HAC formula can test besides the secondary diagnosis itself);
    ``excluded`` the SDX positions that the principal diagnosis excludes as CC/MCC;
    ``grouped`` false when the initial DRG is ungroupable (no HAC processing then)."""
    sdx_ops = cv.hac_sdx_operands
    list_all = cv.version >= FIRST_VERSION_LISTING_ALL_HACS
    poa_errors, entry_lists = [], []
    met_positions, met, unrecognized = [], set(), False
    eligible = None                        # see _eligible: computed when a formula is first read
    for position, (lists, pclass, _attrs) in enumerate(sdx, start=1):
        if not lists or not grouped:
            poa_errors.append(PoaError.POA_NOT_CHECKED)
            entry_lists.append(())
            continue
        if hospital == HospitalStatus.EXEMPT:
            poa_errors.append(PoaError.HOSPITAL_EXEMPT)
            entry_lists.append(tuple((0, op, HacCriteria.HAC_NOT_APPLICABLE_EXEMPT, n)
                                 for n, op in lists))
            continue
        if pclass == PoaClass.YES:
            poa_errors.append(PoaError.POA_RECOGNIZED_YES_POA)
            n, op = lists[0]
            entry_lists.append(((0, op, HacCriteria.HAC_CRITERIA_NOT_MET, n),))
            continue
        if pclass == PoaClass.NO:
            poa_errors.append(PoaError.POA_RECOGNIZED_NOT_POA)
        else:
            poa_errors.append(PoaError.POA_NOT_RECOGNIZED)
            # a code the PDX excludes as CC/MCC is outside HAC processing: its missing POA
            # does not make the final DRG ungroupable (inferred, docs/inferred-rules.md H1)
            unrecognized = unrecognized or position not in excluded
        if _excluded_main(position, lists, excluded, sdx_ops):
            # CC-excluded by the PDX: HAC does not apply (for the formula's main SDX operand)
            entry_lists.append(tuple((n, op, HacCriteria.HAC_NOT_APPLICABLE_EXCLUSION, n)
                                 for n, op in lists if op == sdx_ops[n][0]))
            continue
        if eligible is None:
            eligible = _eligible(sdx, excluded, sdx_ops)
        hits = [(n, op) for n, op in lists if fm.evaluate(cv.hac_nodes[n], P, eligible, R, X, 0)]
        if not hits:
            shown = lists if list_all else lists[:1]
            entry_lists.append(tuple((0, op, HacCriteria.HAC_CRITERIA_NOT_MET, n)
                                 for n, op in shown))
            continue
        entry_lists.append(tuple((n, op, HacCriteria.HAC_CRITERIA_MET, n) for n, op in hits))
        met_positions.append(position)
        met.update(n for n, _ in hits)
    error, removed = None, _EMPTY
    if met:
        if hospital == HospitalStatus.UNKNOWN:
            # the claim's only secondary diagnosis meets a HAC: the return code names its
            # POA (N/U or not recognized); otherwise the "multiple" code (inferred,
            # docs/inferred-rules.md H2)
            if len(sdx) == 1:
                error = (ReturnCode.HAC_STATUS_INVALID_POA_N_OR_U if sdx[0][1] == PoaClass.NO
                         else ReturnCode.HAC_STATUS_INVALID_POA_INVALID_OR_1)
            else:
                error = ReturnCode.HAC_STATUS_INVALID_MULT_HACS_POA_NOT_Y_W
        elif unrecognized:
            error = ReturnCode.HAC_MISSING_ONE_POA
        else:
            removed = frozenset(met_positions)
    # A met HAC whose formula tests the PDX gives the PDX an entry too: number, no list,
    # NOT_ON_HAC_LIST (HAC 11; inferred, docs/inferred-rules.md H5).
    pdx_entries = tuple((n, None, HacCriteria.NOT_ON_HAC_LIST, n) for n in sorted(met & cv.hac_pdx_numbers))
    return HacOutcome(tuple(poa_errors), tuple(entry_lists), removed, frozenset(met_positions), frozenset(met),
                      error, pdx_entries)


def _eligible(sdx, excluded, sdx_ops) -> frozenset:
    """The attributes a HAC formula's SDX operands are read over: those of every HAC-listed
    SDX the HACs apply to (POA not Y/W, not excluded by the PDX for its main operand), not
    only the code being checked, so a hac06_show code meets HAC 06 beside a hac06_sdx code
    (inferred, docs/inferred-rules.md H3)."""
    return frozenset().union(*(
        attrs_ for position, (lists, pclass, attrs_) in enumerate(sdx, start=1)
        if lists and pclass != PoaClass.YES and not _excluded_main(position, lists, excluded, sdx_ops)))


def _excluded_main(position: int, lists, excluded, sdx_ops) -> bool:
    """Whether the PDX excludes the SDX at ``position`` as CC/MCC and it is on some HAC's
    list as that formula's main SDX operand (HAC processing does not apply to it)."""
    return position in excluded and any(op == sdx_ops[n][0] for n, op in lists)


NO_HAC = HacOutcome((), (), _EMPTY, _EMPTY, _EMPTY, None)


def entries_of(cv, raw) -> tuple[HacEntry, ...]:
    """HAC entries as :attr:`HacOutcome.entries` holds them for one code, with the HACs' titles."""
    return _entries(cv, raw) if raw else ()


def hac_entries(cv, outcome: HacOutcome) -> tuple[tuple[HacEntry, ...], ...]:
    """The per-SDX HAC entries of an outcome, with the HACs' titles."""
    return tuple(_entries(cv, sdx) for sdx in outcome.entries)


def pdx_hac_entries(cv, outcome: HacOutcome) -> tuple[HacEntry, ...]:
    """The principal diagnosis' HAC entries of an outcome, with the HACs' titles."""
    return _entries(cv, outcome.pdx_entries)


def _entries(cv, raw) -> tuple[HacEntry, ...]:
    titles = cv.vt.hac_titles
    return tuple(HacEntry(number, op, status, titles.get(n, "")) for number, op, status, n in raw)


def claim_inputs(state: ClaimState) -> list[tuple]:
    """The ``sdx`` argument of :func:`evaluate` for a preprocessed claim."""
    return [(info.hac_lists if info is not None else (), poa_class(poa), info.attrs if info is not None else _EMPTY)
            for (_, poa), info in zip(state.read.sdx, state.sdx_info)]


def evaluate_claim(state: ClaimState, excluded, grouped: bool = True) -> HacOutcome:
    """:func:`evaluate` for a preprocessed claim (without evaluating anything when no secondary
    diagnosis is on a HAC list: what :func:`evaluate` gives then, every code unchecked)."""
    if not state.sdx_kinds & HAC_LISTED:
        return unchecked(state.cv, len(state.sdx_info))
    return evaluate(state.cv, state.read.hospital_status, state.P, state.R(-1), state.X,
                    claim_inputs(state), excluded, grouped)


def unchecked(cv, n: int) -> HacOutcome:
    """The outcome of a claim of ``n`` secondary diagnoses none of which is on a HAC list (what
    :func:`evaluate` gives then: every code unchecked), memoized per version: the same
    (immutable) outcome for every such claim of n codes."""
    memo = cv.memo
    got = memo.get(("no HAC outcome", n))
    if got is None:
        got = memo[("no HAC outcome", n)] = HacOutcome((PoaError.POA_NOT_CHECKED,) * n, ((),) * n, _EMPTY,
                                                       _EMPTY, _EMPTY, None)
    return got


def procedure_usage(state: ClaimState, outcome: HacOutcome) -> tuple[tuple[str, ...], ...]:
    """Per input procedure: the HAC_nn lists whose met criteria it takes part in (its
    ``hacNN_proc`` attributes for the met HAC numbers)."""
    if not outcome.met_numbers:
        return ((),) * len(state.all_procs)
    names = {n: (f"hac{n:02d}_proc", f"HAC_{n:02d}") for n in outcome.met_numbers}
    out = []
    for p in state.all_procs:
        if p.valid and names:
            out.append(tuple(sorted(label for attr, label in names.values() if attr in p.attrs)))
        else:
            out.append(())
    return tuple(out)


def hac_status(met: bool, initial_grouped: bool, final_grouped: bool, drg_changed: bool) -> HacStatus:
    """What HAC/POA processing did to the final DRG (``hac_status``)."""
    if not met or not initial_grouped:
        return HacStatus.NOT_APPLICABLE
    if not final_grouped:
        return HacStatus.FINAL_DRG_UNGROUPABLE
    if drg_changed:
        return HacStatus.FINAL_DRG_CHANGES
    return HacStatus.FINAL_DRG_NO_CHANGE
