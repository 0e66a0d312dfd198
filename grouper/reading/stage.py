"""Stage 1 — read a claim the way the CMS grouper reads it.

This stage decides, for every raw input value, what the CMS grouper (43.1
Java release, as documented in the oracle README) makes of it; grouping is
identical to CMS's because every entry point goes through here:

* codes are upper-cased and otherwise taken as written (a dotted or padded
  code is simply not found in the tables); a missing code becomes ``"null"``;
* POA: null/""/" " -> blank; one character Y N U W (any case), 1, E -> itself,
  any other single character -> E; a longer text -> INVALID;
* sex: M/F/U, MALE/FEMALE, 1/2 -> male/female; anything else -> unknown;
* discharge status: one of CMS's patient-status integers, else NONE (invalid);
* hospital status: NOT_EXEMPT (also NON_EXEMPT, the default), EXEMPT, UNKNOWN.

Age is read for warnings only: CMS does not use it for grouping.
The warning layer (:mod:`grouper.warnings`) looks at the same raw values.
"""
from __future__ import annotations

import re
from enum import StrEnum

import attrs

from .claim import _to_dx

# CMS patient discharge status codes accepted by the grouper (MsdrgDischargeStatus).
VALID_DISCHARGE_STATUS = frozenset(
    [1, 2, 3, 4, 5, 6, 7, 20, 21, 30, 40, 41, 42, 43, 50, 51, 61, 62, 63, 64, 65, 66, 69, 70]
    + list(range(81, 96)))

SEX_UNKNOWN, SEX_MALE, SEX_FEMALE = 0, 1, 2
POA_BLANK, POA_INVALID = "", "INVALID"


class HospitalStatus(StrEnum):
    """The hospital's HAC/POA status as the CMS grouper reads it (CMS ``MsdrgHospitalStatusOptionFlag``)."""

    NOT_EXEMPT = "NOT_EXEMPT"
    EXEMPT = "EXEMPT"
    UNKNOWN = "UNKNOWN"


HOSPITAL_STATUSES = {"NOT_EXEMPT": HospitalStatus.NOT_EXEMPT, "NON_EXEMPT": HospitalStatus.NOT_EXEMPT,
                     "EXEMPT": HospitalStatus.EXEMPT, "UNKNOWN": HospitalStatus.UNKNOWN}


class ClaimError(ValueError):
    """The input cannot be read as a claim at all.  ``field`` and ``value`` say where."""

    def __init__(self, code: str, field: str, value, message: str):
        super().__init__(message)
        self.code = code
        self.field = field
        self.value = value

    def __reduce__(self):
        return (self.__class__, (self.code, self.field, self.value, str(self)))


@attrs.frozen
class ReadClaim:
    """A claim as the grouper sees it (codes as text, POA/sex/status as CMS values)."""

    version: int
    pdx: str
    pdx_poa: str
    sdx: tuple[tuple[str, str], ...]       # (code, poa)
    procedures: tuple[str, ...]
    sex: int                               # 0 unknown, 1 male, 2 female
    discharge_status: int | None           # None = NONE (invalid / missing)
    hospital_status: HospitalStatus
    admit_dx: str | None


def read_code(value) -> str:
    """A diagnosis/procedure code as the grouper sees it (its lookup key is ``.upper()``)."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


_POA_FAST = {"Y": "Y", "N": "N", "U": "U", "W": "W", "1": "1", "E": "E", "": "", " ": "",
             "y": "Y", "n": "N", "u": "U", "w": "W", "e": "E"}


def read_poa(value) -> str:
    if value is None:
        return POA_BLANK
    s = value if isinstance(value, str) else str(value)
    if s in ("", " "):
        return POA_BLANK
    if len(s) == 1:
        u = s.upper()
        if u in ("Y", "N", "U", "W", "1", "E"):
            return u
        return "E"
    return POA_INVALID


def read_sex(value) -> int:
    if isinstance(value, bool) or value is None:
        return SEX_UNKNOWN
    if isinstance(value, int):
        return {1: SEX_MALE, 2: SEX_FEMALE}.get(value, SEX_UNKNOWN)
    if isinstance(value, str):
        s = value.strip().upper()
        if s in ("M", "MALE", "1"):
            return SEX_MALE
        if s in ("F", "FEMALE", "2"):
            return SEX_FEMALE
    return SEX_UNKNOWN


def read_discharge_status(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        t = value.strip()
        if t.isascii() and t.isdigit():
            value = int(t)
    if isinstance(value, int):
        return value if value in VALID_DISCHARGE_STATUS else None
    return None


def read_hospital_status(value) -> HospitalStatus:
    if value is None:
        return HospitalStatus.NOT_EXEMPT
    s = str(value).strip().upper()
    return HOSPITAL_STATUSES.get(s, HospitalStatus.NOT_EXEMPT if s == "" else HospitalStatus.UNKNOWN)


ERROR_CODES = {
    "NOT_A_CLAIM": "the input is not a claim object/mapping",
    "MISSING_PDX": "the claim has no principal-diagnosis field at all",
    "PDX_NOT_TEXT": "the principal diagnosis is not text (a number, a list, ...)",
    "NO_VERSION": "neither a grouper version nor a discharge date is given",
    "UNKNOWN_VERSION": "the grouper version is not in the compiled tables",
    "DATE_OUT_OF_RANGE": "the discharge date is outside the compiled tables' range",
    "BAD_DATE": "the discharge date cannot be read",
    "UNREADABLE_ROW": "a file row cannot be read (bad JSON/CSV, wrong field count, bad bytes)",
}


def check_readable(claim) -> None:
    """Raise :class:`ClaimError` when the claim cannot be grouped at all."""
    pdx = claim.pdx
    if pdx is _MISSING:
        raise ClaimError("MISSING_PDX", "pdx", None, "the claim has no 'pdx' field")
    if pdx is not None and not isinstance(pdx, (str, bytes)):
        raise ClaimError("PDX_NOT_TEXT", "pdx", pdx,
                         f"the principal diagnosis must be text, got {type(pdx).__name__} {pdx!r}")


class _Missing:
    def __repr__(self):
        return "<missing>"


_MISSING = _Missing()


_CODE_JUNK = re.compile(r"[\s.]")


def normalize_claim(claim):
    """Opt-in cleaning of unambiguous formatting: dots and blanks in codes, letter case of
    codes and POA.  Returns the cleaned claim and (field, before, after) per change."""
    from .claim import Diagnosis
    changes = []

    def clean(field, code):
        if not isinstance(code, str):
            return code
        new = _CODE_JUNK.sub("", code).upper()
        if new != code:
            changes.append((field, code, new))
        return new

    def clean_poa(poa):
        if isinstance(poa, str) and poa.strip() and poa.strip().upper() != poa:
            return poa.strip().upper()
        return poa

    pdx = clean("pdx", claim.pdx)
    sdx = tuple(Diagnosis(clean(f"sdx[{k}]", d.code), clean_poa(d.poa)) for k, d in enumerate(claim.sdx, 1))
    procs = tuple(clean(f"procedures[{k}]", p) for k, p in enumerate(claim.procedures, 1))
    new = attrs.evolve(claim, pdx=pdx, pdx_poa=clean_poa(claim.pdx_poa), sdx=sdx,
                       procedures=procs,
                       admit_dx=clean("admit_dx", claim.admit_dx) if claim.admit_dx is not None else None)
    return new, changes


def read_claim(claim, version: int) -> ReadClaim:
    """Stage entry point: the raw :class:`~grouper.claim.Claim` -> :class:`ReadClaim`."""
    admit = claim.admit_dx
    return ReadClaim(
        version=version,
        pdx=read_code(claim.pdx),
        pdx_poa=POA_BLANK if claim.pdx is None else read_poa(claim.pdx_poa),
        sdx=tuple((read_code(d.code), read_poa(d.poa)) for d in claim.sdx),
        procedures=tuple(read_code(p) for p in claim.procedures),
        sex=read_sex(claim.sex),
        discharge_status=read_discharge_status(claim.discharge_status),
        hospital_status=read_hospital_status(claim.hospital_status),
        admit_dx=None if admit is None else read_code(admit),
    )


_STR_ONLY = frozenset({str})
_LIST_ONLY = frozenset({list})
# memo of the reading of plain field values (str/int/None, as files give them)
_SEX_READ: dict = {}
_STATUS_READ: dict = {}
_HOSPITAL_READ: dict = {}
_PLAIN_VALUE = (str, int, type(None))


def _cached_read(memo: dict, read, value):
    if type(value) in _PLAIN_VALUE:
        got = memo.get(value, memo)
        if got is memo:
            got = read(value)
            if len(memo) < 4096:
                memo[value] = got
        return got
    return read(value)


def read_mapping(d, version: int) -> ReadClaim:
    """:func:`read_claim` for a claim given as a mapping in the JSON-lines schema, without
    building a :class:`~grouper.claim.Claim` (same reading, fast path for the common shapes)."""
    pdx = d.get("pdx")
    sdx_in = d.get("sdx")
    sdx = None
    if type(sdx_in) is list and _LIST_ONLY.issuperset(map(type, sdx_in)):
        # the common shape, [[code, poa], ...] with text codes and plain POA values
        try:
            sdx = [(c, _POA_FAST[q]) for c, q in sdx_in if type(c) is str]
        except (ValueError, KeyError, TypeError):
            sdx = None
        if sdx is not None and len(sdx) != len(sdx_in):
            sdx = None
    if sdx is None:
        sdx = []
    if sdx or not sdx_in:
        pass
    else:
        if isinstance(sdx_in, (str, bytes, dict)):
            sdx_in = [sdx_in]
        try:
            items = list(sdx_in)
        except TypeError:
            items = [sdx_in]
        fast = _POA_FAST
        for item in items:
            if type(item) is list and len(item) == 2 and type(item[0]) is str:
                poa = item[1]
                p = fast.get(poa) if type(poa) is str else None
                sdx.append((item[0], p if p is not None else read_poa(poa)))
            else:
                dx = _to_dx(item)
                sdx.append((read_code(dx.code), read_poa(dx.poa)))
    procs_in = d.get("procedures")
    procs = []
    if type(procs_in) is list and _STR_ONLY.issuperset(map(type, procs_in)):
        procs = procs_in                 # the common shape: a list of code strings
    elif procs_in:
        if isinstance(procs_in, (str, bytes, dict)):
            procs_in = [procs_in]
        try:
            items = list(procs_in)
        except TypeError:
            items = [procs_in]
        for p in items:
            if type(p) is str:
                procs.append(p)
            else:
                procs.append(read_code(p.get("code") if isinstance(p, dict) else p))
    admit = d.get("admit_dx")
    return ReadClaim(
        version=version,
        pdx=read_code(pdx),
        pdx_poa=POA_BLANK if pdx is None else read_poa(d.get("pdx_poa", "Y")),
        sdx=tuple(sdx),
        procedures=tuple(procs),
        sex=_cached_read(_SEX_READ, read_sex, d.get("sex")),
        discharge_status=_cached_read(_STATUS_READ, read_discharge_status, d.get("discharge_status")),
        hospital_status=_cached_read(_HOSPITAL_READ, read_hospital_status, d.get("hospital_status", "NOT_EXEMPT")),
        admit_dx=None if admit is None else read_code(admit),
    )
