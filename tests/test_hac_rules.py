"""HAC/POA rules inferred from CMS-labelled claims (docs/inferred-rules.md, "HAC/POA").

Each test states a rule, takes the claims that decided it from the committed sample and
checks the fields the rule governs against CMS's labels; a failure names the claim and the
field.  Where the claim's shape is part of the rule (an excluded SDX, a single SDX...), the
test first checks the shape on CMS's own labels, so it cannot pass on the wrong claims.
"""
import pytest

from rules_support import assert_as_cms, batch_mismatches, claims_of, labelled

TOP = ("final_drg", "final_mdc", "return_code", "hac_status", "final_severity", "final_claim_severity",
       "num_hac_categories_satisfied")
NOT_YW = ("", "1", "E", "INVALID")


def _hac_sdx(c):
    return [d for d in c["expected"]["sdx"] if d["hacs"]]


@pytest.mark.parametrize("cid", claims_of("hac_excluded_invalid_poa"))
def test_a_missing_poa_on_an_sdx_the_pdx_excludes_leaves_the_final_drg_groupable(cid):
    """NOT_EXEMPT hospital, a HAC met by another SDX: an SDX with a blank/1/E/invalid POA
    that the principal diagnosis excludes as CC/MCC does not raise HAC_MISSING_ONE_POA."""
    c = labelled(cid)
    invalid = [d for d in _hac_sdx(c) if d["poa"] in NOT_YW]
    assert invalid and all(d["initial_severity_usage"].endswith("_EXCLUDED") for d in invalid), cid
    assert c["expected"]["return_code"] == "OK" and c["expected"]["num_hac_categories_satisfied"] > 0, cid
    assert_as_cms(cid, *TOP, "sdx[")


@pytest.mark.parametrize("cid", claims_of("hac_invalid_poa_not_excluded"))
def test_a_missing_poa_on_an_sdx_the_pdx_does_not_exclude_makes_the_final_drg_999(cid):
    c = labelled(cid)
    assert any(d["poa"] in NOT_YW and not d["initial_severity_usage"].endswith("_EXCLUDED")
               for d in _hac_sdx(c)), cid
    assert c["expected"]["return_code"] == "HAC_MISSING_ONE_POA", cid
    assert_as_cms(cid, *TOP)


@pytest.mark.parametrize("cid", claims_of("hac_unknown_single_sdx"))
def test_unknown_hospital_status_names_the_poa_of_a_claims_only_sdx(cid):
    """Hospital status UNKNOWN, the claim's only SDX meets a HAC: HAC_STATUS_INVALID_POA_N_OR_U
    for POA N/U, HAC_STATUS_INVALID_POA_INVALID_OR_1 for any other POA."""
    c = labelled(cid)
    (only,) = c["expected"]["sdx"]
    assert c["hospital_status"] == "UNKNOWN", cid
    named = "HAC_STATUS_INVALID_POA_N_OR_U" if only["poa"] in ("N", "U") else "HAC_STATUS_INVALID_POA_INVALID_OR_1"
    assert c["expected"]["return_code"] == named, f"{cid}: the rule does not describe CMS's label"
    assert_as_cms(cid, *TOP)


@pytest.mark.parametrize("cid", claims_of("hac_unknown_several_sdx"))
def test_unknown_hospital_status_with_several_sdx_returns_the_mult_code(cid):
    c = labelled(cid)
    assert c["hospital_status"] == "UNKNOWN" and len(c["expected"]["sdx"]) > 1, cid
    assert c["expected"]["return_code"] == "HAC_STATUS_INVALID_MULT_HACS_POA_NOT_Y_W", cid
    assert_as_cms(cid, *TOP)


@pytest.mark.parametrize("cid", claims_of("hac06_show_met"))
def test_a_hac06_show_code_meets_hac06_beside_a_hac06_sdx_code(cid):
    """HAC 06 (SDX:hac06_sdx | (SDX:hac06_sdx & SDX:hac06_show)) reads its SDX operands over
    every SDX it applies to (POA not Y/W, not excluded): the UTI code meets it too."""
    c = labelled(cid)
    lists = {h["hac_list"] for d in _hac_sdx(c) if d["poa"] not in ("Y", "W") for h in d["hacs"]}
    assert {"hac06_sdx", "hac06_show"} <= lists, cid
    assert_as_cms(cid, *TOP, "sdx[")


@pytest.mark.parametrize("cid", claims_of("hac06_show_not_met"))
def test_a_hac06_show_code_beside_a_hac06_sdx_code_present_on_admission_is_not_met(cid):
    assert_as_cms(cid, *TOP, "sdx[")


@pytest.mark.parametrize("cid", claims_of("hac_multi_list_from_v410") + claims_of("hac_multi_list_before_v410"))
def test_a_code_on_several_hac_lists_lists_every_unmet_hac_from_v41_0(cid):
    """An SDX on several HAC lists (T814x: hac11_sdx, HAC12, HAC13), no HAC met, POA not Y/W:
    one entry per list from v41.0, a single entry in v40.0/v40.1."""
    c = labelled(cid)
    entries = [len(d["hacs"]) for d in _hac_sdx(c) if d["code"].startswith("T814") and d["poa"] not in ("Y", "W")]
    assert entries and all(n == (3 if c["version"] >= 410 else 1) for n in entries), cid
    assert_as_cms(cid, "sdx[")


@pytest.mark.parametrize("cid", claims_of("hac11_pdx_entry"))
def test_a_met_hac11_gives_the_principal_diagnosis_a_hac_entry(cid):
    """HAC 11 (PDX:hac11_pdx & SDX:hac11_sdx & hac11_proc) met: the PDX gets
    {hac_number 11, hac_list null, NOT_ON_HAC_LIST, title}."""
    assert labelled(cid)["expected"]["pdx"]["hacs"][0]["hac_status"] == "NOT_ON_HAC_LIST"
    assert_as_cms(cid, "pdx.", "sdx[", *TOP)


def test_the_batch_path_applies_the_same_hac_rules():
    cids = [cid for rule in ("hac_excluded_invalid_poa", "hac_invalid_poa_not_excluded", "hac_unknown_single_sdx",
                             "hac_unknown_several_sdx", "hac06_show_met", "hac06_show_not_met", "hac11_pdx_entry")
            for cid in claims_of(rule)]
    bad = batch_mismatches(cids, TOP + ("initial_drg", "initial_severity"))
    assert not bad, "\n".join(bad)


def test_batch_and_single_claim_paths_agree_when_a_hac06_pair_changes_the_final_drg():
    """No labelled claim has a met hac06_show code whose removal changes a top-level field
    (all end in DRG 999), so the batch path is held to the single-claim path on a pair
    that does: catheter complication T83511A and UTI N10, both POA N, with a heart-failure
    PDX.  With N10 present on admission the UTI keeps its CC and the final DRG differs,
    which shows the pair exercises the rule."""
    import grouper
    from grouper import group_batch
    base = {"version": 431, "sex": "F", "discharge_status": 1, "pdx": "I5020", "hospital_status": "NOT_EXEMPT",
            "procedures": []}
    met = dict(base, sdx=[["T83511A", "N"], ["N10", "N"]])
    kept = dict(base, sdx=[["T83511A", "N"], ["N10", "Y"]])
    single = [grouper.group(c) for c in (met, kept)]
    assert single[0].final_drg != single[1].final_drg
    for r, s in zip(group_batch([met, kept]).to_records(), single):
        for f in ("initial_drg", "final_drg", "return_code", "hac_status", "final_severity",
                  "num_hac_categories_satisfied"):
            assert r[f] == getattr(s, f), f"{f}: batch {r[f]!r}, single claim {getattr(s, f)!r}"
