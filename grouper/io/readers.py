"""Reading claim files: one :class:`Row` per input row.

Inputs: JSON lines in the schema of the labelled claims (``.gz`` accepted), or
CSV in the wide claim layout (``dx1`` = principal diagnosis, ``dx2..dxN``
secondary diagnoses with ``poa1..poaN``, ``pr1..prN`` procedures; column names
configurable with :class:`CsvLayout`).  Every input row yields exactly one
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
from typing import Iterator

import attrs


@attrs.frozen
class Row:
    line: int                  # 1-based line (JSONL) or record number (CSV, header = 1)
    claim: dict | None         # the claim as a dict in the JSON-lines schema
    error: tuple[str, str] | None = None   # (error code, message) when the row is unreadable


def _open_text(path: str):
    if path == "-":
        import sys
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="surrogateescape")
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="surrogateescape", newline="")
    return open(path, "r", encoding="utf-8", errors="surrogateescape", newline="")


def detect_format(path: str) -> str:
    p = path[:-3] if path.endswith(".gz") else path
    ext = os.path.splitext(p)[1].lower()
    if ext in (".csv", ".tsv", ".txt"):
        return "csv"
    return "jsonl"


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
    :class:`InputError` (see :func:`_stream_failure`)."""

    def __init__(self, path: str):
        self.path = path
        self._src = None

    @property
    def position(self):
        return self._src.position if self._src is not None else 0

    def __iter__(self) -> Iterator[Row]:
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
                row = self._row(n, raw, extra)
                if row is not None:
                    yield row
        finally:
            src.close()

    @staticmethod
    def _row(n: int, raw: bytes, extra: int) -> Row | None:
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
            obj = json.loads(line)
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
        return Row(n, obj)


def read_jsonl(path: str) -> JsonlReader:
    return JsonlReader(path)


@attrs.frozen
class CsvLayout:
    """Column names of the wide CSV layout.  ``{n}`` in a pattern is the 1-based index."""

    id: str = "id"
    version: str = "version"
    discharge_date: str = "discharge_date"
    age: str = "age"
    sex: str = "sex"
    discharge_status: str = "discharge_status"
    hospital_status: str = "hospital_status"
    admit_dx: str = "admit_dx"
    dx: str = "dx{n}"          # dx1 is the principal diagnosis
    poa: str = "poa{n}"
    pr: str = "pr{n}"
    delimiter: str = ","

    @classmethod
    def parse(cls, specs: list[str] | None, delimiter: str | None = None) -> "CsvLayout":
        """From ``NAME=COLUMN`` options, e.g. ``dx=DIAG{n}`` or ``id=claim_no``."""
        kw = {}
        for spec in specs or ():
            if "=" not in spec:
                raise ValueError(f"column option {spec!r} must be NAME=COLUMN")
            k, v = spec.split("=", 1)
            if k not in attrs.fields_dict(cls) or k == "delimiter":
                raise ValueError(f"unknown column name {k!r} (one of {', '.join(attrs.fields_dict(cls))})")
            if k in ("dx", "poa", "pr") and "{n}" not in v:
                raise ValueError(f"column pattern for {k} must contain {{n}}, got {v!r}")
            kw[k] = v
        if delimiter:
            kw["delimiter"] = delimiter
        return cls(**kw)

    def indexed(self, header: list[str], pattern: str) -> list[tuple[int, str]]:
        rx = re.compile("^" + re.escape(pattern).replace(r"\{n\}", r"(\d+)") + "$", re.IGNORECASE)
        out = []
        for h in header:
            m = rx.match(h.strip())
            if m:
                out.append((int(m.group(1)), h))
        return sorted(out)


def _num_or_text(v: str):
    v = v.strip()
    if v == "":
        return None
    if len(v) <= 18 and re.fullmatch(r"[+-]?\d+(?:\.0*)?", v):
        return int(v.split(".")[0])         # "20.0" (a float column written by pandas) is 20, as in JSON
    return v


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


def _check_header(path: str, header: list[str], layout: "CsvLayout", extra_columns) -> None:
    """InputError when a column the layout reads appears twice (the value of one of them would
    be silently ignored)."""
    names = {getattr(layout, k).lower() for k in ("id", "version", "discharge_date", "age", "sex",
                                                  "discharge_status", "hospital_status", "admit_dx")}
    names |= {e.lower() for e in extra_columns}
    seen: dict = {}
    for i, h in enumerate(header):
        key = h.strip().lower()
        if key in names:
            seen.setdefault(key, []).append(i)
    for pattern, what in ((layout.dx, "diagnosis"), (layout.poa, "POA"), (layout.pr, "procedure")):
        for k, h in layout.indexed(header, pattern):
            seen.setdefault((what, k), []).append(header.index(h))
    for cols in seen.values():
        if len(cols) > 1:
            a, b = sorted(cols)[:2]
            raise InputError(f"{path}: the header has {header[a]!r} (column {a + 1}) and {header[b]!r} "
                             f"(column {b + 1}) for the same field; rename or remove one")


def read_csv(path: str, layout: CsvLayout | None = None, extra_columns: tuple[str, ...] = ()) -> Iterator[Row]:
    """Claims of a wide CSV file (see :class:`CsvLayout`), one :class:`Row` per record; the
    ``extra_columns`` present in the header (e.g. an audit's billed DRG) are copied into each
    claim under their own names when not blank."""
    layout = layout or CsvLayout()
    delim = layout.delimiter
    if path.endswith((".tsv", ".tsv.gz")) and delim == ",":
        delim = "\t"
    try:
        f = _open_text(path)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    with f:
        lines = _Lines(f)
        reader = csv.reader(lines, delimiter=delim)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Row(1, None, ("UNREADABLE_ROW", f"header: {exc}"))
            return
        except _STREAM_ERRORS as exc:
            raise InputError(f"{path}: cannot be read: {_stream_problem(exc)}") from None
        _check_header(path, header, layout, extra_columns)
        col = {h.strip().lower(): i for i, h in enumerate(header)}
        dx_cols = layout.indexed(header, layout.dx)
        poa_cols = dict(layout.indexed(header, layout.poa))
        pr_cols = layout.indexed(header, layout.pr)
        if not dx_cols:
            yield Row(1, None, ("UNREADABLE_ROW", f"header has no diagnosis columns matching {layout.dx!r}"))
            return
        idx = {h: i for i, h in enumerate(header)}
        extras = [(name, col[name]) for name in extra_columns if name in col]
        n = 1
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
                                    f"are read again"))
                lines.read_again(lines.record[1:])
                continue
            if len(rec) != len(header):
                yield Row(n, None, ("UNREADABLE_ROW",
                                    f"record {n}: {len(rec)} fields, the header has {len(header)} "
                                    f"(truncated or shifted line)"))
                continue

            def get(name):
                i = col.get(name.lower())
                return None if i is None else rec[i]

            claim: dict = {}
            for key in ("id", "version", "discharge_date", "age", "sex", "discharge_status",
                        "hospital_status", "admit_dx"):
                v = get(getattr(layout, key))
                if v is not None:
                    claim[key] = _num_or_text(v) if key in ("age", "discharge_status", "version") else (
                        v.strip() if v.strip() else None)
            if claim.get("id") is None:
                claim.pop("id", None)
            dxs = [(k, rec[idx[h]]) for k, h in dx_cols]
            first_k, first_v = dxs[0]
            claim["pdx"] = first_v if first_v.strip() else None
            p = poa_cols.get(first_k)
            claim["pdx_poa"] = rec[idx[p]] if p else "Y"
            sdx = []
            for k, v in dxs[1:]:
                if not v.strip():
                    continue
                p = poa_cols.get(k)
                sdx.append([v, rec[idx[p]] if p else "Y"])
            claim["sdx"] = sdx
            claim["procedures"] = [rec[idx[h]] for _, h in pr_cols if rec[idx[h]].strip()]
            for name, i in extras:
                if rec[i].strip():
                    claim[name] = rec[i].strip()
            yield Row(n, claim)


def read_rows(path: str, fmt: str | None = None, layout: CsvLayout | None = None,
              extra_columns: tuple[str, ...] = ()) -> Iterator[Row]:
    fmt = fmt or detect_format(path)
    if fmt == "csv":
        return read_csv(path, layout, extra_columns)
    return read_jsonl(path)
