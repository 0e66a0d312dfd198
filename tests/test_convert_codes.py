"""Regrouping a claim under another version with its codes converted (``convert_codes`` of
group / group_batch, ``group --convert-codes``, ``audit --regroup-under``).  Every case is
picked from the conversion tables' own rows; the expected grouping is that of the same claim
written with the replacement code."""
import json
import subprocess
import sys

import pytest

import grouper
from grouper.finance.audit import audit_claim

from conftest import ROOT
from conversion_rows import one_to_one_deleted_in_fy2025, split_in_fy2026

OLD_DX, NEW_DX = one_to_one_deleted_in_fy2025("dx")        # valid in v41.1, replaced in FY2025
OLD_PR, NEW_PR = one_to_one_deleted_in_fy2025("pr")
SPLIT_DX, SPLIT_INTO = split_in_fy2026("dx")                # valid in v42.1, split in FY2026

# a FY2024 stay (v41.1 in force on 2024-05-01) coded with the old codes
FY2024_CLAIM = {"id": "c24", "discharge_date": "2024-05-01", "pdx": "I5022", "sdx": [["J9601", "Y"], [OLD_DX, "Y"]],
                "procedures": [OLD_PR], "sex": "M", "age": 70, "discharge_status": 1}


def conversion_warnings(r):
    return [w for w in r.warnings if w.code == "CODE_CONVERSION"]


def test_a_code_deleted_in_fy2025_is_replaced_when_regrouping_a_fy2024_claim_under_v44():
    r = grouper.group(FY2024_CLAIM, version="44.0", convert_codes=True)
    assert r.version == 440
    assert [d.code for d in r.sdx] == ["J9601", NEW_DX] and [p.code for p in r.procedures] == [NEW_PR]
    assert r.sdx[1].recognized and r.procedures[0].recognized
    ws = conversion_warnings(r)
    assert [(w.field, w.value) for w in ws] == [("sdx[2]", OLD_DX), ("procedures[1]", OLD_PR)]
    assert f"{OLD_DX} converted to {NEW_DX}" in ws[0].message and f"{OLD_PR} converted to {NEW_PR}" in ws[1].message
    assert "CODE_OTHER_VERSION" not in {w.code for w in r.warnings}
    # the same claim coded with the replacements groups identically (but for the warnings)
    written = dict(FY2024_CLAIM, sdx=[["J9601", "Y"], [NEW_DX, "Y"]], procedures=[NEW_PR])
    expected = grouper.group(written, version="44.0").to_dict()
    got = r.to_dict()
    assert {k: v for k, v in got.items() if k != "warnings"} == {k: v for k, v in expected.items() if k != "warnings"}


def test_without_the_option_the_old_codes_stay_and_are_not_recognised():
    r = grouper.group(FY2024_CLAIM, version="44.0")
    assert [d.code for d in r.sdx][1] == OLD_DX and not r.sdx[1].recognized and not r.procedures[0].recognized
    assert not conversion_warnings(r)
    assert {w.field for w in r.warnings if w.code == "CODE_OTHER_VERSION"} == {"sdx[2]", "procedures[1]"}


def test_a_replacement_code_is_converted_back_when_regrouping_under_an_older_version():
    claim = dict(FY2024_CLAIM, discharge_date="2025-05-01", sdx=[["J9601", "Y"], [NEW_DX, "Y"]],
                 procedures=[NEW_PR])
    r = grouper.group(claim, version="41.1", convert_codes=True)
    assert [d.code for d in r.sdx] == ["J9601", OLD_DX] and [p.code for p in r.procedures] == [OLD_PR]
    assert [w.value for w in conversion_warnings(r)] == [NEW_DX, NEW_PR]


def test_codes_valid_in_both_versions_are_not_touched():
    claim = {"discharge_date": "2024-05-01", "pdx": "I5022", "sdx": [["J9601", "Y"], ["i10", "Y"]], "sex": "M",
             "discharge_status": 1}
    r = grouper.group(claim, version="44.0", convert_codes=True)
    assert not conversion_warnings(r)
    assert [d.code for d in r.sdx] == ["J9601", "i10"]      # spelling too: conversion is not normalize
    assert r.final_drg == grouper.group(claim, version="44.0").final_drg


def test_a_code_split_in_several_is_kept_as_written_with_a_warning_listing_the_candidates():
    claim = {"id": "s", "discharge_date": "2025-05-01", "pdx": "I5022", "sdx": [[SPLIT_DX, "Y"]], "sex": "M",
             "discharge_status": 1}
    r = grouper.group(claim, version="44.0", convert_codes=True)
    assert r.sdx[0].code == SPLIT_DX and not r.sdx[0].recognized
    (w,) = conversion_warnings(r)
    assert (w.field, w.value) == ("sdx[1]", SPLIT_DX)
    assert all(c in w.message for c in SPLIT_INTO) and "none chosen" in w.message and "kept as written" in w.message


def test_without_a_discharge_date_or_version_of_its_own_nothing_is_converted():
    claim = {"pdx": "I5022", "sdx": [[OLD_DX, "Y"]]}                   # only the override names a version
    r = grouper.group(claim, version="44.0", convert_codes=True)
    assert r.sdx[0].code == OLD_DX and not conversion_warnings(r)
    # a claim's own version is a code set to convert from
    r = grouper.group({**claim, "version": "41.1"}, version="44.0", convert_codes=True)
    assert r.sdx[0].code == NEW_DX and len(conversion_warnings(r)) == 1


def test_group_batch_converts_as_group_does_and_lists_the_conversions_per_row():
    claims = [FY2024_CLAIM, {"id": "s", "discharge_date": "2025-05-01", "pdx": "I5022", "sdx": [[SPLIT_DX, "Y"]]},
              {"id": "same", "discharge_date": "2024-05-01", "pdx": "I5022"}, {"id": "bad", "pdx": 3}]
    with pytest.warns(UserWarning):                                   # v44.0 has no FY2027 weights
        out = grouper.group_batch(claims, version="44.0", convert_codes=True, details=True)
    for i, c in enumerate(claims[:3]):
        r = grouper.group(c, version="44.0", convert_codes=True)
        assert out[i]["final_drg"] == r.final_drg and out.details[i].to_dict() == r.to_dict(), c["id"]
        assert out.conversions[i] == [w.to_dict() for w in conversion_warnings(r)], c["id"]
    assert [len(x) for x in out.conversions] == [2, 1, 0, 0] and out.error[3] == "PDX_NOT_TEXT"
    with pytest.raises(ValueError, match="convert_codes"):
        grouper.group_batch(grouper.Columns.from_records(claims), convert_codes=True)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "grouper", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True)


@pytest.mark.parametrize("detail", ["full", "summary"])
def test_group_cli_convert_codes(tmp_path, detail):
    src, out = tmp_path / "claims.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps(FY2024_CLAIM) + "\n")
    r = _cli("group", src, "-o", out, "--version", "44.0", "--convert-codes", "--detail", detail, "--quiet")
    assert r.returncode == 0, r.stderr
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    expected = grouper.group(FY2024_CLAIM, version="44.0", convert_codes=True)
    assert row["version"] == "44.0" and row["final_drg"] == expected.final_drg
    assert [w for w in row["warnings"] if w["code"] == "CODE_CONVERSION"] == \
        [w.to_dict() for w in conversion_warnings(expected)]


def test_audit_regroup_under_converts_codes_and_lists_the_conversions():
    billed = grouper.group(dict(FY2024_CLAIM, sdx=[["J9601", "Y"], [NEW_DX, "Y"]], procedures=[NEW_PR]),
                           version="44.0").final_drg
    row = audit_claim({**FY2024_CLAIM, "billed_drg": billed}, regroup_under="44.0")
    assert (row.version, row.version_in_force, row.regrouped_drg, row.match) == (440, 411, billed, True)
    assert f"{OLD_DX} -> {NEW_DX}" in row.reason and f"{OLD_PR} -> {NEW_PR}" in row.reason
    assert len(row.conversions) == 2 and NEW_DX in row.conversions[0]
    assert row.weight_difference is None             # FY2027 has no weights: no difference invented
    # the audit of the same claim under the version in force converts nothing
    plain = audit_claim({**FY2024_CLAIM, "billed_drg": billed})
    assert plain.version == 411 and plain.conversions == () and plain.version_in_force is None


def test_audit_cli_regroup_under(tmp_path):
    src, out = tmp_path / "claims.jsonl", tmp_path / "audit.jsonl"
    src.write_text(json.dumps({**FY2024_CLAIM, "billed_drg": 291}) + "\n")
    r = _cli("audit", src, "-o", out, "--regroup-under", "44.0", "--quiet")
    assert r.returncode == 0, r.stderr
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["version"] == "44.0" and row["version_in_force"] == "41.1" and len(row["conversions"]) == 2
    r = _cli("audit", src, "-o", out, "--regroup-under", "45.0")
    assert r.returncode == 2 and "--regroup-under" in r.stderr and "45.0" in r.stderr
