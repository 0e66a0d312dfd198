"""HAC/POA processing: the hospital status x POA matrix, written out from the CMS policy.

CMS README 4.8 probe: PDX J189 (pneumonia) + SDX T80211A (central line infection, HAC 07, a
CC): POA N -> initial DRG 194, final 195; POA Y -> 194/194.  The other cells follow the
rules of ``docs/cms-rules.md`` ("HAC/POA"); each cell's return code, HAC status, POA error
and entry status is also what the CMS labels show for single-SDX claims with an SDX-only
HAC formula (hac_dev, v*_dev, v*_dev2: 1,500 such claims).  Every cell checks the batch
path too, which calls the same evaluation.
"""
import pytest

import grouper
from grouper.engine import hac

from conftest import labelled

BASE = {"version": 431, "pdx": "J189", "sex": "F", "discharge_status": 1}
CHANGED = (194, 195, "OK", "FINAL_DRG_CHANGES")
KEPT = (194, 194, "OK", "NOT_APPLICABLE")
MISSING_POA = (194, 999, "HAC_MISSING_ONE_POA", "FINAL_DRG_UNGROUPABLE")
UNKNOWN_MULT = (194, 999, "HAC_STATUS_INVALID_MULT_HACS_POA_NOT_Y_W", "FINAL_DRG_UNGROUPABLE")
UNKNOWN_ONE = (194, 999, "HAC_STATUS_INVALID_POA_INVALID_OR_1", "FINAL_DRG_UNGROUPABLE")
UNKNOWN_ONE_NU = (194, 999, "HAC_STATUS_INVALID_POA_N_OR_U", "FINAL_DRG_UNGROUPABLE")
MET, NOT_MET, EXEMPT = "HAC_CRITERIA_MET", "HAC_CRITERIA_NOT_MET", "HAC_NOT_APPLICABLE_EXEMPT"

MATRIX = [
    # hospital,   POA given, (initial, final, return code, hac_status), poa_error, entry status
    ("NOT_EXEMPT", "N", CHANGED, "POA_RECOGNIZED_NOT_POA", MET),
    ("NOT_EXEMPT", "U", CHANGED, "POA_RECOGNIZED_NOT_POA", MET),
    ("NOT_EXEMPT", "Y", KEPT, "POA_RECOGNIZED_YES_POA", NOT_MET),
    ("NOT_EXEMPT", "W", KEPT, "POA_RECOGNIZED_YES_POA", NOT_MET),
    ("NOT_EXEMPT", "", MISSING_POA, "POA_NOT_RECOGNIZED", MET),
    ("NOT_EXEMPT", "1", MISSING_POA, "POA_NOT_RECOGNIZED", MET),
    ("NOT_EXEMPT", "E", MISSING_POA, "POA_NOT_RECOGNIZED", MET),
    ("NOT_EXEMPT", "X", MISSING_POA, "POA_NOT_RECOGNIZED", MET),      # read as E
    ("NOT_EXEMPT", "YY", MISSING_POA, "POA_NOT_RECOGNIZED", MET),     # read as INVALID
    ("UNKNOWN", "Y", KEPT, "POA_RECOGNIZED_YES_POA", NOT_MET),
    ("UNKNOWN", "W", KEPT, "POA_RECOGNIZED_YES_POA", NOT_MET),
    ("UNKNOWN", "", UNKNOWN_ONE, "POA_NOT_RECOGNIZED", MET),          # the only SDX, POA not N/U
    ("UNKNOWN", "1", UNKNOWN_ONE, "POA_NOT_RECOGNIZED", MET),
    # the only SDX, POA N or U: the CMS labels give HAC_STATUS_INVALID_POA_N_OR_U (all 51
    # such claims, e.g. v430-dev2-adv-hac_poa_matrix-01045; docs/inferred-rules.md H2)
    ("UNKNOWN", "N", UNKNOWN_ONE_NU, "POA_RECOGNIZED_NOT_POA", MET),
    ("UNKNOWN", "U", UNKNOWN_ONE_NU, "POA_RECOGNIZED_NOT_POA", MET),
    ("EXEMPT", "N", KEPT, "HOSPITAL_EXEMPT", EXEMPT),
    ("EXEMPT", "", KEPT, "HOSPITAL_EXEMPT", EXEMPT),
    ("EXEMPT", "Y", KEPT, "HOSPITAL_EXEMPT", EXEMPT),
]


@pytest.mark.parametrize("hospital, poa, outcome, poa_error, entry", MATRIX)
def test_hac_poa_matrix(hospital, poa, outcome, poa_error, entry):
    claim = {**BASE, "sdx": [["T80211A", poa]], "hospital_status": hospital}
    r = grouper.group(claim)
    assert (r.initial_drg, r.final_drg, r.return_code, r.hac_status) == outcome
    assert r.num_hac_categories_satisfied == (1 if entry == MET else 0)
    d = r.sdx[0]
    assert d.poa_error == poa_error
    assert [(h.hac_number, h.hac_list, h.hac_status) for h in d.hacs] == \
        [(7 if entry == MET else 0, "HAC07", entry)]
    assert d.hacs[0].description == "Vascular Catheter-Associated Infection"
    # the batch path says the same
    row = grouper.group_batch([claim])[0]
    assert (row["initial_drg"], row["final_drg"], row["return_code"], row["hac_status"]) == outcome


def test_unknown_hospital_status_with_several_secondary_diagnoses():
    claim = {**BASE, "sdx": [["T80211A", ""], ["I10", "Y"]], "hospital_status": "UNKNOWN"}
    assert (grouper.group(claim).final_drg, grouper.group(claim).return_code) == (999, UNKNOWN_MULT[2])


def test_a_met_hac_removes_the_code_only_from_the_final_drg():
    r = grouper.group({**BASE, "sdx": [["T80211A", "N"]]})
    assert (r.sdx[0].initial_severity_usage, r.sdx[0].final_severity_usage) == ("CC", "NEITHER")
    assert r.sdx[0].affects_drg == "BOTH"          # it made the initial DRG, and its removal the final one


def test_a_code_the_principal_diagnosis_excludes_is_not_a_hac():
    claim, e = labelled("v430-dev-adv-sdx_equals_pdx-00178")     # S13101A as PDX and as SDX with POA N
    r = grouper.group(claim)
    assert [(h.hac_number, h.hac_status) for h in r.sdx[0].hacs] == \
        [(h["hac_number"], h["hac_status"]) for h in e["sdx"][0]["hacs"]] == [(5, "HAC_NOT_APPLICABLE_EXCLUSION")]
    assert r.final_drg == r.initial_drg == e["final_drg"]


def test_hac_status():
    assert hac.hac_status(False, True, True, False) == "NOT_APPLICABLE"
    assert hac.hac_status(True, False, False, False) == "NOT_APPLICABLE"       # initial DRG ungroupable
    assert hac.hac_status(True, True, False, True) == "FINAL_DRG_UNGROUPABLE"
    assert hac.hac_status(True, True, True, True) == "FINAL_DRG_CHANGES"
    assert hac.hac_status(True, True, True, False) == "FINAL_DRG_NO_CHANGE"


def test_evaluation_needs_a_grouped_claim_a_non_exempt_hospital_and_a_hac_code_not_poa():
    listed_n, listed_y, other = (True, hac.PoaClass.NO), (True, hac.PoaClass.YES), (False, hac.PoaClass.NO)
    assert hac.needs_evaluation(True, "NOT_EXEMPT", [other, listed_n])
    assert not hac.needs_evaluation(True, "NOT_EXEMPT", [other, listed_y])
    assert not hac.needs_evaluation(True, "EXEMPT", [listed_n])
    assert not hac.needs_evaluation(False, "NOT_EXEMPT", [listed_n])
