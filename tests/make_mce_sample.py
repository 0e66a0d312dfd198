"""Rebuild tests/data/mce_sample.jsonl.gz from the CMS-labelled MCE claims in ../shared/oracle.

    python tests/make_mce_sample.py [MCE_DEV_FILE]

Kept: every claim with an edit that fewer than 100 labelled claims have; up to 12 claims per
(kind of code, attribute, that code's edits), so every outcome of every attribute is there (all
claims of the rare ones: a non-covered or limited-coverage combination, the length-of-stay
procedure, ...); at least 8 claims per (edit, where it is: pdx/admit_dx/sdx/procedures/claim)
and per edit type; then seeded random claims up to 1,500.  The claims keep their input fields
and the CMS MCE's ``expected`` output unchanged.  Deterministic: the same
labelled file gives the same sample.
"""
from __future__ import annotations

import gzip
import json
import os
import random
import sys
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
TOTAL = 1500
RARE_EDIT = 100
PER_KEY = 8
PER_FLAG = 12


def _flags(t, c) -> set:
    """(kind of code, attribute, the code's edits) of every attributed code of the claim."""
    from grouper.reading.stay import read_date
    d = read_date(c["discharge_date"])
    e = c["expected"]
    out = set()
    codes = [("pdx", c["pdx"], e["pdx"]), ("admit_dx", c.get("admit_dx"), e["admit_dx"])]
    codes += [("sdx", s[0], x) for s, x in zip(c["sdx"], e["sdx"])]
    for kind, code, got in codes:
        if code:
            out |= {(kind, f, tuple(got["edits"])) for f in t.dx_flag_names(t.dx_flags(code, d))}
    for code, got in zip(c["procedures"], e["procedures"]):
        if code:
            out |= {("procedures", f, tuple(got["edits"])) for f in t.pr_flag_names(t.pr_flags(code, d))}
    return out


def main(path: str) -> None:
    from grouper.tables.mce import mce_tables
    t = mce_tables()
    with gzip.open(path, "rt", encoding="utf-8") as f:
        claims = [json.loads(line) for line in f if line.strip()]
    freq = Counter(k for c in claims for k in c["expected"]["edits"])
    chosen: dict[str, dict] = {}
    by_key = defaultdict(list)
    by_flag = defaultdict(list)
    for c in claims:
        e = c["expected"]
        if any(freq[k] < RARE_EDIT for k in e["edits"]):
            chosen[c["id"]] = c
        if e["edit_type"] != "INVALID_DISCHARGE_DATE":
            for flag in sorted(_flags(t, c)):
                by_flag[flag].append(c)
        by_key[("type", e["edit_type"])].append(c)
        placed = set()
        for where in ("pdx", "admit_dx"):
            for k in (e[where] or {}).get("edits", ()):
                by_key[(k, where)].append(c)
                placed.add(k)
        for where in ("sdx", "procedures"):
            for x in e[where]:
                for k in x["edits"]:
                    by_key[(k, where)].append(c)
                    placed.add(k)
        for k in e["edits"]:
            if k not in placed:
                by_key[(k, "claim")].append(c)
    for flag in sorted(by_flag):
        for c in by_flag[flag][:PER_FLAG]:
            chosen[c["id"]] = c
    for key in sorted(by_key, key=str):
        for c in by_key[key][:PER_KEY]:
            chosen[c["id"]] = c
    rest = [c for c in claims if c["id"] not in chosen]
    random.Random("grouper-mce-sample").shuffle(rest)
    for c in rest[:max(0, TOTAL - len(chosen))]:
        chosen[c["id"]] = c
    out = os.path.join(HERE, "data", "mce_sample.jsonl.gz")
    n = 0
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        for c in claims:
            if c["id"] in chosen:
                gz.write((json.dumps(c, separators=(",", ":")) + "\n").encode())
                n += 1
    print(f"wrote {out}: {n} of {len(claims)} claims, {os.path.getsize(out):,} bytes", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "shared", "oracle", "mce_dev.jsonl.gz"))
