"""Layer 4 -- the CMS Medicare Code Editor (MCE): the edits CMS runs on an inpatient claim
before it is grouped and paid, identical to the CMS MCE 2.0.

    >>> import grouper
    >>> r = grouper.edit({"pdx": "N400", "sdx": [["O80", "Y"]], "age": 70, "sex": "M",
    ...                   "discharge_status": 1, "discharge_date": "2024-03-01", "los": 3})
    >>> r.edit_type, r.edits
    ('PREPAYMENT', {'SEX_CONFLICT': 1, 'AGE_CONFLICT': 1})
    >>> r.sdx[0].edits
    ('AGE_CONFLICT', 'SEX_CONFLICT')

Owns the MCE's logic: its edits (:mod:`.catalog`), what each table attribute means
(:mod:`.rules`), the per-claim editor (:mod:`.engine`, :func:`edit`), the vectorized one
(:mod:`.batch`, :func:`edit_batch`, identical results), its results (:mod:`.result`) and
grouping with the edits alongside (:mod:`.grouping`, ``group_batch(..., edits=True)``).
Claims are read by the one reading stage (:mod:`grouper.reading`: the claim without a grouper
version, and its stay); the tables are data (:mod:`grouper.tables.mce`, built by
``python -m grouper.tables build-mce``).  ``docs/mce.md`` lists every edit with an example.

May import: :mod:`grouper.reading`, :mod:`grouper.tables` (not its builders), and for
:mod:`.grouping` the batch grouper :mod:`grouper.bulk`.  Beside :mod:`grouper.finance` (the
audit lists a claim's MCE edits).
"""
from .catalog import EDIT_NAMES, EDIT_TYPES, EDITS, ICD10_EDITS, EditInfo
from .engine import edit
from .result import WARNING_CODES, CodeEdits, EditResult, edit_fields, edit_reasons

__all__ = ["EDIT_NAMES", "EDIT_TYPES", "EDITS", "ICD10_EDITS", "WARNING_CODES", "CodeEdits", "EditBatch", "EditInfo",
           "EditResult", "edit", "edit_batch", "edit_fields", "edit_reasons"]


def __getattr__(name):
    if name in ("edit_batch", "EditBatch"):       # numpy work, imported on first use
        from . import batch
        return getattr(batch, name)
    raise AttributeError(f"module 'grouper.mce' has no attribute {name!r}")
