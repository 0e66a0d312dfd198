"""Layer 1 -- reading: any input -> the claim as the CMS grouper reads it.

Owns:

* the input value classes :class:`Claim` and :class:`Diagnosis` (:mod:`.claim`);
* :class:`ClaimError` and its catalogue (:mod:`.errors`);
* how CMS reads each raw value -- codes, POA, sex, discharge and hospital status
  (:mod:`.values`);
* the reading stage itself: :func:`read` for one claim and :class:`ReadColumns` for many
  (:mod:`.stage`, :mod:`.columns`) -- every entry point (``group()``, ``group_batch``, a
  file row, Arrow/DataFrame columns) reads through it; the ``normalize`` option
  (:mod:`.normalize`);
* the stay -- discharge date, age, discharge status and length of stay as the Medicare
  Code Editor reads them (:mod:`.stay`: :func:`read_stay`, ``ReadColumns(stay=True)``);
* the warnings about what looked wrong in the input (:mod:`.checks`).

May import: :mod:`grouper.tables` (version resolution; code look-ups for the warnings).
Nothing here knows the grouping rules.
"""
from .checks import (
    WARNING_CODES,
    ClaimWarning,
    check_claim,
    claim_warnings,
    conversion_warnings,
    quick_clean,
    version_warnings,
)
from .claim import Claim, Diagnosis
from .errors import ERROR_CODES, ClaimError
from .normalize import normalize_claim
from .stage import ReadClaim, Reading, read, read_claim, read_mapping, resolve_version
from .values import HospitalStatus

__all__ = ["Claim", "ClaimError", "ClaimWarning", "Diagnosis", "ERROR_CODES", "HospitalStatus", "ReadClaim",
           "ReadColumns", "Reading", "Stay", "WARNING_CODES", "arrays_to_records", "check_claim", "claim_warnings",
           "conversion_warnings", "normalize_claim", "quick_clean", "read", "read_claim", "read_mapping",
           "records_of", "read_stay", "resolve_version", "version_warnings"]

# the columnar reading stage needs numpy: it is imported when first used, so reading one
# claim (grouper.group) never loads numpy; nor does grouping read the stay (the MCE does)
_COLUMNAR = frozenset({"ReadColumns", "arrays_to_records", "records_of"})
_STAY = frozenset({"Stay", "read_stay"})


def __getattr__(name):
    if name in _COLUMNAR:
        from . import columns
        return getattr(columns, name)
    if name in _STAY:
        from . import stay
        return getattr(stay, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
