"""Warnings: what looked wrong in a claim, even when it still grouped.

Warnings never change the grouping (the reading, :mod:`grouper.reading.values`, decides
what CMS makes of each value); they only report, per field, with a stable code.
Every code is listed with an example in ``docs/errors-and-warnings.md``.  A warning that
reports what an edit of CMS's Medicare Code Editor reports has the MCE's name
(DUPLICATE_OF_PDX, INVALID_AGE, INVALID_SEX, INVALID_DISCHARGE_STATUS, INVALID_POA,
INVALID_ADMIT_DX); ``grouper.mce.catalog.WARNINGS_AND_EDITS`` sets every warning against the
MCE's edits.
:func:`claim_warnings` is the one place that builds a claim's warnings, for every path.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

from ..tables.versions import VersionError, fiscal_year, label, parse_date
from . import values as va
from .claim import Claim, entries, plain, without_missing
from .stage import ReadClaim


@attrs.frozen
class ClaimWarning:
    code: str
    field: str
    value: object
    message: str

    def to_dict(self) -> dict:
        v = self.value
        if not isinstance(v, (str, int, float, bool, type(None))):
            v = repr(v)
        return {"code": self.code, "field": self.field, "value": v, "message": self.message}


# code -> one-line meaning (the docs list these with examples)
WARNING_CODES = {
    "PDX_MISSING": "no principal diagnosis; CMS groups the claim to DRG 999 (INVALID_PDX)",
    "CODE_DOTTED": "code written with a dot; CMS does not recognize it as written",
    "CODE_PADDED": "code with leading/trailing/inner blanks; CMS does not recognize it as written",
    "CODE_LOWERCASE": "code in lower case; CMS upper-cases it and accepts it",
    "CODE_NOT_TEXT": "code given as a number or another non-text value",
    "CODE_UNKNOWN": "code not found in any grouper version of the tables",
    "CODE_OTHER_VERSION": "code not valid in the grouper version used, but valid in another",
    "CODE_NORMALIZED": "code cleaned before grouping (normalize option)",
    "CODE_CONVERSION": "code not in the code set of the grouper version used: converted to its one replacement "
                       "from the claim's own date, or kept as written when CMS's conversion tables give several "
                       "replacements or none (convert_codes option)",
    "CODE_EMPTY": "empty secondary-diagnosis or procedure entry (ignored, as CMS does)",
    "ENTRY_MALFORMED": "a secondary-diagnosis or procedure entry that is not a code, a [code, POA] pair or a "
                       "{code, poa} mapping (null, a mapping without 'code', a list of 3): read as written "
                       "-- no code is 'null', which CMS does not recognize; extra items are ignored",
    "CODE_CLUSTER_PSEUDO": "a Z@nnnn procedure-cluster pseudo-code given as a procedure; CMS accepts it",
    "DUPLICATE_SDX": "secondary diagnosis listed more than once",
    "DUPLICATE_OF_PDX": "secondary diagnosis equal to the principal diagnosis (the MCE's name)",
    "DUPLICATE_PROCEDURE": "procedure listed more than once",
    "TOO_MANY_SDX": "more than 24 secondary diagnoses (UB-04 limit); all are grouped, as CMS does",
    "TOO_MANY_PROCEDURES": "more than 25 procedures (UB-04 limit); all are grouped, as CMS does",
    "INVALID_AGE": "age outside 0-124 (not used for grouping; the MCE's name)",
    "AGE_NOT_A_NUMBER": "age is not a whole number (not used for grouping)",
    "AGE_MISSING": "no age (not used for grouping)",
    "SEX_MISSING": "no sex; CMS reads it as unknown",
    "INVALID_SEX": "sex is not M/F/U (MALE/FEMALE, 1/2); CMS reads it as unknown (the MCE's name)",
    "INVALID_DISCHARGE_STATUS": "not a CMS patient discharge status; CMS treats it as invalid (the MCE's name)",
    "DISCHARGE_STATUS_MISSING": "no discharge status; CMS treats it as invalid",
    "DISCHARGE_STATUS_TEXT": "discharge status given as text; read as the number it spells",
    "INVALID_POA": "POA indicator is not Y/N/U/W/1/E/blank; CMS reads it as E or INVALID (the MCE's name)",
    "POA_BLANK": "POA indicator blank on a secondary diagnosis",
    "HOSPITAL_STATUS_UNRECOGNIZED": "hospital status not NOT_EXEMPT/EXEMPT/UNKNOWN; read as UNKNOWN",
    "INVALID_ADMIT_DX": "admitting diagnosis not valid in the grouper version used (the MCE's name)",
    "VERSION_OUTSIDE_FISCAL_YEAR": "a grouper version given for a discharge date outside its fiscal year: the "
                                   "DRG and weight are those of the version's year",
    "WEIGHTS_UNAVAILABLE": "the tables have no relative weights for the grouper version's fiscal year (its IPPS "
                           "Table 5 was not imported): weight, GMLOS and AMLOS are None",
}

_DOT = re.compile(r"^[A-Za-z0-9]{3}\.[A-Za-z0-9]{1,4}$")


def _w(out: list, code: str, field: str, value, message: str) -> None:
    out.append(ClaimWarning(code, field, value, message))


def _code_checks(out: list, field: str, raw, version: int, tables, kind: str) -> None:
    """Formatting and validity of one diagnosis ('dx') or procedure ('pr') code."""
    if raw is None:
        return
    if not isinstance(raw, str):
        _w(out, "CODE_NOT_TEXT", field, raw, f"{field}: {raw!r} is not text; read as {va.read_code(raw)!r}")
        return
    if not raw.strip():
        if field != "pdx":
            _w(out, "CODE_EMPTY", field, raw, f"{field}: empty code (ignored)")
        return
    code = raw.upper()
    if kind == "pr" and code.startswith("Z@"):
        _w(out, "CODE_CLUSTER_PSEUDO", field, raw,
           f"{field}: {raw} is a CMS procedure-cluster pseudo-code, not an ICD-10-PCS code")
    find = tables.dx_id if kind == "dx" else tables.pr_id
    vt = tables.version(version)
    arr = vt.dx_mdc if kind == "dx" else vt.pr_attr
    i = find(code)
    if i is not None and arr[i] >= 0:
        if raw != code:
            _w(out, "CODE_LOWERCASE", field, raw, f"{field}: {raw!r} is lower case; CMS reads it as {code}")
        return
    clean = re.sub(r"[\s.]", "", raw).upper()
    ci = find(clean)
    suggestion = clean if ci is not None and arr[ci] >= 0 else None
    if "." in raw and raw.strip() and suggestion:
        _w(out, "CODE_DOTTED", field, raw,
           f"{field}: {raw} is not a valid code as written; {suggestion} is")
        return
    if raw != raw.strip() or " " in raw.strip():
        if suggestion:
            _w(out, "CODE_PADDED", field, raw,
               f"{field}: {raw!r} has blanks and is not valid as written; {suggestion} is")
            return
    others = tables.versions_with_code(kind, clean or code)
    if others:
        label = ", ".join(f"{v // 10}.{v % 10}" for v in others)
        _w(out, "CODE_OTHER_VERSION", field, raw,
           f"{field}: {raw} is not valid in grouper v{version // 10}.{version % 10} but is in v{label}")
    elif raw.strip():
        _w(out, "CODE_UNKNOWN", field, raw, f"{field}: {raw!r} is not a code of any grouper version")


def claim_warnings(claim, read: ReadClaim, tables, changes=(), conversions=()) -> tuple[ClaimWarning, ...]:
    """Every warning of a claim (a Claim or a claim mapping) and the way the grouper read it:
    one CODE_NORMALIZED per code the ``normalize`` option cleaned (``changes``: (field, before,
    after)), one CODE_CONVERSION per code the ``convert_codes`` option reported
    (``conversions``: (field, Conversion)), then :func:`check_claim`."""
    if type(claim) is dict:
        claim = without_missing(claim)
    if not changes and not conversions and type(claim) is dict \
            and quick_clean(claim, tables.version(read.version), tables):
        return version_warnings(read.version, tables)      # the clean majority: no Claim built again
    raw = None
    if not isinstance(claim, Claim):
        if isinstance(claim, Mapping):
            raw = (entries(claim.get("sdx")), entries(claim.get("procedures")))
        claim = Claim.from_dict(claim)
    return (tuple(ClaimWarning("CODE_NORMALIZED", f, before, f"{f}: {before!r} read as {after}")
                  for f, before, after in changes)
            + conversion_warnings(conversions, read.version) + check_claim(claim, read, tables, raw_entries=raw))


def conversion_warnings(conversions, version: int) -> tuple[ClaimWarning, ...]:
    """CODE_CONVERSION warnings of the ``convert_codes`` option's (field, Conversion) pairs."""
    out = []
    for field, c in conversions:
        kept = "" if c.status == "CONVERTED" else f"; kept as written (not valid in v{label(version)})"
        out.append(ClaimWarning("CODE_CONVERSION", field, c.code, f"{field}: {c.message}{kept}"))
    return tuple(out)


def _malformed(item, is_sdx: bool) -> str | None:
    """Why a code-list entry as given is not one of the shapes read as a code, or None."""
    item = plain(item)
    if item is None:
        return "is null"
    if isinstance(item, dict):
        return None if "code" in item else "is a mapping without 'code'"
    if is_sdx and isinstance(item, (list, tuple)):
        if not item:
            return "is an empty list"
        if len(item) > 2:
            return f"has {len(item)} items (code, POA and more; the rest is ignored)"
    return None


def _entry_checks(out: list, field: str, item, code, is_sdx: bool) -> None:
    why = _malformed(item, is_sdx) if item is not _NO_RAW else None
    if why is None and code is None:
        why = "has no code"
    if why:
        shapes = "a code, a [code, POA] pair or a {code, poa} mapping" if is_sdx else "a code or a {code} mapping"
        _w(out, "ENTRY_MALFORMED", field, item if item is not _NO_RAW else code,
           f"{field}: the entry {why}, not {shapes}"
           + ("; read as no code ('null'), which CMS does not recognize" if code is None else ""))


_NO_RAW = object()


def check_claim(claim, read: ReadClaim, tables, *, raw_entries=None) -> tuple[ClaimWarning, ...]:
    """Warnings for a raw claim and the way the grouper read it.  ``raw_entries``: the
    secondary-diagnosis and procedure entries as given (before :class:`Claim` read them),
    for the ENTRY_MALFORMED warning's value; without them, an entry with no code is flagged."""
    raw_sdx, raw_pr = raw_entries if raw_entries is not None else ((), ())
    out: list = []
    v = read.version
    _pdx_checks(out, claim.pdx, v, tables)
    seen: dict = {}
    pdx_key = read.pdx.upper()
    for k, d in enumerate(claim.sdx, start=1):
        field = f"sdx[{k}]"
        _entry_checks(out, field, raw_sdx[k - 1] if k <= len(raw_sdx) else _NO_RAW, d.code, True)
        _code_checks(out, field, d.code, v, tables, "dx")
        key = va.read_code(d.code).upper()
        if key == pdx_key and key not in ("", "NULL"):
            _w(out, "DUPLICATE_OF_PDX", field, d.code, f"{field}: {d.code} repeats the principal diagnosis")
        elif key in seen:
            _w(out, "DUPLICATE_SDX", field, d.code, f"{field}: {d.code} repeats sdx[{seen[key]}]")
        else:
            seen[key] = k
        _poa_checks(out, f"{field}.poa", d.poa)
    if len(claim.sdx) > 24:
        _w(out, "TOO_MANY_SDX", "sdx", len(claim.sdx), f"{len(claim.sdx)} secondary diagnoses (more than 24)")
    seen_p: dict = {}
    for k, p in enumerate(claim.procedures, start=1):
        field = f"procedures[{k}]"
        _entry_checks(out, field, raw_pr[k - 1] if k <= len(raw_pr) else _NO_RAW, p, False)
        _code_checks(out, field, p, v, tables, "pr")
        key = va.read_code(p).upper()
        if key in seen_p:
            _w(out, "DUPLICATE_PROCEDURE", field, p, f"{field}: {p} repeats procedures[{seen_p[key]}]")
        else:
            seen_p[key] = k
    if len(claim.procedures) > 25:
        _w(out, "TOO_MANY_PROCEDURES", "procedures", len(claim.procedures),
           f"{len(claim.procedures)} procedures (more than 25)")
    _age_checks(out, claim.age)
    _sex_checks(out, claim.sex)
    _status_checks(out, claim.discharge_status, read.discharge_status)
    if claim.pdx is not None:
        _poa_checks(out, "pdx_poa", claim.pdx_poa, blank_ok=True)
    _hospital_checks(out, claim.hospital_status, read.hospital_status)
    _version_year_check(out, claim.discharge_date, v)
    _admit_checks(out, claim.admit_dx, read.admit_dx, v, tables)
    return tuple(out) + version_warnings(v, tables)


def field_warnings(check: str, field: str, value, version: int | None = None, tables=None) -> list[ClaimWarning]:
    """The warnings :func:`check_claim` gives for one value on its own: ``check`` "pdx",
    "dx" / "pr" (a secondary diagnosis / procedure code, at ``field`` e.g. ``sdx[3]``), "poa"
    (at ``field``), "pdx_poa", "age", "sex", "discharge_status", "hospital_status",
    "discharge_date" or "admit_dx" (the raw value; ``version`` and ``tables`` where the check
    looks codes up).  The batch path computes each distinct value's warnings with it."""
    out: list = []
    if check == "pdx":
        _pdx_checks(out, value, version, tables)
    elif check in ("dx", "pr"):
        _code_checks(out, field, value, version, tables, check)
    elif check == "poa":
        _poa_checks(out, field, value)
    elif check == "pdx_poa":
        _poa_checks(out, "pdx_poa", value, blank_ok=True)
    elif check == "age":
        _age_checks(out, value)
    elif check == "sex":
        _sex_checks(out, value)
    elif check == "discharge_status":
        _status_checks(out, value, va.read_discharge_status(value))
    elif check == "hospital_status":
        _hospital_checks(out, value, va.read_hospital_status(value))
    elif check == "discharge_date":
        _version_year_check(out, value, version)
    elif check == "admit_dx":
        _admit_checks(out, value, None if value is None else va.read_code(value), version, tables)
    else:
        raise ValueError(f"unknown check {check!r}")
    return out


def _pdx_checks(out, pdx, v, tables):
    if pdx is None or (isinstance(pdx, str) and not pdx.strip()):
        _w(out, "PDX_MISSING", "pdx", pdx, "no principal diagnosis: the claim is ungroupable (DRG 999)")
    else:
        _code_checks(out, "pdx", pdx, v, tables, "dx")


def _hospital_checks(out, hs, read):
    if hs is not None and (not isinstance(hs, str) or hs.strip().upper() not in va.HOSPITAL_STATUSES):
        _w(out, "HOSPITAL_STATUS_UNRECOGNIZED", "hospital_status", hs,
           f"hospital status {hs!r} is not NOT_EXEMPT, EXEMPT or UNKNOWN; read as {read}")


def _admit_checks(out, raw, read, v, tables):
    if read not in (None, "", "null"):
        i = tables.dx_id(read.upper())
        if i is None or tables.version(v).dx_mdc[i] < 0:
            _w(out, "INVALID_ADMIT_DX", "admit_dx", raw,
               f"admitting diagnosis {raw!r} is not valid in grouper v{v // 10}.{v % 10}")


def version_warnings(version: int, tables) -> tuple[ClaimWarning, ...]:
    """The warnings every claim grouped under ``version`` with these tables carries, whatever
    its content: WEIGHTS_UNAVAILABLE when the version's fiscal year has no Table 5 here.
    :func:`check_claim` ends with them; a claim :func:`quick_clean` passes has only them."""
    return tables.cached(("version_warnings", version), lambda: _version_warnings(version, tables))


def _version_warnings(version: int, tables) -> tuple[ClaimWarning, ...]:
    fy = fiscal_year(version)
    if fy in tables.fiscal_years:
        return ()
    return (ClaimWarning("WEIGHTS_UNAVAILABLE", "weight", f"FY{fy}",
                         f"grouper v{label(version)} (FY{fy}): weight, GMLOS and AMLOS are None: "
                         f"{tables.missing_weights_message(fy)}"),)


def date_fiscal_year(value) -> int | None:
    """The federal fiscal year of a discharge date (October 1 starts the next year); None when unreadable."""
    if value is None or value == "":
        return None
    try:
        d = parse_date(value)
    except VersionError:
        return None
    return d.year + 1 if d.month >= 10 else d.year


def _version_year_check(out, discharge_date, version: int) -> None:
    """A version that was given (the claim's own, or an override) for a discharge of another fiscal year."""
    fy = date_fiscal_year(discharge_date)
    if fy is not None and fy != fiscal_year(version):
        _w(out, "VERSION_OUTSIDE_FISCAL_YEAR", "version", label(version),
           f"grouper v{label(version)} (FY{fiscal_year(version)}) was used for a discharge on {discharge_date}, in "
           f"FY{fy}: the DRG, weight, GMLOS and AMLOS are FY{fiscal_year(version)}'s")


def _poa_checks(out, field, raw, blank_ok=False):
    read = va.read_poa(raw)
    if read == va.POA_INVALID or (read == "E" and isinstance(raw, str) and raw.strip().upper() != "E") \
            or (read == "E" and not isinstance(raw, str)):
        _w(out, "INVALID_POA", field, raw, f"{field}: POA {raw!r} is not Y/N/U/W/1/E; CMS reads it as {read}")
    elif read == va.POA_BLANK and not blank_ok:
        _w(out, "POA_BLANK", field, raw, f"{field}: POA is blank")


def _age_checks(out, age):
    if age is None:
        _w(out, "AGE_MISSING", "age", age, "no age given (CMS does not use age)")
        return
    if isinstance(age, bool) or not isinstance(age, (int, float, str)):
        _w(out, "AGE_NOT_A_NUMBER", "age", age, f"age {age!r} is not a number")
        return
    try:
        a = float(age)
    except (TypeError, ValueError):
        _w(out, "AGE_NOT_A_NUMBER", "age", age, f"age {age!r} is not a number")
        return
    except OverflowError:                       # a whole number too large for a float
        _w(out, "INVALID_AGE", "age", age, "age is a number far outside 0-124")
        return
    if a != a or not a.is_integer():
        _w(out, "AGE_NOT_A_NUMBER", "age", age, f"age {age!r} is not a whole number")
    elif not 0 <= a <= 124:
        _w(out, "INVALID_AGE", "age", age, f"age {age!r} is outside 0-124")


def _sex_checks(out, sex):
    if sex is None or (isinstance(sex, str) and not sex.strip()):
        _w(out, "SEX_MISSING", "sex", sex, "no sex given; read as unknown")
        return
    ok = (isinstance(sex, str) and sex.strip().upper() in ("M", "F", "U", "MALE", "FEMALE", "1", "2")) or \
         (isinstance(sex, int) and not isinstance(sex, bool) and sex in (1, 2))
    if not ok:
        _w(out, "INVALID_SEX", "sex", sex, f"sex {sex!r} is not M, F or U; read as unknown")


def _status_checks(out, raw, read):
    if raw is None:
        _w(out, "DISCHARGE_STATUS_MISSING", "discharge_status", raw,
           "no discharge status; CMS treats it as invalid (DRG 999 where the logic needs it)")
    elif read is None:
        _w(out, "INVALID_DISCHARGE_STATUS", "discharge_status", raw,
           f"discharge status {raw!r} is not a CMS patient discharge status; CMS treats it as invalid")
    elif isinstance(raw, str):
        _w(out, "DISCHARGE_STATUS_TEXT", "discharge_status", raw,
           f"discharge status given as text {raw!r}; read as {read:02d}")


_POA_PLAIN = frozenset({"Y", "N", "U", "W", "1", "E"})
_PDX_POA_PLAIN = _POA_PLAIN | {"", " "}
_SEX_PLAIN = frozenset({"M", "F", "U"})
_HOSPITAL_PLAIN = frozenset({"NOT_EXEMPT", "EXEMPT", "UNKNOWN"})


_LIST_ONLY = frozenset({list})
_STR_ONLY = frozenset({str})
_TWO = frozenset({2})


def _new_plain_codes() -> tuple[set, set]:
    """The diagnosis and procedure codes of a version found, so far, spelled exactly as the
    tables spell them and valid in it (procedures: not a cluster pseudo-code): bounded by the
    version's code tables, filled as claims show them."""
    return set(), set()


def _plain_dx(code: str, known: set, vt, tables) -> bool:
    i = tables.dx_index.get(code)
    if i is None or vt.dx_mdc[i] < 0:
        return False
    known.add(code)
    return True


def _plain_pr(code: str, known: set, vt, tables) -> bool:
    if code.startswith("Z@"):
        return False
    i = tables.pr_index.get(code)
    if i is None or vt.pr_attr[i] < 0:
        return False
    known.add(code)
    return True


def quick_clean(rec, vt, tables) -> bool:
    """True when a claim mapping certainly draws no warning from :func:`check_claim` but its
    version's (:func:`version_warnings`): every
    field in its plain form (codes exactly as the tables spell them and valid in the
    version, plain POA/sex/status values, no repeats, within the UB-04 limits).  Anything
    else returns False and gets the full check; a test checks that True implies no
    warnings.  ``vt`` is the claim's version's tables (``tables.version(v)``).  This keeps the
    warning pass cheap on clean files: the codes are checked a list at a time against the
    version's codes already found plain and valid (:func:`_new_plain_codes`)."""
    if type(rec) is not dict:
        return False
    plain_dx, plain_pr = tables.cached(("plain codes", vt.version), _new_plain_codes)
    pdx = rec.get("pdx")
    if type(pdx) is not str:
        return False
    if pdx not in plain_dx and not _plain_dx(pdx, plain_dx, vt, tables):
        return False
    p = rec.get("pdx_poa", "Y")
    if p is not None and (type(p) is not str or p not in _PDX_POA_PLAIN):
        return False
    sdx = rec.get("sdx")
    if sdx is not None and type(sdx) is not list:     # a tuple, a numpy array ...: the full check
        return False
    if sdx:
        if len(sdx) > 24 or not _LIST_ONLY.issuperset(map(type, sdx)) \
                or not _TWO.issuperset(map(len, sdx)):
            return False
        codes, poas = zip(*sdx)
        if not (_STR_ONLY.issuperset(map(type, codes)) and _STR_ONLY.issuperset(map(type, poas))
                and _POA_PLAIN.issuperset(poas)):
            return False
        if pdx in codes or len(set(codes)) != len(codes):
            return False
        if not plain_dx.issuperset(codes) and not all(_plain_dx(c, plain_dx, vt, tables) for c in codes):
            return False
    procs = rec.get("procedures")
    if procs is not None and type(procs) is not list:
        return False
    if procs:
        if len(procs) > 25 or not _STR_ONLY.issuperset(map(type, procs)) \
                or len(set(procs)) != len(procs):
            return False
        if not plain_pr.issuperset(procs) and not all(_plain_pr(c, plain_pr, vt, tables) for c in procs):
            return False
    age = rec.get("age")
    if type(age) is not int or not 0 <= age <= 124:
        return False
    sex = rec.get("sex")
    if not ((type(sex) is str and sex in _SEX_PLAIN) or (type(sex) is int and sex in (1, 2))):
        return False
    ds = rec.get("discharge_status")
    if type(ds) is not int or ds not in va.VALID_DISCHARGE_STATUS:
        return False
    hs = rec.get("hospital_status", "NOT_EXEMPT")
    if hs is not None and (type(hs) is not str or hs not in _HOSPITAL_PLAIN):
        return False
    adx = rec.get("admit_dx")
    if adx is not None and adx != "":
        if type(adx) is not str:
            return False
        if adx not in plain_dx and not _plain_dx(adx, plain_dx, vt, tables):
            return False
    dd = rec.get("discharge_date")
    if dd is not None and dd != "" and date_fiscal_year(dd) not in (None, vt.fiscal_year):
        return False
    return True
