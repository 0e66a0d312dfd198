"""Immutable input value classes: a claim and its secondary diagnoses.

Fields keep what the caller gave (the reading stage, :mod:`grouper.reading.stage`,
decides how the CMS grouper reads each value and what to warn about), converted only
into immutable containers, and numpy values into the Python values they hold
(:func:`plain`: ``np.int64(20)`` is 20, an array a list).
"""
from __future__ import annotations

from typing import Any

import attrs

from .errors import ClaimError


def plain(value):
    """A numpy scalar or array as the Python value it holds (``np.int64(20)`` -> 20,
    ``np.str_`` -> str, an array -> a list, a ``datetime64`` -> a date); anything else as
    given.  numpy is not imported: only its values are recognized."""
    t = type(value)
    if t.__module__ != "numpy":
        return value
    if t.__name__ == "datetime64" or getattr(getattr(value, "dtype", None), "kind", "") == "M":
        value = value.astype("datetime64[D]")          # whole days: a datetime.date (NaT: None)
    tolist = getattr(value, "tolist", None)
    return tolist() if tolist is not None else value


@attrs.frozen
class Diagnosis:
    """A secondary diagnosis with its present-on-admission indicator (missing POA means Y)."""

    code: Any = attrs.field(converter=plain)
    poa: Any = attrs.field(default="Y", converter=plain)


class _Missing:
    """The value of a field that is absent from the input (not even null)."""

    def __repr__(self):
        return "<missing>"


#: The ``pdx`` of a claim mapping that has no ``pdx`` key (reading raises MISSING_PDX).
MISSING = _Missing()

# The plain values whose emptiness (None, "", 0, False, [], {}) means "no codes", as in a
# file's empty field.  Anything else is read as a list of codes, or one code.
_PLAIN = frozenset({str, bytes, list, tuple, dict, int, float, bool})


def no_codes(value) -> bool:
    """Whether a secondary-diagnosis or procedure field holds no codes at all."""
    return value is None or (type(value) in _PLAIN and not value)


def to_diagnosis(item) -> Diagnosis:
    """One secondary-diagnosis entry as given: a code, a ``(code, poa)`` pair (a missing POA
    means Y), a ``{"code", "poa"}`` mapping or a :class:`Diagnosis`.  Anything else (null, a
    mapping without ``code``, an empty list) has no code, and draws an ENTRY_MALFORMED warning."""
    item = plain(item)
    if isinstance(item, Diagnosis):
        return item
    if isinstance(item, dict):
        return Diagnosis(item.get("code"), item.get("poa", "Y"))
    if isinstance(item, (list, tuple)):
        if len(item) == 0:
            return Diagnosis(None, "Y")
        return Diagnosis(item[0], item[1] if len(item) > 1 else "Y")
    return Diagnosis(item, "Y")


def entries(value) -> list:
    """The entries of a code-list field: nothing for an empty field, one entry for a lone
    code (text, a mapping, a non-iterable value), else the items (a numpy array's as Python
    values)."""
    value = plain(value)
    if no_codes(value):
        return []
    if isinstance(value, (str, bytes, dict, Diagnosis)):
        return [value]
    try:
        return list(value)
    except TypeError:
        return [value]


#: characters no code holds: a code-list field given as one text with any of them inside
#: holds several codes
_SEPARATORS = frozenset(" ,;|\t\r\n")


def check_code_text(field: str, value) -> None:
    """CODES_AS_TEXT when a code-list field is one text holding several codes (``"J9601,E119"``,
    ``"J9601 E119"``, ``"J9601,"``): read as one code it would be one unknown code and the codes
    in it silently lost.  One code as text (``"J9601"``, blanks around it) is one entry, as
    before."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    if not isinstance(text, str):
        return
    text = text.strip()
    if _SEPARATORS.isdisjoint(text):
        return
    parts = text.replace(",", " ").replace(";", " ").replace("|", " ").split()
    if not parts:             # separators only: no code to lose (read as one unknown code, warned)
        return
    raise ClaimError("CODES_AS_TEXT", field, value,
                     f"{field} is one text holding several codes ({value!r}): give a list of codes, e.g. {parts!r}")


def _sdx(value) -> tuple[Diagnosis, ...]:
    check_code_text("sdx", value)
    return tuple(map(to_diagnosis, entries(value)))


def procedure_code(item):
    """One procedure entry as given: a code, or a ``{"code"}`` mapping."""
    item = plain(item)
    return plain(item.get("code")) if isinstance(item, dict) else item


def _procs(value) -> tuple:
    check_code_text("procedures", value)
    return tuple(map(procedure_code, entries(value)))


@attrs.frozen
class Claim:
    """One inpatient stay to group.

    ``version`` (431, "43.1") or ``discharge_date`` selects the grouper version;
    ``sdx`` items may be codes, ``(code, poa)`` pairs, ``{"code", "poa"}`` dicts or
    :class:`Diagnosis`; ``hospital_status`` is NOT_EXEMPT (default), EXEMPT or UNKNOWN
    (for HAC/POA processing).  ``age`` is carried but, as in the CMS grouper, not used
    for grouping; neither are ``los`` (length of stay in days) and ``admission_date``,
    which the Medicare Code Editor reads (:func:`grouper.reading.stay.read_stay`).
    """

    pdx: Any = attrs.field(converter=plain)
    sdx: tuple[Diagnosis, ...] = attrs.field(default=(), converter=_sdx)
    procedures: tuple = attrs.field(default=(), converter=_procs)
    pdx_poa: Any = attrs.field(default="Y", converter=plain)
    age: Any = attrs.field(default=None, converter=plain)
    sex: Any = attrs.field(default=None, converter=plain)
    discharge_status: Any = attrs.field(default=None, converter=plain)
    version: Any = attrs.field(default=None, converter=plain)
    discharge_date: Any = attrs.field(default=None, converter=plain)
    admit_dx: Any = attrs.field(default=None, converter=plain)
    admit_dx_poa: Any = attrs.field(default="Y", converter=plain)
    hospital_status: Any = attrs.field(default="NOT_EXEMPT", converter=plain)
    id: Any = attrs.field(default=None, converter=plain)
    los: Any = attrs.field(default=None, converter=plain)
    admission_date: Any = attrs.field(default=None, converter=plain)

    @classmethod
    def from_dict(cls, d: dict) -> Claim:
        """A claim from the JSON-lines schema of the labelled claims (extra keys ignored).
        A missing ``pdx`` key is kept as missing (grouping raises ClaimError MISSING_PDX); a
        value pandas or numpy uses for "missing" reads as None (:func:`without_missing`)."""
        d = without_missing(d)
        return cls(
            pdx=d["pdx"] if "pdx" in d else MISSING, sdx=d.get("sdx"), procedures=d.get("procedures"),
            pdx_poa=d.get("pdx_poa", "Y"), age=d.get("age"), sex=d.get("sex"),
            discharge_status=d.get("discharge_status"), version=d.get("version"),
            discharge_date=d.get("discharge_date"), admit_dx=d.get("admit_dx"),
            admit_dx_poa=d.get("admit_dx_poa", "Y"),
            hospital_status=d.get("hospital_status", "NOT_EXEMPT"), id=d.get("id"),
            los=d.get("los"), admission_date=d.get("admission_date"),
        )


#: value types that are never a "missing" marker (checked first: most claims hold only these)
PLAIN_TYPES = frozenset({str, int, bool, list, dict, tuple, type(None)})


def is_missing(v) -> bool:
    """Whether a value is one of the markers pandas and numpy use for an empty cell: a float
    NaN (Python's or numpy's), ``pandas.NA``, ``NaT`` (pandas' or numpy's)."""
    if type(v) in PLAIN_TYPES:
        return False
    if type(v).__name__ == "NAType":          # pandas.NA: comparing it gives NA, not a bool
        return True
    try:
        return bool(v != v)                   # NaN and NaT are not equal to themselves
    except (TypeError, ValueError):           # an array (ambiguous truth value), an odd object
        return False


def without_missing(d):
    """A claim mapping with every "missing" marker (:func:`is_missing`) replaced by None, as JSON's
    null reads: ``df.to_dict("records")`` gives NaN for an empty cell.  The mapping itself when
    it has none (the common case: one pass over the value types)."""
    values = d.values()
    if PLAIN_TYPES.issuperset(map(type, values)):
        return d
    if not any(map(is_missing, values)):
        return d
    return {k: (None if is_missing(v) else v) for k, v in d.items()}
