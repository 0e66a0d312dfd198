"""The reading stage: any claim input -> the claim as the CMS grouper reads it.

CMS's grouper starts by validating its input (``RuntimeDataValidation``) and reading each
value (:mod:`.values`).  Here that is one stage, and every entry point goes through it:

* :func:`read` for one claim -- a mapping in the JSON-lines schema (a file row, a CSV row
  read by :mod:`grouper.io`, a dict), a :class:`~grouper.reading.claim.Claim`, or another
  mapping; used by :func:`grouper.group` and by the batch path for non-mapping rows;
* :meth:`grouper.reading.columns.ReadColumns.from_records` for many claims (the batch
  path's columns), with the same checks and value readings.

What can make a claim unreadable is decided here, once, as a :class:`ClaimError`: not a
claim at all, no ``pdx`` field, a principal diagnosis that is not text, no usable
version or discharge date.  Everything else is read the way CMS reads it; what looked
odd is reported by the warnings (:mod:`.checks`), never changed.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import attrs

from ..tables.versions import VersionError
from .claim import MISSING, Claim, check_code_text, plain, without_missing
from .errors import ClaimError
from .normalize import normalize_claim
from .values import (
    POA_BLANK,
    POA_READ,
    HospitalStatus,
    read_code,
    read_discharge_status,
    read_hospital_status,
    read_poa,
    read_procedures,
    read_sdx,
    read_sex,
)


@attrs.frozen
class ReadClaim:
    """A claim as the grouper sees it (codes as text, POA/sex/status as CMS values).
    ``version`` is None when it was not resolved (``read(..., resolve=False)``)."""

    version: int | None
    pdx: str
    pdx_poa: str
    sdx: tuple[tuple[str, str], ...]       # (code, poa)
    procedures: tuple[str, ...]
    sex: int                               # 0 unknown, 1 male, 2 female
    discharge_status: int | None           # None = NONE (invalid / missing)
    hospital_status: HospitalStatus
    admit_dx: str | None


class Reading(NamedTuple):
    """The outcome of the reading stage for one claim."""

    raw: object          # the claim as given (a dict, or a Claim), kept for the warnings
    claim: ReadClaim     # the claim as read, version resolved
    changes: tuple       # (field, before, after) of each code the ``normalize`` option cleaned
    conversions: tuple = ()   # (field, Conversion) of each code the ``convert_codes`` option reports


def read(claim, tables, *, version=None, normalize: bool = False, convert_codes: bool = False,
         resolve: bool = True) -> Reading:
    """Read one claim: a dict in the JSON-lines schema, a :class:`Claim` or another mapping.

    ``version`` overrides the claim's own version / discharge date; ``normalize`` cleans
    unambiguous code formatting first (:func:`~grouper.reading.normalize.normalize_claim`);
    ``convert_codes`` then converts the codes from the code set of the claim's discharge date
    to that of the version used (:func:`~grouper.reading.convert.convert_claim`).  ``raw`` is
    the claim after both.  ``resolve=False`` reads the claim without its grouper version
    (``tables`` unused, the version None): the Medicare Code Editor goes by the discharge date
    instead.  Raises :class:`ClaimError` when the claim cannot be grouped (read) at all."""
    if type(claim) is dict:
        claim = without_missing(claim)
    if type(claim) is dict and not normalize and not convert_codes:
        # the common input: read the mapping directly (no Claim object is built)
        if type(claim.get("pdx")) is not str:
            check_mapping_pdx(claim)
        check_code_lists(claim)
        v = resolve_version(tables, claim.get("version"), claim.get("discharge_date"), version) if resolve else None
        return Reading(claim, read_mapping(claim, v), ())
    claim = as_claim(claim)
    check_pdx(claim.pdx)
    v = resolve_version(tables, claim.version, claim.discharge_date, version) if resolve else None
    changes = conversions = ()
    if normalize:
        claim, changes = normalize_claim(claim)
    if convert_codes:
        from .convert import convert_claim  # the conversion tables: only for convert_codes
        claim, conversions = convert_claim(claim, tables, v)
    return Reading(claim, read_claim(claim, v), tuple(changes), conversions)


def as_claim(claim) -> Claim:
    """A :class:`Claim` from a Claim or a mapping (NOT_A_CLAIM for anything else)."""
    if isinstance(claim, Claim):
        return claim
    if isinstance(claim, Mapping):
        try:
            return Claim.from_dict(claim)
        except ClaimError:        # a converter's own specific error (CODES_AS_TEXT)
            raise
        except Exception as exc:  # a mapping whose values break the converters
            raise ClaimError("NOT_A_CLAIM", "claim", None, f"cannot read the claim: {exc}") from None
    raise ClaimError("NOT_A_CLAIM", "claim", type(claim).__name__,
                     f"expected a grouper.Claim or a mapping, got {type(claim).__name__}")


def check_pdx(pdx) -> None:
    """MISSING_PDX when the claim has no principal-diagnosis field, PDX_NOT_TEXT when it is
    not text (a missing code, null, is readable: CMS groups it to DRG 999)."""
    if pdx is MISSING:
        raise ClaimError("MISSING_PDX", "pdx", None, "the claim has no 'pdx' field")
    if pdx is not None and not isinstance(pdx, (str, bytes)):
        raise ClaimError("PDX_NOT_TEXT", "pdx", pdx,
                         f"the principal diagnosis must be text, got {type(pdx).__name__} {pdx!r}")


def check_mapping_pdx(d: dict) -> None:
    """:func:`check_pdx` for a claim mapping (a mapping that is not a claim at all is
    reported as such first, as :func:`as_claim` would)."""
    if "pdx" not in d:
        raise ClaimError("MISSING_PDX", "pdx", None, "the claim has no 'pdx' field")
    pdx = d["pdx"]
    if pdx is not None and not isinstance(pdx, (str, bytes)):
        check_pdx(as_claim(d).pdx)


def check_code_lists(d: dict) -> None:
    """CODES_AS_TEXT for a claim mapping whose ``sdx`` or ``procedures`` is one text holding
    several codes (:func:`~grouper.reading.claim.check_code_text`)."""
    for field in ("sdx", "procedures"):
        value = d.get(field)
        if type(value) is str or type(value) is bytes:
            check_code_text(field, value)


def resolve_version(tables, version=None, discharge_date=None, override=None) -> int:
    """The grouper version of a claim: the ``override``, else the claim's ``version``, else
    its ``discharge_date``; a ClaimError (UNKNOWN_VERSION, BAD_DATE, DATE_OUT_OF_RANGE,
    NO_VERSION) when it cannot be determined."""
    if override is None and type(version) is int:      # the common claim: its version as a number
        try:
            return tables.resolve(version)
        except VersionError:
            pass                                         # said below, as for any other value
    version, discharge_date, override = plain(version), plain(discharge_date), plain(override)
    try:
        if override is not None:
            return tables.resolve(override)
        if version is not None and version != "":
            return tables.resolve(version)
        if discharge_date is not None and discharge_date != "":
            return tables.resolve(discharge_date=discharge_date)
    except VersionError as exc:
        msg = str(exc)
        if override is not None or (version is not None and version != ""):
            raise ClaimError("UNKNOWN_VERSION", "version", override if override is not None else version,
                             msg) from None
        code = "BAD_DATE" if msg.startswith("not a discharge date") else "DATE_OUT_OF_RANGE"
        raise ClaimError(code, "discharge_date", discharge_date, msg) from None
    raise ClaimError("NO_VERSION", "version", None,
                     "give the claim a grouper version (e.g. 431 or '43.1') or a discharge date")


def read_claim(claim: Claim, version: int | None) -> ReadClaim:
    """A :class:`Claim` as the grouper reads it."""
    admit = claim.admit_dx
    return ReadClaim(
        version=version,
        pdx=read_code(claim.pdx),
        pdx_poa=POA_BLANK if claim.pdx is None else read_poa(claim.pdx_poa),
        sdx=tuple((read_code(d.code), read_poa(d.poa)) for d in claim.sdx),
        procedures=tuple(read_code(p) for p in claim.procedures),
        sex=read_sex(claim.sex),
        discharge_status=read_discharge_status(claim.discharge_status),
        hospital_status=read_hospital_status(claim.hospital_status),
        admit_dx=None if admit is None else read_code(admit),
    )


_STR_ONLY = frozenset({str})
_LIST_ONLY = frozenset({list})
# memo of the reading of plain field values (str/int/None, as files give them): the
# readings are pure functions, so the memo only saves time
_SEX_READ: dict = {}
_STATUS_READ: dict = {}
_HOSPITAL_READ: dict = {}
_PLAIN_VALUE = (str, int, type(None))


def _cached_read(memo: dict, read_value, value):
    if type(value) in _PLAIN_VALUE:
        got = memo.get(value, memo)
        if got is memo:
            got = read_value(value)
            if len(memo) < 4096:
                memo[value] = got
        return got
    return read_value(value)


def _read_pdx_poa(value) -> str:
    """:func:`read_poa`, the common texts looked up."""
    if type(value) is str:
        got = POA_READ.get(value)
        if got is not None:
            return got
    return read_poa(value)


def read_mapping(d, version: int | None) -> ReadClaim:
    """:func:`read_claim` for a claim given as a mapping in the JSON-lines schema, without
    building a :class:`Claim` (the same reading, with a fast path for the common shapes)."""
    pdx = d.get("pdx")
    sdx_in = d.get("sdx")
    sdx = None
    if type(sdx_in) is list and _LIST_ONLY.issuperset(map(type, sdx_in)):
        # the common shape, [[code, poa], ...] with text codes and plain POA values
        try:
            sdx = [(c, POA_READ[q]) for c, q in sdx_in if type(c) is str]
        except (ValueError, KeyError, TypeError):
            sdx = None
        if sdx is not None and len(sdx) != len(sdx_in):
            sdx = None
    if sdx is None:
        sdx = read_sdx(sdx_in)
    procs = d.get("procedures")
    if not (type(procs) is list and _STR_ONLY.issuperset(map(type, procs))):
        procs = read_procedures(procs)      # not the common shape: a list of code strings
    admit = d.get("admit_dx")
    return ReadClaim(
        version=version,
        pdx=read_code(pdx),
        pdx_poa=POA_BLANK if pdx is None else _read_pdx_poa(d.get("pdx_poa", "Y")),
        sdx=tuple(sdx),
        procedures=tuple(procs),
        sex=_cached_read(_SEX_READ, read_sex, d.get("sex")),
        discharge_status=_cached_read(_STATUS_READ, read_discharge_status, d.get("discharge_status")),
        hospital_status=_cached_read(_HOSPITAL_READ, read_hospital_status, d.get("hospital_status", "NOT_EXEMPT")),
        admit_dx=None if admit is None else read_code(admit),
    )
