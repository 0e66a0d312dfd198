"""Grouping: the walk over the formula lists, pre-MDC, MDC and reroutes.

Expected values: CMS labels of the committed sample (the DRG and the MDC CMS reports) and
the walk rules of ``docs/cms-rules.md`` ("Formula lists") written out by hand: which lists
a claim visits, and the MDC a reroute reports.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import grouper
from grouper.engine import grouping
from grouper.engine import severity as sv
from grouper.engine.atoms import NO_MDC
from grouper.engine.codes import PRE_MDC, UNRELATED_OR
from grouper.engine.compiled import compiled
from grouper.engine.preprocess import preprocess
from grouper.reading import read
from grouper.tables import default

from conftest import labelled
from test_preprocess import rich_claims
from test_properties import claims

TS = default()


def walk(claim):
    rc = read(claim, TS).claim
    state = preprocess(compiled(TS, rc.version), rc)
    return state, grouping.assign(state, sv.candidates(state))


@pytest.mark.parametrize("claim_id, lists, why", [
    ("v431-dev-tgt-955-0001", [0, 24], "multiple significant trauma: pre-MDC reroutes to MDC 24"),
    ("v431-dev-tgt-970-0000", [0, 25], "HIV: pre-MDC reroutes to MDC 25"),
    ("v431-dev-tgt-652-0000", [0, 11], "kidney transplant: pre-MDC reroutes to MDC 11"),
    ("v431-dev-tgt-981-0000", [5, 29], "an OR procedure unrelated to MDC 5: its list reroutes to list 29"),
    ("v431-dev-tgt-983-0000", [4, 29], "an OR procedure unrelated to MDC 4: its list reroutes to list 29"),
])
def test_reroutes(claim_id, lists, why):
    claim, expected = labelled(claim_id)
    state, a = walk(claim)
    assert [lst for _, lst in a.path] == lists, why
    assert (a.drg, a.mdc) == (expected["initial_drg"], expected["initial_mdc"]), why
    # a reroute to list 29 keeps the principal diagnosis' MDC; another reports its list's MDC
    assert a.mdc == (state.pdx_mdc if lists[-1] == UNRELATED_OR else lists[-1])


def test_no_formula_in_the_pre_mdc_list_goes_to_the_principal_diagnosis_mdc():
    assert grouping.next_list(PRE_MDC, 5) == 5
    assert grouping.next_list(5, 5) == grouping.NO_LIST            # nothing matched in the MDC: ungroupable
    assert grouping.next_list(PRE_MDC, NO_MDC) == grouping.NO_LIST
    assert grouping.next_list(PRE_MDC, np.array([5, NO_MDC])).tolist() == [5, grouping.NO_LIST]
    _, a = walk({"version": 431, "pdx": "I5022", "sdx": [["J9601", "Y"]], "sex": "M", "discharge_status": 1})
    assert [lst for _, lst in a.path] == [5] and a.drg == 291     # pre-MDC had no match: no row on the path


@pytest.mark.parametrize("claim, drg, return_code", [
    ({"version": 431, "pdx": "V9999"}, 999, "INVALID_PDX"),
    ({"version": 431, "pdx": "V0001XA"}, 999, "DX_CANNOT_BE_PDX"),
    ({"version": 431, "pdx": "N393", "sex": "U", "discharge_status": 1}, 999, "INVALID_SEX"),
])
def test_a_control_row_naming_an_invalid_input_makes_the_claim_ungroupable(claim, drg, return_code):
    _, a = walk(claim)
    assert (a.drg, a.mdc, a.return_code) == (drg, 0, return_code)
    assert a.row is not None and a.row.error == return_code


def test_drg_998_reports_no_claim_severity():
    claim, expected = labelled("v400-dev-tgt-998-0000")
    r = grouper.group(claim)
    assert (r.initial_drg, r.initial_claim_severity) == (expected["initial_drg"], expected["initial_claim_severity"]) \
        == (998, "NONE")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(claims, rich_claims))
def test_a_claim_never_evaluates_a_formula_list_twice(c):
    try:
        _, a = walk(c)
    except grouper.ClaimError:
        return
    lists = [lst for _, lst in a.path]
    assert len(lists) == len(set(lists))
    assert a.return_code != "OK" or a.drg == a.row.drg
