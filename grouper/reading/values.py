"""How the CMS grouper reads each raw input value (43.1 Java release, as the oracle README
documents it and the labelled claims confirm):

* codes are upper-cased and otherwise taken as written (a dotted or padded code is
  simply not found in the tables); a missing code becomes ``"null"``;
* POA: null/""/" " -> blank; one character Y N U W (any case), 1, E -> itself, any
  other single character -> E; a longer text -> INVALID;
* sex: M/F/U, MALE/FEMALE, 1/2 -> male/female; anything else -> unknown;
* discharge status: one of CMS's patient-status integers, else NONE (invalid); a
  whole number written as text or as a float ("20", "20.0", 20.0) is that number;
* hospital status: NOT_EXEMPT (also NON_EXEMPT, the default), EXEMPT, UNKNOWN;
* whole numbers (age, length of stay, the discharge status as the MCE reads it): an
  integer, an integral float or decimal text (:func:`read_whole`).

Age is read for warnings only: CMS does not use it for grouping (the Medicare Code Editor
does, :mod:`.stay`).  Every entry point
reads values with these functions only (per claim in :mod:`.stage`, per column in
:mod:`.columns`); the warnings (:mod:`.checks`) look at the same raw values.  A numpy
value is read as the Python value it holds (:func:`~grouper.reading.claim.plain`).
"""
from __future__ import annotations

from enum import StrEnum

from .claim import entries, plain, procedure_code, to_diagnosis

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


def _text(value) -> str:
    """``str(value)``, or a placeholder for a value that has no text (an integer of more
    digits than Python converts, a structure nested too deeply)."""
    try:
        return str(value)
    except (ValueError, RecursionError):
        return f"<{type(value).__name__} without text>"


def read_code(value) -> str:
    """A diagnosis/procedure code as the grouper sees it (its lookup key is ``.upper()``)."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return value if type(value) is str else str(value)
    value = plain(value)
    if value is None:
        return "null"
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, bool):
        return str(value).lower()
    return _text(value)


#: The reading of the common POA texts (what :func:`read_poa` gives for them), for the fast
#: paths: ``POA_READ.get(text)`` is None for any other value.
POA_READ = {"Y": "Y", "N": "N", "U": "U", "W": "W", "1": "1", "E": "E", "": "", " ": "",
            "y": "Y", "n": "N", "u": "U", "w": "W", "e": "E"}


def read_poa(value) -> str:
    value = plain(value)
    if value is None:
        return POA_BLANK
    s = value if isinstance(value, str) else _text(value)
    if s in ("", " "):
        return POA_BLANK
    if len(s) == 1:
        u = s.upper()
        if u in ("Y", "N", "U", "W", "1", "E"):
            return u
        return "E"
    return POA_INVALID


def read_sex(value) -> int:
    value = plain(value)
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
    value = plain(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        t = value.strip()
        if t.isascii() and 0 < len(t) <= 12:
            whole, dot, zeros = t.partition(".")       # "20.0": a float column written as text
            if whole.isdigit() and (not dot or not zeros.strip("0")):
                value = int(whole)
    if isinstance(value, int):
        return value if value in VALID_DISCHARGE_STATUS else None
    return None


def read_hospital_status(value) -> HospitalStatus:
    value = plain(value)
    if value is None:
        return HospitalStatus.NOT_EXEMPT
    s = _text(value).strip().upper()
    return HOSPITAL_STATUSES.get(s, HospitalStatus.NOT_EXEMPT if s == "" else HospitalStatus.UNKNOWN)


def read_sdx(value) -> list[tuple[str, str]]:
    """The secondary diagnoses of a field, as (code, POA) read by the grouper."""
    out = []
    poa_read = POA_READ.get
    for item in entries(value):
        if type(item) is list and len(item) == 2 and type(item[0]) is str:   # the common shape
            poa = item[1]
            p = poa_read(poa) if type(poa) is str else None
            out.append((item[0], p if p is not None else read_poa(poa)))
        else:
            dx = to_diagnosis(item)
            out.append((read_code(dx.code), read_poa(dx.poa)))
    return out


def read_procedures(value) -> list[str]:
    """The procedure codes of a field, read by the grouper."""
    return [p if type(p) is str else read_code(procedure_code(p)) for p in entries(value)]


def read_whole(value) -> int | None:
    """A whole number from an int (numpy integers too), an integral float or decimal text
    (``" 70"``, ``"+3"``, ``"01"``, ``"70.0"`` as a float column written as text); None for
    anything else (a bool, ``2.5``, ``"3 days"``, text of more than 18 digits)."""
    if type(value) is int:
        return value
    value = plain(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        t = value.strip()
        sign = t[:1] in ("+", "-")
        whole, dot, zeros = t[sign:].partition(".")
        if whole.isascii() and whole.isdigit() and len(whole) <= 18 and (not dot or not zeros.strip("0")):
            return -int(whole) if t[:1] == "-" else int(whole)
    return None
