"""What the Dask and Spark integrations share: the options, the result columns as Arrow, the
tables of a worker process.

A worker groups one batch of rows (a Dask partition, a Spark Arrow batch) with
:func:`grouper.group_batch` and returns the result columns as an Arrow table aligned row for
row with the batch (:func:`group_arrow`).  The result columns are those of
:class:`grouper.BatchResult` without ``id`` (the input's own column): ``version``, the initial
and final DRG, MDC, base DRG, medical/surgical, severities, return codes, HAC status and count,
``weight``, ``gmlos``, ``amlos``, the DRG titles, ``error`` and ``error_message`` (and, with
``edits=True``, the Medicare Code Editor's ``mce_*`` columns).  A row that cannot be grouped
has its ``error`` code and message and nulls in the grouping columns.  An input column whose
name is a result column is kept as ``input_<name>`` (as the command line keeps input columns).

Only the tables' folder travels to the workers (a ``TableSet`` given as ``tables`` is sent as
its folder); each worker process loads a folder once (:func:`tables_for`) and the default
tables once (:func:`grouper.tables.default`).
"""
from __future__ import annotations

import functools
import os

import numpy as np

from ..bulk.batch import COLUMNS as GROUPING_COLUMNS
from ..mce.grouping import group_batch
from ..tables import TableSet

#: the options of :func:`grouper.group_batch` that ``group_dataframe`` takes
OPTIONS = ("version", "tables", "columns", "convert_codes", "edits", "los", "mce_release")

#: the Arrow type of the ``conversions`` column (``convert_codes=True``): per row, the
#: CODE_CONVERSION warnings of its codes
WARNING_FIELDS = ("code", "field", "value", "message")


def worker_options(options: dict) -> dict:
    """The options as sent to the workers: checked on the driver (an unknown option fails the
    call, not a task), the tables as a folder name."""
    if options.get("details"):
        raise ValueError("group_dataframe: details=True (per-code flags) is not available for DataFrames; "
                         "group the claims that need them with grouper.group(claim, details=True)")
    unknown = sorted(set(options) - set(OPTIONS) - {"details"})
    if unknown:
        raise TypeError(f"group_dataframe: unknown option{'s' if len(unknown) > 1 else ''} "
                        f"{', '.join(unknown)} (it takes {', '.join(OPTIONS)})")
    out = {k: v for k, v in options.items() if k != "details"}
    tables = out.get("tables")
    if isinstance(tables, TableSet):
        out["tables"] = str(tables.dir)
    elif tables is not None:
        out["tables"] = os.fspath(tables)
    return out


@functools.lru_cache(maxsize=8)
def tables_for(directory: str) -> TableSet:
    """The table set of a folder, loaded once per process (each version on first use)."""
    return TableSet(directory)


def group_arrow(claims, options: dict):
    """The result columns of a batch of claims (an Arrow table or record batch, or a pandas
    DataFrame) as an Arrow table, row for row; ``options`` from :func:`worker_options`."""
    return _group_arrow(claims, options)


def _group_arrow(claims, options: dict):
    # The one conversion: claims -> records -> group_batch -> Arrow columns.  A reader of
    # Arrow columns straight into Columns, and results built as Arrow arrays, replace this.
    import pyarrow as pa
    opts = dict(options)
    path = opts.pop("tables", None)
    if type(claims).__module__.startswith("pyarrow"):
        claims = _sdx_as_pairs(claims)
    out = group_batch(claims, tables=None if path is None else tables_for(path), **opts)
    failed = np.fromiter((e is not None for e in out.error), dtype=bool, count=len(out.error))
    names, arrays = [], []
    for name in out.columns:
        if name == "id":
            continue
        a = getattr(out, name)
        grouping = name in GROUPING_COLUMNS
        if a.dtype.kind in "iu":
            arr = pa.array(a.astype(np.int32, copy=False), type=pa.int32(), mask=failed if grouping else None)
        elif name == "conversions":
            arr = pa.array([[{k: None if w.get(k) is None else str(w[k]) for k in WARNING_FIELDS} for w in ws or ()]
                            for ws in a.tolist()], type=pa.list_(pa.struct([(k, pa.string()) for k in WARNING_FIELDS])))
        elif a.dtype.kind == "f":
            arr = pa.array(a.astype(np.float64, copy=False), type=pa.float64(),
                           mask=np.isnan(a) | failed if grouping else np.isnan(a))
        else:       # text and reported values (StrEnum members: their value)
            arr = pa.array([None if x is None else str(x) for x in a.tolist()], type=pa.string())
        names.append(name)
        arrays.append(arr)
    return pa.table(arrays, names=names)


def _sdx_as_pairs(table):
    """``sdx`` as ``list<struct<code, poa>>`` rewritten as ``list<list<string>>`` (``[code, poa]``
    pairs, which the reading stage reads about twice as fast as ``{"code", "poa"}`` mappings);
    any other column, or a null item in a list, leaves the table as it is."""
    import pyarrow as pa
    import pyarrow.compute as pc
    if "sdx" not in table.column_names:
        return table
    col = table.column("sdx")
    t = col.type
    if not (pa.types.is_list(t) and pa.types.is_struct(t.value_type)
            and sorted(f.name for f in t.value_type) == ["code", "poa"]
            and all(pa.types.is_string(f.type) for f in t.value_type)):
        return table
    lists = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    items = lists.flatten()
    if items.null_count:
        return table
    n = len(items)
    both = pa.concat_arrays([items.field("code"), items.field("poa")])
    order = np.empty(2 * n, dtype=np.int64)
    order[0::2] = np.arange(n)
    order[1::2] = np.arange(n, 2 * n)
    pairs = pa.ListArray.from_arrays(pa.array(np.arange(0, 2 * n + 1, 2, dtype=np.int32)), both.take(pa.array(order)))
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    offsets = np.zeros(len(lists) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    sdx = pa.ListArray.from_arrays(pa.array(offsets), pairs, mask=lists.is_null() if lists.null_count else None)
    i = table.column_names.index("sdx")
    return table.set_column(i, "sdx", sdx) if isinstance(table, pa.Table) else \
        pa.RecordBatch.from_arrays([sdx if k == i else c for k, c in enumerate(table.columns)],
                                   names=table.column_names)


def result_schema(options: dict):
    """The Arrow schema of the result columns for these options."""
    import pyarrow as pa
    empty = pa.table({"pdx": pa.array([], type=pa.string())})
    return _group_arrow(empty, options).schema


def output_names(input_names, result_names) -> list[str]:
    """The input columns' names in the output: ``input_<name>`` where a result column has the
    name (again, until the name is free)."""
    taken = set(result_names)
    out = []
    for name in input_names:
        while name in taken:
            name = f"input_{name}"
        taken.add(name)
        out.append(name)
    return out
