"""How a command runs: signals and worker processes.

* :func:`stop_on_signals`: SIGTERM (and SIGHUP) raise :class:`Terminated` in the main
  thread, as Ctrl-C raises ``KeyboardInterrupt``, so every ``finally`` runs -- the
  temporary output file is removed and worker processes are stopped -- and the command
  exits 128 + the signal number (130 for Ctrl-C, 143 for SIGTERM).
* :class:`Workers`: ``--jobs N`` worker processes, each given one chunk at a time through
  its own pipe; results come back in input order.  Workers ignore Ctrl-C (the parent stops
  them), and die with their parent (end of their pipe).  A worker that dies (killed by the
  OOM killer, SIGKILL ...) fails the run at once with :class:`WorkerError` naming the worker
  and the input lines it held -- never a hang.  On any exit, remaining workers are
  terminated (SIGTERM, then SIGKILL after a grace period) and joined.
"""
from __future__ import annotations

import contextlib
import multiprocessing as mp
import multiprocessing.connection as mpc
import os
import signal
import sys
import threading
import traceback

#: Seconds a worker gets to exit after SIGTERM before it is killed.
GRACE = 2.0


class Terminated(BaseException):
    """The process received SIGTERM or SIGHUP (a BaseException, like KeyboardInterrupt, so
    that nothing catching Exception swallows it)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


class WorkerError(Exception):
    """A worker process died or failed; the run cannot complete."""


def _raise_terminated(signum, frame):
    raise Terminated(signum)


_STOP_SIGNALS = tuple(getattr(signal, s) for s in ("SIGTERM", "SIGHUP") if hasattr(signal, s))


@contextlib.contextmanager
def stop_on_signals():
    """SIGTERM/SIGHUP raise :class:`Terminated` while the block runs (main thread only;
    a signal already ignored stays ignored)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    # a signal ignored by whoever started us (nohup ignores SIGHUP) stays ignored
    old = {s: signal.signal(s, _raise_terminated) for s in _STOP_SIGNALS
           if signal.getsignal(s) not in (signal.SIG_IGN, None)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def exit_status(exc: BaseException) -> int:
    """The shell's exit status for a run stopped by Ctrl-C or a signal (128 + signal)."""
    if isinstance(exc, Terminated):
        return 128 + exc.signum
    return 128 + signal.SIGINT


def stopped(exc: BaseException, output, n: int) -> int:
    """Report a run stopped by Ctrl-C or a signal (``output``: its
    :class:`grouper.io.AtomicWriter`, or None); its exit status (130, 143 ...)."""
    name = getattr(exc, "name", "Ctrl-C (SIGINT)")
    left = f": {output.failed(n)}" if output is not None else ""
    print(f"interrupted by {name}{left}", file=sys.stderr)
    return exit_status(exc)


def stdout_closed(output, n: int) -> int:
    """Standard output was closed by its reader (``| head``): say so once; exit status 2."""
    n = output.lines_out if output.lines_out is not None else n
    try:                     # nothing more can go there, not even the interpreter's last flush
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)
    except (OSError, ValueError):
        pass
    print(f"error: standard output was closed by its reader after {n:,} line{'' if n == 1 else 's'} (broken "
          f"pipe): the output is incomplete", file=sys.stderr)
    return 2


def describe_exit(code: int | None) -> str:
    if code is None:
        return "is still running"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (the out-of-memory killer sends SIGKILL)" if -code == getattr(signal, "SIGKILL", 9) else ""
        return f"was killed by {name}{hint}"
    return f"exited with status {code}"


def _worker_main(conn, fn, options) -> None:
    """A worker: group each chunk received until told to stop or the parent is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)         # Ctrl-C: the parent stops us
    for s in _STOP_SIGNALS:
        signal.signal(s, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, *_STOP_SIGNALS})
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):                      # the parent is gone
            return
        if msg is None:
            return
        k, chunk = msg
        try:
            reply = ("ok", k, fn(chunk, options))
        except Exception:
            reply = ("error", k, traceback.format_exc())
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return


def _span(chunk) -> str:
    lines = [getattr(r, "line", None) for r in chunk]
    lines = [x for x in lines if x is not None]
    return f"input lines {min(lines)}-{max(lines)}" if lines else f"{len(chunk)} rows"


class Workers:
    """``jobs`` processes computing ``fn(chunk, options)``; :meth:`map` yields the results
    in the order of the chunks.  Use as a context manager: leaving it stops the workers."""

    def __init__(self, jobs: int, fn, options):
        self.jobs, self.fn, self.options = jobs, fn, options
        self.procs: list = []
        self.conns: list = []

    def __enter__(self):
        ctx = mp.get_context("fork" if sys.platform != "win32" else "spawn")
        sys.stdout.flush()
        sys.stderr.flush()
        # the workers must not take Ctrl-C or SIGTERM before they have set their handlers
        blocked = {signal.SIGINT, *_STOP_SIGNALS}
        masked = hasattr(signal, "pthread_sigmask")
        if masked:
            signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
        try:
            for _ in range(self.jobs):
                parent, child = ctx.Pipe()
                p = ctx.Process(target=_worker_main, args=(child, self.fn, self.options), daemon=True)
                p.start()
                child.close()
                self.procs.append(p)
                self.conns.append(parent)
        except BaseException:
            self.stop(force=True)
            raise
        finally:
            if masked:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)
        return self

    def __exit__(self, exc_type, exc, tb):
        self.stop(force=exc_type is not None)
        return False

    def map(self, chunks):
        it = iter(chunks)
        idle = list(range(self.jobs))[::-1]
        busy: dict = {}                 # worker -> (chunk number, chunk)
        done: dict = {}                 # chunk number -> result
        sent = nxt = 0
        more = True
        while True:
            while more and idle:
                try:
                    chunk = next(it)
                except StopIteration:
                    more = False
                    break
                w = idle.pop()
                self._send(w, (sent, chunk), chunk)
                busy[w] = (sent, chunk)
                sent += 1
            while nxt in done:
                yield done.pop(nxt)
                nxt += 1
            if not busy:
                if not more:
                    return
                continue
            watch = [self.conns[w] for w in busy] + [p.sentinel for p in self.procs]
            ready = mpc.wait(watch)
            for w in list(busy):
                if self.conns[w] in ready:
                    try:
                        status, k, payload = self.conns[w].recv()
                    except (EOFError, OSError):
                        continue                    # it died: its sentinel says how
                    if status != "ok":
                        raise WorkerError(f"worker {w + 1} failed on {_span(busy[w][1])}:\n{payload.rstrip()}")
                    done[k] = payload
                    del busy[w]
                    idle.append(w)
            for w, p in enumerate(self.procs):
                if p.sentinel in ready:
                    p.join(0.5)
                    held = f" while grouping {_span(busy[w][1])}" if w in busy else ""
                    raise WorkerError(f"worker {w + 1} (process {p.pid}) {describe_exit(p.exitcode)}{held}")

    def _send(self, w: int, msg, chunk) -> None:
        try:
            self.conns[w].send(msg)
        except (OSError, ValueError):
            p = self.procs[w]
            p.join(0.5)
            raise WorkerError(f"worker {w + 1} (process {p.pid}) {describe_exit(p.exitcode)} before "
                              f"{_span(chunk)} could be given to it") from None

    def stop(self, force: bool) -> None:
        """Stop every worker: ask them to finish (normal end) or terminate them (any error,
        Ctrl-C, SIGTERM); kill those still alive after :data:`GRACE` seconds; join all."""
        for conn, p in zip(self.conns, self.procs):
            if not force and p.is_alive():
                try:
                    conn.send(None)
                except (OSError, ValueError):
                    pass
            elif p.is_alive():
                p.terminate()
        for p in self.procs:
            p.join(GRACE)
            if p.is_alive():
                p.kill()
                p.join()
        for conn in self.conns:
            conn.close()
        for p in self.procs:
            with contextlib.suppress(ValueError):
                p.close()
        self.procs, self.conns = [], []
