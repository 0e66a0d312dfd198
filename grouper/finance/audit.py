"""Claim audit: re-group each claim under the version in force at discharge, compare with the
billed DRG, price the difference, and say in one line which code made it.

    >>> from grouper.finance.audit import audit_claim
    >>> row = audit_claim({"id": "a", "discharge_date": "2026-05-11", "sex": "F", "discharge_status": 1,
    ...                    "pdx": "I5020", "sdx": [["E1165", "Y"], ["N179", "Y"]], "billed_drg": 293})
    >>> row.regrouped_drg, row.reason
    (292, 'SDX N179 (CC) makes 292 instead of 293')

How the reason is found (every step reads the grouper's own output, nothing is hard-coded
about codes or DRGs):

1. the billed DRG must be a DRG of the version in force (else "billed DRG n does not exist in vX");
2. an ungroupable claim (DRG 999) is explained from its CMS return code and the per-code flags
   (``DX_CANNOT_BE_PDX`` -> "PDX W891XXA cannot be a principal diagnosis" ...);
3. when the billed DRG is the *initial* DRG and HAC processing changed the final DRG, the reason
   names the HAC and the diagnosis not present on admission;
4. the smallest change that turns the regrouped DRG into the billed one: the claim is re-grouped
   without each secondary diagnosis, without each procedure, with a routine discharge status,
   and without all CC/MCC diagnoses or all O.R. procedures at once; the first change that gives
   the billed DRG names the code(s) ("SDX N179 (CC) makes 292 instead of 293", "procedure
   0SR9019 moves the claim to a surgical DRG");
5. when the billed DRG needs more than the claim has (a CC/MCC, an O.R. procedure), the
   per-code flags say why a candidate code does not count: CC exclusion by the principal
   diagnosis, exclusion by the DRG logic, HAC, discharge status, invalid code;
6. otherwise the billed DRG is compared with the other grouper versions (billed with the wrong
   version) and finally with the principal diagnosis' MDC.

``regroup_under`` regroups a claim under another (newer) version instead, after converting its
codes to that version's code set (:mod:`grouper.reading.convert`); the same reasons are given
in that version, followed by the conversions.
Beside the reason, each row lists the claim's Medicare Code Editor edits (``mce_edit_type``,
``mce_edits``: one line per edit, where it is, e.g. ``"SEX_CONFLICT: sdx[2] O80"``): a claim
CMS's MCE returns (a prepayment edit) is not paid as billed whatever its DRG.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

import attrs

from ..engine.pipeline import group
from ..engine.result import Result
from ..mce import edit, edit_reasons
from ..reading import Claim, ClaimError, conversion_warnings, read
from ..reading.claim import plain
from ..tables.versions import VersionError, label

# Reason kinds (AuditRow.reason_kind)
MATCH = "MATCH"
BILLED_DRG_INVALID = "BILLED_DRG_INVALID"
UNGROUPABLE = "UNGROUPABLE"
PDX_INVALID_AS_DISCHARGE = "PDX_INVALID_AS_DISCHARGE"
HAC = "HAC"
SDX_ADDS_SEVERITY = "SDX_ADDS_SEVERITY"
SDX_CHANGES_DRG = "SDX_CHANGES_DRG"
SDX_EXCLUDED = "SDX_EXCLUDED"
SDX_EXCLUDED_BY_DRG_LOGIC = "SDX_EXCLUDED_BY_DRG_LOGIC"
SDX_NOT_COUNTED = "SDX_NOT_COUNTED"
SDX_INVALID = "SDX_INVALID"
NO_CC_MCC = "NO_CC_MCC"
PROCEDURE = "PROCEDURE"
NO_OR_PROCEDURE = "NO_OR_PROCEDURE"
PROCEDURE_INVALID = "PROCEDURE_INVALID"
DISCHARGE_STATUS = "DISCHARGE_STATUS"
VERSION = "VERSION"
PDX = "PDX"
OTHER = "OTHER"
ERROR = "ERROR"
DATA_ERROR = "DATA_ERROR"

#: reason kinds that are data errors, not coding differences: the claim cannot be grouped because a
#: value is invalid or missing (a PDX that is no code, a sex or discharge status CMS cannot read).
#: Their payment difference is not money at stake: the claim is fixed and re-billed.
DATA_ERROR_KINDS = frozenset({DATA_ERROR})

#: each reason kind in plain English (reports and summaries show these, not the kind's name)
KIND_LABELS = {
    MATCH: "billed DRG confirmed",
    BILLED_DRG_INVALID: "billed DRG does not exist in the version in force",
    UNGROUPABLE: "claim cannot be grouped as coded",
    DATA_ERROR: "data error makes the claim ungroupable (invalid code, sex or discharge status)",
    PDX_INVALID_AS_DISCHARGE: "principal diagnosis invalid as a discharge diagnosis",
    HAC: "hospital-acquired condition (POA) changes the DRG",
    SDX_ADDS_SEVERITY: "a secondary diagnosis adds a CC/MCC",
    SDX_CHANGES_DRG: "a secondary diagnosis moves the claim to another DRG",
    SDX_EXCLUDED: "a CC/MCC is excluded by the principal diagnosis",
    SDX_EXCLUDED_BY_DRG_LOGIC: "a CC/MCC does not count in this DRG's logic",
    SDX_NOT_COUNTED: "a CC/MCC counts only if the patient is discharged alive",
    SDX_INVALID: "a secondary diagnosis is not a valid code",
    NO_CC_MCC: "no secondary diagnosis supports the billed CC/MCC level",
    PROCEDURE: "a procedure changes the DRG",
    NO_OR_PROCEDURE: "no O.R. procedure supports the billed surgical DRG",
    PROCEDURE_INVALID: "a procedure is not a valid code",
    DISCHARGE_STATUS: "the discharge status changes the DRG",
    VERSION: "billed DRG is another grouper version's result",
    PDX: "the principal diagnosis leads to another DRG",
    OTHER: "other difference",
    ERROR: "not audited",
}


def reason_group(kind: str) -> str:
    """match / coding / data / error: what kind of difference a reason kind is."""
    if kind == MATCH:
        return "match"
    if kind == ERROR:
        return "error"
    return "data" if kind in DATA_ERROR_KINDS else "coding"

#: NUBC patient discharge status codes, for readable reasons
STATUS_NAMES = {
    1: "home", 2: "short-term hospital", 3: "SNF", 4: "custodial care", 5: "cancer/children's hospital",
    6: "home health", 7: "left against medical advice", 20: "expired", 21: "court/law enforcement",
    30: "still a patient", 40: "expired at home", 41: "expired in a medical facility", 42: "expired, place unknown",
    43: "federal hospital", 50: "hospice (home)", 51: "hospice (medical facility)", 61: "swing bed",
    62: "rehabilitation facility", 63: "long-term care hospital", 64: "Medicaid nursing facility",
    65: "psychiatric hospital", 66: "critical access hospital", 69: "disaster alternative care site",
    70: "other institution",
}

LEVEL_RANK = {"NON_CC": 0, "NCC": 0, "CC": 1, "MCC": 2}
POA_TEXT = {"N": "not present on admission", "U": "with POA U (documentation insufficient)",
            "": "with a blank POA", "1": "with POA 1", "W": "with POA W", "Y": "present on admission"}


@attrs.frozen(kw_only=True)
class AuditRow:
    """One claim's audit: billed vs regrouped DRG, weights, estimated payments and the reason."""

    id: object
    line: int | None = None
    discharge_date: str | None = None
    version: int | None = None
    fiscal_year: int | None = None
    billed_drg: int | None = None
    billed_title: str | None = None
    billed_weight: Decimal | None = None
    regrouped_drg: int | None = None
    regrouped_title: str | None = None
    regrouped_mdc: int | None = None
    regrouped_mdc_title: str | None = None
    regrouped_weight: Decimal | None = None
    return_code: str | None = None
    match: bool = False
    weight_difference: Decimal | None = None          # regrouped - billed
    billed_payment: Decimal | None = None
    regrouped_payment: Decimal | None = None
    payment_difference: Decimal | None = None         # regrouped - billed (estimates)
    paid_amount: Decimal | None = None
    paid_difference: Decimal | None = None            # regrouped estimate - paid amount
    reason: str = ""
    reason_kind: str = ""
    reason_codes: tuple[str, ...] = ()
    estimate_note: str | None = None                  # why no payment estimate (e.g. LOS missing)
    version_in_force: int | None = None               # regrouped under another version: the one in force
    conversions: tuple[str, ...] = ()                 # regrouped under another version: each code conversion
    not_modelled: tuple[str, ...] = ()                # what the payment estimates leave out (with a hospital)
    error: str | None = None                          # the claim could not be audited
    mce_edit_type: str | None = None                  # the MCE's edit type (None: the MCE could not edit it)
    mce_edits: tuple[str, ...] = ()                   # the MCE's edits, one line each (or why none were found)

    @property
    def version_label(self) -> str | None:
        return label(self.version) if self.version else None

    @property
    def reason_group(self) -> str:
        """match / coding / data / error (:func:`reason_group`)."""
        return reason_group(self.reason_kind)

    @property
    def reason_label(self) -> str:
        return KIND_LABELS.get(self.reason_kind, self.reason_kind)

    def to_dict(self) -> dict:
        from .payment import plain_fields
        out = plain_fields(self)
        out["version"] = self.version_label
        out["version_in_force"] = label(self.version_in_force) if self.version_in_force else None
        out["reason_group"] = self.reason_group
        return out


@attrs.frozen(kw_only=True)
class WhatIf:
    """One what-if regrouping: the claim as given, or without one code."""

    change: str                        # "claim as coded", "without SDX N179", "without procedure 0SR9019"
    kind: str                          # claim / sdx / procedure
    code: str | None
    drg: int
    title: str
    mdc: int
    weight: Decimal | None
    weight_difference: Decimal | None  # vs the claim as given
    changed: bool                      # the DRG differs from the claim as given
    payment: Decimal | None = None
    payment_difference: Decimal | None = None

    def to_dict(self) -> dict:
        return {f.name: (float(v) if isinstance(v, Decimal) else v)
                for f in attrs.fields(type(self)) for v in [getattr(self, f.name)]}


# ------------------------------------------------------------------ claim handling


def _as_dict(claim) -> dict:
    if isinstance(claim, Mapping):
        return dict(claim)
    if isinstance(claim, Claim):
        d = attrs.asdict(claim, recurse=False)
        d["sdx"] = [[x.code, x.poa] for x in claim.sdx]
        d["procedures"] = list(claim.procedures)
        return d
    raise ClaimError("NOT_A_CLAIM", "claim", type(claim).__name__,
                     f"expected a claim mapping or grouper.Claim, got {type(claim).__name__}")


def _sdx_list(claim: dict) -> list:
    s = claim.get("sdx") or []
    return list(s) if isinstance(s, (list, tuple)) else [s]


def _proc_list(claim: dict) -> list:
    p = claim.get("procedures") or []
    return list(p) if isinstance(p, (list, tuple)) else [p]


def _version_for(claim: dict, ts) -> int:
    """The version in force at the discharge date (the claim's own version if it has no date)."""
    dd = claim.get("discharge_date")
    try:
        if dd not in (None, ""):
            return ts.resolve(discharge_date=dd)
        if claim.get("version") not in (None, ""):
            return ts.resolve(claim["version"])
    except VersionError as exc:
        raise ClaimError("DATE_OUT_OF_RANGE" if dd else "UNKNOWN_VERSION",
                         "discharge_date" if dd else "version", dd or claim.get("version"), str(exc)) from None
    raise ClaimError("NO_VERSION", "discharge_date", None, "the claim needs a discharge date (or a version)")


class _Regrouper:
    """Re-groups one claim with changes, under one version; results cached per change."""

    def __init__(self, claim: dict, version: int, ts):
        self.claim, self.version, self.ts = claim, version, ts
        self._cache: dict = {}

    def group(self, *, drop_sdx=(), drop_proc=(), status=None, version=None) -> Result | None:
        key = (tuple(sorted(drop_sdx)), tuple(sorted(drop_proc)), status, version)
        if key in self._cache:
            return self._cache[key]
        c = dict(self.claim)
        if drop_sdx:
            c["sdx"] = [x for i, x in enumerate(_sdx_list(self.claim)) if i not in drop_sdx]
        if drop_proc:
            c["procedures"] = [x for i, x in enumerate(_proc_list(self.claim)) if i not in drop_proc]
        if status is not None:
            c["discharge_status"] = status
        try:
            r = group(c, tables=self.ts, version=version or self.version)
        except (ClaimError, VersionError):
            r = None
        self._cache[key] = r
        return r


# ------------------------------------------------------------------ reasons


def _drg_level(expression: str) -> str | None:
    """The CC/MCC level a DRG's formula asks for (MCC, CC or None)."""
    if re.search(r"\bMCC\b", expression or ""):
        return "MCC"
    if re.search(r"\bCC\b", expression or ""):
        return "CC"
    return None


def _family(vt, drg: int) -> list[int]:
    info = vt.drg_info.get(drg)
    if info is None:
        return [drg]
    return sorted(d for d, i in vt.drg_info.items() if i["base_drg"] == info["base_drg"])


def _span(drgs: list[int]) -> str:
    if len(drgs) > 1 and drgs == list(range(drgs[0], drgs[-1] + 1)):
        return f"DRGs {drgs[0]}-{drgs[-1]}"
    return ("DRGs " if len(drgs) > 1 else "DRG ") + ", ".join(str(d) for d in drgs)


def _codes(items) -> str:
    return ", ".join(items)


def _status_text(s) -> str:
    try:
        n = int(s)
    except (TypeError, ValueError):
        return f"{s!r}"
    name = STATUS_NAMES.get(n)
    if name is None and 81 <= n <= 95:           # planned acute readmission variants of 01-70
        base = STATUS_NAMES.get({87: 21, 88: 43, 89: 61, 95: 70}.get(n, n - 80))
        name = f"{base}, planned readmission" if base else None
    return f"{n:02d}" + (f" ({name})" if name else "")


def _met_hacs(dx) -> list:
    return [h for h in dx.hacs if h.hac_status == "HAC_CRITERIA_MET"]


def _poa_text(poa) -> str:
    return POA_TEXT.get(str(poa).strip().upper(), f"with POA {poa!r}")


def _ungroupable_reason(r: Result, claim: dict, v: int) -> tuple[str, str, tuple]:
    rc = r.return_code
    pdx = r.pdx.code
    if rc == "INVALID_PDX":
        if pdx in (None, ""):
            return DATA_ERROR, "the claim has no principal diagnosis", ()
        return DATA_ERROR, f"PDX {pdx} is not a valid ICD-10-CM code in v{label(v)}", (str(pdx),)
    if rc == "DX_CANNOT_BE_PDX":
        return UNGROUPABLE, f"PDX {pdx} cannot be a principal diagnosis", (pdx,)
    if rc == "INVALID_SEX":
        return DATA_ERROR, (f"sex {claim.get('sex')!r} is invalid for PDX {pdx}, whose grouping depends on "
                            f"the sex"), (pdx,)
    if rc == "INVALID_DISCHARGE_STATUS":
        return DATA_ERROR, f"discharge status {claim.get('discharge_status')!r} is invalid", ()
    if rc.startswith("HAC_"):
        bad = [(d, h) for d in r.sdx for h in _met_hacs(d)]
        if rc == "HAC_MISSING_ONE_POA" and bad:
            d, h = bad[0]
            return HAC, (f"HAC {h.hac_number:02d}: SDX {d.code} has a blank POA, which makes the claim "
                         f"ungroupable"), (d.code,)
        codes = tuple(dict.fromkeys(d.code for d, _ in bad))
        if codes:
            return HAC, (f"HAC: SDX {_codes(codes)} {'has' if len(codes) == 1 else 'have'} a POA that makes "
                         f"the claim ungroupable ({rc})"), codes
    return UNGROUPABLE, f"the claim is ungroupable (return code {rc})", ()


def _hac_reason(r: Result) -> tuple[str, str, tuple] | None:
    for d in r.sdx:
        met = _met_hacs(d)
        if met and d.initial_severity_usage in ("CC", "MCC") and d.final_severity_usage not in ("CC", "MCC"):
            h = met[0]
            return HAC, (f"HAC {h.hac_number:02d}: SDX {d.code} {_poa_text(d.poa)} does not count as "
                         f"{d.initial_severity_usage}"), (d.code,)
    return None


def _change_reason(kind, idx, r: Result, billed: int, vt) -> tuple[str, str, tuple]:
    R, B = r.final_drg, billed
    if kind == "sdx":
        d = r.sdx[idx]
        if d.final_severity_usage in ("CC", "MCC"):
            return SDX_ADDS_SEVERITY, f"SDX {d.code} ({d.final_severity_usage}) makes {R} instead of {B}", (d.code,)
        return SDX_CHANGES_DRG, f"SDX {d.code} moves the claim to DRG {R} instead of {B}", (d.code,)
    if kind == "proc":
        p = r.procedures[idx]
        binfo = vt.drg_info.get(B, {})
        if r.final_med_surg == "SURGICAL" and binfo.get("surgical") != "SURGICAL":
            return PROCEDURE, f"procedure {p.code} moves the claim to a surgical DRG", (p.code,)
        if r.final_mdc == 0 and binfo.get("mdc") != 0:
            return PROCEDURE, f"procedure {p.code} moves the claim to pre-MDC DRG {R}", (p.code,)
        return PROCEDURE, f"procedure {p.code} moves the claim to DRG {R} instead of {B}", (p.code,)
    raise ValueError(kind)


def explain_difference(claim, r: Result, billed: int, *, tables=None,
                       in_force: bool = True) -> tuple[str, str, tuple[str, ...]]:
    """(kind, one-line reason, codes) for a claim whose regrouped result ``r`` differs from (or
    matches) the ``billed`` DRG; ``claim`` is the claim as grouped (mapping).  When an older
    grouper version gives the billed DRG, the reason says so ("...; v42.1 groups to 72").
    ``in_force`` False: ``r`` is the claim regrouped under another version than the one in
    force at its discharge (the reasons do not call it the version in force)."""
    from ..tables import default as _default_tables
    ts = tables or _default_tables()
    claim = _as_dict(claim)
    kind, text, codes = _explain(claim, r, billed, ts, in_force)
    if kind not in (MATCH, BILLED_DRG_INVALID, VERSION):
        rg = _Regrouper(claim, r.version, ts)
        for w in sorted((w for w in ts.versions if w < r.version), reverse=True):
            x = rg.group(version=w)
            if x is not None and x.final_drg == billed:
                text += f"; v{label(w)} groups to {billed}"
                break
    return kind, text, codes


def _explain(claim: dict, r: Result, billed: int, ts, in_force: bool = True) -> tuple[str, str, tuple[str, ...]]:
    v = r.version
    vt = ts.version(v)
    R, B = r.final_drg, billed
    if B not in vt.drg_info:
        others = [w for w in ts.versions if B in ts.version(w).drg_info]
        where = f" (it is a DRG of v{label(others[-1])})" if others else ""
        return BILLED_DRG_INVALID, f"billed DRG {B} does not exist in v{label(v)}{where}", ()
    if R == B:
        return MATCH, f"billed DRG {B} confirmed", ()
    if R == 999:
        return _ungroupable_reason(r, claim, v)
    if r.initial_drg == B and r.final_drg != B:
        hac = _hac_reason(r)
        if hac:
            return hac
    rg = _Regrouper(claim, v, ts)
    binfo = vt.drg_info[B]

    # the smallest change that turns the regrouped DRG into the billed one
    singles = [("sdx", i) for i in range(len(r.sdx))] + [("proc", j) for j in range(len(r.procedures))]
    for kind, i in singles:
        x = rg.group(drop_sdx=(i,)) if kind == "sdx" else rg.group(drop_proc=(i,))
        if x is not None and x.final_drg == B:
            return _change_reason(kind, i, r, B, vt)
    status = claim.get("discharge_status")
    if status not in (None, "", 1, "1", "01"):
        x = rg.group(status=1)
        if x is not None and x.final_drg == B:
            return _status_reason(r, x, status, B)
    counting = [i for i, d in enumerate(r.sdx) if d.final_severity_usage in ("CC", "MCC")]
    if len(counting) > 1:
        x = rg.group(drop_sdx=counting)
        if x is not None and x.final_drg == B:
            codes = tuple(r.sdx[i].code for i in counting)
            lv = max((r.sdx[i].final_severity_usage for i in counting), key=LEVEL_RANK.get)
            return SDX_ADDS_SEVERITY, f"SDX {_codes(codes)} ({lv}) make {R} instead of {B}", codes
    or_procs = [j for j, p in enumerate(r.procedures) if p.is_or]
    if len(or_procs) > 1:
        x = rg.group(drop_proc=or_procs)
        if x is not None and x.final_drg == B:
            codes = tuple(r.procedures[j].code for j in or_procs)
            return PROCEDURE, f"procedures {_codes(codes)} move the claim to DRG {R} instead of {B}", codes

    same_family = binfo["base_drg"] == r.final_base_drg
    if same_family:
        need = _drg_level(binfo.get("expression", ""))
        have = r.final_severity
        if need and LEVEL_RANK[need] > LEVEL_RANK.get(have, 0):
            got = _why_not_counted(r, need, claim, rg, vt, B)
            if got:
                return got
            return NO_CC_MCC, f"no secondary diagnosis counts as {need}: {R} instead of {B}", ()
        if LEVEL_RANK.get(have, 0) > LEVEL_RANK.get(need or "NON_CC", 0):
            codes = tuple(d.code for d in r.sdx if d.final_severity_usage == have)
            if codes:
                verb = "makes" if len(codes) == 1 else "make"
                return SDX_ADDS_SEVERITY, f"SDX {_codes(codes)} ({have}) {verb} {R} instead of {B}", codes

    # procedures
    b_surg = binfo.get("surgical") == "SURGICAL"
    if r.final_med_surg == "SURGICAL" and not b_surg:
        drivers = [j for j in or_procs if (x := rg.group(drop_proc=(j,))) is not None
                   and x.final_med_surg != "SURGICAL"]
        codes = tuple(r.procedures[j].code for j in (drivers or or_procs))
        if codes:
            return PROCEDURE, (f"procedure{'s' if len(codes) > 1 else ''} {_codes(codes)} move"
                               f"{'' if len(codes) > 1 else 's'} the claim to a surgical DRG"), codes
    if b_surg and r.final_med_surg != "SURGICAL":
        bad = tuple(p.code for p in r.procedures if not p.recognized)
        if bad:
            return PROCEDURE_INVALID, (f"procedure {_codes(bad)} is not a valid ICD-10-PCS code in "
                                       f"v{label(v)}: surgical DRG {B} cannot be reached"), bad
        if not r.procedures:
            return NO_OR_PROCEDURE, f"the claim has no procedure: surgical DRG {B} needs an O.R. procedure", ()
        codes = tuple(p.code for p in r.procedures)
        return NO_OR_PROCEDURE, (f"procedure {_codes(codes)} {'is' if len(codes) == 1 else 'are'} not "
                                 f"O.R. procedures for surgical DRG {B}" if len(codes) > 1 else
                                 f"procedure {codes[0]} is not an O.R. procedure for surgical DRG {B}"), codes
    if r.final_med_surg == "SURGICAL" and b_surg:
        drivers = [j for j in range(len(r.procedures)) if (x := rg.group(drop_proc=(j,))) is not None
                   and x.final_base_drg != r.final_base_drg]
        if drivers:
            codes = tuple(r.procedures[j].code for j in drivers)
            return PROCEDURE, (f"procedure{'s' if len(codes) > 1 else ''} {_codes(codes)} move"
                               f"{'' if len(codes) > 1 else 's'} the claim to DRG {R} instead of {B}"), codes
    # an SDX that moves the claim to another DRG family (e.g. a reroute)
    for i, d in enumerate(r.sdx):
        if d.affects_drg in ("FINAL", "BOTH"):
            x = rg.group(drop_sdx=(i,))
            if x is not None and x.final_base_drg != r.final_base_drg and x.final_base_drg == binfo["base_drg"]:
                return SDX_CHANGES_DRG, f"SDX {d.code} moves the claim to DRG {R} instead of {B}", (d.code,)
    if status not in (None, "", 1, "1", "01"):
        x = rg.group(status=1)
        if x is not None and x.final_base_drg == binfo["base_drg"]:
            return _status_reason(r, x, status, B)
    if R == 998:
        return PDX_INVALID_AS_DISCHARGE, (f"PDX {r.pdx.code} is invalid as discharge diagnosis on this claim "
                                          f"(DRG 998)"), (r.pdx.code,)
    # billed with another grouper version?
    for w in sorted(ts.versions, reverse=True):
        if w != v:
            x = rg.group(version=w)
            if x is not None and x.final_drg == B:
                dd = claim.get("discharge_date")
                at = f" in force at discharge {dd}" if dd else " in force"
                return VERSION, (f"billed DRG {B} is the v{label(w)} result; v{label(v)}{at if in_force else ''} "
                                 f"groups to {R}"), ()
    if r.final_mdc != binfo.get("mdc"):
        return PDX, (f"PDX {r.pdx.code} groups to MDC {r.final_mdc}; billed DRG {B} is in MDC "
                     f"{binfo.get('mdc')}"), (r.pdx.code,)
    return PDX, f"PDX {r.pdx.code} groups to DRG {R}, not to {B}", (r.pdx.code,)


def _status_reason(r: Result, alive: Result, status, billed: int):
    """The discharge status explains the difference: say which SDX it stops counting, if any."""
    for d, a in zip(r.sdx, alive.sdx):
        if d.final_severity_usage not in ("CC", "MCC") and a.final_severity_usage in ("CC", "MCC"):
            return SDX_NOT_COUNTED, (f"SDX {d.code} counts as {a.final_severity_usage} only if the patient is "
                                     f"discharged alive; discharge status is {_status_text(status)}"), (d.code,)
    return DISCHARGE_STATUS, (f"discharge status {_status_text(status)} moves the claim to DRG {r.final_drg} "
                              f"instead of {billed}"), ()


def _why_not_counted(r: Result, need: str, claim: dict, rg: _Regrouper, vt, billed: int):
    """Why a diagnosis that could give the billed DRG's CC/MCC level does not count."""
    pdx = r.pdx.code
    cands = [d for d in r.sdx if d.recognized and LEVEL_RANK.get(d.table_severity or "NCC", 0) >= LEVEL_RANK[need]]
    for d in cands:
        u = d.final_severity_usage
        sev = d.table_severity
        if u.endswith("_EXCLUDED") and not u.endswith("BY_DRG_LOGIC"):
            return SDX_EXCLUDED, f"SDX {d.code} is excluded as {sev} with PDX {pdx}", (d.code, pdx)
        if u.endswith("_EXCLUDED_BY_DRG_LOGIC"):
            fam = _family(vt, r.final_drg)
            return SDX_EXCLUDED_BY_DRG_LOGIC, (f"SDX {d.code} is not counted as {sev} by the DRG logic of "
                                               f"{_span(fam)}"), (d.code,)
    for d in cands:
        met = _met_hacs(d)
        if met and d.final_severity_usage not in ("CC", "MCC"):
            return HAC, (f"HAC {met[0].hac_number:02d}: SDX {d.code} {_poa_text(d.poa)} does not count as "
                         f"{d.table_severity}"), (d.code,)
    status = claim.get("discharge_status")
    for i, d in enumerate(r.sdx):
        if d in cands and d.final_severity_usage == "NEITHER" and status not in (None, "", 1, "1", "01"):
            x = rg.group(status=1)
            if x is not None and x.sdx[i].final_severity_usage in ("CC", "MCC"):
                return SDX_NOT_COUNTED, (f"SDX {d.code} counts as {d.table_severity} only if the patient is "
                                         f"discharged alive; discharge status is {_status_text(status)}"), (d.code,)
    for d in cands:
        if d.final_severity_usage == "NEITHER":
            return SDX_NOT_COUNTED, f"SDX {d.code} ({d.table_severity}) does not count as {need} on this claim", \
                (d.code,)
    bad = tuple(d.code for d in r.sdx if not d.recognized)
    if bad:
        return SDX_INVALID, (f"SDX {_codes(bad)} {'is' if len(bad) == 1 else 'are'} not valid ICD-10-CM "
                             f"code{'s' if len(bad) > 1 else ''} in v{label(r.version)}, so cannot count as "
                             f"{need}"), bad
    if r.sdx:
        listed = ", ".join(f"{d.code}: {d.table_severity}" for d in r.sdx)
        return NO_CC_MCC, (f"no secondary diagnosis counts as {need} ({listed}): {r.final_drg} instead of "
                           f"{billed}"), ()
    return NO_CC_MCC, f"the claim has no secondary diagnosis: {r.final_drg} instead of {billed}", ()


# ------------------------------------------------------------------ public API


def _billed_drg(v):
    """The billed DRG: a whole number 1-999, as a number or text ("291", 291.0, "291.0");
    None when absent; ValueError for anything else."""
    from decimal import InvalidOperation
    v = plain(v)
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    bad = ValueError(f"billed_drg must be a DRG number (1-999), got {v!r}")
    if isinstance(v, bool) or not isinstance(v, (int, float, str, Decimal)):
        raise bad
    try:
        d = Decimal(str(v).strip())
    except InvalidOperation:
        raise bad from None
    if not d.is_finite() or d != d.to_integral_value() or not 1 <= d <= 999:
        raise bad
    return int(d)


def _money(v, name):
    if v in (None, ""):
        return None
    from .payment import decimal_value
    return decimal_value(v, name)


def audit_claim(claim, hospital=None, *, line=None, tables=None, ipps_tables=None,
                regroup_under=None) -> AuditRow:
    """Audit one claim (a mapping with ``billed_drg`` and optionally ``paid_amount``,
    ``admission_date``/``los`` and ``charges``): group it under the version in force at its
    discharge date, compare with the billed DRG, estimate both payments when a
    :class:`grouper.finance.payment.Hospital` is given, and give the reason for any difference.

    ``regroup_under`` (e.g. "44.0"): group it under that version instead, after converting its
    codes from the code set of its discharge date to that version's (the ``convert_codes``
    option of :func:`grouper.group`); the conversions are listed in ``conversions`` and among
    the reasons, and the billed DRG and payments are compared in that version and its year."""
    from ..tables import default as _default_tables
    from ..tables.ipps import IppsError
    from .payment import EstimateError, estimate_drg, length_of_stay
    ts = tables or _default_tables()
    cid = claim.get("id") if isinstance(claim, Mapping) else getattr(claim, "id", None)
    in_force, conversions = None, ()
    try:
        c = _as_dict(claim)
        billed = _billed_drg(c.get("billed_drg"))
        if billed is None:
            raise ValueError("the claim has no billed_drg")
        paid = _money(c.get("paid_amount"), "paid_amount")
        # the payment inputs are checked as estimate checks them, with or without a hospital
        los = length_of_stay(c.get("los"), c.get("admission_date"), c.get("discharge_date"))
        charges = _money(c.get("charges"), "charges")
        if charges is not None and charges < 0:
            raise ValueError(f"charges must not be negative, got {charges}")
        v = _version_for(c, ts)
        if regroup_under is not None:
            in_force = v
            v = _regroup_version(regroup_under, ts)
            c, conversions = _converted(c, v, ts)
        r = group(c, tables=ts, version=v)
    except (ClaimError, ValueError) as exc:
        return AuditRow(id=cid, line=line, reason=str(exc), reason_kind=ERROR, error=str(exc))
    vt = ts.version(v)
    fy = vt.fiscal_year
    from ..tables.lookup import drg as _drg_info
    bi = _drg_info(billed, v, tables=ts) if billed in vt.drg_info else None
    b_weight = Decimal(repr(bi.weight)) if bi is not None and bi.weight is not None else None
    r_weight = Decimal(repr(r.weight)) if r.weight is not None else None
    weighted = fy in ts.fiscal_years       # a year without Table 5 has no weight to compare
    kind, reason, codes = explain_difference(c, r, billed, tables=ts, in_force=in_force is None)
    if conversions:
        reason += f"; codes converted to the v{label(v)} code set: " + ", ".join(
            _conversion_text(conv) for _, conv in conversions)
    row = dict(id=cid, line=line, discharge_date=c.get("discharge_date"), version=v, fiscal_year=fy,
               billed_drg=billed, billed_title=bi.title if bi else None, billed_weight=b_weight,
               regrouped_drg=r.final_drg, regrouped_title=r.final_drg_description, regrouped_mdc=r.final_mdc,
               regrouped_mdc_title=r.final_mdc_description, regrouped_weight=r_weight, return_code=r.return_code,
               match=billed == r.final_drg,
               # a DRG without weight (998, 999) pays nothing: its weight counts as 0
               weight_difference=((r_weight or Decimal(0)) - (b_weight or Decimal(0))
                                  if bi is not None and weighted else None),
               paid_amount=paid, reason=reason, reason_kind=kind, reason_codes=tuple(codes),
               version_in_force=in_force,
               conversions=tuple(w.message for w in conversion_warnings(conversions, v)))
    row["mce_edit_type"], row["mce_edits"] = mce_edits(c)
    if hospital is not None:
        notes = []
        pays = {}
        for key, drg in (("billed", billed), ("regrouped", r.final_drg)):
            if key == "billed" and bi is None:
                pays[key] = None
                continue
            if not weighted:         # say it once for both DRGs, never estimate from another year
                pays[key] = None
                if key == "regrouped":
                    notes.append(f"no IPPS payment can be estimated: {ts.missing_weights_message(fy)}")
                continue
            if _no_weight(ts, fy, drg):
                pays[key] = Decimal("0.00")
                notes.append(f"{key} DRG {drg} has no relative weight: not payable")
                continue
            try:
                e = estimate_drg(drg, fy, hospital, discharge_status=c.get("discharge_status"), los=los,
                                 charges=c.get("charges"), version=v, claim_id=cid, tables=ts, ipps_tables=ipps_tables)
            except (EstimateError, IppsError) as exc:
                pays[key] = None
                notes.append(f"{key} DRG {drg}: {exc}")
                continue
            pays[key] = e.total
            if e.transfer_applied:
                notes.append(f"{key} DRG {drg} is paid as a {e.transfer} transfer (LOS {e.los}, GMLOS {e.gmlos}, "
                             f"fraction {e.transfer_fraction})")
            if e.outlier:
                notes.append(f"{key} DRG {drg} includes a cost outlier of {e.outlier}")
        bp, rp = pays.get("billed"), pays.get("regrouped")
        from .payment import NOT_MODELLED
        row.update(billed_payment=bp, regrouped_payment=rp, not_modelled=NOT_MODELLED,
                   payment_difference=(rp - bp) if bp is not None and rp is not None else None,
                   paid_difference=(rp - paid) if rp is not None and paid is not None else None,
                   estimate_note="; ".join(notes) or None)
    return AuditRow(**row)


def _regroup_version(value, ts) -> int:
    try:
        return ts.resolve(value)
    except VersionError as exc:
        raise ClaimError("UNKNOWN_VERSION", "version", value, str(exc)) from None


def _converted(c: dict, v: int, ts) -> tuple[dict, tuple]:
    """The claim (audit fields kept) with its codes converted to the code set of version ``v``,
    and the (field, Conversion) pairs reported."""
    got = read(c, ts, version=v, convert_codes=True)
    new = got.raw
    out = dict(c)
    out.update(pdx=new.pdx, sdx=[[d.code, d.poa] for d in new.sdx], procedures=list(new.procedures))
    if new.admit_dx is not None:
        out["admit_dx"] = new.admit_dx
    return out, got.conversions


def _conversion_text(conv) -> str:
    if conv.status == "CONVERTED":
        return f"{conv.code} -> {conv.unique}"
    if conv.codes and conv.status == "AMBIGUOUS":
        return f"{conv.code} kept (several replacements: {', '.join(conv.codes)})"
    return f"{conv.code} kept (no replacement known)"
def mce_edits(claim: dict) -> tuple[str | None, tuple[str, ...]]:
    """The claim's MCE edit type and edits, one line each (:func:`grouper.mce.edit_reasons`); when
    the MCE cannot edit it (no length of stay, age ...), None and the reason."""
    try:
        r = edit(claim)
    except ClaimError as exc:
        return None, (f"not edited by the MCE: {exc}",)
    return r.edit_type, tuple(edit_reasons(r))


def _no_weight(ts, fy, drg) -> bool:
    """DRGs without a relative weight (998, 999) are paid nothing."""
    try:
        fig = ts.weights(fy).figures[drg]
    except Exception:
        return False
    return fig is None or fig[0] is None


def audit_rows(claims, hospital=None, *, tables=None, ipps_tables=None, regroup_under=None) -> list[AuditRow]:
    """Audit many claims (mappings); one row per claim, in order (errors carried per row)."""
    return [audit_claim(c, hospital, line=k, tables=tables, ipps_tables=ipps_tables, regroup_under=regroup_under)
            for k, c in enumerate(claims, start=1)]


def what_if(claim, hospital=None, *, tables=None, ipps_tables=None) -> list[WhatIf]:
    """The claim's DRG as given, then without each secondary diagnosis and without each procedure
    (same version: the one in force at discharge).  With a hospital, each line's estimated payment."""
    from ..tables import default as _default_tables
    from ..tables.ipps import IppsError
    from .payment import EstimateError, estimate_drg, length_of_stay
    ts = tables or _default_tables()
    c = _as_dict(claim)
    v = _version_for(c, ts)
    base = group(c, tables=ts, version=v)
    rg = _Regrouper(c, v, ts)
    fy = ts.version(v).fiscal_year
    los = None
    if hospital is not None:
        try:
            los = length_of_stay(c.get("los"), c.get("admission_date"), c.get("discharge_date"))
        except EstimateError:
            los = None

    def pay(drg):
        if hospital is None:
            return None
        if _no_weight(ts, fy, drg):
            return Decimal("0.00")
        try:
            return estimate_drg(drg, fy, hospital, discharge_status=c.get("discharge_status"), los=los,
                                charges=c.get("charges"), version=v, tables=ts, ipps_tables=ipps_tables).total
        except (EstimateError, IppsError):
            return None

    base_w = Decimal(repr(base.weight)) if base.weight is not None else None
    base_pay = pay(base.final_drg)

    def row(change, kind, code, r: Result):
        w = Decimal(repr(r.weight)) if r.weight is not None else None
        p = pay(r.final_drg)
        return WhatIf(change=change, kind=kind, code=code, drg=r.final_drg, title=r.final_drg_description,
                      mdc=r.final_mdc, weight=w,
                      weight_difference=(w or Decimal(0)) - (base_w or Decimal(0)),
                      changed=r.final_drg != base.final_drg, payment=p,
                      payment_difference=(p - base_pay) if p is not None and base_pay is not None else None)

    out = [row("claim as coded", "claim", None, base)]
    for i, d in enumerate(base.sdx):
        r = rg.group(drop_sdx=(i,))
        if r is not None:
            out.append(row(f"without SDX {d.code}", "sdx", d.code, r))
    for j, p in enumerate(base.procedures):
        r = rg.group(drop_proc=(j,))
        if r is not None:
            out.append(row(f"without procedure {p.code}", "procedure", p.code, r))
    return out
