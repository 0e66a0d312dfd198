"""The Dask row of ``benchmarks/run.py``: the same claims grouped on a Dask LocalCluster of 2
worker processes.

    from scale_rows import dask_row
    row = dask_row("benchmarks/out/claims-1000000.jsonl.gz", 1_000_000)

``dask_row(claims_path, n, workers=2)`` reads the first ``n`` claims of the JSON-lines file,
writes them once as Parquet files (one per partition, 8 by default; not timed, like the
other rows' input files), then runs ``scale.py``'s Dask measurement in a new process: the
cluster's start, a first pass (every worker loads the tables), one more pass; each pass reads
the Parquet files, groups every claim (``grouper.integrations.dask.group_dataframe``) and
writes the input plus result columns as Parquet.  Returns a row in ``run.py``'s format:
``single_claims_per_s`` is left empty (this is a cluster path), ``parallel_claims_per_s`` the
second pass, ``parallel_first_pass_claims_per_s`` the first, ``load_s`` the cluster's start,
``jobs`` the workers; ``info`` has the whole-process wall time and the workers' RSS.
"""
from __future__ import annotations

import gzip
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import scale  # noqa: E402


def dask_row(claims_path: str, n: int, workers: int = 2, partitions: int = 8, timeout: float = 3600) -> dict:
    folder = os.path.join(scale.OUT, f"scale-from-{os.path.basename(claims_path).split('.')[0]}-{n}-{partitions}")
    if not (os.path.isdir(folder) and len(os.listdir(folder)) == partitions):
        op = gzip.open if claims_path.endswith(".gz") else open
        with op(claims_path, "rt", encoding="utf-8") as f:
            claims = [json.loads(line) for _, line in zip(range(n), f)]
        scale.write_parquet(claims, partitions, folder)
    t = time.perf_counter()
    res = scale.measure("dask", folder, workers, 1, n, timeout)
    wall = time.perf_counter() - t
    row = {"library": "grouper", "path": f"Dask group_dataframe, {workers} workers (Parquet in and out)", "n": n,
           "jobs": workers}
    if not res.get("ok"):
        row["note"] = f"failed: {res.get('note')}"
        return row
    row.update(load_s=res["startup_s"], parallel_claims_per_s=res["claims_per_s"],
               parallel_first_pass_claims_per_s=n / res["first_pass_s"], parallel_times_s=res["times_s"],
               info={"process_wall_s": wall, "worker_rss_mb": res.get("worker_rss_mb"),
                     "partitions": res.get("partitions"), "load_avg_1m": res.get("load_avg_1m")})
    return row


def rows(parquet_path: str, n: int, measure=None, workers: int = 2, partitions: int = 8,
         timeout: float = 3600) -> list[dict]:
    """The hook ``benchmarks/e2e.py`` calls (``run.py``'s end-to-end rows): the Parquet input of
    the end-to-end Parquet row, split into ``partitions`` files (not timed), grouped on a Dask
    LocalCluster of ``workers`` processes as :func:`dask_row` does.  ``measure`` (run.measure)
    is not needed: the Dask measurement runs in its own process already."""
    import pyarrow.parquet as pq
    table = pq.read_table(parquet_path)
    folder = os.path.join(scale.OUT, f"scale-e2e-{table.num_rows}-{partitions}")
    tmp = folder + ".tmp"
    os.makedirs(tmp, exist_ok=True)
    step = -(-table.num_rows // partitions)
    for k in range(partitions):
        pq.write_table(table.slice(k * step, step), os.path.join(tmp, f"part-{k:04d}.parquet"))
    if os.path.isdir(folder):
        import shutil
        shutil.rmtree(folder)
    os.rename(tmp, folder)
    t = time.perf_counter()
    res = scale.measure("dask", folder, workers, 1, table.num_rows, timeout)
    wall = time.perf_counter() - t
    row = {"library": "grouper", "path": f"end to end: Dask {workers} workers Parquet->Parquet", "n": table.num_rows,
           "jobs": workers}
    if not res.get("ok"):
        row["note"] = f"failed: {res.get('note')}"
        return [row]
    row.update(single_claims_per_s=res["claims_per_s"], load_s=res["startup_s"],
               note=(f"LocalCluster of {workers} processes, {partitions} Parquet files; claims/s of the second "
                     f"pass (first pass {table.num_rows / res['first_pass_s']:,.0f}/s, cluster start "
                     f"{res['startup_s']:.1f} s, whole process {wall:.1f} s)"))
    return [row]
