"""python -m grouper group: files in, one row out per row in, in order."""
import csv
import gzip
import json
import subprocess
import sys

from conftest import ROOT, SAMPLE, read_jsonl
from oracle_compare import differences


def run(*args, check=False):
    return subprocess.run([sys.executable, "-m", "grouper", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, check=check)


def test_jsonl_in_jsonl_out_matches_cms(tmp_path):
    claims = read_jsonl(SAMPLE)[::60]
    src = tmp_path / "claims.jsonl.gz"
    with gzip.open(src, "wt") as f:
        for c in claims:
            f.write(json.dumps(c) + "\n")
    out = tmp_path / "out.jsonl"
    r = run("group", src, "-o", out, "--quiet")
    assert r.returncode == 0, r.stderr
    got = read_jsonl(out)
    assert [g["id"] for g in got] == [c["id"] for c in claims]
    for c, g in zip(claims, got):
        assert not differences(c["expected"], g), c["id"]


def test_jobs_give_the_same_output(tmp_path):
    claims = read_jsonl(SAMPLE)[:1200]
    src = tmp_path / "claims.jsonl"
    src.write_text("".join(json.dumps(c) + "\n" for c in claims))
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert run("group", src, "-o", a, "--quiet").returncode == 0
    assert run("group", src, "-o", b, "--quiet", "--jobs", "2", "--chunk", "100").returncode == 0
    assert a.read_bytes() == b.read_bytes()


def test_bad_rows_become_error_rows_in_place(tmp_path):
    src = tmp_path / "claims.jsonl"
    src.write_text("\n".join([
        json.dumps({"id": "ok", "version": 431, "pdx": "I5022", "sdx": [["J9601", "Y"]]}),
        "{not json",
        json.dumps({"id": "nover", "pdx": "I5022"}),
        json.dumps([1, 2]),
        json.dumps({"id": "old", "discharge_date": "2019-01-01", "pdx": "I5022"}),
        json.dumps({"id": "ok2", "discharge_date": "2024-01-15", "pdx": "I5022"}),
    ]) + "\n")
    out = tmp_path / "out.jsonl"
    r = run("group", src, "-o", out)
    assert r.returncode == 1  # some rows failed
    got = read_jsonl(out)
    assert len(got) == 6
    assert got[0]["final_drg"] == 291 and got[0]["error"] is None
    assert got[1]["error"]["code"] == "UNREADABLE_ROW" and got[1]["line"] == 2
    assert got[2]["error"]["code"] == "NO_VERSION" and got[2]["id"] == "nover"
    assert got[3]["error"]["code"] == "UNREADABLE_ROW" and got[3]["line"] == 4
    assert got[4]["error"]["code"] == "DATE_OUT_OF_RANGE"
    assert got[5]["version"] == "41.0" and got[5]["final_drg"] == 293        # one spelling: 41.0
    assert "UNREADABLE_ROW" in r.stderr  # the summary counts outcomes


def test_csv_wide_layout_in_and_out(tmp_path):
    src = tmp_path / "claims.csv"
    with open(src, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["claim_no", "discharge_date", "sex", "discharge_status", "DIAG1", "POA1", "DIAG2", "POA2",
                    "DIAG3", "POA3", "PROC1", "PROC2"])
        w.writerow(["c1", "2026-05-01", "M", "01", "I5022", "Y", "J9601", "Y", "", "", "", ""])
        w.writerow(["c2", "2026-05-01", "F", "1", "M1611", "Y", "", "", "", "", "0SR9019", "0SRB0J9"])
        w.writerow(["c3", "2026-05-01", "F", "1", "M1611"])  # truncated line
    out = tmp_path / "out.csv"
    r = run("group", src, "-o", out, "--column", "id=claim_no", "--column", "dx=DIAG{n}",
            "--column", "poa=POA{n}", "--column", "pr=PROC{n}", "--quiet")
    assert r.returncode == 1
    rows = list(csv.DictReader(open(out)))
    assert [x["id"] for x in rows] == ["c1", "c2", ""]
    assert rows[0]["final_drg"] == "291" and rows[1]["final_drg"] == "462"
    assert rows[2]["error_code"] == "UNREADABLE_ROW" and rows[2]["line"] == "4"


def test_output_is_not_left_half_written_on_failure(tmp_path):
    out = tmp_path / "out.jsonl"
    r = run("group", tmp_path / "missing.jsonl", "-o", out)
    assert r.returncode == 2 and not out.exists()
    assert not list(tmp_path.glob("*.part"))
