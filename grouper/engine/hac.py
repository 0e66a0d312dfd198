"""Stage 5 — HAC/POA: hospital-acquired conditions and the final DRG.

CMS HAC-POA policy as the 43.1 grouper applies it (README §4.8, oracle README
"HAC / POA handling"): a secondary diagnosis on a HAC list whose HAC formula
is satisfied (formulas from the tables; e.g. ``SDX:HAC10 & hac10_proc``)

* NOT_EXEMPT hospital, POA N or U: criteria met — the code does not count as
  CC/MCC for the final DRG;
* NOT_EXEMPT, POA blank/1/E/invalid: final DRG 999, ``HAC_MISSING_ONE_POA``;
* UNKNOWN hospital status, POA not Y/W: final DRG 999,
  ``HAC_STATUS_INVALID_MULT_HACS_POA_NOT_Y_W``;
* POA Y or W: criteria not met, the code counts;
* EXEMPT hospital: HAC processing does not apply.
"""
from __future__ import annotations

from enum import IntEnum

import attrs

from . import formula as fm
from .codes import HacCriteria, PoaError, ReturnCode
from ..reading.values import HospitalStatus
from .preprocess import ClaimState



class PoaClass(IntEnum):
    """What a POA indicator means to HAC/POA processing."""

    YES = 0        # Y, W: present on admission (or clinically undetermined): HAC criteria not met
    NO = 1         # N, U: not present on admission
    OTHER = 2      # blank, 1, E, invalid: not recognized


#: The POA indicators (as read) of each class; any other is PoaClass.OTHER.
POA_CLASS = {"Y": PoaClass.YES, "W": PoaClass.YES, "N": PoaClass.NO, "U": PoaClass.NO}
POA_YES = frozenset(p for p, c in POA_CLASS.items() if c == PoaClass.YES)
POA_NO = frozenset(p for p, c in POA_CLASS.items() if c == PoaClass.NO)


@attrs.frozen
class HacEntry:
    hac_number: int
    hac_list: str
    hac_status: HacCriteria
    description: str


@attrs.frozen
class HacOutcome:
    poa_error: tuple[PoaError, ...]        # per SDX
    entries: tuple[tuple[HacEntry, ...], ...]   # per SDX
    removed: frozenset                     # SDX positions dropped for the final DRG
    met_positions: frozenset               # SDX positions whose HAC criteria are met
    met_numbers: frozenset                 # HAC numbers whose criteria are met
    error: ReturnCode | None               # return code that makes the final DRG 999
    proc_usage: tuple[tuple[str, ...], ...]  # per input procedure: HAC_nn lists


# Before v41.1 the grouper reports a single HAC entry for a code on several HAC lists
# whose criteria are all unmet; from v41.1 one entry per list.
FIRST_VERSION_LISTING_ALL_HACS = 411


def sdx_operands(cv) -> dict[int, tuple[str, ...]]:
    """HAC number -> the secondary-diagnosis operands of its formula (``SDX:`` atoms:
    HAC04; hac06_sdx, hac06_show; hac11_sdx).  A code with one of them is a HAC candidate."""
    def build():
        out = {}
        for n, node in cv.hac_nodes.items():
            ops = []
            for a in fm.atoms(node):
                if a.kind == "SDX" and a.name not in ops:
                    ops.append(a.name)
            out[n] = tuple(ops)
        return out
    return cv.tables.cached(("hac_sdx_operands", cv.version), build)


def evaluate(state: ClaimState, grouped: bool = True, excluded=()) -> HacOutcome:
    """HAC/POA processing of every secondary diagnosis.  ``grouped`` is false when the
    initial DRG is ungroupable (no HAC processing then); ``excluded`` holds the SDX
    positions that the principal diagnosis excludes as CC/MCC."""
    cv = state.cv
    info = cv.hac_code_info
    sdx_ops = sdx_operands(cv)
    titles = cv.vt.hac_titles
    hospital = state.read.hospital_status
    all_r = state.R(-1)
    list_all = cv.version >= FIRST_VERSION_LISTING_ALL_HACS
    poa_errors, entries = [], []
    met_positions, met, unrecognized = [], set(), False
    proc_hacs: dict[int, set] = {}
    for d in state.sdx:
        hi = info.get(d.code.upper()) if (d.valid and grouped) else None
        lists = ()
        if hi is not None:
            operands = set(hi[0])
            lists = tuple((n, op) for n in sorted(set(hi[1])) for op in sdx_ops.get(n, ()) if op in operands)
        if not lists:
            poa_errors.append(PoaError.POA_NOT_CHECKED)
            entries.append(())
            continue
        if hospital == HospitalStatus.EXEMPT:
            poa_errors.append(PoaError.HOSPITAL_EXEMPT)
            entries.append(tuple(HacEntry(0, op, HacCriteria.HAC_NOT_APPLICABLE_EXEMPT, titles.get(n, ""))
                                 for n, op in lists))
            continue
        poa = d.poa
        if poa in POA_YES:
            poa_errors.append(PoaError.POA_RECOGNIZED_YES_POA)
            n, op = lists[0]
            entries.append((HacEntry(0, op, HacCriteria.HAC_CRITERIA_NOT_MET, titles.get(n, "")),))
            continue
        if poa in POA_NO:
            poa_errors.append(PoaError.POA_RECOGNIZED_NOT_POA)
        else:
            poa_errors.append(PoaError.POA_NOT_RECOGNIZED)
            unrecognized = True
        if d.position in excluded and any(op == sdx_ops[n][0] for n, op in lists):
            # CC-excluded by the PDX: HAC does not apply (for the formula's main SDX operand)
            entries.append(tuple(HacEntry(n, op, HacCriteria.HAC_NOT_APPLICABLE_EXCLUSION, titles.get(n, ""))
                                 for n, op in lists if op == sdx_ops[n][0]))
            continue
        hits = [(n, op) for n, op in lists
                if fm.evaluate(cv.hac_nodes[n], state.P, d.attrs, all_r, state.X, 0)]
        if not hits:
            shown = lists if list_all else lists[:1]
            entries.append(tuple(HacEntry(0, op, HacCriteria.HAC_CRITERIA_NOT_MET, titles.get(n, ""))
                                 for n, op in shown))
            continue
        entries.append(tuple(HacEntry(n, op, HacCriteria.HAC_CRITERIA_MET, titles.get(n, "")) for n, op in hits))
        met_positions.append(d.position)
        for n, _ in hits:
            met.add(n)
            for p in state.procs:
                if p.position >= 0 and f"hac{n:02d}_proc" in p.attrs:
                    proc_hacs.setdefault(p.position, set()).add(f"HAC_{n:02d}")
    error, removed = None, frozenset()
    if met:
        if hospital == HospitalStatus.UNKNOWN:
            only = state.sdx[0] if len(state.sdx) == 1 else None
            if only is not None and only.poa not in POA_NO:
                error = ReturnCode.HAC_STATUS_INVALID_POA_INVALID_OR_1
            else:
                error = ReturnCode.HAC_STATUS_INVALID_MULT_HACS_POA_NOT_Y_W
        elif unrecognized:
            error = ReturnCode.HAC_MISSING_ONE_POA
        else:
            removed = frozenset(met_positions)
    proc_usage = tuple(tuple(sorted(proc_hacs.get(p.position, ()))) for p in state.all_procs)
    return HacOutcome(tuple(poa_errors), tuple(entries), removed, frozenset(met_positions),
                      frozenset(met), error,
                      proc_usage)


NO_HAC = HacOutcome((), (), frozenset(), frozenset(), frozenset(), None, ())
