"""Rebuild tests/data/oracle_sample.jsonl.gz from the CMS-labelled claims in ../shared/oracle.

    python tests/make_sample.py [ORACLE_DIR]

Per version: every adversarial claim, at least two claims per final DRG, every return code
and HAC outcome, then seeded random claims up to 3,000.  Only the fields the project must
match are kept in ``expected`` (legacy flags and descriptions are dropped) so the file stays
small.  Deterministic: the same oracle files give the same sample.
"""
from __future__ import annotations

import glob
import gzip
import json
import os
import random
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
PER_VERSION = 3000
TOP = ["initial_drg", "initial_mdc", "final_drg", "final_mdc", "return_code", "initial_return_code",
       "initial_severity", "final_severity", "initial_claim_severity", "final_claim_severity", "hac_status",
       "num_hac_categories_satisfied", "initial_base_drg", "final_base_drg", "initial_med_surg",
       "final_med_surg", "admit_dx_flag"]
DX = ["code", "poa", "recognized", "affects_drg", "initial_severity_usage", "final_severity_usage",
      "poa_error", "hacs"]
PR = ["code", "recognized", "affects_drg", "is_or", "hac_usage"]


def trim(e: dict) -> dict:
    out = {k: e[k] for k in TOP}
    out["pdx"] = {k: e["pdx"][k] for k in DX} if e.get("pdx") else None
    out["sdx"] = [{k: d[k] for k in DX} for d in e["sdx"]]
    out["procedures"] = [{k: p[k] for k in PR} for p in e["procedures"]]
    return out


def main(oracle_dir: str) -> None:
    rows = []
    for path in sorted(glob.glob(os.path.join(oracle_dir, "v*_dev.jsonl*"))):
        op = gzip.open if path.endswith(".gz") else open
        with op(path, "rt", encoding="utf-8") as f:
            claims = [json.loads(line) for line in f if line.strip()]
        rng = random.Random(f"grouper-sample-{os.path.basename(path)}")
        chosen: dict[str, dict] = {}
        by_key = defaultdict(list)
        for c in claims:
            e = c["expected"]
            if c["meta"]["mix"] == "adversarial":
                chosen[c["id"]] = c
            by_key[("drg", e["final_drg"])].append(c)
            by_key[("rc", e["return_code"])].append(c)
            by_key[("hac", e["hac_status"])].append(c)
        for key in sorted(by_key, key=str):
            for c in by_key[key][:2]:
                chosen[c["id"]] = c
        rest = [c for c in claims if c["id"] not in chosen]
        rng.shuffle(rest)
        for c in rest[:max(0, PER_VERSION - len(chosen))]:
            chosen[c["id"]] = c
        for c in claims:
            if c["id"] in chosen:
                d = {k: v for k, v in c.items() if k not in ("expected", "meta")}
                d["scenario"] = c["meta"].get("scenario") or c["meta"]["mix"]
                d["expected"] = trim(c["expected"])
                rows.append(d)
        print(f"{os.path.basename(path)}: {len(chosen)} of {len(claims)}", file=sys.stderr)
    out = os.path.join(HERE, "data", "oracle_sample.jsonl.gz")
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        for d in rows:
            gz.write((json.dumps(d, sort_keys=True, separators=(",", ":")) + "\n").encode())
    print(f"wrote {out}: {len(rows)} claims, {os.path.getsize(out):,} bytes", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "shared", "oracle"))
