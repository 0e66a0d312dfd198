"""CMS-labelled claims that decide each inferred rule (see docs/inferred-rules.md).

Every claim named here is kept in the committed sample by tests/make_sample.py, so the
rule tests (test_hac_rules.py, test_affects_rules.py, test_grouping_rules.py) run without
../shared.  The claims are CMS's verdicts: the tests compare against their labels, never
against this engine's output.
"""

RULE_CLAIMS = {
    # HAC/POA --------------------------------------------------------------------------
    # an SDX with a blank/1/E/invalid POA that the PDX excludes as CC/MCC does not make the
    # final DRG ungroupable (HAC 04, 05, 07, 10, 13, hac06_show)
    "hac_excluded_invalid_poa": [
        "v400-hacdev-00133", "v400-hacdev-00426", "v410-hacdev-00246", "v410-hacdev-01796",
        "v431-dev2-adv-poa_odd_values-01394", "v431-dev2-adv-hospital_status_poa-19584",
    ],
    # ... while one the PDX does not exclude does (HAC_MISSING_ONE_POA)
    "hac_invalid_poa_not_excluded": [
        "v400-dev-real-000249", "v410-dev2-adv-hac_poa_matrix-00246", "v401-dev2-real-001172",
    ],
    # hospital status UNKNOWN: the return code names the POA only for a claim's only SDX
    "hac_unknown_single_sdx": [
        "v400-hacdev-00225", "v400-hacdev-00740", "v430-dev2-adv-hac_poa_matrix-01045",
        "v431-dev2-real-003336", "v401-dev-adv-poa_odd_values-00126", "v400-hacdev-01249",
    ],
    "hac_unknown_several_sdx": [
        "v400-dev2-adv-poa_odd_values-02122", "v400-dev-adv-manifestation_pdx-00067",
    ],
    # HAC 06's SDX operands are read over every SDX the HAC applies to
    "hac06_show_met": [
        "v400-hacdev-00390", "v400-hacdev-02571", "v401-hacdev-01427", "v401-hacdev-00456",
    ],
    "hac06_show_not_met": ["v431-dev-real-001977"],
    # every unmet HAC of a multi-list code listed from v41.0, one entry before
    "hac_multi_list_from_v410": [
        "v410-hacdev-00015", "v410-hacdev-00019", "v410-dev2-real-000805",
    ],
    "hac_multi_list_before_v410": ["v400-hacdev-00126", "v401-hacdev-00050"],
    # a met HAC 11 gives the PDX an entry
    "hac11_pdx_entry": ["v400-hacdev-00995", "v401-hacdev-02262"],

    # grouping ------------------------------------------------------------------------
    "unknown_sex_female_mdc": [
        "v431-dev2-adv-sex_dependent_mdc-11866", "v400-dev2-adv-sex_dependent_mdc-00722",
        "v420-dev2-adv-sex_dependent_mdc-01074",
    ],
    "lower_case_sdx_not_excluded": ["v431-dev2-adv-invalid_sdx-15271"],

    # affects-DRG marking ---------------------------------------------------------------
    "lower_case_sdx_ties_last": [
        "v420-dev2-adv-invalid_sdx-01711", "v431-dev2-adv-invalid_sdx-00442",
        "v431-dev2-adv-invalid_sdx-04244", "v431-dev2-adv-invalid_sdx-05370",
        "v431-dev2-adv-invalid_sdx-10860",
    ],
    "nonor_principal_last_from_v410": [
        "v421-dev2-adv-other_version_proc-01908", "v410-dev2-real-001371", "v411-dev2-real-003333",
        "v411-dev2-real-004203", "v431-dev2-real-039503", "v410-stressdev-02125",
        "v420-stressdev-02659",
    ],
    "principal_first_before_v410": [
        "v400-dev2-real-002503", "v400-dev2-adv-unacceptable_pdx-00543", "v401-dev-real-000195",
        "v401-stressdev-00461",
    ],
    "bilateral_two_joints": [
        "v400-stressdev-00345", "v400-stressdev-00894", "v401-stressdev-00959", "v410-stressdev-02486",
    ],
    "cluster_choice_walk": [
        "v431-dev2-adv-spinal_fusion_combos-03280", "v431-dev2-adv-spinal_fusion_combos-15013",
        "v420-stressdev-00889", "v431-dev-adv-spinal_fusion_combos-03750", "v400-stressdev-02644",
        "v410-stressdev-02280", "v421-stressdev-02138", "v431-dev2-adv-spinal_fusion_combos-12338",
    ],
    "stent_vessel_units": [
        "v400-dev2-adv-coronary_stents-00508", "v400-dev2-adv-coronary_stents-00736",
        "v400-dev2-adv-coronary_stents-01053", "v401-dev2-adv-coronary_stents-00192",
        "v400-dev-adv-coronary_stents-00008", "v431-dev2-adv-coronary_stents-09111",
    ],
    "fusion_principal_and_first": [
        "v430-dev2-adv-spinal_fusion_combos-01873", "v431-dev2-adv-spinal_fusion_combos-06704",
        "v430-stressdev-00883", "v431-dev2-adv-spinal_fusion_combos-05111", "v420-stressdev-00199",
        "v420-stressdev-00425", "v420-stressdev-00302",
    ],
    "fusion_counter_primed": [
        "v431-dev2-adv-spinal_fusion_combos-11587", "v431-dev2-adv-spinal_fusion_combos-19799",
    ],
    "fusion_counter_not_primed": [
        "v431-dev2-adv-spinal_fusion_combos-14544", "v431-dev-adv-spinal_fusion_combos-02998",
        "v431-dev2-adv-spinal_fusion_combos-19094", "v420-dev2-adv-spinal_fusion_combos-00466",
    ],
    "fusion_counter_code_order": ["v431-dev2-adv-spinal_fusion_combos-01779"],
    "principal_first_without_counter": [
        "v430-dev2-adv-spinal_fusion_combos-01450", "v431-dev2-adv-spinal_fusion_combos-13606",
    ],
}

ALL_RULE_CLAIMS = frozenset(i for ids in RULE_CLAIMS.values() for i in ids)
