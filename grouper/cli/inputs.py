"""What the commands share about their input and output files: the column-mapping options, the
output format check, and the summary lines that name the option fixing a pattern of problems.

    --column FIELD=COLUMN   map a field to a column (every field of grouper.reading.layout.FIELDS)
    --preset ub04           column names of UB-04 / 837I-style exports
    --delimiter X           one character, or tab / \\t / comma / semicolon / pipe (default: sniffed)
    --date-format FMT       e.g. %d.%m.%Y (default: YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY)
    --keep-columns A,B      carry these input columns to each output row
    --strict                exit 3 when the run shows a fixable pattern (the summary names the fix)
"""
from __future__ import annotations

from collections import Counter

from .. import io as gio
from ..reading.layout import FIELD_HELP, FIELDS, PRESET_HELP, PRESETS, Layout, LayoutError

#: rows per record batch read from Parquet / Arrow files
ARROW_BATCH = 50_000
#: exit status of a run that --strict fails for a fixable pattern
STRICT_EXIT = 3
OUTPUT_FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet",
                  ".pq": "parquet", ".arrow": "arrow", ".feather": "arrow", ".ipc": "arrow"}
#: formats read and written by record batches (pyarrow)
ARROW_FORMATS = ("parquet", "arrow")


# A usage problem with the input or output files or their options (one line, exit 2): the same
# error as an input that cannot be read at all.
InputError = gio.InputError


def column_help() -> str:
    return ("map a field to a column, repeatable: FIELD=COLUMN, e.g. pr=PX{n} dx=DIAG{n} id='Claim No' "
            "sex=Gender charges='Total Charges'.  Fields: " + "; ".join(f"{f} ({FIELD_HELP[f]})" for f in FIELDS)
            + ".  A mapped column must exist.")


def add_input_options(p, *, output: bool = True) -> None:
    """The input (and output format) options of a command."""
    p.add_argument("--input-format", choices=["jsonl", "csv", "parquet", "arrow"],
                   help="input format (default: by extension, .parquet and .arrow/.feather included; on stdin, "
                        "sniffed from the first character)")
    if output:
        p.add_argument("--output-format", choices=["jsonl", "csv", "parquet", "arrow"],
                       help="output format (default: by extension, .jsonl[.gz], .csv[.gz], .parquet, .arrow; JSON "
                            "lines on stdout)")
    p.add_argument("--column", action="append", metavar="FIELD=COLUMN", help=column_help())
    p.add_argument("--preset", choices=sorted(PRESETS),
                   help="column names of a kind of export: " + "; ".join(f"{k}: {v}" for k, v in PRESET_HELP.items()))
    p.add_argument("--delimiter", help="CSV delimiter: one character, or tab, \\t, comma, semicolon, pipe "
                                       "(default: sniffed from the header; tab for .tsv)")
    p.add_argument("--date-format", metavar="FMT",
                   help="format of the CSV dates, e.g. %%d.%%m.%%Y (default: YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY)")
    p.add_argument("--keep-columns", metavar="COL[,COL...]",
                   help="carry these input columns (or JSON keys) to each output row")
    p.add_argument("--strict", action="store_true",
                   help=f"exit {STRICT_EXIT} when the run shows a fixable pattern (unread columns, dotted codes, "
                        f"unreadable dates ...); the summary names the option that fixes it")


def keep_list(args) -> list[str]:
    raw = getattr(args, "keep_columns", None)
    return [c.strip() for c in raw.split(",") if c.strip()] if raw else []


def open_rows(args, path: str | None = None):
    """The reader of the command's input: CSV (wide layout) or JSON lines.  InputError for a bad
    mapping, a header without diagnosis columns, a bad delimiter or an unreadable file."""
    path = path or args.input
    try:
        layout = Layout.parse(args.column, preset=args.preset, date_format=args.date_format)
        delimiter = gio.parse_delimiter(args.delimiter)
        fmt = args.input_format or gio.detect_format(path)
        if fmt in ARROW_FORMATS:
            return _arrow_reader(path, args)
        if fmt == "jsonl" and (args.column or args.preset or args.delimiter or args.date_format):
            raise InputError(f"{path}: --column, --preset, --delimiter and --date-format are for CSV input; "
                             f"this input is read as JSON lines (give --input-format csv if it is CSV)")
        return gio.read_rows(path, fmt, layout, delimiter=delimiter, keep=keep_list(args))
    except (LayoutError, gio.CsvError) as exc:
        raise InputError(f"{path}: {exc}" if not str(exc).startswith(path) else str(exc)) from None
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a claims file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None


def claim_rows(reader):
    """The rows (:class:`grouper.io.Row`) of any input reader, in order: a JSON-lines or CSV
    reader gives them as it is; a Parquet / Arrow reader gives record batches, each turned into
    rows here as ``group --detail full`` does (a wide table mapped to the JSON-lines schema with
    the reader's ``--column`` layout; every other column comes with the claim, so ``billed_drg``,
    ``paid_amount``, ``admission_date`` ... reach ``audit`` and ``estimate``; ``--keep-columns``
    values as read).  For the commands that take the claims one by one (audit, estimate, edit)."""
    if getattr(reader, "format", None) not in ARROW_FORMATS:
        yield from reader
        return
    from ..bulk.arrow import wide_to_schema
    from ..reading.layout import looks_wide
    keep = list(getattr(reader, "keep", ()))
    layout = getattr(reader, "layout", None)
    first = 1
    for table in reader:
        kept = table.select(keep).to_pylist() if keep else None
        if layout is not None or looks_wide(table.column_names):
            table = wide_to_schema(table, layout)
        for i, rec in enumerate(table.to_pylist()):
            yield gio.Row(first + i, rec, None, kept[i] if kept else None)
        first += table.num_rows


def _arrow_reader(path: str, args):
    """The record batches of a Parquet / Arrow file; InputError without pyarrow, for an unreadable
    file, or for --keep-columns naming a column the file does not have."""
    if path == "-":
        raise InputError("a Parquet or Arrow input cannot come from standard input (it is read from its end, "
                         "and by parts): give the file's name")
    try:
        from ..io.arrow import ArrowReader
        reader = ArrowReader(path, batch_size=ARROW_BATCH)
    except ImportError as exc:
        raise InputError(f"{path}: {exc}") from None
    except ValueError as exc:
        raise InputError(str(exc)) from None
    missing = [c for c in keep_list(args) if c not in reader.columns]
    if missing:
        raise InputError(f"--keep-columns: no column {missing[0]!r} in {path} ({', '.join(reader.columns[:30])})")
    if args.delimiter:
        raise InputError(f"{path}: --delimiter is for CSV input")
    reader.keep = keep_list(args)
    try:
        reader.layout = (Layout.parse(args.column, preset=args.preset, date_format=args.date_format)
                         if (args.column or args.preset or args.date_format) else None)
    except LayoutError as exc:
        raise InputError(f"{path}: {exc}") from None
    if reader.layout is not None and _lists_of_codes(reader.schema):
        raise InputError(f"{path}: --column, --preset and --date-format map the columns of a wide table (DX1, POA1, "
                         f"PX1 ... as in a CSV file); this file has the JSON-lines schema (sdx and procedures are "
                         f"lists): name its columns as the JSON-lines fields (pdx, sdx, procedures, age, sex, "
                         f"discharge_status, discharge_date ...) and give dates as date columns or YYYY-MM-DD text")
    return reader


def _lists_of_codes(schema) -> bool:
    """Whether an Arrow schema has the JSON-lines layout's list columns (``sdx``, ``procedures``)."""
    import pyarrow as pa
    return any(f.name in ("sdx", "procedures") and (pa.types.is_list(f.type) or pa.types.is_large_list(f.type))
               for f in schema)


def _special_file(path: str) -> bool:
    """An existing path that is not a regular file: a FIFO, a device, a socket (written as a
    stream), or a folder (which the writer refuses with its own message)."""
    import os
    import stat
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode)


def output_format(path: str, given: str | None) -> str:
    """jsonl or csv for an output path; InputError for an extension that is neither (e.g. .xlsx)."""
    if given:
        return given
    if path == "-" or _special_file(path):
        return "jsonl"          # stdout, a FIFO, a device: a stream, whatever its name (a folder: refused later)
    p = path[:-3] if path.endswith(".gz") else path
    dot = p.rfind(".")
    ext = p[dot:].lower() if dot > p.rfind("/") else ""
    if ext in OUTPUT_FORMATS:
        return OUTPUT_FORMATS[ext]
    what = f"'{ext}'" if ext else "no extension"
    raise InputError(f"{path}: output name has {what}: write .jsonl or .csv (optionally .gz), .parquet or .arrow, "
                     f"or give --output-format jsonl|csv|parquet|arrow")


def kept_fields(kept: dict | None, taken) -> dict:
    """Kept input columns as output fields (``input_NAME`` when NAME is already an output field)."""
    if not kept:
        return {}
    return {(f"input_{k}" if k in taken else k): v for k, v in kept.items()}


# ------------------------------------------------------------------ summary hints

#: warning code -> (what the rows have, how to fix it)
FIXABLE_WARNINGS = {
    "CODE_DOTTED": ("codes written with a dot", "CMS does not recognize them as written: --normalize removes the "
                                                "dots (each change is reported as CODE_NORMALIZED)"),
    "CODE_PADDED": ("codes with blanks", "CMS does not recognize them as written: --normalize removes the blanks"),
    "CODE_LOWERCASE": ("codes in lower case", "CMS upper-cases them (grouped as written); --normalize writes them "
                                              "in upper case"),
    "SEX_MISSING": ("no sex", "map the sex column with --column sex=COLUMN"),
    "DISCHARGE_STATUS_MISSING": ("no discharge status", "map the status column with --column "
                                                        "discharge_status=COLUMN"),
    "DISCHARGE_AFTER_MCE_RELEASE": ("discharges after the MCE release ends (INVALID_DISCHARGE_DATE, not edited)",
                                    "give --mce-release with the release that covers them (the warning names it)"),
}
FIXABLE_ERRORS = {
    "BAD_DATE": ("a discharge date that cannot be read", "give the date format with --date-format, e.g. %d.%m.%Y"),
    "NO_VERSION": ("no discharge date nor version", "map the date column with --column discharge_date=COLUMN"),
    # the Medicare Code Editor's (python -m grouper edit)
    "MISSING_DISCHARGE_DATE": ("no discharge date", "map the date column with --column discharge_date=COLUMN"),
    "MISSING_AGE": ("no age", "map the age column with --column age=COLUMN"),
    "MISSING_DISCHARGE_STATUS": ("no discharge status", "map the status column with --column discharge_status=COLUMN"),
    "MISSING_LOS": ("no length of stay", "map it with --column los=COLUMN, or the admission date with --column "
                                         "admission_date=COLUMN"),
}

#: the same fixes for an input whose fields are named, not mapped (JSON lines, a Parquet / Arrow
#: file in the JSON-lines schema): --column, --preset and --date-format are refused there
FIELD_FIXES = {
    "SEX_MISSING": 'give each claim its "sex" (M, F or U)',
    "DISCHARGE_STATUS_MISSING": 'give each claim its "discharge_status" (e.g. 1)',
    "BAD_DATE": 'write "discharge_date" as YYYY-MM-DD (a date column in Parquet / Arrow); --date-format is for CSV '
                'files and wide tables',
    "NO_VERSION": 'give each claim its "discharge_date" (YYYY-MM-DD) or a grouper "version"',
    "MISSING_DISCHARGE_DATE": 'give each claim its "discharge_date" (YYYY-MM-DD)',
    "MISSING_AGE": 'give each claim its "age"',
    "MISSING_DISCHARGE_STATUS": 'give each claim its "discharge_status"',
    "MISSING_LOS": 'give each claim its "los", or its "admission_date"',
}


def _mapped_columns(reader) -> bool:
    """Whether the input's columns are mapped to fields (--column, --preset, --date-format apply):
    a CSV file, or a Parquet / Arrow file in the wide layout; not JSON lines, nor a Parquet /
    Arrow file in the JSON-lines schema."""
    if isinstance(reader, gio.JsonlReader):
        return False
    schema = getattr(reader, "schema", None)
    if getattr(reader, "format", None) in ARROW_FORMATS and schema is not None:
        return not _lists_of_codes(schema)
    return True


class RunStats:
    """Counts, per warning and error code, the rows that have it (and one example), to name the
    fix of a pattern in the summary."""

    def __init__(self):
        self.rows = 0
        self.warning_rows: Counter = Counter()
        self.error_rows: Counter = Counter()
        self.examples: dict = {}

    def add(self, rec: dict) -> None:
        self.rows += 1
        err = rec.get("error")
        if err:
            code = err["code"] if isinstance(err, dict) else None
            if code:
                self.error_rows[code] += 1
                v = err.get("value")
                self.examples.setdefault(code, repr(v) if v not in (None, "") else err.get("message"))
            return
        seen = set()
        for w in rec.get("warnings") or ():
            c = w["code"]
            if c not in seen:
                seen.add(c)
                self.warning_rows[c] += 1
                self.examples.setdefault(c, f"{w['field']}={'' if w['value'] is None else w['value']}")

    def hints(self, reader=None, normalize: bool = False) -> list[str]:
        out = []
        bound = getattr(reader, "bound", None)
        if bound is not None:
            out.extend(bound.hints())
        named = reader is not None and not _mapped_columns(reader)
        many = max(1, self.rows // 100)        # a pattern: 1 % of the rows, at least one
        for code, (what, fix) in FIXABLE_WARNINGS.items():
            n = self.warning_rows.get(code, 0)
            if n >= many and not (normalize and code.startswith("CODE_")):
                fix = FIELD_FIXES.get(code, fix) if named else fix
                out.append(f"{n:,} of {self.rows:,} rows have {what} (e.g. {self.examples[code]}): {fix}")
        for code, (what, fix) in FIXABLE_ERRORS.items():
            n = self.error_rows.get(code, 0)
            if n >= many:
                fix = FIELD_FIXES.get(code, fix) if named else fix
                ex = self.examples.get(code)
                out.append(f"{n:,} of {self.rows:,} rows have {what}" + (f" (e.g. {ex})" if ex else "") + f": {fix}")
        return out


def print_hints(hints, err) -> None:
    if hints:
        print("to fix:", file=err)
        for h in hints:
            print(f"  - {h}", file=err)
