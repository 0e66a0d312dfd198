"""Layer 3 -- many claims at once: columnar in, columnar out, the same results as the engine.

Owns :class:`.columns.Columns` (the reading stage's columns with code ids and POA classes),
the vectorized core (:mod:`.vector`: the engine's rules applied to numpy columns, once
per distinct value), :func:`.batch.group_batch` and :class:`.batch.BatchResult`, and the
record API that never raises for bad input (:mod:`.records`, used by the command line).
May import: :mod:`grouper.engine`, :mod:`grouper.reading`, :mod:`grouper.tables`.
"""
