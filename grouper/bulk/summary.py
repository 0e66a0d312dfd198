"""Claim-level results of a chunk of input rows, as columns: what the command line writes for
``--detail summary`` (CSV, JSON lines, Parquet, Arrow), at the batch path's speed.

A chunk is either file rows (:class:`grouper.io.Row`: claim mappings, or unreadable rows with
their error) or an Arrow table (read a whole column at a time).  Every input row gives one
output row, in order: grouped, or with its error.  The warnings are those of
:func:`grouper.group` (:mod:`grouper.bulk.warnings`).
"""
from __future__ import annotations

import warnings as _warnings
from collections import namedtuple

import numpy as np

from ..reading import ClaimError, claim_warnings, read, read_claim
from .batch import BatchResult, WeightsUnavailableWarning, group_batch
from .warnings import NO_WARNINGS, column_warnings

#: an input row as the summaries take it (the attributes of :class:`grouper.io.Row`)
_Row = namedtuple("_Row", "line claim error kept")

#: the claim-level result fields of a summary row, in output order
SUMMARY_FIELDS = ("version", "initial_drg", "initial_mdc", "final_drg", "final_mdc", "return_code",
                  "initial_return_code", "initial_base_drg", "final_base_drg", "initial_med_surg", "final_med_surg",
                  "initial_severity", "final_severity", "initial_claim_severity", "final_claim_severity",
                  "hac_status", "num_hac_categories_satisfied", "weight", "gmlos", "amlos")


class SummaryChunk:
    """Columns of one chunk's summary rows: ``line`` (the input line or row number), ``id``,
    ``result`` (a :class:`~grouper.BatchResult` aligned with the rows), ``errors`` (per row
    None or ``{code, message, field, value}``), ``warnings`` (per row a tuple of
    :class:`~grouper.ClaimWarning`) and ``kept`` (per row the kept input columns, or None)."""

    def __init__(self, line, ids, result: BatchResult, errors: list, warnings: list, kept=None):
        self.line, self.id, self.result, self.errors, self.warnings, self.kept = \
            line, ids, result, errors, warnings, kept
        self.n = len(errors)
        self.id_array = None         # the ids as the input's Arrow column, when it was one
        self.kept_table = None       # the kept input columns as an Arrow table, when the input was one
        self._bad = None

    @property
    def line(self) -> list:
        """Each row's input line (or row number)."""
        return self._line

    @line.setter
    def line(self, value) -> None:
        self._line = value
        self.line_array = None       # the lines as an int64 array, when given so (set after them)

    @property
    def bad(self) -> np.ndarray:
        """Whether each row carries an error (a bool array)."""
        if self._bad is None:
            errs = self.errors
            if errs.count(None) == len(errs):
                self._bad = np.zeros(self.n, dtype=bool)
            else:
                self._bad = np.array([e is not None for e in errs], dtype=bool)
        return self._bad

    def error_rows(self) -> list[int]:
        """The positions of the rows that carry an error."""
        return np.flatnonzero(self.bad).tolist()

    @classmethod
    def concat(cls, chunks: list) -> SummaryChunk:
        """The rows of several chunks, in order, as one chunk (the ids as Python values)."""
        if len(chunks) == 1:
            return chunks[0]
        res = chunks[0].result
        result = BatchResult({k: np.concatenate([getattr(c.result, k) for c in chunks]) for k in res.columns})
        return cls([x for c in chunks for x in c.line], [x for c in chunks for x in c.id], result,
                   [x for c in chunks for x in c.errors], [x for c in chunks for x in c.warnings],
                   [x for c in chunks for x in (c.kept or [None] * c.n)])

    def records(self) -> list[dict]:
        """One dict per row: id, line, the summary fields, final_drg_description, error, warnings
        (an error row: id, line, error)."""
        cols = {f: _plain(getattr(self.result, f)) for f in SUMMARY_FIELDS + ("final_drg_description",)}
        out = []
        for i in range(self.n):
            err = self.errors[i]
            if err is not None:
                out.append({"id": self.id[i], "line": self.line[i], "error": err})
                continue
            rec = {"id": self.id[i], "line": self.line[i]}
            for f in SUMMARY_FIELDS:
                rec[f] = cols[f][i]
            rec["final_drg_description"] = cols["final_drg_description"][i]
            rec["error"] = None
            ws = self.warnings[i]
            if ws is not None:
                rec["warnings"] = [w.to_dict() for w in ws]
            out.append(rec)
        return out


def _plain(a: np.ndarray) -> list:
    vals = a.tolist()
    if a.dtype.kind == "f":
        vals = [None if x != x else x for x in vals]
    return vals


def _error_dict(e) -> dict:
    v = e.value if isinstance(e.value, (str, int, float, bool, type(None))) else repr(e.value)
    return {"code": e.code, "message": str(e), "field": e.field, "value": v}


def summarize_rows(rows, *, normalize: bool = False, version=None, tables=None, warnings: bool = True,
                   convert_codes: bool = False) -> SummaryChunk:
    """The summary of a chunk of :class:`grouper.io.Row` (unreadable rows keep their error).  With
    ``normalize`` or ``convert_codes`` each claim is read first (those edits made and kept for its
    warnings), then the edited claims are grouped."""
    ts = tables
    if ts is None:
        from ..tables import default
        ts = default()
    claims, where, changes = [], [], {}
    for k, row in enumerate(rows):
        if row.error is None:
            c = row.claim
            if (normalize or convert_codes) and isinstance(c, dict):
                try:
                    got = read(c, ts, version=version, normalize=normalize, convert_codes=convert_codes)
                    c, changes[len(claims)] = got.raw, (got.changes, got.conversions)
                except ClaimError:  # unreadable claims are reported by group_batch
                    pass
            claims.append(c)
            where.append(k)
    n = len(rows)
    sub = _group(claims, version, ts, warnings, changes)
    result = _scatter(sub[0], where, n)
    errors: list = [None] * n
    warns: list = [None if not warnings else NO_WARNINGS] * n
    ids: list = [None] * n
    for j, k in enumerate(where):
        c = claims[j]
        ids[k] = c.get("id") if isinstance(c, dict) else getattr(c, "id", None)
        errors[k] = sub[1][j]
        if warnings:
            warns[k] = sub[2][j]
    for k, row in enumerate(rows):
        if row.error is not None:
            errors[k] = {"code": row.error[0], "message": row.error[1], "field": None, "value": None}
    return SummaryChunk([row.line for row in rows], ids, result, errors, warns, [row.kept for row in rows])


def _group(claims, version, tables, warnings: bool, changes: dict):
    """(BatchResult, error dicts, warnings) of claim mappings."""
    from .columns import Columns
    ts = tables
    if ts is None:
        from ..tables import default
        ts = default()
    cols = Columns.from_records(claims, version=version, tables=ts)
    out = _quiet_batch(cols, version, ts)
    errors = [None if e is None else _error_dict(e) for e in cols.error]
    ws = column_warnings(cols, ts) if warnings else None
    if warnings and changes:       # edited claims: their CODE_NORMALIZED / CODE_CONVERSION warnings come first
        for j, (ch, conv) in changes.items():
            if cols.error[j] is None:
                c = claims[j]
                ws[j] = claim_warnings(c, read_claim(c, int(cols.version[j])), ts, ch, conv)
    return out, errors, ws


def _quiet_batch(cols, version, ts) -> BatchResult:
    """group_batch without its WEIGHTS_UNAVAILABLE UserWarning: each row carries the warning."""
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore", WeightsUnavailableWarning)
        return group_batch(cols, version=version, tables=ts)


def summarize_arrow(table, *, first_line: int = 1, version=None, tables=None, warnings: bool = True,
                    normalize: bool = False, layout=None, convert_codes: bool = False) -> SummaryChunk:
    """The summary of an Arrow table of claims (JSON-lines schema, or the wide layout mapped by
    ``layout``, see :func:`grouper.bulk.arrow.wide_to_schema`); ``line`` counts rows from
    ``first_line``."""
    from ..reading.layout import looks_wide
    from .arrow import columns_from_arrow, wide_to_schema
    if layout is not None or looks_wide(table.column_names):
        table = wide_to_schema(table, layout)
    ts = tables
    if ts is None:
        from ..tables import default
        ts = default()
    n = table.num_rows
    cols = None if (normalize or convert_codes) else columns_from_arrow(table, version=version, tables=ts)
    if cols is None:              # not readable a column at a time (or codes to edit): row by row
        rows = [_Row(first_line + i, rec, None, None) for i, rec in enumerate(table.to_pylist())]
        return summarize_rows(rows, normalize=normalize, version=version, tables=ts, warnings=warnings,
                              convert_codes=convert_codes)
    out = _quiet_batch(cols, version, ts)
    errors: list = [None] * n
    for i in cols.error_rows:
        errors[i] = _error_dict(cols.error[i])
    ws = column_warnings(cols, ts) if warnings else [None] * n
    lines = np.arange(first_line, first_line + n, dtype=np.int64)
    got = SummaryChunk(lines.tolist(), out.id.tolist(), out, errors, ws)
    got.line_array = lines
    if "id" in table.column_names:
        col = table.column("id")
        got.id_array = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    return got


def _scatter(res: BatchResult, where: list, n: int) -> BatchResult:
    """A result for ``n`` rows with ``res``'s rows at positions ``where`` (others empty)."""
    if len(where) == n:
        return res
    cols = {}
    for k in res.columns:
        a = getattr(res, k)
        full = np.full(n, np.nan) if a.dtype.kind == "f" else np.zeros(n, dtype=a.dtype)
        if a.dtype == object:
            full[:] = None
        full[where] = a
        cols[k] = full
    return BatchResult(cols)
