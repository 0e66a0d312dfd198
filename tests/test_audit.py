"""Claim audit: the sample claims with billed DRGs (some deliberately wrong), reasons, what-if, CLI.

grouper/data/sample_audit.jsonl is grouper/data/sample_claims.jsonl with billed_drg added (plus
admission dates, a few paid amounts, and charges on one claim); sample_hospital.json prices it.
"""
import argparse
import csv
import json
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import pytest

from grouper.finance import audit as au
from grouper.finance.audit import audit_claim, audit_rows, what_if
from grouper.finance.payment import Hospital, estimate_drg

from conftest import ROOT

DATA = ROOT / "grouper" / "data"
HOSPITAL = Hospital.from_file(DATA / "sample_hospital.json")

# claim id -> (billed DRG, regrouped DRG, reason kind, reason)
EXPECTED = {
    "hf-cc": (293, 292, au.SDX_ADDS_SEVERITY, "SDX N179 (CC) makes 292 instead of 293"),
    "hf-none": (292, 293, au.NO_CC_MCC, "no secondary diagnosis counts as CC (E1165: NCC): 293 instead of 292"),
    "hf-excluded": (291, 293, au.SDX_EXCLUDED, "SDX I5023 is excluded as MCC with PDX I5022"),
    "ami-died": (280, 283, au.DISCHARGE_STATUS,
                 "discharge status 20 (expired) moves the claim to DRG 283 instead of 280"),
    "hip-replacement-mcc": (470, 469, au.SDX_ADDS_SEVERITY, "SDX J9601 (MCC) makes 469 instead of 470"),
    "pci-drug-stent": (247, 322, au.BILLED_DRG_INVALID,
                       "billed DRG 247 does not exist in v43.0 (it is a DRG of v40.1)"),
    "newborn-died": (795, 789, au.DISCHARGE_STATUS,
                     "discharge status 20 (expired) moves the claim to DRG 789 instead of 795"),
    "ecode-pdx": (195, 999, au.UNGROUPABLE, "PDX W891XXA cannot be a principal diagnosis"),
    "unrelated-or": (195, 983, au.PROCEDURE, "procedure 0DTJ4ZZ moves the claim to a surgical DRG"),
    "sepsis-shock": (872, 871, au.SDX_ADDS_SEVERITY, "SDX R6521 (MCC) makes 871 instead of 872"),
    "heart-transplant": (2, 1, au.SDX_ADDS_SEVERITY, "SDX J9601 (MCC) makes 1 instead of 2"),
    "sex-dependent-unknown": (696, 999, au.DATA_ERROR,
                              "sex 'U' is invalid for PDX N393, whose grouping depends on the sex"),
    "multiple-trauma": (963, 965, au.SDX_EXCLUDED_BY_DRG_LOGIC,
                        "SDX S11012A is not counted as MCC by the DRG logic of DRGs 963-965"),
    "hac-pressure-ulcer": (193, 195, au.HAC, "HAC 04: SDX L89154 not present on admission does not count as MCC"),
    "hac-poa-missing": (193, 999, au.HAC, "HAC 04: SDX L89154 has a blank POA, which makes the claim ungroupable"),
    "mccalive-died": (291, 293, au.SDX_NOT_COUNTED, "SDX I469 counts as MCC only if the patient is discharged "
                                                    "alive; discharge status is 20 (expired)"),
    "delivery-no-outcome": (807, 998, au.PDX_INVALID_AS_DISCHARGE,
                            "PDX O80 is invalid as discharge diagnosis on this claim (DRG 998)"),
    "ecmo": (4, 3, au.PROCEDURE, "procedure 5A1522G moves the claim to DRG 3 instead of 4"),
    "dotted-code": (291, 999, au.DATA_ERROR, "PDX I50.22 is not a valid ICD-10-CM code in v43.1"),
    "invalid-pdx": (293, 999, au.DATA_ERROR, "PDX XXXXX is not a valid ICD-10-CM code in v43.1"),
    "invalid-status-ami": (280, 999, au.DATA_ERROR, "discharge status 0 is invalid"),
    "copd": (191, 190, au.SDX_ADDS_SEVERITY, "SDX J9601 (MCC) makes 190 instead of 191"),
    "stroke-tpa": (61, 63, au.NO_CC_MCC, "no secondary diagnosis counts as MCC (I10: NCC): 63 instead of 61"),
}


def read_jsonl(path):
    return [json.loads(x) for x in open(path, encoding="utf-8") if x.strip()]


CLAIMS = read_jsonl(DATA / "sample_audit.jsonl")


@pytest.fixture(scope="module")
def rows():
    return {r.id: r for r in audit_rows(CLAIMS, HOSPITAL)}


# ---------------------------------------------------------------- the sample audit


def test_the_sample_audit_covers_every_sample_claim():
    sample_ids = [c["id"] for c in read_jsonl(DATA / "sample_claims.jsonl")]
    assert [c["id"] for c in CLAIMS] == sample_ids
    for c, s in zip(CLAIMS, read_jsonl(DATA / "sample_claims.jsonl")):
        assert {k: c[k] for k in s} == s                 # the same claims, with billing fields added


@pytest.mark.parametrize("cid", sorted(EXPECTED))
def test_each_wrong_billed_drg_gets_its_reason(rows, cid):
    billed, regrouped, kind, reason = EXPECTED[cid]
    r = rows[cid]
    assert (r.billed_drg, r.regrouped_drg, r.match) == (billed, regrouped, False)
    assert (r.reason_kind, r.reason) == (kind, reason)


def test_every_other_claim_is_confirmed_as_billed(rows):
    confirmed = [r for r in rows.values() if r.id not in EXPECTED]
    assert len(confirmed) == len(CLAIMS) - len(EXPECTED) == 17
    for r in confirmed:
        assert r.match and r.reason_kind == au.MATCH and r.reason == f"billed DRG {r.billed_drg} confirmed"
        assert r.payment_difference == 0 and r.error is None


def test_reasons_name_codes_that_are_on_the_claim(rows):
    by_id = {c["id"]: c for c in CLAIMS}
    for r in rows.values():
        c = by_id[r.id]
        on_claim = {c["pdx"]} | {s[0] for s in c["sdx"]} | set(c["procedures"])
        assert set(r.reason_codes) <= on_claim, r.id
        assert all(code in r.reason for code in r.reason_codes), r.id


def test_payment_difference_is_regrouped_minus_billed_estimate(rows):
    r = rows["hf-cc"]                                     # FY2026, routine discharge, LOS 4
    billed = estimate_drg(293, 2026, HOSPITAL, discharge_status=1, los=4).total
    regrouped = estimate_drg(292, 2026, HOSPITAL, discharge_status=1, los=4).total
    assert (r.billed_payment, r.regrouped_payment) == (billed, regrouped)
    assert r.payment_difference == regrouped - billed
    assert r.weight_difference == D("0.8490") - D("0.5660")
    # paid_amount 4102.55 in the fixture is a remittance, not an estimate of this library
    assert r.paid_amount == D("4102.55") and r.paid_difference == regrouped - D("4102.55")


def test_the_regrouped_estimate_of_hf_cc_by_hand(rows):
    # DRG 292 FY2026 weight 0.8490, sample hospital (wage index 0.9264, GAF 0.9490, IME/DSH 0.0412/0.0259,
    # capital 0.0287/0.0154), routine discharge: Table 1B 4186.62 x 0.9264 + 2565.99 = 6444.474768
    op = (D("0.8490") * D("6444.474768")).quantize(D("0.01"))          # 5471.359078 -> 5471.36
    cap_rate = (D("524.15") * D("0.9490")).quantize(D("0.01"))          # 497.41835 -> 497.42
    cap = (D("0.8490") * cap_rate).quantize(D("0.01"))                  # 422.30958 -> 422.31
    def c(x):
        return x.quantize(D("0.01"), ROUND_HALF_UP)
    total = op + c(op * D("0.0412")) + c(op * D("0.0259")) + cap + c(cap * D("0.0287")) + c(cap * D("0.0154"))
    assert rows["hf-cc"].regrouped_payment == total == D("6279.42")
    assert rows["hf-cc"].paid_difference == D("6279.42") - D("4102.55") == D("2176.87")


def test_an_ungroupable_claim_pays_nothing(rows):
    r = rows["ecode-pdx"]
    assert r.regrouped_payment == D("0.00") and r.payment_difference == -r.billed_payment
    assert r.weight_difference == -r.billed_weight and "not payable" in r.estimate_note


def test_transfer_and_outlier_are_priced_and_noted(rows):
    r = rows["hip-replacement-mcc"]                       # home health (06) after 1 day
    assert "regrouped DRG 469 is paid as a post-acute transfer" in r.estimate_note
    assert r.payment_difference < 0 < r.weight_difference   # the heavier DRG is cut by the per diem
    s = rows["sepsis-shock"]                              # charges 260,000
    assert "cost outlier" in s.estimate_note


def test_an_invalid_billed_drg_has_no_billed_weight_or_payment(rows):
    r = rows["pci-drug-stent"]
    assert r.billed_weight is None and r.billed_payment is None and r.weight_difference is None


def test_without_a_hospital_only_weights_are_compared():
    r = audit_claim(dict(CLAIMS[1]))
    assert r.regrouped_drg == 292 and r.billed_payment is None and r.weight_difference == D("0.2830")


# ---------------------------------------------------------------- versions and errors


def test_each_claim_is_grouped_under_the_version_in_force_at_discharge():
    claim = {"id": "old", "version": 431, "discharge_date": "2023-01-15", "sex": "M", "discharge_status": 1,
             "pdx": "I5022", "sdx": [["J9601", "Y"]], "billed_drg": 291}
    r = audit_claim(claim)
    assert r.version == 400 and r.fiscal_year == 2023 and r.billed_weight == D("1.2798")


def test_the_reason_says_when_an_older_grouper_gives_the_billed_drg():
    claim = {"id": "new-code", "discharge_date": "2025-11-01", "sex": "M", "discharge_status": 62, "pdx": "I679",
             "sdx": [["E064", "Y"], ["S3164AA", "Y"]], "billed_drg": 72}
    r = audit_claim(claim)
    assert r.reason == "SDX S3164AA (MCC) makes 70 instead of 72; v42.1 groups to 72"


def test_claims_that_cannot_be_audited_carry_an_error():
    assert "no billed_drg" in audit_claim({"id": "x", "discharge_date": "2026-01-01", "pdx": "I5020"}).error
    assert "must be a DRG number" in audit_claim({"id": "x", "discharge_date": "2026-01-01", "pdx": "I5020",
                                                  "billed_drg": "abc"}).error
    r = audit_claim({"id": "x", "discharge_date": "2031-01-01", "pdx": "I5020", "billed_drg": 293})
    assert r.reason_kind == au.ERROR and "outside" in r.error


# ---------------------------------------------------------------- what-if


def test_what_if_shows_the_drg_without_each_code():
    claim = next(c for c in CLAIMS if c["id"] == "hf-cc")
    lines = what_if(claim, HOSPITAL)
    assert [(w.change, w.drg, w.changed) for w in lines] == [
        ("claim as coded", 292, False), ("without SDX E1165", 292, False), ("without SDX N179", 293, True)]
    assert lines[2].weight_difference == D("-0.2830") and lines[2].payment_difference == D("-2093.14")


def test_what_if_without_each_procedure():
    claim = next(c for c in CLAIMS if c["id"] == "heart-transplant")
    got = {w.change: w.drg for w in what_if(claim)}
    assert got == {"claim as coded": 1, "without SDX J9601": 2, "without procedure 02YA0Z0": 291}


# ---------------------------------------------------------------- command line


def run(argv):
    from grouper.cli.finance import register
    ap = argparse.ArgumentParser(prog="python -m grouper")
    register(ap.add_subparsers(dest="cmd", required=True))
    args = ap.parse_args([str(a) for a in argv])
    return args.func(args)


def test_cli_audit_writes_one_row_per_claim_and_a_report(tmp_path, capsys):
    out, rep = tmp_path / "audit.jsonl", tmp_path / "audit.html"
    assert run(["audit", DATA / "sample_audit.jsonl", "-o", out, "--hospital", DATA / "sample_hospital.json",
                "--report", rep, "--charts", "html"]) == 0
    got = read_jsonl(out)
    assert [r["id"] for r in got] == [c["id"] for c in CLAIMS]
    hf = got[1]
    assert (hf["billed_drg"], hf["regrouped_drg"], hf["version"], hf["reason"]) == (
        293, 292, "43.1", "SDX N179 (CC) makes 292 instead of 293")
    assert hf["payment_difference"] == 2093.14
    assert "40 claims: 17 as billed, 19 different, 4 with a data error, 0 not audited" in capsys.readouterr().err
    assert rep.read_text().startswith("<!DOCTYPE html>")


def test_cli_audit_reads_the_billing_columns_of_a_csv(tmp_path):
    src = tmp_path / "claims.csv"
    with open(src, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "discharge_date", "admission_date", "sex", "discharge_status", "dx1", "dx2", "dx3",
                    "billed_drg", "paid_amount"])
        w.writerow(["c1", "2026-05-11", "2026-05-07", "F", "1", "I5020", "E1165", "N179", "293", "4100.00"])
        w.writerow(["c2", "2026-05-11", "2026-05-07", "F", "1", "I5020", "E1165", "", "", ""])
    out = tmp_path / "audit.csv"
    assert run(["audit", src, "-o", out, "--hospital", DATA / "sample_hospital.json", "--quiet"]) == 1
    rows = list(csv.DictReader(open(out)))
    assert (rows[0]["regrouped_drg"], rows[0]["reason_codes"], rows[0]["paid_difference"]) == ("292", "N179",
                                                                                              "2179.42")
    assert "no billed_drg" in rows[1]["error"]


def test_cli_what_if(capsys):
    assert run(["audit", DATA / "sample_audit.jsonl", "--what-if", "hf-cc"]) == 0
    text = capsys.readouterr().out
    assert "without SDX N179" in text and " 293 " in text
    assert run(["audit", DATA / "sample_audit.jsonl", "--what-if", "nope"]) == 2


def test_cli_estimate(tmp_path, capsys):
    out = tmp_path / "est.csv"
    rc = run(["estimate", DATA / "sample_audit.jsonl", "-o", out, "--hospital", DATA / "sample_hospital.json"])
    assert rc == 0                         # the ungroupable claims are rows saying why, not a failed run
    rows = list(csv.DictReader(open(out)))
    assert len(rows) == len(CLAIMS)
    assert rows[0]["drg"] == "291" and rows[0]["total"] == "9495.31" and rows[0]["version"] == "43.1"
    assert "NTAP" in rows[0]["not_modelled"] and rows[0]["not_priced"] == ""
    e = next(r for r in rows if r["id"] == "ecode-pdx")
    assert (e["fiscal_year"], e["version"], e["drg"], e["error"]) == ("2026", "43.1", "999", "")
    assert "no FY2026 relative weight" in e["not_priced"]
    notes = next(r for r in rows if r["id"] == "hip-replacement-mcc")
    assert notes["transfer"] == "post-acute" and notes["mdc"] == "8"
    assert "33 estimated" in capsys.readouterr().err
    assert run(["estimate", DATA / "sample_audit.jsonl", "--hospital", tmp_path / "missing.json"]) == 2


def test_cli_estimate_summary_counts_every_row_once_as_it_streams(tmp_path, capsys):
    """estimate writes each row as it prices it (it used to hold every claim and estimate in memory:
    510 MB for 50,000 claims); the summary line's counts and total are those of the rows written."""
    from decimal import Decimal
    src = tmp_path / "mixed.jsonl"
    lines = (DATA / "sample_audit.jsonl").read_text().splitlines()
    lines[4:4] = ["{not json", json.dumps({"id": "no-pdx", "discharge_date": "2026-05-10"})]
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "est.jsonl"
    assert run(["estimate", src, "-o", out, "--hospital", DATA / "sample_hospital.json"]) == 1
    rows = read_jsonl(out)
    errors = [r for r in rows if r["error"]]
    unpriced = [r for r in rows if not r["error"] and r.get("not_priced")]
    priced = [r for r in rows if not r["error"] and not r.get("not_priced")]
    total = sum((Decimal(str(r["total"])) for r in priced), Decimal(0))
    assert (len(rows), len(errors)) == (len(CLAIMS) + 2, 2)
    assert (f"{len(rows):,} stays: {len(priced):,} estimated (total {total:,.2f}), {len(unpriced):,} not priced"
            in capsys.readouterr().err)


def test_estimate_tally_keeps_the_rows_only_for_a_report():
    from grouper.cli.finance import _EstimateTally
    from grouper.finance.payment import Hospital, estimate_drg
    e = estimate_drg(291, 2026, Hospital(wage_index=1), los=5)
    for keep in (False, True):
        t = _EstimateTally(keep=keep)
        t.estimated(e)
        t.error("x", "bad")
        assert (t.n, t.n_estimated, t.n_errors, t.total) == (2, 1, 1, e.total)
        assert (len(t.ests), len(t.errors)) == ((1, 1) if keep else (0, 0))


def test_cli_is_wired_into_python_m_grouper():
    from grouper.cli import build_parser
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert {"audit", "estimate"} <= set(sub.choices)
