"""The README's example runs and prints what it says."""
import re
import subprocess
import sys

from conftest import ROOT


def test_readme_example_heart_failure_with_mcc():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Group one claim\n\n```python\n(.*?)```", text, re.S).group(1)
    code = "\n".join(line for line in block.splitlines() if not line.startswith("#"))
    expected = next(line[2:] for line in block.splitlines() if line.startswith("# "))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected.strip()
    assert expected.startswith("291 ") and expected.endswith(" 1.2838")  # DRG 291, FY2026 weight


def test_readme_names_the_two_commands_and_ci_runs_the_test_command():
    text = (ROOT / "README.md").read_text()
    assert 'pip install -e . && python -m grouper demo' in text
    test_cmd = 'pip install -e ".[test]" && python -m pytest -q'
    assert test_cmd in text
    assert test_cmd in (ROOT / ".ci" / "run").read_text()


def test_demo_runs():
    out = subprocess.run([sys.executable, "-m", "grouper", "demo"], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert "Heart Failure and Shock with MCC" in out.stdout
