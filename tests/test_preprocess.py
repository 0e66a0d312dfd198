"""Preprocessing: the attributes of every code and the claim-level atoms of the formula language.

Expected values are CMS's: the attribute lists and probes of the CMS data README (sections
4.3-4.6 and 5.3, the probes run with the 43.1 Java grouper), restated in
``docs/cms-rules.md``.  The last test checks, for any claim, that the feature mask the
vectorized core computes for a claim is the per-claim preprocessing's.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import grouper
from grouper.bulk.columns import Columns
from grouper.bulk.vector import mask_of, preprocess_columns, vector_tables
from grouper.engine import atoms
from grouper.engine.codes import PRE_MDC
from grouper.engine.compiled import compiled
from grouper.engine.preprocess import preprocess
from grouper.reading import read
from grouper.tables import default

from test_properties import DX, PR, claims

TS = default()
CV = compiled(TS, 431)


def state_of(claim):
    c = {"version": 431, "sex": "M", "discharge_status": 1, **claim}
    return preprocess(compiled(TS, c["version"]), read(c, TS).claim)


def test_a_procedure_has_the_attributes_the_cms_tables_list():
    # CMS README 4.3: 0SR9019 (hip replacement) in v43.1
    state = state_of({"pdx": "M1611", "procedures": ["0SR9019"]})
    assert state.procs[0].attrs == {"d468", "d485", "hac10_proc", "hipreplace", "or_allowed_in_768", "oth22",
                                    "replacex", "righthip"}
    # an OR procedure (d468/d477) makes ORPROC true
    assert "ORPROC" in state.X


def test_a_diagnosis_has_its_mdc_and_severity():
    state = state_of({"pdx": "I5023", "sdx": [["J9601", "Y"], ["N179", "Y"]]})
    assert (state.pdx.mdc, state.pdx.severity) == (5, 2)          # heart failure, MCC as a secondary dx
    assert [d.severity for d in state.sdx] == [2, 1]              # J9601 MCC, N179 CC
    assert not state_of({"pdx": "I50.23"}).pdx.valid              # a dotted code is not a code
    assert state_of({"pdx": "i5023"}).pdx.valid                   # codes are upper-cased


@pytest.mark.parametrize("status, want", [
    (1, {"ALIVE"}), (20, {"DIED"}), (7, {"ALIVE", "AMA"}),
    (2, {"ALIVE", "XFRNBA"}), (5, {"ALIVE", "XFRNBA"}), (66, {"ALIVE", "XFRNBA"}),
    (82, {"ALIVE", "XFRNBA"}), (85, {"ALIVE", "XFRNBA"}), (94, {"ALIVE", "XFRNBA"}),
    (3, {"ALIVE"}), (None, {"ALIVE", "INVALID_DSTAT"}),
])
def test_discharge_status_atoms(status, want):
    # README 5.3: ALIVE status != 20, DIED 20, AMA 07, XFRNBA 02 05 66 82 85 94
    assert atoms.status_atoms(status) == want
    got = state_of({"pdx": "I5023", "discharge_status": status}).X
    assert got & {"ALIVE", "DIED", "AMA", "XFRNBA", "INVALID_DSTAT"} == want


@pytest.mark.parametrize("sex, mdc, atom", [("M", 11, None), ("F", 13, None), ("U", 13, "INVALID_SEX")])
def test_a_sex_dependent_principal_diagnosis_takes_its_mdc_from_the_sex(sex, mdc, atom):
    # README 4.6: N393 -> MDC 11 male, 13 female; unknown sex: INVALID_SEX (DRG 999), and the
    # female MDC is read (CMS label v431-dev2-adv-sex_dependent_mdc-11866: A562, sex U,
    # pre-MDC DRG 017 reported with MDC 13, A562's female MDC; docs/inferred-rules.md G1)
    state = state_of({"pdx": "N393", "sex": sex})
    assert state.pdx_mdc == mdc
    assert ("INVALID_SEX" in state.X) == (atom is not None)
    r = grouper.group({"version": 431, "pdx": "N393", "sex": sex, "discharge_status": 1})
    assert (r.final_drg, r.return_code) == ((999, "INVALID_SEX") if atom else (r.final_drg, "OK"))


def test_invalid_and_external_cause_principal_diagnoses():
    state = state_of({"pdx": "V9999"})
    assert "INVALID_PDX" in state.X and state.pdx_mdc == atoms.NO_MDC
    assert grouper.group({"version": 431, "pdx": "V9999"}).return_code == "INVALID_PDX"
    state = state_of({"pdx": "V0001XA"})                         # an external-cause code (table MDC 0)
    assert "PDX_ECODE" in state.X
    assert grouper.group({"version": 431, "pdx": "V0001XA"}).return_code == "DX_CANNOT_BE_PDX"


def test_significant_trauma_in_two_body_sites_is_multst():
    # README 5.3 probe: head trauma PDX + neck/chest trauma SDX -> MDC 24
    state = state_of({"pdx": "S02101B", "sdx": [["S11012A", "Y"]]})
    assert "MULTST" in state.X
    assert grouper.group({"version": 431, "pdx": "S02101B", "sdx": [["S11012A", "Y"]], "sex": "M",
                          "discharge_status": 1}).final_mdc == 24
    assert "MULTST" not in state_of({"pdx": "S02101B", "sdx": [["S02102B", "Y"]]}).X   # one site twice


def test_only_normal_newborn_diagnoses_make_only_incident():
    assert "ONLY:incident" in state_of({"pdx": "Z3800"}).X
    assert "ONLY:incident" in state_of({"pdx": "Z3800", "sdx": [["J340", "Y"]]}).X       # J340 is "incident" too
    assert "ONLY:incident" not in state_of({"pdx": "Z3800", "sdx": [["I10", "Y"]]}).X
    # the secondary-dx operand "falls through the newborn logic" when some SDX is not a newborn code
    assert atoms.FALLTHROUGH in state_of({"pdx": "Z3800", "sdx": [["I10", "Y"]]}).S
    assert atoms.FALLTHROUGH not in state_of({"pdx": "Z3800", "sdx": [["J340", "Y"]]}).S


@pytest.mark.parametrize("procedures, true, false", [
    # README 5.3 probes: vessel1+vessel3 -> four vessels; vessel1+vessel2 -> not; one vessel4 code -> four
    (["02703ZZ", "02723ZZ"], {"FOUR_VESSELS"}, {"FOUR_STENTS"}),
    (["02703ZZ", "02713ZZ"], set(), {"FOUR_VESSELS"}),
    (["0273346"], {"FOUR_VESSELS"}, {"FOUR_STENTS"}),
    # stents: stent2+stent2 -> four; stent1+stent2 -> not; the kind counters count their kind only
    (["0270356", "027035Z"], {"FOUR_STENTS", "FOUR_DRUG_ELUTING_STENTS"}, {"FOUR_NON_DRUG_ELUTING_STENTS"}),
    (["02703E6", "02703EZ"], {"FOUR_STENTS", "FOUR_NON_DRUG_ELUTING_STENTS"}, {"FOUR_DRUG_ELUTING_STENTS"}),
    (["0270356", "02703EZ"], {"FOUR_STENTS"}, {"FOUR_DRUG_ELUTING_STENTS", "FOUR_NON_DRUG_ELUTING_STENTS"}),
    (["0270346", "027035Z"], set(), {"FOUR_STENTS"}),
    # bilateral: two different joints (right and left hip), not the same joint twice
    (["0SR9019", "0SRB019"], {"BILATERAL"}, set()),
    (["0SR9019", "0SR901A"], set(), {"BILATERAL"}),
    # spinal fusions: two anterior single-level fusions; two posterior (sglpostfuse1) ones
    (["0RG6070", "0RG607J"], {"SGLANTCTR", "MULTFUSE"}, {"SGLPOSTFUSECTR", "SINGLEFUSIONCTR"}),
    (["0RG6071", "0RG60J1"], {"SGLPOST1CTR", "SGLPOSTFUSECTR", "MULTFUSE"}, {"SGLANTCTR", "SINGLEFUSIONCTR"}),
    # one anterior and two posterior: three single-level fusions of both kinds
    (["0RG6070", "0RG6071", "0RG60J1"], {"SINGLEFUSIONCTR"}, {"SGLANTCTR"}),
    (["0RG6070", "0RG6071"], set(), {"SINGLEFUSIONCTR", "MULTFUSE"}),
])
def test_procedure_counters(procedures, true, false):
    X = state_of({"pdx": "I2510", "procedures": procedures}).X
    assert true <= X, f"{procedures}: {sorted(true - X)} not set"
    assert not (false & X), f"{procedures}: {sorted(false & X)} set"


def test_the_special_atoms_are_the_ones_the_cms_formula_language_names():
    # README 5.3, the table of atoms (written out here, not taken from the code)
    assert atoms.SPECIAL_ATOMS == {
        "ALIVE", "DIED", "AMA", "XFRNBA", "ORPROC", "ANYDX", "ERRORDRG", "BILATERAL", "MULTST", "FOUR_VESSELS",
        "FOUR_STENTS", "FOUR_DRUG_ELUTING_STENTS", "FOUR_NON_DRUG_ELUTING_STENTS", "MULTFUSE", "SINGLEFUSIONCTR",
        "SGLANTCTR", "SGLPOST1CTR", "SGLANTSECTXCTR", "SGLPOSTFUSECTR", "MDC_20_FALL_THRU", "INVALID_PDX",
        "INVALID_SEX", "INVALID_DSTAT", "PDX_ECODE"}


def test_counter_rules_hold_on_ints_and_on_columns_alike():
    for c in atoms.COUNTERS:
        totals = list(range(9))
        presence = [0, (1 << len(c.each)) - 1, 1]
        for t in totals:
            for p in presence:
                col = c.holds(np.array([t], dtype=np.uint8 if c.distinct else np.int64), np.array([p]))
                assert bool(col[0]) == bool(c.holds(t, p)), (c.atom, t, p)


# ------------------------------------------------------------------ per-claim mask == batch row

COUNTED = ["02703ZZ", "02723ZZ", "02713ZZ", "0273346", "0270356", "027035Z", "02703E6", "02703EZ", "0270346",
           "0SR9019", "0SRB019", "0RG6070", "0RG607J", "0RG6071", "0RG60J1", "0JH606Z", "02HK3JZ", "0JH806Z",
           "02HN3MZ"]
TRAUMA_NEWBORN = ["S02101B", "S11012A", "S02102B", "Z3800", "J340", "N393", "V0001XA", "I462", "V9999"]
SPECIAL_DX = st.one_of(st.sampled_from(DX), st.sampled_from(TRAUMA_NEWBORN))      # half of them special
rich_claims = st.fixed_dictionaries({
    "version": st.sampled_from([400, 401, 410, 411, 420, 421, 430, 431]),
    "pdx": SPECIAL_DX,
    "sdx": st.lists(st.tuples(SPECIAL_DX, st.sampled_from(["Y", "N", "U", "W", "", "1"])).map(list), max_size=6),
    "procedures": st.lists(st.one_of(st.sampled_from(PR), st.sampled_from(COUNTED)), max_size=8),
    "sex": st.sampled_from(["M", "F", "U", 3]),
    "discharge_status": st.sampled_from([1, 2, 5, 7, 20, 30, 66, 82, 0, None, "x"]),
    "hospital_status": st.sampled_from(["NOT_EXEMPT", "EXEMPT", "UNKNOWN"]),
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(claims, rich_claims), min_size=1, max_size=25))
def test_the_batch_feature_row_of_any_claim_is_its_per_claim_feature_mask(batch):
    cols = Columns.from_records(batch, tables=TS)
    for v in [v for v in np.unique(cols.version).tolist() if v > 0]:
        idx = np.flatnonzero(cols.version == v)
        pre = preprocess_columns(vector_tables(compiled(TS, v)), cols.batch(idx))
        for k, i in enumerate(idx.tolist()):
            state = preprocess(compiled(TS, v), read(batch[i], TS).claim)
            assert bool(pre.fallback[k]) == state.clustered, batch[i]
            if state.clustered:
                continue            # a formed cluster hides components per list: the per-claim engine groups it
            assert mask_of(pre.words[k]) == state.mask(PRE_MDC), batch[i]
            assert pre.pdx_mdc[k] == state.pdx_mdc, batch[i]
