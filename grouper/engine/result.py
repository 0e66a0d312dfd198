"""Immutable result value classes.

Field names follow the labelled claims' ``expected`` objects (the CMS grouper's
output), so that ``Result.to_dict()`` can be compared field by field.

The claim-level fields are computed when the claim is grouped.  The per-code
details (``pdx``, ``sdx``, ``procedures``) and ``warnings`` are computed on
first access, once: most bulk users only read the DRG and its weight.
"""
from __future__ import annotations

import operator

import attrs

from .codes import AdmitDxFlag, Affects, HacStatus, MedSurg, PoaError, ReturnCode, Severity, SeverityUsage
from .hac import HacEntry


@attrs.frozen
class DxResult:
    code: str
    poa: str
    recognized: bool
    affects_drg: Affects
    initial_severity_usage: SeverityUsage
    final_severity_usage: SeverityUsage
    poa_error: PoaError
    hacs: tuple[HacEntry, ...]
    table_mdc: int | None
    table_severity: str | None       # MCC / CC / NCC (static look-up)

    def to_dict(self) -> dict:
        return {"code": self.code, "poa": self.poa, "recognized": self.recognized,
                "affects_drg": self.affects_drg,
                "initial_severity_usage": self.initial_severity_usage,
                "final_severity_usage": self.final_severity_usage, "poa_error": self.poa_error,
                "hacs": [attrs.asdict(h) for h in self.hacs] if self.hacs else [],
                "table_mdc": self.table_mdc, "table_severity": self.table_severity}


@attrs.frozen
class ProcResult:
    code: str
    recognized: bool
    affects_drg: Affects
    is_or: bool
    hac_usage: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"code": self.code, "recognized": self.recognized, "affects_drg": self.affects_drg,
                "is_or": self.is_or, "hac_usage": list(self.hac_usage)}


@attrs.frozen
class Details:
    """Per-code results and warnings of one claim."""

    pdx: DxResult
    sdx: tuple[DxResult, ...]
    procedures: tuple[ProcResult, ...]
    warnings: tuple


class LazyDetails:
    """Computes :class:`Details` once, on first use (not part of the value)."""

    __slots__ = ("_fn", "_value")

    def __init__(self, fn):
        self._fn = fn
        self._value = None

    @classmethod
    def of(cls, value: Details) -> LazyDetails:
        lazy = cls(None)
        lazy._value = value
        return lazy

    def get(self) -> Details:
        if self._value is None:
            self._value = self._fn()
            self._fn = None
        return self._value


TOP_FIELDS = ("initial_drg", "initial_mdc", "final_drg", "final_mdc", "return_code", "initial_return_code",
              "initial_base_drg", "final_base_drg", "initial_med_surg", "final_med_surg", "initial_severity",
              "final_severity", "initial_claim_severity", "final_claim_severity", "hac_status",
              "num_hac_categories_satisfied", "admit_dx_flag", "initial_drg_description",
              "final_drg_description", "initial_mdc_description", "final_mdc_description")

#: a result's values of TOP_FIELDS, as a tuple
top_values = operator.attrgetter(*TOP_FIELDS)


@attrs.frozen(eq=False)
class Result:
    version: int
    fiscal_year: int
    initial_drg: int
    initial_mdc: int
    final_drg: int
    final_mdc: int
    return_code: ReturnCode
    initial_return_code: ReturnCode
    initial_base_drg: int
    final_base_drg: int
    initial_med_surg: MedSurg
    final_med_surg: MedSurg
    initial_severity: Severity       # MCC / CC / NON_CC: the level the DRG formula used
    final_severity: Severity
    initial_claim_severity: Severity  # highest level among counting SDX (NONE: ungroupable)
    final_claim_severity: Severity
    hac_status: HacStatus
    num_hac_categories_satisfied: int
    admit_dx_flag: AdmitDxFlag
    initial_drg_description: str
    final_drg_description: str
    initial_mdc_description: str
    final_mdc_description: str
    weight: float | None             # relative weight of the final DRG for the fiscal year
    gmlos: float | None
    amlos: float | None
    id: object = None
    _details: LazyDetails = attrs.field(default=None, repr=False, alias="details")

    @property
    def pdx(self) -> DxResult:
        return self._details.get().pdx

    @property
    def sdx(self) -> tuple[DxResult, ...]:
        return self._details.get().sdx

    @property
    def procedures(self) -> tuple[ProcResult, ...]:
        return self._details.get().procedures

    @property
    def warnings(self) -> tuple:
        return self._details.get().warnings

    @property
    def drg(self) -> int:
        """The final DRG (what is paid)."""
        return self.final_drg

    @property
    def mdc(self) -> int:
        return self.final_mdc

    def to_dict(self) -> dict:
        d = {"id": self.id, "version": self.version}
        d.update(zip(TOP_FIELDS, top_values(self)))
        details = self._details.get()
        d["pdx"] = details.pdx.to_dict()
        d["sdx"] = [x.to_dict() for x in details.sdx]
        d["procedures"] = [x.to_dict() for x in details.procedures]
        d["fiscal_year"] = self.fiscal_year
        d["weight"] = self.weight
        d["gmlos"] = self.gmlos
        d["amlos"] = self.amlos
        d["warnings"] = [w.to_dict() for w in details.warnings]
        return d

    def __eq__(self, other):
        if not isinstance(other, Result):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None
