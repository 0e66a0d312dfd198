"""Load time of the compiled tables, per grouper version, and the size of ``tables/``.

    python benchmarks/tables_load.py [--runs 3] [--json out.json] [--tables DIR] [--no-group]

For every version, ``--runs`` fresh Python processes each measure:

* cold: ``TableSet().version(v)`` in a new process - manifest, the version's file (read,
  sha256-checked, decoded) - plus the code universe (``codes.tbl``: code lists and the
  code -> id dicts), i.e. everything a first claim of that version needs from the tables;
  the parts are shown separately (``version``, ``codes``), and the fiscal year's weights;
* warm: ``version(v)`` on a fresh ``TableSet`` whose manifest and code universe are already
  loaded (what loading one more version costs a running process), median of 5;
* first group(): ``import grouper`` + grouping one claim of that version in a new process
  (tables plus whatever the engine builds on first use), for reference.

Files come from the OS page cache after the first read, so "cold" means a new process,
not a cold disk.  Medians over the runs are shown; target <= 100 ms per version.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TARGET_MS = 100.0

PROBE = r"""
import json, sys, time, statistics
t0 = time.perf_counter()
import grouper.tables as T
t_import = time.perf_counter() - t0
v = int(sys.argv[1]); d = sys.argv[2] or None
t1 = time.perf_counter()
ts = T.TableSet(d)
vt = ts.version(v)
t_version = time.perf_counter() - t1
t2 = time.perf_counter()
ts.dx_codes; ts.pr_codes; ts.dx_index; ts.pr_index
t_codes = time.perf_counter() - t2
t3 = time.perf_counter()
try:
    ts.weights(vt.fiscal_year)
    t_weights = time.perf_counter() - t3
except Exception:
    t_weights = None
warm = []
for _ in range(5):
    ts2 = T.TableSet(d)
    ts2.manifest; ts2.dx_index; ts2.pr_index
    t = time.perf_counter()
    ts2.version(v)
    warm.append(time.perf_counter() - t)
print(json.dumps({"import": t_import, "version": t_version, "codes": t_codes, "weights": t_weights,
                  "warm": statistics.median(warm)}))
"""

GROUP_PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import grouper
r = grouper.group({"version": int(sys.argv[1]), "pdx": "I5022", "pdx_poa": "Y", "sex": "M",
                   "discharge_status": 1, "sdx": [["J9601", "Y"], ["E1165", "Y"]], "procedures": []})
r.final_drg, r.weight
print(json.dumps({"first_group": time.perf_counter() - t0, "drg": r.final_drg}))
"""


def _run(code: str, *args: str, env=None) -> dict:
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, env=env,
                       timeout=300)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip()[-800:])
    return json.loads(r.stdout.strip().splitlines()[-1])


def tables_dir(arg: str | None) -> str:
    if arg:
        return arg
    sys.path.insert(0, ROOT)
    from grouper.tables import default_tables_dir
    return str(default_tables_dir())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Per-version load time of the compiled tables.")
    ap.add_argument("--runs", type=int, default=3, help="fresh processes per version (median)")
    ap.add_argument("--tables", help="compiled tables folder (default: the repository's tables/)")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    ap.add_argument("--no-group", action="store_true", help="skip the first-group() measurement")
    args = ap.parse_args(argv)
    d = tables_dir(args.tables)
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if args.tables:
        env["GROUPER_TABLES"] = args.tables
    manifest = json.load(open(os.path.join(d, "MANIFEST.json")))
    versions = [v["version"] for v in manifest["versions"]]
    files = sorted(os.listdir(d))
    sizes = {f: os.path.getsize(os.path.join(d, f)) for f in files if os.path.isfile(os.path.join(d, f))}
    total = sum(sizes.values())

    rows = []
    for v in versions:
        runs = [_run(PROBE, str(v), args.tables or "", env=env) for _ in range(args.runs)]
        med = {k: (statistics.median([r[k] for r in runs]) if all(r[k] is not None for r in runs) else None)
               for k in runs[0]}
        med["cold"] = med["version"] + med["codes"]
        if not args.no_group:
            g = [_run(GROUP_PROBE, str(v), env=env) for _ in range(args.runs)]
            med["first_group"] = statistics.median([x["first_group"] for x in g])
        med["version_number"] = v
        med["file_bytes"] = sizes.get(f"v{v}.tbl")
        rows.append(med)

    ms = lambda x: f"{x * 1000:8.1f}" if x is not None else "       -"  # noqa: E731
    print(f"compiled tables: {d}")
    print(f"total size: {total:,} bytes ({total / 2**20:.1f} MiB) in {len(sizes)} files "
          f"(per version ~{statistics.median([sizes[f] for f in sizes if f.startswith('v')]) / 2**20:.2f} MiB, "
          f"code universe {sizes.get('codes.tbl', 0) / 2**20:.2f} MiB, "
          f"common {sizes.get('common.tbl', 0) / 2**20:.2f} MiB)")
    print(f"median of {args.runs} fresh processes per version; times in ms; target <= {TARGET_MS:.0f} ms per version\n")
    hdr = (f"{'version':>7s} {'import':>8s} {'version':>8s} {'codes':>8s} {'cold':>8s} {'warm':>8s} "
           f"{'weights':>8s} {'1st group':>9s}  target")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        v = r["version_number"]
        ok_cold = r["cold"] * 1000 <= TARGET_MS
        ok_warm = r["warm"] * 1000 <= TARGET_MS
        verdict = "ok" if ok_cold and ok_warm else ("warm ok, cold over" if ok_warm else "OVER")
        print(f"{v // 10:>4d}.{v % 10:<2d} {ms(r['import'])} {ms(r['version'])} {ms(r['codes'])} {ms(r['cold'])} "
              f"{ms(r['warm'])} {ms(r.get('weights'))} {ms(r.get('first_group')):>9s}  {verdict}")
    print("\nimport: 'import grouper.tables'; version: TableSet().version(v) with the manifest (new process); "
          "codes: the code universe (codes.tbl, code->id dicts); cold = version + codes; warm: version(v) once the "
          "manifest and codes are loaded; weights: the FY weights file; 1st group: import grouper + one claim")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"tables_dir": d, "total_bytes": total, "files": sizes, "runs": args.runs,
                       "target_ms": TARGET_MS, "versions": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
