"""Timing harness shared by the benchmark workers (this library's and the peers' adapters).

Standard library only: the peer adapters import it from the peers' virtual
environment, this library's worker from the main interpreter.

A worker is one process that measures one thing and writes one JSON file:

    load_s          import + construct + group the first claim (from process start of the
                    measured code, before the import)
    rss_after_load_kb
    times_s         the timed runs over all claims (after ``warmup`` untimed runs)
    claims_per_s    n / median(times_s)
    final_drg       the final DRG per claim (last run), None where the claim was not grouped
    peak_rss_kb     VmHWM of the worker process (the parent also reads the whole tree's RSS)
"""
from __future__ import annotations

import gzip
import json
import os
import statistics
import sys
import time

T_START = time.perf_counter()


def read_claims(path: str, limit: int | None = None, skip: int = 0) -> list[dict]:
    op = gzip.open if path.endswith(".gz") else open
    out = []
    with op(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                if skip > 0:
                    skip -= 1
                    continue
                out.append(json.loads(line))
                if limit is not None and len(out) >= limit:
                    break
    return out


def first_claim(path: str) -> dict:
    return read_claims(path, 1)[0]


def proc_status_kb(field: str, pid: str = "self") -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_rss_kb() -> int | None:
    v = proc_status_kb("VmHWM")
    if v is None:
        import resource
        v = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return v


def rss_kb() -> int | None:
    return proc_status_kb("VmRSS")


WARMUP_TIMES: list[float] = []


def time_runs(fn, runs: int, warmup: int) -> tuple[list[float], object]:
    """Call ``fn()`` ``warmup`` times (their times go to ``WARMUP_TIMES``: the first pass over
    claims never seen, before any cache warmed up), then ``runs`` times timed; returns
    (times, last result)."""
    out = None
    for _ in range(warmup):
        t0 = time.perf_counter()
        out = fn()
        WARMUP_TIMES.append(time.perf_counter() - t0)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def auto_chunk(n: int, args) -> int:
    if getattr(args, "chunk", None):
        return args.chunk
    return max(50, min(2000, -(-n // (10 * max(1, args.jobs)))))


def chunked(seq: list, size: int) -> list[list]:
    return [seq[i:i + size] for i in range(0, len(seq), size)]


# ------------------------------------------------------------------ multiprocessing

_WORKER_STATE: dict = {}


def _pool_init(init_name: str, module: str, path_entry: str | None):
    if path_entry and path_entry not in sys.path:
        sys.path.insert(0, path_entry)
    mod = __import__(module, fromlist=["_"])
    _WORKER_STATE["group_chunk"] = mod.group_chunk
    _WORKER_STATE["ctx"] = getattr(mod, init_name)()


def _pool_run(chunk):
    return _WORKER_STATE["group_chunk"](_WORKER_STATE["ctx"], chunk)


def parallel_runner(module: str, jobs: int, init_name: str = "init"):
    """A process pool whose workers each build their grouper once (``module.init()``) and
    group chunks with ``module.group_chunk(ctx, chunk)``.  Fork start method where available."""
    import multiprocessing as mp
    ctx = mp.get_context("fork" if sys.platform != "win32" else "spawn")
    here = os.path.dirname(os.path.abspath(__file__))
    return ctx.Pool(jobs, initializer=_pool_init, initargs=(init_name, module, here))


def run_parallel(pool, chunks: list) -> list:
    out = []
    for part in pool.imap(_pool_run, chunks, chunksize=1):
        out.extend(part)
    return out


def warm_pool(pool, jobs: int, sample: list) -> None:
    """Make every worker build its grouper and group something before timing starts."""
    pool.map(_pool_run, [sample] * (jobs * 2), chunksize=1)


# ------------------------------------------------------------------ result


def finish(out_path: str, result: dict) -> None:
    result.setdefault("peak_rss_kb", peak_rss_kb())
    if WARMUP_TIMES and result.get("n"):
        result["warmup_s"] = list(WARMUP_TIMES)
        result["first_pass_claims_per_s"] = result["n"] / WARMUP_TIMES[0] if WARMUP_TIMES[0] > 0 else None
    if result.get("times_s"):
        med = statistics.median(result["times_s"])
        result["median_s"] = med
        result["claims_per_s"] = result["n"] / med if med > 0 else None
    tmp = out_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f)
    os.replace(tmp, out_path)


def common_args(argv=None, extra=None):
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("claims", help="claims JSONL file (the labelled-claims schema)")
    ap.add_argument("out", help="result JSON file")
    ap.add_argument("--mode", choices=["single", "parallel", "batch", "batch-parallel", "batch-columns",
                                       "per-claim-all", "edit-single", "edit-batch", "batch-edits", "batch-arrow"],
                    default="single")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--chunk", type=int, help="claims per task in parallel mode (default: about "
                                                  "n / (10 * jobs), 50..2000)")
    ap.add_argument("--unseen", help="a claims file for one more timed pass, after the timed runs, over "
                                     "claims not grouped before in the process (caches warm, claims new)")
    ap.add_argument("--unseen-skip", type=int, default=0, help="lines of --unseen to skip")
    ap.add_argument("--unseen-n", type=int, help="claims of --unseen to use (default: as many as measured)")
    if extra:
        extra(ap)
    return ap.parse_args(argv)


# ------------------------------------------------------------------ generic adapter driver


def _safe_loop(group_one, ctx, items):
    out = []
    append = out.append
    for x in items:
        if x is None:
            append(None)
            continue
        try:
            append(group_one(ctx, x))
        except Exception:
            append(None)
    return out


def _safe_convert(convert, claim):
    try:
        return convert(claim)
    except Exception:
        return None


def run_adapter(mod, name: str, argv=None) -> int:
    """Drive a per-claim grouper module with ``load() -> ctx``, ``convert(claim) -> input | None``
    (None = the peer cannot take this claim) and ``group_one(ctx, input) -> final DRG``."""
    args = common_args(argv)
    first = first_claim(args.claims)
    t0 = time.perf_counter()
    ctx = mod.load()
    first_drg = mod.group_one(ctx, mod.convert(first)) if mod.convert(first) is not None else None
    load_s = time.perf_counter() - t0
    result = {"name": name, "mode": args.mode, "load_s": load_s, "rss_after_load_kb": rss_kb(),
              "first_drg": first_drg, "info": getattr(mod, "info", dict)()}
    claims = read_claims(args.claims, args.limit)
    t1 = time.perf_counter()
    items = [_safe_convert(mod.convert, c) for c in claims]
    result["convert_s"] = time.perf_counter() - t1
    result["n"] = len(items)
    result["unsupported"] = sum(x is None for x in items)
    del claims
    unseen = None
    if args.unseen:
        unseen = [_safe_convert(mod.convert, c)
                  for c in read_claims(args.unseen, args.unseen_n or len(items), args.unseen_skip)]
    if args.mode == "single":
        times, drgs = time_runs(lambda: _safe_loop(mod.group_one, ctx, items), args.runs, args.warmup)
        if unseen:
            t = time.perf_counter()
            _safe_loop(mod.group_one, ctx, unseen)
            result["unseen_s"] = time.perf_counter() - t
    else:
        pool = parallel_runner("__main__", args.jobs)
        try:
            warm_pool(pool, args.jobs, items[: min(len(items), 50)])
            chunks = chunked(items, auto_chunk(len(items), args))
            times, drgs = time_runs(lambda: run_parallel(pool, chunks), args.runs, args.warmup)
            if unseen:
                uchunks = chunked(unseen, auto_chunk(len(unseen), args))
                t = time.perf_counter()
                run_parallel(pool, uchunks)
                result["unseen_s"] = time.perf_counter() - t
        finally:
            pool.close()
            pool.join()
        result["jobs"] = args.jobs
    if unseen:
        result["unseen_n"] = len(unseen)
        result["unseen_claims_per_s"] = len(unseen) / result["unseen_s"] if result["unseen_s"] > 0 else None
    result["times_s"] = times
    result["errors"] = sum(d is None for d in drgs) - result["unsupported"]
    result["final_drg"] = drgs
    finish(args.out, result)
    return 0


def make_chunk_grouper(mod):
    def group_chunk(ctx, chunk):
        return _safe_loop(mod.group_one, ctx, chunk)
    return group_chunk
