"""The Medicare Code Editor: identical to the CMS MCE on labelled claims, batch = per claim,
clear errors for claims the MCE cannot edit, and each rule as a specification.

The committed sample (tests/data/mce_sample.jsonl.gz: every outcome of every code attribute
and every edit in every position seen in the 40,000 CMS-labelled claims) always runs; the full
labelled file runs when ../shared/oracle is present.  A failure names the claim and the field.
"""
import copy
import json
import subprocess
import sys

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import grouper
from grouper import ClaimError
from grouper.mce import EDIT_NAMES, ICD10_EDITS, edit, edit_batch, edit_fields, edit_reasons
from grouper.mce.catalog import BY_NAME, edit_type
from grouper.tables.mce import mce_tables

from conftest import ORACLE, ROOT, read_jsonl

MCE_SAMPLE = ROOT / "tests" / "data" / "mce_sample.jsonl.gz"
MCE_DEV = ORACLE / "mce_dev.jsonl.gz"
SAMPLE = read_jsonl(MCE_SAMPLE)
needs_mce_oracle = pytest.mark.skipif(not MCE_DEV.exists(), reason=f"{MCE_DEV} not present (not committed)")


def differences(expected: dict, got: dict) -> list[str]:
    """'field: expected X, got Y' for every differing field; per-code edit lists compared in order."""
    out = []
    for f in ("version_used", "edit_type", "edits"):
        if expected[f] != got[f]:
            out.append(f"{f}: expected {expected[f]!r}, got {got[f]!r}")
    if list(expected["edits"]) != list(got["edits"]):
        out.append(f"edits order: expected {list(expected['edits'])}, got {list(got['edits'])}")
    for f in ("pdx", "admit_dx"):
        if expected[f] != got[f]:
            out.append(f"{f}: expected {expected[f]!r}, got {got[f]!r}")
    for f in ("sdx", "procedures"):
        if len(expected[f]) != len(got[f]):
            out.append(f"{f}: expected {len(expected[f])} codes, got {len(got[f])}")
            continue
        for i, (a, b) in enumerate(zip(expected[f], got[f])):
            if a != b:
                out.append(f"{f}[{i}] ({a['code']}): expected {a['edits']}, got {b['edits']}")
    return out


def _check(claims) -> list[str]:
    bad = []
    for c in claims:
        diffs = differences(c["expected"], edit(c).to_dict())
        if diffs:
            bad.append(f"{c['id']}: " + "; ".join(diffs))
    return bad


# ----------------------------------------------------------------- CMS labels


def test_sample_identical_to_the_cms_mce():
    bad = _check(SAMPLE)
    assert not bad, f"{len(bad)} claims differ from the CMS MCE, e.g.\n" + "\n".join(bad[:20])


def test_sample_has_every_edit_an_icd10_claim_raises_in_every_position_it_takes():
    seen = {k for c in SAMPLE for k in c["expected"]["edits"]}
    assert seen == set(ICD10_EDITS)
    types = {c["expected"]["edit_type"] for c in SAMPLE}
    assert types == {"NONE", "PREPAYMENT", "INVALID_DISCHARGE_DATE"}


@needs_mce_oracle
def test_full_labelled_file_identical_to_the_cms_mce():
    bad = _check(read_jsonl(MCE_DEV))
    assert not bad, f"{len(bad)} claims differ from the CMS MCE, e.g.\n" + "\n".join(bad[:20])


@needs_mce_oracle
def test_batch_equals_per_claim_on_every_labelled_claim():
    claims = read_jsonl(MCE_DEV)
    b = edit_batch(claims)
    bad = [c["id"] for i, c in enumerate(claims) if b.result(i) != edit(c)]
    assert not bad, f"{len(bad)} labelled claims: edit_batch differs from edit, e.g. {bad[:10]}"
    out = grouper.group_batch(claims, edits=True)
    assert out.mce_edit_type.tolist() == b.edit_type.tolist()


@needs_mce_oracle
def test_the_catalog_says_exactly_which_edits_icd10_claims_raise():
    """The labelled claims were drawn to hit every code attribute: the edits they show are the
    ICD-10 edits, and no other."""
    seen = {k for c in read_jsonl(MCE_DEV) for k in c["expected"]["edits"]}
    assert seen == set(ICD10_EDITS)


# ------------------------------------------------------------ batch = per claim


def _same(batch, claims, los=None):
    for i, c in enumerate(claims):
        try:
            want = edit(c, los if los is None or isinstance(los, int) else los[i])
        except ClaimError as exc:
            assert batch.error[i] == exc.code, f"row {i}: error expected {exc.code}, got {batch.error[i]}"
            assert batch.edit_type[i] is None and batch.result(i) is None
            continue
        got = batch.result(i)
        assert batch.error[i] is None, f"row {i} ({want.id}): unexpected error {batch.error[i]}"
        assert got == want, f"row {i} ({want.id}): batch {got} != per claim {want}"
        assert got.to_dict() == want.to_dict()
        assert batch.edit_type[i] == want.edit_type
        assert tuple(batch.counts[i].tolist()) == want.counts


def test_batch_equals_per_claim_on_every_committed_claim():
    b = edit_batch(SAMPLE)
    assert len(b) == len(SAMPLE)
    _same(b, SAMPLE)
    recs = b.to_records()
    for c, r in zip(SAMPLE, recs):
        assert r["id"] == c["id"]
        assert not differences(c["expected"], r), c["id"]


def test_batch_equals_per_claim_for_claim_objects_dataframe_columns_and_error_rows():
    claims = [grouper.Claim.from_dict(c) for c in SAMPLE[:200]]
    bad = [{"pdx": "I10"}, 42, {"pdx": "I10", "age": "old", "sex": "M", "discharge_status": 1,
                                "discharge_date": "2024-01-01", "los": 2},
           {"pdx": 5, "age": 3, "discharge_status": 1, "discharge_date": "2024-01-01", "los": 2},
           {"pdx": "I10", "age": 3, "discharge_status": 1, "discharge_date": "2014-01-01", "los": 2}]
    mixed = SAMPLE[:100] + bad + claims + SAMPLE[100:150]
    b = edit_batch(mixed)
    _same(b, mixed)
    assert [b.error[100 + k] for k in range(len(bad))] == ["MISSING_DISCHARGE_DATE", "NOT_A_CLAIM", "BAD_AGE",
                                                          "PDX_NOT_TEXT", "DATE_BEFORE_ICD10"]
    cols = {k: [c.get(k) for c in SAMPLE[:50]] for k in ("pdx", "procedures", "age", "sex", "discharge_status",
                                                          "discharge_date", "los", "admit_dx", "id")}
    cols["sdx"] = [[d[0] for d in c["sdx"]] for c in SAMPLE[:50]]
    cols["sdx_poa"] = [[d[1] for d in c["sdx"]] for c in SAMPLE[:50]]
    _same(edit_batch(cols), SAMPLE[:50])
    import numpy as np
    cols.update(age=np.array(cols["age"]), discharge_status=np.array(cols["discharge_status"], dtype=np.int16),
                los=np.array(cols["los"], dtype=float))
    _same(edit_batch(cols), SAMPLE[:50])


def test_batch_los_argument_as_one_value_or_a_sequence():
    claims = [{k: v for k, v in c.items() if k != "los"} for c in SAMPLE[:60]]
    _same(edit_batch(claims, los=3), claims, 3)
    seq = [c["los"] for c in SAMPLE[:60]]
    _same(edit_batch(claims, los=seq), claims, seq)
    assert set(edit_batch(claims).error.tolist()) == {"MISSING_LOS"}


def test_batch_of_more_than_one_chunk(monkeypatch):
    import grouper.mce.batch as mb
    monkeypatch.setattr(mb, "CHUNK", 97)
    b = edit_batch(SAMPLE[:400])
    _same(b, SAMPLE[:400])
    assert len(edit_batch([])) == 0


# ----------------------------------------------------------- what the MCE needs


BASE = {"id": "c1", "pdx": "J189", "sdx": [["N179", "Y"]], "procedures": [], "age": 70, "sex": "F",
        "discharge_status": 1, "discharge_date": "2025-06-30", "los": 3}


@pytest.mark.parametrize("field,code", [("discharge_date", "MISSING_DISCHARGE_DATE"), ("age", "MISSING_AGE"),
                                        ("discharge_status", "MISSING_DISCHARGE_STATUS"), ("los", "MISSING_LOS"),
                                        ("pdx", "MISSING_PDX")])
@pytest.mark.parametrize("how", ["absent", "null", "blank"])
def test_a_claim_without_what_the_mce_needs_is_a_claim_error_naming_the_field(field, code, how):
    c = dict(BASE)
    if how == "absent":
        del c[field]
    elif field == "pdx":
        return                                    # a null/blank principal diagnosis is an INVALID_CODE edit
    else:
        c[field] = None if how == "null" else " "
    with pytest.raises(ClaimError) as ei:
        edit(c)
    assert ei.value.code == code and ei.value.field == field
    assert field in str(ei.value)
    assert edit_batch([c, BASE]).error.tolist() == [code, None]


@pytest.mark.parametrize("field,value,code", [
    ("discharge_date", "2025-13-01", "BAD_DATE"), ("discharge_date", "yesterday", "BAD_DATE"),
    ("discharge_date", 20250101, "BAD_DATE"), ("discharge_date", "2015-09-30", "DATE_BEFORE_ICD10"),
    ("age", "seventy", "BAD_AGE"), ("age", 70.5, "BAD_AGE"), ("age", True, "BAD_AGE"),
    ("discharge_status", "home", "BAD_DISCHARGE_STATUS"), ("discharge_status", [1], "BAD_DISCHARGE_STATUS"),
    ("los", -1, "BAD_LOS"), ("los", "3 days", "BAD_LOS"), ("los", 2.5, "BAD_LOS"),
    ("pdx", 4010, "PDX_NOT_TEXT")])
def test_unreadable_values_are_claim_errors(field, value, code):
    c = dict(BASE, **{field: value})
    with pytest.raises(ClaimError) as ei:
        edit(c)
    assert (ei.value.code, ei.value.field) == (code, field)
    assert edit_batch([c]).error.tolist() == [code]


def test_not_a_claim():
    for x in (None, 42, "I10", ["I10"]):
        with pytest.raises(ClaimError) as ei:
            edit(x)
        assert ei.value.code == "NOT_A_CLAIM"


def test_values_read_like_the_grouper_reads_them():
    """Whole numbers as text or integral floats, dates as date objects or YYYYMMDD text, los as an
    argument or a claim field, a grouper.Claim with a los: all the same claim."""
    import datetime as dt
    want = edit(BASE)
    for c, los in [(dict(BASE, age="70", discharge_status="01", los=None), 3),
                   (dict(BASE, age=70.0, discharge_date=dt.date(2025, 6, 30)), None),
                   (dict(BASE, discharge_date="20250630", los="3"), None),
                   (grouper.Claim.from_dict(BASE), None), (grouper.Claim(**{k: v for k, v in BASE.items() if
                                                                           k != "los"}), 3)]:
        assert edit(c, los) == want
    assert edit(BASE).id == "c1"


# ------------------------------------------------------------- rules as specs


def edit_both(claim):
    """edit() of one claim, after checking that edit_batch says the same."""
    r = edit(claim)
    assert edit_batch([claim]).result(0) == r
    return r


def _claim(**kw):
    c = dict(BASE, sdx=[], procedures=[])
    c.update(kw)
    return c


def test_discharge_after_the_release_termination_is_invalid_discharge_date_and_nothing_else():
    t = mce_tables()
    assert t.termination_date == 20260930
    r = edit_both(_claim(pdx="V0001XA", discharge_date="2026-10-01", age=200, sex="X", discharge_status=99))
    assert r.edit_type == "INVALID_DISCHARGE_DATE" and r.edits == {} and r.pdx.edits == ()
    assert edit_both(_claim(pdx="V0001XA", discharge_date="2026-09-30")).edit_type == "PREPAYMENT"


def test_length_of_stay_rule_ventilation_over_96_hours_needs_5_days():
    """mce-dev claims with 5A1955Z: los 0-4 raise INCONSISTENT_WITH_LENGTH_OF_STAY, 5 and more
    do not (the patient's age does not matter)."""
    for los, want in [(0, True), (4, True), (5, False), (400, False)]:
        r = edit_both(_claim(procedures=["5A1955Z"], los=los))
        assert ("INCONSISTENT_WITH_LENGTH_OF_STAY" in r.procedures[0].edits) is want, los
        assert r.edit_type == ("PREPAYMENT" if want else "NONE")


def test_unknown_sex_is_invalid_until_2024_09_30_only():
    for sex in ("U", "", None, "X"):
        assert edit_both(_claim(sex=sex, discharge_date="2024-09-30")).edits == {"INVALID_SEX": 1}
        assert edit_both(_claim(sex=sex, discharge_date="2024-10-01")).edits == {}
    assert edit_both(_claim(sex="MALE", discharge_date="2024-09-30")).edits == {}


def test_sex_conflict_on_the_code_that_conflicts():
    # O80 (delivery) is a female maternity code until 2024-09-30; N400 a male code
    r = edit_both(_claim(pdx="N400", sdx=[["O80", "Y"]], sex="F", age=30, discharge_date="2024-06-01"))
    assert r.pdx.edits == ("SEX_CONFLICT",) and r.sdx[0].edits == ()
    assert r.edits == {"SEX_CONFLICT": 1}
    r = edit_both(_claim(pdx="N400", sdx=[["O80", "Y"]], sex="M", age=30, discharge_date="2024-06-01"))
    assert r.sdx[0].edits == ("SEX_CONFLICT",)


def test_maternity_age_range_changes_on_2019_10_01():
    """Maternity is 12-55 through 2019-09-30, then 9-64 (the age groups of the MCE data)."""
    for date, age, conflict in [("2019-09-30", 60, True), ("2019-10-01", 60, False), ("2019-09-30", 10, True),
                                ("2019-10-01", 10, False), ("2019-10-01", 65, True), ("2019-10-01", 8, True)]:
        r = edit_both(_claim(pdx="O80", age=age, discharge_date=date))
        assert ("AGE_CONFLICT" in r.pdx.edits) is conflict, (date, age)


def test_invalid_age_outside_0_to_124_and_age_conflicts_for_it():
    assert edit_both(_claim(age=124)).edits == {}
    assert edit_both(_claim(age=125)).edits == {"INVALID_AGE": 1}
    r = edit_both(_claim(age=-1, sdx=[["E1010", "Y"]]))         # E1010 has no age group
    assert r.edits == {"INVALID_AGE": 1}
    r = edit_both(_claim(age=-1, pdx="A33"))                     # a newborn code: -1 is in no age group
    assert r.edits == {"AGE_CONFLICT": 1, "INVALID_AGE": 1} and r.pdx.edits == ("AGE_CONFLICT",)
    assert edit_both(_claim(age=0, pdx="A33")).edits == {}
    assert edit_both(_claim(age=1, pdx="A33")).pdx.edits == ("AGE_CONFLICT",)


def test_invalid_discharge_status_by_date():
    assert edit_both(_claim(discharge_status=72, discharge_date="2023-06-11")).edits == {"INVALID_DISCHARGE_STATUS": 1}
    for s in (1, 20, 30, 95):
        assert edit_both(_claim(discharge_status=s)).edits == {}
    assert edit_both(_claim(discharge_status=0)).edits == {"INVALID_DISCHARGE_STATUS": 1}


def test_blank_codes():
    """A blank principal diagnosis is an invalid code; blank secondary diagnoses and procedures
    are no codes at all (but a blank secondary diagnosis repeats a blank principal one)."""
    r = edit_both(_claim(pdx="", sdx=[["", "Y"]], procedures=["", "0000000"]))
    assert r.pdx.edits == ("INVALID_CODE",)
    assert r.sdx[0].edits == ("DUPLICATE_OF_PDX",)
    assert [p.edits for p in r.procedures] == [(), ()]
    assert r.edits == {"INVALID_CODE": 1, "DUPLICATE_OF_PDX": 1}
    assert edit_both(_claim(pdx=None)).pdx.edits == ("INVALID_CODE",)
    assert edit_both(_claim(admit_dx="")).admit_dx is None


def test_codes_are_looked_up_upper_cased_and_otherwise_as_written():
    assert edit_both(_claim(pdx="j189", procedures=["0dtj4zz"])).edits == {}
    r = edit_both(_claim(pdx="J18.9", procedures=["0DTJ4Z", " 0DTJ4ZZ"]))
    assert r.edits == {"INVALID_CODE": 3}
    assert [p.code for p in r.procedures] == ["0DTJ4Z", " 0DTJ4ZZ"]


def test_admitting_diagnosis_conflicts_are_shown_not_counted_and_an_invalid_one_is_no_edited_claim():
    r = edit_both(_claim(admit_dx="O80", sex="M", age=80, discharge_date="2024-01-02"))
    assert r.admit_dx.edits == ("AGE_CONFLICT", "SEX_CONFLICT")
    assert r.edits == {} and r.edit_type == "NONE"
    r = edit_both(_claim(admit_dx="XYZ"))
    assert r.admit_dx.edits == ("INVALID_ADMIT_DX",)
    assert r.edits == {"INVALID_ADMIT_DX": 1} and r.edit_type == "NONE"
    r = edit_both(_claim(admit_dx="V0001XA"))                   # only age/sex edits apply to it
    assert r.admit_dx.edits == ()


def test_principal_diagnosis_edits_in_cms_order():
    r = edit_both(_claim(pdx="V0001XA"))
    assert r.pdx.edits == ("E_CODE_AS_PDX",)
    assert edit_both(_claim(pdx="Z5189")).pdx.edits == ("REQUIRES_SDX",)
    assert edit_both(_claim(pdx="Z5189", sdx=[["I10", "Y"]])).pdx.edits == ()
    r = edit_both(_claim(pdx="Z370", sdx=[["I10", "Y"]], sex="M", age=70, discharge_date="2024-01-02"))
    assert r.pdx.edits == ("UNACCEPTABLE_PDX", "AGE_CONFLICT", "SEX_CONFLICT")
    assert list(r.edits) == ["SEX_CONFLICT", "AGE_CONFLICT", "UNACCEPTABLE_PDX"]      # CMS order


def test_questionable_admission_and_wrong_procedure():
    assert edit_both(_claim(pdx="I10")).pdx.edits == ("QUESTIONABLE_ADMISSION",)
    assert edit_both(_claim(sdx=[["I10", "Y"]])).sdx[0].edits == ()
    r = edit_both(_claim(pdx="Y6551", sdx=[["Y6552", "Y"]]))
    assert r.pdx.edits == ("E_CODE_AS_PDX", "WRONG_PROCEDURE_PERFORMED")
    assert r.sdx[0].edits == ("WRONG_PROCEDURE_PERFORMED",)
    assert r.edits == {"E_CODE_AS_PDX": 1, "WRONG_PROCEDURE_PERFORMED": 2}


def test_duplicate_of_principal_diagnosis_compares_the_codes_as_written():
    r = edit_both(_claim(pdx="N179", sdx=[["N179", "Y"], ["N179", "N"], ["n179", "Y"]]))
    assert [d.edits for d in r.sdx] == [("DUPLICATE_OF_PDX",), ("DUPLICATE_OF_PDX",), ()]
    assert r.edits == {"DUPLICATE_OF_PDX": 2}


def test_non_covered_and_limited_coverage_combinations():
    # pancreas transplant: non-covered alone, limited coverage with a kidney transplant or type I diabetes
    assert edit_both(_claim(procedures=["0FYG0Z0"])).procedures[0].edits == ("NON_COVERED",)
    r = edit_both(_claim(procedures=["0FYG0Z0", "0TY00Z0"]))
    assert [p.edits for p in r.procedures] == [("LIMITED_COVERAGE",), ("LIMITED_COVERAGE",)]
    assert edit_both(_claim(sdx=[["E1010", "Y"]], procedures=["0FYG0Z0"])).procedures[0].edits == ("LIMITED_COVERAGE",)
    # autologous bone marrow (ncov6) with acute leukemia not in remission, principal or secondary
    assert edit_both(_claim(procedures=["30233G0"])).procedures[0].edits == ()
    assert edit_both(_claim(sdx=[["C9200", "Y"]], procedures=["30233G0"])).procedures[0].edits == ("NON_COVERED",)
    assert edit_both(_claim(pdx="C9200", procedures=["30233G0"])).procedures[0].edits == ("NON_COVERED",)
    assert edit_both(_claim(admit_dx="C9200", procedures=["30233G0"])).procedures[0].edits == ()
    # sterilization with Z30.2
    assert edit_both(_claim(pdx="Z302", procedures=["0U570ZZ"], age=30,
                       discharge_date="2025-01-01")).procedures[0].edits == ("NON_COVERED",)
    # lumbar artificial disc: covered through age 60
    assert edit_both(_claim(age=60, procedures=["0SR20JZ"])).procedures[0].edits == ()
    assert edit_both(_claim(age=61, procedures=["0SR20JZ"])).procedures[0].edits == ("NON_COVERED",)
    # artificial heart (both ventricles, until 2022-03-31): non-covered, limited coverage in a clinical trial
    heart = ["02RK0JZ", "02RL0JZ"]
    r = edit_both(_claim(procedures=heart, discharge_date="2021-06-01"))
    assert [p.edits for p in r.procedures] == [("NON_COVERED",), ("NON_COVERED",)]
    r = edit_both(_claim(sdx=[["Z006", "Y"]], procedures=heart, discharge_date="2021-06-01"))
    assert [p.edits for p in r.procedures] == [("LIMITED_COVERAGE",), ("LIMITED_COVERAGE",)]
    assert edit_both(_claim(procedures=heart[:1], discharge_date="2021-06-01")).procedures[0].edits == ()
    # always non-covered / limited coverage
    assert edit_both(_claim(procedures=["00F3XZZ"])).procedures[0].edits == ("NON_COVERED",)
    assert edit_both(_claim(procedures=["02YA0Z0"])).procedures[0].edits == ("LIMITED_COVERAGE",)


def test_questionable_obstetric_admission_needs_an_outcome_of_delivery_secondary_diagnosis():
    c = _claim(pdx="O80", sex="F", age=30, procedures=["10D00Z1"], discharge_date="2025-01-01")
    assert edit_both(c).procedures[0].edits == ("QUESTIONABLE_OBSTETRIC_ADMISSION",)
    assert edit_both(dict(c, sdx=[["Z370", "Y"]])).procedures[0].edits == ()
    assert edit_both(dict(c, pdx="Z370")).procedures[0].edits == ("QUESTIONABLE_OBSTETRIC_ADMISSION",)


def test_edit_type_from_the_payment_class_of_the_edits():
    pre, post, none = (1 << BY_NAME["INVALID_CODE"].index, 1 << BY_NAME["BILATERAL"].index,
                       1 << BY_NAME["INVALID_ADMIT_DX"].index)
    assert [edit_type(m) for m in (0, none, pre, post, pre | post, post | none)] == [
        "NONE", "NONE", "PREPAYMENT", "POSTPAYMENT", "BOTH", "POSTPAYMENT"]


# --------------------------------------------------------------- properties


@pytest.fixture(scope="module")
def codes():
    t = mce_tables()
    dx = sorted(t.dx_rows)
    pr = sorted(t.pr_rows)
    flagged_dx = [c for c in dx if any(f for _, _, f in t.dx_rows[c])]
    flagged_pr = [c for c in pr if any(f for _, _, f in t.pr_rows[c])]
    return dx[::40] + flagged_dx[::3] + ["", "XYZ", "i10", "000"], pr[::40] + flagged_pr + ["", "0000000", "0DTJ4Z"]


def _claims_strategy(codes):
    dx, pr = codes
    code_dx = st.sampled_from(dx)
    return st.fixed_dictionaries({
        "pdx": code_dx, "sdx": st.lists(st.tuples(code_dx, st.sampled_from(["Y", "N", "", "X"])).map(list),
                                        max_size=8),
        "procedures": st.lists(st.sampled_from(pr), max_size=6),
        "admit_dx": st.one_of(st.none(), code_dx),
        "age": st.integers(-3, 130), "sex": st.sampled_from(["M", "F", "U", "", None, "1", "2"]),
        "discharge_status": st.sampled_from([1, 2, 7, 8, 20, 30, 43, 65, 72, 95, 99]),
        "discharge_date": st.dates(min_value=__import__("datetime").date(2015, 10, 1),
                                   max_value=__import__("datetime").date(2027, 3, 1)).map(str),
        "los": st.integers(0, 12)})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_batch_equals_per_claim_and_counts_add_up(codes, data):
    claims = data.draw(st.lists(_claims_strategy(codes), min_size=1, max_size=12))
    b = edit_batch(claims)
    _same(b, claims)
    for c in claims:
        r = edit(c)
        per_code = {}
        for ce in (r.pdx, *r.sdx, *r.procedures):
            for e in ce.edits:
                per_code[e] = per_code.get(e, 0) + 1
        claim_level = {k: v for k, v in r.edits.items() if k not in per_code}
        assert {k: v for k, v in r.edits.items() if k in per_code} == per_code
        assert set(claim_level) <= {"INVALID_SEX", "INVALID_AGE", "INVALID_DISCHARGE_STATUS", "INVALID_ADMIT_DX"}
        if r.edit_type != "INVALID_DISCHARGE_DATE":
            assert r.edit_type == ("PREPAYMENT" if set(r.edits) - {"INVALID_ADMIT_DX"} else "NONE")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_each_code_keeps_its_edits_when_the_lists_are_reordered(codes, data):
    c = data.draw(_claims_strategy(codes))
    r = edit(c)
    perm_s = data.draw(st.permutations(range(len(c["sdx"]))))
    perm_p = data.draw(st.permutations(range(len(c["procedures"]))))
    c2 = dict(c, sdx=[c["sdx"][i] for i in perm_s], procedures=[c["procedures"][i] for i in perm_p])
    r2 = edit(c2)
    assert r2.edits == r.edits and r2.pdx == r.pdx
    assert list(r2.sdx) == [r.sdx[i] for i in perm_s]
    assert list(r2.procedures) == [r.procedures[i] for i in perm_p]


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(st.sampled_from(["pdx", "sdx", "procedures", "age", "sex", "discharge_status",
                                        "discharge_date", "los", "admit_dx", "id"]),
                       st.one_of(st.none(), st.integers(-5, 30000000), st.text(max_size=10), st.floats(),
                                 st.lists(st.one_of(st.text(max_size=8), st.integers(), st.none()), max_size=3),
                                 st.booleans())))
def test_property_arbitrary_values_never_crash(claim):
    try:
        r = edit(claim)
    except ClaimError as exc:
        assert exc.code and exc.field
        r = None
    b = edit_batch([claim, BASE])
    assert b.error[1] is None and b.result(1) == edit(BASE)
    if r is None:
        assert b.error[0] is not None
    else:
        assert b.result(0) == r


# ------------------------------------------------------- the FY2027 release


FY27 = dict(BASE, discharge_date="2026-11-20")


def test_the_default_release_ends_2026_09_30_and_a_later_discharge_names_the_fy2027_release():
    """CMS's 43.1 labels every discharge after 2026-09-30 INVALID_DISCHARGE_DATE (3,295 labelled
    claims): the default stays so, and the result says which installed release edits the claim."""
    r = edit_both(FY27)
    assert r.edit_type == "INVALID_DISCHARGE_DATE" and r.edits == {} and r.release == 431
    (w,) = r.warnings
    assert (w.code, w.field, w.value) == ("DISCHARGE_AFTER_MCE_RELEASE", "discharge_date", "2026-11-20")
    assert "mce_release='fy2027'" in w.message and "--mce-release fy2027" in w.message
    assert r.to_dict()["warnings"] == [w.to_dict()]
    assert edit_reasons(r) == ["INVALID_DISCHARGE_DATE: " + w.message]
    late = edit_both(dict(BASE, discharge_date="2027-06-01")).warnings[0].message
    assert "no installed MCE release covers" in late
    assert edit_both(dict(BASE, discharge_date="2026-09-30")).warnings == ()


def test_the_fy2027_release_edits_fy2027_discharges_through_2027_03_31():
    # I10 is a questionable admission as principal diagnosis in both releases
    r = edit(dict(FY27, pdx="I10"), mce_release="fy2027")
    assert r.edit_type == "PREPAYMENT" and r.edits == {"QUESTIONABLE_ADMISSION": 1} and r.release == "fy2027"
    b = edit_batch([dict(FY27, pdx="I10"), dict(BASE, discharge_date="2027-04-01")], mce_release="fy2027")
    assert b.result(0) == r
    assert b.edit_type[1] == "INVALID_DISCHARGE_DATE" and "no installed MCE release" in b.result(1).warnings[0].message
    with pytest.raises(ValueError, match="not both"):
        edit(FY27, mce_release="fy2027", tables=ROOT / "tables" / "mce")


def test_an_unknown_release_is_a_clear_error():
    with pytest.raises(grouper.VersionError, match="installed: 43.1, fy2027"):
        edit(BASE, mce_release="fy2030")


# ------------------------------------------------------------- the stay


def test_the_length_of_stay_can_come_from_the_admission_date():
    c = _claim(procedures=["5A1955Z"], discharge_date="2025-01-10", los=None)
    assert edit_both(dict(c, admission_date="2025-01-06")).procedures[0].edits == ("INCONSISTENT_WITH_LENGTH_OF_STAY",)
    assert edit_both(dict(c, admission_date="2025-01-05")).procedures[0].edits == ()
    for bad, code in [("2025-01-11", "BAD_LOS"), ("soon", "BAD_LOS"), (None, "MISSING_LOS")]:
        with pytest.raises(ClaimError) as ei:
            edit(dict(c, admission_date=bad))
        assert ei.value.code == code
    with pytest.raises(ClaimError, match="disagrees"):
        edit(dict(c, admission_date="2025-01-06", los=5))
    assert edit(dict(c, admission_date="2025-01-06", los=4)) == edit(dict(c, los=4))


def test_numpy_values_are_read_as_the_values_they_hold():
    import numpy as np
    c = _claim(procedures=["5A1955Z"], discharge_date=np.datetime64("2025-01-10"), age=np.int64(70),
               discharge_status=np.int16(1), los=None, admission_date=np.datetime64("2025-01-07"))
    want = edit_both(_claim(procedures=["5A1955Z"], discharge_date="2025-01-10", los=3))
    assert edit_both(c) == want and want.procedures[0].edits == ("INCONSISTENT_WITH_LENGTH_OF_STAY",)
    assert edit_both(dict(c, los=np.float64(3.0), admission_date=None)) == want
    assert edit_both(dict(c, age="70.0")) == want                   # a float column written as text


def test_a_missing_code_reads_as_the_reading_stage_reads_it():
    """A code given as null is read "null" (as by the grouper): an invalid code wherever it is, and
    a null secondary diagnosis repeats a null principal one (the MCE compares the codes as read)."""
    r = edit_both(_claim(pdx=None, sdx=[[None, "Y"]], procedures=[None], admit_dx=None))
    assert [r.pdx.code, r.sdx[0].code, r.procedures[0].code] == ["null"] * 3
    assert r.edits == {"INVALID_CODE": 3, "DUPLICATE_OF_PDX": 1} and r.admit_dx is None
    r = edit_both(_claim(sdx=[[None, "Y"]], procedures=[None], admit_dx=None))
    assert r.edits == {"INVALID_CODE": 2}


# ---------------------------------------------------- grouping with the edits


def test_group_batch_with_edits_adds_the_edit_type_and_counts_of_edit():
    claims = SAMPLE[:300] + [dict(BASE, los=None), {"pdx": 7}]
    plain = grouper.group_batch(claims)
    out = grouper.group_batch(claims, edits=True)
    for k in plain.columns:
        a, b = getattr(plain, k), getattr(out, k)
        assert [x if x == x else None for x in a.tolist()] == [x if x == x else None for x in b.tolist()], k
    for i, c in enumerate(claims):
        try:
            want = edit_fields(edit(c))
        except ClaimError as exc:
            assert out.mce_error[i] == exc.code and out.mce_edit_type[i] is None, i
            continue
        assert {k: getattr(out, k)[i] for k in want} == want, c["id"]
        assert out.mce_error[i] is None
    assert out.mce_error[-2] == "MISSING_LOS" and out.final_drg[-2] == plain.final_drg[-2]
    assert list(out.columns)[-len(grouper.mce.grouping.EDIT_COLUMNS):] == list(grouper.mce.grouping.EDIT_COLUMNS)
    los = [3] * len(claims)
    assert grouper.group_batch(claims, edits=True, los=los).mce_error[-2] is None


# ------------------------------------------------------------------ helpers


def test_edit_fields_and_reasons():
    r = edit(_claim(pdx="N400", sdx=[["O80", "Y"]], sex="M", age=70, discharge_status=8,
                    discharge_date="2024-03-01"))
    f = edit_fields(r)
    assert f["mce_edit_type"] == "PREPAYMENT"
    assert f["mce_SEX_CONFLICT"] == 1 and f["mce_AGE_CONFLICT"] == 1 and f["mce_INVALID_DISCHARGE_STATUS"] == 1
    assert f["mce_INVALID_CODE"] == 0
    assert set(f) == {"mce_edit_type"} | {"mce_" + e for e in ICD10_EDITS}
    cols = edit_batch([{}, _claim(pdx="N400", sdx=[["O80", "Y"]], sex="M", age=70, discharge_status=8,
                                  discharge_date="2024-03-01")]).fields()
    assert {k: v[1] for k, v in cols.items()} == f and cols["mce_edit_type"][0] is None
    assert edit_reasons(r) == ["AGE_CONFLICT: sdx[1] O80", "SEX_CONFLICT: sdx[1] O80",
                               "INVALID_DISCHARGE_STATUS: claim"]
    assert r.count("SEX_CONFLICT") == 1 and r.count("BILATERAL") == 0
    with pytest.raises(KeyError):
        r.count("NOT_AN_EDIT")
    assert len(EDIT_NAMES) == 36 and EDIT_NAMES[0] == "INVALID_CODE" and EDIT_NAMES[-1] == "UNSPECIFIED"


def test_results_are_immutable_and_hashable():
    r = edit(BASE)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        r.edit_type = "NONE"
    assert hash(r) == hash(copy.deepcopy(r)) and r == edit(dict(BASE))


def test_audit_lists_the_mce_edits_among_its_reasons(tmp_path):
    """An audited claim carries the CMS MCE's edit type and one line per edit (where it is); a
    claim the MCE cannot edit says why, and is audited all the same."""
    from grouper.finance.audit import audit_claim
    groupable = [c for c in SAMPLE if "2022-10-01" <= c["discharge_date"] <= "2026-09-30" and c["expected"]["edits"]]
    for c in groupable[:30]:
        claim = {k: v for k, v in c.items() if k != "expected"}
        drg = grouper.group(claim).final_drg
        row = audit_claim(dict(claim, billed_drg=drg))
        want = c["expected"]
        assert row.match and row.mce_edit_type == want["edit_type"], c["id"]
        assert sorted(line.split(":")[0] for line in row.mce_edits) == sorted(
            [e for x in [want["pdx"], want["admit_dx"] or {"edits": []}, *want["sdx"], *want["procedures"]]
             for e in x["edits"]] + [e for e in want["edits"] if e.startswith("INVALID_") and e != "INVALID_CODE"]), \
            c["id"]
    row = audit_claim(dict(BASE, los=None, billed_drg=194))
    assert row.match and row.mce_edit_type is None and "length of stay" in row.mce_edits[0]
    src = tmp_path / "a.jsonl"
    src.write_text(json.dumps(dict(BASE, sdx=[["O80", "Y"]], sex="M", discharge_date="2024-03-01",
                                   billed_drg=194)) + "\n")
    assert _cli("audit", src, "-o", tmp_path / "a.csv", "--quiet").returncode == 0
    import csv
    (rec,) = csv.DictReader((tmp_path / "a.csv").open())
    assert rec["mce_edit_type"] == "PREPAYMENT"
    assert rec["mce_edits"] == "AGE_CONFLICT: sdx[1] O80; SEX_CONFLICT: sdx[1] O80"   # a male of 70, O80


# ------------------------------------------------- warnings named as the MCE


def test_every_warning_is_set_against_the_mce_edits_and_only_the_same_finding_has_an_edits_name():
    from grouper.mce.catalog import WARNINGS_AND_EDITS
    from grouper.reading import WARNING_CODES
    assert set(WARNINGS_AND_EDITS) == set(WARNING_CODES)
    for code, (edit_name, relation, note) in WARNINGS_AND_EDITS.items():
        assert relation in ("same", "a case of", None) and (edit_name is None) == (relation is None), code
        assert (code in EDIT_NAMES) == (relation == "same"), f"{code}: an MCE edit's name only for the same finding"
        assert relation != "same" or edit_name == code, code
        assert edit_name is None or edit_name in EDIT_NAMES, code
        assert note, code


WARNED = {"pdx": "I5022", "sex": "M", "age": 70, "discharge_status": 1, "discharge_date": "2025-06-01", "los": 3}
WARNING_CASES = {
    "PDX_MISSING": {"pdx": None},
    "CODE_DOTTED": {"pdx": "I50.22"},
    "CODE_PADDED": {"sdx": [[" J9601", "Y"]]},
    "CODE_UNKNOWN": {"pdx": "XXXXX"},
    "CODE_OTHER_VERSION": {"version": 400, "pdx": "A4154", "discharge_date": "2023-01-15"},
    "CODE_CLUSTER_PSEUDO": {"pdx": "I442", "procedures": ["Z@0264"]},
    "DUPLICATE_OF_PDX": {"sdx": [["I5022", "Y"]]},
    "INVALID_AGE": {"age": 150},
    "SEX_MISSING": {"sex": None, "discharge_date": "2024-06-01"},
    "INVALID_SEX": {"sex": "X", "discharge_date": "2024-06-01"},
    "INVALID_DISCHARGE_STATUS": {"discharge_status": 8},
    "INVALID_ADMIT_DX": {"admit_dx": "R06.02"},
}


@pytest.mark.parametrize("code", sorted(WARNING_CASES))
def test_a_warning_set_against_an_mce_edit_comes_with_that_edit(code):
    from grouper.mce.catalog import WARNINGS_AND_EDITS
    claim = dict(WARNED, **WARNING_CASES[code])
    assert code in {w.code for w in grouper.group(claim).warnings}
    assert WARNINGS_AND_EDITS[code][0] in edit(claim).edits


def test_the_warnings_with_an_mce_edit_are_the_cases_above_and_invalid_poa():
    """INVALID_POA is CMS's name for an invalid POA, which MCE 43.1 never reports (the labelled
    claims have odd POA values and no INVALID_POA)."""
    from grouper.mce.catalog import WARNINGS_AND_EDITS
    assert {c for c, (e, _, _) in WARNINGS_AND_EDITS.items() if e} == set(WARNING_CASES) | {"INVALID_POA"}
    claim = dict(WARNED, sdx=[["L89154", "X"]])
    assert "INVALID_POA" in {w.code for w in grouper.group(claim).warnings} and "INVALID_POA" not in edit(claim).edits


# ---------------------------------------------------------------------- CLI


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "grouper", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True)


def test_cli_jsonl_output_is_the_labelled_schema_and_matches_cms(tmp_path):
    out = tmp_path / "out.jsonl"
    r = _cli("edit", MCE_SAMPLE, "-o", out, "--quiet")
    assert r.returncode == 0, r.stderr
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [g["id"] for g in got] == [c["id"] for c in SAMPLE]
    bad = [f"{c['id']}: {d}" for c, g in zip(SAMPLE, got) for d in differences(c["expected"], g)]
    assert not bad, bad[:10]


def test_cli_csv_output_error_rows_and_exit_status(tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [dict(BASE, pdx="I10"),
            {"id": "no-los", "pdx": "I10", "age": 3, "discharge_status": 1, "discharge_date": "2024-01-01"}]
    src.write_text(json.dumps(rows[0]) + "\n{not json\n" + json.dumps(rows[1]) + "\n")
    out = tmp_path / "out.csv"
    r = _cli("edit", src, "-o", out)
    assert r.returncode == 1
    import csv
    recs = list(csv.DictReader(out.open()))
    assert [x["id"] for x in recs] == ["c1", "", "no-los"]
    assert recs[0]["edit_type"] == "PREPAYMENT" and recs[0]["QUESTIONABLE_ADMISSION"] == "1"
    assert recs[0]["INVALID_CODE"] == "0"
    assert recs[1]["error_code"] == "UNREADABLE_ROW" and recs[2]["error_code"] == "MISSING_LOS"
    assert list(recs[0])[:4] == ["id", "line", "version_used", "edit_type"] and set(ICD10_EDITS) <= set(recs[0])


def test_cli_reads_los_from_a_csv_column(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,age,sex,discharge_status,discharge_date,los,dx1,dx2,pr1\n"
                   "a,70,F,1,2025-01-01,2,J189,,5A1955Z\n"
                   "b,70,F,1,2025-01-01,6,J189,,5A1955Z\n")
    out = tmp_path / "out.jsonl"
    assert _cli("edit", src, "-o", out, "--quiet").returncode == 0
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [g["procedures"][0]["edits"] for g in got] == [["INCONSISTENT_WITH_LENGTH_OF_STAY"], []]


def test_cli_missing_tables_is_a_usage_error(tmp_path):
    r = _cli("edit", MCE_SAMPLE, "-o", tmp_path / "x.jsonl", "--mce-tables", tmp_path)
    assert r.returncode == 2 and "MANIFEST.json" in r.stderr
    assert not (tmp_path / "x.jsonl").exists()


def test_cli_mce_release_edits_fy2027_claims_and_the_default_names_it(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(dict(FY27, pdx="I10")) + "\n")
    out = tmp_path / "out.jsonl"
    r = _cli("edit", src, "-o", out, "--strict")
    got = json.loads(out.read_text())
    assert got["edit_type"] == "INVALID_DISCHARGE_DATE" and "--mce-release fy2027" in got["warnings"][0]["message"]
    assert r.returncode == 3 and "--mce-release" in r.stderr          # --strict: a fixable pattern
    assert _cli("edit", src, "-o", out, "--mce-release", "fy2027", "--quiet").returncode == 0
    got = json.loads(out.read_text())
    assert (got["version_used"], got["edit_type"], got["edits"]) == ("fy2027", "PREPAYMENT",
                                                                     {"QUESTIONABLE_ADMISSION": 1})
    r = _cli("edit", src, "-o", out, "--mce-release", "44.0")
    assert r.returncode == 2 and "installed: 43.1, fy2027" in r.stderr and "Traceback" not in r.stderr


def test_cli_group_with_edits_adds_the_edit_type_and_counts(tmp_path):
    groupable = [c for c in SAMPLE if "2022-10-01" <= c["discharge_date"] <= "2026-09-30"]   # v40.0-v43.1
    claims = groupable[:40] + [dict(BASE, id="no-los", los=None)]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({k: v for k, v in c.items() if k != "expected"}) + "\n" for c in claims))
    for detail in ("full", "summary"):
        out = tmp_path / f"{detail}.jsonl"
        assert _cli("group", src, "-o", out, "--edits", "--detail", detail, "--quiet").returncode == 0
        got = [json.loads(line) for line in out.read_text().splitlines()]
        for c, g in zip(claims[:-1], got):
            assert (g["mce_edit_type"], g["mce_edits"], g["mce_error"]) == (
                c["expected"]["edit_type"], c["expected"]["edits"], None), c["id"]
            assert g["final_drg"]
        assert got[-1]["mce_error"]["code"] == "MISSING_LOS" and got[-1]["final_drg"] == 194   # grouped all the same
    out = tmp_path / "g.csv"
    assert _cli("group", src, "-o", out, "--edits", "--quiet").returncode == 0
    import csv
    rows = list(csv.DictReader(out.open()))
    for c, row in zip(claims[:-1], rows):
        assert row["mce_edit_type"] == c["expected"]["edit_type"], c["id"]
        assert {e: int(row["mce_" + e]) for e in ICD10_EDITS if int(row["mce_" + e])} == c["expected"]["edits"]
    assert rows[-1]["mce_error"].startswith("MISSING_LOS") and rows[-1]["mce_INVALID_CODE"] == ""
    assert "mce_edit_type" not in _cli("group", src, "--quiet").stdout
    assert _cli("group", src, "--mce-release", "fy2027").returncode == 2


@pytest.mark.parametrize("fmt", ["parquet", "arrow"])
@pytest.mark.parametrize("detail", ["summary", "full"])
def test_cli_group_with_edits_to_parquet_and_arrow_has_one_schema_and_the_cms_edits(tmp_path, fmt, detail):
    """Columnar output with --edits: the MCE's columns as group_arrow names them (mce_edit_type,
    an int32 count per edit, mce_error, mce_error_message), the CMS MCE's labels row by row, and
    one schema for every chunk (chunks of 7 rows: some with no edit fired, one with a warning
    whose value is a number, another's a text, an unreadable line).  It was an exit 70 (types
    inferred per chunk from the values) on any realistic file."""
    pa = pytest.importorskip("pyarrow")
    from pyarrow import ipc, parquet
    groupable = [c for c in SAMPLE if "2022-10-01" <= c["discharge_date"] <= "2026-09-30"]
    claims = groupable[:40] + [dict(BASE, id="no-los", los=None), dict(BASE, id="old", age=130),
                               dict(BASE, id="dotted", pdx="J18.9")]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({k: v for k, v in c.items() if k != "expected"}) + "\n" for c in claims)
                   + "{not json\n")
    out = tmp_path / f"out.{fmt}"
    r = _cli("group", src, "-o", out, "--edits", "--detail", detail, "--chunk", "7", "--quiet")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr        # 1: the unreadable line
    table = parquet.read_table(out) if fmt == "parquet" else ipc.open_file(pa.memory_map(str(out))).read_all()
    assert table.num_rows == len(claims) + 1
    schema = table.schema
    assert schema.field("mce_edit_type").type == pa.string() and schema.field("mce_error").type == pa.string()
    assert all(schema.field("mce_" + e).type == pa.int32() for e in ICD10_EDITS)
    assert schema.field("warnings").type.value_type.field("value").type == pa.string()
    rows = table.to_pylist()
    for c, row in zip(claims, rows):
        want = grouper.group(c)
        assert (row["id"], row["final_drg"], row["return_code"]) == (c["id"], want.final_drg, want.return_code)
        if "expected" in c:
            assert row["mce_edit_type"] == c["expected"]["edit_type"], c["id"]
            assert {e: row["mce_" + e] for e in ICD10_EDITS if row["mce_" + e]} == c["expected"]["edits"], c["id"]
            assert row["mce_error"] is None, c["id"]
    by_id = {row["id"]: row for row in rows}
    assert by_id["no-los"]["mce_error"] == "MISSING_LOS" and by_id["no-los"]["mce_edit_type"] is None
    assert by_id["no-los"]["mce_INVALID_CODE"] == 0 and "length of stay" in by_id["no-los"]["mce_error_message"]
    assert [w["value"] for w in by_id["old"]["warnings"]] == ["130"]
    assert "J18.9" in [w["value"] for w in by_id["dotted"]["warnings"]]
    unread = rows[-1]
    assert unread["error_code"] and unread["final_drg"] is None and unread["mce_edit_type"] is None
    assert unread["mce_INVALID_CODE"] is None
    if detail == "full":
        assert rows[0]["pdx"]["code"] == claims[0]["pdx"] and len(rows[0]["sdx"]) == len(claims[0]["sdx"])
    plain = tmp_path / f"plain.{fmt}"                    # the same run without --edits: the same other columns
    assert _cli("group", src, "-o", plain, "--detail", detail, "--chunk", "7", "--quiet").returncode == 1
    other = parquet.read_table(plain) if fmt == "parquet" else ipc.open_file(pa.memory_map(str(plain))).read_all()
    assert table.select(other.column_names).equals(other)


@needs_mce_oracle
def test_cli_on_the_full_labelled_file_with_the_shared_comparison_tool(tmp_path):
    out = tmp_path / "out.jsonl"
    assert _cli("edit", MCE_DEV, "-o", out, "--quiet").returncode == 0
    tool = ORACLE.parent / "tools" / "compare_mce.py"
    r = subprocess.run([sys.executable, str(tool), str(MCE_DEV), str(out)], capture_output=True, text=True)
    assert "agreement: 100.00% of 40000 claims identical in every field (0 differ, 0 missing)" in r.stdout, r.stdout


# --------------------------------------------------------------------- docs


def test_docs_mce_is_up_to_date_and_has_every_edit_and_error():
    """docs/mce.md is generated by docs/make_mce_doc.py, whose examples are labelled claims
    checked against grouper.edit when generated."""
    sys.path.insert(0, str(ROOT / "docs"))
    import make_mce_doc
    text = (ROOT / "docs" / "mce.md").read_text()
    assert text == make_mce_doc.main()
    for name in EDIT_NAMES:
        assert f"`{name}`" in text, name
    for name in ICD10_EDITS:
        assert f"### {name}\n" in text, name
    from grouper.reading.stay import __doc__ as stay_doc
    for code in ("MISSING_DISCHARGE_DATE", "BAD_DATE", "MISSING_AGE", "BAD_AGE", "MISSING_DISCHARGE_STATUS",
                 "BAD_DISCHARGE_STATUS", "MISSING_LOS", "BAD_LOS", "DATE_BEFORE_ICD10", "NOT_A_CLAIM", "MISSING_PDX",
                 "PDX_NOT_TEXT"):
        assert f"`{code}`" in text, code
    assert stay_doc
