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


class _Positioned:
    """A binary input (plain or gzip) that reports how many bytes of the file were read."""

    def __init__(self, path: str):
        if path == "-":
            import sys
            self.raw = sys.stdin.buffer
            self.f = self.raw
        else:
            self.raw = open(path, "rb")
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


class JsonlReader:
    """JSON-lines rows; ``position`` is the number of input-file bytes consumed so far.  A UTF-8
    byte-order mark before the first line is skipped; ``keep`` names keys copied into ``Row.kept``."""

    def __init__(self, path: str, *, keep=()):
        self.path = path
        self.keep = tuple(keep or ())
        self._src = None

    @property
    def position(self):
        return self._src.position if self._src is not None else 0

    def __iter__(self) -> Iterator[Row]:
        self._src = src = _Positioned(self.path)
        try:
            for n, raw in enumerate(src.f, start=1):
                if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                if not raw.strip():
                    continue
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield Row(n, None, ("UNREADABLE_ROW", f"line {n}: not valid UTF-8 (byte {exc.start})"))
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield Row(n, None, ("UNREADABLE_ROW",
                                        f"line {n}: not valid JSON ({exc.msg} at column {exc.colno})"))
                    continue
                if not isinstance(obj, dict):
                    yield Row(n, None, ("UNREADABLE_ROW",
                                        f"line {n}: a JSON object is required, got {type(obj).__name__}"))
                    continue
                yield Row(n, obj, None, {k: obj.get(k) for k in self.keep} if self.keep else None)
        finally:
            src.close()


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
        self._f = _open_text(path)
        try:
            first = self._f.readline()
            if first.startswith("\ufeff"):
                first = first[1:]
            self.delimiter = parse_delimiter(delimiter) or (
                "\t" if path.endswith((".tsv", ".tsv.gz")) else sniff_delimiter(first))
            self._lines = _chain_first(first, self._f)
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
        header, bound, kept = self.header, self.bound, self.kept
        n = 1
        reader = self._reader
        while True:
            try:
                rec = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                n += 1
                yield Row(n, None, ("UNREADABLE_ROW", f"record {n}: {exc}"))
                continue
            n += 1
            if not rec or all(not x.strip() for x in rec):
                continue
            if any(_has_bad_bytes(x) for x in rec):
                yield Row(n, None, ("UNREADABLE_ROW", f"record {n}: not valid UTF-8"))
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
