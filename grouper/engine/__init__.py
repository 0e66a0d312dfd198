"""Layer 2 -- the grouping engine: one claim as read -> its MS-DRG result, stage by stage in CMS order.

One module per stage of CMS's grouper chain, named as CMS names it, each importing only
the stages before it (an import-linter contract):

==================  ===========================================================
:mod:`.codes`       the values results report (StrEnum) and CMS's constants
:mod:`.atoms`       the claim-level atoms of the formula language, declared once
:mod:`.formula`     the formula language: parse, compile to predicates
:mod:`.compiled`    one version's tables compiled for grouping (per-code facts)
:mod:`.preprocess`  look-ups, procedure clusters, claim-level atoms, feature mask
:mod:`.severity`    CC/MCC candidates, exclusions, the level per formula
:mod:`.grouping`    pre-MDC, MDC and reroutes (initial and final grouping)
:mod:`.hac`         HAC/POA processing and the final DRG
:mod:`.marking`     which codes affected the DRG (CMS "marking")
:mod:`.weights`     FY relative weight, GMLOS, AMLOS
:mod:`.result`      the result value classes
:mod:`.pipeline`    :func:`group`: the stages for one claim
==================  ===========================================================

Every rule is written once here; the vectorized core (:mod:`grouper.bulk.vector`) calls
the same functions.  May import: :mod:`grouper.reading` (the claim as read) and
:mod:`grouper.tables`.
"""
