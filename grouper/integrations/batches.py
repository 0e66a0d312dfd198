"""What the Dask and Spark integrations share: the options, the result columns as Arrow, the
tables of a worker process.

A worker groups one batch of rows (a Dask partition, a Spark Arrow batch) with
:func:`grouper.group_arrow`, the same columnar path as the command line's Parquet output, and
returns its result columns, row for row with the batch (:func:`group_arrow`): ``version`` as its
label ("43.1"), the initial and final DRG, MDC, base DRG, medical/surgical, severities, return
codes, HAC status and count, ``weight``, ``gmlos``, ``amlos``, ``final_drg_description``,
``error_code``, ``error_message``, ``error_field`` (:data:`grouper.bulk.results.RESULT_COLUMNS`);
with ``warnings=True`` a ``warnings`` column, with ``convert_codes=True`` a ``conversions``
column (each row's CODE_CONVERSION warnings), with ``edits=True`` the Medicare Code Editor's
``mce_*`` columns.  A row that cannot be grouped has its ``error_code`` and message and nulls
in the grouping columns.  An input column whose name is a result column is kept as
``input_<name>`` (as the command line keeps input columns).

Only the tables' folder travels to the workers (a ``TableSet`` given as ``tables`` is sent as
its folder); each worker process loads a folder once (:func:`tables_for`) and the default
tables once (:func:`grouper.tables.default`).
"""
from __future__ import annotations

import functools
import os

import numpy as np

from ..bulk.results import RESULT_COLUMNS, warning_type
from ..bulk.results import group_arrow as group_table
from ..tables import TableSet

#: the options of ``group_dataframe`` (those of :func:`grouper.group_batch` that make sense for
#: a DataFrame, and ``warnings`` as :func:`grouper.group_arrow` has it)
OPTIONS = ("version", "tables", "columns", "convert_codes", "edits", "los", "mce_release", "warnings")


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
    DataFrame) as an Arrow table, row for row; ``options`` from :func:`worker_options`.  The
    grouping is :func:`grouper.group_arrow`'s; this keeps its result columns and adds the
    optional ones."""
    import pyarrow as pa
    opts = dict(options)
    path = opts.pop("tables", None)
    tables = None if path is None else tables_for(path)
    edits, los, release = opts.pop("edits", False), opts.pop("los", None), opts.pop("mce_release", None)
    convert, warnings = bool(opts.pop("convert_codes", False)), bool(opts.pop("warnings", False))
    out = group_table(claims, version=opts.pop("version", None), tables=tables, columns=opts.get("columns"),
                      warnings=warnings or convert, convert_codes=convert)
    names = list(RESULT_COLUMNS) + (["warnings"] if warnings else [])
    width = len(RESULT_COLUMNS) + (1 if warnings or convert else 0)
    got = out.select(list(range(out.num_columns - width, out.num_columns)))
    cols = {name: got.column(i) for i, name in enumerate(names)}
    if convert:
        cols["conversions"] = _conversions(got.column(got.num_columns - 1))
    if edits:
        cols.update(_edit_columns(claims, opts.get("columns"), los, release))
    return pa.table(cols)


def _conversions(warnings):
    """Per row its CODE_CONVERSION warnings, out of its ``warnings`` list."""
    import pyarrow as pa
    rows = warnings.to_pylist()
    return pa.array([[w for w in ws or () if w["code"] == "CODE_CONVERSION"] for ws in rows], type=warning_type())


def _edit_columns(claims, columns, los, release) -> dict:
    """The Medicare Code Editor's columns of the batch (:data:`grouper.mce.grouping.EDIT_COLUMNS`),
    the claims read once more as records (the MCE's reader)."""
    import pyarrow as pa

    from ..mce.batch import edit_batch
    from ..reading import records_of
    if type(claims).__module__.startswith("pyarrow"):
        claims = claims.to_pylist()
    edited = edit_batch(records_of(claims, columns), los, mce_release=release)
    cols = {}
    for name, a in edited.fields("mce_").items():
        a = np.asarray(a)
        if a.dtype.kind in "iub":
            cols[name] = pa.array(a.astype(np.int32, copy=False), type=pa.int32())
        else:
            cols[name] = pa.array([None if x is None else str(x) for x in a.tolist()], type=pa.string())
    for name, a in (("mce_error", edited.error), ("mce_error_message", edited.error_message)):
        cols[name] = pa.array([None if x is None else str(x) for x in list(a)], type=pa.string())
    return cols


def result_schema(options: dict):
    """The Arrow schema of the result columns for these options."""
    import pyarrow as pa
    empty = pa.table({"pdx": pa.array([], type=pa.string())})
    return group_arrow(empty, options).schema


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
