"""Command line: ``python -m grouper group INPUT -o OUTPUT`` and friends.

Streaming: input rows are read and grouped in chunks, so memory stays bounded
whatever the file size; ``--jobs N`` groups chunks in N worker processes
(results keep input order; :mod:`.run`).  A progress line with rate and ETA is
shown on a terminal (``--quiet`` or a non-terminal stderr silences it).  The
output has exactly one row per input row, in input order, and is written
atomically (:class:`grouper.io.AtomicWriter`).

Exit status (``docs/reliability.md``): 0 when every row was grouped, 1 when some
rows carry an error (the output is complete), 2 when the run could not be done
-- a usage error (bad arguments, a mapped column missing, unreadable input or
tables, an output that cannot be written) or a failure during the run (disk full,
a worker process killed): one line on stderr and no output written -- 3 with
``--strict`` when the summary names a fixable pattern, and 128 + the signal when
stopped by Ctrl-C (130) or SIGTERM (143), the temporary file removed.  Every
failure is one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import gc
import json
import os
import sys
import time
from collections import Counter
from itertools import islice, repeat

from .. import io as gio
from ..io import Row
from . import columnar
from .columnar import CSV_FIELDS, version_label, warning_text
from .inputs import (
    ARROW_FORMATS,
    InputError,
    RunStats,
    add_input_options,
    kept_fields,
    open_rows,
    output_format,
    print_hints,
)
from .mce import GROUP_CSV_FIELDS, add_release_options, edit_columns, group_csv_fields, release_tables
from .mce import register as register_edit
from .run import Terminated, WorkerError, Workers, exit_status, stdout_closed, stop_on_signals, stopped

CHUNK = 5000

#: every field name of a group output row (a kept input column of the same name becomes input_NAME)
OUTPUT_NAMES = frozenset(CSV_FIELDS) | {
    "initial_return_code", "initial_base_drg", "final_base_drg", "initial_med_surg", "final_med_surg",
    "initial_claim_severity", "final_claim_severity", "num_hac_categories_satisfied", "admit_dx_flag",
    "initial_drg_description", "initial_mdc_description", "final_mdc_description", "pdx", "sdx", "procedures",
    "fiscal_year", "mce_edit_type", "mce_edits", "mce_error"} | frozenset(GROUP_CSV_FIELDS)


# ---------------------------------------------------------------- grouping


def _options(args, fmt_out: str) -> dict:
    detail = getattr(args, "detail", None) or ("full" if fmt_out == "jsonl" else "summary")
    return {"normalize": bool(getattr(args, "normalize", False)),
            "convert_codes": bool(getattr(args, "convert_codes", False)),
            "version": getattr(args, "version", None),
            "tables": getattr(args, "tables", None),
            "detail": detail,
            "warnings": not getattr(args, "no_warnings", False),
            "lines": fmt_out == "jsonl",   # the output takes JSON lines (full detail written as text)
            "edits": None}      # with --edits: the MCE release folder (cmd_group)


def group_rows(rows: list, options: dict) -> list[dict]:
    """Group a chunk of :class:`grouper.io.Row`; one output dict per row, errors included.

    ``detail`` "full": every field of the CMS output, per code (per-claim engine);
    "summary": the claim-level fields, grouped by the vectorized batch path."""
    got = group_chunk(rows, dict(options, lines=False))
    return got if isinstance(got, list) else columnar.json_records(got, _kept)


def _kept(kept: dict) -> dict:
    return kept_fields(kept, OUTPUT_NAMES)


def group_chunk(chunk, options: dict):
    """Group a chunk of input: a list of :class:`grouper.io.Row`, or ``(first line, Arrow table)``.
    ``detail`` "full": a list of output dicts (per-claim engine, every CMS output field), or with
    ``lines`` (JSON-lines output) a :class:`grouper.bulk.detail.DetailRows` of the same rows as
    text; "summary": a :class:`grouper.bulk.summary.SummaryChunk` (the vectorized batch path)."""
    from ..bulk.records import group_record, tableset_at
    from ..bulk.summary import summarize_arrow, summarize_rows
    opts = dict(options)
    detail = opts.pop("detail", "full")
    with_warnings = opts.pop("warnings", True)
    layout = opts.pop("layout", None)
    keep = opts.pop("keep", ())
    mce = opts.pop("edits", None)         # the MCE release folder with --edits
    as_lines = opts.pop("lines", False)
    if isinstance(chunk, JsonlBlock) and detail == "full":     # full detail as JSON lines, from Arrow columns
        return _detail_block(chunk, opts)
    if isinstance(chunk, JsonlBlock):                     # JSON lines, parsed by Arrow when it reads them exactly
        ts = tableset_at(opts["tables"]) if isinstance(opts.get("tables"), str) else opts.get("tables")
        parts = []
        for part in chunk.parts():
            got = part.table()
            if got is not None:
                table, lines = got
                out = summarize_arrow(table, version=opts.get("version"), tables=ts, warnings=with_warnings)
                out.line = lines
            else:
                out = summarize_rows(part.rows(), version=opts.get("version"), tables=ts, warnings=with_warnings)
            parts.append(out)
        from ..bulk.summary import SummaryChunk
        return SummaryChunk.concat(parts)
    if isinstance(chunk, tuple):                          # an Arrow record batch
        first, table = chunk
        kept = table.select(list(keep)) if keep else None
        if detail == "full" or mce is not None:
            from ..reading.layout import looks_wide
            if layout is not None or looks_wide(table.column_names):
                from ..bulk.arrow import wide_to_schema
                table = wide_to_schema(table, layout)
            kept_rows = kept.to_pylist() if kept is not None else [None] * table.num_rows
            chunk = [Row(first + i, rec, None, k) for i, (rec, k) in enumerate(zip(table.to_pylist(), kept_rows))]
        else:
            ts = tableset_at(opts["tables"]) if isinstance(opts.get("tables"), str) else opts.get("tables")
            got = summarize_arrow(table, first_line=first, version=opts.get("version"), tables=ts,
                                  warnings=with_warnings, normalize=opts.get("normalize", False), layout=layout,
                                  convert_codes=opts.get("convert_codes", False))
            got.kept_table = kept
            return got
    if detail == "full":
        if as_lines and mce is None and not opts.get("normalize") and not opts.get("convert_codes"):
            return _detail_lines(chunk, opts)
        recs = [group_record(row.claim, line=row.line, read_error=row.error, **opts) for row in chunk]
    else:
        ts = tableset_at(opts["tables"]) if isinstance(opts.get("tables"), str) else opts.get("tables")
        got = summarize_rows(chunk, normalize=opts.get("normalize", False), version=opts.get("version"), tables=ts,
                             warnings=with_warnings, convert_codes=opts.get("convert_codes", False))
        if mce is None:
            return got
        recs = got.records()
    edits = edit_columns(chunk, mce) if mce is not None else repeat(None)
    for row, rec, ed in zip(chunk, recs, edits):
        if isinstance(rec.get("version"), int):
            rec["version"] = version_label(rec["version"])
        if ed is not None:
            rec.update(ed)
        if row.kept:
            rec.update(_kept(row.kept))
    return recs


def _detail_lines(chunk: list, opts: dict):
    """Full detail as JSON lines (:func:`grouper.bulk.detail.detail_rows`); the rows it leaves
    (errors, kept columns, values written otherwise) as output dicts, as :func:`group_chunk`
    makes them."""
    from ..bulk.detail import detail_rows
    from ..bulk.records import group_record, tableset_at
    from ..tables import default
    tables = opts.get("tables")
    ts = tableset_at(tables) if isinstance(tables, str) else (tables or default())
    got = detail_rows(chunk, tables=ts, label=version_label, version=opts.get("version"))
    lines = got.lines
    for k, text in enumerate(lines):
        if text is None:
            row = chunk[k]
            rec = group_record(row.claim, line=row.line, read_error=row.error, **opts)
            if isinstance(rec.get("version"), int):
                rec["version"] = version_label(rec["version"])
            if row.kept:
                rec.update(_kept(row.kept))
            lines[k] = rec
    return got


def _detail_block(block: JsonlBlock, opts: dict):
    """Full detail as JSON lines of a block of JSON lines: each part Arrow reads exactly
    (:meth:`JsonlBlock.parts`) read a column at a time (:func:`grouper.bulk.detail.detail_arrow`),
    the rows it leaves, and the parts Arrow cannot read, line by line (:func:`_detail_lines`)."""
    from ..bulk.arrow import columns_from_arrow
    from ..bulk.detail import DetailRows, detail_arrow
    from ..bulk.records import tableset_at
    from ..io.readers import jsonl_row
    from ..tables import default
    tables = opts.get("tables")
    ts = tableset_at(tables) if isinstance(tables, str) else (tables or default())
    lines: list = []
    rcs: list = []
    warns: list = []
    for part in block.parts():
        got = part.table()
        cols = None
        if got is not None:
            table, numbers = got
            cols = columns_from_arrow(table, version=opts.get("version"), tables=ts)
        if cols is None:
            out = _detail_lines(part.rows(), opts)
        else:
            out = detail_arrow(cols, numbers, tables=ts, label=version_label)
            # (a part with a line nested too deep has no table: JsonlBlock.table, _too_deep)
            left = [k for k, text in enumerate(out.lines) if text is None]
            if left:
                rows = [jsonl_row(*part.items[k]) for k in left]
                by_row = _detail_lines(rows, opts)
                for k, text, rc, ws in zip(left, by_row.lines, by_row.return_code, by_row.warnings):
                    out.lines[k], out.return_code[k], out.warnings[k] = text, rc, ws
        lines += out.lines
        rcs += out.return_code
        warns += out.warnings
    return DetailRows(lines, rcs, warns)


def _is_lines(got) -> bool:
    from ..bulk.detail import DetailRows
    return isinstance(got, DetailRows)


def _count_record(rec: dict, outcomes: Counter, warn_counts: Counter, stats) -> None:
    if rec.get("error"):
        outcomes["error:" + rec["error"]["code"]] += 1
    else:
        outcomes[rec.get("return_code", "?")] += 1
    for w in rec.get("warnings") or ():
        warn_counts[w["code"]] += 1
    stats.add(rec)


def _count_lines(got, outcomes: Counter, warn_counts: Counter, stats) -> None:
    """The counts of a chunk of full-detail lines (:class:`grouper.bulk.detail.DetailRows`)."""
    for text, rc, ws in zip(got.lines, got.return_code, got.warnings):
        if type(text) is not str:
            _count_record(text, outcomes, warn_counts, stats)
            continue
        outcomes[rc] += 1
        if ws:
            for w in ws:
                warn_counts[w.code] += 1
            stats.add({"warnings": [w.to_dict() for w in ws]})
        else:
            stats.rows += 1


def _chunks(it, n):
    it = iter(it)
    while True:
        chunk = list(islice(it, n))
        if not chunk:
            return
        yield chunk


class Progress:
    def __init__(self, enabled: bool, total_bytes: int | None):
        self.enabled = enabled
        self.total = total_bytes
        self.t0 = time.perf_counter()
        self.last = 0.0
        self.rows = 0

    def update(self, rows: int, pos: int | None = None, force=False):
        self.rows = rows
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self.last < 0.25:
            return
        self.last = now
        dt = max(now - self.t0, 1e-9)
        rate = rows / dt
        msg = f"\r{rows:,} claims  {rate:,.0f}/s"
        if self.total and pos:
            frac = min(pos / self.total, 1.0)
            eta = dt * (1 - frac) / frac if frac > 0 else 0
            width = 24
            bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
            msg += f"  [{bar}] {frac * 100:5.1f}%  ETA {eta:5.0f}s"
        sys.stderr.write(msg)
        sys.stderr.flush()

    def done(self):
        if self.enabled:
            self.update(self.rows, force=True)
            sys.stderr.write("\n")


def _write_jsonl(out, rec: dict) -> None:
    out.write(gio.json_line(rec))


def _csv_row(rec: dict) -> dict:
    row = {k: rec.get(k) for k in CSV_FIELDS if k not in ("error_code", "error", "warnings")}
    err = rec.get("error")
    row["error_code"] = err["code"] if err else ""
    row["error"] = err["message"] if err else ""
    row["warnings"] = "; ".join(warning_text(w) for w in rec.get("warnings") or ())
    if "mce_edit_type" in rec:
        row.update(group_csv_fields(rec))
    for k, v in rec.items():
        if k not in row and k not in OUTPUT_NAMES:       # kept input columns
            row[k] = v
    return row


def _usage_error(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2


@contextlib.contextmanager
def _few_collections(threshold: int = 10_000):
    """Cyclic garbage collection less often while a run lasts: a chunk's results are hundreds of
    thousands of small dicts and lists, freed by reference counting, that the default threshold
    (700) makes the collector walk over and over (a fifth of the full-detail run's time).  It
    yields ``gc.freeze``, called after each chunk: what the run keeps (tables, memoized pieces:
    millions of objects after a while) is then left out of the collections that the next
    chunks' short-lived objects trigger (each full collection walked all of it); the
    objects are handed back to the collector when the run ends."""
    old = gc.get_threshold()
    gc.set_threshold(threshold, 10, 10)
    try:
        yield gc.freeze
    finally:
        gc.unfreeze()
        gc.set_threshold(*old)


@contextlib.contextmanager
def grouped_chunks(chunks, options: dict, jobs: int):
    """The grouped chunks (:func:`group_chunk`), in order: here, or in ``jobs`` worker processes
    (stopped when the block ends, however it ends)."""
    if jobs > 1:
        with Workers(jobs, group_chunk, options) as pool:
            yield pool.map(chunks)
    else:
        yield (group_chunk(c, options) for c in chunks)


def cmd_group(args) -> int:
    from ..tables import TableIntegrityError
    out_path = args.output or "-"
    if args.jobs < 1 or args.chunk < 1:
        return _usage_error("--jobs and --chunk must be at least 1")
    try:
        fmt_out = output_format(out_path, args.output_format)
        gio.check_input(args.input)
        size = os.path.getsize(args.input) if args.input != "-" else None
    except InputError as exc:
        return _usage_error(str(exc))
    except OSError as exc:
        return _usage_error(f"{args.input}: {exc.strerror}")
    progress = Progress(not args.quiet and sys.stderr.isatty(), size)
    options = _options(args, fmt_out)
    # fail early (exit 2) when the tables cannot be used at all
    try:
        from ..tables import TableSet, default
        ts = TableSet(options["tables"]) if options["tables"] else default()
        ts.manifest  # noqa: B018  (reading the manifest checks the tables)
        if options["version"] is not None:
            ts.resolve(options["version"])
        if args.edits:
            options["edits"] = str(release_tables(args).directory)
        elif args.mce_release or args.mce_tables:
            raise ValueError("--mce-release and --mce-tables go with --edits")
    except (TableIntegrityError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    try:
        rows = open_rows(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    arrow_in = getattr(rows, "format", None) in ARROW_FORMATS
    columnar_jsonl = not arrow_in and _columnar_jsonl(rows, options, args.jobs, out_path)
    if arrow_in or columnar_jsonl or fmt_out in ARROW_FORMATS:     # pyarrow, given no pandas objects
        from ..io.arrow import without_pandas_probe
        without_pandas_probe()
    if arrow_in:
        options["layout"], options["keep"] = rows.layout, tuple(rows.keep)
        progress.total = rows.num_rows
        chunks = _arrow_chunks(rows)
        kept = list(rows.keep)
    elif columnar_jsonl:
        size = args.chunk if options["detail"] == "full" else max(args.chunk, JSONL_BLOCK)
        chunks = (JsonlBlock(b) for b in rows.blocks(size))
        kept = []
    else:
        chunks = _chunks(rows, args.chunk)
        kept = [name for name, _ in getattr(rows, "kept", ())] or list(getattr(rows, "keep", ()))
    outcomes: Counter = Counter()
    warn_counts: Counter = Counter()
    stats = RunStats()
    n = 0
    output = _Output(out_path, fmt_out, kept, edits=bool(args.edits), detail=options["detail"], inputs=[args.input])
    try:
        with output as out, _few_collections() as settle, grouped_chunks(chunks, options, args.jobs) as results:
            for got in results:
                if isinstance(got, list):                 # one dict per row
                    for rec in got:
                        _count_record(rec, outcomes, warn_counts, stats)
                    n += len(got)
                elif _is_lines(got):                      # full detail as JSON lines
                    _count_lines(got, outcomes, warn_counts, stats)
                    n += len(got.lines)
                else:                                     # a summary chunk, as columns
                    columnar.count(got, outcomes, warn_counts, stats)
                    n += got.n
                out.write(got)
                del got
                settle()
                progress.update(n, _tell(rows))
    except (KeyboardInterrupt, Terminated) as exc:
        progress.done()
        return stopped(exc, output, n)
    except BrokenPipeError as exc:
        progress.done()
        if out_path == "-":
            return stdout_closed(output, n)
        return _usage_error(f"cannot write {out_path}: {exc.strerror}; {output.failed(n)}")
    except gio.OutputError as exc:          # refused before anything was written
        progress.done()
        return _usage_error(str(exc))
    except (gio.InputError, WorkerError) as exc:
        progress.done()
        return _usage_error(f"{exc}; {output.failed(n)}")
    except OSError as exc:                  # writing failed: disk full, quota, I/O error
        progress.done()
        return _usage_error(f"cannot write {out_path}: {exc.strerror or exc}; {output.failed(n)}")
    progress.done()
    hints = stats.hints(rows, normalize=options["normalize"])
    if not args.quiet:
        _summary(n, outcomes, warn_counts)
    if not args.quiet or args.strict:
        print_hints(hints, sys.stderr)
    if args.strict and hints:
        print(f"--strict: {len(hints)} fixable problem{'s' if len(hints) > 1 else ''} (exit {3})", file=sys.stderr)
        return 3
    return 1 if any(k.startswith("error:") for k in outcomes) else 0


#: lines per block of JSON lines parsed by Arrow (the summary outputs)
JSONL_BLOCK = 20_000


def _columnar_jsonl(rows, options: dict, jobs: int = 1, path: str = "") -> bool:
    """Whether JSON lines go through Arrow's JSON parser (pyarrow installed; no per-claim edits,
    MCE or kept columns, which need the claims one by one): to the summary outputs, and the full
    detail written as JSON lines to a file by this process (``jobs`` 1; with more, and to
    standard output, the rows are read line by line as before)."""
    if not isinstance(rows, gio.JsonlReader) or rows.keep:
        return False
    if options["detail"] != "summary" and not (options["detail"] == "full" and options["lines"] and jobs == 1
                                               and path != "-"):
        return False
    if options["normalize"] or options["convert_codes"] or options.get("edits"):
        return False
    try:
        import pyarrow.json  # noqa: F401
    except ImportError:
        return False
    return True


class JsonlBlock:
    """A block of JSON lines (:meth:`grouper.io.JsonlReader.blocks`): parsed a whole block at a
    time by Arrow (:func:`grouper.io.arrow.jsonl_table`), else line by line."""

    def __init__(self, items: list):
        self.items = items
        self._table = None        # (the parse, or None), once tried

    def parts(self, smallest: int = 500):
        """The block, or, when Arrow cannot read it exactly, its quarters (recursively, down to
        ``smallest`` lines, read line by line): one odd line does not slow its whole block."""
        if len(self.items) <= smallest or self.table() is not None:
            yield self
            return
        q = -(-len(self.items) // 4)
        for a in range(0, len(self.items), q):
            yield from JsonlBlock(self.items[a:a + q]).parts(smallest)

    def table(self):
        if self._table is None:
            from ..io.arrow import jsonl_table
            from ..io.readers import MAX_LINE_BYTES
            got = None if _too_deep(self.items) else jsonl_table(self.items, max_line=MAX_LINE_BYTES)
            self._table = (got if got is None or _sound(got[0]) else None,)
        return self._table[0]

    def rows(self) -> list:
        from ..io.readers import jsonl_row
        out = []
        for item in self.items:
            row = item if isinstance(item, Row) else jsonl_row(*item)
            if row is not None:
                out.append(row)
        return out


def _too_deep(items) -> bool:
    """Whether a line of the block is nested deeper than a row may be (``MAX_DEPTH``, even
    inside a key the grouper ignores): the line reader makes it an UNREADABLE_ROW, and Arrow
    would read it; the block is then read line by line.  Only a line with more brackets than
    the limit is decoded to measure its depth (a claim has far fewer)."""
    import json

    from ..io.readers import MAX_DEPTH, nesting_depth
    for item in items:
        if isinstance(item, tuple):
            raw = item[1]
            if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH:
                try:
                    if nesting_depth(json.loads(raw)) > MAX_DEPTH:
                        return True
                except (ValueError, RecursionError):   # not JSON: Arrow refuses the block anyway
                    return True
    return False


def _sound(table) -> bool:
    """Whether Arrow's parse is a valid table.  pyarrow's JSON reader (26.0) can give a list
    column whose items start with nulls before text (``"procedures": [null, "0DTJ4ZZ"]``, the
    first such list of the block) a text array without those nulls: its lists then span more
    items than it holds, values shift or the reading fails; the full validation says so (in
    well under a millisecond for a block), and the block is read line by line instead."""
    import pyarrow as pa
    try:
        table.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _arrow_chunks(reader):
    """``(first row number, table)`` per record batch of a Parquet / Arrow reader."""
    first = 1
    for table in reader:
        yield first, table
        first += table.num_rows


class _Output:
    """The output file of ``group``: CSV, JSON lines, Parquet or Arrow IPC, written atomically;
    ``write`` takes a chunk's results (a list of dicts, or a summary chunk)."""

    def __init__(self, path: str, fmt: str, kept: list[str], *, edits: bool = False, detail: str = "full",
                 inputs=()):
        self.path, self.format, self.kept, self.detail = path, fmt, kept, detail
        self._names = list(kept_fields(dict.fromkeys(kept), OUTPUT_NAMES))
        self._fields = CSV_FIELDS + (GROUP_CSV_FIELDS if edits else [])
        self.edits = edits
        if fmt in ARROW_FORMATS:
            from ..io.arrow import ArrowWriter
            self._ctx = ArrowWriter(path, fmt, inputs=inputs, deferred=True)
        else:
            self._ctx = gio.AtomicWriter(path, inputs=inputs)

    def failed(self, rows: int) -> str:
        """What a failed or interrupted run leaves (see :meth:`grouper.io.AtomicWriter.failed`)."""
        return self._ctx.failed(rows)

    @property
    def lines_out(self):
        return getattr(self._ctx, "lines_out", None)

    def __enter__(self):
        self.f = self._ctx.__enter__()
        if self.format == "csv":
            self.csv = csv.writer(self.f)
            self.csv.writerow(self._fields + self._names)
        return self

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)

    def _full_table(self, recs: list):
        """Full-detail rows, or rows with the MCE's columns (--edits), as an Arrow table of one
        schema for every chunk: per-code flags as list columns
        (:func:`grouper.bulk.results.full_table`), the MCE's as in :func:`grouper.group_arrow`."""
        from ..bulk.results import full_table, result_fields
        from .mce import group_arrow_columns
        kept = [k for k in (recs[0] if recs else {}) if k not in OUTPUT_NAMES and k not in ("line", "error")]
        fields = None if self.detail == "full" else result_fields(warnings=True)
        extra = group_arrow_columns(recs) if self.edits else None
        return full_table(recs, leading=("id", "line"), kept=self._names or kept, fields=fields, extra=extra,
                          error_warnings=None if fields is None else [])

    def write(self, got) -> None:
        if self.format in ARROW_FORMATS:
            if isinstance(got, list):
                table = self._full_table(got)
            else:
                table = columnar.arrow_table(got, self.kept)
            self._ctx.write(table)
        elif self.format == "csv":
            if isinstance(got, list):
                fields = self._fields + self._names
                self.csv.writerows([_csv_row(rec).get(f) for f in fields] for rec in got)
            else:
                self.csv.writerows(columnar.csv_rows(got, self.kept))
        elif _is_lines(got):
            self.f.write("".join([x if type(x) is str else gio.json_line(x) for x in got.lines]))
        else:
            recs = got if isinstance(got, list) else columnar.json_records(got, _kept)
            self.f.write("".join(map(gio.json_line, recs)))      # one write per chunk


def _tell(rows):
    return getattr(rows, "position", None)


def _summary(n, outcomes: Counter, warn_counts: Counter) -> None:
    err = sys.stderr
    print(f"{n:,} rows", file=err)
    for k, v in sorted(outcomes.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {k:45s} {v:10,}", file=err)
    if warn_counts:
        print("warnings:", file=err)
        for k, v in sorted(warn_counts.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {k:45s} {v:10,}", file=err)


def cmd_demo(args) -> int:
    """Group the sample claims shipped with the package and print one line per claim."""
    from importlib import resources

    from ..engine.pipeline import group
    path = resources.files("grouper") / "data" / "sample_claims.jsonl"
    claims = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    t0 = time.perf_counter()
    results = [group(c) for c in claims]
    dt = time.perf_counter() - t0
    print(f"{'claim':26s} {'ver':5s} {'DRG':>3s} {'MDC':>3s} {'return code':28s} {'weight':>8s}  title")
    for c, r in zip(claims, results):
        w = f"{r.weight:.4f}" if r.weight is not None else "-"
        print(f"{c['id']:26s} {r.version // 10}.{r.version % 10:<3d} {r.final_drg:3d} {r.final_mdc:3d} "
              f"{r.return_code:28s} {w:>8s}  {r.final_drg_description[:58]}")
        for wn in r.warnings:
            if wn.code not in ("AGE_MISSING",):
                print(f"{'':32s}warning {wn.code}: {wn.message}")
    print(f"\n{len(claims)} sample claims grouped in {dt * 1000:.0f} ms "
          f"(tables: v{min(r.version for r in results) / 10:.1f}-v{max(r.version for r in results) / 10:.1f}); "
          f"group your own file with: python -m grouper group claims.jsonl -o results.jsonl")
    if args.output:
        try:
            with gio.AtomicWriter(args.output) as out:
                for c, r in zip(claims, results):
                    d = r.to_dict()
                    d["id"] = c["id"]
                    d["version"] = version_label(r.version)
                    _write_jsonl(out, d)
        except gio.OutputError as exc:
            return _usage_error(str(exc))
        except OSError as exc:
            return _usage_error(f"cannot write {args.output}: {exc.strerror or exc}")
    return 0


# ------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m grouper",
                                 description="MS-DRG grouper identical to the CMS grouper (v40.0-v44.0).")
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("group", help="group a file of claims (JSON lines or CSV)")
    g.add_argument("input", help="claims file: .jsonl[.gz] in the labelled-claims schema or .csv[.gz]/.tsv/.txt "
                                 "wide layout (docs/columns.md); - for stdin")
    g.add_argument("-o", "--output", help="output file (.jsonl[.gz] or .csv[.gz]); default stdout")
    add_input_options(g)
    g.add_argument("--version", help="group every claim with this grouper version (e.g. 43.1); "
                                     "default: the claim's version or discharge date")
    g.add_argument("--normalize", action="store_true",
                   help="clean unambiguous code formatting (dots, blanks, case) before grouping; "
                        "each change is reported as a warning")
    g.add_argument("--convert-codes", action="store_true",
                   help="convert each claim's codes from the code set of its discharge date to that of the "
                        "version used (with --version: regroup old claims under a newer version), with CMS's "
                        "ICD-10 conversion tables; each conversion is reported as a warning")
    g.add_argument("--detail", choices=["full", "summary"],
                   help="full: every CMS output field incl. per-code flags (default for JSON lines); "
                        "summary: claim-level fields only, vectorized and much faster (default for CSV)")
    g.add_argument("--no-warnings", action="store_true", help="skip the warnings (faster)")
    g.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    g.add_argument("--chunk", type=int, default=CHUNK, help=argparse.SUPPRESS)
    g.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    g.add_argument("--tables", help="compiled tables folder (default: the repository's tables/)")
    g.set_defaults(func=cmd_group)
    d = sub.add_parser("demo", help="group the sample claims shipped with the package")
    d.add_argument("-o", "--output", help="also write the full results as JSON lines")
    d.set_defaults(func=cmd_demo)
    g.add_argument("--edits", action="store_true",
                   help="add the Medicare Code Editor's edit type and counts to each row (mce_edit_type, mce_edits; "
                        "CSV: one mce_<EDIT> column per edit); the claims need age, discharge_status, discharge_date "
                        "and los (or admission_date), else the row carries mce_error")
    add_release_options(g)
    from .finance import register
    register(sub)
    register_edit(sub)
    return ap


def main(argv=None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    with stop_on_signals():
        try:
            return args.func(args)
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except (KeyboardInterrupt, Terminated) as exc:
            print(f"interrupted by {getattr(exc, 'name', 'Ctrl-C (SIGINT)')}", file=sys.stderr)
            return exit_status(exc)
        except BrokenPipeError:
            # the reader went away (`| head`): stop quietly, as other command-line tools do
            try:
                sys.stdout = open(os.devnull, "w")
            except OSError:
                pass
            return 141
        except Exception as exc:       # a failure nobody foresaw: one line, not a traceback
            if os.environ.get("GROUPER_DEBUG"):
                raise
            print(f"error: {type(exc).__name__}: {exc} (set GROUPER_DEBUG=1 for the traceback)", file=sys.stderr)
            return 70
