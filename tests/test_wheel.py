"""Installed as users install it: the wheel and the sdist carry the compiled tables.

Builds an sdist and a wheel of the checkout, installs the wheel built *from the sdist* (what
``pip install grouper-*.tar.gz`` does) into a fresh virtual environment, and groups the README's
claim from a working directory outside the checkout: the tables must come from the installed
package, not from the repository's ``tables/``.  The wheel built straight from the checkout
(what ``pip install .`` does) must hold exactly the same files.
"""
import json
import os
import subprocess
import textwrap
import venv
import zipfile

import pytest

from conftest import ROOT

# The README's claim, and what CMS's v43.1 grouper and FY2026 Table 5 say of it.
CLAIM = {"pdx": "I5022", "sdx": [["J9601", "Y"]], "sex": "M", "discharge_status": 1,
         "discharge_date": "2026-05-10"}
EXPECTED = {"final_drg": 291, "version": 431, "weight": 1.2838}

SCRIPT = textwrap.dedent("""
    import json, sys
    import grouper
    from grouper.tables import default
    r = grouper.group(json.loads(sys.argv[1]))
    print(json.dumps({"final_drg": r.final_drg, "version": r.version, "weight": r.weight,
                      "module": grouper.__file__, "tables": str(default().dir)}))
""")


def _run(cmd, **kw):
    out = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert out.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{out.stdout}\n{out.stderr}"
    return out.stdout


def _members(wheel) -> set[str]:
    with zipfile.ZipFile(wheel) as z:
        return {n for n in z.namelist() if ".dist-info/" not in n}


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    """(sdist, wheel built from that sdist, wheel built straight from the checkout)."""
    out = tmp_path_factory.mktemp("dist")
    tools = out / "tools"
    venv.create(tools, with_pip=True)
    py = str(tools / "bin" / "python")
    _run([py, "-m", "pip", "install", "-q", "build"])
    # `python -m build` makes the sdist, then the wheel from the unpacked sdist (as pip installs an sdist)
    _run([py, "-m", "build", "-q", "--outdir", str(out / "sdist"), str(ROOT)])
    _run([py, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out / "direct"), str(ROOT)])
    return (next((out / "sdist").glob("*.tar.gz")), next((out / "sdist").glob("*.whl")),
            next((out / "direct").glob("*.whl")))


def test_the_wheel_carries_the_tables_and_py_typed(dists):
    _, from_sdist, direct = dists
    names = _members(direct)
    for path in sorted((ROOT / "tables").rglob("*")):
        if path.is_file():
            name = path.relative_to(ROOT / "tables").as_posix()
            assert f"grouper/_tables/{name}" in names, f"table file {name} is not in the wheel"
    assert "grouper/_tables/MANIFEST.json" in names
    assert "grouper/_tables/ipps/ipps.json" in names
    assert "grouper/py.typed" in names
    assert "grouper/data/sample_claims.jsonl" in names
    assert _members(from_sdist) == names, "the sdist's wheel differs from the checkout's wheel"


def test_the_installed_wheel_groups_outside_the_checkout(dists, tmp_path):
    _, wheel, _ = dists
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "-q", str(wheel)])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GROUPER_TABLES", "GROUPER_IPPS_TABLES")}
    got = json.loads(_run([str(py), "-c", SCRIPT, json.dumps(CLAIM)], cwd=elsewhere, env=env))
    assert {k: got[k] for k in EXPECTED} == EXPECTED
    site = str(env_dir)
    assert got["module"].startswith(site), f"grouper imported from {got['module']}, not the venv"
    assert got["tables"].startswith(site), f"tables read from {got['tables']}, not the installed package"
    demo = _run([str(py), "-m", "grouper", "demo"], cwd=elsewhere, env=env)
    assert "Heart Failure and Shock with MCC" in demo
