"""Writing result files atomically.

Outputs are written to a temporary file next to the target and renamed into
place when complete, so an interrupted run never leaves a file that looks
finished.
"""
from __future__ import annotations

import gzip
import io
import os
import tempfile


class AtomicWriter:
    """A text file written under a temporary name and renamed into place on success."""

    def __init__(self, path: str):
        self.path = path
        self._tmp = None
        self._f = None

    def __enter__(self):
        if self.path == "-":
            import sys
            self._f = sys.stdout
            return self._f
        d = os.path.dirname(os.path.abspath(self.path)) or "."
        fd, self._tmp = tempfile.mkstemp(prefix="." + os.path.basename(self.path) + ".", suffix=".part", dir=d)
        raw = os.fdopen(fd, "wb")
        if self.path.endswith(".gz"):
            self._f = io.TextIOWrapper(gzip.GzipFile(fileobj=raw, mode="wb", mtime=0), encoding="utf-8",
                                       newline="")
            self._raw = raw
        else:
            self._f = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            self._raw = None
        return self._f

    def __exit__(self, exc_type, exc, tb):
        if self.path == "-":
            self._f.flush()
            return False
        try:
            self._f.close()
            if self._raw is not None:
                self._raw.close()
        finally:
            if exc_type is None:
                os.replace(self._tmp, self.path)
            else:
                try:
                    os.unlink(self._tmp)
                except OSError:
                    pass
        return False
