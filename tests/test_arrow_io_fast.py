"""The fast paths around the batch core -- Parquet read with dictionary-encoded codes, codes
looked up once per spelling or dictionary, the run's counts a column at a time -- give what
the per-claim engine and the row-by-row reading give, claim by claim."""
import collections
import json
import re
import subprocess
import sys

import pytest

pa = pytest.importorskip("pyarrow", reason="pyarrow (the 'arrow' extra) is not installed")
import pyarrow.parquet as pq  # noqa: E402

import grouper  # noqa: E402
from grouper.bulk.arrow import claims_table, code_ids  # noqa: E402
from grouper.bulk.columns import code_id  # noqa: E402
from grouper.bulk.summary import summarize_arrow  # noqa: E402
from grouper.cli import columnar  # noqa: E402
from grouper.cli.inputs import RunStats  # noqa: E402
from grouper.io.arrow import ArrowReader  # noqa: E402
from grouper.tables import default  # noqa: E402

from conftest import ROOT, SAMPLE, group_or_error, read_jsonl  # noqa: E402


def _edited(c: dict, k: int) -> dict:
    """One of a few edits that draw warnings or errors (the edit chosen by ``k``)."""
    c = dict(c)
    sdx = [list(d) for d in c.get("sdx") or ()]
    pr = list(c.get("procedures") or ())
    edit, j = k % 9, k // 9
    if edit == 0:
        c["pdx"] = (c.get("pdx") or "").lower()
    elif edit == 1 and c.get("pdx"):
        c["pdx"] = c["pdx"][:3] + "." + c["pdx"][3:]
    elif edit == 2 and sdx:
        c["sdx"] = [[s[0].lower(), s[1]] for s in sdx] + [sdx[0]]
    elif edit == 3 and sdx:
        c["sdx"] = [[s[0], ("", "X", "n", " ", "Y")[(i + j) % 5]] for i, s in enumerate(sdx)]
    elif edit == 4 and pr:
        c["procedures"] = pr + [pr[0].lower()]
    elif edit == 5:
        c["admit_dx"] = ("r079", "R079", "XYZ", "", "I50.22")[j % 5]
    elif edit == 6:
        c["pdx_poa"] = ("", "Z", "n", "1")[j % 4]
    elif edit == 7:
        c["hospital_status"] = ("EXEMPT", "bogus", "UNKNOWN")[j % 3]
    elif edit == 8:
        c["version"] = (999, 400, 440)[j % 3]
    return c


@pytest.fixture(scope="module")
def claims():
    """Labelled claims of every scenario (40 each) and the same claims edited to draw warnings
    and errors, as group() reads them from an Arrow table."""
    per: dict = collections.defaultdict(list)
    for c in read_jsonl(SAMPLE):
        if len(per[c["scenario"]]) < 40:
            per[c["scenario"]].append({k: v for k, v in c.items() if k not in ("expected", "scenario")})
    base = [c for cs in per.values() for c in cs]
    rows = base + [_edited(c, k) for k, c in enumerate(base)]
    table = claims_table(rows)
    return table, table.to_pylist()


def test_a_parquet_file_reads_the_same_claims_with_dictionary_codes(tmp_path, claims):
    table, rows = claims
    src = tmp_path / "c.parquet"
    pq.write_table(table, src, row_group_size=700)          # batches of 1,000 span row groups
    reader = ArrowReader(str(src), batch_size=1000)
    got = list(reader)
    assert pa.types.is_dictionary(got[0].schema.field("pdx").type), "the codes come dictionary-encoded"
    assert [r for t in got for r in t.to_pylist()] == rows
    kept = ArrowReader(str(src), batch_size=1000)
    kept.keep = ("sdx",)
    first = next(iter(kept))
    assert first.schema.field("sdx").type == table.schema.field("sdx").type, "a kept column keeps its type"


def test_a_row_group_pyarrow_cannot_give_as_dictionaries_is_read_plainly(tmp_path, claims, monkeypatch):
    table, rows = claims
    src = tmp_path / "c.parquet"
    pq.write_table(table, src, row_group_size=1500)
    real = pq.ParquetFile

    class Failing(real):
        """Fails after the first batch of each row group when reading dictionaries."""

        def __init__(self, *a, read_dictionary=None, **kw):
            super().__init__(*a, read_dictionary=read_dictionary, **kw)
            self.dictionaries = read_dictionary

        def iter_batches(self, *a, **kw):
            for k, b in enumerate(super().iter_batches(*a, **kw)):
                if k == 1 and self.dictionaries:
                    raise pa.ArrowNotImplementedError("as pyarrow says for nested dictionaries")
                yield b

    monkeypatch.setattr(pq, "ParquetFile", Failing)
    got = [r for t in ArrowReader(str(src), batch_size=400) for r in t.to_pylist()]
    assert got == rows, "every row once, in order"


@pytest.mark.parametrize("kind", ["dx", "pr"])
def test_code_ids_of_a_column_are_those_of_each_code(kind, claims):
    """Per code: the id of the code as spelled, else upper-cased (-1 if in no version); exact
    when found as spelled -- for a text column and the same column dictionary-encoded."""
    ts = default()
    index = ts.dx_index if kind == "dx" else ts.pr_index
    table, rows = claims
    if kind == "dx":
        codes = [r["pdx"] for r in rows] + [d["code"] for r in rows for d in r["sdx"] or ()]
    else:
        codes = [p for r in rows for p in r["procedures"] or ()]
    codes += [None, "", "null", "Z@1234", "z@1234", "ß", "I50.22", "i5022"]
    want = [code_id(index, c) for c in codes]
    exact = [c in index for c in codes]
    text = pa.array(codes, pa.string())
    for arr, slot in ((text, None), (text.dictionary_encode(), "t1"), (text.dictionary_encode(), "t1")):
        ids, ex = code_ids(arr, ts, kind, slot)
        assert ids.tolist() == want
        assert ex.tolist() == exact
    # a dictionary of the same length but other codes is looked up again, not taken from the last
    other = pa.array(list(reversed(codes)), pa.string()).dictionary_encode()
    ids, _ = code_ids(other, ts, kind, "t1")
    assert ids.tolist() == list(reversed(want))


def test_run_counts_equal_counting_row_by_row(claims):
    """columnar.count: the outcomes, warning counts and RunStats of counting each row's record."""
    table, rows = claims
    chunk = summarize_arrow(table)
    outcomes, warn_counts, stats = collections.Counter(), collections.Counter(), RunStats()
    columnar.count(chunk, outcomes, warn_counts, stats)
    want_out, want_warn, want_stats = collections.Counter(), collections.Counter(), RunStats()
    for rec in columnar.json_records(chunk):
        err = rec.get("error")
        if err:
            want_out["error:" + err["code"]] += 1
        else:
            want_out[rec["return_code"]] += 1
        for w in rec.get("warnings") or ():
            want_warn[w["code"]] += 1
        want_stats.add(rec)
    assert outcomes == want_out
    assert warn_counts == want_warn
    assert (stats.rows, stats.warning_rows, stats.error_rows, stats.examples) == \
           (want_stats.rows, want_stats.warning_rows, want_stats.error_rows, want_stats.examples)
    assert any(k.startswith("error:") for k in outcomes) and warn_counts, "the claims have errors and warnings"


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "grouper", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def test_cli_parquet_to_parquet_equals_group_on_edited_claims(tmp_path, claims):
    """Errors, DRGs, weights and every warning (code, field, value, message) as group() gives
    them, with the codes read dictionary-encoded across row groups."""
    table, rows = claims
    src, dst = tmp_path / "c.parquet", tmp_path / "out.parquet"
    pq.write_table(table, src, row_group_size=3000)
    r = _cli("group", src, "-o", dst, "--quiet")
    assert r.returncode == 1, r.stderr
    out = pq.read_table(dst).to_pylist()
    assert len(out) == len(rows)
    for rec, row in zip(rows, out):
        g = group_or_error(rec)
        if isinstance(g, grouper.ClaimError):
            assert row["error_code"] == g.code, f"claim {rec['id']}: error_code"
            continue
        assert row["error_code"] is None, f"claim {rec['id']}: error_code {row['error_code']}"
        for f in ("final_drg", "initial_drg", "return_code", "final_severity", "hac_status", "weight"):
            assert row[f] == getattr(g, f), f"claim {rec['id']}: {f}"
        want = [dict(w.to_dict(), value=None if w.value is None else str(w.to_dict()["value"])) for w in g.warnings]
        assert row["warnings"] == want, f"claim {rec['id']}: warnings"


def test_cli_jsonl_to_csv_equals_group_on_edited_claims(tmp_path, claims):
    _, rows = claims
    src, dst = tmp_path / "c.jsonl", tmp_path / "out.csv"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    r = _cli("group", src, "-o", dst, "--quiet")
    assert r.returncode == 1, r.stderr
    import csv
    with open(dst, newline="") as f:
        out = list(csv.DictReader(f))
    assert len(out) == len(rows)
    for rec, row in zip(rows, out):
        g = group_or_error(rec)
        if isinstance(g, grouper.ClaimError):
            assert row["error_code"] == g.code, f"claim {rec['id']}: error_code"
            continue
        assert row["final_drg"] == str(g.final_drg), f"claim {rec['id']}: final_drg"
        assert row["weight"] == ("" if g.weight is None else repr(g.weight)), f"claim {rec['id']}: weight"
        want = "; ".join(columnar.warning_text(w.to_dict()) for w in g.warnings)
        assert row["warnings"] == want, f"claim {rec['id']}: warnings"


def test_the_command_does_not_import_pandas(tmp_path):
    """pyarrow imports pandas (0.2-0.3 s) on its first conversion only to ask whether values are
    pandas objects; the command gives it none and is spared the import."""
    pytest.importorskip("pandas")
    src = tmp_path / "c.jsonl"
    src.write_text(json.dumps({"id": "a", "version": 431, "pdx": "I5022", "sdx": [["J9601", "Y"]]}) + "\n")
    for out in ("out.csv", "out.parquet"):
        r = subprocess.run([sys.executable, "-X", "importtime", "-m", "grouper", "group", str(src), "-o",
                            str(tmp_path / out), "--quiet"], capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        assert "pyarrow" in r.stderr, "the run used pyarrow"
        assert not re.search(r"\|\s+pandas\.core\b", r.stderr), f"{out}: pandas was imported"
