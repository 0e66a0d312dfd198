"""Severity: which secondary diagnoses count as CC/MCC, why not, and the claim's level per formula.

Expected values: the CMS labels of the committed sample (per-code ``initial_severity_usage``
says whether a code counted, was excluded by the principal diagnosis or by the DRG logic)
and the rules of ``docs/cms-rules.md`` ("CC/MCC severity") written out by hand.
"""
import random

import numpy as np
import pytest

import grouper
from grouper.engine import severity as sv
from grouper.engine.compiled import compiled
from grouper.engine.preprocess import preprocess
from grouper.reading import read
from grouper.tables import default

from conftest import SAMPLE, labelled, read_jsonl

TS = default()


def candidates_of(claim):
    state = preprocess(compiled(TS, read(claim, TS).claim.version), read(claim, TS).claim)
    return state, sv.candidates(state)


def test_a_secondary_diagnosis_on_the_principal_diagnosis_exclusion_list_does_not_count():
    # README 4.5 probe: PDX I5022 + SDX I5023 groups to 293 (I5023 excluded), not 291
    _, cand = candidates_of({"version": 431, "pdx": "I5022", "sdx": [["I5023", "Y"], ["J9601", "Y"]]})
    assert cand == [(0, sv.EXCLUDED), (sv.MCC, sv.COUNTS)]
    r = grouper.group({"version": 431, "pdx": "I5022", "sdx": [["I5023", "Y"]], "sex": "M", "discharge_status": 1})
    assert r.final_drg == 293 and r.sdx[0].initial_severity_usage == "MCC_EXCLUDED"


def test_an_mcc_alive_code_does_not_count_when_the_patient_died():
    claim, expected = labelled("v401-dev-adv-mcc_only_if_alive-00164")      # M86129 + I462, status 20
    _, cand = candidates_of(claim)
    assert cand == [(0, sv.NOT_COUNTED)] and expected["sdx"][0]["initial_severity_usage"] == "NEITHER"
    _, cand = candidates_of({**claim, "discharge_status": 1})
    assert cand == [(sv.MCC, sv.COUNTS)]


def test_candidate_reasons_agree_with_cms_usage_on_every_sample_claim():
    """EXCLUDED exactly where CMS reports *_EXCLUDED; a counting code where CMS reports CC, MCC or
    *_EXCLUDED_BY_DRG_LOGIC (the code counts, the DRG formula suppresses it); none where NEITHER."""
    level = {"CC": sv.CC, "MCC": sv.MCC}
    for c in read_jsonl(SAMPLE):
        e = c["expected"]
        if e["initial_return_code"] != "OK":
            continue
        claim = {k: v for k, v in c.items() if k not in ("expected", "scenario")}
        _, cand = candidates_of(claim)
        for (sev, why), d in zip(cand, e["sdx"]):
            usage = d["initial_severity_usage"]
            where = f"{c['id']} {d['code']} {usage}"
            assert (why == sv.EXCLUDED) == usage.endswith("_EXCLUDED"), where
            if usage in ("CC", "MCC") or usage.endswith("_BY_DRG_LOGIC"):
                assert (sev, why) == (level[usage.split("_")[0]], sv.COUNTS), where
            elif usage == "NEITHER":
                assert sev == 0, where


def test_a_code_the_drg_formula_suppresses_is_labelled_from_v41_1_and_never_counts():
    # v41.1: an AMI code under the AMI DRGs is MCC_EXCLUDED_BY_DRG_LOGIC; the level is CC (DRG 281)
    claim, e = labelled("v411-dev-tgt-281-0001")
    r = grouper.group(claim)
    assert (r.initial_drg, r.initial_claim_severity) == (e["initial_drg"], e["initial_claim_severity"]) == (281, "CC")
    assert [d.initial_severity_usage for d in r.sdx] == ["MCC_EXCLUDED_BY_DRG_LOGIC", "CC"]
    # before v41.1 the same suppression is reported with the code's plain severity (DRG 282, no CC/MCC)
    claim, e = labelled("v400-dev-tgt-282-0001")
    r = grouper.group(claim)
    assert (r.initial_drg, r.initial_severity) == (282, "NON_CC")
    assert [d.initial_severity_usage for d in r.sdx] == [d["initial_severity_usage"] for d in e["sdx"]] == \
        ["NEITHER", "MCC"]


def _naive_level(codes, k):
    """The rule as stated: the highest severity among the counting codes the set does not name."""
    return max((sev for sev, sup in codes if not (sup >> k) & 1), default=sv.NCC)


def _summary(codes):
    mcc = cc = sv.ALL_SETS
    for sev, sup in codes:
        if sev == sv.MCC:
            mcc &= sup
        elif sev == sv.CC:
            cc &= sup
    return mcc, cc


def test_the_level_for_a_suppression_set_is_the_highest_severity_it_does_not_name():
    # written out: an MCC code named by set 1 only, a CC code named by sets 1 and 2
    codes = [(sv.MCC, 0b010), (sv.CC, 0b110)]
    mcc, cc = _summary(codes)
    assert [sv.level_for_set(mcc, cc, k) for k in range(4)] == [sv.MCC, sv.NCC, sv.MCC, sv.MCC]
    assert sv.level_for_set(*_summary([]), 0) == sv.NCC
    rnd = random.Random(7)
    for _ in range(2000):
        codes = [(rnd.choice([sv.CC, sv.MCC]), rnd.getrandbits(6)) for _ in range(rnd.randint(0, 5))]
        mcc, cc = _summary(codes)
        for k in range(6):
            assert sv.level_for_set(mcc, cc, k) == _naive_level(codes, k), (codes, k)
        # the same function on numpy columns (the batch path)
        col = sv.level_for_set(np.array([mcc]), np.array([cc]), np.arange(6)[None, :])
        assert col.tolist() == [[_naive_level(codes, k) for k in range(6)]]


@pytest.mark.parametrize("severity, excluded, died_mccalive, want", [
    (2, False, False, 2), (1, False, False, 1), (2, True, False, 0), (2, False, True, 0), (1, True, True, 0)])
def test_counted_severity_on_ints_and_columns(severity, excluded, died_mccalive, want):
    assert sv.counted_severity(severity, excluded, died_mccalive) == want
    col = sv.counted_severity(np.array([severity]), np.array([excluded]), np.array([died_mccalive]))
    assert col.tolist() == [want]
