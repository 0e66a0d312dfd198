"""Affects-DRG marking rules inferred from CMS-labelled claims (docs/inferred-rules.md,
"Which codes affect the DRG").  Each test states a rule and checks, on the claims that
decided it, the per-code flags CMS reported; a failure names the claim, the code and the
flag.  The DRG itself is checked too, so a test cannot pass on a claim grouped elsewhere."""
import pytest

from rules_support import assert_as_cms, claims_of, labelled

DRG = ("initial_drg", "final_drg")


def _procedures(cid):
    return labelled(cid)["expected"]["procedures"]


@pytest.mark.parametrize("cid", claims_of("lower_case_sdx_ties_last"))
def test_secondary_diagnoses_tied_for_an_operand_rank_by_code_as_written(cid):
    """Several SDX of one severity satisfy CC/MCC: CMS marks the first by code as written, so
    a lower-case code ('i5020') ranks after every upper-case one."""
    assert_as_cms(cid, *DRG, "sdx[")


@pytest.mark.parametrize("cid", claims_of("nonor_principal_last_from_v410"))
def test_from_v41_0_a_non_or_principal_procedure_ranks_last_in_a_tie(cid):
    """Procedures tied for an operand, principal procedure not an OR procedure: from v41.0
    CMS marks another holder (the first by code), the principal's own repeat included."""
    procs = _procedures(cid)
    assert labelled(cid)["version"] >= 410 and procs[0]["is_or"] is False, cid
    assert procs[0]["affects_drg"] == "NONE", f"{cid}: CMS marked the principal; the rule does not apply"
    assert_as_cms(cid, *DRG, "procedures")


@pytest.mark.parametrize("cid", claims_of("principal_first_before_v410"))
def test_up_to_v40_1_the_principal_procedure_ranks_first_in_a_tie_whatever_its_or_status(cid):
    procs = _procedures(cid)
    assert labelled(cid)["version"] < 410 and procs[0]["is_or"] is False, cid
    assert procs[0]["affects_drg"] != "NONE", cid
    assert_as_cms(cid, *DRG, "procedures")


@pytest.mark.parametrize("cid", claims_of("bilateral_two_joints"))
def test_bilateral_marks_clusters_then_joint_procedures_in_code_order_until_two_joints(cid):
    assert labelled(cid)["expected"]["initial_drg"] in (461, 462), cid
    assert_as_cms(cid, *DRG, "procedures")


@pytest.mark.parametrize("cid", claims_of("cluster_choice_walk"))
def test_a_marked_cluster_marks_its_components_choice_by_choice_until_every_choice_has_one(cid):
    """A formed cluster that affects the DRG marks the claim's component codes of its first
    choice, then of the next..., each code once (first occurrence), and stops as soon as
    every choice has one: the last choice reached marks only its first code."""
    assert_as_cms(cid, *DRG, "procedures")


@pytest.mark.parametrize("cid", claims_of("stent_vessel_units"))
def test_stent_and_vessel_counters_add_their_counted_units_to_the_operands(cid):
    """FOUR_*STENTS / FOUR_VESSELS: the stentN / vesselN attributes of the procedures counted
    (code order, until four) join the list's operands; one procedure holding them all is
    marked alone, else each operand marks its first holder in tie order."""
    assert labelled(cid)["expected"]["initial_drg"] in (246, 247, 248, 249, 321, 322), cid
    assert_as_cms(cid, *DRG, "procedures")


@pytest.mark.parametrize("cid", claims_of("fusion_principal_and_first"))
def test_sglantctr_and_sglpost1ctr_mark_the_principal_and_the_first_other_holder(cid):
    assert_as_cms(cid, *DRG, "procedures")


@pytest.mark.parametrize("cid", claims_of("fusion_counter_primed") + claims_of("fusion_counter_not_primed"))
def test_a_counter_found_true_in_an_earlier_failed_formula_makes_its_attribute_mark_all_it_counted(cid):
    """SGLPOSTFUSECTR found true in DRG 426's CC branch (which fails) makes the matched DRG
    427's sglpostfuse operand mark both sglpostfuse fusions; without that earlier evaluation
    (DRG 426 with MCC, 428) or without sglpostfuse in the matched formula (448) only the
    usual one is marked."""
    assert_as_cms(cid, *DRG, "procedures")


@pytest.mark.parametrize("cid", claims_of("fusion_counter_code_order") + claims_of("principal_first_without_counter"))
def test_after_a_fusion_counter_tied_procedures_are_taken_in_code_order(cid):
    assert_as_cms(cid, *DRG, "procedures")
