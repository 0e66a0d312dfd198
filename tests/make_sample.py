"""Rebuild tests/data/oracle_sample.jsonl.gz from the CMS-labelled claims in ../shared/oracle.

    python tests/make_sample.py [ORACLE_DIR]

From the first sets (v*_dev), per version: every adversarial claim, at least two claims per
final DRG, every return code and HAC outcome, then seeded random claims up to 3,000.
From the later sets (v*_dev2, hac_dev, stress_dev): every claim that decides an inferred rule
(tests/rule_claims.py), up to CLASS_CAP claims per file of each rule class recognised from
CMS's labels (HAC outcomes, HAC/POA cases, lower-case codes, duplicated procedures, the
counter-marked DRG families...), then seeded random claims.  Only the fields the project
must match are kept in ``expected`` (legacy flags and descriptions are dropped) so the file
stays small.  Deterministic: the same oracle files give the same sample.
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
sys.path.insert(0, HERE)
from rule_claims import ALL_RULE_CLAIMS  # noqa: E402

PER_VERSION = 3000
# later sets: claims per rule class per file, and random claims per file (per version for
# the hac_dev and stress_dev files, which hold every version)
CLASS_CAP = 25
RANDOM_LATER = {"dev2": 250, "hac": 150, "stress": 60}
YW = ("Y", "W")
BILATERAL_DRGS = {461, 462}
STENT_DRGS = {246, 247, 248, 249, 321, 322}
FUSION_DRGS = {28, 29, 30, 402, 426, 427, 428, 429, 430, 447, 448, 453, 454, 455, 456, 457, 458, 459, 460}
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


def rule_classes(c: dict) -> set[str]:
    """The rule classes a labelled claim belongs to, read from CMS's labels."""
    e = c["expected"]
    sdx, procs = e["sdx"], e["procedures"]
    out = set()
    if e["hac_status"] != "NOT_APPLICABLE":
        out.add(f"hac:{c.get('hospital_status')}:{e['hac_status']}:{e['return_code']}")
    hac_sdx = [d for d in sdx if d["hacs"]]
    if any(d["poa"] not in YW for d in hac_sdx):
        out.add(f"hac_poa_not_yw:{c.get('hospital_status')}")
    if e["num_hac_categories_satisfied"] and any(
            d["poa"] not in YW + ("N", "U") and d["initial_severity_usage"].endswith("_EXCLUDED") for d in hac_sdx):
        out.add("hac_excluded_invalid_poa")
    if c.get("hospital_status") == "UNKNOWN" and len(sdx) == 1 and e["return_code"].startswith("HAC_"):
        out.add("hac_unknown_single_sdx")
    if any(h["hac_list"] == "hac06_show" and h["hac_status"] == "HAC_CRITERIA_MET" for d in sdx for h in d["hacs"]):
        out.add("hac06_show_met")
    if any(d["poa"] not in YW and all(h["hac_status"] == "HAC_CRITERIA_NOT_MET" for h in d["hacs"])
           and d["code"].startswith("T814") for d in hac_sdx):
        out.add(f"hac_multi_list:{c['version']}")
    if e["pdx"] and e["pdx"]["hacs"]:
        out.add("pdx_hac")
    codes = [e["pdx"]["code"] if e["pdx"] else None] + [d["code"] for d in sdx] + [p["code"] for p in procs]
    if any(isinstance(x, str) and x != x.upper() for x in codes):
        out.add("lower_case_code")
    pcodes = [p["code"] for p in procs]
    if len(set(pcodes)) < len(pcodes):
        out.add("duplicate_procedure")
    drgs = {e["initial_drg"], e["final_drg"]}
    for name, family in (("bilateral", BILATERAL_DRGS), ("stents", STENT_DRGS), ("fusion", FUSION_DRGS)):
        if drgs & family:
            out.add(f"drg_{name}:{c['version']}")
    if len(procs) >= 2 and procs[0]["affects_drg"] == "NONE" and any(p["affects_drg"] != "NONE" for p in procs[1:]):
        out.add(f"principal_not_marked:{c['version']}")
    return out


def later_sets(oracle_dir: str) -> list[tuple[str, str]]:
    """(kind, path) of the later labelled sets."""
    out = [("dev2", p) for p in sorted(glob.glob(os.path.join(oracle_dir, "v*_dev2.jsonl*")))]
    for kind in ("hac", "stress"):
        out += [(kind, p) for p in sorted(glob.glob(os.path.join(oracle_dir, f"{kind}_dev.jsonl*")))]
    return out


def pick_later(kind: str, path: str, claims: list) -> dict:
    """Claims kept from a later set: rule claims, rule classes (capped), random claims."""
    rng = random.Random(f"grouper-sample-{os.path.basename(path)}")
    chosen = {c["id"]: c for c in claims if c["id"] in ALL_RULE_CLAIMS}
    by_class = defaultdict(list)
    for c in claims:
        for k in rule_classes(c):
            by_class[k].append(c)
    for k in sorted(by_class):
        members = by_class[k]
        for c in (members if len(members) <= CLASS_CAP else rng.sample(members, CLASS_CAP)):
            chosen[c["id"]] = c
    groups = defaultdict(list)
    for c in claims:
        groups[c["version"] if kind != "dev2" else 0].append(c)
    for g in sorted(groups):
        rest = [c for c in groups[g] if c["id"] not in chosen]
        for c in rng.sample(rest, min(RANDOM_LATER[kind], len(rest))):
            chosen[c["id"]] = c
    return chosen


def _row(c: dict) -> dict:
    d = {k: v for k, v in c.items() if k not in ("expected", "meta")}
    d["scenario"] = c["meta"].get("scenario") or c["meta"]["mix"]
    d["expected"] = trim(c["expected"])
    return d


def _read(path: str) -> list:
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main(oracle_dir: str) -> None:
    rows = []
    for path in sorted(glob.glob(os.path.join(oracle_dir, "v*_dev.jsonl*"))):
        claims = _read(path)
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
        chosen.update((c["id"], c) for c in claims if c["id"] in ALL_RULE_CLAIMS)
        rows += [_row(c) for c in claims if c["id"] in chosen]
        print(f"{os.path.basename(path)}: {len(chosen)} of {len(claims)}", file=sys.stderr)
    for kind, path in later_sets(oracle_dir):
        claims = _read(path)
        chosen = pick_later(kind, path, claims)
        rows += [_row(c) for c in claims if c["id"] in chosen]
        print(f"{os.path.basename(path)}: {len(chosen)} of {len(claims)}", file=sys.stderr)
    missing = ALL_RULE_CLAIMS - {d["id"] for d in rows}
    if missing:
        raise SystemExit(f"rule claims not found in {oracle_dir}: {sorted(missing)}")
    out = os.path.join(HERE, "data", "oracle_sample.jsonl.gz")
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        for d in rows:
            gz.write((json.dumps(d, sort_keys=True, separators=(",", ":")) + "\n").encode())
    print(f"wrote {out}: {len(rows)} claims, {os.path.getsize(out):,} bytes", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "shared", "oracle"))
