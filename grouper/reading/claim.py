"""Immutable input value classes: a claim and its secondary diagnoses.

Fields keep what the caller gave (the validation stage decides how the CMS
grouper reads each value and what to warn about), converted only into
immutable containers.
"""
from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class Diagnosis:
    """A secondary diagnosis with its present-on-admission indicator (missing POA means Y)."""

    code: Any
    poa: Any = "Y"


def _to_dx(item) -> Diagnosis:
    if isinstance(item, Diagnosis):
        return item
    if isinstance(item, dict):
        return Diagnosis(item.get("code"), item.get("poa", "Y"))
    if isinstance(item, (list, tuple)):
        if len(item) == 0:
            return Diagnosis(None, "Y")
        return Diagnosis(item[0], item[1] if len(item) > 1 else "Y")
    return Diagnosis(item, "Y")


def _sdx(value) -> tuple[Diagnosis, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes, dict, Diagnosis)):
        return (_to_dx(value),)
    try:
        return tuple(_to_dx(x) for x in value)
    except TypeError:
        return (_to_dx(value),)


def _procs(value) -> tuple:
    if value is None:
        return ()
    if isinstance(value, (str, bytes, dict)):
        value = [value]
    try:
        items = list(value)
    except TypeError:
        items = [value]
    return tuple(x.get("code") if isinstance(x, dict) else x for x in items)


@attrs.frozen
class Claim:
    """One inpatient stay to group.

    ``version`` (431, "43.1") or ``discharge_date`` selects the grouper version;
    ``sdx`` items may be codes, ``(code, poa)`` pairs, ``{"code", "poa"}`` dicts or
    :class:`Diagnosis`; ``hospital_status`` is NOT_EXEMPT (default), EXEMPT or UNKNOWN
    (for HAC/POA processing).  ``age`` is carried but, as in the CMS grouper, not used
    for grouping.
    """

    pdx: Any
    sdx: tuple[Diagnosis, ...] = attrs.field(default=(), converter=_sdx)
    procedures: tuple = attrs.field(default=(), converter=_procs)
    pdx_poa: Any = "Y"
    age: Any = None
    sex: Any = None
    discharge_status: Any = None
    version: Any = None
    discharge_date: Any = None
    admit_dx: Any = None
    admit_dx_poa: Any = "Y"
    hospital_status: Any = "NOT_EXEMPT"
    id: Any = None

    @classmethod
    def from_dict(cls, d: dict) -> "Claim":
        """A claim from the JSON-lines schema of the labelled claims (extra keys ignored).
        A missing ``pdx`` key is kept as missing (grouping raises ClaimError MISSING_PDX)."""
        from .stage import _MISSING
        return cls(
            pdx=d["pdx"] if "pdx" in d else _MISSING, sdx=d.get("sdx"), procedures=d.get("procedures"),
            pdx_poa=d.get("pdx_poa", "Y"), age=d.get("age"), sex=d.get("sex"),
            discharge_status=d.get("discharge_status"), version=d.get("version"),
            discharge_date=d.get("discharge_date"), admit_dx=d.get("admit_dx"),
            admit_dx_poa=d.get("admit_dx_poa", "Y"),
            hospital_status=d.get("hospital_status", "NOT_EXEMPT"), id=d.get("id"),
        )
