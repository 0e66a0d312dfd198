"""Weights: the final DRG's relative weight, geometric and arithmetic mean length of stay for
the fiscal year of the grouper version (Table 5 of the IPPS final rule; ``tables/fyYYYY.tbl``).

The per-claim result (:mod:`grouper.engine.pipeline`) and the batch columns
(:mod:`grouper.bulk.batch`) both read them through :func:`fiscal_year_weights`.
"""
from __future__ import annotations


def fiscal_year_weights(cv):
    """The Table 5 figures of the version's fiscal year (arrays indexed by DRG: ``weight``,
    ``gmlos``, ``amlos``), or None when the tables have no weights for that year."""
    ts, fy = cv.tables, cv.vt.fiscal_year
    return ts.weights(fy) if fy in ts.fiscal_years else None


def drg_figures(cv, drg: int) -> tuple:
    """(weight, GMLOS, AMLOS) of a DRG; (None, None, None) when the year has no weights or
    Table 5 does not list the DRG."""
    w = fiscal_year_weights(cv)
    return (w.figures[drg] if w is not None else None) or (None, None, None)
