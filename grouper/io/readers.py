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
from collections.abc import Iterator

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
    return open(path, encoding="utf-8", errors="surrogateescape", newline="")


def detect_format(path: str) -> str:
    p = path[:-3] if path.endswith(".gz") else path
    ext = os.path.splitext(p)[1].lower()
    if ext in (".csv", ".tsv", ".txt"):
        return "csv"
    return "jsonl"


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
    """JSON-lines rows; ``position`` is the number of input-file bytes consumed so far."""

    def __init__(self, path: str):
        self.path = path
        self._src = None

    @property
    def position(self):
        return self._src.position if self._src is not None else 0

    def __iter__(self) -> Iterator[Row]:
        self._src = src = _Positioned(self.path)
        try:
            for n, raw in enumerate(src.f, start=1):
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
                yield Row(n, obj)
        finally:
            src.close()


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
    def parse(cls, specs: list[str] | None, delimiter: str | None = None) -> CsvLayout:
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
    if re.fullmatch(r"[+-]?\d+", v):
        return int(v)
    return v


def read_csv(path: str, layout: CsvLayout | None = None, extra_columns: tuple[str, ...] = ()) -> Iterator[Row]:
    """Claims of a wide CSV file (see :class:`CsvLayout`), one :class:`Row` per record; the
    ``extra_columns`` present in the header (e.g. an audit's billed DRG) are copied into each
    claim under their own names when not blank."""
    layout = layout or CsvLayout()
    delim = layout.delimiter
    if path.endswith((".tsv", ".tsv.gz")) and delim == ",":
        delim = "\t"
    with _open_text(path) as f:
        reader = csv.reader(f, delimiter=delim)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Row(1, None, ("UNREADABLE_ROW", f"header: {exc}"))
            return
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
                                    f"(truncated or shifted line)"))
                continue

            claim: dict = {}
            for key in ("id", "version", "discharge_date", "age", "sex", "discharge_status",
                        "hospital_status", "admit_dx"):
                v = _field(rec, col, getattr(layout, key))
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


def _field(rec: list, col: dict, name: str):
    """The value of a named column in a CSV record, None when the header has no such column."""
    i = col.get(name.lower())
    return None if i is None else rec[i]


def read_rows(path: str, fmt: str | None = None, layout: CsvLayout | None = None,
              extra_columns: tuple[str, ...] = ()) -> Iterator[Row]:
    fmt = fmt or detect_format(path)
    if fmt == "csv":
        return read_csv(path, layout, extra_columns)
    return read_jsonl(path)
