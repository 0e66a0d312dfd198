"""Layer 6, beside the command line -- grouping DataFrames beyond one machine: Dask and Spark.

Owns :func:`grouper.integrations.dask.group_dataframe` (one :func:`grouper.group_arrow` per
partition of a Dask DataFrame) and :func:`grouper.integrations.spark.group_dataframe` (one per
Arrow batch of a Spark DataFrame, through ``mapInArrow``), and what they share
(:mod:`.batches`: the options, the result columns and their Arrow types, the tables loaded
once per worker process).  Both return the input columns plus the result columns, row for
row; a claim that cannot be grouped gets an ``error_code`` in its row, never a failed job.
May import: every layer below (the public API of :mod:`grouper`); ``pyarrow``, ``pandas``,
``dask`` and ``pyspark`` (optional extras ``dask`` and ``spark``) only inside these modules.
Nothing imports this package: importing :mod:`grouper` never loads it.
"""
