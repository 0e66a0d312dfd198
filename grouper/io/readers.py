"""Reading claim files: one :class:`Row` per input row.

Inputs: JSON lines in the schema of the labelled claims (``.gz`` accepted), or
CSV in the wide claim layout (``dx1`` = principal diagnosis, ``dx2..dxN``
secondary diagnoses with ``poa1..poaN``, ``pr1..prN`` procedures; column names
mapped by :class:`grouper.reading.layout.Layout`; a byte-order mark is skipped and
the delimiter sniffed from the header).  Every input row yields exactly one
:class:`Row`: a claim dict, or a read error with the line number, never a
silently dropped row.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import sys
import zlib
from collections.abc import Iterator

import attrs


@attrs.frozen
class Row:
    line: int                  # 1-based line (JSONL) or record number (CSV, header = 1)
    claim: dict | None         # the claim as a dict in the JSON-lines schema
    error: tuple[str, str] | None = None   # (error code, message) when the row is unreadable
    kept: dict | None = None   # the input columns to carry to the output (``keep``)


def _open_text(path: str):
    if path == "-":
        import sys
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="surrogateescape", newline="")
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="surrogateescape", newline="")
    return open(path, encoding="utf-8", errors="surrogateescape", newline="")


def detect_format(path: str) -> str:
    """``csv`` for .csv/.tsv/.txt (optionally .gz), ``parquet`` for .parquet/.pq, ``arrow`` for
    .arrow/.feather/.ipc, ``jsonl`` otherwise; on stdin (``-``), ``jsonl``
    when the first character is ``{`` or ``[``, else ``csv``."""
    if path == "-":
        return _sniff_stdin()
    p = path[:-3] if path.endswith(".gz") else path
    ext = os.path.splitext(p)[1].lower()
    if ext in (".csv", ".tsv", ".txt"):
        return "csv"
    if ext in (".parquet", ".pq"):
        return "parquet"
    if ext in (".arrow", ".feather", ".ipc"):
        return "arrow"
    return "jsonl"


def _sniff_stdin() -> str:
    import sys
    buf = getattr(sys.stdin, "buffer", None)
    try:
        head = buf.peek(256)[:256] if buf is not None and hasattr(buf, "peek") else b""
    except (OSError, ValueError):
        head = b""
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    return "jsonl" if not text or text[:1] in (b"{", b"[") else "csv"


def _has_bad_bytes(s: str) -> bool:
    return any(0xDC80 <= ord(ch) <= 0xDCFF for ch in s)


class InputError(Exception):
    """The input cannot be read at all (missing, a folder, not the compressed format its name
    says); the message names the path."""


#: The longest JSON-lines row read: a real claim is a few kB (1,000 codes take about 15 kB).
#: A longer line becomes an error row and is skipped without being held in memory.
MAX_LINE_BYTES = 1 << 20
#: The deepest nesting of arrays and objects in a row (a claim needs 3).
MAX_DEPTH = 32

# errors of a compressed stream cut off or corrupted (gzip raises each of these)
_STREAM_ERRORS = (EOFError, zlib.error, OSError)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")

# json.loads without its per-call layers (type checks, two whitespace matches) for the common
# line: one JSON value from the first character to the end or the newline.  Anything else (blanks
# around it, a bad line) goes to json.loads itself, for its exact value or error.
_scan_once = json.JSONDecoder().scan_once


def _loads(line: str):
    try:
        obj, end = _scan_once(line, 0)
    except Exception:          # not a value at the very start (or a bad one): json.loads says what
        return json.loads(line)
    n = len(line)
    if end == n or (end == n - 1 and line[end] == "\n"):
        return obj
    return json.loads(line)


def check_input(path: str) -> None:
    """InputError unless ``path`` is ``-`` or a file that can be opened for reading."""
    if path == "-":
        return
    if os.path.isdir(path):
        raise InputError(f"{path} is a folder: give a claims file")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None


def _stream_failure(path: str, exc: BaseException, n: int, unit: str, first: int = 1) -> None:
    """A read failing after line/record ``n`` (the first data one is ``first``): a compressed
    file cut off (EOFError) ends with an error row, as the rows before it are sound; corrupt
    data (a CRC or deflate error: the rows before may be garbage too) or an I/O error is an
    InputError -- no output, since nothing read can be trusted."""
    if isinstance(exc, EOFError) and n >= first:
        return
    if n < first:
        raise InputError(f"{path}: cannot be read: {_stream_problem(exc)}") from None
    raise InputError(f"{path}: {_stream_problem(exc)}, found after {unit} {n}; the {unit}s before it cannot be "
                     f"trusted either") from None


def _stream_problem(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "the compressed data ends too early (a truncated file?)"
    if isinstance(exc, gzip.BadGzipFile):
        return f"not valid gzip data ({exc})"
    if isinstance(exc, zlib.error):
        return f"corrupt compressed data ({exc})"
    return getattr(exc, "strerror", None) or str(exc)


class _Positioned:
    """A binary input (plain or gzip) that reports how many bytes of the file were read."""

    def __init__(self, path: str):
        if path == "-":
            import sys
            self.raw = sys.stdin.buffer
            self.f = self.raw
        else:
            try:
                self.raw = open(path, "rb")
            except IsADirectoryError:
                raise InputError(f"{path} is a folder: give a claims file") from None
            except OSError as exc:
                raise InputError(f"cannot read {path}: {exc.strerror}") from None
            self.f = gzip.GzipFile(fileobj=self.raw) if path.endswith(".gz") else self.raw

    @property
    def position(self) -> int | None:
        try:
            return self.raw.tell()
        except (OSError, ValueError):
            return None

    def close(self):
        if self.f is not self.raw:
            self.f.close()
        if self.raw is not getattr(__import__("sys").stdin, "buffer", None):
            self.raw.close()


def nesting_depth(obj) -> int:
    """Nesting depth of arrays/objects, counted up to one past :data:`MAX_DEPTH`."""
    return _depth(obj)


def _depth(obj) -> int:
    """Nesting depth of arrays/objects (iterative: no recursion limit)."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if isinstance(o, (list, dict)):
            deepest = max(deepest, d)
            if deepest > MAX_DEPTH:
                return deepest
            stack.extend((v, d + 1) for v in (o.values() if isinstance(o, dict) else o))
    return deepest


def _lone_surrogate(obj) -> tuple[str, str] | None:
    """(where, the character escaped) of the first text holding a lone surrogate, which no
    UTF-8 output can hold; None if there is none."""
    stack = [("", obj)]
    while stack:
        where, o = stack.pop()
        if isinstance(o, str):
            for ch in o:
                if 0xD800 <= ord(ch) <= 0xDFFF:
                    return where or "the row", f"\\u{ord(ch):04x}"
        elif isinstance(o, dict):
            for k, v in o.items():
                name = f"{where}.{k}" if where else str(k)
                stack.append((name, k))
                stack.append((name, v))
        elif isinstance(o, list):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(o))
    return None


class JsonlReader:
    """JSON-lines rows; ``position`` is the number of input-file bytes consumed so far.

    Every line gives one :class:`Row`; a line that is not a claim object becomes an error
    row (UNREADABLE_ROW) saying why: not UTF-8, not JSON, nested deeper than
    :data:`MAX_DEPTH`, a number too long to read, a lone surrogate (``"\\ud800"``, valid JSON
    but no text), longer than :data:`MAX_LINE_BYTES`.  Blank lines are skipped, and a
    byte-order mark before line 1.  A compressed file cut off after line ``n`` ends with an
    error row naming line ``n`` as the last good line; corrupt compressed data is an
    :class:`InputError` (see :func:`_stream_failure`).  ``keep`` names keys copied into
    ``Row.kept``."""

    def __init__(self, path: str, *, keep=()):
        self.path = path
        self.keep = tuple(keep or ())
        self._src = None

    @property
    def position(self):
        return self._src.position if self._src is not None else 0

    def __iter__(self) -> Iterator[Row]:
        for item in self._lines():
            if isinstance(item, Row):
                yield item
            else:
                row = self._row(*item, self.keep)
                if row is not None:
                    yield row

    def blocks(self, size: int):
        """The file in blocks of about ``size`` lines, for readers that parse many lines at once
        (:func:`grouper.io.arrow.jsonl_table`): per block a list whose items are ``(line number,
        raw bytes, 0)`` for a line to parse, or a :class:`Row` already made (an over-long line, a
        truncated file); :meth:`rows_of` turns a block into the rows iterating gives."""
        block = []
        for item in self._lines():
            block.append(item)
            if len(block) >= size:
                yield block
                block = []
        if block:
            yield block

    def rows_of(self, block) -> list[Row]:
        """The rows of a block of :meth:`blocks`, exactly as iterating the reader gives them."""
        out = []
        for item in block:
            row = item if isinstance(item, Row) else self._row(*item, self.keep)
            if row is not None:
                out.append(row)
        return out

    def _lines(self):
        """``(line number, raw bytes, bytes skipped)`` per line, or a Row for a stream failure."""
        self._src = src = _Positioned(self.path)
        readline = src.f.readline
        n = 0
        try:
            while True:
                try:
                    raw = readline(MAX_LINE_BYTES + 1)
                    extra = 0
                    if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                        while True:             # skip the rest of an over-long line
                            more = readline(MAX_LINE_BYTES)
                            extra += len(more)
                            if not more or more.endswith(b"\n"):
                                break
                except _STREAM_ERRORS as exc:
                    _stream_failure(self.path, exc, n, "line")
                    yield Row(n + 1, None, ("UNREADABLE_ROW",
                                            f"line {n + 1}: {self.path} is truncated after line {n}, the last "
                                            f"good line: {_stream_problem(exc)}"))
                    return
                if not raw:
                    return
                n += 1
                if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                if extra:
                    yield self._row(n, raw, extra, self.keep)
                else:
                    yield n, raw, 0
        finally:
            src.close()

    @staticmethod
    def _row(n: int, raw: bytes, extra: int, keep=()) -> Row | None:
        if extra or len(raw) > MAX_LINE_BYTES:
            return Row(n, None, ("UNREADABLE_ROW", f"line {n}: {len(raw) + extra:,} bytes long, more than the "
                                                   f"{MAX_LINE_BYTES:,} a claim row may have (skipped)"))
        if not raw.strip():
            return None
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Row(n, None, ("UNREADABLE_ROW", f"line {n}: not valid UTF-8 (byte {exc.start})"))
        try:
            obj = _loads(line)
        except json.JSONDecodeError as exc:
            return Row(n, None, ("UNREADABLE_ROW", f"line {n}: not valid JSON ({exc.msg} at column {exc.colno})"))
        except RecursionError:
            return Row(n, None, ("UNREADABLE_ROW", f"line {n}: nested more than {MAX_DEPTH} levels deep"))
        except ValueError:                  # an integer longer than Python converts
            return Row(n, None, ("UNREADABLE_ROW", f"line {n}: a number with more than "
                                                   f"{sys.get_int_max_str_digits():,} digits (too long to read)"))
        if not isinstance(obj, dict):
            return Row(n, None, ("UNREADABLE_ROW", f"line {n}: a JSON object is required, got {type(obj).__name__}"))
        if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _depth(obj) > MAX_DEPTH:
            return Row(n, None, ("UNREADABLE_ROW", f"line {n}: nested more than {MAX_DEPTH} levels deep"))
        if b"\\u" in raw and _SURROGATE_ESCAPE.search(raw):
            bad = _lone_surrogate(obj)
            if bad is not None:
                return Row(n, None, ("UNREADABLE_ROW", f"line {n}: {bad[0]} holds {bad[1]}, a lone surrogate "
                                                       f"(not a Unicode character)"))
        return Row(n, obj, None, {k: obj.get(k) for k in keep} if keep else None)


def read_jsonl(path: str) -> JsonlReader:
    return JsonlReader(path)


#: ``--delimiter`` words
DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|",
                   "space": " "}
SNIFFED = (",", "\t", ";", "|")


class CsvError(ValueError):
    """A CSV file that cannot be read as claims at all (a bad delimiter, an unusable header)."""


def parse_delimiter(value: str | None) -> str | None:
    """A ``--delimiter`` value: one character, or tab / \\t / comma / semicolon / pipe."""
    if value is None or value == "":
        return None
    d = DELIMITER_NAMES.get(value.lower() if len(value) > 1 else value, value)
    if len(d) != 1:
        raise CsvError(f"--delimiter must be one character or one of {', '.join(sorted(DELIMITER_NAMES))}; "
                       f"got {value!r}")
    return d


def sniff_delimiter(line: str) -> str:
    """The delimiter of a header line: the most frequent of , TAB ; | outside quotes (',' if none)."""
    plain = re.sub(r'"[^"]*"', "", line)
    counts = {d: plain.count(d) for d in SNIFFED}
    best = max(SNIFFED, key=lambda d: counts[d])
    return best if counts[best] else ","


def _resolve_keep(keep, header) -> list[tuple[str, int]]:
    from ..reading.layout import column_key, show_header
    index = {}
    for i, h in enumerate(header):
        index.setdefault(column_key(h), i)
    out = []
    for name in keep or ():
        i = index.get(column_key(name))
        if i is None:
            raise CsvError(f"--keep-columns: no column {name!r} in the header ({show_header(header)})")
        out.append((header[i], i))
    return out


class CsvReader:
    """Claims of a wide CSV file, one :class:`Row` per record (header = record 1).

    The header is read when the reader is made: a :class:`grouper.reading.layout.LayoutError`
    (a mapped column missing, no diagnosis column) or :class:`CsvError` is raised then, before
    any output is written.  ``bound`` tells which column is read for which field and which are
    not read; ``kept`` names the columns copied into ``Row.kept`` (``keep``)."""

    def __init__(self, path: str, layout=None, *, delimiter: str | None = None, keep=()):
        from ..reading.layout import Layout
        self.path = path
        self.layout = layout or Layout()
        try:
            self._f = _open_text(path)
        except IsADirectoryError:
            raise InputError(f"{path} is a folder: give a claims file") from None
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from None
        try:
            try:
                first = self._f.readline()
            except _STREAM_ERRORS as exc:
                raise InputError(f"{path}: cannot be read: {_stream_problem(exc)}") from None
            if first.startswith("\ufeff"):
                first = first[1:]
            self.delimiter = parse_delimiter(delimiter) or (
                "\t" if path.endswith((".tsv", ".tsv.gz")) else sniff_delimiter(first))
            self._lines = _Lines(_chain_first(first, self._f))
            self._reader = csv.reader(self._lines, delimiter=self.delimiter)
            self.header = None
            if first.strip():
                try:
                    self.header = next(self._reader)
                except csv.Error as exc:
                    raise CsvError(f"{path}: the header cannot be read ({exc})") from None
            self.bound = self.layout.bind(self.header) if self.header is not None else None
            self.kept = _resolve_keep(keep, self.header) if self.header is not None else []
        except BaseException:
            self._f.close()
            raise

    def __iter__(self) -> Iterator[Row]:
        try:
            if self.header is None:
                return
            yield from self._rows()
        finally:
            self._f.close()

    def _rows(self):
        header, bound, kept, lines, path = self.header, self.bound, self.kept, self._lines, self.path
        n = 1
        reader = self._reader
        while True:
            lines.record = []
            try:
                rec = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                n += 1
                more = ""
                if len(lines.record) > 1:       # e.g. an unmatched quote ran into the field size limit
                    more = f" (over {len(lines.record):,} lines; the lines after the first are read again)"
                    lines.read_again(lines.record[1:])
                yield Row(n, None, ("UNREADABLE_ROW", f"record {n}: {exc}{more}"))
                continue
            except _STREAM_ERRORS as exc:
                _stream_failure(path, exc, n, "record", first=2)
                yield Row(n + 1, None, ("UNREADABLE_ROW", f"record {n + 1}: {path} is truncated after record {n}, "
                                                          f"the last good record: {_stream_problem(exc)}"))
                return
            n += 1
            if not rec or all(not x.strip() for x in rec):
                continue
            if any(_has_bad_bytes(x) for x in rec):
                yield Row(n, None, ("UNREADABLE_ROW", f"record {n}: not valid UTF-8"))
                continue
            if len(rec) != len(header) and len(lines.record) > 1:
                # a quote opened and never closed on this line ran the record over the lines after it
                yield Row(n, None, ("UNREADABLE_ROW",
                                    f"record {n}: an unmatched quote (\") ran this record over the next "
                                    f"{len(lines.record) - 1:,} lines; it is one bad record, the lines after it "
                                    f"are read again"), _kept(kept, rec))
                lines.read_again(lines.record[1:])
                continue
            if len(rec) != len(header):
                yield Row(n, None, ("UNREADABLE_ROW",
                                    f"record {n}: {len(rec)} fields, the header has {len(header)} "
                                    f"(truncated or shifted line)"), _kept(kept, rec))
                continue
            yield Row(n, bound.claim(rec), None, _kept(kept, rec))


def _kept(kept, rec) -> dict | None:
    if not kept:
        return None
    return {name: (rec[i] if i < len(rec) else None) for name, i in kept}


class _Lines:
    """The lines of a text file for :mod:`csv`, remembering those of the current record, so
    that the lines a stray quote swallowed can be read again."""

    def __init__(self, f):
        self.f = f
        self.record: list[str] = []
        self.again: list[str] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.again.pop() if self.again else next(self.f)
        self.record.append(line)
        return line

    def read_again(self, lines: list[str]) -> None:
        self.again.extend(reversed(lines))


def _chain_first(first: str, f):
    yield first
    yield from f


def read_csv(path: str, layout=None, *, delimiter: str | None = None, keep=()) -> CsvReader:
    """Claims of a wide CSV file (see :mod:`grouper.reading.layout`), one :class:`Row` per record."""
    return CsvReader(path, layout, delimiter=delimiter, keep=keep)


def read_rows(path: str, fmt: str | None = None, layout=None, *, delimiter: str | None = None, keep=()):
    """The rows of a claim file: CSV (wide layout) or JSON lines, by ``fmt`` or :func:`detect_format`."""
    fmt = fmt or detect_format(path)
    if fmt == "csv":
        return read_csv(path, layout, delimiter=delimiter, keep=keep)
    return JsonlReader(path, keep=keep)


def jsonl_row(n: int, raw: bytes, extra: int = 0, keep=()) -> Row | None:
    """The row of line ``n`` of a JSON-lines file as :class:`JsonlReader` reads it (None: a blank line)."""
    return JsonlReader._row(n, raw, extra, keep)
