"""Group a Spark DataFrame: one :func:`grouper.group_arrow` per Arrow batch (``mapInArrow``).

    >>> from grouper.integrations.spark import group_dataframe
    >>> claims = spark.createDataFrame([("a", 431, "I5022", [("J9601", "Y")], [])],
    ...     "id string, version int, pdx string, sdx array<struct<code:string,poa:string>>, procedures array<string>")
    >>> group_dataframe(claims).select("id", "input_version", "final_drg").collect()
    [Row(id='a', input_version=431, final_drg=291)]

The claims are rows in the JSON-lines schema (``pdx`` string, ``sdx`` as
``array<struct<code: string, poa: string>>`` or ``array<array<string>>``, ``procedures`` as
``array<string>``, ``age``, ``sex``, ``discharge_status``, ``version`` or ``discharge_date``
...) or in the wide layout (``columns=``).  The result keeps every input column (renamed
``input_<name>`` where a result column has the name) and its rows in the order of each
partition; its schema is declared up front (no job runs to infer it).  The function sent to
the executors carries the options and the tables' folder only; each executor's Python
process loads the tables once and keeps them while Spark reuses the process
(``spark.python.worker.reuse``, on by default).  See :mod:`grouper.integrations.batches` for
the result columns; install with ``pip install 'grouper[spark]'``; ``docs/scale.md`` shows a
cluster run.
"""
from __future__ import annotations

from .batches import group_arrow, output_names, result_schema, worker_options

CODE_LISTS = ("sdx", "procedures")


def group_dataframe(sdf, **options):
    """The claims of a Spark DataFrame grouped batch by batch: the input columns plus the
    result columns, row for row (a lazy Spark DataFrame).

    ``options`` are those of :func:`grouper.group_batch`: ``version``, ``tables`` (a folder
    readable by every executor, or None for the tables installed with the package),
    ``columns`` (the wide layout), ``convert_codes`` (adds ``conversions``: each row's
    CODE_CONVERSION warnings), ``edits``, ``los``, ``mce_release``.  A claim that cannot be
    grouped has an ``error_code`` in its row; the job does not fail."""
    if not hasattr(sdf, "mapInArrow"):
        raise TypeError(f"group_dataframe takes a Spark DataFrame, got {type(sdf).__name__} (a pandas DataFrame or "
                        f"Arrow table in memory: grouper.group_batch)")
    from pyspark.sql.pandas.types import from_arrow_schema
    from pyspark.sql.types import StringType, StructField, StructType

    opts = worker_options(options)
    if "columns" not in opts:
        for f in sdf.schema.fields:
            if f.name in CODE_LISTS and isinstance(f.dataType, StringType):
                raise ValueError(f"group_dataframe: column {f.name!r} is a string, not an array of codes; "
                                 f"read it as array<struct<code:string,poa:string>> (sdx) or array<string> "
                                 f"(procedures), e.g. with from_json")
    results = from_arrow_schema(result_schema(opts))
    names = output_names(sdf.columns, results.names)
    schema = StructType([StructField(n, f.dataType, f.nullable) for n, f in zip(names, sdf.schema.fields)]
                        + list(results.fields))
    return sdf.mapInArrow(_Grouping(opts, names), schema)


class _Grouping:
    """The function each executor runs on its Arrow batches (picklable: options and names)."""

    def __init__(self, opts: dict, names: list[str]):
        self.opts = opts
        self.names = names

    def __call__(self, batches):
        import pyarrow as pa
        for batch in batches:
            results = group_arrow(batch, self.opts)
            yield pa.RecordBatch.from_arrays(list(batch.columns) + [c.combine_chunks() for c in results.columns],
                                             names=self.names + results.column_names)
