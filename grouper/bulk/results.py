"""Results as Arrow columns: :func:`group_arrow` groups an Arrow table (or record batch, or a
pandas / polars DataFrame) and returns its columns with the result columns appended, the
building block of Parquet output and of the Dask / Spark integrations.

    >>> import pyarrow as pa, grouper
    >>> t = pa.table({"id": ["a"], "version": [431], "pdx": ["I5022"],
    ...               "sdx": [[{"code": "J9601", "poa": "Y"}]], "procedures": [[]]})
    >>> out = grouper.group_arrow(t)
    >>> out.column("final_drg").to_pylist(), out.column("input_version").to_pylist()
    ([291], [431])

The result columns (:func:`result_schema`): ``version`` as its label ("43.1"), the DRGs,
MDCs and counts as int32, return codes, severities, medical/surgical and HAC status as text,
``weight``/``gmlos``/``amlos`` as float64, ``final_drg_description``, and ``error_code``,
``error_message``, ``error_field`` (null on grouped rows; the result fields are null on rows
that cannot be grouped); with ``warnings=True`` a ``warnings`` column
``list<struct<code, field, value, message>>``.  An input column whose name is a result
column's is kept as ``input_<name>``.  Results are those of :func:`grouper.group`, row for row.
"""
from __future__ import annotations

import numpy as np

from .arrow import as_arrow, require_pyarrow
from .summary import SUMMARY_FIELDS, summarize_arrow

#: the result columns, in order (``warnings`` only with ``warnings=True``)
RESULT_COLUMNS = SUMMARY_FIELDS + ("final_drg_description", "error_code", "error_message", "error_field")
INT_FIELDS = frozenset({"initial_drg", "initial_mdc", "final_drg", "final_mdc", "initial_base_drg", "final_base_drg",
                        "num_hac_categories_satisfied"})
FLOAT_FIELDS = frozenset({"weight", "gmlos", "amlos"})
#: rows grouped at a time (memory is bounded by this, not by the table)
SLICE = 100_000


def _type(pa, name: str):
    if name in INT_FIELDS:
        return pa.int32()
    if name in FLOAT_FIELDS:
        return pa.float64()
    return pa.string()


def warning_type():
    pa = require_pyarrow()
    return pa.list_(pa.struct([("code", pa.string()), ("field", pa.string()), ("value", pa.string()),
                               ("message", pa.string())]))


def result_fields(*, warnings: bool = False) -> list:
    """The result columns as Arrow fields (what :func:`group_arrow` appends)."""
    pa = require_pyarrow()
    fields = [pa.field(name, _type(pa, name)) for name in RESULT_COLUMNS]
    if warnings:
        fields.append(pa.field("warnings", warning_type()))
    return fields


def input_name(name: str, taken) -> str:
    """The output name of an input column: ``input_<name>`` when a result column has its name."""
    return f"input_{name}" if name in taken else name


def result_schema(input_schema, *, warnings: bool = False):
    """The schema :func:`group_arrow` returns for an input of ``input_schema`` (e.g. for Spark's
    ``mapInArrow``, which needs it before any row is grouped)."""
    pa = require_pyarrow()
    res = result_fields(warnings=warnings)
    taken = {f.name for f in res}
    return pa.schema([f.with_name(input_name(f.name, taken)) for f in input_schema] + res)


def group_arrow(data, *, version=None, tables=None, columns=None, warnings: bool = False,
                convert_codes: bool = False):
    """Group every row of an Arrow table or record batch (or a pandas / polars DataFrame) in the
    JSON-lines schema (``pdx``, ``pdx_poa``, ``sdx`` as ``list<struct<code, poa>>``,
    ``procedures`` as ``list<string>``, ``version`` or ``discharge_date``, ``sex``, ``age``,
    ``discharge_status`` ...; the wide layout ``DX1``, ``POA1``, ``PX1`` ... mapped with
    ``columns`` as in :func:`grouper.group_batch`).  Returns a ``pyarrow.Table``: the input
    columns, then the result columns (module docstring; :func:`result_schema`).  Read a whole
    column at a time; rows that cannot be grouped carry ``error_code``; nothing is dropped.
    ``convert_codes`` converts each claim's codes to the code set of the version used, as
    :func:`grouper.group` does (row by row; with ``warnings=True`` each conversion is a
    CODE_CONVERSION warning of its row)."""
    pa = require_pyarrow()
    if isinstance(data, pa.RecordBatch):
        table = pa.Table.from_batches([data])
    elif isinstance(data, pa.Table):
        table = data
    else:
        table = as_arrow(data)
        if table is None:
            raise TypeError(f"group_arrow takes an Arrow table or record batch, or a pandas / polars DataFrame, "
                            f"not {type(data).__name__} (use grouper.group_batch for claim mappings)")
    if tables is None:
        from ..tables import default
        tables = default()
    schema = result_schema(table.schema, warnings=warnings)
    parts = []
    for a in range(0, max(table.num_rows, 1), SLICE):
        part = table.slice(a, SLICE)
        chunk = summarize_arrow(part, first_line=a + 1, version=version, tables=tables, warnings=warnings,
                                layout=columns, convert_codes=convert_codes)
        arrays = list(part.columns) + list(result_arrays(chunk, warnings=warnings).values())
        parts.append(pa.Table.from_arrays(arrays, schema=schema))
    return parts[0] if len(parts) == 1 else pa.concat_tables(parts)


def result_arrays(chunk, *, warnings: bool = False) -> dict:
    """The result columns of a :class:`grouper.bulk.summary.SummaryChunk` as Arrow arrays."""
    pa = require_pyarrow()
    bad = chunk.bad
    res = chunk.result
    cols = {"version": version_labels(res.version, bad)}
    any_bad = bool(bad.any())
    mask = bad if any_bad else None
    for f in SUMMARY_FIELDS[1:] + ("final_drg_description",):
        a = getattr(res, f)
        if f in INT_FIELDS:
            cols[f] = pa.array(a.astype(np.int32, copy=False), pa.int32(), mask=mask)
        elif f in FLOAT_FIELDS:
            nan = np.isnan(a)
            cols[f] = pa.array(a, pa.float64(), mask=(bad | nan) if any_bad or nan.any() else None)
        elif f in res.codes:
            cols[f] = coded_texts(a, *res.codes[f], bad if any_bad else None)
        else:
            cols[f] = pa.array(a, pa.string(), mask=mask)
    rows = np.flatnonzero(bad).tolist()
    errs = chunk.errors
    for name, key in (("error_code", "code"), ("error_message", "message"), ("error_field", "field")):
        if rows:
            vals = [None] * chunk.n
            for i in rows:
                vals[i] = errs[i][key]
            cols[name] = pa.array(vals, pa.string())
        else:
            cols[name] = pa.nulls(chunk.n, pa.string())
    if warnings:
        cols["warnings"] = warnings_array(chunk.warnings)
    return cols


def coded_texts(values: np.ndarray, codes: np.ndarray, texts: np.ndarray, mask):
    """A text column as an Arrow string array from its integer codes (``texts[codes]``; where a
    code is -1, the row's own value in ``values``), null where ``mask``: each distinct text
    converted once, the rows taken from them by Arrow."""
    pa = require_pyarrow()
    own = np.flatnonzero(codes < 0) if mask is None else np.flatnonzero((codes < 0) & ~mask)
    if len(own):
        texts = np.concatenate([texts, values[own]])
        codes = codes.copy()
        codes[own] = np.arange(len(texts) - len(own), len(texts), dtype=codes.dtype)
    if mask is not None:
        codes = np.where(mask, 0, codes)
        if not len(texts):
            texts = np.array([None], dtype=object)
    return pa.array(texts, pa.string()).take(pa.array(codes, pa.int32(), mask=mask))


def version_labels(versions: np.ndarray, bad: np.ndarray):
    """The grouper version of each row as its label ("43.1"; null on error rows), as an Arrow
    string array, labelled once per distinct version."""
    pa = require_pyarrow()
    uniq, inv = np.unique(versions, return_inverse=True)
    labels = pa.array([f"{v // 10}.{v % 10}" for v in uniq.tolist()], pa.string())
    return labels.take(pa.array(inv.ravel().astype(np.int32), mask=bad if bad.any() else None))


def warnings_array(warnings: list):
    """Per row its warnings as ``list<struct<code, field, value, message>>`` (value as text)."""
    pa = require_pyarrow()
    item = warning_type().value_type
    n = len(warnings)
    lengths = np.fromiter(map(len, warnings), dtype=np.int32, count=n) if None not in warnings else \
        np.fromiter((len(ws) if ws else 0 for ws in warnings), dtype=np.int32, count=n)
    off = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=off[1:])
    flat = [w for i in np.flatnonzero(lengths).tolist() for w in warnings[i]]
    fields = [pa.array([w.code for w in flat], pa.string()), pa.array([w.field for w in flat], pa.string()),
              pa.array([None if w.value is None else str(w.value) for w in flat], pa.string()),
              pa.array([w.message for w in flat], pa.string())]
    return pa.ListArray.from_arrays(pa.array(off), pa.StructArray.from_arrays(fields, fields=list(item)))


# ------------------------------------------------------------------ full detail as Arrow columns

#: claim-level fields of a full-detail row besides the summary's
FULL_EXTRA = ("admit_dx_flag", "initial_drg_description", "initial_mdc_description", "final_mdc_description",
              "fiscal_year")


def _hac_type(pa):
    return pa.struct([("description", pa.string()), ("hac_list", pa.string()), ("hac_number", pa.int32()),
                      ("hac_status", pa.string())])


def dx_type():
    """A diagnosis' per-code result (``pdx``; ``sdx`` is a list of them)."""
    pa = require_pyarrow()
    return pa.struct([("code", pa.string()), ("poa", pa.string()), ("recognized", pa.bool_()),
                      ("affects_drg", pa.string()), ("initial_severity_usage", pa.string()),
                      ("final_severity_usage", pa.string()), ("poa_error", pa.string()),
                      ("hacs", pa.list_(_hac_type(pa))), ("table_mdc", pa.int32()), ("table_severity", pa.string())])


def procedure_type():
    """A procedure's per-code result (``procedures`` is a list of them)."""
    pa = require_pyarrow()
    return pa.struct([("code", pa.string()), ("recognized", pa.bool_()), ("affects_drg", pa.string()),
                      ("is_or", pa.bool_()), ("hac_usage", pa.list_(pa.string()))])


def full_fields() -> list:
    """The result columns of the full detail (``--detail full`` to Parquet / Arrow): the summary
    columns, :data:`FULL_EXTRA`, the per-code flags as ``pdx`` (struct), ``sdx`` and
    ``procedures`` (lists of structs), and ``warnings``."""
    pa = require_pyarrow()
    fields = result_fields(warnings=False)
    at = len(SUMMARY_FIELDS) + 1                     # after final_drg_description
    extra = [pa.field(name, pa.int32() if name == "fiscal_year" else pa.string()) for name in FULL_EXTRA]
    extra += [pa.field("pdx", dx_type()), pa.field("sdx", pa.list_(dx_type())),
              pa.field("procedures", pa.list_(procedure_type()))]
    return fields[:at] + extra + fields[at:] + [pa.field("warnings", warning_type())]


def full_table(records: list, *, leading=(), kept=(), fields=None, extra=None, error_warnings=None):
    """Full-detail output records (dicts as the JSON lines have them: ``version`` labelled,
    ``error`` a dict or None) as an Arrow table: ``leading`` columns (``line`` an int64, the
    others, e.g. ``id``, by :func:`text_array`), the ``fields`` columns (default
    :func:`full_fields`; the summary records' are :func:`result_fields` with warnings), the
    ``extra`` columns (name -> Arrow array, e.g. the MCE's), then the ``kept`` input columns (by
    :func:`text_array`; renamed ``input_<name>`` when a result column has the name);
    ``error_warnings`` the warnings of a row that carries an error (the summary columns' ``[]``,
    the full detail's null).  The result columns' types never
    depend on the values: every chunk of a file has the same schema."""
    pa = require_pyarrow()
    fields = full_fields() if fields is None else list(fields)
    extra = extra or {}
    names = {f.name for f in fields} | set(leading) | set(extra)
    rows = []
    for rec in records:
        err = rec.get("error") or None
        row = {k: rec.get(k) for k in leading}
        if err is None:
            for f in fields:
                row[f.name] = rec.get(f.name)
            row["warnings"] = [dict(w, value=None if w.get("value") is None else str(w["value"]))
                               for w in rec.get("warnings") or ()]
        else:
            row["error_code"], row["error_message"] = err.get("code"), err.get("message")
            row["error_field"] = err.get("field")
            row["warnings"] = error_warnings
        rows.append(row)
    cols = {}
    for k in leading:
        vals = [r.get(k) for r in rows]
        cols[k] = pa.array(vals, pa.int64()) if k == "line" else text_array(vals)
    body = pa.Table.from_pylist(rows, schema=pa.schema(fields))
    for f in fields:
        cols[f.name] = body.column(f.name)
    cols.update(extra)
    for k in kept:
        cols[input_name(k, names)] = text_array([rec.get(k) for rec in records])
    return pa.table(cols)


def text_array(values: list):
    """Values read from JSON lines or CSV (ids, kept input columns) as an Arrow string array: a
    text as it is, another value as its JSON text (``5``, ``true``, ``["a"]``), None as null.
    One type whatever the values, so that every chunk of an output file has the same schema (a
    type inferred per chunk -- int ids then text ids, a column null in the first chunk -- could
    not be written after the first)."""
    import json
    pa = require_pyarrow()
    if all(type(v) is str or v is None for v in values):
        return pa.array(values, pa.string())
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode
    return pa.array([v if v is None or type(v) is str else dumps(v) for v in values], pa.string())
