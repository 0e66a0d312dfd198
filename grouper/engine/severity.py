"""Stage 4 — severity: which secondary diagnoses count as CC or MCC.

CMS rules (README §4.5, §5.1 step 3, §5.1 step 7):

* a secondary diagnosis counts at its table severity (CC or MCC) unless
* it is on the CC-exclusion list that the *principal* diagnosis points at
  (``pdx_exclusion_groups[PDX]``; ``*_EXCLUDED``; a code normally excludes
  itself through its own list);
* it carries the ``mccalive`` attribute and the patient died;
* it carries one of the matched formula's ``severity_suppression``
  attributes (``*_EXCLUDED_BY_DRG_LOGIC``: e.g. AMI codes for DRGs 280-285);
* for the final DRG only: HAC/POA processing removed it.

The claim's level for a formula is the highest severity among what counts.
"""
from __future__ import annotations

from .codes import DRG_LOGIC_USAGE, EXCLUDED_USAGE, LEVEL_USAGE, SeverityUsage
from .preprocess import ClaimState, DIED_STATUS

NCC, CC, MCC = 0, 1, 2


def candidates(state: ClaimState) -> list[tuple[int, str]]:
    """Per SDX (input order): (severity it can contribute, why not if 0).

    The reason is "" for a counting code, "EXCLUDED" for a PDX exclusion and
    "NEITHER" otherwise.
    """
    pdx = state.pdx
    ts = state.cv.tables
    keys = ts.exclusion_keys
    n_dx = len(ts.dx_codes)
    died = state.read.discharge_status == DIED_STATUS
    base = pdx.excl * n_dx if pdx.excl else -1
    out = []
    for info in state.sdx_info:
        if info is None or info.severity == NCC:
            out.append(_NEITHER)
        elif base >= 0 and base + info.id in keys:
            out.append(_EXCLUDED)
        elif died and info.mccalive:
            out.append(_NEITHER)
        else:
            out.append((info.severity, ""))
    return out


_NEITHER = (0, "NEITHER")
_EXCLUDED = (0, "EXCLUDED")


def counting(state: ClaimState, cand: list[tuple[int, str]], removed: frozenset = frozenset()):
    """(severity, suppression-set bits) of every secondary diagnosis that counts."""
    if removed:
        return [(sev, info.supbits) for k, (info, (sev, _)) in enumerate(zip(state.sdx_info, cand), start=1)
                if sev and k not in removed]
    return [(sev, info.supbits) for info, (sev, _) in zip(state.sdx_info, cand) if sev]


def level_k(count, k: int) -> int:
    """CC/MCC level for suppression set number ``k`` of the version (see Compiled.supp_sets)."""
    best = NCC
    bit = 1 << k
    for sev, sup in count:
        if sev > best and not sup & bit:
            best = sev
            if best == MCC:
                break
    return best


def level(state: ClaimState, cand: list[tuple[int, str]], suppression: frozenset,
          removed: frozenset = frozenset()) -> int:
    """CC/MCC level of the claim for a formula with the given suppression attributes."""
    best = NCC
    for d, (sev, _) in zip(state.sdx, cand):
        if sev > best and d.position not in removed and not (suppression and d.attrs & suppression):
            best = sev
            if best == MCC:
                break
    return best


# Versions before 41.1 report a code suppressed by the DRG formula with its plain
# severity (the suppression still applies to the CC/MCC level).
FIRST_VERSION_LABELLING_DRG_LOGIC = 411


def usage(state: ClaimState, cand: list[tuple[int, str]], suppression: frozenset,
          removed: frozenset = frozenset(), grouped: bool = True) -> list[SeverityUsage]:
    """Per SDX: MCC / CC / NEITHER / *_EXCLUDED / *_EXCLUDED_BY_DRG_LOGIC for the matched formula.

    An ungroupable claim (``grouped`` false) reports NEITHER for every code."""
    if not grouped:
        return [SeverityUsage.NEITHER] * len(state.sdx)
    label_logic = state.cv.version >= FIRST_VERSION_LABELLING_DRG_LOGIC
    out = []
    for d, (sev, why) in zip(state.sdx, cand):
        table = LEVEL_USAGE[d.severity] if d.valid else SeverityUsage.NEITHER
        if why == "EXCLUDED":
            out.append(EXCLUDED_USAGE[table])
        elif sev == NCC:
            out.append(SeverityUsage.NEITHER)
        elif suppression and d.attrs & suppression and label_logic:
            out.append(DRG_LOGIC_USAGE[table])
        elif d.position in removed:
            out.append(SeverityUsage.NEITHER)
        else:
            out.append(LEVEL_USAGE[sev])
    return out
