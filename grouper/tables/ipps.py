"""National IPPS payment parameters per fiscal year, and the post-acute / special-pay DRG flags.

Built by :mod:`grouper.tables.build.ipps` (``python -m grouper.tables build-ipps``, sources
``../shared/cms/rates/``, see its ``PROVENANCE.md``) from:

* ``ipps_national_rates.tsv`` -- columns ``fiscal_year parameter value unit source cross_check``.
  Rows whose parameter contains ``_superseded_`` are values replaced by a correction notice
  or interim final rule; they are dropped (only the values in force for payment are kept).
  A value ``NA`` marks a parameter CMS had not published when the file was written
  (FY2027 fixed-loss threshold); it is kept as *missing*, with the source's note, so that
  asking for it is a clear error rather than a guess.
* ``drg_flags_fyYYYY.tsv`` -- columns ``drg post_acute special_pay`` (``Yes``/``No``) for
  FY2023-FY2025.  FY2026 flags are in the compiled Table 5 (``tables/fy2026.tbl``) and are
  read from there.

Output: ``ipps.json`` (deterministic: sorted keys, values kept as the decimal text of the
source) and ``MANIFEST.json`` (every source file's name, size and sha256; the sha256 and
size of ``ipps.json``).  The build checks, per fiscal year and wage-index table, that the
labor amount is the labor share of the total to the cent (CMS's own construction), that no
parameter is given twice, and that every special-pay DRG is a post-acute DRG.  Files are
written to a temporary folder and moved into ``--out`` only when everything is valid.

Look-up::

    >>> from grouper.tables import ipps
    >>> p = ipps.parameters(2026)
    >>> p.value("capital_federal_rate")
    Decimal('524.15')
    >>> ipps.drg_flags(470, 2026)
    (True, False)
"""
from __future__ import annotations

import json
import os
from decimal import Decimal
from functools import cache
from pathlib import Path
from types import MappingProxyType

import attrs

from .files import read_checked, read_manifest

FORMAT = "grouper-ipps-1"
DATA_FILE = "ipps.json"

#: Table 1A/1B column of a hospital: (submitted quality data, meaningful EHR user) -> variant
VARIANTS = {(True, True): "full", (True, False): "quality_noehr",
            (False, True): "noquality_ehr", (False, False): "noquality_noehr"}
TABLE_NAMES = {"wi_gt1": "Table 1A (wage index > 1)", "wi_le1": "Table 1B (wage index <= 1)",
               "pr": "Table 1C (Puerto Rico, national rate)"}


class IppsError(LookupError):
    """A fiscal year or parameter the shipped IPPS tables do not have (never guessed)."""


class IppsIntegrityError(RuntimeError):
    """``tables/ipps`` is missing, or a file differs from its MANIFEST.json."""


def default_ipps_dir() -> Path:
    """``$GROUPER_IPPS_TABLES``, else ``ipps/`` inside the grouper tables folder."""
    env = os.environ.get("GROUPER_IPPS_TABLES")
    if env:
        return Path(env)
    from .store import default_tables_dir
    return default_tables_dir() / "ipps"


@attrs.frozen
class StandardizedAmount:
    """The operating standardized amount that applies to one hospital (one Table 1A/1B/1C cell)."""

    fiscal_year: int
    table: str                 # wi_gt1 / wi_le1 / pr
    variant: str               # full / quality_noehr / noquality_ehr / noquality_noehr / ehr / noehr
    labor: Decimal
    nonlabor: Decimal
    labor_share: Decimal       # percent, e.g. Decimal('66.0')
    labor_parameter: str
    nonlabor_parameter: str

    @property
    def table_name(self) -> str:
        return TABLE_NAMES[self.table]


@attrs.frozen
class IppsParameters:
    """The national IPPS parameters of one fiscal year, as in force for payment."""

    fiscal_year: int
    values: MappingProxyType            # name -> Decimal
    missing: MappingProxyType           # name -> note of the source (why it is absent)
    sources: MappingProxyType           # name -> source text

    def value(self, name: str) -> Decimal:
        """A parameter; :class:`IppsError` when the year lacks it (never a substitute value)."""
        v = self.values.get(name)
        if v is not None:
            return v
        if name in self.missing:
            note = self.missing[name].get("note") or self.missing[name].get("source") or ""
            raise IppsError(f"FY{self.fiscal_year} has no {name} in the IPPS tables ({note})")
        raise IppsError(f"FY{self.fiscal_year} has no parameter {name} in the IPPS tables "
                        f"(have: {', '.join(sorted(self.values))})")

    @property
    def capital_federal_rate(self) -> Decimal:
        return self.value("capital_federal_rate")

    @property
    def outlier_fixed_loss_threshold(self) -> Decimal:
        return self.value("outlier_fixed_loss_threshold")

    def labor_share(self, wage_index: Decimal, puerto_rico: bool = False) -> Decimal:
        """Labor-related share (percent) for the wage index: the > 1 share above 1, else the <= 1 share."""
        if puerto_rico or wage_index <= 1:
            return self.value("labor_share_wi_le1")
        return self.value("labor_share_wi_gt1")

    def standardized_amount(self, wage_index, *, quality_data: bool = True, ehr_user: bool = True,
                            puerto_rico: bool = False) -> StandardizedAmount:
        """The Table 1A (wage index > 1), 1B (<= 1) or 1C (Puerto Rico) labor/non-labor amounts
        for the hospital's quality-data and EHR status (42 CFR 412.64; Tables 1A-1C of the final rule)."""
        wi = Decimal(str(wage_index))
        if puerto_rico:
            if wi > 1:
                raise IppsError(f"Puerto Rico hospital with wage index {wi} > 1: Table 1C has only the "
                                f"wage index <= 1 (62% labor) amounts")
            table, variant = "pr", ("ehr" if ehr_user else "noehr")
            lab, non = f"pr_op_std_labor_wi_le1_{variant}", f"pr_op_std_nonlabor_wi_le1_{variant}"
        else:
            table = "wi_gt1" if wi > 1 else "wi_le1"
            variant = VARIANTS[(bool(quality_data), bool(ehr_user))]
            lab, non = f"op_std_labor_{table}_{variant}", f"op_std_nonlabor_{table}_{variant}"
        return StandardizedAmount(self.fiscal_year, table, variant, self.value(lab), self.value(non),
                                  self.labor_share(wi, puerto_rico), lab, non)


class IppsTables:
    """The built ``tables/ipps`` folder, checked against its MANIFEST.json on first use."""

    def __init__(self, directory: str | os.PathLike | None = None):
        self.dir = Path(directory) if directory is not None else default_ipps_dir()
        self._doc = None
        self._params: dict[int, IppsParameters] = {}

    @property
    def manifest(self) -> dict:
        return read_manifest(self.dir, IppsIntegrityError,
                             f"IPPS tables here; build them with "
                             f"'python -m grouper.tables build-ipps ../shared/cms/rates/*.tsv --out {self.dir}'")

    @property
    def doc(self) -> dict:
        if self._doc is None:
            path = self.dir / DATA_FILE
            data = read_checked(self.dir, self.manifest, DATA_FILE, IppsIntegrityError,
                                "python -m grouper.tables build-ipps")
            doc = json.loads(data)
            if doc.get("format") != FORMAT:
                raise IppsIntegrityError(f"{path}: format {doc.get('format')!r}, expected {FORMAT!r}")
            self._doc = doc
        return self._doc

    @property
    def fiscal_years(self) -> tuple[int, ...]:
        return tuple(sorted(int(y) for y in self.doc["fiscal_years"]))

    def parameters(self, fy: int) -> IppsParameters:
        """The national parameters of fiscal year ``fy`` (IppsError for a year the tables lack)."""
        got = self._params.get(fy)
        if got is None:
            y = self.doc["fiscal_years"].get(str(fy))
            if y is None:
                raise IppsError(f"no IPPS national parameters for FY{fy} (have "
                                f"{', '.join(f'FY{x}' for x in self.fiscal_years)}); add that year's "
                                f"rates to ipps_national_rates.tsv and rebuild tables/ipps")
            got = IppsParameters(
                fiscal_year=fy,
                values=MappingProxyType({k: Decimal(v["value"]) for k, v in y["parameters"].items()}),
                missing=MappingProxyType(dict(y["missing"])),
                sources=MappingProxyType({k: v["source"] for k, v in y["parameters"].items()}))
            self._params[fy] = got
        return got

    def drg_flags(self, drg: int, fy: int, *, tables=None) -> tuple[bool, bool]:
        """(post-acute transfer DRG, special-pay DRG) of ``drg`` in fiscal year ``fy``.

        FY2023-FY2025 from the CMS pricer's DRG tables (built into ``ipps.json``); later years
        from the compiled Table 5 of the grouper tables.  IppsError when the flags are unknown."""
        f = self.doc["drg_flags"].get(str(fy))
        if f is not None:
            if drg not in f["drgs"]:
                raise IppsError(f"DRG {drg} is not in the FY{fy} DRG flags table")
            return drg in f["post_acute"], drg in f["special_pay"]
        if tables is None:
            from . import default
            tables = default()
        if fy not in tables.fiscal_years:
            raise IppsError(f"no post-acute/special-pay DRG flags for FY{fy} (neither in tables/ipps nor in "
                            f"the compiled Table 5)")
        w = tables.weights(fy)
        pa = int(w.post_acute[drg]) if 0 < drg < len(w.post_acute) else -1
        sp = int(w.special_pay[drg]) if 0 < drg < len(w.special_pay) else -1
        if pa < 0 or sp < 0:
            raise IppsError(f"post-acute/special-pay flags of DRG {drg} are unknown for FY{fy}")
        return bool(pa), bool(sp)


@cache
def _default(directory: str) -> IppsTables:
    return IppsTables(directory)


def default() -> IppsTables:
    """The IPPS tables of the default folder (``$GROUPER_IPPS_TABLES`` or ``tables/ipps``)."""
    return _default(str(default_ipps_dir()))


def parameters(fy: int) -> IppsParameters:
    return default().parameters(fy)


def drg_flags(drg: int, fy: int) -> tuple[bool, bool]:
    return default().drg_flags(drg, fy)
