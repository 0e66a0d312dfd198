"""Writing result files so that no data is lost.

A regular file is written under a hidden temporary name next to its target
(``.NAME.XXXX.part``) and renamed into place only after every byte was written,
flushed, synced to disk and the file closed without an error: an interrupted or
failed run (disk full, Ctrl-C, SIGTERM, a killed worker) leaves the previous
output exactly as it was and no temporary file.  The new file gets the
permissions of the file it replaces, or those the umask gives a new file.

Outputs that are not regular files are handled as a user means them:

* a symbolic link is written through: its target is replaced (atomically);
* a FIFO, a character device (``/dev/null``, a terminal) or a socket is written
  to directly -- it cannot be replaced, and a reader may be waiting on it;
* a folder, a block device, or the input file itself is refused
  (:class:`OutputError`), before anything is written;
* ``-`` is standard output.

JSON lines are written by :func:`json_line`: NaN and infinities are never
written as bare ``NaN``/``Infinity`` tokens (not JSON), and text that is not
valid Unicode (a lone surrogate) is written as its ``\\uXXXX`` escape.
"""
from __future__ import annotations

import gzip
import io
import json
import math
import os
import select
import signal
import stat
import sys
import tempfile
import threading
import time

_STOP_SIGNALS = {getattr(signal, s) for s in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, s)}


class OutputError(Exception):
    """The output cannot be written; the message names the path the user gave."""


def _umask() -> int:
    """The process umask, without changing it where the system reports it."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)      # no other way to read it: set and restore at once
    os.umask(mask)
    return mask


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


class RowStream:
    """Text written to a file descriptor (standard output, a FIFO, a device) in blocks of
    whole rows with ``os.write``, counting the lines that reached it.  A block cut by a
    signal or an error is finished up to the end of its row by :meth:`finish_row`, so the
    reader never gets half a row, and :attr:`lines_out` says how many whole lines it got.

    The count is exact even when Ctrl-C or SIGTERM arrive while a write waits for a slow
    reader: during a block, those signals are held (a handler records them) and the writes
    -- of at most what the descriptor takes at once, ``PIPE_BUF`` for a pipe, once ``select``
    says it takes data -- never wait long; a signal held is raised again once the count is
    recorded, so it acts as it would have (POSIX, main thread)."""

    BLOCK = 1 << 16

    def __init__(self, fd: int):
        self.fd = fd
        self.lines_out = 0
        self._parts: list[str] = []
        self._size = 0
        self._data = b""            # the block being written ...
        self._off = 0               # ... and how much of it is out
        self._posix = sys.platform != "win32" and hasattr(signal, "raise_signal")
        self._piece = self.BLOCK
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                self._piece = select.PIPE_BUF
        except (OSError, AttributeError):
            pass

    def write(self, s: str) -> int:
        self._parts.append(s)
        self._size += len(s)
        if self._size >= self.BLOCK:
            self.flush()
        return len(s)

    def flush(self) -> None:
        if self._parts:
            self._data = "".join(self._parts).encode("utf-8", "backslashreplace")
            self._off = 0
            self._parts, self._size = [], 0
        self._write_to(len(self._data))
        self._data, self._off = b"", 0

    def _write_to(self, end: int, patience: float | None = None) -> None:
        """Write the current block up to ``end``; give up after ``patience`` seconds of a
        reader taking nothing (None: wait as long as it takes, or until a signal)."""
        data = self._data
        held: list = []
        old = {}
        if self._posix and threading.current_thread() is threading.main_thread():
            old = {s: signal.signal(s, lambda signum, frame: held.append(signum)) for s in _STOP_SIGNALS
                   if signal.getsignal(s) not in (signal.SIG_IGN, None)}
        deferring = bool(old) or (self._posix and patience is not None)
        deadline = None if patience is None else time.monotonic() + patience
        try:
            while self._off < end and not held:
                piece = memoryview(data)[self._off:min(end, self._off + self._piece)]
                if deferring and not select.select((), (self.fd,), (), 0.1)[1]:
                    if deadline is not None and time.monotonic() > deadline:
                        return
                    continue                # a slow reader: wait, looking at signals in between
                k = os.write(self.fd, piece)
                self.lines_out += data.count(b"\n", self._off, self._off + k)
                self._off += k
        finally:
            for s, h in old.items():
                signal.signal(s, h)
        if held:                            # now that the count is right, as if it came now
            signal.raise_signal(held[0])

    def finish_row(self) -> None:
        """After a failure or an interruption: write the rest of the row that was cut, if one
        was and the reader takes it within a second (errors ignored: the run is failing
        already); drop everything else."""
        self._parts, self._size = [], 0
        if 0 < self._off < len(self._data) and self._data[self._off - 1] != 0x0A:
            end = self._data.find(b"\n", self._off)
            try:
                self._write_to(len(self._data) if end < 0 else end + 1, patience=1.0)
            except BaseException:
                pass
        self._data, self._off = b"", 0


class AtomicWriter:
    """A text (UTF-8) output file, ``.gz`` compressed by its name, that appears complete or
    not at all (see the module docstring for special files).  ``inputs``: paths the output
    must not overwrite."""

    def __init__(self, path: str, *, inputs=()):
        self.path = str(path)
        self.inputs = [str(p) for p in inputs if p is not None and str(p) != "-"]
        self._mode = None       # "stdout", "direct" or "atomic"
        self.existed = False    # the output was there before (kept as it was when a run fails)
        self._tmp = None
        self._target = None
        self._text = None
        self._gz = None
        self._raw = None
        self._fd = None         # the descriptor of a RowStream we opened

    # ------------------------------------------------------------------ opening

    def _check(self) -> tuple[str, int | None]:
        """("atomic" | "direct", permission bits of the new file); OutputError if refused."""
        p = self.path
        for src in self.inputs:
            if _same_file(p, src):
                raise OutputError(f"{p} is the input file: write the output to another file")
        try:
            st = os.stat(p)                 # follows symbolic links
        except FileNotFoundError:
            folder = os.path.dirname(os.path.realpath(p))
            if not os.path.isdir(folder):
                raise OutputError(f"cannot write {p}: folder {os.path.dirname(p) or '.'} does not exist") from None
            return "atomic", 0o666 & ~_umask()
        except OSError as exc:
            raise OutputError(f"cannot write {p}: {exc.strerror}") from None
        m = st.st_mode
        if stat.S_ISDIR(m):
            raise OutputError(f"{p} is a folder: give a file name")
        if stat.S_ISREG(m):
            self.existed = True
            return "atomic", stat.S_IMODE(m)
        if stat.S_ISFIFO(m) or stat.S_ISCHR(m) or stat.S_ISSOCK(m):
            return "direct", None
        raise OutputError(f"{p} is a block device or another special file: refusing to write to it")

    def _wrap(self, raw):
        self._raw = raw
        base = raw
        if self.path.endswith(".gz"):
            base = self._gz = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0)
        self._text = io.TextIOWrapper(base, encoding="utf-8", errors="backslashreplace", newline="")
        return self._text

    def __enter__(self):
        if self.path == "-":
            self._mode = "stdout"
            try:
                fd = sys.stdout.fileno()
            except (AttributeError, OSError, ValueError):   # a replaced sys.stdout (tests, notebooks)
                self._text = sys.stdout
                return self._text
            sys.stdout.flush()
            self._text = RowStream(fd)
            return self._text
        self._mode, perms = self._check()
        if self._mode == "direct":
            try:
                if self.path.endswith(".gz"):
                    return self._wrap(open(self.path, "wb"))
                self._fd = os.open(self.path, os.O_WRONLY | getattr(os, "O_BINARY", 0))
            except OSError as exc:
                raise OutputError(f"cannot write {self.path}: {exc.strerror}") from None
            self._text = RowStream(self._fd)
            return self._text
        self._target = os.path.realpath(self.path)      # a symbolic link is written through
        folder = os.path.dirname(self._target)
        try:
            fd, self._tmp = tempfile.mkstemp(prefix="." + os.path.basename(self._target) + ".", suffix=".part",
                                             dir=folder)
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror} (folder {folder})") from None
        try:
            os.fchmod(fd, perms)
        except OSError:
            pass
        return self._wrap(os.fdopen(fd, "wb"))

    @property
    def atomic(self) -> bool:
        """Whether a failed run leaves the output as it was (a regular file); False for
        standard output and special files, which get what was written before the failure."""
        return self._mode in (None, "atomic")

    @property
    def lines_out(self) -> int | None:
        """Whole lines that reached standard output or a special file (None: not counted)."""
        return self._text.lines_out if isinstance(self._text, RowStream) else None

    def failed(self, rows: int) -> str:
        """What a failed or interrupted run leaves, for its message (``rows``: the rows given
        to the writer)."""
        if self.atomic:
            return f"nothing written, {self.path} is as it was" if self.existed else \
                f"nothing written, {self.path} was not created"
        where = "standard output" if self.path == "-" else self.path
        if isinstance(self._text, RowStream):
            return f"the output on {where} is incomplete ({self._text.lines_out:,} whole lines written)"
        return f"the output on {where} is incomplete"

    # ------------------------------------------------------------------ closing

    def __exit__(self, exc_type, exc, tb):
        if self._mode == "atomic":
            self._close_atomic(exc_type is None)
        elif isinstance(self._text, RowStream):
            self._close_stream(exc_type is None)
        elif self._mode == "stdout":
            self._text.flush()
        else:
            self._close_direct(exc_type is None)
        return False

    def _close_stream(self, ok: bool) -> None:
        try:
            if ok:
                self._text.flush()
            else:
                self._text.finish_row()
        except BaseException:
            self._text.finish_row()
            raise
        finally:
            if self._fd is not None:
                try:
                    os.close(self._fd)
                except OSError:
                    pass
                self._fd = None

    def _close_direct(self, ok: bool) -> None:
        if ok:
            try:
                self._text.close()
            finally:
                self._quiet_close()
        else:
            self._quiet_close()

    def _close_atomic(self, ok: bool) -> None:
        if not ok:
            self._discard()
            return
        try:
            self._text.flush()              # text -> gzip -> file
            if self._gz is not None:
                self._gz.close()            # the gzip trailer
            self._raw.flush()
            os.fsync(self._raw.fileno())
            self._raw.close()
        except BaseException:
            self._discard()
            raise
        try:
            os.replace(self._tmp, self._target)
        except BaseException:
            self._discard()
            raise
        self._tmp = None
        _sync_folder(os.path.dirname(self._target))

    def _quiet_close(self) -> None:
        """Close without writing what is still buffered (the output is being abandoned): the
        file descriptor is closed first, so the wrappers' last flush goes nowhere."""
        raw = self._raw
        if raw is None or raw.closed:
            return
        try:
            os.close(raw.fileno())
        except OSError:
            pass
        for f in (self._text, self._gz, raw):
            if f is not None:
                try:
                    f.close()
                except (OSError, ValueError):
                    pass

    def _discard(self) -> None:
        self._quiet_close()
        if self._tmp is not None:
            try:
                os.unlink(self._tmp)
            except OSError:
                pass
            self._tmp = None


def _sync_folder(folder: str) -> None:
    """Make the rename durable (POSIX); harmless where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ------------------------------------------------------------------ JSON lines


def _finite(value, default=None):
    """``value`` with every non-finite float replaced by its name as text ("NaN", "Infinity")."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v, default) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v, default) for v in value]
    if default is not None and not isinstance(value, (str, int, type(None))):
        try:
            return _finite(default(value))
        except TypeError:
            return value
    return value


def plain_value(o):
    """A value JSON has no type for, as JSON can write it: what a Parquet / Arrow column gives
    beside text and numbers (a kept input column, an input field carried to the output):
    a date, time or timestamp as its ISO 8601 text, a decimal as a number, bytes as their
    UTF-8 text (else their hex digits), a duration as its ``str``; anything else as its
    ``str`` rather than no output at all."""
    import datetime as _dt
    from decimal import Decimal
    if isinstance(o, (_dt.date, _dt.time)):          # datetime is a date
        return o.isoformat()
    if isinstance(o, Decimal):
        return float(o)
    if isinstance(o, (bytes, bytearray, memoryview)):
        try:
            return bytes(o).decode("utf-8")
        except UnicodeDecodeError:
            return bytes(o).hex()
    if isinstance(o, (set, frozenset)):
        return sorted(o, key=str)
    return str(o)


def json_line(rec: dict, default=None) -> str:
    """One JSON-lines row (with its newline): compact, UTF-8 text kept as is, and never a
    bare NaN/Infinity token -- a non-finite number is written as the text "NaN",
    "Infinity" or "-Infinity" (JSON has no such numbers).  A value JSON has no type for
    goes through ``default``, else :func:`plain_value`."""
    if default is None:
        default = plain_value
    try:
        s = json.dumps(rec, ensure_ascii=False, separators=(",", ":"), default=default, allow_nan=False)
    except ValueError:
        s = json.dumps(_finite(rec, default), ensure_ascii=False, separators=(",", ":"), default=default,
                       allow_nan=False)
    return s + "\n"
