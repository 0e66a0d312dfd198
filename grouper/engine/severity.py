"""Severity (CMS ``MsdrgExclusions``, ``MsdrgLifeStatus``, ``MsdrgSeverityProcessor``): which
secondary diagnoses count as CC or MCC, and the claim's CC/MCC level for a formula.

CMS rules (``docs/cms-rules.md``, "CC/MCC severity"):

* a secondary diagnosis counts at its table severity (CC or MCC) unless
* it is on the CC-exclusion list that the *principal* diagnosis points at
  (``*_EXCLUDED``; a code normally excludes itself through its own list) and is
  written in upper case (:func:`written_in_lower_case`);
* it carries the ``mccalive`` attribute and the patient died;
* it carries one of the matched formula's ``severity_suppression``
  attributes (``*_EXCLUDED_BY_DRG_LOGIC``: e.g. AMI codes for DRGs 280-285);
* for the final DRG only: HAC/POA processing removed it.

The claim's level for a formula is the highest severity among what counts.  The rules
that the vectorized core applies to whole columns (:func:`exclusion_key`,
:func:`counted_severity`, :func:`level_for_set`) are written with operators that mean
the same on Python ints and numpy arrays, and the per-claim path calls the same
functions.
"""
from __future__ import annotations

from .atoms import DIED_STATUS
from .codes import DRG_LOGIC_USAGE, EXCLUDED_USAGE, LEVEL_USAGE, SeverityUsage
from .compiled import SEVERE
from .preprocess import ClaimState

NCC, CC, MCC = 0, 1, 2
#: Why a secondary diagnosis does not count (the reason of a candidate with severity 0).
COUNTS, EXCLUDED, NOT_COUNTED = "", "EXCLUDED", "NEITHER"
#: The suppression bits of "no code": every bit set (see :func:`severity_summary`).
ALL_SETS = -1


def exclusion_key(pdx_list, sdx_id, n_dx):
    """The key in ``TableSet.exclusion_keys`` of a secondary diagnosis (its code id) under the
    principal diagnosis' CC-exclusion list number (0: the principal diagnosis excludes nothing):
    the batch path's form of ``TableSet.excludes(pdx_list, sdx_id)``."""
    return pdx_list * n_dx + sdx_id


def written_in_lower_case(code) -> bool:
    """CMS looks a secondary diagnosis up in the CC-exclusion table by its spelling: one
    written in lower case (valid, since codes are upper-cased for everything else) is never
    excluded by the principal diagnosis (inferred, docs/inferred-rules.md G2)."""
    return type(code) is str and code != code.upper()


def excluded_by_pdx(on_pdx_list, written_lower):
    """Whether the principal diagnosis excludes a secondary diagnosis: the code is on the
    PDX's CC-exclusion list and not written in lower case (bools or bool arrays)."""
    return on_pdx_list & (written_lower == 0)


def counted_severity(severity, excluded, died_mccalive):
    """The severity a CC/MCC secondary diagnosis counts at: 0 when the principal diagnosis
    excludes it or it is an ``mccalive`` code and the patient died."""
    return severity * ((excluded | died_mccalive) == 0)


def candidates(state: ClaimState) -> list[tuple[int, str]]:
    """Per SDX (input order): (severity it can contribute, why not if 0): COUNTS for a
    counting code, EXCLUDED for a PDX exclusion, NOT_COUNTED otherwise."""
    if not state.sdx_kinds & SEVERE:            # no CC or MCC code: every one NOT_COUNTED
        return [_NEITHER] * len(state.sdx_info)
    return _candidates_each(state)


def _candidates_each(state: ClaimState) -> list[tuple[int, str]]:
    """:func:`candidates`, code by code."""
    pdx = state.pdx
    excludes = state.cv.tables.excludes
    died = state.read.discharge_status == DIED_STATUS
    out = []
    for (code, _), info in zip(state.read.sdx, state.sdx_info):
        if info is None or info.severity == NCC:
            out.append(_NEITHER)
        elif pdx.excl and excluded_by_pdx(excludes(pdx.excl, info.id), written_in_lower_case(code)):
            out.append(_EXCLUDED)
        else:
            sev = counted_severity(info.severity, False, died and info.mccalive)
            out.append((sev, COUNTS) if sev else _NEITHER)
    return out


_NEITHER = (0, NOT_COUNTED)
_EXCLUDED = (0, EXCLUDED)


def severity_summary(state: ClaimState, cand: list[tuple[int, str]], removed: frozenset = frozenset()):
    """(mcc_sup, cc_sup): the AND of the suppression-set bits (``DxInfo.supbits``) of the
    claim's counting MCC codes, and of its counting CC codes (ALL_SETS when there is none),
    leaving out the SDX positions in ``removed``.  With :func:`level_for_set`, the claim's
    level for every formula."""
    mcc_sup = cc_sup = ALL_SETS
    if not state.sdx_kinds & SEVERE:            # no CC or MCC code: none counts
        return mcc_sup, cc_sup
    if removed:
        counting = [(info, sev) for k, (info, (sev, _)) in enumerate(zip(state.sdx_info, cand), start=1)
                    if sev and k not in removed]
    else:
        counting = [(info, sev) for info, (sev, _) in zip(state.sdx_info, cand) if sev]
    for info, sev in counting:
        if sev == MCC:
            mcc_sup &= info.supbits
        else:
            cc_sup &= info.supbits
    return mcc_sup, cc_sup


def level_for_set(mcc_sup, cc_sup, k):
    """The claim's CC/MCC level for the formulas of suppression set ``k`` (``Compiled.supp_sets``):
    MCC when some counting MCC code is not named by the set, else CC when some counting CC
    code is not, else non-CC.  (A set names a code when the code has one of its attributes;
    ``mcc_sup``/``cc_sup`` from :func:`severity_summary`, ints or numpy int64 arrays.)"""
    has_mcc = ((mcc_sup >> k) & 1) == 0
    has_cc = ((cc_sup >> k) & 1) == 0
    return MCC * has_mcc + CC * has_cc * (1 - has_mcc)


# Versions before 41.1 report a code suppressed by the DRG formula with its plain
# severity (the suppression still applies to the CC/MCC level).
FIRST_VERSION_LABELLING_DRG_LOGIC = 411


def usage(state: ClaimState, cand: list[tuple[int, str]], suppression: frozenset,
          removed: frozenset = frozenset(), grouped: bool = True) -> list[SeverityUsage]:
    """Per SDX: MCC / CC / NEITHER / *_EXCLUDED / *_EXCLUDED_BY_DRG_LOGIC for the matched formula.

    An ungroupable claim (``grouped`` false) reports NEITHER for every code."""
    neither = SeverityUsage.NEITHER
    if not grouped:
        return [neither] * len(state.sdx_info)
    label_logic = suppression and state.cv.version >= FIRST_VERSION_LABELLING_DRG_LOGIC
    if not (label_logic or removed) and _EXCLUDED not in cand:
        # the common case: each code at the level it counts at (NEITHER for 0)
        return [LEVEL_USAGE[sev] for sev, _ in cand]
    return _usage_each(state, cand, suppression, removed, label_logic)


def _usage_each(state: ClaimState, cand, suppression: frozenset, removed: frozenset, label_logic) -> list:
    """:func:`usage` of a grouped claim, code by code (``label_logic``: the version labels the
    codes that the formula's ``suppression`` names)."""
    neither = SeverityUsage.NEITHER
    out = []
    # per SDX its table facts (None: not a code of the version) and candidate; a code that
    # counts (sev > 0) or is excluded is a valid one
    for position, (info, (sev, why)) in enumerate(zip(state.sdx_info, cand), start=1):
        if sev == NCC and why != EXCLUDED:         # most codes: neither CC nor MCC
            out.append(neither)
        elif why == EXCLUDED:
            out.append(EXCLUDED_USAGE[LEVEL_USAGE[info.severity]])
        elif label_logic and info.attrs & suppression:
            out.append(DRG_LOGIC_USAGE[LEVEL_USAGE[info.severity]])
        elif position in removed:
            out.append(neither)
        else:
            out.append(LEVEL_USAGE[sev])
    return out
