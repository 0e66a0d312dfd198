"""The stay: what the Medicare Code Editor reads beyond the grouper's reading.

The MCE edits a claim by its discharge date, the patient's age, the discharge status as a
number (checked against the MCE's own dated list, not the grouper's) and the length of stay.
The grouper needs none of them, so :func:`~grouper.reading.stage.read` does not read them;
:func:`read_stay` does, from the same inputs (a claim mapping in the JSON-lines schema, a
:class:`~grouper.reading.claim.Claim`, another mapping), and never guesses one:

* ``discharge_date`` (a date, ``YYYY-MM-DD`` or ``YYYYMMDD``): missing ->
  ClaimError ``MISSING_DISCHARGE_DATE``, unreadable -> ``BAD_DATE``;
* ``age`` in whole years: ``MISSING_AGE`` / ``BAD_AGE``;
* ``discharge_status``, a whole number: ``MISSING_DISCHARGE_STATUS`` / ``BAD_DISCHARGE_STATUS``;
* ``los`` in whole days >= 0, else the days from ``admission_date`` to the discharge date:
  ``MISSING_LOS`` / ``BAD_LOS`` (also when the two are given and disagree).

Whole numbers that CMS finds invalid (an age of 130, status 8) are read: they are MCE edits,
not errors.  :class:`~grouper.reading.columns.ReadColumns` reads the same values for many
claims (``stay=True``).
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping

import attrs

from ..tables.versions import VersionError, parse_date
from .claim import Claim, plain
from .errors import ClaimError
from .values import read_whole


@attrs.frozen
class Stay:
    """The stay of a claim: discharge date as ``yyyymmdd``, age in years, discharge status as
    given (a whole number), length of stay in days."""

    discharge_date: int
    age: int
    discharge_status: int
    los: int


def _shown(value) -> str:
    """``repr(value)`` for a message, or a placeholder for a value without one (an integer of
    more digits than Python converts)."""
    try:
        return repr(value)
    except (ValueError, RecursionError):
        return f"<{type(value).__name__}>"


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _whole(value, field: str, code: str, label: str) -> int:
    if _blank(value):
        raise ClaimError("MISSING_" + code, field, value, f"the MCE needs the {label} ('{field}')")
    n = read_whole(value)
    if n is None:
        raise ClaimError("BAD_" + code, field, value, f"{field}: {_shown(value)} is not a whole number ({label})")
    return n


_DATES: dict = {}          # memo of dates given as text (files repeat them); the reading is pure


def read_date(value) -> int:
    """A discharge date as ``yyyymmdd``; ClaimError MISSING_DISCHARGE_DATE or BAD_DATE."""
    if type(value) is str:
        got = _DATES.get(value)
        if got is None:
            got = _read_date(value, "discharge_date")
            if len(_DATES) < 20_000:
                _DATES[value] = got
        return got
    return _read_date(value, "discharge_date")


def _read_date(value, field: str) -> int:
    value = plain(value)                    # a numpy datetime64 is the date it holds
    if _blank(value):
        raise ClaimError("MISSING_DISCHARGE_DATE", field, value, f"the MCE needs the discharge date ('{field}')")
    try:
        d = parse_date(value)
    except VersionError:
        raise ClaimError("BAD_DATE", field, value, f"not a discharge date: {_shown(value)} (use YYYY-MM-DD)") from None
    return d.year * 10000 + d.month * 100 + d.day


def read_age(value) -> int:
    """The age in whole years (any whole number: an age CMS finds invalid is an MCE edit)."""
    return value if type(value) is int else _whole(value, "age", "AGE", "age in years")


def read_status_number(value) -> int:
    """The patient discharge status as a whole number (the MCE checks it against its own list)."""
    return value if type(value) is int else _whole(value, "discharge_status", "DISCHARGE_STATUS",
                                                    "patient discharge status")


def read_los(los, admission_date=None, discharge_date: int | None = None) -> int:
    """The length of stay in days: ``los`` (a whole number >= 0), else the days from
    ``admission_date`` to ``discharge_date`` (``yyyymmdd``); both given must agree."""
    if type(los) is int and los >= 0 and _blank(admission_date):
        return los
    from_dates = None
    admission_date = plain(admission_date)
    if not _blank(admission_date) and discharge_date is not None:
        try:
            a = parse_date(admission_date)
        except VersionError:
            raise ClaimError("BAD_LOS", "admission_date", admission_date,
                             f"not an admission date: {_shown(admission_date)} (use YYYY-MM-DD)") from None
        d = _dt.date(discharge_date // 10000, discharge_date // 100 % 100, discharge_date % 100)
        from_dates = (d - a).days
        if from_dates < 0:
            raise ClaimError("BAD_LOS", "admission_date", admission_date,
                             f"the admission date {a} is after the discharge date {d}")
    if _blank(los):
        if from_dates is None:
            raise ClaimError("MISSING_LOS", "los", los,
                             "the MCE needs the length of stay ('los', days) or the admission date")
        return from_dates
    n = _whole(los, "los", "LOS", "length of stay in days")
    if n < 0:
        raise ClaimError("BAD_LOS", "los", los, f"los: {_shown(los)} is negative (length of stay in days)")
    if from_dates is not None and from_dates != n:
        raise ClaimError("BAD_LOS", "los", los, f"los {n} disagrees with the admission date {admission_date} "
                                                f"({from_dates} days before the discharge)")
    return n


def read_stay(claim, los=None) -> Stay:
    """The stay of a claim (a mapping in the JSON-lines schema or a :class:`Claim`); ``los``
    overrides the claim's own.  Values are read in this order, the first missing or
    unreadable one raising :class:`ClaimError`: discharge date, age, discharge status, los."""
    if isinstance(claim, Claim):
        date, age, status = claim.discharge_date, claim.age, claim.discharge_status
        given_los, admission = claim.los, claim.admission_date
    elif isinstance(claim, Mapping):
        get = claim.get
        date, age, status = get("discharge_date"), get("age"), get("discharge_status")
        given_los, admission = get("los"), get("admission_date")
    else:
        raise ClaimError("NOT_A_CLAIM", "claim", type(claim).__name__,
                         f"expected a grouper.Claim or a mapping, got {type(claim).__name__}")
    d = read_date(date)
    return Stay(d, read_age(age), read_status_number(status),
                read_los(los if los is not None else given_los, admission, d))
