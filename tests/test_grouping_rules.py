"""Grouping rules inferred from CMS-labelled claims (docs/inferred-rules.md, "Grouping"):
the MDC of a sex-dependent principal diagnosis when sex is unknown, and the CC exclusion
of a secondary diagnosis written in lower case."""
import pytest

import grouper
from grouper import group_batch

from rules_support import assert_as_cms, batch_mismatches, claims_of, labelled


@pytest.mark.parametrize("cid", claims_of("unknown_sex_female_mdc"))
def test_a_sex_dependent_pdx_with_unknown_sex_reads_the_female_mdc(cid):
    """Sex not M/F: INVALID_SEX (DRG 999) unless a pre-MDC DRG or a reroute comes first; a
    pre-MDC DRG then reports the female MDC of the code (A562: 12 male, 13 female)."""
    c = labelled(cid)
    assert c["sex"] not in ("M", "F"), cid
    assert_as_cms(cid, "initial_drg", "initial_mdc", "final_drg", "final_mdc", "return_code")
    bad = batch_mismatches([cid], ("initial_drg", "initial_mdc", "final_drg", "final_mdc", "return_code"))
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("cid", claims_of("lower_case_sdx_not_excluded"))
def test_a_secondary_diagnosis_written_in_lower_case_is_not_cc_excluded(cid):
    """CMS upper-cases a code to look it up, but looks an SDX up in the CC-exclusion table as
    written: PDX I132 excludes I5020 (and I5030 in the same claim), not 'i5020'."""
    c = labelled(cid)
    lower = [d for d in c["expected"]["sdx"] if d["code"] != d["code"].upper()]
    assert lower and all(d["initial_severity_usage"] in ("CC", "MCC") for d in lower), cid
    assert_as_cms(cid, "sdx[")


def test_batch_and_single_claim_paths_read_a_lower_case_sdx_alike():
    """The same claim with the SDX in lower and upper case: both paths agree on each, and the
    lower-case SDX keeps its CC (as CMS labels it) while the upper-case one is excluded."""
    base = {k: v for k, v in labelled("v431-dev2-adv-invalid_sdx-15271").items() if k != "expected"}
    lower = dict(base, sdx=[["i5020", "Y"]], discharge_status=1)
    upper = dict(base, sdx=[["I5020", "Y"]], discharge_status=1)
    single = [grouper.group(c, details=True) for c in (lower, upper)]
    assert single[0].sdx[0].initial_severity_usage == "CC"
    assert single[1].sdx[0].initial_severity_usage == "CC_EXCLUDED"
    rows = group_batch([lower, upper]).to_records()
    for r, s in zip(rows, single):
        for f in ("initial_drg", "final_drg", "initial_severity", "initial_claim_severity"):
            assert r[f] == getattr(s, f), f"{s.sdx[0].code}: batch {f} {r[f]!r}, single claim {getattr(s, f)!r}"
