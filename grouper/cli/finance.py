"""Command line of the finance features: ``python -m grouper audit`` and ``python -m grouper estimate``.

    python -m grouper audit claims.jsonl -o audit.jsonl --hospital hospital.json --report audit.html
    python -m grouper audit claims.jsonl --what-if CLAIM_ID [--hospital hospital.json]
    python -m grouper audit claims.jsonl --regroup-under 44.0 -o regrouped.jsonl
    python -m grouper estimate stays.jsonl -o estimates.jsonl --hospital hospital.json --report estimate.html

Input: the claim files of ``python -m grouper group`` (JSON lines or wide CSV, with the same
column options: ``--column``, ``--preset``, ``--date-format`` ...), with extra fields:
``billed_drg`` (audit, required), ``paid_amount``, ``admission_date`` / ``los`` and ``charges``
(optional).  Each claim is grouped under the version in force at its discharge date (with
``--regroup-under``: under the version given, after converting its codes).  Output:
one row per input row, in order (JSON lines, or CSV for a ``.csv`` name), written atomically;
rows that cannot be read or grouped carry an ``error``; a stay that groups but cannot be priced
(DRG 999, a transfer without its length of stay) carries ``not_priced`` with the reason.  Exit
status: 0 when every row was processed, 1 when some rows carry an error, 2 when the run could
not be done (a usage error, an output that cannot be written: one line on stderr), 3 with
``--strict`` when the summary names a fixable pattern, 130/143 when stopped by Ctrl-C / SIGTERM
(``docs/reliability.md``).  ``audit`` streams: each row is written before the next is read.
"""
from __future__ import annotations

import csv
import sys
from decimal import Decimal

from .. import io as gio
from .inputs import (
    ARROW_FORMATS,
    InputError,
    RunStats,
    add_input_options,
    claim_rows,
    kept_fields,
    open_rows,
    output_format,
    print_hints,
)
from .run import Terminated, stdout_closed, stopped

AUDIT_CSV = ["id", "line", "discharge_date", "version", "fiscal_year", "billed_drg", "regrouped_drg", "match",
             "billed_weight", "regrouped_weight", "weight_difference", "billed_payment", "regrouped_payment",
             "payment_difference", "paid_amount", "paid_difference", "reason_kind", "reason_group", "reason",
             "reason_codes", "return_code", "regrouped_mdc", "regrouped_title", "estimate_note", "not_modelled",
             "version_in_force", "conversions", "error", "mce_edit_type", "mce_edits"]
ESTIMATE_CSV = ["id", "line", "fiscal_year", "version", "drg", "drg_title", "mdc", "weight", "los",
                "discharge_status", "wage_index", "gaf", "capital_rate", "operating_full", "transfer",
                "transfer_fraction", "operating_base", "operating_ime", "operating_dsh", "capital_base", "capital_ime",
                "capital_dsh", "operating_outlier", "capital_outlier", "uncompensated_care", "operating_payment",
                "capital_payment", "total", "notes", "not_modelled", "not_priced", "error"]

#: the Arrow type of each CSV column in Parquet / Arrow output (:mod:`grouper.cli.tabular`), text
#: when not named here
_KINDS = {"line": "int64", "match": "bool",
          **dict.fromkeys(("fiscal_year", "billed_drg", "regrouped_drg", "regrouped_mdc", "drg", "mdc", "los",
                           "discharge_status"), "int32"),
          **dict.fromkeys(("billed_weight", "regrouped_weight", "weight_difference", "billed_payment",
                           "regrouped_payment", "payment_difference", "paid_amount", "paid_difference", "weight",
                           "wage_index", "gaf", "capital_rate", "operating_full", "transfer_fraction",
                           "operating_base", "operating_ime", "operating_dsh", "capital_base", "capital_ime",
                           "capital_dsh", "operating_outlier", "capital_outlier", "uncompensated_care",
                           "operating_payment", "capital_payment", "total"), "float"),
          **dict.fromkeys(("reason_codes", "not_modelled", "conversions", "mce_edits", "notes"), "texts")}
AUDIT_COLUMNS = {name: _KINDS.get(name, "text") for name in AUDIT_CSV}
ESTIMATE_COLUMNS = {name: _KINDS.get(name, "text") for name in ESTIMATE_CSV}
#: the columns of ``audit --what-if`` (grouper.finance.audit.WhatIf)
WHAT_IF_COLUMNS = {"change": "text", "kind": "text", "code": "text", "drg": "int32", "title": "text", "mdc": "int32",
                   "weight": "float", "weight_difference": "float", "changed": "bool", "payment": "float",
                   "payment_difference": "float"}


def register(subparsers) -> None:
    """Add ``audit`` and ``estimate`` to the ``python -m grouper`` sub-commands."""
    a = subparsers.add_parser("audit", help="re-group billed claims, compare with the billed DRG, price the difference")
    a.add_argument("input", help="claims with billed_drg (.jsonl[.gz], .csv, .parquet or .arrow); - for stdin")
    a.add_argument("-o", "--output", help="audit rows (.jsonl[.gz], .csv, .parquet or .arrow); default stdout")
    a.add_argument("--hospital", metavar="CONFIG", help="hospital settings (JSON or TOML) for payment estimates")
    a.add_argument("--report", metavar="HTML", help="also write a self-contained HTML report")
    a.add_argument("--regroup-under", metavar="VERSION", dest="regroup_under",
                   help="regroup every claim under this grouper version (e.g. 44.0) instead of the one in force at "
                        "discharge, after converting its codes to that version's code set (CMS's ICD-10 "
                        "conversion tables); the conversions are listed among the reasons")
    a.add_argument("--what-if", metavar="CLAIM_ID", dest="what_if",
                   help="only show, for this claim, the DRG without each secondary diagnosis and each procedure")
    _common(a)
    a.set_defaults(func=cmd_audit)
    e = subparsers.add_parser("estimate", help="estimate the IPPS payment of each stay")
    e.add_argument("input", help="claims (.jsonl[.gz], .csv, .parquet or .arrow); - for stdin")
    e.add_argument("-o", "--output", help="estimates (.jsonl[.gz], .csv, .parquet or .arrow); default stdout")
    e.add_argument("--hospital", metavar="CONFIG", required=True, help="hospital settings (JSON or TOML)")
    e.add_argument("--report", metavar="HTML", help="also write a self-contained HTML report")
    e.add_argument("--explain", action="store_true", help="add the arithmetic, line by line, to each JSON row")
    _common(e)
    e.set_defaults(func=cmd_estimate)


def _common(p) -> None:
    add_input_options(p)
    p.add_argument("--normalize", action="store_true",
                   help="clean unambiguous code formatting (dots, blanks, case) before grouping, as for 'group'")
    p.add_argument("--charts", choices=["auto", "matplotlib", "html"], default="auto",
                   help="report charts: matplotlib images (when installed) or HTML bars")
    p.add_argument("--quiet", action="store_true", help="no summary on stderr")


# ------------------------------------------------------------------ input


def _rows(args, reader):
    """(io.Row, claim dict or None) for every input row; a CSV's audit/estimate columns
    (billed_drg, paid_amount, admission_date, los, charges) come with the claim."""
    for row in claim_rows(reader):
        claim = row.claim
        if args.normalize and isinstance(claim, dict):
            claim = _normalized(claim)
        yield row, claim


def _normalized(claim: dict) -> dict:
    """The claim with its codes cleaned by the ``normalize`` option (other fields kept)."""
    from ..reading import Claim, normalize_claim
    try:
        c, _ = normalize_claim(Claim.from_dict(claim))
    except Exception:                 # a claim the reading stage will report as it is
        return claim
    out = dict(claim)
    if "pdx" in claim:
        out["pdx"] = c.pdx
    out.update(pdx_poa=c.pdx_poa, sdx=[[d.code, d.poa] for d in c.sdx], procedures=list(c.procedures))
    if c.admit_dx is not None:
        out["admit_dx"] = c.admit_dx
    return out


def _hospital(args):
    if not getattr(args, "hospital", None):
        return None
    from ..finance.payment import Hospital
    return Hospital.from_file(args.hospital)


def _json_default(o):
    if isinstance(o, Decimal):
        return float(o)
    return gio.plain_value(o)


def _write(out, rec: dict, writer) -> None:
    if writer is not None:
        writer.writerow({k: ("; ".join(map(str, v)) if isinstance(v, list) else v) for k, v in rec.items()})
    else:
        out.write(gio.json_line(rec, default=_json_default))


def _write_report(path, html: str) -> int | None:
    """Write an HTML report atomically (temporary file renamed into place); None when written,
    else the exit status after a one-line message."""
    try:
        with gio.AtomicWriter(str(path)) as f:
            f.write(html)
    except gio.OutputError as exc:
        return _usage_error(str(exc))
    except OSError as exc:
        return _usage_error(f"cannot write {path}: {exc.strerror or exc}")
    return None


def _inputs(args):
    """(hospital, rows, reader) of a finance command; (None, None, None) after reporting a usage error."""
    from ..finance.payment import EstimateError
    try:
        if args.output:
            output_format(args.output, args.output_format)
        gio.check_input(args.input)
        hospital = _hospital(args)
        reader = open_rows(args)
        return hospital, _rows(args, reader), reader
    except (EstimateError, InputError, ValueError, OSError) as exc:
        _usage_error(str(exc))
        return None, None, None


def _finish(args, reader, stats, notes=()) -> int | None:
    """The summary's fix hints and notes; the --strict exit status when there are hints."""
    hints = stats.hints(reader)
    if not args.quiet or args.strict:
        for n in notes:
            print(f"note: {n}", file=sys.stderr)
        print_hints(hints, sys.stderr)
    if args.strict and hints:
        print(f"--strict: {len(hints)} fixable problem{'s' if len(hints) > 1 else ''} (exit 3)", file=sys.stderr)
        return 3
    return None


def _usage_error(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2


# ------------------------------------------------------------------ audit


def cmd_audit(args) -> int:
    """Audit row by row: each claim is read, audited and written before the next is read, so
    memory stays bounded whatever the file size (the rows are kept only for ``--report``)."""
    from ..finance.audit import AuditRow, audit_claim, what_if
    from ..finance.payment import EstimateError
    from ..tables import TableIntegrityError
    from ..tables.ipps import IppsIntegrityError
    try:
        if args.output:
            output_format(args.output, args.output_format)
        gio.check_input(args.input)
        hospital = _hospital(args)
        reader = open_rows(args)
    except (EstimateError, InputError, ValueError, OSError) as exc:
        return _usage_error(str(exc))
    if args.what_if is not None:
        return _what_if(args, _rows(args, reader), hospital, what_if)
    if args.regroup_under is not None:
        from ..tables import VersionError, default
        try:
            default().resolve(args.regroup_under)
        except VersionError as exc:
            return _usage_error(f"--regroup-under: {exc}")
    tally = _AuditTally(keep=bool(args.report))
    stats = RunStats()

    def records():
        for row, claim in _rows(args, reader):
            if row.error is not None:
                r = AuditRow(id=None, line=row.line, reason=row.error[1], reason_kind="ERROR", error=row.error[1])
            else:
                r = audit_claim(claim, hospital, line=row.line, regroup_under=args.regroup_under)
                if isinstance(claim, dict):
                    stats.add(_warnings_of(claim))
            tally.add(r)
            yield {**r.to_dict(), **kept_fields(row.kept, AUDIT_NAMES)}

    try:
        status = _write_all(args, args.output or "-", records(), AUDIT_COLUMNS, _kept_names(reader, AUDIT_NAMES))
    except (TableIntegrityError, IppsIntegrityError) as exc:
        return _usage_error(str(exc))
    if status is not None:
        return status
    notes = [hospital.settings_note(tally.fiscal_years)] if hospital else []
    notes = [n for n in notes if n]
    if args.report:
        from ..finance.report import render_audit_html
        status = _write_report(args.report, render_audit_html(tally.rows, hospital=hospital, charts=args.charts,
                                                              notes=notes))
        if status is not None:
            return status
    if not args.quiet:
        tally.summary(hospital)
    strict = _finish(args, reader, stats, notes)
    if strict is not None:
        return strict
    return 1 if tally.errors else 0


AUDIT_NAMES = frozenset(AUDIT_CSV) | {"billed_title", "regrouped_mdc_title", "regrouped_mdc", "match"}
ESTIMATE_NAMES = frozenset(ESTIMATE_CSV) | {"explain", "outlier"}


def _kept_names(reader, taken) -> list[str]:
    names = [name for name, _ in getattr(reader, "kept", ())] or list(getattr(reader, "keep", ()))
    return list(kept_fields(dict.fromkeys(names), taken))


def _warnings_of(claim: dict) -> dict:
    """The claim's warnings (for the summary's fix hints), as a group output row has them."""
    from ..engine.pipeline import group
    from ..reading import ClaimError
    try:
        return {"warnings": [w.to_dict() for w in group(claim).warnings]}
    except ClaimError as exc:
        return {"error": {"code": exc.code, "value": exc.value, "message": str(exc)}}


class _AuditTally:
    """The counts of the summary line as rows stream by, and the rows themselves when a report
    needs them."""

    def __init__(self, keep: bool):
        from ..finance.audit import DATA_ERROR_KINDS
        self.data_kinds = DATA_ERROR_KINDS
        self.rows: list | None = [] if keep else None
        self.n = self.errors = self.diffs = self.data = 0
        self.over = self.under = Decimal(0)
        self.fiscal_years: set = set()

    def add(self, r) -> None:
        self.n += 1
        if r.fiscal_year:
            self.fiscal_years.add(r.fiscal_year)
        if r.error is not None:
            self.errors += 1
        elif not r.match:
            self.diffs += 1
            if r.reason_kind in self.data_kinds:
                self.data += 1
            elif r.payment_difference is not None:
                if r.payment_difference < 0:
                    self.over += r.payment_difference
                else:
                    self.under += r.payment_difference
        if self.rows is not None:
            self.rows.append(r)

    def summary(self, hospital) -> None:
        err = sys.stderr
        ok = self.n - self.errors
        print(f"{self.n:,} claims: {ok - self.diffs:,} as billed, {self.diffs - self.data:,} different, "
              f"{self.data:,} with a data error, {self.errors:,} not audited", file=err)
        if hospital is not None:
            print(f"estimated payment, regrouped vs billed: {-self.over:,.2f} billed above the regrouped DRG, "
                  f"{self.under:,.2f} billed below it (data errors apart)", file=err)


def _write_all(args, path: str, records, columns: dict, kept: list) -> int | None:
    """Write records (consumed as they are written) atomically: as JSON lines, as CSV with the
    ``columns`` then the ``kept`` input columns, or as Parquet / Arrow IPC with those columns
    typed (``columns``: name -> kind, :mod:`grouper.cli.tabular`).  None when written; else,
    after a one-line message, the exit status: 2 when the output cannot be written, 130/143 when
    interrupted."""
    fmt = output_format(path, args.output_format)
    if fmt in ARROW_FORMATS:
        from ..io.arrow import ArrowWriter
        from . import tabular
        try:
            output = ArrowWriter(path, fmt, inputs=[args.input], deferred=True)
        except ImportError as exc:          # no pyarrow: says how to install it
            return _usage_error(str(exc))
    else:
        output = gio.AtomicWriter(path, inputs=[args.input])
    n = 0
    try:
        with output as out:
            if fmt in ARROW_FORMATS:
                n = tabular.write_records(out, records, columns, kept)
                return None
            writer = None
            if fmt == "csv":
                writer = csv.DictWriter(out, fieldnames=list(columns) + kept, extrasaction="ignore")
                writer.writeheader()
            for rec in records:
                _write(out, rec, writer)
                n += 1
    except (KeyboardInterrupt, Terminated) as exc:
        return stopped(exc, output, n)
    except BrokenPipeError as exc:
        if path == "-":
            return stdout_closed(output, n)
        return _usage_error(f"cannot write {path}: {exc.strerror}; {output.failed(n)}")
    except gio.OutputError as exc:
        return _usage_error(str(exc))
    except InputError as exc:
        return _usage_error(f"{exc}; {output.failed(n)}")
    except OSError as exc:                  # disk full, quota, I/O error
        return _usage_error(f"cannot write {path}: {exc.strerror or exc}; {output.failed(n)}")
    return None


def _what_if(args, rows, hospital, what_if) -> int:
    from ..reading import ClaimError
    target = None
    for _row, claim in rows:
        if claim is not None and str(claim.get("id")) == str(args.what_if):
            target = claim
            break
    if target is None:
        return _usage_error(f"no claim with id {args.what_if!r} in {args.input}")
    try:
        lines = what_if(target, hospital)
    except ClaimError as exc:
        print(f"claim {args.what_if}: {exc}", file=sys.stderr)
        return 1
    if args.output:
        return _write_all(args, args.output, (w.to_dict() for w in lines), WHAT_IF_COLUMNS, []) or 0
    money = hospital is not None
    print(f"what-if for claim {args.what_if} (billed DRG {target.get('billed_drg', '-')}):")
    head = f"{'change':34s} {'DRG':>4s} {'weight':>8s} {'Δ weight':>9s}"
    if money:
        head += f" {'payment':>11s} {'Δ payment':>11s}"
    print(head + "  title")
    for w in lines:
        s = (f"{w.change:34s} {w.drg:4d} {_f(w.weight, 4):>8s} "
             f"{_f(w.weight_difference, 4, True) if w.kind != 'claim' else '':>9s}")
        if money:
            s += (f" {_f(w.payment, 2):>11s} "
                  f"{_f(w.payment_difference, 2, True) if w.kind != 'claim' else '':>11s}")
        print(s + f"  {w.title[:60]}")
    return 0


def _f(x, places, signed=False) -> str:
    if x is None:
        return "-"
    return f"{x:+,.{places}f}" if signed else f"{x:,.{places}f}"


# ------------------------------------------------------------------ estimate


def cmd_estimate(args) -> int:
    """Estimate row by row: each claim is read, grouped once (its warnings with it), priced and
    written before the next is read, so memory stays bounded whatever the file size (the
    estimates are kept only for ``--report``)."""
    from ..engine.pipeline import group
    from ..finance.payment import NotPriced, price_result
    from ..reading import ClaimError
    from ..tables import TableIntegrityError
    from ..tables import default as default_tables
    from ..tables.ipps import IppsIntegrityError
    from ..tables.ipps import default as default_ipps
    hospital, rows, reader = _inputs(args)
    if rows is None:
        return 2
    tally = _EstimateTally(keep=bool(args.report))
    stats = RunStats()

    def records():
        ts = it = None
        for row, claim in rows:
            kept = kept_fields(row.kept, ESTIMATE_NAMES)
            if row.error is not None:
                tally.error(None, row.error[1])
                yield {"id": None, "line": row.line, "error": row.error[1], **kept}
                continue
            if ts is None:                  # the tables, looked up once (not per claim)
                ts, it = default_tables(), default_ipps()
            try:
                result = group(claim, tables=ts, details=True)
            except ClaimError as exc:
                tally.error(claim.get("id"), str(exc))
                stats.add({"error": {"code": exc.code, "value": exc.value, "message": str(exc)}})
                yield {"id": claim.get("id"), "line": row.line, "error": str(exc), **kept}
                continue
            stats.add({"warnings": [w.to_dict() for w in result.warnings]})
            e = price_result(result, claim, hospital, tables=ts, ipps_tables=it)
            rec = {"id": claim.get("id"), "line": row.line, **e.to_dict()}
            rec.pop("claim_id", None)
            rec["version"] = f"{e.version // 10}.{e.version % 10}" if e.version else None
            if isinstance(e, NotPriced):
                tally.unpriced(e)
                rec["not_priced"] = rec.pop("reason")
            else:
                tally.estimated(e)
                if args.explain:
                    rec["explain"] = e.explain()
            rec["error"] = None
            yield {**rec, **kept}

    try:
        status = _write_all(args, args.output or "-", records(), ESTIMATE_COLUMNS,
                            _kept_names(reader, ESTIMATE_NAMES))
    except (TableIntegrityError, IppsIntegrityError) as exc:
        return _usage_error(str(exc))
    if status is not None:
        return status
    note = hospital.settings_note(tally.fiscal_years)
    if args.report:
        from ..finance.report import render_estimate_html
        status = _write_report(args.report, render_estimate_html(tally.ests, errors=tally.errors,
                                                                 unpriced=tally.not_priced, hospital=hospital,
                                                                 charts=args.charts, notes=[note] if note else ()))
        if status is not None:
            return status
    if not args.quiet:
        print(f"{tally.n:,} stays: {tally.n_estimated:,} estimated (total {tally.total:,.2f}), {tally.n_unpriced:,} "
              f"not priced (DRG without weight, missing length of stay ...), {tally.n_errors:,} not read or not "
              f"grouped", file=sys.stderr)
    strict = _finish(args, reader, stats, [note] if note else ())
    if strict is not None:
        return strict
    return 1 if tally.n_errors else 0


class _EstimateTally:
    """The counts and total of the summary line as rows stream by, and the rows themselves when a
    report needs them."""

    def __init__(self, keep: bool):
        self.keep = keep
        self.n = self.n_estimated = self.n_unpriced = self.n_errors = 0
        self.total = Decimal(0)
        self.fiscal_years: set = set()
        self.ests: list = []
        self.not_priced: list = []
        self.errors: list = []

    def estimated(self, e) -> None:
        self.n += 1
        self.n_estimated += 1
        self.total += e.total
        self.fiscal_years.add(e.fiscal_year)
        if self.keep:
            self.ests.append(e)

    def unpriced(self, e) -> None:
        self.n += 1
        self.n_unpriced += 1
        if self.keep:
            self.not_priced.append(e)

    def error(self, claim_id, message: str) -> None:
        self.n += 1
        self.n_errors += 1
        if self.keep:
            self.errors.append((claim_id, message))
