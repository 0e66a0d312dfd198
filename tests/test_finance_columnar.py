"""audit, estimate and edit read Parquet / Arrow claims and write Parquet / Arrow files.

Their options offered ``--input-format parquet|arrow`` and ``-o x.parquet``, but a Parquet input
stopped the run with an internal error (exit 70: the reader gives record batches, the commands
took rows), and ``-o x.parquet`` wrote JSON lines into a file named .parquet with exit 0.  A
Parquet input's date columns also made every JSON-lines output fail (a date is not JSON), for
``group --keep-columns`` too.

The expected values here come from the same claims read from JSON lines and written as JSON
lines, which the other tests check against their own expectations (test_audit, test_payment,
test_mce): a Parquet file must say what the JSON-lines file says.
"""
import datetime
import json

import pytest

from conftest import ROOT, read_jsonl

pa = pytest.importorskip("pyarrow")
from pyarrow import ipc, parquet  # noqa: E402

DATA = ROOT / "grouper" / "data"
HOSPITAL = DATA / "sample_hospital.json"
CLAIMS = read_jsonl(DATA / "sample_audit.jsonl")
COMMANDS = {"audit": ["--hospital", HOSPITAL], "estimate": ["--hospital", HOSPITAL], "edit": []}


def run(argv) -> int:
    from grouper.cli.main import main
    return main([str(a) for a in argv])


def _with_dates(claims):
    """The claims as a Parquet file holds them: dates as dates, every key a column (null where a
    claim lacks it), plus a text column "ward"."""
    keys = list(dict.fromkeys(k for c in claims for k in c)) + ["ward"]
    rows = []
    for i, c in enumerate(claims):
        c = dict(c, ward=f"w{i % 3}")
        for k in ("discharge_date", "admission_date"):
            if c.get(k):
                c[k] = datetime.date.fromisoformat(c[k])
        rows.append(c)
    return pa.Table.from_pydict({k: [r.get(k) for r in rows] for k in keys})


def _write_input(table, path):
    if path.suffix == ".parquet":
        parquet.write_table(table, path)
    else:
        with ipc.new_file(str(path), table.schema) as w:
            w.write_table(table)


def _read(path):
    if path.suffix == ".parquet":
        return parquet.read_table(path)
    return ipc.open_file(pa.memory_map(str(path))).read_all()


@pytest.mark.parametrize("suffix", [".parquet", ".arrow"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_parquet_or_arrow_input_gives_what_the_same_claims_give_as_json_lines(tmp_path, command, suffix, capsys):
    src = tmp_path / f"claims{suffix}"
    _write_input(_with_dates(CLAIMS), src)
    want, got = tmp_path / "from_jsonl.jsonl", tmp_path / "from_columns.jsonl"
    assert run([command, DATA / "sample_audit.jsonl", "-o", want, "--quiet", *COMMANDS[command]]) in (0, 1)
    status = run([command, src, "-o", got, "--quiet", *COMMANDS[command]])
    assert status in (0, 1), capsys.readouterr().err
    expected, rows = read_jsonl(want), read_jsonl(got)
    assert len(rows) == len(expected) == len(CLAIMS)
    for e, r in zip(expected, rows):
        diff = {k: (e.get(k), r.get(k)) for k in set(e) | set(r) if e.get(k) != r.get(k)}
        assert not diff, f"{command} claim {e.get('id')}: {diff}"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_kept_date_columns_of_a_parquet_input_are_written_as_iso_text(tmp_path, command, capsys):
    src = tmp_path / "claims.parquet"
    _write_input(_with_dates(CLAIMS), src)
    out = tmp_path / "out.jsonl"
    status = run([command, src, "-o", out, "--quiet", "--keep-columns", "admission_date,ward", *COMMANDS[command]])
    assert status in (0, 1), capsys.readouterr().err
    rows = read_jsonl(out)
    for c, r in zip(CLAIMS, rows):
        assert r["admission_date"] == c.get("admission_date"), f"{command} claim {c['id']}"


def test_group_keeps_a_parquet_date_column_in_json_lines_output(tmp_path, capsys):
    src = tmp_path / "claims.parquet"
    _write_input(_with_dates(CLAIMS), src)
    for detail in ("summary", "full"):
        out = tmp_path / f"{detail}.jsonl"
        status = run(["group", src, "-o", out, "--quiet", "--detail", detail, "--keep-columns", "admission_date"])
        assert status == 0, capsys.readouterr().err
        got = [r["admission_date"] for r in read_jsonl(out)]
        assert got == [c.get("admission_date") for c in CLAIMS], detail


def _mixed_input(tmp_path):
    """The sample claims as JSON lines, with an unreadable line and a claim without a principal
    diagnosis among them (rows whose output columns are mostly null)."""
    src = tmp_path / "mixed.jsonl"
    lines = [json.dumps(c) for c in CLAIMS]
    lines.insert(3, "{not json")
    bad = dict(CLAIMS[0], id="no-pdx")
    del bad["pdx"]
    lines.insert(7, json.dumps(bad))
    src.write_text("\n".join(lines) + "\n")
    return src


@pytest.mark.parametrize("suffix", [".parquet", ".arrow"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_parquet_and_arrow_output_hold_the_csv_columns_typed_with_the_json_lines_values(
        tmp_path, command, suffix, monkeypatch, capsys):
    from grouper.cli import tabular
    monkeypatch.setattr(tabular, "CHUNK", 4)      # many tables: the schema holds across them
    src = _mixed_input(tmp_path)
    want, out = tmp_path / "want.jsonl", tmp_path / f"out{suffix}"
    args = ["--keep-columns", "admission_date,billed_drg", *COMMANDS[command]]
    if command == "edit":
        args += ["--chunk", "4"]
    assert run([command, src, "-o", want, "--quiet", *args]) == 1        # the two bad rows: exit 1
    assert run([command, src, "-o", out, "--quiet", *args]) == 1, capsys.readouterr().err
    table = _read(out)
    expected = read_jsonl(want)
    assert table.num_rows == len(expected) == len(CLAIMS) + 2
    types = {f.name: f.type for f in table.schema}
    if command == "edit":
        assert types["version_used"] == pa.int32() and types["INVALID_CODE"] == pa.int32()
        assert types["warnings"] == pa.list_(pa.struct([("code", pa.string()), ("field", pa.string()),
                                                        ("value", pa.string()), ("message", pa.string())]))
    else:
        drg = "regrouped_drg" if command == "audit" else "drg"
        assert types[drg] == pa.int32() and types["fiscal_year"] == pa.int32()
        assert types["not_modelled"] == pa.list_(pa.string())
        assert types["total" if command == "estimate" else "payment_difference"] == pa.float64()
    assert types["line"] == pa.int64() and types["id"] == pa.string() and types["admission_date"] == pa.string()
    kept = {"admission_date", "input_billed_drg" if command == "audit" else "billed_drg"}
    for e, r in zip(expected, table.to_pylist()):
        where = f"{command} line {e['line']} ({e.get('id')})"
        assert r["line"] == e["line"], where
        if command == "edit":
            err = e.get("error")
            assert r["error_code"] == (err["code"] if err else None), where
            for name, count in (e.get("edits") or {}).items():
                assert r[name] == count, where
            assert r["INVALID_CODE"] == (None if err else (e.get("edits") or {}).get("INVALID_CODE", 0)), where
            assert [w["code"] for w in r["warnings"] or ()] == [w["code"] for w in e.get("warnings") or ()], where
        else:
            for name in r:
                if name in e and name not in kept:
                    assert r[name] == e[name], f"{where}: {name}"
            if e.get("error"):
                assert r["error"] == e["error"], where
        # kept columns read from JSON lines are text, a number as its JSON text (as group writes them)
        claim = next((c for c in CLAIMS if c["id"] == e.get("id")), None)
        if claim is not None:
            billed = "input_billed_drg" if command == "audit" else "billed_drg"
            assert r["admission_date"] == claim.get("admission_date"), where
            assert r[billed] == json.dumps(claim["billed_drg"]), where


@pytest.mark.parametrize("suffix", [".parquet", ".arrow", ".csv"])
def test_what_if_writes_its_lines_in_the_format_asked(tmp_path, suffix, capsys):
    want, out = tmp_path / "want.jsonl", tmp_path / f"out{suffix}"
    base = ["audit", DATA / "sample_audit.jsonl", "--what-if", "hf-mcc", "--hospital", HOSPITAL]
    assert run([*base, "-o", want]) == 0
    assert run([*base, "-o", out]) == 0, capsys.readouterr().err
    expected = read_jsonl(want)
    if suffix == ".csv":
        import csv
        with open(out, newline="") as f:
            rows = list(csv.DictReader(f))
        assert [r["change"] for r in rows] == [e["change"] for e in expected]
        assert [int(r["drg"]) for r in rows] == [e["drg"] for e in expected]
        return
    assert _read(out).to_pylist() == expected


def test_the_what_if_columns_are_the_fields_of_a_what_if_line():
    import attrs

    from grouper.cli.finance import WHAT_IF_COLUMNS
    from grouper.finance.audit import WhatIf
    assert list(WHAT_IF_COLUMNS) == [f.name for f in attrs.fields(WhatIf)]


def test_parquet_output_to_standard_output_is_refused_with_a_message(tmp_path, capsys):
    assert run(["estimate", DATA / "sample_audit.jsonl", "--hospital", HOSPITAL, "--output-format", "parquet"]) == 2
    assert "standard output" in capsys.readouterr().err
