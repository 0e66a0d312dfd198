"""Grouping DataFrames beyond one machine (grouper.integrations): on a Dask LocalCluster (two
worker processes) and a local SparkSession, every output row is the input row plus the result
of grouper.group() on the same claim, field by field, and CMS's label of the claim; no row is
lost or moved; a claim that cannot be grouped gives its error code in its row, the job runs on.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from functools import cache

import pytest

import grouper
from grouper.integrations.batches import OPTIONS, output_names, tables_for, worker_options

from conftest import ROOT, SAMPLE, read_jsonl
from oracle_compare import TOP

HAVE_DASK = all(importlib.util.find_spec(m) for m in ("dask", "distributed", "pandas", "pyarrow"))
HAVE_SPARK = all(importlib.util.find_spec(m) for m in ("pyspark", "pandas", "pyarrow"))
needs_dask = pytest.mark.skipif(
    not HAVE_DASK, reason="the 'dask' extra is not installed: pip install 'grouper[dask]' (dask[distributed], pandas, "
                          "pyarrow)")
needs_spark = pytest.mark.skipif(
    not HAVE_SPARK, reason="the 'spark' extra is not installed: pip install 'grouper[spark]' (pyspark, pandas, "
                           "pyarrow)")

#: the result columns of a grouped row (grouper.group_arrow's names) and how grouper.group()'s
#: Result spells each (``version`` as its label, "43.1")
RESULT_FIELDS = ("version", "initial_drg", "initial_mdc", "final_drg", "final_mdc", "initial_base_drg",
                 "final_base_drg", "num_hac_categories_satisfied", "return_code", "initial_return_code",
                 "initial_med_surg", "final_med_surg", "initial_severity", "final_severity", "initial_claim_severity",
                 "final_claim_severity", "hac_status", "weight", "gmlos", "amlos", "final_drg_description")

#: the input columns renamed in the output (the result has a column of the name)
INPUT_NAMES = {"version": "input_version"}

#: claims that cannot be grouped, with the error each must carry in its row (grouper.group()
#: raises ClaimError with this code for each)
BAD = [({"id": "bad-version", "version": 999, "pdx": "I5022"}, "UNKNOWN_VERSION"),
       ({"id": "bad-no-version", "pdx": "I5022"}, "NO_VERSION"),
       ({"id": "bad-date", "pdx": "I5022", "discharge_date": "2024-13-45"}, "BAD_DATE")]


#: the sample's claims of these versions: two versions' tables to load in each worker process
#: (every version against every labelled claim is tests/test_batch.py's check; here the
#: partitions, batches and types are the point, and the test's time)
VERSIONS = (430, 431)


@cache
def _claims() -> tuple[list[dict], dict]:
    """The committed sample's claims of VERSIONS (sdx as {code, poa}: the documented Arrow
    schema), a bad claim after every 2,000th; and CMS's label of each sample claim by id."""
    claims, labels = [], {}
    for k, c in enumerate(c for c in read_jsonl(SAMPLE) if c["version"] in VERSIONS):
        labels[c["id"]] = c["expected"]
        claim = {f: v for f, v in c.items() if f not in ("expected", "scenario")}
        claim["sdx"] = [{"code": code, "poa": poa} for code, poa in claim["sdx"]]
        for f in ("sex", "discharge_status"):       # a few are given as numbers, a few as text: text columns
            claim[f] = None if claim[f] is None else str(claim[f])
        claims.append(claim)
        if k % 2000 == 1999:
            bad = BAD[(k // 2000) % len(BAD)][0]
            claims.append(dict(bad, id=f"{bad['id']}-{k}"))
    return claims, labels


def _arrow_claims():
    import pyarrow as pa
    schema = pa.schema([("id", pa.string()), ("version", pa.int32()), ("discharge_date", pa.string()),
                        ("pdx", pa.string()), ("pdx_poa", pa.string()), ("admit_dx", pa.string()),
                        ("admit_dx_poa", pa.string()),
                        ("sdx", pa.list_(pa.struct([("code", pa.string()), ("poa", pa.string())]))),
                        ("procedures", pa.list_(pa.string())), ("age", pa.int32()), ("sex", pa.string()),
                        ("discharge_status", pa.string()), ("hospital_status", pa.string())])
    return pa.Table.from_pylist(_claims()[0], schema=schema)


@cache
def _expected() -> list[dict]:
    """grouper.group() of each claim: its result fields, or its error code."""
    out = []
    for c in _claims()[0]:
        try:
            r = grouper.group(c)
        except grouper.ClaimError as exc:
            out.append({"error_code": exc.code, **dict.fromkeys(RESULT_FIELDS)})
            continue
        want = {f: _plain(getattr(r, f)) for f in RESULT_FIELDS}
        want["version"] = f"{r.version // 10}.{r.version % 10}"
        out.append({"error_code": None, **want})
    return out


def _plain(v):
    """A value as grouper.group() gives it: NaN and NA as None, numbers as numbers, text as text."""
    if v is None or type(v).__name__ in ("NAType", "NaTType") or v != v:
        return None
    if isinstance(v, (int, float)) or type(v).__module__ == "numpy":
        return v.item() if hasattr(v, "item") else v
    return str(v)


def _check_rows(rows: list[dict]) -> None:
    """Each output row against the input claim at its place: the same id and input columns,
    grouper.group()'s result, CMS's label; the error code of each bad claim."""
    claims, labels = _claims()
    assert len(rows) == len(claims), f"{len(claims)} claims in, {len(rows)} rows out"
    bad = []
    for i, (claim, row, want) in enumerate(zip(claims, rows, _expected())):
        if row["id"] != claim["id"]:
            raise AssertionError(f"row {i}: claim {row['id']} where {claim['id']} was (rows lost or moved)")
        if _plain(row["pdx"]) != claim["pdx"] or _plain(row["input_version"]) != claim.get("version"):
            bad.append(f"{claim['id']}: the input columns changed")
        for f in ("error_code", *RESULT_FIELDS):
            got = _plain(row[f])
            if got != want[f]:
                bad.append(f"{claim['id']}.{f}: grouper.group() gives {want[f]!r}, the DataFrame {got!r}")
        label = labels.get(claim["id"])
        for f in TOP:
            if label is not None and f in row and label[f] != _plain(row[f]):
                bad.append(f"{claim['id']}.{f}: CMS gives {label[f]!r}, the DataFrame {row[f]!r}")
    assert not bad, f"{len(bad)} differences:\n" + "\n".join(bad[:30])
    errors = {r["id"].rsplit("-", 1)[0]: r["error_code"] for r in rows if r["id"].startswith("bad-")}
    assert errors == {c["id"]: code for c, code in BAD}


# ---------------------------------------------------------------- shared by both


def test_an_input_column_named_like_a_result_column_is_kept_as_input_name():
    assert output_names(["id", "version", "pdx"], ["version", "final_drg", "error"]) == ["id", "input_version", "pdx"]
    assert output_names(["error", "input_error"], ["error"]) == ["input_error", "input_input_error"]


def test_options_are_checked_on_the_driver_and_the_tables_travel_as_their_folder():
    with pytest.raises(TypeError, match="unknown option detail"):
        worker_options({"detail": True})
    with pytest.raises(ValueError, match="details=True"):
        worker_options({"details": True})
    tables = grouper.tables.TableSet(ROOT / "tables")
    sent = worker_options({"tables": tables, "version": 431})
    assert sent == {"tables": str(ROOT / "tables"), "version": 431}
    assert set(sent) <= set(OPTIONS)


def test_a_worker_process_loads_a_tables_folder_once():
    folder = str(ROOT / "tables")
    assert tables_for(folder) is tables_for(folder)


# ---------------------------------------------------------------- Dask


@pytest.fixture(scope="module")
def dask_client():
    if not HAVE_DASK:
        pytest.skip("the 'dask' extra is not installed")
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client


@needs_dask
def test_dask_workers_run_this_checkout(dask_client):
    where = dask_client.run(lambda: __import__("grouper").__file__)
    assert len(where) == 2
    assert set(where.values()) == {grouper.__file__}


@needs_dask
@pytest.mark.filterwarnings("ignore:Sending large graph")
def test_dask_every_row_is_grouper_group_of_its_claim_in_place(dask_client):
    import dask.dataframe as dd
    import pandas as pd
    import pyarrow as pa

    from grouper.integrations.dask import group_dataframe
    table = _arrow_claims()
    frame = table.to_pandas(types_mapper=lambda t: pd.ArrowDtype(t) if pa.types.is_list(t) else None)
    ddf = dd.from_pandas(frame, npartitions=4)
    out = group_dataframe(ddf)
    got = out.compute()
    assert list(got.dtypes.items()) == list(out._meta.dtypes.items()), "the partitions' dtypes differ from meta"
    assert list(got.columns[:len(table.column_names)]) == [INPUT_NAMES.get(n, n) for n in table.column_names]
    assert got.index.tolist() == ddf.index.compute().tolist()
    _check_rows(got.to_dict("records"))


@needs_dask
def test_dask_reads_claims_from_parquet(dask_client, tmp_path):
    import dask.dataframe as dd
    import pyarrow.parquet as pq

    from grouper.integrations.dask import group_dataframe
    pq.write_table(_arrow_claims().slice(0, 3000), tmp_path / "claims.parquet", row_group_size=700)
    ddf = dd.read_parquet(tmp_path / "claims.parquet", split_row_groups=True)
    assert ddf.npartitions > 1
    got = group_dataframe(ddf).compute()
    want = _expected()[:3000]
    assert [_plain(d) for d in got["final_drg"]] == [w["final_drg"] for w in want]
    assert got["id"].tolist() == [c["id"] for c in _claims()[0][:3000]]


@needs_dask
def test_dask_refuses_code_lists_read_as_text(dask_client):
    import dask
    import dask.dataframe as dd
    import pandas as pd

    from grouper.integrations.dask import group_dataframe
    with dask.config.set({"dataframe.convert-string": True}):
        ddf = dd.from_pandas(pd.DataFrame([{"pdx": "I5022", "sdx": [["J9601", "Y"]], "version": 431}]),
                             npartitions=1)
    with pytest.raises(ValueError, match="'sdx' has the text dtype"):
        group_dataframe(ddf)


@needs_dask
def test_dask_and_spark_name_the_dataframe_they_take():
    import pandas as pd

    from grouper.integrations import dask, spark
    frame = pd.DataFrame({"pdx": ["I5022"], "version": [431]})
    for module in (dask, spark):
        with pytest.raises(TypeError, match="takes a (Dask|Spark) DataFrame, got DataFrame"):
            module.group_dataframe(frame)


@needs_dask
def test_dask_edits_add_the_mce_columns(dask_client):
    import dask.dataframe as dd
    import pandas as pd

    from grouper.integrations.dask import group_dataframe
    claims = [{"id": "c1", "pdx": "I5022", "sex": "M", "age": 70, "discharge_status": 1,
               "discharge_date": "2025-01-15", "los": 3},
              {"id": "c2", "pdx": "O80", "sex": "M", "age": 70, "discharge_status": 1,
               "discharge_date": "2025-01-15", "los": 3}]
    got = group_dataframe(dd.from_pandas(pd.DataFrame(claims), npartitions=2), edits=True).compute()
    for row, claim in zip(got.to_dict("records"), claims):
        e = grouper.edit(claim)
        assert row["mce_edit_type"] == e.edit_type, claim["id"]
        counts = {k[len("mce_"):]: v for k, v in row.items() if k.startswith("mce_") and k not in
                  ("mce_edit_type", "mce_error", "mce_error_message")}
        assert {k: v for k, v in counts.items() if v} == e.edits, claim["id"]
    assert got["mce_AGE_CONFLICT"].tolist() == [0, 1]        # a delivery (O80) at 70: outside the maternity ages


@needs_dask
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_dask_convert_codes_adds_each_rows_conversions(dask_client):
    import dask.dataframe as dd
    import pandas as pd

    from grouper.integrations.dask import group_dataframe
    claims = [{"id": "c1", "pdx": "B880", "discharge_date": "2024-05-01"},
              {"id": "c2", "pdx": "I5022", "discharge_date": "2024-05-01"}]
    got = group_dataframe(dd.from_pandas(pd.DataFrame(claims), npartitions=1), version="44.0",
                          convert_codes=True).compute()
    for row, claim in zip(got.to_dict("records"), claims):
        r = grouper.group(claim, version="44.0", convert_codes=True)
        want = [w.to_dict() for w in r.warnings if w.code == "CODE_CONVERSION"]
        assert list(row["conversions"]) == want, claim["id"]
        assert row["final_drg"] == r.final_drg, claim["id"]
    assert [len(c) for c in got["conversions"]] == [1, 0]   # B880 split in FY2025 (B8801, B8809); I5022 unchanged


def test_a_worker_returns_grouper_group_arrows_result_columns_and_asked_warnings():
    """One columnar path: a Dask partition's or Spark batch's result columns are those
    grouper.group_arrow appends to the same table, and warnings=True adds each row's
    grouper.group() warnings."""
    pytest.importorskip("pyarrow")
    from grouper.bulk.results import RESULT_COLUMNS
    from grouper.integrations.batches import group_arrow as worker_group
    table = _arrow_claims().slice(0, 300)
    whole = grouper.group_arrow(table)
    got = worker_group(table, worker_options({"warnings": True}))
    assert got.column_names == [*RESULT_COLUMNS, "warnings"]
    for name in RESULT_COLUMNS:
        assert got.column(name).to_pylist() == whole.column(name).to_pylist(), name
    for claim, ws in zip(_claims()[0][:300], got.column("warnings").to_pylist()):
        try:
            want = [dict(w.to_dict(), value=None if w.value is None else str(w.value))
                    for w in grouper.group(claim).warnings]
        except grouper.ClaimError:
            want = []
        assert (ws or []) == want, claim["id"]


# ---------------------------------------------------------------- Spark


@pytest.fixture(scope="module")
def spark():
    if not HAVE_SPARK:
        pytest.skip("the 'spark' extra is not installed")
    from pyspark.sql import SparkSession
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "PYSPARK_PYTHON")}
    # the executors' Python workers import this checkout's grouper with this interpreter
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), str(ROOT / "tests"), saved["PYTHONPATH"]) if p)
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (SparkSession.builder.master("local[2]").appName("grouper-tests")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", "1000")
               .config("spark.sql.files.maxPartitionBytes", "256k")
               .config("spark.driver.memory", "1g")
               # a short-lived JVM: the quick JIT tier only and the serial GC start it in about half the time
               .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
               .getOrCreate())
    try:
        yield session
    finally:
        session.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@needs_spark
def test_spark_executors_run_this_checkout(spark):
    one = spark.createDataFrame([(1,)], "x int")
    where = one.mapInArrow(_where_grouper_is, "file string").collect()
    assert [r.file for r in where] == [grouper.__file__]


def _where_grouper_is(batches):
    import pyarrow as pa
    for _ in batches:
        yield pa.RecordBatch.from_pydict({"file": [__import__("grouper").__file__]})


@needs_spark
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")
def test_spark_every_row_is_grouper_group_of_its_claim_in_place(spark, tmp_path):
    import pyarrow.parquet as pq

    from grouper.integrations.spark import group_dataframe
    table = _arrow_claims()
    pq.write_table(table, tmp_path / "claims.parquet", row_group_size=3000)
    sdf = spark.read.parquet(str(tmp_path / "claims.parquet"))
    out = group_dataframe(sdf)
    got = out.toArrow()          # two partitions (local[2]) of batches of 1,000 rows: order kept across both
    assert got.schema.names == out.columns
    assert got.schema.names[:len(table.column_names)] == [INPUT_NAMES.get(n, n) for n in table.column_names]
    _check_rows(got.to_pylist())


@needs_spark
def test_spark_refuses_code_lists_read_as_text(spark):
    from grouper.integrations.spark import group_dataframe
    sdf = spark.createDataFrame([("I5022", "J9601")], "pdx string, sdx string")
    with pytest.raises(ValueError, match="'sdx' is a string"):
        group_dataframe(sdf)


def test_the_short_names_the_docs_use_are_the_integrations():
    """``grouper.dask`` / ``grouper.spark`` (docs/scale.md) are the integrations' functions, and
    importing them needs neither dask nor pyspark until a DataFrame is grouped."""
    import grouper.dask
    import grouper.integrations.dask
    import grouper.integrations.spark
    import grouper.spark
    assert grouper.dask.group_dataframe is grouper.integrations.dask.group_dataframe
    assert grouper.spark.group_dataframe is grouper.integrations.spark.group_dataframe
