"""Parquet / Arrow output has one schema for the whole file, whatever the values of each chunk.

The schema of an Arrow file is fixed by its first table.  Ids and kept input columns read from
JSON lines or CSV used to be typed by inference per chunk: integer ids then text ids, or a kept
column null in the first chunk, made every later chunk unwritable (exit 70, no output).  They
are now text (a non-text JSON value as its JSON text), the result columns typed by the schema.
"""
import json
import subprocess
import sys

import pytest

from conftest import ROOT, read_jsonl

pa = pytest.importorskip("pyarrow")
from pyarrow import ipc, parquet  # noqa: E402

SAMPLE = ROOT / "tests" / "data" / "oracle_sample.jsonl.gz"


def _claims(n=30):
    """n labelled claims; the id an int for the first half then a text, "meta" null then a
    text, "n" a number then a text, "flag" true/false then null."""
    out = []
    for i, c in enumerate(read_jsonl(SAMPLE)[:n]):
        c = {k: v for k, v in c.items() if k != "expected"}
        half = i < n // 2
        c.update(id=i if half else f"x{i}", meta=None if half else f"m{i}", n=i if half else f"t{i}",
                 flag=(i % 2 == 0) if half else None)
        out.append(c)
    return out


def _read(path, fmt):
    return parquet.read_table(path) if fmt == "parquet" else ipc.open_file(pa.memory_map(str(path))).read_all()


@pytest.mark.parametrize("fmt", ["parquet", "arrow"])
@pytest.mark.parametrize("extra", [["--detail", "summary"], ["--detail", "full"], ["--edits"]])
def test_ids_and_kept_columns_whose_type_changes_between_chunks_are_written_as_text(tmp_path, fmt, extra):
    claims = _claims()
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(c) + "\n" for c in claims))
    out = tmp_path / f"out.{fmt}"
    r = subprocess.run([sys.executable, "-m", "grouper", "group", str(src), "-o", str(out), "--chunk", "10",
                        "--keep-columns", "meta,n,flag", "--quiet", *extra], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode in (0, 1) and "Traceback" not in r.stderr, r.stderr
    table = _read(out, fmt)
    assert table.num_rows == len(claims)
    for name in ("id", "meta", "n", "flag"):
        assert table.schema.field(name).type == pa.string(), name
    rows = table.to_pylist()
    for i, row in enumerate(rows):
        want = (str(i) if i < 15 else f"x{i}", None if i < 15 else f"m{i}", str(i) if i < 15 else f"t{i}",
                ("true" if i % 2 == 0 else "false") if i < 15 else None)
        assert (row["id"], row["meta"], row["n"], row["flag"]) == want, f"row {i + 1}"
        assert row["line"] == i + 1 and row["final_drg"] is not None, f"row {i + 1}"
