"""Layer 4 -- money: IPPS payment estimates, claim audits and their HTML reports.

Owns :mod:`.payment` (the IPPS operating and capital payment of a stay, with the
arithmetic of every step), :mod:`.audit` (re-group billed claims, explain every DRG
difference, price it) and :mod:`.report` (self-contained HTML reports).  Grouping is the
engine's; payment parameters come from :mod:`grouper.tables.ipps`.  May import:
:mod:`grouper.engine`, :mod:`grouper.reading`, :mod:`grouper.tables` (not the command
line or the file layer: the CLI writes the reports).
"""
