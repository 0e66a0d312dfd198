"""A code list given as one text holding several codes ("J9601,E119") is the claim's
CODES_AS_TEXT error on every path: read as one code it would be one unknown code and the
others silently lost -- a wrong DRG with exit status 0.  One code as text stays one entry."""
from __future__ import annotations

import json

import pytest

import grouper

#: (field, value): texts that hold several codes
SEVERAL = [("sdx", "J9601,E119"), ("sdx", "J9601 E119"), ("sdx", "J9601;E119"), ("sdx", b"J9601|E119"),
           ("procedures", "0JH60DZ 02HK3JZ"), ("procedures", "0JH60DZ,02HK3JZ")]


def _claim(field, value, **more):
    return {"version": 431, "pdx": "I5022", "sex": "M", "age": 70, "discharge_status": 1, field: value, **more}


@pytest.mark.parametrize("field,value", SEVERAL)
def test_group_and_claim_refuse_several_codes_in_one_text(field, value):
    with pytest.raises(grouper.ClaimError) as exc:
        grouper.group(_claim(field, value))
    assert exc.value.code == "CODES_AS_TEXT" and exc.value.field == field
    assert "give a list of codes" in str(exc.value)
    with pytest.raises(grouper.ClaimError, match="CODES_AS_TEXT|one text holding several codes"):
        grouper.Claim(pdx="I5022", **{field: value})


def test_one_code_as_text_is_still_one_entry():
    # J9601 (acute respiratory failure with hypoxia) is an MCC of heart failure I5022: DRG 291
    # with it, 293 without; the same whether given as a list or as one text
    assert grouper.group(_claim("sdx", "J9601")).final_drg == 291
    assert grouper.group(_claim("sdx", ["J9601"])).final_drg == 291


def test_batches_give_the_error_in_the_row_and_group_the_others():
    claims = [_claim("sdx", ["J9601"]), _claim("sdx", "J9601,E119"), _claim("procedures", "0JH60DZ 02HK3JZ"),
              _claim("sdx", "J9601")]
    out = grouper.group_batch(claims)
    assert [None if e is None else e for e in out.error] == [None, "CODES_AS_TEXT", "CODES_AS_TEXT", None]
    assert out.final_drg[0] == out.final_drg[3] == 291


def test_dataframes_and_arrow_give_the_error_in_the_row():
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    frame = pd.DataFrame({"pdx": ["I5022", "I5022"], "sdx": ["J9601", "J9601,E119"], "version": [431, 431]})
    assert list(grouper.group_batch(frame).error) == [None, "CODES_AS_TEXT"]
    table = pa.table({"pdx": ["I5022", "I5022"], "sdx": ["J9601", "J9601 E119"], "version": [431, 431]})
    got = grouper.group_arrow(table)
    assert got.column("error_code").to_pylist() == [None, "CODES_AS_TEXT"]
    assert got.column("final_drg").to_pylist() == [291, None]


def test_the_command_line_writes_the_error_row(tmp_path):
    from grouper.cli.main import main
    src = tmp_path / "claims.jsonl"
    src.write_text(json.dumps(_claim("sdx", ["J9601"])) + "\n" + json.dumps(_claim("sdx", "J9601,E119")) + "\n")
    for out in ("out.jsonl", "out.csv"):
        assert main(["group", str(src), "-o", str(tmp_path / out), "--quiet"]) == 1       # some error rows
    rows = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["error"] and r["error"]["code"] for r in rows] == [None, "CODES_AS_TEXT"]
    assert "CODES_AS_TEXT" in (tmp_path / "out.csv").read_text().splitlines()[2]


@pytest.mark.parametrize("name", ["sdx", "procedures", "Secondary Diagnoses", "diagnosis_codes"])
def test_a_csv_column_of_codes_in_one_cell_is_refused_not_ignored(tmp_path, capsys, name):
    """The CSV layout reads one column per code (DX2, PX1 ...): a column holding a code list
    would be ignored and every claim grouped without its codes; the run stops and says so."""
    from grouper.cli.main import main
    src = tmp_path / "claims.csv"
    src.write_text(f'id,version,pdx,"{name}"\na,431,I5022,"J9601,E119"\n')
    assert main(["group", str(src), "-o", str(tmp_path / "out.csv"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"column {name!r}" in err and "one column per code" in err
    assert not (tmp_path / "out.csv").exists()
