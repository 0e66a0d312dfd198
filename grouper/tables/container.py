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
import struct
import sys
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
    head = MAGIC + struct.pack("<Q", len(header)) + header
    head += b"\0" * ((-len(head)) % _ALIGN)
    return head + b"".join(chunks)


def loads(data: bytes, name: str = "<table>") -> tuple[dict[str, memoryview], dict[str, Any]]:
    """The arrays (1-D read-only memoryviews, or numpy arrays where a memoryview cannot hold
    them: several dimensions, a big-endian machine) and the metadata of a table file."""
    if len(data) < 16 or data[:8] != MAGIC:
        raise ContainerError(f"{name}: not a grouper table file (bad magic)")
    (hlen,) = struct.unpack_from("<Q", data, 8)
    if 16 + hlen > len(data):
        raise ContainerError(f"{name}: truncated header")
    try:
        header = json.loads(data[16:16 + hlen].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContainerError(f"{name}: unreadable header ({exc})") from None
    base = 16 + hlen
    base += (-base) % _ALIGN
    buf = memoryview(data)
    arrays = {}
    for key, (dtype, shape, off) in header["arrays"].items():
        fmt = _FORMATS.get(dtype) if sys.byteorder == "little" else None
        count = 1
        for d in shape:
            count *= d
        itemsize = struct.calcsize(fmt) if fmt else int(dtype[2:])
        start = base + off
        end = start + count * itemsize
        if end > len(data):
            raise ContainerError(f"{name}: truncated (array {key!r} runs past the end of the file)")
        if fmt is not None and len(shape) == 1:
            arrays[key] = buf[start:end].cast(fmt)
        else:
            import numpy as np
            arrays[key] = np.frombuffer(buf[start:end], dtype=np.dtype(dtype)).reshape(shape)
    return arrays, header["meta"]


def as_numpy(array):
    """A table array (from :func:`loads`) as a read-only numpy array sharing its memory."""
    import numpy as np
    return np.asarray(array)
