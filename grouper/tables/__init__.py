"""Layer 0 -- data: the compiled CMS MS-DRG tables, their loading, version selection and look-ups.

    >>> from grouper import tables
    >>> tables.diagnosis("I5023", version=431).severity
    'MCC'
    >>> tables.drg(291, fy=2026).weight
    1.2838

Owns the runtime side of the data: the table files and their container format
(:mod:`.container`, :mod:`.files`: checked against ``MANIFEST.json``), the table set and
one version's tables (:mod:`.store`), the version calendar (:mod:`.versions`), look-ups
(:mod:`.lookup`), ICD-10 code conversion between fiscal years (:mod:`.convert`) and the
IPPS payment parameters (:mod:`.ipps`).  Tables are loaded
lazily, once per version.  May import: numpy, attrs -- nothing else of the grouper.

The build-only sub-package :mod:`grouper.tables.build` turns CMS's release files into
these tables (``python -m grouper.tables build``); the runtime never imports it.
"""
from __future__ import annotations

import os
from functools import cache

from .store import TableIntegrityError, TableSet, VersionTables, default_tables_path
from .store import default_tables_dir as default_tables_dir  # re-exported (benchmarks/tables_load.py)
from .versions import VersionError, effective_ranges, fiscal_year, label, parse_version


@cache
def _default(directory: str) -> TableSet:
    return TableSet(directory)


@cache
def _resolved(env: str | None) -> str:
    return default_tables_path()


def default() -> TableSet:
    """The table set of the default folder (``$GROUPER_TABLES`` or the repository's ``tables/``),
    resolved on first use in the process (``reset_default()`` re-reads the variable)."""
    got = _DEFAULT.get("tables")
    if got is None:
        got = _DEFAULT["tables"] = _default(_resolved(os.environ.get("GROUPER_TABLES")))
    return got


def reset_default() -> None:
    """Forget the default table set, so that the next use reads ``$GROUPER_TABLES`` again."""
    _DEFAULT.clear()


_DEFAULT: dict = {}      # the default table set once resolved (one lookup per grouped claim)


def load(version=None, discharge_date=None) -> VersionTables:
    """Tables of one grouper version, by number/text ("43.1", 431) or by discharge date."""
    return default().version(version, discharge_date)


def version_for_date(discharge_date) -> int:
    """The grouper version in force on a discharge date (VersionError outside the tables' range)."""
    return default().resolve(discharge_date=discharge_date)


__all__ = [
    "DiagnosisInfo", "DrgInfo", "ProcedureInfo", "TableIntegrityError", "TableSet", "VersionError",
    "VersionTables", "default", "reset_default", "diagnosis", "drg", "effective_ranges", "fiscal_year", "label", "load",
    "parse_version", "procedure", "version_for_date",
]

# the look-ups for people and reports are imported on first use (grouping a claim needs none)
_LOOKUP = frozenset({"DiagnosisInfo", "DrgInfo", "ProcedureInfo", "diagnosis", "drg", "procedure"})


def __getattr__(name):
    if name in _LOOKUP:
        from . import lookup
        return getattr(lookup, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
