"""The on-disk format of compiled tables: one file = named numpy arrays + JSON metadata.

Layout (little endian)::

    b"GRPTAB01"                     8-byte magic
    uint64  header length H
    H bytes JSON header: {"arrays": {name: [dtype, shape, offset]}, "meta": {...}}
    zero padding to a multiple of 16, then the raw array bytes at their offsets

The writer is deterministic (sorted keys, no timestamps), so building twice
gives byte-identical files.  The reader does one read and maps each array
as a read-only ``memoryview`` of its bytes (zero copy): indexing one element gives a Python
number without importing numpy, so one claim is grouped without it; the vectorized path
takes the same buffers as numpy arrays with :func:`as_numpy` (zero copy).
"""
from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from json.decoder import scanstring
from typing import Any

MAGIC = b"GRPTAB01"
_ALIGN = 16


class ContainerError(ValueError):
    """A table file is not a valid container (truncated, wrong magic, bad header)."""


# numpy dtype string -> struct format of memoryview.cast (little-endian machines)
_FORMATS = {"|i1": "b", "|u1": "B", "|b1": "?", "<i2": "h", "<u2": "H", "<i4": "i", "<u4": "I",
            "<i8": "q", "<u8": "Q", "<f4": "f", "<f8": "d"}


def dumps(arrays: dict, meta: dict[str, Any] | None = None) -> bytes:
    import numpy as np
    index: dict[str, list] = {}
    chunks: list[bytes] = []
    offset = 0
    for name in sorted(arrays):
        arr = np.ascontiguousarray(arrays[name])
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        raw = arr.tobytes()
        index[name] = [arr.dtype.str, list(arr.shape), offset]
        pad = (-len(raw)) % _ALIGN
        chunks.append(raw + b"\0" * pad)
        offset += len(raw) + pad
    header = json.dumps({"arrays": index, "meta": meta or {}}, sort_keys=True,
                        separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    head = MAGIC + len(header).to_bytes(8, "little") + header
    head += b"\0" * ((-len(head)) % _ALIGN)
    return head + b"".join(chunks)


def loads(data: bytes, name: str = "<table>", lazy: frozenset[str] = frozenset()) -> tuple[
        dict[str, memoryview], dict[str, Any]]:
    """The arrays (1-D read-only memoryviews, or numpy arrays where a memoryview cannot hold
    them: several dimensions, a big-endian machine) and the metadata of a table file.

    The metadata members named in ``lazy`` that are flat JSON objects (their values arrays,
    text or numbers: a look-up by code or pattern number) come as a :class:`JsonObject`,
    each member decoded when first asked for: one claim reads a few of thousands."""
    header, located = _located(data, name, lazy)
    buf = memoryview(data)
    arrays = {}
    for key, (dtype, shape, start, end) in located.items():
        fmt = _FORMATS.get(dtype) if sys.byteorder == "little" else None
        if fmt is not None and len(shape) == 1:
            arrays[key] = buf[start:end].cast(fmt)
        else:
            import numpy as np
            arrays[key] = np.frombuffer(buf[start:end], dtype=np.dtype(dtype)).reshape(shape)
    return arrays, header["meta"]


def spans(data: bytes, name: str = "<table>") -> dict[str, tuple[int, int]]:
    """Where each array's bytes lie in ``data``: ``{name: (start, end)}`` (what a reader that
    searches the bytes themselves, like the code universe's, needs instead of a copy)."""
    return {key: (start, end) for key, (_, _, start, end) in _located(data, name, frozenset())[1].items()}


def _located(data: bytes, name: str, lazy: frozenset[str]) -> tuple[dict, dict[str, tuple[str, list, int, int]]]:
    """The header, and each array's (dtype, shape, start, end) in ``data``, checked to lie in it."""
    if len(data) < 16 or data[:8] != MAGIC:
        raise ContainerError(f"{name}: not a grouper table file (bad magic)")
    hlen = int.from_bytes(data[8:16], "little")
    if 16 + hlen > len(data):
        raise ContainerError(f"{name}: truncated header")
    try:
        text = data[16:16 + hlen].decode("utf-8")
        header = None
        if lazy:
            try:
                header = _lazy_header(text, lazy)
            except ValueError:          # json.loads below says what is wrong, if anything
                header = None
        if header is None:
            header = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContainerError(f"{name}: unreadable header ({exc})") from None
    base = 16 + hlen
    base += (-base) % _ALIGN
    located = {}
    for key, (dtype, shape, off) in header["arrays"].items():
        count = 1
        for d in shape:
            count *= d
        start = base + off
        end = start + count * int(dtype[2:])          # a dtype's text ends with its size in bytes
        if end > len(data):
            raise ContainerError(f"{name}: truncated (array {key!r} runs past the end of the file)")
        located[key] = (dtype, shape, start, end)
    return header, located


def as_numpy(array):
    """A table array (from :func:`loads`) as a read-only numpy array sharing its memory."""
    import numpy as np
    return np.asarray(array)


# -- lazily decoded header members ---------------------------------------------------------
# The header is what dumps() writes: json.dumps(sort_keys=True, separators=(",", ":")), so
# {"arrays":{...},"meta":{"key":value,...}}.  _lazy_header walks the members of "meta" and
# decodes each one except the flat objects named in ``lazy``, which it only delimits: every
# step is checked, and anything unexpected returns None (the caller then decodes the whole
# header), so the result is always the one json.loads gives.
_DECODE = json.JSONDecoder().raw_decode
_ABSENT = object()


def _lazy_header(text: str, lazy: frozenset[str]) -> dict | None:
    if not text.startswith('{"arrays":'):
        return None
    arrays, i = _DECODE(text, 10)
    if not text.startswith(',"meta":{', i):
        return None
    i += 9
    meta: dict = {}
    n = len(text)
    while i < n and text[i] == '"':
        key, i = scanstring(text, i + 1)
        if not text.startswith(":", i):
            return None
        i += 1
        end = _flat_object_end(text, i) if key in lazy else -1
        if end > 0:
            meta[key] = JsonObject(text, i, end)
            i = end
        else:
            meta[key], i = _DECODE(text, i)
        if text.startswith(",", i):
            i += 1
        elif i == n - 2 and text.endswith("}}"):
            return {"arrays": arrays, "meta": meta}
        else:
            return None
    return None


def _flat_object_end(text: str, start: int) -> int:
    """The end of the JSON object at ``start`` if it holds no object (only arrays, text,
    numbers), without decoding it; -1 if that cannot be shown from two searches.

    Its end is then the first ``}`` after ``start``, provided that brace is not inside a text
    value: it is not when another member (``,"`` and a letter, digit or ``_``) or the end of
    the header follows it, for inside a text a ``"`` is written ``\\"``, so ``,"`` there would
    end the text, and after the end of a text JSON allows no letter or digit."""
    if not text.startswith("{", start):
        return -1
    close = text.find("}", start + 1)
    if close < 0 or text.find("{", start + 1, close) >= 0:
        return -1
    after = text[close + 1:close + 4]
    if (len(after) == 3 and after[:2] == ',"' and (after[2].isalnum() or after[2] == "_")) or (
            after == "}}"):             # the header's last two characters: the last member of "meta"
        return close + 1
    return -1


class JsonObject(Mapping):
    """A flat JSON object of a table header (the text ``text[start:end]``), each member
    decoded when first looked up.

    A key that starts with a letter or digit and needs no escape is found as ``"key":``: in
    a flat object a quoted text followed by ``:`` is a key, and a letter or digit cannot
    follow the end of a text, so the match starts at its opening quote; where the span holds
    no blank and no backslash, every key is written that way, so no match means no such key.
    Anything else (other keys, a span with blanks or escapes, iterating, ``len``) decodes the
    whole object once; so does the :data:`SEARCHES`-th search (a search reads the span, a
    look-up in the decoded object does not: one claim's few codes are searched, a batch's or a
    long run's thousands are not)."""

    __slots__ = ("_text", "_start", "_end", "_found", "_all", "_searches")

    #: searches after which the whole object is decoded
    SEARCHES = 64

    def __init__(self, text: str, start: int, end: int):
        self._text, self._start, self._end = text, start, end
        self._searches = 0
        self._found: dict = {}
        self._all: dict | None = None
        if any(text.find(c, start, end) >= 0 for c in " \t\n\r\\"):
            self._decoded()

    def _decoded(self) -> dict:
        if self._all is None:
            self._all = _DECODE(self._text, self._start)[0]
        return self._all

    def __getitem__(self, key):
        got = self._lookup(key)
        if got is _ABSENT:
            raise KeyError(key)
        return got

    def get(self, key, default=None):
        """The member ``key``, or ``default``: without raising and catching a KeyError for a
        missing key, as Mapping.get would (most codes are on no HAC list)."""
        got = self._lookup(key)
        return default if got is _ABSENT else got

    def _lookup(self, key):
        got = self._found.get(key, _ABSENT) if self._all is None else self._all.get(key, _ABSENT)
        if got is _ABSENT and self._all is None:
            self._searches += 1
            if self._searches >= self.SEARCHES:
                got = self._decoded().get(key, _ABSENT)
            else:
                got = self._found[key] = self._search(key)
        return got

    def _search(self, key):
        if type(key) is not str:
            return _ABSENT                    # JSON keys are text
        if not (key[:1].isalnum() and key.isprintable() and '"' not in key and "\\" not in key):
            return self._decoded().get(key, _ABSENT)
        needle = f'"{key}":'
        at = self._text.find(needle, self._start, self._end)
        return _ABSENT if at < 0 else _DECODE(self._text, at + len(needle))[0]

    def __iter__(self):
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())

    def __repr__(self) -> str:
        return f"JsonObject({self._decoded()!r})"
