"""Figures of the reliability work (docs/reliability.md), measured on generated claims:

* peak RSS of ``python -m grouper audit`` on N claims (whole process, from wait4);
* the time a ``--jobs 2`` run takes to stop after Ctrl-C (SIGINT to its process group),
  from the signal to the exit, over several runs.

    python benchmarks/faults.py --claims 200000 --stops 5

The claims come from benchmarks/generate.py (seeded); each gets a discharge date, an
admission date, charges and a billed DRG: the regrouped DRG for 90% of them, a
neighbouring DRG for the rest (so that audit explains a difference on one claim in ten).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(_HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, _HERE)


def audit_claims(n: int, path: str, seed: int = 7) -> None:
    from generate import generate

    import grouper
    claims = generate(n, seed=seed, version=431)
    drg = grouper.group_batch(claims).final_drg.tolist()
    rng = random.Random(seed)
    with open(path, "w") as f:
        for c, d in zip(claims, drg):
            c.pop("version", None)
            c["discharge_date"] = "2026-05-10"
            c["admission_date"] = f"2026-05-0{rng.randint(1, 9)}"
            c["billed_drg"] = d if rng.random() < 0.9 else (d + 1 if d < 999 else d - 1)
            c["charges"] = rng.randint(5_000, 200_000)
            f.write(json.dumps(c) + "\n")


def peak_rss(args: list[str]) -> tuple[float, int, int]:
    """(seconds, peak RSS in kB, exit status) of one command run to the end."""
    t0 = time.perf_counter()
    p = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - t0, usage.ru_maxrss, p.returncode


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def stop_time(src: str, out: str) -> tuple[float, int]:
    """Seconds from Ctrl-C (SIGINT to the process group) to the exit of a running --jobs 2 run."""
    p = subprocess.Popen([sys.executable, "-m", "grouper", "group", src, "-o", out, "--jobs", "2", "--chunk", "500",
                          "--quiet"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    folder = os.path.dirname(out)
    while len(children(p.pid)) < 2 or not any(x.endswith(".part") for x in os.listdir(folder)):
        if p.poll() is not None:
            raise SystemExit("the run ended before it could be interrupted: give more claims")
        time.sleep(0.05)
    time.sleep(1.0)                                  # well into the run
    t0 = time.perf_counter()
    os.killpg(p.pid, signal.SIGINT)
    status = p.wait()
    return time.perf_counter() - t0, status


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--claims", type=int, default=200_000)
    ap.add_argument("--stops", type=int, default=5, help="interrupted --jobs 2 runs to time")
    ap.add_argument("--make-claims", metavar="PATH", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.make_claims:
        audit_claims(a.claims, a.make_claims)
        return
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "claims.jsonl")
        # in another process: a child's peak RSS (wait4) starts from its parent's at fork, so
        # this process must stay small
        subprocess.run([sys.executable, __file__, "--claims", str(a.claims), "--make-claims", src], check=True)
        secs, rss, status = peak_rss([sys.executable, "-m", "grouper", "audit", src, "-o",
                                      os.path.join(tmp, "audit.jsonl"), "--quiet"])
        print(f"audit of {a.claims:,} claims: {secs:.1f} s, peak RSS {rss / 1024:,.0f} MB, exit {status}")
        times = []
        for _ in range(a.stops):
            t, status = stop_time(src, os.path.join(tmp, "out.jsonl"))
            assert status == 130, status
            assert not any(x.endswith(".part") for x in os.listdir(tmp)), "a temporary file was left"
            times.append(t)
        print(f"--jobs 2 run stopped by Ctrl-C: median {statistics.median(times):.3f} s, max {max(times):.3f} s "
              f"over {len(times)} runs (exit 130, no temporary file left)")


if __name__ == "__main__":
    main()
