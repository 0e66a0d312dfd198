"""Command line of the finance features: ``python -m grouper audit`` and ``python -m grouper estimate``.

    python -m grouper audit claims.jsonl -o audit.jsonl --hospital hospital.json --report audit.html
    python -m grouper audit claims.jsonl --what-if CLAIM_ID [--hospital hospital.json]
    python -m grouper estimate stays.jsonl -o estimates.jsonl --hospital hospital.json --report estimate.html

Input: the claim files of ``python -m grouper group`` (JSON lines or wide CSV), with extra
fields: ``billed_drg`` (audit, required), ``paid_amount``, ``admission_date`` / ``los`` and
``charges`` (optional).  Each claim is grouped under the version in force at its discharge
date.  Output: one row per input row, in order (JSON lines, or CSV for a ``.csv`` name),
written atomically; rows that cannot be audited carry an ``error``.  Exit status: 0 when every
row was processed, 1 when some rows carry an error, 2 when the run could not be done (a usage
error, an output that cannot be written: one line on stderr), 130/143 when stopped by Ctrl-C /
SIGTERM (``docs/reliability.md``).  ``audit`` streams: each row is written before the next is read.
"""
from __future__ import annotations

import csv
import sys
from decimal import Decimal

from .. import io as gio
from .run import Terminated, stdout_closed, stopped

EXTRA_FIELDS = ("billed_drg", "paid_amount", "admission_date", "los", "charges")

AUDIT_CSV = ["id", "line", "discharge_date", "version", "fiscal_year", "billed_drg", "regrouped_drg", "match",
             "billed_weight", "regrouped_weight", "weight_difference", "billed_payment", "regrouped_payment",
             "payment_difference", "paid_amount", "paid_difference", "reason_kind", "reason", "reason_codes",
             "return_code", "regrouped_title", "estimate_note", "error"]
ESTIMATE_CSV = ["id", "line", "fiscal_year", "version", "drg", "drg_title", "weight", "los", "discharge_status",
                "wage_index", "gaf", "operating_full", "transfer", "transfer_fraction", "operating_base",
                "operating_ime", "operating_dsh", "capital_base", "capital_ime", "capital_dsh", "operating_outlier",
                "capital_outlier", "uncompensated_care", "operating_payment", "capital_payment", "total", "error"]


def register(subparsers) -> None:
    """Add ``audit`` and ``estimate`` to the ``python -m grouper`` sub-commands."""
    a = subparsers.add_parser("audit", help="re-group billed claims, compare with the billed DRG, price the difference")
    a.add_argument("input", help="claims with billed_drg (.jsonl[.gz] or .csv); - for stdin")
    a.add_argument("-o", "--output", help="audit rows (.jsonl[.gz] or .csv); default stdout")
    a.add_argument("--hospital", metavar="CONFIG", help="hospital settings (JSON or TOML) for payment estimates")
    a.add_argument("--report", metavar="HTML", help="also write a self-contained HTML report")
    a.add_argument("--what-if", metavar="CLAIM_ID", dest="what_if",
                   help="only show, for this claim, the DRG without each secondary diagnosis and each procedure")
    _common(a)
    a.set_defaults(func=cmd_audit)
    e = subparsers.add_parser("estimate", help="estimate the IPPS payment of each stay")
    e.add_argument("input", help="claims (.jsonl[.gz] or .csv); - for stdin")
    e.add_argument("-o", "--output", help="estimates (.jsonl[.gz] or .csv); default stdout")
    e.add_argument("--hospital", metavar="CONFIG", required=True, help="hospital settings (JSON or TOML)")
    e.add_argument("--report", metavar="HTML", help="also write a self-contained HTML report")
    e.add_argument("--explain", action="store_true", help="add the arithmetic, line by line, to each JSON row")
    _common(e)
    e.set_defaults(func=cmd_estimate)


def _common(p) -> None:
    p.add_argument("--input-format", choices=["jsonl", "csv"])
    p.add_argument("--column", action="append", metavar="NAME=COLUMN",
                   help="CSV column names, as for 'group' (e.g. dx=DIAG{n} pr=PROC{n})")
    p.add_argument("--delimiter", help="CSV delimiter (default ',', tab for .tsv)")
    p.add_argument("--charts", choices=["auto", "matplotlib", "html"], default="auto",
                   help="report charts: matplotlib images (when installed) or HTML bars")
    p.add_argument("--quiet", action="store_true", help="no summary on stderr")


# ------------------------------------------------------------------ input


def _rows(args):
    """(io.Row, claim dict or None) for every input row; a CSV's audit/estimate columns
    (EXTRA_FIELDS) come with the claim."""
    layout = gio.CsvLayout.parse(args.column, args.delimiter)
    fmt = args.input_format or gio.detect_format(args.input)
    for row in gio.read_rows(args.input, fmt, layout, EXTRA_FIELDS):
        yield row, row.claim


def _hospital(args):
    if not getattr(args, "hospital", None):
        return None
    from ..finance.payment import Hospital
    return Hospital.from_file(args.hospital)


def _json_default(o):
    if isinstance(o, Decimal):
        return float(o)
    raise TypeError(type(o).__name__)


def _write(out, rec: dict, writer) -> None:
    if writer is not None:
        writer.writerow({k: (";".join(v) if isinstance(v, list) else v) for k, v in rec.items()})
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


def _is_csv(path: str | None) -> bool:
    return bool(path) and path.endswith((".csv", ".csv.gz"))


def _inputs(args):
    """(hospital, rows) of a finance command; (None, None) after reporting a usage error."""
    from ..finance.payment import EstimateError
    try:
        gio.check_input(args.input)
        return _hospital(args), list(_rows(args))
    except (EstimateError, ValueError, OSError, gio.InputError) as exc:
        _usage_error(str(exc))
        return None, None


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
        gio.check_input(args.input)
        hospital = _hospital(args)
        gio.CsvLayout.parse(args.column, args.delimiter)
    except (EstimateError, ValueError, OSError, gio.InputError) as exc:
        return _usage_error(str(exc))
    if args.what_if is not None:
        try:
            return _what_if(args, _rows(args), hospital, what_if)
        except gio.InputError as exc:
            return _usage_error(str(exc))
    tally = _AuditTally(keep=bool(args.report))

    def records():
        for row, claim in _rows(args):
            if row.error is not None:
                r = AuditRow(id=None, line=row.line, reason=row.error[1], reason_kind="ERROR", error=row.error[1])
            else:
                r = audit_claim(claim, hospital, line=row.line)
            tally.add(r)
            yield r.to_dict()

    try:
        status = _write_all(args, args.output or "-", records(), AUDIT_CSV)
    except (TableIntegrityError, IppsIntegrityError) as exc:
        return _usage_error(str(exc))
    if status is not None:
        return status
    if args.report:
        from ..finance.report import render_audit_html
        status = _write_report(args.report, render_audit_html(tally.rows, hospital=hospital, charts=args.charts))
        if status is not None:
            return status
    if not args.quiet:
        tally.summary(hospital)
    return 1 if tally.errors else 0


class _AuditTally:
    """The counts of the summary line, and the rows themselves when a report needs them."""

    def __init__(self, keep: bool):
        self.rows: list | None = [] if keep else None
        self.n = self.errors = self.diffs = 0
        self.net = Decimal(0)

    def add(self, r) -> None:
        self.n += 1
        if r.error is not None:
            self.errors += 1
        else:
            self.diffs += not r.match
            if r.payment_difference is not None:
                self.net += r.payment_difference
        if self.rows is not None:
            self.rows.append(r)

    def summary(self, hospital) -> None:
        err = sys.stderr
        ok = self.n - self.errors
        print(f"{self.n:,} claims: {ok - self.diffs:,} as billed, {self.diffs:,} different, "
              f"{self.errors:,} not audited", file=err)
        if hospital is not None:
            print(f"estimated payment difference (regrouped - billed): {self.net:,.2f}", file=err)


def _write_all(args, path: str, records, csv_fields) -> int | None:
    """Write records (consumed as they are written) atomically as JSON lines, or as CSV with
    csv_fields when path ends in .csv.  None when written; else, after a one-line message,
    the exit status: 2 when the output cannot be written, 130/143 when interrupted."""
    output = gio.AtomicWriter(path, inputs=[args.input])
    n = 0
    try:
        with output as out:
            writer = None
            if _is_csv(path):
                writer = csv.DictWriter(out, fieldnames=csv_fields, extrasaction="ignore")
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
    except gio.InputError as exc:
        return _usage_error(f"{exc}; {output.failed(n)}")
    except OSError as exc:                  # disk full, quota, I/O error
        return _usage_error(f"cannot write {path}: {exc.strerror or exc}; {output.failed(n)}")
    return None


def _what_if(args, rows, hospital, what_if) -> int:
    from ..reading import ClaimError
    target = None
    for row, claim in rows:
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
        try:
            with gio.AtomicWriter(args.output, inputs=[args.input]) as out:
                writer = None
                if _is_csv(args.output):
                    writer = csv.DictWriter(out, fieldnames=list(lines[0].to_dict()))
                    writer.writeheader()
                for w in lines:
                    _write(out, w.to_dict(), writer)
        except gio.OutputError as exc:
            return _usage_error(str(exc))
        except OSError as exc:
            return _usage_error(f"cannot write {args.output}: {exc.strerror or exc}")
        return 0
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
    from ..finance.payment import EstimateError, estimate
    from ..tables import TableIntegrityError
    from ..tables.ipps import IppsError, IppsIntegrityError
    from ..reading import ClaimError
    hospital, rows = _inputs(args)
    if rows is None:
        return 2
    ests, errors, recs = [], [], []
    try:
        for row, claim in rows:
            if row.error is not None:
                errors.append((None, row.error[1]))
                recs.append({"id": None, "line": row.line, "error": row.error[1]})
                continue
            try:
                e = estimate(claim, hospital)
            except (ClaimError, EstimateError, IppsError) as exc:
                errors.append((claim.get("id"), str(exc)))
                recs.append({"id": claim.get("id"), "line": row.line, "error": str(exc)})
                continue
            ests.append(e)
            rec = {"id": claim.get("id"), "line": row.line, **e.to_dict(), "error": None}
            rec["version"] = f"{e.version // 10}.{e.version % 10}" if e.version else None
            if args.explain:
                rec["explain"] = e.explain()
            recs.append(rec)
    except (TableIntegrityError, IppsIntegrityError) as exc:
        return _usage_error(str(exc))
    status = _write_all(args, args.output or "-", recs, ESTIMATE_CSV)
    if status is not None:
        return status
    if args.report:
        from ..finance.report import render_estimate_html
        status = _write_report(args.report, render_estimate_html(ests, errors=errors, hospital=hospital,
                                                                 charts=args.charts))
        if status is not None:
            return status
    if not args.quiet:
        total = sum((e.total for e in ests), Decimal(0))
        print(f"{len(rows):,} stays: {len(ests):,} estimated (total {total:,.2f}), {len(errors):,} not estimated",
              file=sys.stderr)
    return 1 if errors else 0
