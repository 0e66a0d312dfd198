"""Grouper versions and the discharge dates they are in force for.

CMS numbers grouper versions as MS-DRG version x 10 (400 = v40.0, 431 = v43.1).
MS-DRG version N is the classification of fiscal year 1983 + N (v40 = FY2023,
October 1 2022 - September 30 2023); the ``.0`` release applies to discharges
from October 1, the ``.1`` release (new ICD-10 codes) from April 1.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datetime as _dt

# datetime is imported where a date is made: grouping one claim by its version needs none

_VERSION_TEXT = re.compile(r"^\s*v?(\d{2})(?:\.(\d))?\s*$", re.IGNORECASE)


class VersionError(ValueError):
    """A version or discharge date that no compiled table covers."""


def fiscal_year(version: int) -> int:
    """Federal fiscal year of a grouper version (431 -> 2026)."""
    return 1983 + version // 10


def label(version: int) -> str:
    """Human label of a version number (431 -> '43.1')."""
    return f"{version // 10}.{version % 10}"


def effective_start(version: int) -> _dt.date:
    """First discharge date on which a version is in force."""
    import datetime as _dt
    fy = fiscal_year(version)
    return _dt.date(fy - 1, 10, 1) if version % 10 == 0 else _dt.date(fy, 4, 1)


def effective_ranges(versions) -> dict[int, tuple[_dt.date, _dt.date]]:
    """Discharge-date range (inclusive) of each version: each runs until the day
    before the next one starts; the last one until the end of its fiscal year."""
    import datetime as _dt
    vs = sorted(versions)
    out = {}
    for i, v in enumerate(vs):
        start = effective_start(v)
        if i + 1 < len(vs):
            end = effective_start(vs[i + 1]) - _dt.timedelta(days=1)
        else:
            end = _dt.date(fiscal_year(v), 9, 30)
        out[v] = (start, end)
    return out


def parse_version(value) -> int:
    """Accept 431, "431", "43.1", "v43.1", 43.1 -> 431.  Raises VersionError."""
    if isinstance(value, bool):
        raise VersionError(f"not a grouper version: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not (0 < value < 10000):
            raise VersionError(f"not a grouper version: {value!r}")
        if value >= 100:
            if value.is_integer():
                return int(value)
            raise VersionError(f"not a grouper version: {value!r}")
        return int(round(value * 10))
    if isinstance(value, str):
        s = value.strip()
        if s.isdigit() and len(s) == 3:
            return int(s)
        m = _VERSION_TEXT.match(s)
        if m:
            return int(m.group(1)) * 10 + int(m.group(2) or 0)
    raise VersionError(f"not a grouper version: {value!r} (use e.g. 431, '431' or '43.1')")


def parse_date(value) -> _dt.date:
    """A discharge date from a date, datetime or ISO text ('2026-03-31', '20260331')."""
    import datetime as _dt
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        s = value.strip()
        try:
            if len(s) == 8 and s.isdigit():
                return _dt.date(int(s[:4]), int(s[4:6]), int(s[6:]))
            return _dt.date.fromisoformat(s[:10])
        except ValueError:
            pass
    raise VersionError(f"not a discharge date: {value!r} (use YYYY-MM-DD)")
