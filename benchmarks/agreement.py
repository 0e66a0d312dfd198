"""Agreement with the CMS-labelled claims, per version and per field.

    python benchmarks/agreement.py [ORACLE_DIR_OR_FILES...] [--show N] [--field F]

Default: every labelled set in ``../shared/oracle`` (``v*_dev.jsonl*``, ``v*_dev2.jsonl*``,
``hac_dev.jsonl*``, ``stress_dev.jsonl*``); a directory argument means the same sets in it.
Compares the fields the project must match exactly (top level and per code) and prints,
per file, the number of claims that differ in each field; ``--show`` prints examples.
"""
from __future__ import annotations

import argparse
import glob
import gzip
import json
import os
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import grouper

TOP = ["initial_drg", "initial_mdc", "final_drg", "final_mdc", "return_code",
       "initial_severity", "final_severity", "hac_status"]
EXTRA = ["initial_return_code", "initial_base_drg", "final_base_drg", "initial_med_surg", "final_med_surg",
         "initial_claim_severity", "final_claim_severity", "num_hac_categories_satisfied", "admit_dx_flag",
         "initial_drg_description", "final_drg_description", "initial_mdc_description", "final_mdc_description"]
DX = ["affects_drg", "initial_severity_usage", "final_severity_usage", "poa_error", "hacs",
      "recognized", "code", "poa", "table_mdc", "table_severity"]
PR = ["affects_drg", "is_or", "hac_usage", "recognized", "code"]
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ORACLE = os.path.join(HERE, "..", "..", "shared", "oracle")
# the labelled sets, in the order they are reported
SETS = ("v*_dev.jsonl*", "v*_dev2.jsonl*", "hac_dev.jsonl*", "stress_dev.jsonl*")


def oracle_files(directory: str) -> list[str]:
    """The labelled files of every set in a directory, set by set, sorted within a set."""
    return [f for pattern in SETS for f in sorted(glob.glob(os.path.join(directory, pattern)))]


def short_name(path: str) -> str:
    """Column name of a labelled file: v400 (first set), v400/2 (dev2), hac, stress."""
    stem = os.path.basename(path).split(".")[0]
    version, _, kind = stem.partition("_")
    return {"dev": version, "dev2": f"{version}/2"}.get(kind, version)


def read(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _norm(v):
    if isinstance(v, list):
        return sorted(json.dumps(x, sort_keys=True) for x in v)
    return v


def diff(expected: dict, got: dict, extra=True) -> list[str]:
    out = [f for f in TOP + (EXTRA if extra else []) if _norm(got.get(f)) != _norm(expected.get(f))]
    for kind, fields in (("pdx", DX), ("sdx", DX), ("procedures", PR)):
        ev, gv = expected.get(kind), got.get(kind)
        if kind == "pdx":
            ev, gv = [ev] if ev else [], [gv] if gv else []
        if len(ev or []) != len(gv or []):
            out.append(f"{kind}.len")
            continue
        for a, b in zip(ev or [], gv or []):
            for f in fields:
                if f in a and _norm(a.get(f)) != _norm(b.get(f)):
                    out.append(f"{kind}.{f}")
    return sorted(set(out))


# the fields the engine must match exactly, as columns of the per-field table
ISSUE_FIELDS = TOP + ["dx.affects_drg", "dx.initial_severity_usage", "dx.final_severity_usage", "dx.poa_error",
                      "dx.hacs", "pr.affects_drg", "pr.is_or", "pr.hac_usage"]
_ISSUE_FIELD = {f: f for f in TOP}
_ISSUE_FIELD.update({f"{k}.{f}": f"dx.{f}" for k in ("pdx", "sdx") for f in DX})
_ISSUE_FIELD.update({f"procedures.{f}": f"pr.{f}" for f in PR})
_ISSUE_FIELD.update({"pdx.len": "dx.affects_drg", "sdx.len": "dx.affects_drg", "procedures.len": "pr.affects_drg",
                     "CRASH": "initial_drg"})


def print_field_table(table) -> None:
    """Per version and per field: the share of claims identical to CMS in that field."""
    print()
    print("per field, % of claims identical to CMS (dx: principal and secondary diagnoses, pr: procedures)")
    width = max(len(f) for f in ISSUE_FIELDS)
    names = [short_name(name) for name, _, _ in table] + ["all"]
    print(f"{'field':{width}s} " + " ".join(f"{x:>7s}" for x in names))
    for f in ISSUE_FIELDS:
        cells, bad_all, n_all = [], 0, 0
        for _, n, per in table:
            bad = per.get("issue:" + f, 0)
            cells.append(100.0 * (n - bad) / max(n, 1))
            bad_all, n_all = bad_all + bad, n_all + n
        cells.append(100.0 * (n_all - bad_all) / max(n_all, 1))
        print(f"{f:{width}s} " + " ".join(f"{c:7.2f}" for c in cells))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--show", type=int, default=0)
    ap.add_argument("--field")
    ap.add_argument("--core", action="store_true", help="only the fields the issue lists")
    args = ap.parse_args(argv)
    paths = args.paths or [DEFAULT_ORACLE]
    files = []
    for p in paths:
        files += oracle_files(p) if os.path.isdir(p) else [p]
    total_bad = total = 0
    shown = 0
    table = []                          # (file, claims, per-field counts of differing claims)
    for path in files:
        t0 = time.perf_counter()
        n = bad = 0
        per_field: Counter = Counter()
        for claim in read(path):
            n += 1
            try:
                got = grouper.group(claim).to_dict()
            except Exception as exc:  # a crash is a difference, reported as such
                got = {"error": repr(exc)}
            d = diff(claim["expected"], got, extra=not args.core)
            if "error" in got:
                d = ["CRASH"] + d
            for f in d:
                per_field[f] += 1
            for f in {_ISSUE_FIELD.get(f) for f in d} - {None}:
                per_field["issue:" + f] += 1
            if d:
                bad += 1
                if shown < args.show and (args.field is None or args.field in d):
                    shown += 1
                    print(f"--- {claim['id']} differs in {d}")
                    print("claim:", json.dumps({k: v for k, v in claim.items() if k != "expected"}))
                    if "error" in got:
                        print(got["error"])
        dt = time.perf_counter() - t0
        total += n
        total_bad += bad
        name = os.path.basename(path)
        print(f"{name:22s} {n:6d} claims  {100.0 * (n - bad) / max(n, 1):7.2f}% identical  "
              f"({bad} differ)  {n / dt:8.0f} claims/s")
        for f, k in per_field.most_common():
            if not f.startswith("issue:"):
                print(f"    {f:34s} {k:6d} claims differ")
        table.append((name, n, per_field))
    print_field_table(table)
    print(f"ALL {total} claims: {100.0 * (total - total_bad) / max(total, 1):.2f}% identical in every field "
          f"({total_bad} differ)")
    return 0 if total_bad == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
