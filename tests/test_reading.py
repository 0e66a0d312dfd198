"""The reading stage: every entry point reads a claim the same way, as CMS reads it.

A claim given as a dict, as a Claim, with normalize (when nothing needs cleaning), or in a
batch's columns is one claim as read: the same codes, POA, sex, discharge and hospital
status, and the same warnings.
"""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import grouper
from grouper.bulk.columns import Columns
from grouper.reading import Claim, ClaimError, claim_warnings, read, read_claim, resolve_version
from grouper.reading.values import read_poa, read_procedures, read_sdx
from grouper.tables import default

from test_properties import anything, near_clean

TS = default()


def test_values_are_read_the_way_cms_reads_them():
    # POA: blank, one of Y N U W 1 E (any case), any other single character E, longer INVALID
    assert [read_poa(x) for x in (None, "", " ", "y", "W", "1", "e", "X", "YY")] == \
        ["", "", "", "Y", "W", "1", "E", "E", "INVALID"]
    # secondary diagnoses: a code, a pair (POA Y when missing), a mapping
    assert read_sdx(["I10", ["J9601", "n"], ("N179",), {"code": "E119", "poa": "U"}]) == \
        [("I10", "Y"), ("J9601", "N"), ("N179", "Y"), ("E119", "U")]
    assert read_sdx("I10") == [("I10", "Y")]
    assert read_procedures(["0SR9019", {"code": "02703DZ"}, 7]) == ["0SR9019", "02703DZ", "7"]


@pytest.mark.parametrize("empty", ["", 0, False, {}, [], (), b"", 0.0, None])
def test_an_empty_code_field_holds_no_codes_on_every_path(empty):
    """An empty or zero field is read as no codes, from a dict, a Claim, with normalize and in a
    batch (before, a Claim read "" as one empty code while a dict read no code)."""
    d = {"version": 431, "pdx": "I5022", "sdx": empty, "procedures": empty, "sex": "M", "discharge_status": 1}
    for claim in (d, Claim.from_dict(d)):
        for normalize in (False, True):
            got = read(claim, TS, normalize=normalize).claim
            assert got.sdx == () and got.procedures == (), (claim, normalize)
    assert grouper.group(d).sdx == () and grouper.group(Claim.from_dict(d)).sdx == ()
    assert grouper.group_batch([d]).final_drg.tolist() == [grouper.group(d).final_drg]


def test_version_resolution_errors_name_the_field():
    with pytest.raises(ClaimError) as e:
        resolve_version(TS, "99.9")
    assert (e.value.code, e.value.field, e.value.value) == ("UNKNOWN_VERSION", "version", "99.9")
    with pytest.raises(ClaimError) as e:
        resolve_version(TS, None, "2019-01-01")
    assert (e.value.code, e.value.field) == ("DATE_OUT_OF_RANGE", "discharge_date")
    with pytest.raises(ClaimError) as e:
        resolve_version(TS, None, "not a date")
    assert e.value.code == "BAD_DATE"
    with pytest.raises(ClaimError) as e:
        resolve_version(TS)
    assert e.value.code == "NO_VERSION"
    assert resolve_version(TS, None, "2024-01-15") == 410          # v41.0 from October 1, 2023
    assert resolve_version(TS, "40.0", "2024-01-15", override=431) == 431


@pytest.mark.parametrize("claim, code", [
    ({"version": 431}, "MISSING_PDX"),
    ({"version": 431, "pdx": 5}, "PDX_NOT_TEXT"),
    ({"version": 431, "pdx": ["I5022"]}, "PDX_NOT_TEXT"),
    ("I5022", "NOT_A_CLAIM"),
])
def test_unreadable_claims_raise_the_same_error_on_every_path(claim, code):
    for normalize in (False, True):
        with pytest.raises(ClaimError) as e:
            read(claim, TS, normalize=normalize)
        assert e.value.code == code
    assert grouper.group_batch([claim]).error.tolist() == [code]


FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
wild = st.fixed_dictionaries({"version": st.just(431), "pdx": st.one_of(st.text(max_size=8), st.none()),
                              "sdx": anything, "procedures": anything, "sex": anything, "discharge_status": anything,
                              "hospital_status": anything, "pdx_poa": anything, "admit_dx": anything})


@FAST
@given(st.one_of(near_clean, wild))
def test_a_dict_and_the_same_claim_as_a_Claim_read_the_same(d):
    try:
        from_dict = read(d, TS)
    except ClaimError as exc:
        with pytest.raises(ClaimError) as e:
            read(Claim.from_dict(d), TS)
        assert e.value.code == exc.code
        return
    raw, got = read(Claim.from_dict(d), TS)[:2]
    assert got == from_dict.claim
    # (compared as text: a NaN value is not equal to itself).  An ENTRY_MALFORMED warning may say more
    # about a mapping's entry as given ({"x": 1}: "a mapping without 'code'") than a Claim can, whose
    # converter already read that entry as no code: for it, code and field must agree.
    def shown(warnings):
        return [(w.code, w.field) if w.code == "ENTRY_MALFORMED" else repr(w) for w in warnings]
    assert shown(claim_warnings(d, from_dict.claim, TS)) == shown(claim_warnings(raw, got, TS))


@FAST
@given(st.lists(st.one_of(near_clean, wild), min_size=1, max_size=20))
def test_batch_columns_hold_each_claim_as_the_per_claim_reading_reads_it(claims):
    cols = Columns.from_records(claims, tables=TS)
    for i, d in enumerate(claims):
        try:
            one = read(d, TS).claim
        except ClaimError as exc:
            assert cols.error[i].code == exc.code
            continue
        a, z = cols.sdx_off[i], cols.sdx_off[i + 1]
        p, q = cols.pr_off[i], cols.pr_off[i + 1]
        assert cols.version[i] == one.version and cols.pdx[i] == one.pdx and cols.pdx_poa[i] == one.pdx_poa
        assert tuple(zip(cols.sdx_codes[a:z], cols.sdx_poa[a:z])) == one.sdx
        assert tuple(cols.pr_codes[p:q]) == one.procedures
        assert cols.sex[i] == one.sex
        assert cols.dstat[i] == (-1 if one.discharge_status is None else one.discharge_status)
        assert cols.admit_dx[i] == one.admit_dx


def test_normalize_reports_each_cleaned_code_once():
    d = {"version": 431, "pdx": "i50.22", "sdx": [[" J96.01", "y"]], "procedures": ["0sr9019"], "age": 70,
         "sex": "M", "discharge_status": 1}
    raw, got, changes = read(d, TS, normalize=True)[:3]
    assert got.pdx == "I5022" and got.sdx == (("J9601", "Y"),) and got.procedures == ("0SR9019",)
    normalized = [(w.field, w.value) for w in grouper.group(d, normalize=True).warnings if w.code == "CODE_NORMALIZED"]
    assert normalized == [("pdx", "i50.22"), ("sdx[1]", " J96.01"), ("procedures[1]", "0sr9019")]
    assert read_claim(raw, 431) == got
