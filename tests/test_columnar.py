"""Arrow, Parquet and DataFrames in and out: a claim read a whole column at a time is grouped,
and warned about, exactly as grouper.group() groups the same claim given as a mapping."""
import json
import math
import subprocess
import sys

import pytest

pa = pytest.importorskip("pyarrow", reason="pyarrow (the 'arrow' extra) is not installed")
import pyarrow.parquet as pq  # noqa: E402
from test_batch import FIELDS, _same  # noqa: E402

import grouper  # noqa: E402
from grouper.bulk.arrow import claims_table, columns_from_arrow  # noqa: E402
from grouper.bulk.results import RESULT_COLUMNS, group_arrow, result_schema  # noqa: E402
from grouper.bulk.summary import summarize_arrow  # noqa: E402

from conftest import ROOT, SAMPLE, group_or_error, read_jsonl  # noqa: E402

DROP = ("expected", "scenario")


@pytest.fixture(scope="module")
def sample():
    """The committed oracle sample as an Arrow table, and its rows as group() reads them."""
    claims = [{k: v for k, v in c.items() if k not in DROP} for c in read_jsonl(SAMPLE)]
    table = claims_table(claims)
    return table, table.to_pylist()


def test_the_sample_reads_a_column_at_a_time(sample):
    table, _ = sample
    assert table.schema.field("sdx").type == pa.list_(pa.struct([("code", pa.string()), ("poa", pa.string())]))
    assert table.schema.field("procedures").type == pa.list_(pa.string())
    assert columns_from_arrow(table) is not None, "the documented schema must not fall back to rows"


def test_group_batch_of_an_arrow_table_equals_group_on_every_labelled_claim(sample):
    table, rows = sample
    out = grouper.group_batch(table)
    assert len(out) == len(rows)
    for i, rec in enumerate(rows):
        r = group_or_error(rec)
        row = out[i]
        if isinstance(r, grouper.ClaimError):
            assert row["error"] == r.code, f"claim {rec['id']}: error {row['error']!r} != {r.code!r}"
            continue
        assert row["error"] is None, f"claim {rec['id']}: unexpected error {row['error']}"
        for f in FIELDS:
            assert _same(getattr(r, f), row[f]), f"claim {rec['id']}: {f}: arrow {row[f]!r} != group {getattr(r, f)!r}"


def test_warnings_read_a_column_at_a_time_equal_group_on_every_labelled_claim(sample):
    table, rows = sample
    chunk = summarize_arrow(table)
    for i, rec in enumerate(rows):
        r = group_or_error(rec)
        if isinstance(r, grouper.ClaimError):
            assert chunk.errors[i]["code"] == r.code, f"claim {rec['id']}"
            continue
        want = [w.to_dict() for w in r.warnings]
        got = [w.to_dict() for w in chunk.warnings[i]]
        assert got == want, f"claim {rec['id']}: warnings {got} != {want}"


def test_the_cms_labels_hold_through_arrow():
    rows = read_jsonl(SAMPLE)
    out = group_arrow(claims_table([{k: v for k, v in c.items() if k not in DROP} for c in rows]))
    for f in ("initial_drg", "final_drg", "initial_mdc", "final_mdc", "return_code", "hac_status"):
        col = out.column(f).to_pylist()
        for i, c in enumerate(rows):
            assert col[i] == c["expected"][f], f"claim {c['id']}: {f}: {col[i]!r} != CMS {c['expected'][f]!r}"


def test_group_arrow_returns_the_input_columns_then_the_results():
    t = pa.table({"id": ["a", "b", "c"], "version": [431, 431, 431], "pdx": ["I5022", "I5020", None],
                  "sdx": [[{"code": "J9601", "poa": "Y"}], [], None], "procedures": [[], [], []],
                  "note": ["x", "y", "z"]})
    out = group_arrow(t, warnings=True)
    assert out.column_names[:6] == ["id", "input_version", "pdx", "sdx", "procedures", "note"]
    assert out.column_names[6:] == list(RESULT_COLUMNS) + ["warnings"]
    assert out.schema == result_schema(t.schema, warnings=True)
    assert out.column("final_drg").to_pylist()[:2] == [291, 293]      # CMS Definitions Manual: I5022+J9601 -> 291
    assert out.column("version").to_pylist()[:2] == ["43.1", "43.1"]
    assert out.column("note").to_pylist() == ["x", "y", "z"]
    assert math.isclose(out.column("weight")[0].as_py(), 1.2838)
    codes = [w["code"] for w in out.column("warnings")[2].as_py()]
    assert "PDX_MISSING" in codes


def test_unreadable_rows_keep_their_place_with_an_error():
    t = pa.table({"id": ["ok", "bad-version"], "version": ["43.1", "99.9"], "pdx": ["I5022", "I5022"]})
    out = group_arrow(t)
    assert out.column("error_code").to_pylist()[0] is None
    assert out.column("final_drg").to_pylist()[0] == grouper.group({"version": "43.1", "pdx": "I5022"}).final_drg
    try:
        grouper.group({"version": "99.9", "pdx": "I5022"})
    except grouper.ClaimError as exc:
        want = exc.code
    assert out.column("error_code").to_pylist()[1] == want
    assert out.column("final_drg").to_pylist()[1] is None


def test_a_principal_diagnosis_that_is_not_text_is_a_row_error():
    t = pa.table({"version": [431, 431], "pdx": [5022, 1]})
    out = grouper.group_batch(t)
    for i, rec in enumerate(t.to_pylist()):
        r = group_or_error(rec)
        assert out[i]["error"] == (r.code if isinstance(r, grouper.ClaimError) else None)


@pytest.mark.parametrize("shape", ["pairs", "bare", "structs"])
def test_every_sdx_shape_of_the_json_lines_reads_the_same(shape):
    claims = [{"id": "1", "version": 431, "pdx": "I2109", "sdx": [["I5022", "N"], ["N179", "Y"]],
               "procedures": ["02703DZ"], "sex": "M", "discharge_status": 1},
              {"id": "2", "version": 431, "pdx": "I5022", "sdx": [["J9601", "Y"]], "procedures": []}]
    if shape == "bare":
        for c in claims:
            c["sdx"] = [code for code, _ in c["sdx"]]
    if shape == "structs":
        for c in claims:
            c["sdx"] = [{"code": code, "poa": poa} for code, poa in c["sdx"]]
    t = pa.Table.from_pylist(claims)
    assert columns_from_arrow(t) is not None
    out = grouper.group_batch(t)
    chunk = summarize_arrow(t)
    for i, c in enumerate(claims):
        r = grouper.group(c)
        assert out[i]["final_drg"] == r.final_drg and out[i]["hac_status"] == r.hac_status, (shape, c["id"])
        assert [w.to_dict() for w in chunk.warnings[i]] == [w.to_dict() for w in r.warnings], (shape, c["id"])


def test_a_wide_arrow_table_reads_like_the_same_csv_row():
    t = pa.table({"ClaimID": ["w1"], "DX1": ["I2109"], "POA1": ["Y"], "DX2": ["I5022"], "POA2": ["N"],
                  "DX3": [None], "PX1": ["02703DZ"], "SEX": ["M"], "DISCHARGE_STATUS": ["01"],
                  "DISCHARGE_DATE": ["2025-01-15"]})
    from grouper.reading.layout import Layout
    claim = Layout.parse(None).bind(t.column_names).claim([c[0].as_py() for c in t.columns])
    r = grouper.group(claim)
    out = grouper.group_batch(t)
    assert out[0]["final_drg"] == r.final_drg and out[0]["final_severity"] == r.final_severity


def test_pandas_and_polars_frames():
    pd = pytest.importorskip("pandas")
    claims = [{"version": 431, "pdx": "I5022", "sdx": [{"code": "J9601", "poa": "Y"}], "procedures": []},
              {"version": 431, "pdx": "I5020", "sdx": [], "procedures": []}]
    want = [grouper.group(c).final_drg for c in claims]
    assert grouper.group_batch(pd.DataFrame(claims)).final_drg.tolist() == want
    assert group_arrow(pd.DataFrame(claims)).column("final_drg").to_pylist() == want
    pl = pytest.importorskip("polars")
    assert grouper.group_batch(pl.DataFrame(claims)).final_drg.tolist() == want


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "grouper", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def test_cli_parquet_in_parquet_out_equals_group(tmp_path, sample):
    table, rows = sample
    src = tmp_path / "claims.parquet"
    pq.write_table(table.slice(0, 3000), src, row_group_size=1000)
    dst = tmp_path / "out.parquet"
    r = _cli("group", src, "-o", dst, "--quiet")
    assert r.returncode in (0, 1), r.stderr
    out = pq.read_table(dst)
    assert out.num_rows == 3000
    assert out.column("line").to_pylist() == list(range(1, 3001))
    ids, drg, ws = (out.column(k).to_pylist() for k in ("id", "final_drg", "warnings"))
    for i, rec in enumerate(rows[:3000]):
        g = group_or_error(rec)
        assert ids[i] == rec["id"]
        if isinstance(g, grouper.ClaimError):
            assert out.column("error_code")[i].as_py() == g.code
            continue
        assert drg[i] == g.final_drg, f"claim {rec['id']}: final_drg"
        assert [w["code"] for w in ws[i]] == [w.code for w in g.warnings], f"claim {rec['id']}: warnings"


def test_cli_jsonl_to_arrow_and_arrow_to_csv(tmp_path):
    src = tmp_path / "in.jsonl"
    claims = [{"id": "a", "version": 431, "pdx": "I5022", "sdx": [["J9601", "Y"]]},
              {"id": "b", "version": 431, "pdx": "I5020"}]
    src.write_text("".join(json.dumps(c) + "\n" for c in claims))
    arrow_out = tmp_path / "out.arrow"
    r = _cli("group", src, "-o", arrow_out, "--quiet")
    assert r.returncode == 0, r.stderr
    with pa.memory_map(str(arrow_out)) as f:
        got = pa.ipc.open_file(f).read_all()
    assert got.column("final_drg").to_pylist() == [291, 293]
    claims_arrow = tmp_path / "claims.arrow"
    with pa.OSFile(str(claims_arrow), "wb") as f, pa.ipc.new_file(f, claims_table(claims).schema) as w:
        w.write_table(claims_table(claims))
    csv_out = tmp_path / "out.csv"
    r = _cli("group", claims_arrow, "-o", csv_out, "--quiet")
    assert r.returncode == 0, r.stderr
    lines = csv_out.read_text().splitlines()
    assert lines[0].startswith("id,line,version,initial_drg") and len(lines) == 3
    assert lines[1].split(",")[5] == "291"


def test_cli_unreadable_parquet_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    r = _cli("group", bad, "-o", tmp_path / "out.csv")
    assert r.returncode == 2
    assert "bad.parquet" in r.stderr and "parquet" in r.stderr.lower()
    assert not (tmp_path / "out.csv").exists()


OPTIONS = {"normalize": False, "convert_codes": False, "version": None, "tables": None, "detail": "summary",
           "warnings": True, "edits": None}


def _block(lines):
    return [(n, (line if isinstance(line, bytes) else line.encode()) , 0) for n, line in enumerate(lines, start=1)]


def _summary_rows(chunk):
    from grouper.cli import columnar
    return columnar.csv_rows(chunk), columnar.json_records(chunk)


def test_json_lines_parsed_by_arrow_give_the_rows_the_line_reader_gives_on_every_labelled_claim():
    from grouper.cli.main import JsonlBlock, group_chunk
    lines = [json.dumps({k: v for k, v in c.items() if k not in DROP}) + "\n" for c in read_jsonl(SAMPLE)]
    fast_blocks = 0
    for a in range(0, len(lines), 400):
        block = JsonlBlock(_block(lines[a:a + 400]))
        fast_blocks += block.table() is not None
        got = _summary_rows(group_chunk(block, OPTIONS))
        want = _summary_rows(group_chunk(block.rows(), OPTIONS))
        assert got == want, f"lines {a + 1}-{a + 400}"
    assert fast_blocks >= len(lines) // 400 // 2, "most blocks of the sample are plain JSON Arrow reads whole"


@pytest.mark.parametrize("lines, fast", [
    ([b'{"id": "a", "version": 431, "pdx": "I5022", "sdx": [["J9601", "Y"]]}\n',
      b'{"id": "b", "version": 431, "pdx": "I5020", "pdx_poa": null, "hospital_status": null}\n'], True),
    ([b'{"id": "a", "version": 431, "pdx": "I5022"}\n', b'{"id": "b", "version": 431}\n'], False),   # pdx absent
    ([b'{"id": "a", "version": 431, "pdx": "I5022"}\n', b'not json\n'], False),
    ([b'{"id": "a", "version": 431, "pdx": "I5022", "age": 70.0}\n'], False),                         # a float
    ([b'{"id": "a", "version": 431, "pdx": "I5022", "discharge_status": "01"}\n',
      b'{"id": "b", "version": 431, "pdx": "I5022", "discharge_status": 1}\n'], False),               # mixed types
    ([b'{"id": "a", "version": 431, "pdx": "I5022"}\n', b'   \n', b'{"id": "c", "pdx": "I5022"}\n'], False),
    ([b'{"id": "a", "discharge_date": "2024-01-15", "pdx": "I5022"}\n'], True),
    ([b'{"id": "\\u00e9", "version": 431, "pdx": "I5022"}\n'], False),
    ([b'{"id": "a", "version": 431, "pdx": "I5022", "sdx": [{"code": "J9601", "poa": "N"}]}\n'], True),
    ([b'{"id": "a", "version": 431, "pdx": "I5022", "sdx": [{"code": "J9601", "poa": "N"}, {"code": "N179"}]}\n',
      b'{"id": "b", "version": 431, "pdx": "I5022", "sdx": [{"code": "J9601", "poa": null}]}\n'], False),
    ([b'{"id": "a", "version": 431, "pdx": "I5022", "pdx": "I5020"}\n'], False),             # a repeated key
])
def test_json_lines_arrow_cannot_read_exactly_are_read_line_by_line(lines, fast):
    from grouper.cli.main import JsonlBlock, group_chunk
    block = JsonlBlock(_block(lines))
    assert (block.table() is not None) == fast
    assert _summary_rows(group_chunk(block, OPTIONS)) == _summary_rows(group_chunk(block.rows(), OPTIONS))


def test_an_absent_pdx_poa_reads_as_y_and_a_null_one_as_null():
    from grouper.cli.main import JsonlBlock
    table, lines = JsonlBlock(_block([b'{"pdx": "I5022", "pdx_poa": "N"}\n', b'{"pdx": "I5022"}\n',
                                      b'{"pdx": "I5022", "pdx_poa": null}\n'])).table()
    assert table.column("pdx_poa").to_pylist() == ["N", "Y", None] and lines == [1, 2, 3]


def test_cli_full_detail_to_parquet_has_the_per_code_flags_of_group(tmp_path):
    rows = read_jsonl(SAMPLE)[:300]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({k: v for k, v in c.items() if k not in DROP}) + "\n" for c in rows))
    dst = tmp_path / "out.parquet"
    r = _cli("group", src, "-o", dst, "--detail", "full", "--quiet")
    assert r.returncode in (0, 1), r.stderr
    got = pq.read_table(dst).to_pylist()
    assert len(got) == len(rows)
    for g, c in zip(got, rows):
        claim = {k: v for k, v in c.items() if k not in DROP}
        res = group_or_error(claim)
        if isinstance(res, grouper.ClaimError):
            assert g["error_code"] == res.code, c["id"]
            continue
        d = res.to_dict()
        for f in ("pdx", "sdx", "procedures", "final_drg", "admit_dx_flag", "fiscal_year"):
            assert g[f] == d[f], f"claim {c['id']}: {f}"
        assert [w["code"] for w in g["warnings"]] == [w["code"] for w in d["warnings"]], c["id"]


def test_one_odd_line_sends_only_its_part_of_a_block_line_by_line():
    from grouper.cli.main import JsonlBlock, group_chunk
    claims = [{k: v for k, v in c.items() if k not in DROP} for c in read_jsonl(SAMPLE)[:2400]]
    clean = [json.dumps({**c, "discharge_status": 1, "sex": "M"}) + "\n" for c in claims]
    clean[1234] = json.dumps({**claims[1234], "age": 70.5}) + "\n"          # a float: Arrow cannot read it exactly
    block = JsonlBlock(_block(clean))
    parts = list(block.parts())
    assert block.table() is None and len(parts) > 2
    assert sum(len(p.items) for p in parts if p.table() is None) <= 600
    assert [it for p in parts for it in p.items] == block.items
    assert _summary_rows(group_chunk(block, OPTIONS)) == _summary_rows(group_chunk(block.rows(), OPTIONS))
