"""Parquet and Arrow IPC output of the commands that write one record per claim (``audit``,
``estimate``, ``edit``): their CSV columns, in the CSV's order, each with one declared Arrow
type, then the kept input columns as text.

A type inferred from each chunk's values would differ between chunks (a column null in the
first chunk, a value absent from some rows) and a later chunk could not be written; declared
types give every chunk, and every file, one schema.  Numbers are numbers (payments and weights
float64, DRGs and MDCs int32), lists are lists of text (``reason_codes``, ``notes`` ...), the MCE's
edit counts one int32 column per edit (null on a row the MCE could not edit, as the CSV leaves
the cell empty), warnings ``list<struct<code, field, value, message>>`` as ``group`` writes them.
"""
from __future__ import annotations

import json
from itertools import islice

#: the column kinds, and how a record's value becomes a cell
TEXT, INT32, INT64, FLOAT, BOOL, TEXTS, WARNINGS = "text", "int32", "int64", "float", "bool", "texts", "warnings"

#: records per Arrow table handed to the writer
CHUNK = 10_000

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def _arrow_type(pa, kind: str):
    from ..bulk.results import warning_type
    return {TEXT: pa.string(), INT32: pa.int32(), INT64: pa.int64(), FLOAT: pa.float64(), BOOL: pa.bool_(),
            TEXTS: pa.list_(pa.string()), WARNINGS: warning_type()}[kind]


def _text(v):
    """A cell of a text column: text as it is; a date, time or decimal as
    :func:`grouper.io.plain_value` writes it in JSON lines; another value as its JSON text
    (``5``, ``true``, ``["a"]``), as ``group`` writes the kept columns of rows read from text."""
    if v is None or type(v) is str:
        return v
    from .. import io as gio
    if not isinstance(v, (int, float, list, tuple, dict)):
        v = gio.plain_value(v)
        if type(v) is str:
            return v
    return _dumps(v)


def _number(v, cast):
    """A cell of a number column; a value that is not a number (never from these commands'
    records) raises rather than being written as something else."""
    if v is None or v == "":
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        from decimal import Decimal
        if not isinstance(v, Decimal):
            raise TypeError(f"not a number: {v!r}")
    return cast(v)


def _texts(v):
    if v is None:
        return None
    return [_text(x) for x in v]


def _warnings(v):
    if v is None:
        return None
    return [{"code": w.get("code"), "field": w.get("field"),
             "value": None if w.get("value") is None else str(w.get("value")), "message": w.get("message")}
            for w in v]


_CELL = {TEXT: _text, INT32: lambda v: _number(v, int), INT64: lambda v: _number(v, int),
         FLOAT: lambda v: _number(v, float), BOOL: lambda v: None if v is None else bool(v), TEXTS: _texts,
         WARNINGS: _warnings}


def schema(columns: dict, kept: list):
    """The Arrow schema of ``columns`` ({name: kind}) followed by the ``kept`` columns (text)."""
    from ..io.arrow import require_pyarrow
    pa = require_pyarrow()
    return pa.schema([pa.field(k, _arrow_type(pa, kind)) for k, kind in columns.items()]
                     + [pa.field(k, pa.string()) for k in kept if k not in columns])


def table(rows: list, columns: dict, kept: list):
    """The Arrow table of ``rows`` (dicts, one per record, as the CSV writer gets them: a value
    per column name; a column a row lacks is null)."""
    from ..io.arrow import require_pyarrow
    pa = require_pyarrow()
    sch = schema(columns, kept)
    arrays = []
    for field in sch:
        kind = columns.get(field.name, TEXT)
        cell = _CELL[kind]
        arrays.append(pa.array([cell(r.get(field.name)) for r in rows], field.type))
    return pa.Table.from_arrays(arrays, schema=sch)


def write_records(writer, records, columns: dict, kept: list, row=None) -> int:
    """Write ``records`` (an iterable, consumed as it is written) to an open
    :class:`grouper.io.arrow.ArrowWriter` in tables of :data:`CHUNK` rows, each record turned
    into its cells by ``row`` (default: as it is); returns the number written.  A file with no
    record still gets the schema."""
    from ..io.arrow import require_pyarrow
    require_pyarrow()
    writer.schema = schema(columns, kept)
    n = 0
    it = iter(records)
    while True:
        chunk = list(islice(it, CHUNK))
        if not chunk:
            return n
        writer.write(table([row(r) for r in chunk] if row is not None else chunk, columns, kept))
        n += len(chunk)
