"""Grouping with the Medicare Code Editor's edits alongside: ``group_batch(..., edits=True)``.

    >>> import grouper
    >>> out = grouper.group_batch([{"pdx": "I5022", "sex": "M", "age": 70, "discharge_status": 1,
    ...                             "discharge_date": "2025-01-15", "los": 3}], edits=True)
    >>> out.final_drg.tolist(), out.mce_edit_type.tolist(), out.mce_QUESTIONABLE_ADMISSION.tolist()
    ([293], ['NONE'], [0])

The public :func:`grouper.group_batch` is :func:`group_batch` here: the batch grouper
(:func:`grouper.bulk.batch.group_batch`), plus, with ``edits=True``, the vectorized MCE
(:func:`grouper.mce.edit_batch`) on the same claims, read once from the input.
"""
from __future__ import annotations

from ..bulk.batch import BatchResult, Columns
from ..bulk.batch import group_batch as group_claims
from ..reading import records_of
from .catalog import ICD10_EDITS

#: the columns ``edits=True`` adds: the edit type, the count of each edit ICD-10 claims can
#: raise, and the MCE's error for a row it cannot edit (e.g. MISSING_LOS)
EDIT_COLUMNS = ("mce_edit_type", *(f"mce_{name}" for name in ICD10_EDITS), "mce_error", "mce_error_message")


def group_batch(claims, *, version=None, tables=None, details: bool = False, columns=None,
                convert_codes: bool = False, edits: bool = False, los=None, mce_release=None) -> BatchResult:
    """Group many claims; results identical to :func:`grouper.group`, row for row (see
    :func:`grouper.bulk.batch.group_batch` for the inputs, ``version``, ``tables``,
    ``details``, ``columns`` and ``convert_codes``).

    ``edits=True`` adds the Medicare Code Editor's result of each claim as columns
    (:data:`EDIT_COLUMNS`): ``mce_edit_type`` and ``mce_<EDIT>`` counts, identical to
    :func:`grouper.edit` (``los`` and ``mce_release`` as there); a claim the MCE cannot edit
    (no length of stay, age ...) has ``mce_edit_type`` None, zero counts and ``mce_error`` /
    ``mce_error_message``, and is grouped all the same.  With ``convert_codes`` too, the MCE edits
    the codes as billed (those of the discharge date, its own code set), the grouper the
    converted ones."""
    if not edits:
        return group_claims(claims, version=version, tables=tables, details=details, columns=columns,
                            convert_codes=convert_codes)
    if isinstance(claims, Columns):
        records = claims.records
    else:
        records = records_of(claims, columns)     # read the input once for both
    out = group_claims(claims if isinstance(claims, Columns) else records, version=version, tables=tables,
                       details=details, convert_codes=convert_codes)
    from .batch import edit_batch
    edited = edit_batch(records, los, mce_release=mce_release)
    cols = {k: getattr(out, k) for k in out.columns}
    cols.update(edited.fields("mce_"))
    cols["mce_error"] = edited.error
    cols["mce_error_message"] = edited.error_message
    return BatchResult(cols, out.details)
