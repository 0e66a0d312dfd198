"""The on-disk format of compiled tables: one file = named numpy arrays + JSON metadata.

Layout (little endian)::

    b"GRPTAB01"                     8-byte magic
    uint64  header length H
    H bytes JSON header: {"arrays": {name: [dtype, shape, offset]}, "meta": {...}}
    zero padding to a multiple of 16, then the raw array bytes at their offsets

The writer is deterministic (sorted keys, no timestamps), so building twice
gives byte-identical files.  The reader does one read and maps each array
with ``numpy.frombuffer`` (zero copy, read-only).
"""
from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

MAGIC = b"GRPTAB01"
_ALIGN = 16


class ContainerError(ValueError):
    """A table file is not a valid container (truncated, wrong magic, bad header)."""


def dumps(arrays: dict[str, np.ndarray], meta: dict[str, Any] | None = None) -> bytes:
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


def loads(data: bytes, name: str = "<table>") -> tuple[dict[str, np.ndarray], dict[str, Any]]:
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
        dt = np.dtype(dtype)
        count = int(np.prod(shape)) if shape else 1
        start = base + off
        end = start + count * dt.itemsize
        if end > len(data):
            raise ContainerError(f"{name}: truncated (array {key!r} runs past the end of the file)")
        arrays[key] = np.frombuffer(buf[start:end], dtype=dt).reshape(shape)
    return arrays, header["meta"]
