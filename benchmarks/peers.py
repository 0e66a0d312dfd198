"""The peer groupers' environment: a virtual environment under ``benchmarks/.peers/venv``.

    python benchmarks/peers.py            # create/update it and print what is installed
    python benchmarks/peers.py --force    # reinstall
    python benchmarks/peers.py --status   # only report

Installs, each on its own so one failure does not stop the others:

* ``msdrg`` (1.2.0 when the registry has it, else the newest): the compiled "mz-drg"
  grouper (Zig engine, ctypes bindings, LMDB data), with ``orjson``, which msdrg
  uses for its JSON when present;
* ``drgpy``: a pure-Python MS-DRG grouper built from the CMS definitions text;
* ``matplotlib``: for the chart of ``run.py`` when the main interpreter lacks it.

Anything that cannot be installed (no network, no wheel for this platform, ...) is
skipped with a note; :func:`ensure` returns what is usable, and ``run.py`` leaves the
missing peers out of the run.  The adapters ``peer_msdrg.py`` and ``peer_drgpy.py``
run with this environment's interpreter (``python_path()``).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS_DIR = os.environ.get("GROUPER_PEERS_DIR") or os.path.join(HERE, ".peers")
VENV = os.path.join(PEERS_DIR, "venv")
STATUS = os.path.join(PEERS_DIR, "status.json")

# name -> (requirement specs to try in order, import name, adapter script)
PEERS = {
    "msdrg": (["msdrg==1.2.0", "msdrg"], "msdrg", "peer_msdrg.py"),
    "drgpy": (["drgpy"], "drgpy", "peer_drgpy.py"),
}
EXTRAS = {"orjson": ["orjson"], "matplotlib": ["matplotlib"]}
PIP_TIMEOUT = 900


def python_path() -> str:
    if sys.platform == "win32":
        return os.path.join(VENV, "Scripts", "python.exe")
    return os.path.join(VENV, "bin", "python")


def _log(msg: str, verbose: bool) -> None:
    if verbose:
        print(msg, file=sys.stderr, flush=True)


def _create_venv(verbose: bool) -> str | None:
    """Create the venv if missing; returns an error note or None."""
    if os.path.exists(python_path()):
        return None
    os.makedirs(PEERS_DIR, exist_ok=True)
    _log(f"creating {VENV}", verbose)
    try:
        r = subprocess.run([sys.executable, "-m", "venv", VENV], capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot create the virtual environment: {exc}"
    if r.returncode != 0:
        return f"cannot create the virtual environment: {(r.stderr or r.stdout).strip()[-400:]}"
    return None


def _pip_install(spec: str, verbose: bool, force: bool = False) -> tuple[bool, str]:
    cmd = [python_path(), "-m", "pip", "install", "--disable-pip-version-check", "--timeout", "30",
           "--retries", "2"] + (["--force-reinstall"] if force else []) + [spec]
    _log(f"pip install {spec}", verbose)
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT)
    except subprocess.TimeoutExpired:
        return False, f"pip install {spec}: timed out after {PIP_TIMEOUT} s"
    except OSError as exc:
        return False, f"pip install {spec}: {exc}"
    if r.returncode != 0:
        lines = [ln for ln in (r.stderr or r.stdout).splitlines() if ln.strip() and "is ignored" not in ln]
        return False, f"pip install {spec} failed: {' | '.join(lines[-3:])[:400]}"
    return True, ""


def _probe() -> dict:
    """What imports in the venv, with versions."""
    code = (
        "import importlib, importlib.metadata as md, json, sys\n"
        "out = {}\n"
        f"for dist, mod in {[(k, v[1]) for k, v in PEERS.items()] + [(k, k) for k in EXTRAS]!r}:\n"
        "    try:\n"
        "        importlib.import_module(mod)\n"
        "        out[dist] = {'ok': True, 'version': md.version(dist)}\n"
        "    except Exception as exc:\n"
        "        out[dist] = {'ok': False, 'note': f'{type(exc).__name__}: {exc}'[:300]}\n"
        "out['python'] = sys.version.split()[0]\n"
        "print(json.dumps(out))\n"
    )
    try:
        r = subprocess.run([python_path(), "-c", code], capture_output=True, text=True, timeout=300)
        return json.loads(r.stdout.strip().splitlines()[-1])
    except Exception as exc:
        return {"error": f"cannot run the peers' interpreter: {exc}"}


def status() -> dict:
    """The recorded state of the peers' environment (without installing anything)."""
    if not os.path.exists(python_path()):
        return {"python": None, "peers": {k: {"ok": False, "note": "peers' environment not created "
                                               "(python benchmarks/peers.py)"} for k in PEERS}, "extras": {}}
    got = _probe()
    if "error" in got:
        return {"python": None, "peers": {k: {"ok": False, "note": got["error"]} for k in PEERS}, "extras": {}}
    prev = {}
    if os.path.exists(STATUS):
        try:
            prev = json.load(open(STATUS))
        except ValueError:
            prev = {}
    peers = {}
    for k in PEERS:
        p = dict(got.get(k, {"ok": False}))
        if not p.get("ok"):
            p["note"] = (prev.get("peers", {}).get(k, {}).get("note") or p.get("note") or "not installed")
        p["adapter"] = os.path.join(HERE, PEERS[k][2])
        peers[k] = p
    return {"python": python_path(), "python_version": got.get("python"), "peers": peers,
            "extras": {k: got.get(k, {"ok": False}) for k in EXTRAS}}


def ensure(verbose: bool = True, force: bool = False, install: bool = True) -> dict:
    """Create/update the environment (unless ``install`` is false) and return :func:`status`."""
    if not install:
        return status()
    notes = {}
    err = _create_venv(verbose)
    if err:
        _log(f"peers skipped: {err}", True)
        return {"python": None, "peers": {k: {"ok": False, "note": err} for k in PEERS}, "extras": {}}
    have = _probe() if not force else {}
    for name, specs in [(k, v[0]) for k, v in PEERS.items()] + list(EXTRAS.items()):
        if have.get(name, {}).get("ok") and not force:
            continue
        errors = []
        for spec in specs:
            ok, msg = _pip_install(spec, verbose, force)
            if ok:
                errors = []
                break
            errors.append(msg)
        if errors:
            notes[name] = "; ".join(errors)
            _log(f"skipping {name}: {notes[name]}", True)
    st = status()
    for name, note in notes.items():
        if name in st["peers"] and not st["peers"][name].get("ok"):
            st["peers"][name]["note"] = note
        elif name in st["extras"] and not st["extras"][name].get("ok"):
            st["extras"][name]["note"] = note
    st["checked_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    os.makedirs(PEERS_DIR, exist_ok=True)
    with open(STATUS, "w") as f:
        json.dump(st, f, indent=1)
    return st


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Create the peer groupers' virtual environment.")
    ap.add_argument("--force", action="store_true", help="reinstall everything")
    ap.add_argument("--status", action="store_true", help="only report what is installed")
    args = ap.parse_args(argv)
    st = status() if args.status else ensure(verbose=True, force=args.force)
    print(f"peers' interpreter: {st.get('python') or '-'}")
    for name, p in list(st["peers"].items()) + list(st.get("extras", {}).items()):
        if p.get("ok"):
            print(f"  {name:11s} {p.get('version')}")
        else:
            print(f"  {name:11s} SKIPPED: {p.get('note', 'not installed')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
