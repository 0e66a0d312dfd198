"""Layer 6, entry point -- ``grouper.dask.group_dataframe(ddf, **options)``: the short name of
:func:`grouper.integrations.dask.group_dataframe` (one :func:`grouper.group_batch` per
partition of a Dask DataFrame; ``docs/scale.md``).

May import: :mod:`grouper.integrations` only.  Importing :mod:`grouper` never loads it;
``dask`` (the ``dask`` extra) is imported on first use.
"""
from .integrations.dask import group_dataframe

__all__ = ["group_dataframe"]
