"""Validation layer: warnings on top of CMS-identical grouping; documented codes."""
import sys

import pytest

import grouper
from grouper.reading import ERROR_CODES, WARNING_CODES

from conftest import ROOT


def test_docs_list_every_error_and_warning_code_and_are_up_to_date():
    sys.path.insert(0, str(ROOT / "docs"))
    import make_errors_doc
    assert (ROOT / "docs" / "errors-and-warnings.md").read_text() == make_errors_doc.main()
    text = (ROOT / "docs" / "errors-and-warnings.md").read_text()
    for code in list(WARNING_CODES) + list(ERROR_CODES):
        assert f"`{code}`" in text, code


def codes(r):
    return {w.code for w in r.warnings}


def test_dotted_code_is_invalid_as_cms_says_and_warned_with_the_fix():
    r = grouper.group({"version": 431, "pdx": "I50.22", "sex": "M", "discharge_status": 1})
    assert r.final_drg == 999 and r.return_code == "INVALID_PDX"          # CMS behaviour kept
    w = [w for w in r.warnings if w.code == "CODE_DOTTED"][0]
    assert w.field == "pdx" and "I5022 is" in w.message


def test_normalize_cleans_unambiguous_formatting_and_says_so():
    r = grouper.group({"version": 431, "pdx": " i50.22", "sdx": [["j96.01", "y"]], "sex": "M",
                       "discharge_status": 1}, normalize=True)
    assert r.final_drg == 291
    assert [w.field for w in r.warnings if w.code == "CODE_NORMALIZED"] == ["pdx", "sdx[1]"]


def test_unusable_input_raises_the_documented_error_with_field_and_value():
    with pytest.raises(grouper.ClaimError) as ei:
        grouper.group({"version": 431, "pdx": ["I5022"]})
    assert (ei.value.code, ei.value.field, ei.value.value) == ("PDX_NOT_TEXT", "pdx", ["I5022"])
    with pytest.raises(grouper.ClaimError) as ei:
        grouper.group({"discharge_date": "2030-01-01", "pdx": "I5022"})
    assert ei.value.code == "DATE_OUT_OF_RANGE" and ei.value.field == "discharge_date"


def test_odd_values_are_read_as_cms_reads_them_and_warned():
    r = grouper.group({"version": 431, "pdx": "I2109", "sdx": [["J9601", "Q"]], "sex": "X", "age": 150,
                       "discharge_status": "01", "hospital_status": "MAYBE"})
    assert r.final_drg == 280                      # "01" read as 1 (alive), POA Q read as E
    assert {"INVALID_SEX", "INVALID_AGE", "DISCHARGE_STATUS_TEXT", "INVALID_POA",
            "HOSPITAL_STATUS_UNRECOGNIZED"} <= codes(r)


def test_more_codes_than_the_claim_form_holds_are_all_grouped():
    sdx = [["E119", "Y"]] * 29 + [["J9601", "Y"]]
    r = grouper.group({"version": 431, "pdx": "I5022", "sdx": sdx, "sex": "M", "discharge_status": 1})
    assert r.final_drg == 291 and len(r.sdx) == 30 and "TOO_MANY_SDX" in codes(r)


def test_clean_claims_carry_no_warnings():
    r = grouper.group({"version": 431, "pdx": "I5022", "sdx": [["J9601", "Y"]], "procedures": [], "sex": "F",
                       "age": 70, "discharge_status": 1})
    assert r.warnings == ()


def test_a_version_forced_outside_its_fiscal_year_warns():
    # v43.1 is FY2026 (Oct 2025 - Sep 2026); a discharge on 2026-11-20 is FY2027: grouped as asked, with
    # FY2026's weight, and a warning that says so
    r = grouper.group({"version": "43.1", "discharge_date": "2026-11-20", "pdx": "I5022", "sex": "M",
                       "discharge_status": 1})
    assert r.version == 431 and r.fiscal_year == 2026
    w = [w for w in r.warnings if w.code == "VERSION_OUTSIDE_FISCAL_YEAR"]
    assert len(w) == 1 and w[0].field == "version" and "FY2027" in w[0].message
    # the override of group() and a version of the right year do not warn
    assert "VERSION_OUTSIDE_FISCAL_YEAR" in codes(grouper.group({"discharge_date": "2023-01-15", "pdx": "I5022"},
                                                                version="43.1"))
    assert "VERSION_OUTSIDE_FISCAL_YEAR" not in codes(grouper.group({"version": "43.0", "discharge_date":
                                                                     "2026-05-01", "pdx": "I5022"}))
    out = grouper.group_batch([{"version": "43.1", "discharge_date": "2026-11-20", "pdx": "I5022"}])
    assert out.final_drg[0] == 293
