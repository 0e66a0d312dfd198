"""A value pandas or numpy uses for "missing" reads as missing, in every field, as JSON's null does.

``df.to_dict("records")`` and ``df.iloc[i].to_dict()`` give NaN (or ``pd.NA``, ``NaT``) where a cell
is empty, and list cells of a Parquet file come back as numpy arrays.  NaN was read as a value: an
admitting diagnosis "nan" (admit_dx_flag DX_INVALID instead of DX_NOT_GIVEN, warning
INVALID_ADMIT_DX), a sex / age / discharge status "not valid" instead of missing, a version or
discharge date "not a version"; ``pd.NA`` and ``NaT`` raised TypeError from inside the reader; a
claim whose secondary diagnoses were a numpy array raised ValueError when its warnings were read.
The expected value of each case is the same claim with None, or with plain lists: what JSON
lines give.
"""
import json

import pytest

import grouper
from grouper import ClaimError

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")

from conftest import ROOT, read_jsonl  # noqa: E402

CLAIM = {"id": "x", "discharge_date": "2026-05-10", "age": 70, "sex": "M", "discharge_status": 1, "pdx": "I5022",
         "pdx_poa": "Y", "admit_dx": "I5022", "admit_dx_poa": "Y", "sdx": [["J9601", "Y"], ["E1165", "Y"]],
         "procedures": ["0SR9019"], "hospital_status": "NOT_EXEMPT"}
MISSING = {"nan": float("nan"), "numpy nan": np.float32("nan"), "pd.NA": pd.NA, "pd.NaT": pd.NaT,
           "numpy NaT": np.datetime64("NaT")}


def _outcome(claim):
    try:
        return grouper.group(claim, details=True).to_dict()
    except ClaimError as exc:
        return ("ClaimError", exc.code, exc.field)


@pytest.mark.parametrize("marker", sorted(MISSING))
@pytest.mark.parametrize("field", ["id", "discharge_date", "age", "sex", "discharge_status", "pdx", "pdx_poa",
                                   "admit_dx", "admit_dx_poa", "sdx", "procedures", "hospital_status"])
def test_a_missing_marker_reads_as_null(field, marker):
    claim = dict(CLAIM, **{field: MISSING[marker]})
    if field == "discharge_date":
        claim["version"] = 431          # the claim still has a version: it groups
    want = _outcome(dict(claim, **{field: None}))
    assert _outcome(claim) == want, f"field {field} = {marker}"


@pytest.mark.parametrize("marker", sorted(MISSING))
def test_a_missing_version_and_date_says_no_version(marker):
    claim = dict(CLAIM, discharge_date=MISSING[marker], version=MISSING[marker])
    want = _outcome(dict(CLAIM, discharge_date=None, version=None))
    assert want[:2] == ("ClaimError", "NO_VERSION")
    assert _outcome(claim) == want


def test_lists_given_as_numpy_arrays_read_as_lists():
    arrays = dict(CLAIM, sdx=np.array(CLAIM["sdx"], dtype=object), procedures=np.array(CLAIM["procedures"]))
    assert _outcome(arrays) == _outcome(CLAIM)
    empty = dict(CLAIM, sdx=np.array([], dtype=object), procedures=np.array([], dtype=object))
    assert _outcome(empty) == _outcome(dict(CLAIM, sdx=[], procedures=[]))


def test_rows_of_a_dataframe_read_from_parquet_group_as_the_json_lines_claims(tmp_path):
    pa = pytest.importorskip("pyarrow")
    from pyarrow import parquet
    claims = [{k: v for k, v in c.items() if k != "expected"}
              for c in read_jsonl(ROOT / "tests" / "data" / "oracle_sample.jsonl.gz")[:400]]
    keys = list(dict.fromkeys(k for c in claims for k in c))
    # every claim as the JSON-lines schema holds it, sdx as [code, poa] lists
    path = tmp_path / "claims.parquet"
    parquet.write_table(pa.Table.from_pydict({k: [c.get(k) for c in claims] for k in keys}), path)
    df = pd.read_parquet(path)
    for i, c in enumerate(claims):
        row = df.iloc[i].to_dict()
        want = _outcome({k: c.get(k) for k in keys})
        assert _outcome(row) == want, f"claim {c.get('id')} (row {i})"
    # and group_batch on the records
    got = grouper.group_batch(df.to_dict("records"))
    want = grouper.group_batch([{k: c.get(k) for k in keys} for c in claims])
    assert got.final_drg.tolist() == want.final_drg.tolist()
    assert json.dumps(list(got.return_code)) == json.dumps(list(want.return_code))
