"""End-to-end rows of ``run.py``: process start to file written, the same claims, ratios paired
in time (every round runs every job once, interleaved).

    python benchmarks/e2e.py --n 50000 --rounds 3 [--rss-n 1000000]   # on its own
    (run.py calls :func:`e2e_rows`; the cold-start rows are benchmarks/cold.py's)

Jobs per round, on the first ``n`` claims of the benchmark file:

* ``grouper JSONL->CSV``           ``python -m grouper group claims.jsonl -o out.csv``
* ``msdrg script JSONL->CSV``       ``peer_msdrg_e2e.py claims.jsonl out.csv`` (read, group each claim, write)
* ``grouper JSONL->JSONL (full)``   ``python -m grouper group claims.jsonl -o out.jsonl`` (default: full detail)
* ``msdrg script JSONL->JSONL``     msdrg's whole result per claim (its per-code flags included)
* ``grouper Parquet->Parquet``      ``python -m grouper group claims.parquet -o out.parquet`` (summary columns),
  on ``--parquet-n`` claims (the benchmark file repeated; run.py: the peak-RSS file, 1,000,000),
  and with ``--jobs N`` too when run.py runs with ``--jobs N`` (Parquet->Parquet and the full detail)
* ``msdrg per-claim``               ``peer_msdrg.py`` (the claims converted first; one timed pass): the
  denominator of the Parquet row's ratio

Cold start (benchmarks/cold.py's rows): a new process that imports the library and groups one
claim, ``--cold-runs`` times each, interleaved: the wheel installed in a clean venv, the source
tree, msdrg (wall time and peak RSS of the whole process; medians).

Peak RSS streaming ``--rss-n`` claims (the benchmark file repeated): JSONL->CSV and
Parquet->Parquet, one run each.

A hook for rows measured elsewhere (Dask / Spark): if ``benchmarks/scale_rows.py`` exists, its
``rows(parquet_path, n, measure) -> list[dict]`` is called with the Parquet input of the
Parquet row and :func:`run.measure`, and the rows it returns are added.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")

COLD_CLAIM = {"version": 431, "pdx": "I2109", "pdx_poa": "Y", "sdx": [["I5022", "N"], ["N179", "Y"]],
              "procedures": ["02703DZ"], "sex": "M", "discharge_status": 1, "age": 70}
# the child reports its own peak RSS (VmHWM of /proc/self/status): the wait4 figure of a child
# starts from its parent's RSS at fork on Linux
HWM = "print([x for x in open('/proc/self/status') if x.startswith('VmHWM')][0].split()[1], 'kB')\n"
GROUPER_COLD = f"import grouper\nr = grouper.group({COLD_CLAIM!r})\nassert r.final_drg > 0\n" + HWM
MSDRG_COLD = ("import msdrg\ng = msdrg.MsdrgGrouper()\n"
              "r = g.group({'version': 431, 'age': 70, 'sex': 0, 'discharge_status': 1,"
              " 'pdx': {'code': 'I2109', 'poa': 'Y'}, 'sdx': [{'code': 'I5022', 'poa': 'N'},"
              " {'code': 'N179', 'poa': 'Y'}], 'procedures': [{'code': '02703DZ'}]})\n"
              "assert r['final_drg'] > 0\n" + HWM)


def head(src: str, n: int) -> str:
    """The first ``n`` lines of ``src`` as a file of their own (cached)."""
    dst = os.path.join(OUT, f"e2e-first{n}.jsonl")
    if not os.path.exists(dst):
        with open(src, encoding="utf-8") as f, open(dst + ".tmp", "w", encoding="utf-8") as out:
            for i, line in enumerate(f):
                if i >= n:
                    break
                out.write(line)
        os.replace(dst + ".tmp", dst)
    return dst


def to_parquet(src: str, dst: str, repeat: int = 1) -> str:
    """The claims of a JSON-lines file as Parquet in the documented schema (not timed)."""
    if os.path.exists(dst):
        return dst
    import pyarrow.parquet as pq

    from grouper.bulk.arrow import claims_table
    writer = None
    for _ in range(repeat):
        with open(src, encoding="utf-8") as f:
            while True:
                lines = [line for _, line in zip(range(100_000), f)]
                if not lines:
                    break
                t = claims_table([json.loads(x) for x in lines])
                if writer is None:
                    schema = t.schema
                    writer = pq.ParquetWriter(dst + ".tmp", schema)
                writer.write_table(t.cast(schema))
    writer.close()
    os.replace(dst + ".tmp", dst)
    return dst


def repeated(src: str, n: int) -> str:
    """A JSON-lines file of ``n`` claims: ``src`` repeated (cached)."""
    dst = os.path.join(OUT, f"e2e-repeated{n}.jsonl")
    if not os.path.exists(dst):
        written = 0
        with open(dst + ".tmp", "w", encoding="utf-8") as out:
            while written < n:
                with open(src, encoding="utf-8") as f:
                    for line in f:
                        if written >= n:
                            break
                        out.write(line)
                        written += 1
        os.replace(dst + ".tmp", dst)
    return dst


def _hwm_kb(log_tail: str):
    for line in reversed(log_tail.splitlines()):
        if line.endswith(" kB") and line.split()[0].isdigit():
            return int(line.split()[0])
    return None


def _ok(m) -> bool:
    return m["rc"] in (0, 1) and not m["timed_out"]


def e2e_rows(big: str, n: int, rounds: int, timeout: float, measure, run_worker, peer_python: str | None,
             parquet_n: int | None = None, jobs_n: int = 1) -> tuple:
    """(rows, raw) of the end-to-end jobs on the first ``n`` claims of ``big``; the Parquet rows
    on ``parquet_n`` claims (``big`` repeated; default ``n``): a columnar job is measured where
    a columnar user runs it, on a file large enough that the process start is not the figure
    (the rate is claims / (process start to file written) all the same); with ``jobs_n`` > 1
    also the same job with ``--jobs jobs_n``."""
    py = sys.executable
    src = head(big, n)
    parquet_n = parquet_n or n
    pq_src = src if parquet_n == n else repeated(big, parquet_n)
    pq_in = to_parquet(pq_src, os.path.join(OUT, f"e2e-{'first' if parquet_n == n else 'repeated'}{parquet_n}.parquet"))
    o = lambda name: os.path.join(OUT, f"e2e-out-{name}")  # noqa: E731
    jobs = [("grouper JSONL->CSV", [py, "-m", "grouper", "group", src, "-o", o("g.csv"), "--quiet"]),
            ("grouper JSONL->JSONL (full detail)", [py, "-m", "grouper", "group", src, "-o", o("g.jsonl"), "--quiet"]),
            ("grouper Parquet->Parquet", [py, "-m", "grouper", "group", pq_in, "-o", o("g.parquet"), "--quiet"])]
    if jobs_n > 1:
        jobs.append((f"grouper Parquet->Parquet --jobs {jobs_n}",
                     [py, "-m", "grouper", "group", pq_in, "-o", o("g2.parquet"), "--quiet", "--jobs", str(jobs_n)]))
        jobs.append((f"grouper JSONL->JSONL (full detail) --jobs {jobs_n}",
                     [py, "-m", "grouper", "group", src, "-o", o("g2.jsonl"), "--quiet", "--jobs", str(jobs_n)]))
    size = {name: parquet_n if "Parquet" in name else n for name, _ in jobs}
    if peer_python:
        script = os.path.join(HERE, "peer_msdrg_e2e.py")
        jobs += [("msdrg script JSONL->CSV", [peer_python, script, src, o("m.csv")]),
                 ("msdrg script JSONL->JSONL", [peer_python, script, src, o("m.jsonl")])]
    times: dict = {name: [] for name, _ in jobs}
    rss: dict = {name: [] for name, _ in jobs}
    per_claim: list = []
    for r in range(rounds):
        for name, cmd in jobs:
            m = measure(cmd, "e2e-" + "".join(c if c.isalnum() else "-" for c in name) + f"-round{r + 1}", timeout)
            times[name].append(m["wall_s"] if _ok(m) else None)
            rss[name].append(m["peak_tree_rss_kb"])      # sampled every 0.2 s (see _hwm_kb)
        if peer_python:
            res = run_worker([peer_python, os.path.join(HERE, "peer_msdrg.py"), src, "--mode", "single",
                              "--runs", "1", "--warmup", "1"], f"e2e-msdrg-single-round{r + 1}", timeout)
            if res.get("ok") and res.get("times_s"):
                per_claim.append(res["n"] / res["times_s"][0])
    rate = {}
    for name, ts in times.items():
        good = [t for t in ts if t]
        rate[name] = size.get(name, n) / statistics.median(good) if len(good) == len(ts) and good else None
    msdrg_single = statistics.median(per_claim) if per_claim else None
    ratios = {"grouper JSONL->CSV": "msdrg script JSONL->CSV",
              "grouper JSONL->JSONL (full detail)": "msdrg script JSONL->JSONL",
              f"grouper JSONL->JSONL (full detail) --jobs {jobs_n}": "msdrg script JSONL->JSONL"}
    rows = []
    for name, _ in jobs:
        row = {"library": name.split()[0], "path": "end to end: " + name.split(" ", 1)[1], "n": size.get(name, n),
               "single_claims_per_s": rate[name], "e2e_times_s": times[name],
               "peak_rss_kb": max((x for x in rss[name] if x), default=None),
               "note": f"process start to file written; median of {rounds} interleaved rounds"}
        ref = ratios.get(name)
        if ref and rate.get(ref) and rate[name]:
            per_round = [b / a for a, b in zip(times[name], times[ref]) if a and b]
            row["vs_msdrg"] = statistics.median(per_round)
            row["note"] += f"; x{row['vs_msdrg']:.2f} the msdrg script (median of per-round ratios)"
        if name.startswith("grouper Parquet->Parquet") and msdrg_single and rate[name]:
            row["vs_msdrg"] = rate[name] / msdrg_single
            row["note"] += (f"; x{row['vs_msdrg']:.1f} msdrg per-claim ({msdrg_single:,.0f} claims/s, "
                            f"same rounds)")
        rows.append(row)
    if msdrg_single:
        rows.append({"library": "msdrg", "path": "per-claim (e2e rounds)", "n": n, "single_claims_per_s": msdrg_single,
                     "note": "peer_msdrg.py, one timed pass per round after a warm-up, claims converted first"})
    raw = {"times_s": times, "rss_kb": rss, "msdrg_single_claims_per_s": per_claim, "parquet_input": pq_in}
    hook = os.path.join(HERE, "scale_rows.py")
    if os.path.exists(hook):
        sys.path.insert(0, HERE)
        try:
            import scale_rows
            rows.extend(scale_rows.rows(pq_in, n, measure))
        except Exception as exc:  # the hook's rows are optional; say why they are missing
            rows.append({"library": "grouper", "path": "scale rows (scale_rows.py)", "note": f"failed: {exc!r}"})
    return rows, raw


def rss_rows(big: str, n: int, timeout: float, measure) -> tuple:
    """(rows, raw): peak RSS streaming ``n`` claims JSONL->CSV and Parquet->Parquet (one run each)."""
    py = sys.executable
    src = repeated(big, n)
    pq_in = to_parquet(src, os.path.join(OUT, f"e2e-repeated{n}.parquet"))
    rows, raw = [], {}
    for name, cmd in (("JSONL->CSV", [py, "-m", "grouper", "group", src, "-o", os.path.join(OUT, "rss.csv"),
                                      "--quiet"]),
                      ("Parquet->Parquet", [py, "-m", "grouper", "group", pq_in, "-o",
                                            os.path.join(OUT, "rss.parquet"), "--quiet"])):
        m = measure(cmd, "rss-" + name.replace(">", ""), timeout)
        raw[name] = m
        rows.append({"library": "grouper", "path": f"stream {n:,} claims {name}", "n": n,
                     "single_claims_per_s": n / m["wall_s"] if _ok(m) else None, "peak_rss_kb": m["peak_tree_rss_kb"],
                     "note": "peak RSS of the whole run, sampled every 0.2 s (one run)"
                             + ("" if _ok(m) else f"; failed, see {m['log']}")})
    return rows, raw


def print_rows(rows) -> None:
    for r in rows:
        rate = r.get("single_claims_per_s")
        bits = [f"{r['library']:8s} {r['path'][:52]:52s}",
                f"{rate:>10,.0f}/s" if rate else f"{'':>12s}",
                f"x{r['vs_msdrg']:.2f}" if r.get("vs_msdrg") else "     ",
                f"{r['cold_start_s']:.3f} s" if r.get("cold_start_s") else "",
                f"{r['peak_rss_kb'] / 1024:.0f} MB" if r.get("peak_rss_kb") else ""]
        print("  ".join(bits))


def main(argv=None) -> int:
    sys.path.insert(0, HERE)
    import run

    import peers as peers_env
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", help="claims JSONL (default: the newest benchmarks/out/claims-*.jsonl)")
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cold-runs", type=int, default=5)
    ap.add_argument("--rss-n", type=int, default=0, help="also stream this many claims for the peak RSS (0: skip)")
    ap.add_argument("--parquet-n", type=int, help="claims for the Parquet rows (default --n)")
    ap.add_argument("--jobs", type=int, default=1, help="also the Parquet and full-detail rows with --jobs N")
    ap.add_argument("--timeout", type=float, default=3600)
    args = ap.parse_args(argv)
    big = args.claims
    if big is None:
        cands = sorted((os.path.join(OUT, f) for f in os.listdir(OUT) if f.startswith("claims-")
                        and f.endswith(".jsonl") and "first" not in f), key=os.path.getmtime)
        big = cands[-1]
    status = peers_env.status()
    peer_python = status.get("python") if status.get("peers", {}).get("msdrg", {}).get("ok") else None
    import cold
    rows = cold.cold_rows(args.cold_runs, run.measure)
    raw = {"cold-start": list(rows)}
    more, raw["e2e"] = e2e_rows(big, args.n, args.rounds, args.timeout, run.measure, run.run_worker, peer_python,
                                parquet_n=args.parquet_n, jobs_n=args.jobs)
    rows += more
    if args.rss_n:
        more, raw["rss"] = rss_rows(big, args.rss_n, args.timeout, run.measure)
        rows += more
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "e2e.json"), "w") as f:
        json.dump({"rows": rows, "raw": raw, "claims": big}, f, indent=1, default=str)
    print_rows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
