"""python -m grouper group, default full detail: whatever path the CLI takes to write it fast,
each output line is the claim's ``grouper.group(claim, details=True).to_dict()`` (plus its id,
input line number and ``error: null``; the version spelled "43.1"), as compact JSON."""
import gzip
import json
import subprocess
import sys

import grouper

from conftest import ROOT, SAMPLE


def reference_line(claim, n: int) -> str:
    """The full-detail output line of one claim, built from the per-claim API alone."""
    try:
        d = grouper.group(claim, details=True).to_dict()
    except grouper.ClaimError as exc:
        v = exc.value if isinstance(exc.value, (str, int, float, bool, type(None))) else repr(exc.value)
        d = {"id": claim.get("id"), "line": n,
             "error": {"code": exc.code, "message": str(exc), "field": exc.field, "value": v}}
    else:
        d["id"] = claim.get("id")
        d["line"] = n
        d["error"] = None
        d["version"] = f"{d['version'] // 10}.{d['version'] % 10}"
    return json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n"


def test_full_detail_lines_are_the_per_claim_results_byte_for_byte(tmp_path):
    out = tmp_path / "out.jsonl"
    r = subprocess.run([sys.executable, "-m", "grouper", "group", str(SAMPLE), "-o", str(out), "--quiet"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode in (0, 1), r.stderr
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:
        claims = [json.loads(line) for line in f]
    got = out.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(got) == len(claims)
    for n, (claim, line) in enumerate(zip(claims, got), start=1):
        assert line == reference_line(claim, n), f"claim {claim.get('id')} (line {n})"
