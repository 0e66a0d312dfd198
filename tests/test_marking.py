"""Marking: which codes affected the DRG, and the CLINICAL_SIGNIFICANCE tie-breaks.

Rules (``docs/cms-rules.md``, "Affects-DRG marking"), written out by hand: the principal
diagnosis of a grouped claim affects its DRG; where several secondary diagnoses satisfy an
operand, the first in the order MCC, CC, then by code as written is marked; where several
procedures do, the principal procedure when it is an OR procedure, else the first by code; a true
counter marks the procedures it counted.  Checked against CMS labels where the sample has them.
"""
import pytest

import grouper
from grouper.engine import marking
from grouper.engine.atoms import COUNTER

from conftest import SAMPLE, read_jsonl

BASE = {"version": 431, "sex": "M", "discharge_status": 1}
NON_OR = "0020X0Z"                  # a procedure whose only attribute is nonor


def affects(claim):
    r = grouper.group({**BASE, **claim})
    return r, [d.affects_drg for d in r.sdx], [p.affects_drg for p in r.procedures]


def test_the_mcc_operand_marks_one_mcc_first_by_code():
    # DRG 291 (heart failure with MCC): J9601 and J9602 are MCCs, N179 a CC
    r, dx, _ = affects({"pdx": "I5022", "sdx": [["J9602", "Y"], ["J9601", "Y"], ["N179", "Y"]]})
    assert r.final_drg == 291 and r.pdx.affects_drg == "BOTH"
    assert dx == ["NONE", "BOTH", "NONE"]


def test_the_cc_operand_marks_a_cc_not_an_mcc_suppressed_by_the_formula():
    # DRG 292 (with CC): one CC among codes of lower rank than an (excluded) MCC
    r, dx, _ = affects({"pdx": "I5022", "sdx": [["I5023", "Y"], ["N179", "Y"], ["E1165", "Y"]]})
    assert r.final_drg == 292
    assert dx[0] == "NONE" and dx[1] == "BOTH"        # I5023 is excluded by the PDX: N179 is the CC


@pytest.mark.parametrize("procedures, want", [
    (["0SR9019", "0SR901A"], ["BOTH", "NONE"]),            # the principal procedure is an OR procedure
    (["0SR901A", "0SR9019"], ["BOTH", "NONE"]),            # ... whichever code it is
    ([NON_OR, "0SR901A", "0SR9019"], ["NONE", "NONE", "BOTH"]),   # a non-OR principal: the first by code
])
def test_procedures_tie_break(procedures, want):
    r, _, pr = affects({"pdx": "M1611", "procedures": procedures})
    assert r.final_drg == 470
    assert pr == want


def test_a_true_counter_marks_what_it_counted():
    # BILATERAL (right and left hip): both joint procedures -- joint procedures in code
    # order until two distinct joints are covered (a third joint is not marked: CMS labels
    # of DRG 461, tests/test_affects_rules.py)
    r, _, pr = affects({"pdx": "M1611", "procedures": ["0SR9019", "0SRB019"]})
    assert pr == ["BOTH", "BOTH"]
    assert COUNTER["BILATERAL"].marks == "distinct" and COUNTER["BILATERAL"].threshold == 2
    # FOUR_VESSELS marks procedures in code order until four vessels are counted
    assert COUNTER["FOUR_VESSELS"].marks == "prefix" and COUNTER["FOUR_VESSELS"].threshold == 4


def test_flags_combine_initial_and_final_marks():
    i, f = marking.Marks({0, 1}, {0}), marking.Marks({0, 2}, set())
    assert marking.flags(i, f, 4, 2) == (["BOTH", "INITIAL", "FINAL", "NONE"], ["INITIAL", "NONE"])


def test_tie_breaks_agree_with_cms_on_claims_with_several_candidates():
    """On every sample claim of a DRG with MCC that has two or more MCC codes, the one CMS
    marks (for the formula's MCC operand) is the first MCC by code among the counting ones."""
    checked = 0
    for c in read_jsonl(SAMPLE):
        e = c["expected"]
        mccs = [d for d in e["sdx"] if d["initial_severity_usage"] == "MCC"]
        if e["initial_severity"] != "MCC" or len(mccs) < 2 or e["return_code"] != "OK":
            continue
        marked = [d["code"] for d in mccs if d["affects_drg"] in ("INITIAL", "BOTH")]
        if len(marked) != 1:       # another operand of the formula marked an MCC code too
            continue
        assert marked[0] == min(d["code"] for d in mccs), c["id"]      # by code as written
        checked += 1
    assert checked >= 20
