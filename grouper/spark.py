"""Layer 6, entry point -- ``grouper.spark.group_dataframe(sdf, **options)``: the short name of
:func:`grouper.integrations.spark.group_dataframe` (one :func:`grouper.group_batch` per Arrow
batch of a Spark DataFrame, through ``mapInArrow``; ``docs/scale.md``).

May import: :mod:`grouper.integrations` only.  Importing :mod:`grouper` never loads it;
``pyspark`` (the ``spark`` extra) is imported on first use.
"""
from .integrations.spark import group_dataframe

__all__ = ["group_dataframe"]
