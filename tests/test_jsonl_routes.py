"""A JSON line reads the same whichever route reads it: the summary outputs parse blocks of lines
with Arrow, the full detail too (to a file), the other outputs line by line.

A line nested more than 32 levels deep is an UNREADABLE_ROW (docs/reliability.md), even when the
deep part is under a key the grouper ignores.  The summary route used to group such a line
(Arrow reads it), while the full detail said UNREADABLE_ROW.
"""
import json

import pytest

from conftest import read_jsonl

pytest.importorskip("pyarrow")

DEEP = {"id": "deep", "version": 431, "pdx": "I10", "x": json.loads("[" * 40 + "]" * 40)}
OK = {"id": "ok", "version": 431, "pdx": "I10", "sdx": [["E119", "Y"]]}


def run(argv) -> int:
    from grouper.cli.main import main
    return main([str(a) for a in argv])


@pytest.mark.parametrize("out, detail", [("o.jsonl", "summary"), ("o.jsonl", "full"), ("o.csv", "summary"),
                                         ("o.parquet", "summary")])
def test_a_line_nested_too_deep_is_unreadable_on_every_route(tmp_path, out, detail):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(c) for c in [OK, DEEP, OK]) + "\n")
    path = tmp_path / out
    assert run(["group", src, "-o", path, "--detail", detail, "--quiet"]) == 1
    if path.suffix == ".jsonl":
        rows = read_jsonl(path)
        errors = [r["error"]["code"] if r.get("error") else None for r in rows]
        ids = [r["id"] for r in rows]
    elif path.suffix == ".csv":
        import csv
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        errors = [r["error_code"] or None for r in rows]
        ids = [r["id"] or None for r in rows]
    else:
        from pyarrow import parquet
        rows = parquet.read_table(path).to_pylist()
        errors = [r["error_code"] for r in rows]
        ids = [r["id"] for r in rows]
    assert errors == [None, "UNREADABLE_ROW", None], (out, detail)
    assert ids == ["ok", None, "ok"], (out, detail)
