"""Build ``tables/ipps`` from the IPPS national rates and the post-acute / special-pay DRG flags.

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
The loader is :mod:`grouper.tables.ipps`.
"""
from __future__ import annotations

import csv
import json
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from ..files import write_all
from ..ipps import DATA_FILE, FORMAT
from .common import sha256

RATES_HEADER = ("fiscal_year", "parameter", "value", "unit", "source", "cross_check")
FLAGS_HEADER = ("drg", "post_acute", "special_pay")
SUPERSEDED_MARK = "_superseded_"

CENT = Decimal("0.01")


class IppsBuildError(Exception):
    """A source file cannot be used; the message names the file and the problem."""


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
        src_meta.append({"file": p.name, "sha256": sha256(data), "bytes": len(data)})
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
        "files": {DATA_FILE: {"sha256": sha256(payload), "bytes": len(payload)}},
    }
    files = {DATA_FILE: payload,
             "MANIFEST.json": (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode("utf-8")}
    write_all(files, Path(out))
    log(f"wrote {Path(out) / DATA_FILE} (FY{min(rates)}-FY{max(rates)}; flags "
        f"{', '.join(f'FY{y}' for y in sorted(flags)) or 'none'})")
    return manifest
