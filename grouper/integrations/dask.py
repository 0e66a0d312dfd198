"""Group a Dask DataFrame: one :func:`grouper.group_arrow` per partition.

    >>> import dask.dataframe as dd, pandas as pd
    >>> from grouper.integrations.dask import group_dataframe
    >>> claims = dd.from_pandas(pd.DataFrame({"id": ["a", "b"], "version": [431, 431],
    ...                                       "pdx": ["I5022", "I5023"]}), npartitions=2)
    >>> out = group_dataframe(claims).compute()
    >>> out[["id", "input_version", "final_drg"]].values.tolist()
    [['a', 431, 293], ['b', 431, 293]]

The claims are rows in the JSON-lines schema (``pdx``, ``sdx`` as lists of ``[code, poa]`` or
``{"code", "poa"}``, ``procedures``, ``age``, ``sex``, ``discharge_status``, ``version`` or
``discharge_date`` ...) or in the wide layout (``columns=``).  The result keeps every input
column (renamed ``input_<name>`` where a result column has the name) and the partitions,
index and row order of the input; see :mod:`grouper.integrations.batches` for the result
columns.  Install with ``pip install 'grouper[dask]'``; ``docs/scale.md`` shows a cluster run.
"""
from __future__ import annotations

from .batches import group_arrow, output_names, worker_options

CODE_LISTS = ("sdx", "procedures")


def group_dataframe(ddf, **options):
    """The claims of a Dask DataFrame grouped, partition by partition: the input columns plus
    the result columns, row for row, lazily (a Dask DataFrame with the right ``meta``).

    ``options`` are those of :func:`grouper.group_batch`: ``version``, ``tables`` (a folder or
    a TableSet; each worker process loads it once), ``columns`` (the wide layout),
    ``convert_codes`` (adds ``conversions``: each row's CODE_CONVERSION warnings), ``edits``,
    ``los``, ``mce_release``; ``warnings`` adds each row's warnings.  A claim that cannot be grouped
    has an ``error_code`` in its row."""
    if not hasattr(ddf, "map_partitions") or not hasattr(ddf, "_meta"):
        raise TypeError(f"group_dataframe takes a Dask DataFrame, got {type(ddf).__name__} (a pandas DataFrame or "
                        f"Arrow table in memory: grouper.group_batch)")
    opts = worker_options(options)
    if "columns" not in opts:
        _check_code_lists(ddf._meta)
    meta = _grouped_partition(ddf._meta, opts)
    return ddf.map_partitions(_grouped_partition, opts, meta=meta, enforce_metadata=False,
                              align_dataframes=False)


def _grouped_partition(part, opts):
    import pandas as pd
    results = group_arrow(_claims(part), opts).to_pandas(types_mapper=_pandas_type)
    results.index = part.index
    left = part.copy(deep=False)
    left.columns = output_names([str(c) for c in part.columns], results.columns)
    return pd.concat([left, results], axis=1)


def _claims(part):
    """A partition's claims as Arrow columns, the form the Spark path reads too: pandas' missing
    values (NaN in a float column, NA, NaT) become nulls -- a missing version is then the claim's
    NO_VERSION, not version NaN.  A column Arrow cannot type (numbers and text mixed in one
    object column) is read from pandas as it is, missing values as None."""
    import pyarrow as pa
    try:
        return pa.Table.from_pandas(part, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return part.astype(object).where(part.notna(), None)


def _check_code_lists(meta) -> None:
    """A code-list column read as text (e.g. by ``dd.from_pandas`` with Dask's
    ``dataframe.convert-string`` on, which turns lists into their repr) would be read as one
    unknown code per claim: refuse it with the fix."""
    import pandas as pd
    for name in CODE_LISTS:
        if name in meta.columns and pd.api.types.is_string_dtype(meta[name].dtype) \
                and meta[name].dtype != object:
            raise ValueError(
                f"group_dataframe: column {name!r} has the text dtype {meta[name].dtype}, not lists of codes "
                f"(dd.from_pandas turns list columns into text while the Dask option dataframe.convert-string is "
                f"on: build the DataFrame under dask.config.set({{'dataframe.convert-string': False}}), read "
                f"Parquet, or give the column an Arrow list dtype)")


def _pandas_type(arrow_type):
    """Nullable pandas dtypes, the same for every partition (an int column with an error row
    stays an int column)."""
    import pandas as pd
    import pyarrow as pa
    if arrow_type == pa.int32():
        return pd.Int32Dtype()
    if arrow_type == pa.string():
        return pd.StringDtype()
    return None
