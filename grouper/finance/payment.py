"""IPPS operating and capital payment estimate for one stay, formula by formula.

    >>> from grouper.finance.payment import Hospital, estimate_drg
    >>> e = estimate_drg(291, 2026, Hospital(wage_index="1.0"))
    >>> e.operating_base, e.capital_base, e.total
    (Decimal('8669.00'), Decimal('672.90'), Decimal('9341.90'))

What is computed (``docs/payment.md`` gives every formula with its source):

* operating DRG payment = relative weight x (labor amount x wage index + non-labor amount),
  the labor/non-labor amounts from Table 1A (wage index > 1) or 1B (<= 1) or 1C (Puerto
  Rico) in the column of the hospital's quality-data / EHR status (42 CFR 412.64);
* capital DRG payment = relative weight x capital federal rate x GAF (42 CFR 412.312),
  GAF = wage index ** 0.6848 unless the hospital gives its own;
* IME and DSH add-ons = the payment x the hospital's add-on factors (operating and capital);
* transfers (42 CFR 412.4(b)-(f), the CMS IPPS Pricer): the payment x the discharge fraction
  (LOS + 1) / GMLOS (double per diem on the first day) when LOS + 1 < GMLOS; for special-pay
  DRGs under the post-acute rule 0.5 + 0.5 x (LOS + 1) / GMLOS;
* cost outliers (42 CFR 412.84, the Pricer's method): costs = charges x cost-to-charge ratio,
  threshold = DRG payment + add-ons + the fixed-loss amount (wage-adjusted, split between
  operating and capital in proportion to the two ratios, reduced in proportion for transfers),
  outlier payment = 80 % (90 % for burn DRGs) of the costs above the threshold.

Not covered (a hospital that has them gets a lower or higher figure; every row lists them in
``not_modelled``): hospital-specific rates (SCH/MDH), new-technology add-ons, readmission / VBP /
HAC reduction factors, low-volume add-on, sequestration, deductible and coinsurance,
Alaska/Hawaii COLA, the capital hold-harmless and exceptions, pass-through amounts.

Rounding is the CMS IPPS Pricer's (docs/payment.md, "Rounding", gives each step and its source):
GAF to 4 decimals, capital federal rate x GAF to the cent, the DRG payments kept to 9 decimals,
the transfer fraction (4 decimals) applied to the unrounded payment, then the payments and
add-ons in cents; the outlier thresholds, costs and outlier amounts kept to 9 decimals, the
outlier paid in cents.  All rounding is half up.
"""
from __future__ import annotations

import datetime as _dt
import functools
import json
import tomllib
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

import attrs

from ..tables import ipps as _ipps

CENT = Decimal("0.01")
FRACTION_PLACES = Decimal("0.0001")
NINE_PLACES = Decimal("0.000000001")

#: GAF = wage index ** GAF_EXPONENT (42 CFR 412.316; the exponent as in the CMS IPPS Pricer
#: PPCAL215 "H-CAPI-GAF = H-WAGE-INDEX ** .6848"; see docs/payment.md for its provenance).
GAF_EXPONENT = Decimal("0.6848")

#: Acute-care transfers, 42 CFR 412.4(b): to an IPPS hospital (02), a critical access hospital
#: (66), and their planned-readmission variants (82, 94).  The per-diem rule applies to every DRG.
ACUTE_TRANSFER_STATUSES = {
    2: "short-term general hospital", 66: "critical access hospital",
    82: "short-term general hospital, planned readmission", 94: "critical access hospital, planned readmission",
}

#: Post-acute-care transfers, 42 CFR 412.4(c): to an IPPS-excluded hospital or unit (05 cancer /
#: children's hospital, 62 IRF, 63 LTCH, 65 psychiatric), a SNF (03), home under a home health
#: plan of care (06), hospice (50, 51; discharges from October 1, 2018) and the planned-readmission
#: variants (83, 85, 86, 90, 91, 93).  Applies only to the post-acute DRGs of Table 5.
POST_ACUTE_TRANSFER_STATUSES = {
    3: "skilled nursing facility", 5: "cancer or children's hospital (IPPS-excluded)",
    6: "home under a home health plan of care", 50: "hospice (home)", 51: "hospice (medical facility)",
    62: "inpatient rehabilitation facility", 63: "long-term care hospital", 65: "psychiatric hospital or unit",
    83: "skilled nursing facility, planned readmission",
    85: "cancer or children's hospital, planned readmission",
    86: "home health, planned readmission", 90: "inpatient rehabilitation facility, planned readmission",
    91: "long-term care hospital, planned readmission", 93: "psychiatric hospital or unit, planned readmission",
}

#: DRGs never paid as transfers (the Pricer skips the per diem for DRG 789, "Neonates, Died or
#: Transferred to Another Acute Care Facility", whose weight already reflects transfers).
TRANSFER_EXEMPT_DRGS = frozenset({789})

#: Cost-outlier marginal cost factors (42 CFR 412.84(k)); burn DRGs get 90 %.  The burn DRG
#: list is the Pricer's ("BURN DRGS FOR FY14 ARE 927, 928, 929, 933, 934 AND 935"); a test checks
#: that it is exactly the set of DRGs whose title names burns in every fiscal year shipped.
OUTLIER_FACTOR = Decimal("0.80")
BURN_OUTLIER_FACTOR = Decimal("0.90")
BURN_DRGS = frozenset({927, 928, 929, 933, 934, 935})


#: What an estimate does not include (each Estimate row lists them, so that no figure is read as the
#: remittance): a hospital that has one of them is paid more or less than the estimate.
NOT_MODELLED = (
    "new-technology add-on (NTAP)", "readmissions reduction (HRRP)", "value-based purchasing (VBP)",
    "HAC reduction program", "low-volume add-on", "hospital-specific rate (SCH/MDH)", "sequestration",
    "deductible and coinsurance", "capital hold-harmless and exceptions", "pass-through amounts",
)


class EstimateError(ValueError):
    """The payment cannot be estimated from what was given (the message says what is missing)."""


def decimal_value(value, name: str, *, allow_none: bool = False) -> Decimal | None:
    """A money or factor field as a Decimal; EstimateError naming the field when it is not a number."""
    if value is None:
        if allow_none:
            return None
        raise EstimateError(f"{name} is required")
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, bool):
        raise EstimateError(f"{name} must be a number, got {value!r}")
    else:
        try:
            d = Decimal(str(value).strip())
        except InvalidOperation:
            raise EstimateError(f"{name} must be a number, got {value!r}") from None
    if not d.is_finite():
        raise EstimateError(f"{name} must be a finite number, got {value!r}")
    return d


def _cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, ROUND_HALF_UP)


def _p9(x: Decimal) -> Decimal:
    """An intermediate figure as the Pricer holds it: 9 decimals (``PIC 9(7)V9(9)``), half up."""
    return x.quantize(NINE_PLACES, ROUND_HALF_UP)


def _fmt(x) -> str:
    """A figure for the explanation: exact; trailing zeros beyond the cents dropped."""
    if not isinstance(x, Decimal):
        return str(x)
    exp = x.as_tuple().exponent
    if exp >= -2:
        return format(x, "f")
    t = format(x.normalize(), "f")
    decimals = len(t.split(".")[1]) if "." in t else 0
    return t if decimals >= 2 else format(x.quantize(CENT), "f")


def _req_dec(name):
    return lambda v: decimal_value(v, name)


def _opt_dec(name):
    return lambda v: decimal_value(v, name, allow_none=True)


def _nonneg(inst, attribute, value):
    if value is not None and value < 0:
        raise EstimateError(f"{attribute.name} must not be negative, got {value}")


def _ratio(inst, attribute, value):
    if value is not None and not (0 <= value <= 10):
        raise EstimateError(f"{attribute.name} must be a cost-to-charge ratio between 0 and 10, got {value}")


@attrs.frozen(kw_only=True)
class Hospital:
    """Hospital-specific values of the IPPS payment (from the Provider-Specific File or the hospital).

    ``operating_ime_factor``/``operating_dsh_factor`` are the add-on factors applied to the
    operating DRG payment (e.g. IME = 1.35 x ((1 + residents/beds) ** 0.405 - 1); DSH = the
    empirically justified 25 % of the DSH percentage); ``capital_*`` the same for capital.
    ``gaf`` defaults to ``wage_index ** 0.6848`` (rounded to 4 decimals).
    ``uncompensated_care_per_claim`` is the interim uncompensated-care amount per discharge."""

    wage_index: Decimal = attrs.field(converter=_req_dec("wage_index"))
    gaf: Decimal | None = attrs.field(default=None, converter=_opt_dec("gaf"), validator=_nonneg)
    operating_ime_factor: Decimal = attrs.field(default=Decimal(0), converter=_req_dec("operating_ime_factor"),
                                                validator=_nonneg)
    operating_dsh_factor: Decimal = attrs.field(default=Decimal(0), converter=_req_dec("operating_dsh_factor"),
                                                validator=_nonneg)
    capital_ime_factor: Decimal = attrs.field(default=Decimal(0), converter=_req_dec("capital_ime_factor"),
                                              validator=_nonneg)
    capital_dsh_factor: Decimal = attrs.field(default=Decimal(0), converter=_req_dec("capital_dsh_factor"),
                                              validator=_nonneg)
    uncompensated_care_per_claim: Decimal = attrs.field(
        default=Decimal(0), converter=_req_dec("uncompensated_care_per_claim"), validator=_nonneg)
    quality_data: bool = True
    ehr_user: bool = True
    puerto_rico: bool = False
    cost_to_charge_operating: Decimal | None = attrs.field(default=None, converter=_opt_dec("cost_to_charge_operating"),
                                                           validator=_ratio)
    cost_to_charge_capital: Decimal | None = attrs.field(default=None, converter=_opt_dec("cost_to_charge_capital"),
                                                         validator=_ratio)
    name: str | None = None
    #: settings that differ by fiscal year: {2025: {"wage_index": ..., "cost_to_charge_operating": ...}};
    #: a year not listed uses the values above
    fiscal_years: dict = attrs.field(factory=dict, converter=lambda v: _year_settings(v), hash=False)

    def __attrs_post_init__(self):
        if self.wage_index <= 0:
            raise EstimateError(f"wage_index must be positive, got {self.wage_index}")
        for f in ("quality_data", "ehr_user", "puerto_rico"):
            if not isinstance(getattr(self, f), bool):
                raise EstimateError(f"{f} must be true or false, got {getattr(self, f)!r}")
        for fy in self.fiscal_years:
            self.for_year(fy)           # every year's settings are checked now, not at the first stay

    def for_year(self, fiscal_year: int) -> Hospital:
        """The hospital's settings in ``fiscal_year`` (its ``fiscal_years`` entry over the defaults)."""
        over = self.fiscal_years.get(int(fiscal_year))
        if not over:
            return self
        try:
            return attrs.evolve(self, fiscal_years={}, **over)
        except EstimateError as exc:
            raise EstimateError(f"fiscal_years {fiscal_year}: {exc}") from None

    def settings_note(self, fiscal_years) -> str | None:
        """A warning when one wage index / cost-to-charge ratio is applied to stays of several fiscal
        years (CMS sets them per year): None when each year has its own settings or only one year."""
        fys = sorted(set(fiscal_years))
        shared = [fy for fy in fys if fy not in self.fiscal_years]
        if len(fys) < 2 or len(shared) < 2:
            return None
        ccr = ""
        if self.cost_to_charge_operating is not None or self.cost_to_charge_capital is not None:
            ccr = f", cost-to-charge ratios {self.cost_to_charge_operating}/{self.cost_to_charge_capital}"
        return (f"one wage index ({self.wage_index}{ccr}) is applied to the stays of "
                f"{', '.join(f'FY{fy}' for fy in shared)}; CMS sets them per fiscal year: give each year's "
                f"values under 'fiscal_years' in the hospital file (docs/payment.md)")

    @property
    def gaf_used(self) -> Decimal:
        """The GAF: the hospital's, or wage_index ** 0.6848 rounded to 4 decimals."""
        if self.gaf is not None:
            return self.gaf
        return _derived_gaf(self.wage_index)

    @classmethod
    def from_dict(cls, d: Mapping) -> Hospital:
        known = set(attrs.fields_dict(cls))
        unknown = sorted(set(d) - known)
        if unknown:
            raise EstimateError(f"unknown hospital setting(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        required = [f.name for f in attrs.fields(cls) if f.default is attrs.NOTHING]
        missing = [name for name in required if name not in d]
        if missing:
            raise EstimateError(f"missing hospital setting(s) {', '.join(missing)} (e.g. \"wage_index\": 0.9264, "
                                f"from CMS's IPPS wage index table for the hospital's CBSA)")
        return cls(**dict(d))

    @classmethod
    def from_file(cls, path) -> Hospital:
        """A hospital from a small JSON or TOML file whose keys are this class's field names."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise EstimateError(f"{p}: cannot read ({exc.strerror})") from None
        try:
            d = tomllib.loads(text) if p.suffix.lower() == ".toml" else json.loads(text)
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            raise EstimateError(f"{p}: not valid {'TOML' if p.suffix.lower() == '.toml' else 'JSON'} ({exc})") from None
        if not isinstance(d, dict):
            raise EstimateError(f"{p}: the hospital settings must be an object")
        d = {k: v for k, v in d.items() if not k.startswith("_")}     # "_comment" keys are allowed
        try:
            return cls.from_dict(d)
        except EstimateError as exc:
            raise EstimateError(f"{p}: {exc}") from None

    def to_dict(self) -> dict:
        return {f.name: (str(v) if isinstance(v, Decimal) else v)
                for f in attrs.fields(type(self)) for v in [getattr(self, f.name)]}


@functools.lru_cache(maxsize=256)
def _derived_gaf(wage_index: Decimal) -> Decimal:
    """wage_index ** 0.6848 rounded to 4 decimals (a Decimal power: computed once per wage index,
    not once per stay)."""
    return (wage_index ** GAF_EXPONENT).quantize(FRACTION_PLACES, ROUND_HALF_UP)


#: hospital settings that may differ by fiscal year
YEAR_SETTINGS = ("wage_index", "gaf", "operating_ime_factor", "operating_dsh_factor", "capital_ime_factor",
                 "capital_dsh_factor", "uncompensated_care_per_claim", "quality_data", "ehr_user",
                 "cost_to_charge_operating", "cost_to_charge_capital")


def _year_settings(value) -> dict:
    """``fiscal_years`` of a hospital file: {fiscal year: {setting: value}} with known settings only."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise EstimateError(f"fiscal_years must map a fiscal year to its settings, got {value!r}")
    out = {}
    for k, v in value.items():
        try:
            fy = int(str(k).strip().upper().removeprefix("FY"))
        except ValueError:
            raise EstimateError(f"fiscal_years: {k!r} is not a fiscal year (e.g. 2026)") from None
        if not isinstance(v, Mapping):
            raise EstimateError(f"fiscal_years {fy}: the settings must be an object, got {v!r}")
        v = {a: b for a, b in v.items() if not str(a).startswith("_")}
        unknown = sorted(set(v) - set(YEAR_SETTINGS))
        if unknown:
            raise EstimateError(f"fiscal_years {fy}: unknown or not per-year setting(s) {', '.join(unknown)} "
                                f"(per-year: {', '.join(YEAR_SETTINGS)})")
        out[fy] = dict(v)
    return out


@attrs.frozen(kw_only=True)
class Estimate:
    """One stay's estimated IPPS payment with every intermediate figure (money in dollars, Decimal)."""

    claim_id: object
    fiscal_year: int
    version: int | None
    drg: int
    drg_title: str | None
    mdc: int | None
    weight: Decimal
    gmlos: Decimal | None
    los: int | None
    discharge_status: int | None
    # hospital
    wage_index: Decimal
    gaf: Decimal
    gaf_derived: bool
    quality_data: bool
    ehr_user: bool
    puerto_rico: bool
    # operating standardized amount
    rate_table: str
    rate_variant: str
    labor_amount: Decimal
    nonlabor_amount: Decimal
    labor_share: Decimal                  # percent
    labor_adjusted: Decimal               # labor amount x wage index
    operating_rate: Decimal               # labor_adjusted + non-labor amount
    operating_full: Decimal               # operating_full_exact to the cent
    capital_federal_rate: Decimal
    capital_rate: Decimal                 # capital federal rate x GAF, to the cent (the Pricer's H-FEDERAL-RATE)
    operating_full_exact: Decimal         # weight x operating_rate, 9 decimals (before any transfer reduction)
    capital_full_exact: Decimal           # weight x capital_rate, 9 decimals
    capital_full: Decimal                 # capital_full_exact to the cent
    # transfer
    transfer: str                         # none / acute / post-acute / post-acute special-pay
    transfer_applied: bool
    per_diem_days: int | None             # max(LOS, 1) + 1
    transfer_fraction: Decimal            # 1 when no reduction
    operating_per_diem: Decimal | None    # operating payment / GMLOS, for reading only: the payment is full x fraction
    operating_base_exact: Decimal         # operating_full_exact x fraction, 9 decimals
    capital_base_exact: Decimal
    operating_base: Decimal               # operating_base_exact to the cent
    capital_base: Decimal
    # add-ons
    operating_ime_factor: Decimal
    operating_dsh_factor: Decimal
    capital_ime_factor: Decimal
    capital_dsh_factor: Decimal
    operating_ime: Decimal
    operating_dsh: Decimal
    capital_ime: Decimal
    capital_dsh: Decimal
    uncompensated_care: Decimal
    # cost outlier
    charges: Decimal | None = None
    cost_to_charge_operating: Decimal | None = None
    cost_to_charge_capital: Decimal | None = None
    fixed_loss_threshold: Decimal | None = None
    fixed_loss_after_transfer: Decimal | None = None
    operating_threshold_share: Decimal | None = None
    capital_threshold_share: Decimal | None = None
    operating_fixed_loss: Decimal | None = None
    capital_fixed_loss: Decimal | None = None
    operating_outlier_threshold: Decimal | None = None
    capital_outlier_threshold: Decimal | None = None
    operating_cost: Decimal | None = None
    capital_cost: Decimal | None = None
    outlier_factor: Decimal | None = None
    operating_outlier: Decimal = Decimal("0.00")
    capital_outlier: Decimal = Decimal("0.00")
    # totals
    operating_payment: Decimal
    capital_payment: Decimal
    total: Decimal
    notes: tuple[str, ...] = ()
    not_modelled: tuple[str, ...] = attrs.field(default=NOT_MODELLED)
    mdc_title: str | None = None

    @property
    def outlier(self) -> Decimal:
        return self.operating_outlier + self.capital_outlier

    def to_dict(self) -> dict:
        """Plain JSON types: money and factors as numbers (exact to their decimals)."""
        out = plain_fields(self)
        out["outlier"] = float(self.outlier)
        return out


    def explain(self) -> list[str]:
        """The arithmetic, one line per step, with the figures actually used (each line checkable by
        hand): intermediate figures as the CMS Pricer keeps them (9 decimals), paid amounts in cents."""
        F = _fmt
        L = []
        ver = f" (grouper v{self.version // 10}.{self.version % 10})" if self.version else ""
        L.append(f"DRG {self.drg} {self.drg_title or ''}, FY{self.fiscal_year}{ver}: relative weight {self.weight}"
                 + (f", GMLOS {self.gmlos}" if self.gmlos is not None else ""))
        status = {"full": "quality data + EHR user", "quality_noehr": "quality data, not an EHR user",
                  "noquality_ehr": "no quality data, EHR user", "noquality_noehr": "no quality data, not an EHR user",
                  "ehr": "EHR user", "noehr": "not an EHR user"}[self.rate_variant]
        L.append(f"standardized amount: {F(self.rate_table)}, column '{status}': labor {F(self.labor_amount)}, "
                 f"non-labor {F(self.nonlabor_amount)} (labor share {F(self.labor_share)}%)")
        L.append(f"labor part = {F(self.labor_amount)} x wage index {self.wage_index} = {F(self.labor_adjusted)}")
        L.append(f"operating rate = {F(self.labor_adjusted)} + {F(self.nonlabor_amount)} = {F(self.operating_rate)}")
        L.append(f"operating DRG payment = {self.weight} x {F(self.operating_rate)} = {F(self.operating_full_exact)}"
                 + _paid(self.operating_full_exact, self.operating_full, self.transfer_applied))
        gaf = (f"GAF {self.gaf} (= {self.wage_index} ^ {GAF_EXPONENT}, 4 decimals)" if self.gaf_derived
               else f"GAF {self.gaf}")
        L.append(f"capital rate = {F(self.capital_federal_rate)} x {gaf} = {F(self.capital_rate)} (to the cent)")
        L.append(f"capital DRG payment = {self.weight} x {F(self.capital_rate)} = {F(self.capital_full_exact)}"
                 + _paid(self.capital_full_exact, self.capital_full, self.transfer_applied))
        if self.transfer == "none":
            L.append("transfer: none (discharge status "
                     f"{'unknown' if self.discharge_status is None else f'{self.discharge_status:02d}'})")
        else:
            days = (f"paid days = max(LOS {self.los}, 1) + 1 = {self.per_diem_days} (the first day counts twice"
                    + ("; a same-day stay counts as one day)" if self.los == 0 else ")"))
            if not self.transfer_applied:
                L.append(f"transfer ({self.transfer}, status {self.discharge_status:02d}): {days} >= GMLOS "
                         f"{self.gmlos}: full payment")
            else:
                L.append(f"transfer ({self.transfer}, status {self.discharge_status:02d}): {days} < GMLOS "
                         f"{self.gmlos}")
                if self.transfer == "post-acute special-pay":
                    L.append(f"special-pay fraction = 0.5 + 0.5 x {self.per_diem_days} / {self.gmlos} = "
                             f"{self.transfer_fraction} (4 decimals)")
                else:
                    L.append(f"transfer fraction = {self.per_diem_days} / {self.gmlos} = {self.transfer_fraction} "
                             f"(4 decimals)")
                L.append(f"operating = {F(self.operating_full_exact)} x {self.transfer_fraction} = "
                         f"{F(self.operating_base_exact)}, paid {F(self.operating_base)}; capital = "
                         f"{F(self.capital_full_exact)} x {self.transfer_fraction} = {F(self.capital_base_exact)}, "
                         f"paid {F(self.capital_base)}")
        if self.operating_ime or self.operating_dsh:
            L.append(f"operating IME = {F(self.operating_base)} x {F(self.operating_ime_factor)} = "
                     f"{F(self.operating_ime)}; operating DSH = {F(self.operating_base)} x "
                     f"{F(self.operating_dsh_factor)} = {F(self.operating_dsh)}")
        if self.capital_ime or self.capital_dsh:
            L.append(f"capital IME = {F(self.capital_base)} x {F(self.capital_ime_factor)} = {F(self.capital_ime)}; "
                     f"capital DSH = {F(self.capital_base)} x {F(self.capital_dsh_factor)} = {F(self.capital_dsh)}")
        if self.uncompensated_care:
            L.append(f"uncompensated care per claim = {F(self.uncompensated_care)}")
        if self.charges is not None:
            fl = self.fixed_loss_threshold
            if self.fixed_loss_after_transfer != fl:
                L.append(f"fixed-loss threshold {fl} x transfer fraction {self.transfer_fraction} = "
                         f"{F(self.fixed_loss_after_transfer)} (to the cent)")
            t = self.fixed_loss_after_transfer
            L.append(f"threshold shares: operating {F(self.cost_to_charge_operating)} / "
                     f"({F(self.cost_to_charge_operating)} + {F(self.cost_to_charge_capital)}) = "
                     f"{self.operating_threshold_share}, capital {self.capital_threshold_share}")
            L.append(f"operating fixed loss = ({t} x {F(self.labor_share)}% x {self.wage_index} + {t} x "
                     f"{F(100 - self.labor_share)}%) x {self.operating_threshold_share} = "
                     f"{F(self.operating_fixed_loss)}")
            L.append(f"capital fixed loss = {t} x GAF {self.gaf} x {self.capital_threshold_share} = "
                     f"{F(self.capital_fixed_loss)}")
            ob, cb = F(self.operating_base_exact), F(self.capital_base_exact)
            L.append(f"operating threshold = {ob} x (1 + IME {F(self.operating_ime_factor)}) + {ob} x DSH "
                     f"{F(self.operating_dsh_factor)} + uncompensated care {F(self.uncompensated_care)} + "
                     f"{F(self.operating_fixed_loss)} = {F(self.operating_outlier_threshold)} (not rounded)")
            L.append(f"capital threshold = {cb} x (1 + IME {F(self.capital_ime_factor)} + DSH "
                     f"{F(self.capital_dsh_factor)}) + {F(self.capital_fixed_loss)} = "
                     f"{F(self.capital_outlier_threshold)} (not rounded)")
            L.append(f"costs: operating {F(self.charges)} x {F(self.cost_to_charge_operating)} = "
                     f"{F(self.operating_cost)}, "
                     f"capital {F(self.charges)} x {F(self.cost_to_charge_capital)} = {F(self.capital_cost)}")
            if self.outlier:
                L.append(f"operating outlier = {F(self.outlier_factor)} x ({F(self.operating_cost)} - "
                         f"{F(self.operating_outlier_threshold)}) = {F(self.operating_outlier)}; capital outlier = "
                         f"{F(self.outlier_factor)} x ({F(self.capital_cost)} - {F(self.capital_outlier_threshold)}) = "
                         f"{F(self.capital_outlier)} (to the cent)")
            else:
                L.append("no cost outlier: the costs do not exceed the thresholds")
        L.append(f"operating payment = {F(self.operating_base)} + {F(self.operating_ime)} + {F(self.operating_dsh)} + "
                 f"{F(self.operating_outlier)} = {F(self.operating_payment)}")
        L.append(f"capital payment = {F(self.capital_base)} + {F(self.capital_ime)} + {F(self.capital_dsh)} + "
                 f"{F(self.capital_outlier)} = {F(self.capital_payment)}")
        L.append(f"total = {F(self.operating_payment)} + {F(self.capital_payment)} + {F(self.uncompensated_care)} = "
                 f"{F(self.total)}")
        L.extend(f"note: {n}" for n in self.notes)
        L.append("not included: " + ", ".join(self.not_modelled))
        return L


def _paid(exact: Decimal, cents: Decimal, reduced: bool) -> str:
    """', paid 8273.42' after a 9-decimal figure (nothing when it is reduced by a transfer first)."""
    if reduced or exact == cents:
        return ""
    return f", paid {_fmt(cents)}"


# ------------------------------------------------------------------ helpers


def discharge_status_code(value) -> int | None:
    """The two-digit patient discharge status as an int (``"02"`` -> 2); None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise EstimateError(f"discharge status must be a two-digit code, got {value!r}")
    text = str(value).strip()
    whole, dot, zeros = text.partition(".")          # 20.0 / "20.0" (a float column) is 20, as grouping reads it
    try:
        if dot and not zeros.strip("0"):
            return int(whole)
        return int(text)
    except ValueError:
        raise EstimateError(f"discharge status must be a two-digit code, got {value!r}") from None


def length_of_stay(los=None, admission_date=None, discharge_date=None) -> int | None:
    """LOS in days: given, or discharge date - admission date (an error when the two disagree)."""
    from_dates = None
    if admission_date not in (None, "") and discharge_date not in (None, ""):
        try:
            a = _dt.date.fromisoformat(str(admission_date)[:10])
            d = _dt.date.fromisoformat(str(discharge_date)[:10])
        except ValueError:
            raise EstimateError(f"dates must be YYYY-MM-DD, got admission {admission_date!r}, "
                                f"discharge {discharge_date!r}") from None
        from_dates = (d - a).days
        if from_dates < 0:
            raise EstimateError(f"discharge date {d} is before admission date {a}")
    if los not in (None, ""):
        try:
            n = int(los)
        except (TypeError, ValueError):
            raise EstimateError(f"length of stay must be a whole number of days, got {los!r}") from None
        if n < 0:
            raise EstimateError(f"length of stay must not be negative, got {n}")
        if from_dates is not None and from_dates != n:
            raise EstimateError(f"length of stay {n} disagrees with the dates ({admission_date} .. "
                                f"{discharge_date} = {from_dates} days)")
        return n
    return from_dates


def transfer_kind(drg: int, status: int | None, post_acute: bool, special_pay: bool) -> str:
    """Which transfer rule applies: 'acute' (42 CFR 412.4(b), every DRG), 'post-acute' or
    'post-acute special-pay' (412.4(c), post-acute DRGs only), or 'none'."""
    if status is None or drg in TRANSFER_EXEMPT_DRGS:
        return "none"
    if status in ACUTE_TRANSFER_STATUSES:
        return "acute"
    if status in POST_ACUTE_TRANSFER_STATUSES and post_acute:
        return "post-acute special-pay" if special_pay else "post-acute"
    return "none"


def transfer_fraction(kind: str, los: int, gmlos: Decimal) -> tuple[int, Decimal]:
    """(paid days, discharge fraction) of the CMS Pricer: days = max(LOS, 1) + 1 (double per diem
    on the first day); fraction = days / GMLOS, or 0.5 + 0.5 x days / GMLOS for special-pay DRGs
    (42 U.S.C. 1395ww(d)(5)(J)(i): 50 % of the transfer payment + 50 % of the full payment),
    rounded to 4 decimals, and 1 (full payment) once days >= GMLOS."""
    days = max(los, 1) + 1
    if Decimal(days) >= gmlos:
        return days, Decimal(1)
    ratio = Decimal(days) / gmlos
    f = Decimal("0.5") + Decimal("0.5") * ratio if kind == "post-acute special-pay" else ratio
    return days, min(f.quantize(FRACTION_PLACES, ROUND_HALF_UP), Decimal(1))


# ------------------------------------------------------------------ estimate


def estimate_drg(drg: int, fiscal_year: int, hospital: Hospital, *, discharge_status=None, los=None,
                 charges=None, version=None, claim_id=None, mdc=None, tables=None, ipps_tables=None) -> Estimate:
    """Estimate the IPPS payment of DRG ``drg`` in ``fiscal_year`` for ``hospital``.

    ``discharge_status`` selects the transfer rule; ``los`` is needed when it is a transfer;
    ``charges`` (covered charges) with the hospital's cost-to-charge ratio(s) add the cost
    outlier.  ``version`` picks the DRG title (the weights are always the fiscal year's);
    ``mdc`` is the claim's MDC as grouped (default: the DRG's own MDC in the tables).  The
    hospital's settings for ``fiscal_year`` are used (:meth:`Hospital.for_year`)."""
    from ..tables import default as _default_tables
    from ..tables.lookup import drg as _drg_info
    if not isinstance(hospital, Hospital):
        raise EstimateError("a Hospital is required (wage index, quality/EHR status ...)")
    hospital = hospital.for_year(fiscal_year)
    ts = tables or _default_tables()
    if fiscal_year not in ts.fiscal_years:     # no weight: say why and how to import it, never guess one
        raise EstimateError(f"DRG {drg} FY{fiscal_year}: no IPPS payment can be estimated: "
                            f"{ts.missing_weights_message(fiscal_year)}")
    it = ipps_tables or _ipps.default()
    params = it.parameters(fiscal_year)
    try:
        info = _drg_info(int(drg), version, fy=fiscal_year, tables=ts)
    except Exception as exc:            # VersionError for a year without weights
        raise EstimateError(f"DRG {drg} FY{fiscal_year}: {exc}") from None
    if info.weight is None:
        what = f"DRG {drg} ({info.title})" if info.title else f"DRG {drg}"
        raise EstimateError(f"{what} has no FY{fiscal_year} relative weight: no IPPS payment can be estimated")
    weight = Decimal(repr(info.weight))
    gmlos = Decimal(repr(info.gmlos)) if info.gmlos is not None else None
    status = discharge_status_code(discharge_status)
    notes = []

    # operating and capital DRG payments (the Pricer's H-OPER-FSP-PART / H-CAPI-FSP-PART keep 9
    # decimals; the capital rate x GAF is held in cents, H-FEDERAL-RATE PIC 9(4)V9(2))
    sa = params.standardized_amount(hospital.wage_index, quality_data=hospital.quality_data,
                                    ehr_user=hospital.ehr_user, puerto_rico=hospital.puerto_rico)
    wi = hospital.wage_index
    labor_adjusted = sa.labor * wi
    op_rate = labor_adjusted + sa.nonlabor
    op_full_exact = _p9(weight * op_rate)
    op_full = _cents(op_full_exact)
    gaf = hospital.gaf_used
    cap_fed = params.capital_federal_rate
    cap_rate = _cents(cap_fed * gaf)
    cap_full_exact = _p9(weight * cap_rate)
    cap_full = _cents(cap_full_exact)

    # transfer
    kind = "none"
    days, fraction, per_diem = None, Decimal(1), None
    if status is not None:
        pa, sp = it.drg_flags(int(drg), fiscal_year, tables=ts)
        kind = transfer_kind(int(drg), status, pa, sp)
        if int(drg) in TRANSFER_EXEMPT_DRGS and (status in ACUTE_TRANSFER_STATUSES
                                                 or status in POST_ACUTE_TRANSFER_STATUSES):
            notes.append(f"DRG {drg} is never paid as a transfer (the CMS Pricer exempts it)")
        elif status in POST_ACUTE_TRANSFER_STATUSES and not pa:
            notes.append(f"discharge status {status:02d} is a post-acute transfer, but DRG {drg} is not a "
                         f"post-acute DRG in FY{fiscal_year}: full payment")
    if kind != "none":
        if los is None:
            raise EstimateError(f"discharge status {status:02d} is a transfer ({kind}): the per-diem rule needs "
                                f"the length of stay (los=, or admission and discharge dates)")
        if gmlos is None or gmlos <= 0:
            raise EstimateError(f"DRG {drg} has no FY{fiscal_year} GMLOS: the transfer per diem cannot be computed")
        days, fraction = transfer_fraction(kind, los, gmlos)
        per_diem = _cents(op_full_exact / gmlos)
    applied = fraction < 1
    # the fraction multiplies the unrounded payment (3500/3550-CALC-PERDIEM-AMT), then cents
    op_base_exact = _p9(op_full_exact * fraction) if applied else op_full_exact
    cap_base_exact = _p9(cap_full_exact * fraction) if applied else cap_full_exact
    op_base = _cents(op_base_exact)
    cap_base = _cents(cap_base_exact)

    # add-ons: on the payment in cents (PPS-OPER-IME-ADJ = PPS-OPER-FSP-PART x IME, to the cent)
    op_ime = _cents(op_base * hospital.operating_ime_factor)
    op_dsh = _cents(op_base * hospital.operating_dsh_factor)
    cap_ime = _cents(cap_base * hospital.capital_ime_factor)
    cap_dsh = _cents(cap_base * hospital.capital_dsh_factor)
    uc = _cents(hospital.uncompensated_care_per_claim)

    outlier = {}
    op_out = cap_out = Decimal("0.00")
    chg = decimal_value(charges, "charges", allow_none=True)
    if chg is not None:
        if chg < 0:
            raise EstimateError(f"charges must not be negative, got {chg}")
        occr, cccr = hospital.cost_to_charge_operating, hospital.cost_to_charge_capital
        if occr is None and cccr is None:
            raise EstimateError("charges were given but the hospital has no cost-to-charge ratio "
                                "(cost_to_charge_operating / cost_to_charge_capital)")
        occr = occr if occr is not None else Decimal(0)
        cccr = cccr if cccr is not None else Decimal(0)
        fixed = params.outlier_fixed_loss_threshold
        fixed_t = _cents(fixed * fraction) if applied else fixed       # H-CST-THRESH PIC 9(5)V9(2)
        ccr_sum = occr + cccr
        op_share = _p9(occr / ccr_sum) if ccr_sum else Decimal(0)
        cap_share = _p9(cccr / ccr_sum) if ccr_sum else Decimal(0)
        share = sa.labor_share / 100
        # 3600-CALC-OUTLIER: the thresholds are kept to 9 decimals, never rounded to the cent, and
        # count the add-ons on the unrounded payment
        op_fixed = _p9((fixed_t * share * wi + fixed_t * (1 - share)) * op_share)
        cap_fixed = _p9(fixed_t * gaf * cap_share)
        op_thr = _p9(op_base_exact * (1 + hospital.operating_ime_factor) + op_base_exact
                     * hospital.operating_dsh_factor + op_fixed + uc)
        cap_thr = _p9(cap_base_exact * (1 + hospital.capital_ime_factor + hospital.capital_dsh_factor) + cap_fixed)
        op_cost = _p9(chg * occr)
        cap_cost = _p9(chg * cccr)
        factor = BURN_OUTLIER_FACTOR if int(drg) in BURN_DRGS else OUTLIER_FACTOR
        if op_cost + cap_cost >= op_thr + cap_thr:
            if op_cost > op_thr:
                op_out = _cents(_p9(factor * (op_cost - op_thr)))
            if cap_cost > cap_thr:
                cap_out = _cents(_p9(factor * (cap_cost - cap_thr)))
        outlier = dict(charges=chg, cost_to_charge_operating=occr, cost_to_charge_capital=cccr,
                       fixed_loss_threshold=fixed, fixed_loss_after_transfer=fixed_t,
                       operating_threshold_share=op_share, capital_threshold_share=cap_share,
                       operating_fixed_loss=op_fixed, capital_fixed_loss=cap_fixed,
                       operating_outlier_threshold=op_thr, capital_outlier_threshold=cap_thr,
                       operating_cost=op_cost, capital_cost=cap_cost, outlier_factor=factor)

    op_pay = op_base + op_ime + op_dsh + op_out
    cap_pay = cap_base + cap_ime + cap_dsh + cap_out
    return Estimate(
        claim_id=claim_id, fiscal_year=fiscal_year, version=version, drg=int(drg), drg_title=info.title,
        mdc=info.mdc if mdc is None else mdc,
        weight=weight, gmlos=gmlos, los=los, discharge_status=status,
        wage_index=wi, gaf=gaf, gaf_derived=hospital.gaf is None, quality_data=hospital.quality_data,
        ehr_user=hospital.ehr_user, puerto_rico=hospital.puerto_rico,
        rate_table=sa.table_name, rate_variant=sa.variant, labor_amount=sa.labor, nonlabor_amount=sa.nonlabor,
        labor_share=sa.labor_share, labor_adjusted=labor_adjusted, operating_rate=op_rate,
        operating_full_exact=op_full_exact, operating_full=op_full,
        capital_federal_rate=cap_fed, capital_rate=cap_rate, capital_full_exact=cap_full_exact, capital_full=cap_full,
        transfer=kind, transfer_applied=applied, per_diem_days=days, transfer_fraction=fraction,
        operating_per_diem=per_diem, operating_base_exact=op_base_exact, capital_base_exact=cap_base_exact,
        operating_base=op_base, capital_base=cap_base,
        operating_ime_factor=hospital.operating_ime_factor, operating_dsh_factor=hospital.operating_dsh_factor,
        capital_ime_factor=hospital.capital_ime_factor, capital_dsh_factor=hospital.capital_dsh_factor,
        operating_ime=op_ime, operating_dsh=op_dsh, capital_ime=cap_ime, capital_dsh=cap_dsh,
        uncompensated_care=uc, operating_outlier=op_out, capital_outlier=cap_out,
        operating_payment=op_pay, capital_payment=cap_pay, total=op_pay + cap_pay + uc,
        notes=tuple(notes), mdc_title=ts.version(info.version).mdc_titles.get(info.mdc if mdc is None else mdc),
        **outlier)


def estimate(result_or_claim, hospital: Hospital, *, los=None, admission_date=None, discharge_date=None,
             charges=None, discharge_status=None, tables=None, ipps_tables=None) -> Estimate:
    """Estimate the IPPS payment of one stay: a claim (grouped here, with the version in force at
    its discharge date) or a :class:`grouper.Result` (then give ``discharge_status``: a Result
    does not carry it).  Missing keyword values are read from the claim mapping's own keys
    (``discharge_status``, ``admission_date``, ``discharge_date``, ``los``, ``charges``)."""
    from ..engine.pipeline import group
    from ..engine.result import Result
    if isinstance(result_or_claim, Result):
        result = result_or_claim
        if discharge_status is None:
            raise EstimateError("a Result does not carry the discharge status: pass discharge_status= "
                                "(or pass the claim)")
        claim_id = result.id
    else:
        claim = result_or_claim
        get = (claim.get if isinstance(claim, Mapping) else lambda k, d=None: getattr(claim, k, d))
        result = group(claim, tables=tables)
        discharge_status = discharge_status if discharge_status is not None else get("discharge_status")
        discharge_date = discharge_date if discharge_date is not None else get("discharge_date")
        admission_date = admission_date if admission_date is not None else get("admission_date")
        los = los if los is not None else get("los")
        charges = charges if charges is not None else get("charges")
        claim_id = get("id")
    n = length_of_stay(los, admission_date, discharge_date)
    return estimate_drg(result.final_drg, result.fiscal_year, hospital, discharge_status=discharge_status,
                        los=n, charges=charges, version=result.version, claim_id=claim_id, mdc=result.final_mdc,
                        tables=tables, ipps_tables=ipps_tables)


@attrs.frozen(kw_only=True)
class NotPriced:
    """A stay that was grouped but cannot be priced: its DRG has no weight (998, 999), a transfer
    without a length of stay, a fiscal year without rates ...  ``reason`` says which."""

    claim_id: object
    fiscal_year: int | None
    version: int | None
    drg: int | None
    drg_title: str | None
    mdc: int | None
    reason: str
    mdc_title: str | None = None

    def to_dict(self) -> dict:
        return plain_fields(self)


def price_claim(claim, hospital: Hospital, *, tables=None, ipps_tables=None) -> Estimate | NotPriced:
    """:func:`estimate` of a claim, except that a stay that groups but cannot be priced comes back
    as :class:`NotPriced` with its reason instead of raising (a ClaimError is still raised for
    input that cannot be grouped at all)."""
    from ..engine.pipeline import group
    return price_result(group(claim, tables=tables), claim, hospital, tables=tables, ipps_tables=ipps_tables)


def price_result(result, claim, hospital: Hospital, *, tables=None, ipps_tables=None) -> Estimate | NotPriced:
    """:func:`price_claim` of a claim already grouped (``result``, its :class:`grouper.Result`):
    the claim gives the length of stay, charges, discharge status and id."""
    from ..tables.ipps import IppsError
    get = (claim.get if isinstance(claim, Mapping) else lambda k, d=None: getattr(claim, k, d))
    try:
        n = length_of_stay(get("los"), get("admission_date"), get("discharge_date"))
        return estimate_drg(result.final_drg, result.fiscal_year, hospital, discharge_status=get("discharge_status"),
                            los=n, charges=get("charges"), version=result.version, claim_id=get("id"),
                            mdc=result.final_mdc, tables=tables, ipps_tables=ipps_tables)
    except (EstimateError, IppsError) as exc:
        return NotPriced(claim_id=get("id"), fiscal_year=result.fiscal_year, version=result.version,
                         drg=result.final_drg, drg_title=result.final_drg_description, mdc=result.final_mdc,
                         mdc_title=result.final_mdc_description, reason=str(exc))


def plain_fields(obj) -> dict:
    """The fields of an attrs value as plain JSON types (Decimal as float, tuples as lists)."""
    out = {}
    for f in attrs.fields(type(obj)):
        v = getattr(obj, f.name)
        if isinstance(v, Decimal):
            v = float(v)
        elif isinstance(v, tuple):
            v = list(v)
        out[f.name] = v
    return out
