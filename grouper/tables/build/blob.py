"""The CMS grouper data blob -> the code universe and one table file per grouper version.

Input, exactly as CMS ships it: ``msdrg_combined.bin`` or the jar that holds it
(``runtime_buffers/msdrg_combined.bin`` in ``msdrg-binary-access-*.jar``), a protobuf
message decoded with the schema of :mod:`grouper.tables.build.schema`.  Output:
``codes.tbl`` (code universe), ``common.tbl`` (attribute patterns, CC-exclusion lists)
and one ``vNNN.tbl`` per grouper version (see ``docs/tables.md``).
"""
from __future__ import annotations

import io
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

from .. import container
from .common import BuildError

BLOB_ENTRY = "runtime_buffers/msdrg_combined.bin"

# ----------------------------------------------------------------- sources


def read_blob_bytes(path: Path) -> tuple[bytes, str]:
    """The blob bytes from a bare .bin or from a jar/zip; also says where it came from."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BuildError(f"{path}: cannot read ({exc.strerror})") from None
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = zf.namelist()
                if BLOB_ENTRY not in names:
                    raise BuildError(
                        f"{path}: this jar/zip has no {BLOB_ENTRY} (it is not the CMS "
                        f"msdrg-binary-access jar; {len(names)} entries)")
                return zf.read(BLOB_ENTRY), f"{path.name}!{BLOB_ENTRY}"
        except zipfile.BadZipFile as exc:
            raise BuildError(f"{path}: damaged jar/zip ({exc})") from None
    return data, path.name


def parse_blob(data: bytes, name: str):
    from google.protobuf.message import DecodeError

    from .schema import blob_class

    blob = blob_class()()
    try:
        blob.ParseFromString(data)
    except DecodeError as exc:
        raise BuildError(f"{name}: not a complete CMS grouper data blob "
                         f"(protobuf decoding failed: {exc}; truncated or damaged file?)") from None
    missing = [f for f in ("diagnoses", "procedures", "drg_formulas", "dx_attribute_patterns",
                           "pr_attribute_patterns", "drg_titles") if not blob.HasField(f)]
    if missing:
        raise BuildError(f"{name}: not a CMS grouper data blob (missing tables: {', '.join(missing)})")
    if blob.ByteSize() != len(data):
        raise BuildError(f"{name}: blob decodes to {blob.ByteSize()} bytes but the file has "
                         f"{len(data)}; unknown fields: has CMS changed the schema?")
    return blob


# ------------------------------------------------------------------ compile


def _pick(records, version):
    for r in records:
        if version in r.versions:
            return r
    return None


def versions_in(blob) -> list[int]:
    vs: set[int] = set()
    for h in blob.diagnoses.by_code.values():
        for r in h.records:
            vs.update(r.versions)
    return sorted(vs)


def _text_blob(codes: list[str]) -> np.ndarray:
    return np.frombuffer("\n".join(codes).encode("ascii"), dtype=np.uint8)


def _csr(lists: list[list[int]], dtype=np.int32) -> tuple[np.ndarray, np.ndarray]:
    off = np.zeros(len(lists) + 1, dtype=np.int32)
    off[1:] = np.cumsum([len(x) for x in lists], dtype=np.int64)
    flat = np.array([v for x in lists for v in x], dtype=dtype)
    return off, flat


def pattern_numbers(blob):
    """Attribute patterns numbered by their content: the distinct attribute lists the
    diagnosis (attributes, HAC operands, dx categories) and procedure records use, sorted,
    numbered from 1 (0 = no attributes).  A source's own numbers are interning details
    (msdrg's form numbers 13 procedure patterns differently from CMS's blob), so the tables
    do not depend on them.  Returns ({source number: our number} for dx and pr, and our
    {number: attributes} for dx and pr)."""
    def numbering(table, used, kind):
        content = {}
        for num in sorted(used):
            pat = table.by_number.get(num)
            if pat is None:
                raise BuildError(f"blob: {kind} attribute pattern {num} is used but not defined")
            content[num] = tuple(pat.attributes)
        ours = {attrs: i for i, attrs in enumerate(sorted(set(content.values())), start=1)}
        return ({0: 0, **{num: ours[attrs] for num, attrs in content.items()}},
                {i: list(attrs) for attrs, i in ours.items()})

    dx_used, pr_used = set(), set()
    for hist in blob.diagnoses.by_code.values():
        for r in hist.records:
            dx_used.update(n for n in (r.attr_pattern, r.hac_attr_pattern, r.dxcat_attr_pattern) if n)
    for hist in blob.procedures.by_code.values():
        for r in hist.records:
            if r.attr_pattern:
                pr_used.add(r.attr_pattern)
    dx_map, dx_patterns = numbering(blob.dx_attribute_patterns, dx_used, "diagnosis")
    pr_map, pr_patterns = numbering(blob.pr_attribute_patterns, pr_used, "procedure")
    return dx_map, pr_map, dx_patterns, pr_patterns


def compile_common(blob):
    dx_codes = sorted(blob.diagnoses.by_code.keys())
    pr_codes = sorted(blob.procedures.by_code.keys())
    dx_id = {c: i for i, c in enumerate(dx_codes)}
    numbers = pattern_numbers(blob)
    _, _, dx_patterns, pr_patterns = numbers

    n_lists = max(blob.cc_exclusion_lists.by_number.keys(), default=0)
    lists = [[] for _ in range(n_lists + 1)]
    for num, lst in blob.cc_exclusion_lists.by_number.items():
        ids = []
        for c in lst.codes:
            if c not in dx_id:
                raise BuildError(f"blob: CC-exclusion list {num} names {c}, which is not a diagnosis code")
            ids.append(dx_id[c])
        lists[num] = sorted(set(ids))
    ccx_off, ccx_dx = _csr(lists)
    codes_tbl = container.dumps({"dx_text": _text_blob(dx_codes), "pr_text": _text_blob(pr_codes)},
                                {"n_dx": len(dx_codes), "n_pr": len(pr_codes)})
    common_tbl = container.dumps(
        {"ccx_off": ccx_off, "ccx_dx": ccx_dx},
        {"dx_patterns": {str(k): v for k, v in sorted(dx_patterns.items())},
         "pr_patterns": {str(k): v for k, v in sorted(pr_patterns.items())},
         "n_exclusion_lists": len(blob.cc_exclusion_lists.by_number)},
    )
    return dx_codes, pr_codes, codes_tbl, common_tbl, numbers


_SEV = {0: 2, 1: 1, 2: 0}  # CMS enum MCC=0, CC=1, NCC=2 -> ours NCC=0, CC=1, MCC=2


def _texts(table, version) -> dict[str, str]:
    out = {}
    for num in sorted(table.by_number.keys()):
        t = _pick(table.by_number[num].texts, version)
        if t is not None:
            out[str(num)] = t.text
    return out


def compile_version(blob, version: int, dx_codes: list[str], pr_codes: list[str], numbers):
    ndx, npr = len(dx_codes), len(pr_codes)
    dx_id = {c: i for i, c in enumerate(dx_codes)}
    pr_id = {c: i for i, c in enumerate(pr_codes)}
    dx_num, pr_num = numbers[0], numbers[1]
    counts: Counter = Counter()

    dx_mdc = np.full(ndx, -1, dtype=np.int8)
    dx_sev = np.zeros(ndx, dtype=np.int8)
    dx_attr = np.zeros(ndx, dtype=np.uint16)
    dx_hac = np.zeros(ndx, dtype=np.uint16)
    dx_dxcat = np.zeros(ndx, dtype=np.uint16)
    for code, hist in blob.diagnoses.by_code.items():
        r = _pick(hist.records, version)
        if r is None:
            continue
        if not r.HasField("severity"):
            raise BuildError(f"blob: diagnosis {code} v{version} has no severity")
        i = dx_id[code]
        dx_mdc[i] = r.mdc
        dx_sev[i] = _SEV[r.severity]
        dx_attr[i] = dx_num[r.attr_pattern]
        dx_hac[i] = dx_num[r.hac_attr_pattern]
        dx_dxcat[i] = dx_num[r.dxcat_attr_pattern]
    valid = dx_mdc >= 0
    counts["dx_codes"] = int(valid.sum())
    counts["dx_MCC"] = int((valid & (dx_sev == 2)).sum())
    counts["dx_CC"] = int((valid & (dx_sev == 1)).sum())
    counts["dx_NCC"] = int((valid & (dx_sev == 0)).sum())

    pr_attr = np.full(npr, -1, dtype=np.int16)
    for code, hist in blob.procedures.by_code.items():
        r = _pick(hist.records, version)
        if r is not None:
            pr_attr[pr_id[code]] = pr_num[r.attr_pattern]
    is_cluster_code = np.array([c.startswith("Z@") for c in pr_codes], dtype=bool)
    counts["pcs_codes"] = int(((pr_attr >= 0) & ~is_cluster_code).sum())
    counts["cluster_pseudo_codes"] = int(((pr_attr >= 0) & is_cluster_code).sum())

    # clusters (procedure combinations)
    cl_ids = []
    cl_rows = []
    for cid in sorted(blob.clusters.by_id.keys()):
        r = _pick(blob.clusters.by_id[cid].records, version)
        if r is None:
            continue
        if cid not in pr_id or pr_attr[pr_id[cid]] < 0:
            raise BuildError(f"blob: cluster {cid} v{version} has no procedure record")
        choices = sorted(r.choices, key=lambda ch: ch.choice)
        cl_ids.append(cid)
        cl_rows.append((pr_id[cid], sorted(set(r.suppression_mdcs)),
                        [sorted(pr_id[c] for c in ch.codes) for ch in choices]))
    counts["clusters"] = len(cl_rows)
    cl_index = {cid: i for i, cid in enumerate(cl_ids)}
    cl_code = np.array([r[0] for r in cl_rows], dtype=np.int32)
    cl_supp_off, cl_supp = _csr([r[1] for r in cl_rows], dtype=np.int8)
    cl_choice_off = np.zeros(len(cl_rows) + 1, dtype=np.int32)  # offsets into the list of choices
    cl_choice_off[1:] = np.cumsum([len(r[2]) for r in cl_rows])
    ch_code_off, ch_codes = _csr([ch for r in cl_rows for ch in r[2]])

    member_rows = []
    for code in sorted(blob.code_cluster_ids.by_code.keys()):
        r = _pick(blob.code_cluster_ids.by_code[code].records, version)
        if r is None:
            continue
        ids = []
        for cid in r.cluster_ids:
            if cid not in cl_index:
                raise BuildError(f"blob: {code} v{version} names cluster {cid}, absent in that version")
            ids.append(cl_index[cid])
        member_rows.append((pr_id[code], sorted(ids)))  # a set: the clusters the code takes part in
    counts["pcs_codes_in_clusters"] = len(member_rows)
    pcl_code = np.array([r[0] for r in member_rows], dtype=np.int32)
    pcl_off, pcl_cluster = _csr([r[1] for r in member_rows])

    # CC exclusion: SDX code -> exclusion list number
    dx_excl = np.zeros(ndx, dtype=np.uint16)
    used = set()
    for code, hist in blob.pdx_exclusion_groups.by_code.items():
        r = _pick(hist.records, version)
        if r is None:
            continue
        if not 0 < r.list_number <= 65535:
            raise BuildError(f"blob: exclusion list number {r.list_number} out of range")
        dx_excl[dx_id[code]] = r.list_number
        used.add(r.list_number)
    counts["sdx_with_pdx_exclusion"] = int((dx_excl > 0).sum())
    counts["exclusion_lists_used"] = len(used)

    gender = []
    for code in sorted(blob.code_gender_mdcs.by_code.keys()):
        r = _pick(blob.code_gender_mdcs.by_code[code].records, version)
        if r is None:
            continue
        m = dict(r.mdc_by_sex)
        gender.append((dx_id[code], m.get(1, -1), m.get(2, -1)))
    counts["gender_mdc_codes"] = len(gender)
    gd_dx = np.array([g[0] for g in gender], dtype=np.int32)
    gd_male = np.array([g[1] for g in gender], dtype=np.int8)
    gd_female = np.array([g[2] for g in gender], dtype=np.int8)

    hac_codes = {}
    for code in sorted(blob.hac_codes.by_code.keys()):
        r = _pick(blob.hac_codes.by_code[code].records, version)
        if r is None:
            continue
        hac_codes[code] = [list(r.hac_operands), list(r.hac_numbers)]
    counts["hac_codes"] = len(hac_codes)

    formulas = {}
    n_formulas = 0
    drgs = set()
    for mdc in sorted(blob.drg_formulas.by_mdc.keys()):
        rows = []
        for i, f in enumerate(blob.drg_formulas.by_mdc[mdc].formulas):
            ranks = [vr.rank for vr in f.version_ranks if vr.version == version]
            if not ranks:
                continue
            rows.append((ranks[0], i, f))
        rows.sort(key=lambda t: (t[0], t[1]))  # rank, ties in source order (CMS's evaluation order)
        if not rows:
            continue
        formulas[str(mdc)] = [
            {"drg": f.drg, "base_drg": f.base_drg, "mdc": f.mdc, "surgical": f.surgical,
             "reroute_mdc": f.reroute_mdc, "expression": f.expression,
             "severity_suppression": sorted(s for s in f.severity_suppression if s),  # a set
             "drg_severity": f.drg_severity, "return_code": f.return_code,
             "rank": rank}
            for rank, _, f in rows]
        n_formulas += len(rows)
        drgs.update(f.drg for _, _, f in rows if f.drg)
    counts["drg_formulas"] = n_formulas
    counts["formula_mdc_lists"] = len(formulas)
    counts["drgs_in_formulas"] = len(drgs)

    hac_formulas = {}
    for key in sorted(blob.hac_formulas.by_key.keys()):
        for item in blob.hac_formulas.by_key[key].items:
            if version in item.versions:
                hac_formulas[str(item.hac_number)] = item.expression
                break
    counts["hac_formulas"] = len(hac_formulas)

    # CMS's base-DRG titles are not kept: nothing reads them, and msdrg.mdb does not have them
    titles = {
        "drg": _texts(blob.drg_titles, version),
        "mdc": _texts(blob.mdc_titles, version),
        "hac": _texts(blob.hac_titles, version),
    }
    counts["drg_titles"] = len(titles["drg"])

    arrays = {
        "dx_mdc": dx_mdc, "dx_sev": dx_sev, "dx_attr": dx_attr, "dx_hac": dx_hac,
        "dx_dxcat": dx_dxcat, "dx_excl": dx_excl, "pr_attr": pr_attr,
        "cl_code": cl_code, "cl_supp_off": cl_supp_off, "cl_supp": cl_supp,
        "cl_choice_off": cl_choice_off, "ch_code_off": ch_code_off, "ch_codes": ch_codes,
        "pcl_code": pcl_code, "pcl_off": pcl_off, "pcl_cluster": pcl_cluster,
        "gd_dx": gd_dx, "gd_male": gd_male, "gd_female": gd_female,
    }
    meta = {"version": version, "formulas": formulas, "hac_formulas": hac_formulas,
            "hac_codes": hac_codes, "titles": titles}
    return container.dumps(arrays, meta), dict(counts), drgs
