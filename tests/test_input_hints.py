"""The summary's "to fix" hints name a fix that works for the input at hand, and mapping options
on an input they cannot map are refused with a message, not an internal error.

--column, --preset and --date-format map the columns of a CSV file or a wide Parquet / Arrow
table.  On a Parquet file in the JSON-lines schema they used to end the run with an internal
error (exit 70: the table was read as a wide one), and the BAD_DATE hint told JSON-lines and
Parquet users to give --date-format, which their input refuses.
"""
import csv
import json

import pytest

from conftest import ROOT

DATA = ROOT / "grouper" / "data"


def run(argv) -> int:
    from grouper.cli.main import main
    return main([str(a) for a in argv])


def _us_dates(tmp_path):
    """The sample claims with their discharge dates written MM/DD/YYYY."""
    claims = [json.loads(line) for line in (DATA / "sample_claims.jsonl").read_text().splitlines() if line.strip()]
    for c in claims:
        d = c.get("discharge_date")
        if d:
            c["discharge_date"] = f"{d[5:7]}/{d[8:10]}/{d[:4]}"
    return [c for c in claims if c.get("discharge_date")]


def test_a_json_lines_input_with_us_dates_is_told_to_write_iso_dates_not_to_give_date_format(tmp_path, capsys):
    claims = _us_dates(tmp_path)
    src = tmp_path / "us.jsonl"
    src.write_text("".join(json.dumps(c) + "\n" for c in claims))
    assert run(["group", src, "-o", tmp_path / "out.csv"]) == 1
    err = capsys.readouterr().err
    hint = next(line for line in err.splitlines() if "discharge date that cannot be read" in line)
    assert "YYYY-MM-DD" in hint and "give the date format with --date-format" not in hint, hint
    # what the hint says works
    for c in claims:
        m, d, y = c["discharge_date"].split("/")
        c["discharge_date"] = f"{y}-{m}-{d}"
    src.write_text("".join(json.dumps(c) + "\n" for c in claims))
    assert run(["group", src, "-o", tmp_path / "out.csv", "--quiet"]) == 0


def test_a_csv_input_with_day_first_dates_is_still_told_to_give_date_format(tmp_path, capsys):
    src = tmp_path / "eu.csv"
    with open(src, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "discharge_date", "age", "sex", "discharge_status", "DX1", "DX2"])
        for i in range(5):
            w.writerow([f"c{i}", "25.05.2026", 70, "M", 1, "I5022", "J9601"])
    assert run(["group", src, "-o", tmp_path / "out.csv"]) == 1
    err = capsys.readouterr().err
    assert "give the date format with --date-format" in err, err
    assert run(["group", src, "-o", tmp_path / "out2.csv", "--date-format", "%d.%m.%Y", "--quiet"]) == 0


def test_mapping_options_on_a_parquet_file_in_the_json_lines_schema_are_refused_with_a_message(tmp_path, capsys):
    pa = pytest.importorskip("pyarrow")
    from pyarrow import parquet
    claims = _us_dates(tmp_path)
    src = tmp_path / "us.parquet"
    keys = list(dict.fromkeys(k for c in claims for k in c))
    parquet.write_table(pa.Table.from_pydict({k: [c.get(k) for c in claims] for k in keys}), src)
    for option in (["--date-format", "%m/%d/%Y"], ["--column", "id=claim_no"], ["--preset", "ub04"]):
        assert run(["group", src, "-o", tmp_path / "out.csv", *option]) == 2, option
        err = capsys.readouterr().err
        assert "JSON-lines schema" in err and "Traceback" not in err and "LayoutError" not in err, err


def test_every_hint_that_names_a_mapping_option_has_a_fix_for_inputs_with_named_fields():
    from grouper.cli.inputs import FIELD_FIXES, FIXABLE_ERRORS, FIXABLE_WARNINGS
    for code, (_, fix) in {**FIXABLE_WARNINGS, **FIXABLE_ERRORS}.items():
        if "--column" in fix or "--date-format" in fix or "--preset" in fix:
            assert code in FIELD_FIXES, code
            assert "--column" not in FIELD_FIXES[code] and "give the date format" not in FIELD_FIXES[code], code


def test_a_parquet_input_on_standard_input_is_refused_with_what_to_do(monkeypatch, capsys):
    pytest.importorskip("pyarrow")
    import io
    import sys
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"PAR1....PAR1")))
    assert run(["group", "-", "--input-format", "parquet", "-o", "-"]) == 2
    err = capsys.readouterr().err
    assert "standard input" in err and "no such file" not in err, err
