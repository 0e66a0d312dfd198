"""National IPPS payment parameters per fiscal year, and the post-acute / special-pay DRG flags.

Build (sources: ``../shared/cms/rates/``, see its ``PROVENANCE.md``)::

    python -m grouper.tables build-ipps ../shared/cms/rates/*.tsv --out tables/ipps

Inputs:

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

import csv
import hashlib
import json
import os
import re
import sys
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import attrs

from .files import read_checked, read_manifest, write_all

FORMAT = "grouper-ipps-1"
DATA_FILE = "ipps.json"
RATES_HEADER = ("fiscal_year", "parameter", "value", "unit", "source", "cross_check")
FLAGS_HEADER = ("drg", "post_acute", "special_pay")
SUPERSEDED_MARK = "_superseded_"

#: Table 1A/1B column of a hospital: (submitted quality data, meaningful EHR user) -> variant
VARIANTS = {(True, True): "full", (True, False): "quality_noehr",
            (False, True): "noquality_ehr", (False, False): "noquality_noehr"}
TABLE_NAMES = {"wi_gt1": "Table 1A (wage index > 1)", "wi_le1": "Table 1B (wage index <= 1)",
               "pr": "Table 1C (Puerto Rico, national rate)"}

CENT = Decimal("0.01")


class IppsBuildError(Exception):
    """A source file cannot be used; the message names the file and the problem."""


class IppsError(LookupError):
    """A fiscal year or parameter the shipped IPPS tables do not have (never guessed)."""


class IppsIntegrityError(RuntimeError):
    """``tables/ipps`` is missing, or a file differs from its MANIFEST.json."""


# ===================================================================== build


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_tsv(path: Path) -> tuple[list[str], list[list[str]], bytes]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IppsBuildError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IppsBuildError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    rows = list(csv.reader(text.splitlines(), delimiter="\t"))
    if not rows:
        raise IppsBuildError(f"{path}: empty file")
    return [h.strip() for h in rows[0]], rows[1:], data


def _decimal(text: str, where: str) -> Decimal:
    try:
        d = Decimal(text.strip())
    except InvalidOperation:
        raise IppsBuildError(f"{where}: not a number: {text!r}") from None
    if not d.is_finite():
        raise IppsBuildError(f"{where}: not a finite number: {text!r}")
    return d


def _read_rates(path: Path, rows: list[list[str]], log) -> dict:
    years: dict[int, dict] = {}
    dropped = 0
    for n, r in enumerate(rows, start=2):
        if not r or all(not x.strip() for x in r):
            continue
        where = f"{path.name} line {n}"
        if len(r) != len(RATES_HEADER):
            raise IppsBuildError(f"{where}: {len(r)} columns, the header has {len(RATES_HEADER)}")
        fy_text, name, value, unit, source, cross = (x.strip() for x in r)
        if not re.fullmatch(r"20\d\d", fy_text):
            raise IppsBuildError(f"{where}: fiscal year must be a year like 2026, got {fy_text!r}")
        if not re.fullmatch(r"[a-z0-9_]+", name):
            raise IppsBuildError(f"{where}: parameter name {name!r} is not snake_case")
        if SUPERSEDED_MARK in name:
            dropped += 1
            continue
        fy = int(fy_text)
        y = years.setdefault(fy, {"parameters": {}, "missing": {}})
        if name in y["parameters"] or name in y["missing"]:
            raise IppsBuildError(f"{where}: FY{fy} parameter {name} is given twice")
        if value.upper() == "NA" or value == "":
            y["missing"][name] = {"unit": unit, "source": source, "note": cross}
            continue
        _decimal(value, where)
        y["parameters"][name] = {"value": value, "unit": unit, "source": source, "cross_check": cross}
    log(f"{path.name}: {sum(len(y['parameters']) for y in years.values())} parameters for "
        f"FY{min(years)}-FY{max(years)}; {dropped} superseded rows dropped" if years else f"{path.name}: empty")
    for fy, y in years.items():
        _check_year(fy, y["parameters"], path.name)
    return years


def _check_year(fy: int, params: dict, source: str) -> None:
    """Labor amount = round(total x labor share) on every Table 1A/1B/1C row (CMS's construction)."""
    def val(n):
        return Decimal(params[n]["value"]) if n in params else None

    shares = {"wi_gt1": val("labor_share_wi_gt1"), "wi_le1": val("labor_share_wi_le1")}
    for n in params:
        m = re.fullmatch(r"(pr_)?op_std_labor_(wi_gt1|wi_le1)_(\w+)", n)
        if not m:
            continue
        other = n.replace("_labor_", "_nonlabor_")
        if other not in params:
            raise IppsBuildError(f"{source}: FY{fy} has {n} but no {other}")
        share = shares[m.group(2)]
        if share is None:
            raise IppsBuildError(f"{source}: FY{fy} has {n} but no labor_share_{m.group(2)}")
        labor, total = val(n), val(n) + val(other)
        expect = (total * share / 100).quantize(CENT, ROUND_HALF_UP)
        if abs(expect - labor) > CENT:
            raise IppsBuildError(
                f"{source}: FY{fy} {n} = {labor} is not {share}% of {total} (= {expect}); "
                f"a transcription error?")


def _read_flags(path: Path, header: list[str], rows: list[list[str]]) -> tuple[int, dict]:
    m = re.search(r"fy(20\d\d)", path.name.lower())
    if not m:
        raise IppsBuildError(f"{path}: the file name must carry the fiscal year (drg_flags_fy2025.tsv)")
    fy = int(m.group(1))
    if tuple(header) != FLAGS_HEADER:
        raise IppsBuildError(f"{path}: header must be {' '.join(FLAGS_HEADER)}, got {' '.join(header)}")
    drgs, pa, sp = [], [], []
    for n, r in enumerate(rows, start=2):
        if not r or all(not x.strip() for x in r):
            continue
        where = f"{path.name} line {n}"
        if len(r) != 3:
            raise IppsBuildError(f"{where}: {len(r)} columns, expected 3")
        try:
            drg = int(r[0])
        except ValueError:
            raise IppsBuildError(f"{where}: DRG must be a number, got {r[0]!r}") from None
        if not 1 <= drg <= 999:
            raise IppsBuildError(f"{where}: DRG {drg} out of range")
        if drg in drgs:
            raise IppsBuildError(f"{where}: DRG {drg} listed twice")
        flags = []
        for x in r[1:]:
            if x.strip() not in ("Yes", "No"):
                raise IppsBuildError(f"{where}: flag must be Yes or No, got {x!r}")
            flags.append(x.strip() == "Yes")
        if flags[1] and not flags[0]:
            raise IppsBuildError(f"{where}: DRG {drg} is special-pay but not post-acute")
        drgs.append(drg)
        if flags[0]:
            pa.append(drg)
        if flags[1]:
            sp.append(drg)
    if not drgs:
        raise IppsBuildError(f"{path}: no DRG rows")
    return fy, {"drgs": sorted(drgs), "post_acute": sorted(pa), "special_pay": sorted(sp)}


def build_ipps(sources, out, log=print) -> dict:
    """Build ``ipps.json`` and ``MANIFEST.json`` into ``out`` from the rates and flag TSVs.

    Returns the manifest.  Raises :class:`IppsBuildError` (naming the file) and writes
    nothing when a source is unusable."""
    rates = None
    flags: dict[int, dict] = {}
    src_meta = []
    for s in sources:
        p = Path(s)
        if not p.is_file():
            raise IppsBuildError(f"{p}: no such file")
        header, rows, data = _read_tsv(p)
        if tuple(header) == RATES_HEADER:
            if rates is not None:
                raise IppsBuildError(f"{p}: a second national rates file (give one)")
            rates = _read_rates(p, rows, log)
        elif tuple(header) == FLAGS_HEADER or p.name.lower().startswith("drg_flags"):
            fy, f = _read_flags(p, header, rows)
            if fy in flags:
                raise IppsBuildError(f"{p}: DRG flags of FY{fy} given twice")
            flags[fy] = f
            log(f"{p.name}: FY{fy} {len(f['drgs'])} DRGs, {len(f['post_acute'])} post-acute, "
                f"{len(f['special_pay'])} special-pay")
        else:
            raise IppsBuildError(
                f"{p}: neither the national rates TSV (header {' '.join(RATES_HEADER)}) nor a DRG "
                f"flags TSV (header {' '.join(FLAGS_HEADER)})")
        src_meta.append({"file": p.name, "sha256": _sha256(data), "bytes": len(data)})
    if rates is None:
        raise IppsBuildError("no national rates file given (ipps_national_rates.tsv)")
    doc = {
        "format": FORMAT,
        "fiscal_years": {str(fy): rates[fy] for fy in sorted(rates)},
        "drg_flags": {str(fy): flags[fy] for fy in sorted(flags)},
    }
    text = json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False)
    # DRG number lists on one line each (readable diffs); still plain JSON
    text = re.sub(r"\[\s*(\d+(?:,\s*\d+)*)\s*\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text)
    payload = (text + "\n").encode("utf-8")
    manifest = {
        "format": FORMAT,
        "sources": sorted(src_meta, key=lambda m: m["file"]),
        "fiscal_years": sorted(rates),
        "flag_fiscal_years": sorted(flags),
        "missing": {str(fy): sorted(rates[fy]["missing"]) for fy in sorted(rates) if rates[fy]["missing"]},
        "files": {DATA_FILE: {"sha256": _sha256(payload), "bytes": len(payload)}},
    }
    files = {DATA_FILE: payload,
             "MANIFEST.json": (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode("utf-8")}
    write_all(files, Path(out))
    log(f"wrote {Path(out) / DATA_FILE} (FY{min(rates)}-FY{max(rates)}; flags "
        f"{', '.join(f'FY{y}' for y in sorted(flags)) or 'none'})")
    return manifest


def register_cli(subparsers) -> None:
    """Add ``build-ipps`` to the ``python -m grouper.tables`` sub-commands."""
    b = subparsers.add_parser("build-ipps", help="build tables/ipps from the IPPS national rates and DRG flags")
    b.add_argument("sources", nargs="+", help="ipps_national_rates.tsv and drg_flags_fyYYYY.tsv")
    b.add_argument("--out", required=True, help="output folder, e.g. tables/ipps")
    b.add_argument("--quiet", action="store_true")
    b.set_defaults(func=_cmd_build_ipps)


def _cmd_build_ipps(args) -> int:
    try:
        build_ipps(args.sources, args.out,
                   log=(lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr)))
    except IppsBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


# ===================================================================== load


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


@lru_cache(maxsize=None)
def _default(directory: str) -> IppsTables:
    return IppsTables(directory)


def default() -> IppsTables:
    """The IPPS tables of the default folder (``$GROUPER_IPPS_TABLES`` or ``tables/ipps``)."""
    return _default(str(default_ipps_dir()))


def parameters(fy: int) -> IppsParameters:
    return default().parameters(fy)


def drg_flags(drg: int, fy: int) -> tuple[bool, bool]:
    return default().drg_flags(drg, fy)
