"""Table 5 (relative weights, GMLOS, AMLOS per DRG and fiscal year) -> ``fyYYYY.tbl``.

Input: CMS's own tab-separated Table 5 text (cp1252, title line, header row located by
keywords) or a weights TSV with columns ``drg weight gmlos amlos title`` (+ optional
``post_acute``, ``special_pay``) whose file name carries the year (``fy2026.tsv``).
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np

from .. import container
from .common import BuildError, sha256

_TSV_COLUMNS = ("drg", "weight", "gmlos", "amlos")
_FY_IN_NAME = re.compile(r"fy[-_ ]?(\d{4})", re.IGNORECASE)
_FY_IN_TEXT = re.compile(r"FY\s*(\d{4})")


def _num(text: str, where: str) -> float:
    s = (text or "").strip().replace(",", "")
    if s in ("", ".", "N/A", "NA"):
        return float("nan")
    try:
        return float(s)
    except ValueError:
        raise BuildError(f"{where}: not a number: {text!r}") from None


def _flag(text: str, where: str) -> int:
    s = (text or "").strip().lower()
    if s in ("yes", "y"):
        return 1
    if s in ("no", "n", ""):
        return 0
    raise BuildError(f"{where}: post-acute/special-pay flag must be Yes/No, got {text!r}")


def read_weights(path: Path) -> dict:
    """One fiscal year of Table 5: {fy, rows: {drg: (weight, gmlos, amlos, title, pa, sp)}, flags}."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BuildError(f"{path}: cannot read ({exc.strerror})") from None
    first = raw[:4096].decode("utf-8", "replace")
    if first.lower().startswith("drg\t"):
        text = raw.decode("utf-8")
        rows = list(csv.reader(io.StringIO(text), delimiter="\t"))
        header = [h.strip().lower() for h in rows[0]]
        m = _FY_IN_NAME.search(path.name)
        if not m:
            raise BuildError(f"{path}: weights TSV file name must carry the fiscal year (e.g. fy2026.tsv)")
        fy = int(m.group(1))
        cols = {"drg": "drg", "weight": "weight", "gmlos": "gmlos", "amlos": "amlos", "title": "title"}
        optional = {"post_acute": "post_acute", "special_pay": "special_pay"}
        data_rows = rows[1:]
    else:
        # CMS's own Table 5 text: cp1252, title lines, header row starting "MS-DRG".
        text = raw.decode("cp1252")
        rows = list(csv.reader(io.StringIO(text), delimiter="\t"))
        hdr_i = next((i for i, r in enumerate(rows) if r and r[0].strip().upper().startswith("MS-DRG")), None)
        if hdr_i is None:
            raise BuildError(f"{path}: neither a weights TSV (header 'drg\\tweight…') nor a CMS "
                             f"Table 5 text (no header row starting 'MS-DRG')")
        m = _FY_IN_TEXT.search(" ".join(" ".join(r) for r in rows[:hdr_i + 1])) or _FY_IN_NAME.search(path.name)
        if not m:
            raise BuildError(f"{path}: cannot tell the fiscal year (no 'FY 20xx' in the title or header)")
        fy = int(m.group(1))
        hdr = [h.strip().lower() for h in rows[hdr_i]]

        def find(*keys, exclude=()):
            for i, h in enumerate(hdr):
                if all(k in h for k in keys) and not any(x in h for x in exclude):
                    return rows[hdr_i][i].strip().lower()
            return None

        weight_col = find("cap applied") or find("weight", exclude=("before",))
        cols = {"drg": hdr[0], "weight": weight_col, "gmlos": find("geometric"),
                "amlos": find("arithmetic"), "title": find("title")}
        optional = {"post_acute": find("post-acute"), "special_pay": find("special pay")}
        header = hdr
        data_rows = rows[hdr_i + 1:]
    missing = [k for k, v in cols.items() if v is None or v not in header]
    if missing:
        raise BuildError(f"{path}: missing column(s) {', '.join(missing)} in the header {header!r}")
    idx = {k: header.index(v) for k, v in cols.items()}
    oidx = {k: header.index(v) for k, v in optional.items() if v is not None and v in header}
    out = {}
    for n, r in enumerate(data_rows, start=2):
        if not r or not r[0].strip():
            continue
        drg_text = r[0].strip()
        if not drg_text.isdigit():
            continue
        where = f"{path}: line {n}"
        if len(r) < len(header):
            raise BuildError(f"{where}: {len(r)} columns, the header has {len(header)}")
        drg = int(drg_text)
        if drg in out:
            raise BuildError(f"{where}: DRG {drg} listed twice")
        out[drg] = (
            _num(r[idx["weight"]], where), _num(r[idx["gmlos"]], where), _num(r[idx["amlos"]], where),
            r[idx["title"]].strip(),
            _flag(r[oidx["post_acute"]], where) if "post_acute" in oidx else -1,
            _flag(r[oidx["special_pay"]], where) if "special_pay" in oidx else -1,
        )
    if not out:
        raise BuildError(f"{path}: no DRG rows")
    return {"fy": fy, "rows": out, "source": path.name, "sha256": sha256(raw),
            "has_flags": bool(oidx)}


def compile_weights(w: dict) -> bytes:
    n = 1000
    weight = np.full(n, np.nan)
    gmlos = np.full(n, np.nan)
    amlos = np.full(n, np.nan)
    listed = np.zeros(n, dtype=bool)
    post_acute = np.full(n, -1, dtype=np.int8)
    special_pay = np.full(n, -1, dtype=np.int8)
    titles = {}
    for drg, (wt, gm, am, title, pa, sp) in sorted(w["rows"].items()):
        if not 0 < drg < n:
            raise BuildError(f"{w['source']}: DRG {drg} out of range")
        weight[drg], gmlos[drg], amlos[drg] = wt, gm, am
        listed[drg] = True
        post_acute[drg], special_pay[drg] = pa, sp
        titles[str(drg)] = title
    return container.dumps(
        {"weight": weight, "gmlos": gmlos, "amlos": amlos, "listed": listed,
         "post_acute": post_acute, "special_pay": special_pay},
        {"fy": w["fy"], "source": w["source"], "titles": titles, "has_flags": w["has_flags"]},
    )
