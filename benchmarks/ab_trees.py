"""Interleaved A/B of two checkouts: per-claim group() and group_batch claims/s, in one run.

    python benchmarks/ab_trees.py OLD_TREE [NEW_TREE] [--n 300000] [--n-single 30000] [--rounds 5]

Each tree's own ``benchmarks/bench_grouper.py`` runs in a fresh process (it imports the
``grouper`` of its tree) on the same generated claims; the rounds alternate old and new for
every mode (``single``: ``group()`` per claim; ``batch``: ``group_batch`` on the whole list),
with run.py's interleaving machinery, so both trees get the same share of a busy machine.
Prints the median claims/s per tree and mode and the new/old ratio; the raw figures go to
``benchmarks/out/ab_trees.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old", help="the checkout to compare against (its root folder)")
    ap.add_argument("new", nargs="?", default=os.path.dirname(HERE), help="default: this checkout")
    ap.add_argument("--n", type=int, default=300_000, help="claims for group_batch")
    ap.add_argument("--n-single", type=int, default=30_000, help="claims for the per-claim path")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=2400)
    args = ap.parse_args(argv)
    big, small = run.prepare_claims(args.n, args.n_single, args.seed, 431, args.timeout)
    trees = {"old": os.path.abspath(args.old), "new": os.path.abspath(args.new)}
    one_pass = ["--runs", "1", "--warmup", "1"]
    jobs = []
    for mode, claims in (("single", small), ("batch", big)):
        for name, tree in trees.items():
            jobs.append((f"{name}-{mode}", [sys.executable, os.path.join(tree, "benchmarks", "bench_grouper.py"),
                                            claims, "--mode", mode] + one_pass))
    res = run.run_rounds(jobs, args.rounds, args.timeout)
    out = {"trees": trees, "n": args.n, "n_single": args.n_single, "rounds": args.rounds, "results": {}}
    print(f"{args.rounds} interleaved rounds; {args.n_single:,} claims per-claim, {args.n:,} batch "
          f"(median of the timed passes, one per round)")
    for mode in ("single", "batch"):
        rates = {}
        for name in trees:
            r = res[f"{name}-{mode}"]
            if not r.get("ok"):
                print(f"{name} {mode}: failed: {r.get('note')}")
                return 1
            per_round = [r["n"] / t for t in r["times_s"]]
            rates[name] = statistics.median(per_round)
            out["results"][f"{name}-{mode}"] = {"claims_per_s": per_round, "median": rates[name],
                                                 "agree": r.get("rounds_agree")}
        same = res[f"old-{mode}"].get("final_drg") == res[f"new-{mode}"].get("final_drg")
        ratio = rates["new"] / rates["old"]
        print(f"{mode:7s} old {rates['old']:9,.0f}/s   new {rates['new']:9,.0f}/s   new/old {ratio:.3f}"
              f"   same final DRGs: {same}")
        out["results"][f"{mode}-same-drgs"] = same
    os.makedirs(run.OUT, exist_ok=True)
    with open(os.path.join(run.OUT, "ab_trees.json"), "w") as f:
        json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
