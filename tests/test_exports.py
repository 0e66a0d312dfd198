"""A hospital's billing export in, answers a finance team can read out -- and one clear error per misuse.

tests/data/hospital_export.csv (tests/make_hospital_export.py) is 28 CMS-labelled v43.1 claims as a
hospital exports them: a byte-order mark (Excel's "CSV UTF-8"), "Claim ID", US dates, "Patient
Status" 01, DX1..DX25 with dots (I50.22), POA1..POA25, PX1..PX25, "Billed DRG", "Total Charges"
as $18,000.00, a few paid amounts.  tests/data/hospital_export_expected.json holds CMS's labels.
The documented options for it (docs/columns.md): ``--preset ub04 --normalize``.
"""
import csv
import json
import subprocess
import sys
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import numpy as np
import pytest

import grouper

from conftest import ROOT, SAMPLE, read_jsonl

EXPORT = ROOT / "tests" / "data" / "hospital_export.csv"
CMS = json.loads((ROOT / "tests" / "data" / "hospital_export_expected.json").read_text())
HOSPITAL = ROOT / "grouper" / "data" / "sample_hospital.json"
OPTIONS = ["--preset", "ub04", "--normalize"]


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "grouper", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, input=stdin)


def rows_of(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def no_traceback(r):
    assert "Traceback" not in r.stderr, r.stderr


# ---------------------------------------------------------------- the export, with the documented options


def test_the_export_groups_as_cms_with_the_documented_options(tmp_path):
    out = tmp_path / "grouped.csv"
    r = run("group", EXPORT, "-o", out, *OPTIONS)
    assert r.returncode == 0, r.stderr
    assert "to fix" not in r.stderr                     # nothing left unread, no pattern to fix
    got = rows_of(out)
    assert [g["id"] for g in got] == list(CMS)         # the BOM does not eat the first column's name
    for g in got:
        want = CMS[g["id"]]
        assert (int(g["final_drg"]), int(g["final_mdc"]), g["return_code"]) == (
            want["final_drg"], want["final_mdc"], want["return_code"]), g["id"]
        assert g["version"] == "43.1" and g["error_code"] == ""
        assert g["warnings"].startswith("CODE_NORMALIZED pdx=")          # field and value, not the code alone
    pci = next(g for g in got if g["final_drg"] == "321")              # PX columns read: still surgical
    assert pci["final_drg_description"].startswith("Percutaneous Cardiovascular Procedures")


def test_the_export_without_options_says_what_to_fix_and_strict_fails(tmp_path):
    r = run("group", EXPORT, "-o", tmp_path / "g.csv")
    assert r.returncode == 0
    for fix in ("--column pr=PX{n} (or --preset ub04)", "--column id='Claim ID'",
                "--column discharge_status='Patient Status'", "--normalize removes the dots",
                "28 of 28 rows have codes written with a dot (e.g. pdx="):
        assert fix in r.stderr, fix
    strict = run("group", EXPORT, "-o", tmp_path / "g.csv", "--strict", "--quiet")
    assert strict.returncode == 3 and "--strict" in strict.stderr and "--preset ub04" in strict.stderr
    assert run("group", EXPORT, "-o", tmp_path / "g.csv", "--strict", *OPTIONS).returncode == 0


def test_the_export_audits_against_cms(tmp_path):
    out = tmp_path / "audit.csv"
    r = run("audit", EXPORT, "-o", out, "--hospital", HOSPITAL, *OPTIONS)
    assert r.returncode == 0, r.stderr
    got = {g["id"]: g for g in rows_of(out)}
    assert list(got) == list(CMS)
    for cid, want in CMS.items():
        g = got[cid]
        assert int(g["regrouped_drg"]) == want["final_drg"], cid
        assert g["match"] == str(want["billed_drg"] == want["final_drg"]), cid
        assert g["version"] == "43.1"
        if want["paid_amount"] is not None:             # "$6,300.00" read as 6300.00
            assert D(g["paid_amount"]) == D(str(want["paid_amount"]))
            assert D(g["paid_difference"]) == D(g["regrouped_payment"]) - D(str(want["paid_amount"]))
    mismatched = sum(w["billed_drg"] != w["final_drg"] for w in CMS.values())
    assert f"28 claims: {28 - mismatched} as billed, {mismatched} different" in r.stderr


def test_the_export_estimates_by_hand(tmp_path):
    out = tmp_path / "estimate.csv"
    r = run("estimate", EXPORT, "-o", out, "--hospital", HOSPITAL, *OPTIONS)
    assert r.returncode == 0, r.stderr
    got = {g["id"]: g for g in rows_of(out)}
    for cid, want in CMS.items():
        assert (int(got[cid]["drg"]), got[cid]["fiscal_year"], got[cid]["version"]) == (want["final_drg"], "2026",
                                                                                       "43.1"), cid
        assert "NTAP" in got[cid]["not_modelled"]
    # the PCI claim: DRG 321 FY2026 weight 2.7208, discharged to hospice (50), which is not a transfer for
    # DRG 321 (not a post-acute DRG); sample hospital: wage index 0.9264 (Table 1B), GAF 0.9490,
    # IME/DSH 0.0412/0.0259, capital 0.0287/0.0154; charges $18,000 are far below the outlier threshold
    pci = got["v431-dev-real-000088"]
    def c(x):
        return x.quantize(D("0.01"), ROUND_HALF_UP)
    op = c(D("2.7208") * (D("4186.62") * D("0.9264") + D("2565.99")))     # 2.7208 x 6444.474768 = 17534.1269
    cap = c(D("2.7208") * c(D("524.15") * D("0.9490")))                  # 2.7208 x 497.42 = 1353.3803
    total = (op + c(op * D("0.0412")) + c(op * D("0.0259")) + cap + c(cap * D("0.0287")) + c(cap * D("0.0154")))
    assert (D(pci["operating_base"]), D(pci["capital_base"]), D(pci["total"])) == (op, cap, total)
    assert total == D("20123.73")
    assert "not a post-acute DRG" in pci["notes"]
    outlier = next(g for g in got.values() if D(g["operating_outlier"]) > 0)   # the $250,000 stay
    assert outlier["id"] == list(CMS)[7]


# ---------------------------------------------------------------- one clear error per misuse


def small_csv(tmp_path, text, name="claims.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_text(text, encoding=encoding)
    return p


HEADER = "Claim ID,Discharge Date,Sex,Patient Status,DX1,POA1,DX2,POA2,PX1\n"
ROW = "c1,05/10/2026,M,01,I50.22,Y,J96.01,Y,\n"


def test_a_mapped_column_that_does_not_exist_is_an_error_naming_it_and_the_header(tmp_path):
    r = run("group", small_csv(tmp_path, HEADER + ROW), "--column", "sex=Gender", "-o", tmp_path / "o.csv")
    assert r.returncode == 2 and not (tmp_path / "o.csv").exists()
    assert "no column 'Gender' in the header ('Claim ID', 'Discharge Date', 'Sex'" in r.stderr
    no_traceback(r)


def test_a_mapped_id_column_that_does_not_exist_is_an_error(tmp_path):
    r = run("group", small_csv(tmp_path, HEADER + ROW), "--column", "id=ClaimNo")
    assert r.returncode == 2 and "column mapping id=ClaimNo: no column 'ClaimNo'" in r.stderr
    no_traceback(r)


def test_an_unknown_field_in_a_column_mapping_is_an_error_not_a_traceback(tmp_path):
    r = run("group", small_csv(tmp_path, HEADER + ROW), "--column", "diagnosis=DX{n}")
    assert r.returncode == 2 and "unknown field 'diagnosis'" in r.stderr and "fields: id, version" in r.stderr
    no_traceback(r)


def test_a_header_without_diagnosis_columns_is_an_error_naming_the_header(tmp_path):
    r = run("group", small_csv(tmp_path, "Claim ID,Code1,Code2\nc1,I5022,J9601\n"))
    assert r.returncode == 2
    assert "no diagnosis column: none matches 'dx{n}' in the header ('Claim ID', 'Code1', 'Code2')" in r.stderr
    assert "--column dx=NAME{n}" in r.stderr
    no_traceback(r)


def test_procedure_columns_left_unmapped_are_named_with_the_option(tmp_path):
    text = ("id,discharge_date,sex,discharge_status,dx1,poa1,dx2,poa2,PX1,PX2\n"
            "c1,2026-05-10,M,1,I2109,Y,J9601,Y,02703DZ,4A023N7\n")
    r = run("group", small_csv(tmp_path, text), "-o", tmp_path / "o.csv")
    assert "columns PX1..PX2 are not read" in r.stderr and "--column pr=PX{n}" in r.stderr
    assert rows_of(tmp_path / "o.csv")[0]["final_drg"] == "280"        # AMI with MCC: medical, the PCI unread
    fixed = run("group", small_csv(tmp_path, text), "-o", tmp_path / "o.csv", "--column", "pr=PX{n}")
    assert fixed.returncode == 0 and "to fix" not in fixed.stderr
    assert rows_of(tmp_path / "o.csv")[0]["final_drg"] == "321"        # PCI with a stent, not medical 302


def test_a_byte_order_mark_does_not_hide_the_first_column(tmp_path):
    # DX1 first: with the mark read as part of its name, DX2 became the principal diagnosis
    p = small_csv(tmp_path, "DX1,DX2,version,sex,discharge_status\nI5022,J9601,43.1,M,1\n", encoding="utf-8-sig")
    r = run("group", p, "-o", tmp_path / "o.csv", "--keep-columns", "DX1")
    assert r.returncode == 0, r.stderr
    got = rows_of(tmp_path / "o.csv")[0]
    assert got["final_drg"] == "291" and got["DX1"] == "I5022"           # the name carries no mark either
    j = tmp_path / "c.jsonl"
    j.write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "a", "version": 431, "pdx": "I5022"}).encode() + b"\n")
    r = run("group", j, "-o", tmp_path / "o.jsonl")
    assert r.returncode == 0 and read_jsonl(tmp_path / "o.jsonl")[0]["final_drg"] == 293


def test_dotted_codes_group_as_cms_reads_them_and_the_summary_names_normalize(tmp_path):
    r = run("group", small_csv(tmp_path, HEADER + ROW), "-o", tmp_path / "o.csv", "--preset", "ub04")
    assert rows_of(tmp_path / "o.csv")[0]["final_drg"] == "999"          # CMS: I50.22 is not a code
    assert "have codes written with a dot (e.g. pdx=I50.22)" in r.stderr and "--normalize" in r.stderr
    r = run("group", small_csv(tmp_path, HEADER + ROW), "-o", tmp_path / "o.csv", "--preset", "ub04",
            "--normalize")
    assert rows_of(tmp_path / "o.csv")[0]["final_drg"] == "291"


def test_us_dates_are_read_and_other_formats_need_date_format(tmp_path):
    us = run("group", small_csv(tmp_path, HEADER + ROW), "-o", tmp_path / "o.csv", *OPTIONS)
    assert us.returncode == 0 and rows_of(tmp_path / "o.csv")[0]["version"] == "43.1"
    eu = small_csv(tmp_path, HEADER + "c1,10.05.2026,M,01,I50.22,Y,J96.01,Y,\n")
    r = run("group", eu, "-o", tmp_path / "o.csv", *OPTIONS)
    assert r.returncode == 1 and rows_of(tmp_path / "o.csv")[0]["error_code"] == "BAD_DATE"
    assert "--date-format" in r.stderr and "'10.05.2026'" in r.stderr
    ok = run("group", eu, "-o", tmp_path / "o.csv", *OPTIONS, "--date-format", "%d.%m.%Y")
    assert ok.returncode == 0 and rows_of(tmp_path / "o.csv")[0]["final_drg"] == "291"


@pytest.mark.parametrize("delimiter", ["\\t", "tab", "\t", None])
def test_tab_delimiters_are_accepted_and_sniffed(tmp_path, delimiter):
    p = small_csv(tmp_path, (HEADER + ROW).replace(",", "\t"), name="claims.txt")
    r = run("group", p, "-o", tmp_path / "o.csv", *OPTIONS, *(["--delimiter", delimiter] if delimiter else []))
    assert r.returncode == 0, r.stderr
    assert rows_of(tmp_path / "o.csv")[0]["final_drg"] == "291"


def test_a_bad_delimiter_is_an_error(tmp_path):
    r = run("group", small_csv(tmp_path, HEADER + ROW), "--delimiter", "tabs")
    assert r.returncode == 2 and "--delimiter must be one character" in r.stderr
    no_traceback(r)


def test_a_csv_on_stdin_is_read_as_csv(tmp_path):
    r = run("group", "-", *OPTIONS, "--output-format", "csv", stdin=HEADER + ROW)
    assert r.returncode == 0, r.stderr
    assert list(csv.DictReader(r.stdout.splitlines()))[0]["final_drg"] == "291"
    r = run("group", "-", "--input-format", "csv", *OPTIONS, stdin=HEADER + ROW)
    assert r.returncode == 0 and json.loads(r.stdout.splitlines()[0])["final_drg"] == 291


@pytest.mark.parametrize("command", ["group", "audit", "estimate"])
def test_an_unknown_output_extension_is_refused(tmp_path, command):
    extra = ["--hospital", HOSPITAL] if command == "estimate" else []
    r = run(command, EXPORT, "-o", tmp_path / "out.xlsx", *OPTIONS, *extra)
    assert r.returncode == 2 and "'.xlsx'" in r.stderr and "write .jsonl or .csv" in r.stderr
    assert not (tmp_path / "out.xlsx").exists()
    no_traceback(r)


def test_a_broken_pipe_ends_quietly(tmp_path):
    src = tmp_path / "many.jsonl"
    src.write_text("".join(json.dumps({k: v for k, v in c.items() if k != "expected"}) + "\n"
                           for c in read_jsonl(SAMPLE)[:3000]))
    p = subprocess.Popen([sys.executable, "-m", "grouper", "group", str(src), "--quiet"], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.readline()
    p.stdout.close()                                  # as `| head -1` does
    err = p.stderr.read().decode()
    p.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_the_audit_and_payment_columns_can_be_mapped(tmp_path):
    text = ("Claim,Disch,Adm,Sex,Status,DX1,DX2,DX3,DRG Billed,Remit,Chg\n"
            "c1,2026-05-11,2026-05-07,F,1,I5020,E1165,N179,293,\"$4,100.00\",\"$20,000\"\n")
    r = run("audit", small_csv(tmp_path, text), "-o", tmp_path / "a.csv", "--hospital", HOSPITAL,
            "--column", "id=Claim", "--column", "discharge_date=Disch", "--column", "admission_date=Adm",
            "--column", "discharge_status=Status", "--column", "billed_drg=DRG Billed",
            "--column", "paid_amount=Remit", "--column", "charges=Chg")
    assert r.returncode == 0, r.stderr
    a = rows_of(tmp_path / "a.csv")[0]
    assert (a["id"], a["billed_drg"], a["regrouped_drg"], a["paid_amount"]) == ("c1", "293", "292", "4100.0")
    assert D(a["paid_difference"]) == D(a["regrouped_payment"]) - D("4100.00")


def test_keep_columns_carries_input_columns_to_the_output(tmp_path):
    r = run("group", EXPORT, "-o", tmp_path / "g.csv", *OPTIONS, "--keep-columns", "Claim ID,Total Charges")
    assert r.returncode == 0, r.stderr
    g = rows_of(tmp_path / "g.csv")[0]
    assert (g["Claim ID"], g["Total Charges"]) == (list(CMS)[0], "$18,000.00")
    r = run("estimate", EXPORT, "-o", tmp_path / "e.jsonl", *OPTIONS, "--hospital", HOSPITAL,
            "--keep-columns", "Billed DRG")
    assert read_jsonl(tmp_path / "e.jsonl")[0]["Billed DRG"] == str(CMS[list(CMS)[0]]["billed_drg"])
    bad = run("group", EXPORT, *OPTIONS, "--keep-columns", "Nope")
    assert bad.returncode == 2 and "--keep-columns: no column 'Nope'" in bad.stderr


def test_the_version_is_spelled_one_way_everywhere(tmp_path):
    run("group", EXPORT, "-o", tmp_path / "g.jsonl", *OPTIONS)
    run("audit", EXPORT, "-o", tmp_path / "a.jsonl", *OPTIONS)
    run("estimate", EXPORT, "-o", tmp_path / "e.jsonl", *OPTIONS, "--hospital", HOSPITAL)
    for name in ("g", "a", "e"):
        assert {r["version"] for r in read_jsonl(tmp_path / f"{name}.jsonl")} == {"43.1"}, name


def test_an_estimate_with_a_ungroupable_stay_is_a_row_with_its_reason_not_a_failed_run(tmp_path):
    text = HEADER.replace("\n", ",Admit Date\n") + "c1,05/10/2026,M,00,I21.09,Y,,,,05/08/2026\n"
    r = run("estimate", small_csv(tmp_path, text), "-o", tmp_path / "e.csv", *OPTIONS, "--hospital", HOSPITAL)
    assert r.returncode == 0, r.stderr
    e = rows_of(tmp_path / "e.csv")[0]
    assert (e["drg"], e["fiscal_year"], e["version"], e["error"]) == ("999", "2026", "43.1", "")
    assert "has no FY2026 relative weight" in e["not_priced"]


# ---------------------------------------------------------------- wide DataFrames in group_batch


WIDE = {"Claim ID": ["a", "b"], "Discharge Date": ["12/28/2025", "2026-05-01"], "DX1": ["I5022", "M1611"],
        "POA1": ["Y", "Y"], "DX2": ["J9601", None], "PX1": [None, "0SR9019"], "Sex": ["M", "F"],
        "Patient Status": [1, 1]}


def test_group_batch_reads_a_wide_table_with_the_csv_column_mapping():
    out = grouper.group_batch(WIDE, columns="ub04")
    assert out.error.tolist() == [None, None]
    assert out.id.tolist() == ["a", "b"] and out.final_drg.tolist() == [291, 470]
    assert out.version.tolist() == [430, 431]                 # 12/28/2025 is v43.0, 2026-05-01 v43.1
    assert out.final_drg_description.tolist() == ["Heart Failure and Shock with MCC",
                                                  grouper.tables.drg(470, version=431).title]
    with pytest.warns(UserWarning, match=r"PX1 are not read.*pr=PX\{n\}"):
        medical = grouper.group_batch({k: v for k, v in WIDE.items() if k != "Claim ID"})
    assert medical.final_drg.tolist()[1] != 470                # told, not silently surgical-less
    with pytest.raises(grouper.LayoutError, match="no column 'Gender'"):
        grouper.group_batch(WIDE, columns={"sex": "Gender"})


def test_group_batch_reads_a_wide_pandas_dataframe():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(WIDE)
    df["Discharge Date"] = pd.to_datetime(df["Discharge Date"], format="mixed")
    out = grouper.group_batch(df, columns=["pr=PX{n}", "id=Claim ID", "discharge_status=Patient Status"])
    assert out.final_drg.tolist() == [291, 470] and out.id.tolist() == ["a", "b"]


def test_batch_results_carry_drg_titles_as_the_per_claim_path():
    recs = [{k: v for k, v in c.items() if k not in ("expected", "scenario")} for c in read_jsonl(SAMPLE)[:400]]
    out = grouper.group_batch(recs)
    for i, rec in enumerate(recs):
        try:
            r = grouper.group(rec)
        except grouper.ClaimError:
            assert out.final_drg_description[i] is None
            continue
        assert (out.initial_drg_description[i], out.final_drg_description[i]) == (
            r.initial_drg_description, r.final_drg_description), rec["id"]
    assert isinstance(out.final_drg_description, np.ndarray)


def test_docs_and_help_list_every_field_and_preset_column():
    from grouper.reading.layout import FIELDS, PRESETS
    doc = (ROOT / "docs" / "columns.md").read_text()
    help_text = run("group", "--help").stdout
    for f in FIELDS:
        assert f"| `{f}` |" in doc and f in help_text, f
    for cands in PRESETS["ub04"].values():
        for c in cands:
            assert f"`{c}`" in doc, c
