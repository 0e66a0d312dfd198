"""Layer 4 -- money: IPPS payment estimates, claim audits and their HTML reports.

May import: :mod:`grouper.engine`, :mod:`grouper.reading`, :mod:`grouper.tables`.
"""
