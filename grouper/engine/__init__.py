"""Layer 2 -- the grouping engine: one claim as read -> its MS-DRG result, stage by stage in CMS order.

May import: :mod:`grouper.reading` and :mod:`grouper.tables`.
"""
