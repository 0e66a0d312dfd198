"""Layer 3 -- many claims at once: columnar in, columnar out.

May import: :mod:`grouper.engine`, :mod:`grouper.reading`, :mod:`grouper.tables`.
"""
