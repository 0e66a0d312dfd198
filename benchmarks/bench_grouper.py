"""Worker: this library's grouping paths, one measurement per process (used by ``run.py``).

    python benchmarks/bench_grouper.py CLAIMS.jsonl OUT.json --mode single|parallel|batch|batch-parallel

* ``single``         ``grouper.group(claim_dict)`` in a loop (the per-claim path)
* ``parallel``       the same loop in ``--jobs`` forked worker processes, over chunks
* ``batch``          ``grouper.group_batch(claims)`` on the whole list -> ``.final_drg``
* ``batch-parallel`` ``group_batch`` on chunks in ``--jobs`` worker processes
* ``batch-columns``  ``group_batch(columns)``: the claims converted to the batch API's columnar
  input (``grouper.Columns``) before timing starts, as the peers' inputs are converted
  to their own APIs; the conversion time is reported as ``convert_s``
* ``batch-arrow``    ``group_batch(table)``: the claims as an Arrow table in the documented
  schema (``grouper.bulk.arrow.claims_table``, converted before timing starts, reported as
  ``convert_s``), read a whole column at a time
* ``per-claim-all``  ``grouper.group`` once over every claim (no repeats): the reference
  final DRGs for checking the batch path on the whole file
* ``edit-single``    ``grouper.edit(claim)`` (the Medicare Code Editor) in a loop
* ``edit-batch``     ``grouper.mce.edit_batch(claims)``: the MCE vectorized
* ``batch-edits``    ``grouper.group_batch(claims, edits=True)``: grouping and the MCE together

The MCE modes give each claim a stay (:func:`with_stay`: a discharge date in its version's
dates and a length of stay, both from its position: seeded, the same in every mode) and report
each claim's edit type (``edit_type``) instead of a DRG.

Batch modes write ``{"available": false}`` when ``grouper.group_batch`` does not exist.
"""
from __future__ import annotations

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import _harness  # noqa: E402

# ---- per-claim path (module protocol of _harness.run_adapter)

def load():
    import grouper
    return grouper


init = load


def convert(c):
    return c


def group_one(g, claim):
    return g.group(claim).final_drg


group_chunk = _harness.make_chunk_grouper(sys.modules[__name__])


# ---- batch path

def _final(res, n):
    fd = getattr(res, "final_drg", None)
    if fd is None and isinstance(res, dict):
        fd = res.get("final_drg")
    if fd is None:
        raise TypeError(f"group_batch returned {type(res).__name__} without a final_drg array")
    out = fd.tolist() if hasattr(fd, "tolist") else list(fd)
    if len(out) != n:
        raise ValueError(f"group_batch returned {len(out)} final DRGs for {n} claims")
    return [None if (x is None or (isinstance(x, int) and x < 0)) else int(x) for x in out]


def batch_init():
    import grouper
    return grouper


def batch_chunk(g, chunk):
    return _final(g.group_batch(chunk), len(chunk))


def with_stay(claims: list[dict]) -> list[dict]:
    """The claims with a discharge date in their version's dates and a length of stay of 0-20
    days, both from the claim's position (deterministic), for the MCE (which needs them)."""
    import datetime as dt

    from grouper.tables import effective_ranges
    ranges = effective_ranges([400, 401, 410, 411, 420, 421, 430, 431])
    out = []
    for i, c in enumerate(claims):
        start, end = ranges.get(int(c.get("version") or 431), ranges[431])
        day = start + dt.timedelta(days=(i * 7919) % ((end - start).days + 1))
        out.append(dict(c, discharge_date=day.isoformat(), los=(i * 31) % 21))
    return out


def run_edit(argv=None) -> int:
    args = _harness.common_args(argv)
    first = with_stay([_harness.first_claim(args.claims)])
    t0 = time.perf_counter()
    import grouper
    from grouper.mce import edit_batch
    first_type = grouper.edit(first[0]).edit_type
    result = {"name": "grouper", "mode": args.mode, "available": True, "load_s": time.perf_counter() - t0,
              "rss_after_load_kb": _harness.rss_kb(), "first_edit_type": first_type}
    claims = with_stay(_harness.read_claims(args.claims, args.limit))
    result["n"] = len(claims)
    if args.mode == "edit-single":
        times, types = _harness.time_runs(lambda: [grouper.edit(c).edit_type for c in claims], args.runs, args.warmup)
    elif args.mode == "edit-batch":
        times, types = _harness.time_runs(lambda: edit_batch(claims).edit_type.tolist(), args.runs, args.warmup)
    else:                                   # batch-edits
        times, out = _harness.time_runs(lambda: grouper.group_batch(claims, edits=True), args.runs, args.warmup)
        types = out.mce_edit_type.tolist()
        result["final_drg"] = _final(out, len(claims))
    result["times_s"] = times
    result["errors"] = sum(t is None for t in types)
    result["unsupported"] = 0
    result["edit_type"] = types
    _harness.finish(args.out, result)
    return 0


def run_batch(argv=None) -> int:
    args = _harness.common_args(argv)
    first = _harness.first_claim(args.claims)
    t0 = time.perf_counter()
    import grouper
    if not hasattr(grouper, "group_batch"):
        _harness.finish(args.out, {"name": "grouper", "mode": args.mode, "available": False,
                                   "note": "grouper.group_batch is not available in this version"})
        return 0
    first_drg = _final(grouper.group_batch([first]), 1)[0]
    result = {"name": "grouper", "mode": args.mode, "available": True,
              "load_s": time.perf_counter() - t0, "rss_after_load_kb": _harness.rss_kb(),
              "first_drg": first_drg}
    claims = _harness.read_claims(args.claims, args.limit)
    result["n"] = len(claims)
    if args.mode == "batch":
        times, drgs = _harness.time_runs(lambda: _final(grouper.group_batch(claims), len(claims)),
                                         args.runs, args.warmup)
    elif args.mode == "batch-columns":
        from grouper import Columns
        t1 = time.perf_counter()
        cols = Columns.from_records(claims)
        result["convert_s"] = time.perf_counter() - t1
        del claims
        times, drgs = _harness.time_runs(lambda: _final(grouper.group_batch(cols), cols.n), args.runs, args.warmup)
    elif args.mode == "batch-arrow":
        from grouper.bulk.arrow import claims_table
        t1 = time.perf_counter()
        table = claims_table(claims)
        result["convert_s"] = time.perf_counter() - t1
        del claims
        times, drgs = _harness.time_runs(lambda: _final(grouper.group_batch(table), table.num_rows), args.runs,
                                         args.warmup)
    elif args.mode == "per-claim-all":
        t1 = time.perf_counter()
        drgs = [grouper.group(c).final_drg for c in claims]
        times = [time.perf_counter() - t1]
    else:
        mod = sys.modules[__name__]
        mod.init, mod.group_chunk = batch_init, batch_chunk  # what the pool workers call
        pool = _harness.parallel_runner("__main__", args.jobs)
        try:
            _harness.warm_pool(pool, args.jobs, claims[:50])
            size = max(1000, -(-len(claims) // (args.jobs * 4)))
            chunks = _harness.chunked(claims, size)
            times, drgs = _harness.time_runs(lambda: _harness.run_parallel(pool, chunks), args.runs, args.warmup)
        finally:
            pool.close()
            pool.join()
        result["jobs"] = args.jobs
    result["times_s"] = times
    result["errors"] = sum(d is None for d in drgs)
    result["unsupported"] = 0
    result["final_drg"] = drgs
    _harness.finish(args.out, result)
    return 0


if __name__ == "__main__":
    argv = sys.argv[1:]
    mode = argv[argv.index("--mode") + 1] if "--mode" in argv else "single"
    if mode in ("batch", "batch-parallel", "batch-columns", "batch-arrow", "per-claim-all"):
        sys.exit(run_batch(argv))
    if mode in ("edit-single", "edit-batch", "batch-edits"):
        sys.exit(run_edit(argv))
    sys.exit(_harness.run_adapter(sys.modules[__name__], "grouper"))
