"""Chart of a benchmark run: ``python benchmarks/chart.py results.json results.png``.

Needs matplotlib (``run.py`` runs this with the main interpreter when it has
matplotlib, else with the peers' environment, which installs it).
"""
from __future__ import annotations

import json
import sys


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    src, dst = argv[0], argv[1]
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = json.load(open(src))
    rows = [r for r in res["rows"] if r.get("single_claims_per_s") or r.get("parallel_claims_per_s")]
    labels = [f"{r['library']}\n" + r["path"].replace(" ", "\n", 1) for r in rows]
    single = [r.get("single_claims_per_s") or 0 for r in rows]
    par = [r.get("parallel_claims_per_s") or 0 for r in rows]
    rss = [(r.get("peak_rss_kb") or 0) / 1024 for r in rows]
    jobs = res.get("config", {}).get("jobs")

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [3, 2]})
    x = range(len(rows))
    w = 0.38
    b1 = ax1.bar([i - w / 2 for i in x], single, w, label="1 process", color="#4C72B0")
    b2 = ax1.bar([i + w / 2 for i in x], par, w, label=f"{jobs} processes", color="#DD8452")
    ax1.set_yscale("log")
    ax1.set_ylabel("claims / s (log scale)")
    ax1.set_xticks(list(x))
    ax1.set_xticklabels(labels, fontsize=8)
    ax1.set_title("Throughput")
    ax1.legend(fontsize=8)
    for bars in (b1, b2):
        for b in bars:
            h = b.get_height()
            if h > 0:
                ax1.annotate(f"{h:,.0f}", (b.get_x() + b.get_width() / 2, h), ha="center", va="bottom",
                             fontsize=7, rotation=90, xytext=(0, 2), textcoords="offset points")
    ax1.grid(axis="y", which="both", alpha=0.25)

    ax2.barh(range(len(rows)), rss, color="#55A868")
    ax2.set_yticks(range(len(rows)))
    ax2.set_yticklabels([f"{r['library']} {r['path']}" for r in rows], fontsize=8)
    ax2.invert_yaxis()
    ax2.set_xlabel("peak RSS of the measuring process, MB (1 process run)")
    ax2.set_title("Memory")
    for i, v in enumerate(rss):
        ax2.annotate(f"{v:,.0f}", (v, i), va="center", fontsize=7, xytext=(3, 0), textcoords="offset points")
    ax2.grid(axis="x", alpha=0.25)

    cfg = res.get("config", {})
    title = (f"grouper benchmark - v{cfg.get('version')} - {cfg.get('n_single'):,} claims per-claim paths, "
             f"{cfg.get('n'):,} batch/stream - {res.get('machine', {}).get('cpus')} CPUs")
    if any("other processes were using CPU" in n for n in res.get("notes", [])):
        title += "\n(machine busy with other work during the run: figures are low)"
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(dst, dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main())
