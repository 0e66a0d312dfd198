"""1 -> 2 worker scaling of the DataFrame integrations (Dask, Spark) on generated claims.

    python benchmarks/scale.py                        # 200,000 claims, Dask and Spark, 1 and 2 workers
    python benchmarks/scale.py --n 50000 --engines dask --rounds 1
    python benchmarks/scale.py --engines dask --workers 2 --json out.json    # one row (benchmarks/run.py)

The claims (``generate.py``, seeded) are written once as Parquet files, one per partition
(``benchmarks/out/scale-claims-N/``, ``sdx`` as ``list<struct<code, poa>>``).  Each measured
configuration runs in its own process: it starts the cluster (a Dask ``LocalCluster`` of W
worker processes with one thread each, or a local SparkSession ``local[W]``), runs one
warm-up pass (every worker process loads the tables then), then ``--passes`` timed passes:
read the Parquet files, group every claim (``group_dataframe``), write the input plus result
columns as Parquet.  The figure is the median pass.  The configurations run in interleaved
rounds (1 worker, 2 workers, 1 worker, ...) so that both see the same moments of a shared
machine; the load average at each start is recorded.  Also measured, as the baseline: one
process reading the same files with pyarrow, grouping each file with the integrations' batch
function and writing Parquet, no cluster.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")


def prepare(n: int, partitions: int, seed: int, version: int) -> str:
    """Generated claims as ``partitions`` Parquet files (written once per n, partitions, seed, version)."""
    folder = os.path.join(OUT, f"scale-claims-{n}-{partitions}-{seed}-{version}")
    if os.path.isdir(folder) and len(os.listdir(folder)) == partitions:
        return folder
    sys.path.insert(0, HERE)
    from generate import generate
    return write_parquet(generate(n, seed=seed, version=version), partitions, folder)


def write_parquet(claims: list[dict], partitions: int, folder: str) -> str:
    """Claims (JSON-lines schema) as ``partitions`` Parquet files in ``folder``, ``sdx`` as
    ``list<struct<code, poa>>``."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    for c in claims:
        c["sdx"] = [{"code": code, "poa": poa} for code, poa in c.get("sdx") or ()]
    table = pa.Table.from_pylist(claims)
    tmp = folder + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    step = -(-len(claims) // partitions)
    for k in range(partitions):
        pq.write_table(table.slice(k * step, step), os.path.join(tmp, f"part-{k:04d}.parquet"))
    shutil.rmtree(folder, ignore_errors=True)
    os.rename(tmp, folder)
    return folder


# ---------------------------------------------------------------- one configuration (own process)


def _dask(src: str, workers: int, passes: int, out: str) -> dict:
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    from grouper.integrations.dask import group_dataframe
    t = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        started = time.perf_counter() - t

        def one_pass():
            shutil.rmtree(out, ignore_errors=True)
            t0 = time.perf_counter()
            ddf = dd.read_parquet(src, dtype_backend="pyarrow")     # list columns as Arrow lists
            group_dataframe(ddf).to_parquet(out, write_index=False)
            return time.perf_counter() - t0, ddf.npartitions

        first, parts = one_pass()
        times = [one_pass()[0] for _ in range(passes)]
        rss = client.run(lambda: __import__("psutil").Process().memory_info().rss)
    return {"startup_s": started, "first_pass_s": first, "times_s": times, "partitions": parts,
            "worker_rss_mb": sorted(round(v / 2**20) for v in rss.values())}


def _spark(src: str, workers: int, passes: int, out: str) -> dict:
    from pyspark.sql import SparkSession

    from grouper.integrations.spark import group_dataframe
    t = time.perf_counter()
    spark = (SparkSession.builder.master(f"local[{workers}]").appName("grouper-scale")
             .config("spark.ui.enabled", "false").config("spark.driver.memory", "2g")
             .config("spark.sql.execution.arrow.maxRecordsPerBatch", "50000")
             .config("spark.sql.files.maxPartitionBytes", str(os.path.getsize(_first_file(src)) + 1))
             .config("spark.sql.files.openCostInBytes", "0").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    started = time.perf_counter() - t
    try:
        def one_pass():
            t0 = time.perf_counter()
            sdf = spark.read.parquet(src)
            group_dataframe(sdf).write.mode("overwrite").parquet(out)
            return time.perf_counter() - t0, sdf.rdd.getNumPartitions()

        first, parts = one_pass()
        times = [one_pass()[0] for _ in range(passes)]
    finally:
        spark.stop()
    return {"startup_s": started, "first_pass_s": first, "times_s": times, "partitions": parts}


def _plain(src: str, workers: int, passes: int, out: str) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from grouper.integrations.batches import group_arrow, worker_options
    files = sorted(os.path.join(src, f) for f in os.listdir(src))
    opts = worker_options({})

    def one_pass():
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        t0 = time.perf_counter()
        for k, f in enumerate(files):
            table = pq.read_table(f)
            results = group_arrow(table, opts)
            both = pa.Table.from_arrays(table.columns + results.columns,
                                        names=[("input_" + n if n in results.column_names else n)
                                               for n in table.column_names] + results.column_names)
            pq.write_table(both, os.path.join(out, f"part-{k:04d}.parquet"))
        return time.perf_counter() - t0

    first = one_pass()
    return {"startup_s": 0.0, "first_pass_s": first, "times_s": [one_pass() for _ in range(passes)],
            "partitions": len(files)}


def _first_file(src: str) -> str:
    return os.path.join(src, sorted(os.listdir(src))[0])


def run_one(engine: str, src: str, workers: int, passes: int) -> dict:
    out = tempfile.mkdtemp(prefix=f"grouper-scale-{engine}-")
    try:
        res = {"dask": _dask, "spark": _spark, "plain": _plain}[engine](src, workers, passes, out)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return res


# ---------------------------------------------------------------- driver


def measure(engine: str, src: str, workers: int, passes: int, n: int, timeout: float) -> dict:
    """One configuration in a new process (its cluster, its workers' table loads)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p),
               PYSPARK_PYTHON=sys.executable)
    load = os.getloadavg()[0]
    cmd = [sys.executable, os.path.abspath(__file__), "--one", engine, "--src", src, "--workers", str(workers),
           "--passes", str(passes)]
    try:
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"engine": engine, "workers": workers, "ok": False, "note": f"timed out after {timeout:.0f} s"}
    if r.returncode != 0:
        return {"engine": engine, "workers": workers, "ok": False, "note": r.stderr.strip()[-600:]}
    res = json.loads(r.stdout.strip().splitlines()[-1])
    res.update(engine=engine, workers=workers, ok=True, load_avg_1m=round(load, 2))
    res["claims_per_s"] = n / statistics.median(res["times_s"])
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200_000, help="claims (default 200,000)")
    ap.add_argument("--partitions", type=int, default=8, help="Parquet files = partitions (default 8)")
    ap.add_argument("--engines", default="dask,spark", help="comma-separated: dask, spark (default both)")
    ap.add_argument("--workers", default="1,2", help="worker counts to compare (default 1,2)")
    ap.add_argument("--passes", type=int, default=3, help="timed passes per configuration (median)")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds of every configuration")
    ap.add_argument("--no-plain", action="store_true", help="skip the one-process baseline without a cluster")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--version", type=int, default=431)
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--src", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.src, int(args.workers), args.passes)))
        return 0
    os.makedirs(OUT, exist_ok=True)
    t0 = time.perf_counter()
    src = prepare(args.n, args.partitions, args.seed, args.version)
    print(f"claims: {args.n:,} in {args.partitions} Parquet files ({src}), {time.perf_counter() - t0:.1f} s",
          file=sys.stderr)
    configs = [(e, int(w)) for e in args.engines.split(",") for w in args.workers.split(",")]
    if not args.no_plain:
        configs.insert(0, ("plain", 1))
    runs: dict = {c: [] for c in configs}
    for r in range(args.rounds):
        for engine, w in configs:
            print(f"[{time.perf_counter() - t0:7.1f}s] round {r + 1}: {engine}, {w} worker(s)", file=sys.stderr,
                  flush=True)
            runs[(engine, w)].append(measure(engine, src, w, args.passes, args.n, args.timeout))
    rows = []
    for (engine, w), got in runs.items():
        ok = [g for g in got if g["ok"]]
        row = {"engine": engine, "workers": w, "n": args.n, "rounds": got,
               "claims_per_s": statistics.median(g["claims_per_s"] for g in ok) if ok else None,
               "note": "; ".join(g["note"] for g in got if not g["ok"]) or None}
        rows.append(row)
    by = {(r["engine"], r["workers"]): r for r in rows}
    for r in rows:
        base = by.get((r["engine"], 1))
        r["speedup_vs_1"] = (r["claims_per_s"] / base["claims_per_s"]
                             if r["claims_per_s"] and base and base["claims_per_s"] else None)
    info = {"n": args.n, "partitions": args.partitions, "passes": args.passes, "rounds": args.rounds,
            "cpus": os.cpu_count(), "python": sys.version.split()[0], "seed": args.seed, "version": args.version}
    print(f"\n{'engine':<7} {'workers':>7} {'claims/s':>10} {'vs 1':>6} {'startup s':>10} {'1st pass s':>10} "
          f"{'load avg':>9}  note")
    for r in rows:
        ok = [g for g in r["rounds"] if g["ok"]]
        startup = statistics.median(g["startup_s"] for g in ok) if ok else None
        first = statistics.median(g["first_pass_s"] for g in ok) if ok else None
        load = "/".join(f"{g['load_avg_1m']:.1f}" for g in ok)
        print(f"{r['engine']:<7} {r['workers']:>7} {_f(r['claims_per_s'], ',.0f'):>10} "
              f"{_f(r['speedup_vs_1'], '.2f'):>6} {_f(startup, '.1f'):>10} {_f(first, '.1f'):>10} {load:>9}  "
              f"{r['note'] or ''}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"info": info, "rows": rows}, f, indent=1)
    return 0 if all(r["claims_per_s"] for r in rows) else 1


def _f(x, spec):
    return "-" if x is None else format(x, spec)


if __name__ == "__main__":
    sys.exit(main())
