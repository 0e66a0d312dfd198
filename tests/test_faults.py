"""Fault injection: nothing lost, nothing hung, nothing silently wrong.

Each test injects one fault into a real run -- a full disk, a signal, a killed worker, a
hostile row, a special file, numpy values -- and checks what docs/reliability.md promises:
the number of rows, the previous output intact (or no output at all), no temporary file
left, the exit status and the one-line message.  Each records one line "fault: outcome",
printed at the end of the test run (tests/conftest.py).
"""
import csv
import errno
import gzip
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import grouper
from grouper import cli
from grouper.io import writers

from conftest import ROOT, SAMPLE, read_jsonl

PREVIOUS = "previous output, must survive\n"


# ------------------------------------------------------------------ helpers


@pytest.fixture(scope="module")
def labelled():
    """CMS-labelled claims that group cleanly (their expected DRG is CMS's), without labels."""
    out = []
    for c in read_jsonl(SAMPLE):
        if c["scenario"] == "realistic" and c["expected"]["return_code"] == "OK":
            out.append(c)
    return out


def claim_of(c: dict) -> dict:
    return {k: v for k, v in c.items() if k not in ("expected", "scenario")}


def write_jsonl(path, claims, repeat=1) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(repeat):
            for c in claims:
                f.write(json.dumps(claim_of(c)) + "\n")
                n += 1
    return n


def cmd(*args):
    return [sys.executable, "-m", "grouper", *map(str, args)]


def run(*args, **kw):
    kw.setdefault("timeout", 300)
    return subprocess.run(cmd(*args), cwd=ROOT, capture_output=True, text=True, **kw)


def temp_files(folder) -> list:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def strict_json(line: str):
    """json.loads that refuses NaN/Infinity tokens (not JSON)."""
    def bad(token):
        raise ValueError(f"bare {token} token written")
    return json.loads(line, parse_constant=bad)


def fault(record_property, tmp_path, text: str) -> None:
    """Record one line of the faults' summary (temporary paths shortened)."""
    record_property("fault", text.replace(str(tmp_path.parent), "<tmp>"))


def one_error_line(stderr: str) -> str:
    lines = [x for x in stderr.splitlines() if x.strip()]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


needs_proc = pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs Linux /proc to find workers")


# ------------------------------------------------------------------ disk full


class FullDisk(io.FileIO):
    """A file on a disk with ``room`` bytes free: a write that does not fit fails with ENOSPC."""

    def __init__(self, fd, room):
        super().__init__(fd, "wb", closefd=True)
        self.room, self.used = room, 0

    def write(self, b):
        if self.used + len(b) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.used += len(b)
        return super().write(b)


def group_in_process(capsys, *args) -> tuple[int, str]:
    capsys.readouterr()
    status = cli.main(["group", *map(str, args), "--quiet"])
    return status, capsys.readouterr().err


@pytest.mark.parametrize("where", ["at the last write", "midway"])
def test_disk_full_keeps_the_previous_output(tmp_path, labelled, capsys, monkeypatch, record_property, where):
    src = tmp_path / "claims.jsonl"
    write_jsonl(src, labelled[:400])
    full = tmp_path / "full.jsonl"
    assert group_in_process(capsys, src, "-o", full)[0] == 0
    size = full.stat().st_size
    out = tmp_path / "out.jsonl"
    out.write_text(PREVIOUS)
    room = size - 1 if where == "at the last write" else size // 2
    real_fdopen = os.fdopen
    monkeypatch.setattr(writers.os, "fdopen",
                        lambda fd, mode="r", *a, **k: io.BufferedWriter(FullDisk(fd, room)) if mode == "wb"
                        else real_fdopen(fd, mode, *a, **k))
    status, err = group_in_process(capsys, src, "-o", out)
    monkeypatch.undo()
    msg = one_error_line(err)
    assert status == 2
    assert msg == f"error: cannot write {out}: No space left on device; nothing written, {out} is as it was"
    assert out.read_text() == PREVIOUS
    assert temp_files(tmp_path) == []
    fault(record_property, tmp_path, f"disk full {where} (fake ENOSPC, {room:,} of {size:,} bytes fit): exit {status}, "
                                     f"previous output intact, no temporary file; {msg}")


def test_a_failed_fsync_keeps_the_previous_output(tmp_path, labelled, capsys, monkeypatch, record_property):
    src = tmp_path / "claims.jsonl"
    write_jsonl(src, labelled[:50])
    out = tmp_path / "out.csv"
    out.write_text(PREVIOUS)

    def fsync(fd):
        raise OSError(errno.EIO, os.strerror(errno.EIO))
    monkeypatch.setattr(writers.os, "fsync", fsync)
    status, err = group_in_process(capsys, src, "-o", out)
    monkeypatch.undo()
    msg = one_error_line(err)
    assert status == 2 and "Input/output error" in msg and str(out) in msg
    assert out.read_text() == PREVIOUS and temp_files(tmp_path) == []
    fault(record_property, tmp_path, f"fsync fails (EIO): exit {status}, previous output intact; {msg}")


def _unshare_ok() -> bool:
    if not shutil.which("unshare") or not sys.platform.startswith("linux"):
        return False
    try:
        return subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt 2>/dev/null || "
                               "mount -t tmpfs -o size=64k tmpfs /tmp"], capture_output=True,
                              timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


needs_tmpfs = pytest.mark.skipif(not _unshare_ok(), reason="cannot mount a tmpfs here (unshare -rm); the fake-"
                                                           "ENOSPC tests cover disk full")


def in_tmpfs(tmp_path, script: str, size="1m", ro=False) -> dict:
    """Run ``script`` (sh) with $MNT a private tmpfs of ``size``, in a user+mount namespace; what
    the script leaves in $OUT (outside the mount) comes back."""
    mnt, res = tmp_path / "mnt", tmp_path / "res"
    mnt.mkdir()
    res.mkdir()
    remount = 'mount -o remount,ro "$MNT"' if ro else "true"
    full = (f'set -e; mount -t tmpfs -o size={size} tmpfs "$MNT"; printf %s "$PREV" > "$MNT/out.jsonl"; '
            f'{remount}; set +e; cd "$ROOT"; {script}; echo $? > "$OUT/status"; ls -a "$MNT" > "$OUT/ls"; '
            f'cat "$MNT/out.jsonl" > "$OUT/out"')
    env = {**os.environ, "MNT": str(mnt), "OUT": str(res), "ROOT": str(ROOT), "PREV": PREVIOUS,
           "PY": sys.executable}
    subprocess.run(["unshare", "-rm", "sh", "-c", full], env=env, timeout=300, check=True)
    return {p.name: p.read_text() for p in res.iterdir()}


@needs_tmpfs
def test_disk_full_on_a_real_tmpfs(tmp_path, labelled, record_property):
    src = tmp_path / "claims.jsonl"
    n = write_jsonl(src, labelled[:700])         # ~2 MB of full-detail output for 1 MiB
    got = in_tmpfs(tmp_path, f'"$PY" -m grouper group {src} -o "$MNT/out.jsonl" --quiet --jobs 2 --chunk 100 '
                             f'2> "$OUT/err"')
    msg = one_error_line(got["err"])
    out = tmp_path / "mnt" / "out.jsonl"
    assert got["status"].strip() == "2"
    assert msg == f"error: cannot write {out}: No space left on device; nothing written, {out} is as it was"
    assert got["out"] == PREVIOUS
    assert [x for x in got["ls"].split() if x.endswith(".part")] == []
    fault(record_property, tmp_path, f"disk full (1 MiB tmpfs, {n} claims, --jobs 2): exit 2, previous output intact, "
                                     f"no temporary file; {msg}")


@needs_tmpfs
def test_read_only_folder_is_a_usage_error(tmp_path, labelled, record_property):
    src = tmp_path / "claims.jsonl"
    write_jsonl(src, labelled[:5])
    got = in_tmpfs(tmp_path, f'"$PY" -m grouper group {src} -o "$MNT/out.jsonl" --quiet 2> "$OUT/err"', ro=True)
    msg = one_error_line(got["err"])
    assert got["status"].strip() == "2" and got["out"] == PREVIOUS
    assert msg.startswith(f"error: cannot write {tmp_path / 'mnt' / 'out.jsonl'}: Read-only file system")
    fault(record_property, tmp_path, f"read-only output folder: exit 2; {msg}")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_dev_full_is_written_through_and_reported(tmp_path, labelled, record_property):
    src = tmp_path / "claims.jsonl"
    write_jsonl(src, labelled[:50])
    r = run("group", src, "-o", "/dev/full", "--quiet")
    msg = one_error_line(r.stderr)
    assert r.returncode == 2 and stat.S_ISCHR(os.stat("/dev/full").st_mode)
    assert msg == ("error: cannot write /dev/full: No space left on device; the output on /dev/full is "
                   "incomplete (0 whole lines written)")
    fault(record_property, tmp_path, f"-o /dev/full (a device: written through, ENOSPC): exit 2; {msg}")


# ------------------------------------------------------------------ signals and workers


@pytest.fixture(scope="module")
def long_input(tmp_path_factory, labelled):
    """Enough claims for a --jobs 2 run of a minute: it is always stopped long before."""
    path = tmp_path_factory.mktemp("long") / "claims.jsonl"
    n = write_jsonl(path, labelled, repeat=80)
    return path, n


def start_jobs_run(src, out, *extra):
    p = subprocess.Popen(cmd("group", src, "-o", out, "--jobs", "2", "--chunk", "200", "--quiet", *extra),
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:      # running: both workers up, results being written
        kids = children(p.pid)
        if len(kids) == 2 and (out == "-" or temp_files(out.parent)):
            time.sleep(0.3)
            return p, kids
        assert p.poll() is None, p.communicate()
        time.sleep(0.05)
    p.kill()
    raise AssertionError("the run did not start")


@needs_proc
@pytest.mark.parametrize("sig, to, status", [
    (signal.SIGINT, "process group", 130),       # Ctrl-C in a terminal
    (signal.SIGINT, "parent", 130),
    (signal.SIGTERM, "parent", 143),             # kill, systemd, docker stop
    (signal.SIGTERM, "process group", 143),
])
def test_a_signal_stops_a_jobs_2_run_in_seconds(tmp_path, long_input, record_property, sig, to, status):
    src, n = long_input
    out = tmp_path / "out.jsonl"
    out.write_text(PREVIOUS)
    p, kids = start_jobs_run(src, out)
    t0 = time.monotonic()
    if to == "parent":
        os.kill(p.pid, sig)
    else:
        os.killpg(p.pid, sig)
    try:
        _, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        raise AssertionError(f"{sig.name} to the {to}: still running after 30 s") from None
    took = time.monotonic() - t0
    assert p.returncode == status, err
    assert "Traceback" not in err, err
    name = "Ctrl-C (SIGINT)" if sig == signal.SIGINT else "SIGTERM"
    assert err.strip() == f"interrupted by {name}: nothing written, {out} is as it was"
    assert took < 5, f"took {took:.1f} s to stop"
    assert out.read_text() == PREVIOUS and temp_files(tmp_path) == []
    assert not any(alive(k) for k in kids), "a worker outlived the run"
    fault(record_property, tmp_path, f"{sig.name} to the {to} of a --jobs 2 run ({n:,} claims): stopped in "
                                     f"{took:.2f} s, "
                                     f"exit {status}, workers gone, previous output intact, no temporary file")


@needs_proc
def test_a_killed_worker_fails_the_run_naming_it(tmp_path, long_input, record_property):
    src, n = long_input
    out = tmp_path / "out.jsonl"
    out.write_text(PREVIOUS)
    p, kids = start_jobs_run(src, out)
    t0 = time.monotonic()
    os.kill(kids[0], signal.SIGKILL)                # as the out-of-memory killer does
    try:
        _, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        raise AssertionError("a killed worker hung the run") from None
    took = time.monotonic() - t0
    msg = one_error_line(err)
    assert p.returncode == 2 and took < 5
    assert f"(process {kids[0]}) was killed by SIGKILL" in msg and msg.startswith("error: worker ")
    assert msg.endswith(f"nothing written, {out} is as it was")
    assert out.read_text() == PREVIOUS and temp_files(tmp_path) == []
    assert not alive(kids[1])
    fault(record_property, tmp_path, f"SIGKILL of a worker of a --jobs 2 run: failed in {took:.2f} s, exit 2, other "
                                     f"worker stopped, previous output intact; {msg}")


@needs_proc
def test_ctrl_c_with_output_on_stdout_says_how_many_rows_were_written(tmp_path, long_input, record_property):
    src, _ = long_input
    p = subprocess.Popen(cmd("group", src, "--chunk", "200", "--quiet"), cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    first = p.stdout.readline()                      # rows are flowing
    os.killpg(p.pid, signal.SIGINT)
    rest = p.stdout.read()                           # (not communicate(): it skips what readline buffered)
    err = p.stderr.read().decode()
    p.wait(timeout=30)
    lines = (first + rest).decode().splitlines()
    assert p.returncode == 130 and "Traceback" not in err, err
    assert err.strip() == (f"interrupted by Ctrl-C (SIGINT): the output on standard output is incomplete "
                           f"({len(lines):,} whole lines written)")
    assert all(strict_json(x)["id"] for x in lines)
    fault(record_property, tmp_path, f"Ctrl-C with output on stdout: exit 130, {len(lines):,} whole rows out, said so; "
                                     f"{err.strip()}")


@needs_proc
def test_sigterm_stops_a_run_whose_stdout_reader_stalls(tmp_path, long_input, record_property):
    """Output to a pipe nobody reads: the run waits for its reader, yet SIGTERM stops it."""
    src, _ = long_input
    p = subprocess.Popen(cmd("group", src, "--chunk", "200", "--quiet"), cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    first = p.stdout.readline()                       # then nobody reads: the pipe fills up
    time.sleep(1.5)
    t0 = time.monotonic()
    os.kill(p.pid, signal.SIGTERM)
    try:
        status = p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        raise AssertionError("SIGTERM did not stop a run blocked on its stdout") from None
    took = time.monotonic() - t0
    err = p.stderr.read().decode()
    assert status == 143 and first and took < 5, err
    assert err.startswith("interrupted by SIGTERM: the output on standard output is incomplete (")
    fault(record_property, tmp_path, f"SIGTERM while the stdout reader stalls: stopped in {took:.2f} s, exit 143; "
                                     f"{err.strip()}")


def test_a_closed_stdout_pipe_is_one_line_not_a_traceback(tmp_path, long_input, record_property):
    src, _ = long_input
    p = subprocess.Popen(cmd("group", src, "--chunk", "200", "--quiet"), cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    p.stdout.readline()
    p.stdout.close()                                  # `| head -1`
    err = p.stderr.read()
    p.wait(timeout=30)
    msg = one_error_line(err)
    assert p.returncode == 2 and msg.startswith("error: standard output was closed by its reader after")
    fault(record_property, tmp_path, f"stdout pipe closed by its reader: exit 2; {msg}")


# ------------------------------------------------------------------ hostile rows


def hostile_rows():
    """(name, JSON-lines text, what must come out): "error: <fragment>" for an error row,
    "warning: <code>" for a row grouped with that warning."""
    ok = ('{"id":"%s","version":431,"pdx":"I5022","sdx":[["J9601","Y"]],"sex":"M","discharge_status":1,"age":70,'
          '"billed_drg":291,"discharge_date":"2026-05-10"')
    return [
        ("nested 10,000 deep", ok % "deep" + ',"x":' + "[" * 10_000 + "]" * 10_000 + "}",
         "error: nested more than 32 levels deep"),
        ("nested 100 deep", ok % "deep100" + ',"sdx":' + "[" * 100 + "]" * 100 + "}",
         "error: nested more than 32 levels deep"),
        ("5,000-digit integer", ok % "huge" + ',"discharge_status":' + "7" * 5000 + "}",
         "error: a number with more than"),
        ("4,000-digit integer", (ok % "big").replace('"age":70', '"age":' + "7" * 4000) + "}",
         "warning: INVALID_AGE"),
        ("lone surrogate in pdx", (ok % "sur").replace('"I5022"', '"\\ud800"') + "}",
         "error: pdx holds \\ud800, a lone surrogate"),
        ("lone surrogate in id", (ok % "\\udc00x") + "}", "error: id holds \\udc00, a lone surrogate"),
        ("line of 2 MB", ok % "long" + ',"note":"' + "x" * 2_000_000 + '"}', "error: more than the 1,048,576"),
        # NaN is how pandas and numpy say "empty": it reads as a missing value (docs/reliability.md)
        ("NaN age", (ok % "nan").replace('"age":70', '"age":NaN') + "}", "warning: AGE_MISSING"),
        ("Infinity status", (ok % "inf").replace('"discharge_status":1', '"discharge_status":Infinity') + "}",
         "warning: INVALID_DISCHARGE_STATUS"),
        ("sdx as a mapping", (ok % "map").replace('[["J9601","Y"]]', '{"J9601":"Y"}') + "}",
         "warning: ENTRY_MALFORMED"),
        ("null entries", (ok % "null").replace('[["J9601","Y"]]', '[null,{"x":1}]') + ',"procedures":[null]}',
         "warning: ENTRY_MALFORMED"),
        ("status '20.0' as text", (ok % "s20").replace('"discharge_status":1', '"discharge_status":"20.0"')
         .replace('"I5022"', '"I214"').replace('[["J9601","Y"]]', '[]') + "}", "drg: 285"),
    ]


@pytest.fixture(scope="module")
def hostile_file(tmp_path_factory):
    rows = hostile_rows()
    path = tmp_path_factory.mktemp("hostile") / "claims.jsonl"
    good = '{"id":"good%d","version":431,"pdx":"I5022","sdx":[["J9601","Y"]],"sex":"M","discharge_status":1,' \
           '"age":70,"billed_drg":291,"discharge_date":"2026-05-10"}'
    with open(path, "wb") as f:
        f.write(b"\xef\xbb\xbf" + (good % 0).encode() + b"\n")            # a byte-order mark on line 1
        for k, (_, text, _) in enumerate(rows, start=1):
            f.write(text.encode("utf-8") + b"\n")
            f.write((good % k).encode() + b"\n")
    return path, rows


@pytest.mark.parametrize("command", ["group", "group --detail summary", "audit", "estimate"])
def test_each_hostile_row_becomes_one_row_in_place(tmp_path, hostile_file, record_property, command):
    path, rows = hostile_file
    out = tmp_path / "out.jsonl"
    extra = ["--hospital", ROOT / "grouper" / "data" / "sample_hospital.json"] if command == "estimate" else []
    r = run(*command.split(), path, "-o", out, *extra, "--quiet")
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 1, r.stderr                       # some rows carry an error
    got = [strict_json(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(got) == 2 * len(rows) + 1                    # one row out per row in, in order
    assert [g["line"] for g in got] == list(range(1, len(got) + 1))
    good = got[0::2]
    for g in good:
        assert g.get("error") is None, g
        if command.startswith("group"):
            assert g["final_drg"] == 291
        elif command == "audit":
            assert g["regrouped_drg"] == 291 and g["match"] is True
    for (name, _, want), g in zip(rows, got[1::2]):
        err = g.get("error")
        message = err["message"] if isinstance(err, dict) else err
        if want.startswith("error: "):
            assert message and want[7:] in message, (name, g)
            outcome = f"error row: {message[:90]}"
        elif command == "audit":
            assert err is None and g["regrouped_drg"] in (291, 293, 285), (name, g)
            outcome = f"audited, regrouped DRG {g['regrouped_drg']}"
        elif command == "estimate":
            outcome = "estimated" if err is None else f"error row: {message[:60]}"
        else:
            assert err is None, (name, g)
            if want.startswith("warning: ") and command == "group":
                assert want[9:] in {w["code"] for w in g["warnings"]}, (name, g["warnings"])
            if want.startswith("drg: "):
                assert g["final_drg"] == int(want[5:]), (name, g)
            warns = ",".join(sorted({w["code"] for w in g.get("warnings") or ()} - {"AGE_MISSING"}))
            outcome = f"grouped to DRG {g['final_drg']}" + (f" with {warns}" if warns else "")
        fault(record_property, tmp_path, f"{command}: hostile row '{name}': {outcome}")


def test_nan_and_infinity_are_never_written_as_bare_tokens():
    rec = {"id": float("nan"), "warnings": [{"value": float("inf")}, {"value": -float("inf")}], "weight": 1.5}
    line = writers.json_line(rec)
    assert strict_json(line) == {"id": "NaN", "warnings": [{"value": "Infinity"}, {"value": "-Infinity"}],
                                 "weight": 1.5}


def test_a_lone_surrogate_given_to_the_api_is_written_as_its_json_escape(tmp_path):
    out = tmp_path / "out.jsonl"
    with writers.AtomicWriter(out) as f:
        f.write(writers.json_line({"id": "a\ud800b"}))
    assert strict_json(out.read_text(encoding="utf-8")) == {"id": "a\ud800b"}


def _gz(path, claims):
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for c in claims:
            f.write(json.dumps(claim_of(c)) + "\n")
    return path.read_bytes()


def test_a_truncated_gz_ends_with_an_error_row_naming_the_last_good_line(tmp_path, labelled, record_property):
    claims = labelled[:3000]
    data = _gz(tmp_path / "whole.jsonl.gz", claims)
    src = tmp_path / "claims.jsonl.gz"
    src.write_bytes(data[: len(data) * 3 // 5])
    out = tmp_path / "out.jsonl"
    r = run("group", src, "-o", out, "--quiet", "--detail", "summary")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    got = [strict_json(x) for x in out.read_text().splitlines()]
    k = len(got) - 1
    assert 0 < k < len(claims)
    assert [g["id"] for g in got[:k]] == [c["id"] for c in claims[:k]]        # every row before is sound
    assert got[k]["line"] == k + 1 and got[k]["error"]["code"] == "UNREADABLE_ROW"
    assert f"is truncated after line {k}, the last good line" in got[k]["error"]["message"]
    fault(record_property, tmp_path, f"truncated .gz ({len(claims):,} claims): exit 1, {k:,} rows then one error row: "
                                     f"{got[k]['error']['message']}")


def test_corrupt_gz_data_is_an_error_and_no_output(tmp_path, labelled, record_property):
    """A CRC or deflate error means the rows already read may be garbage too: no output."""
    claims = labelled[:3000]
    data = _gz(tmp_path / "whole.jsonl.gz", claims)
    src = tmp_path / "claims.jsonl.gz"
    mid = len(data) // 2
    src.write_bytes(data[:mid] + bytes(b ^ 0x5A for b in data[mid:mid + 64]) + data[mid + 64:])
    out = tmp_path / "out.jsonl"
    out.write_text(PREVIOUS)
    r = run("group", src, "-o", out, "--quiet", "--detail", "summary")
    msg = one_error_line(r.stderr)
    assert r.returncode == 2 and out.read_text() == PREVIOUS and temp_files(tmp_path) == []
    assert msg.startswith(f"error: {src}: ") and "cannot be trusted either" in msg
    fault(record_property, tmp_path, f"corrupt .gz: exit 2, previous output intact; {msg}")


def test_a_gz_name_on_plain_text_is_a_usage_error(tmp_path, labelled):
    src = tmp_path / "claims.jsonl.gz"
    write_jsonl(src, labelled[:3])
    r = run("group", src, "-o", tmp_path / "out.jsonl")
    msg = one_error_line(r.stderr)
    assert r.returncode == 2 and "not valid gzip data" in msg and str(src) in msg
    assert not (tmp_path / "out.jsonl").exists()


# ------------------------------------------------------------------ CSV


def test_an_unmatched_quote_in_a_csv_loses_no_row(tmp_path, record_property):
    src = tmp_path / "claims.csv"
    rows = [["id", "version", "sex", "discharge_status", "dx1", "poa1", "dx2", "poa2"]]
    rows += [[f"c{i}", "431", "M", "1", "I5022", "Y", "J9601", "Y"] for i in range(200)]
    text = "\n".join(",".join(r) for r in rows) + "\n"
    text = text.replace("c10,431,M", 'c10,431,"M', 1)
    src.write_text(text)
    out = tmp_path / "out.csv"
    r = run("group", src, "-o", out, "--quiet")
    assert r.returncode == 1, r.stderr
    got = list(csv.DictReader(open(out)))
    assert len(got) == 200
    bad = [g for g in got if g["error_code"]]
    assert len(bad) == 1 and bad[0]["line"] == "12" and "unmatched quote" in bad[0]["error"]
    assert [g["id"] for g in got if not g["error_code"]] == [f"c{i}" for i in range(200) if i != 10]
    assert {g["final_drg"] for g in got if not g["error_code"]} == {"291"}
    fault(record_property, tmp_path, f"CSV with one unmatched quote (200 rows): 200 rows out, 1 error row: "
                                     f"{bad[0]['error']}")


def test_a_duplicate_csv_column_is_a_usage_error(tmp_path, record_property):
    src = tmp_path / "claims.csv"
    src.write_text("id,version,dx1,dx2,poa2,DX2\nc1,431,I5022,J9601,Y,E119\n")
    out = tmp_path / "out.csv"
    r = run("group", src, "-o", out, "--quiet")
    msg = one_error_line(r.stderr)
    assert r.returncode == 2 and not out.exists() and temp_files(tmp_path) == []
    assert "'dx2' (column 4) and 'DX2' (column 6)" in msg
    fault(record_property, tmp_path, f"CSV header with a column twice: exit 2, no output; {msg}")


def test_a_pandas_float_status_in_a_csv_is_read_as_in_json(tmp_path):
    src = tmp_path / "claims.csv"
    src.write_text("id,version,sex,discharge_status,dx1\na,431,M,20.0,I214\nb,431,M,20,I214\nc,431,M,1.0,I214\n")
    out = tmp_path / "out.jsonl"
    assert run("group", src, "-o", out, "--quiet").returncode == 0
    got = [json.loads(x) for x in out.read_text().splitlines()]
    as_json = grouper.group({"version": 431, "sex": "M", "discharge_status": 20.0, "pdx": "I214"})
    assert [g["final_drg"] for g in got] == [as_json.final_drg, as_json.final_drg, 282]
    assert as_json.final_drg == 285                      # CMS: an expired patient's AMI, DRG 285
    assert not any(w["code"].startswith("DISCHARGE") for g in got for w in g["warnings"])


# ------------------------------------------------------------------ usage errors and special files


def test_usage_problems_exit_2_with_one_line_naming_the_path(tmp_path, labelled, record_property):
    src = tmp_path / "claims.jsonl"
    write_jsonl(src, labelled[:3])
    before = src.read_bytes()
    (tmp_path / "folder").mkdir()
    (tmp_path / "link.jsonl").symlink_to(src)
    cases = [
        ("missing input", [tmp_path / "nope.jsonl", "-o", tmp_path / "o1.jsonl"], "nope.jsonl"),
        ("input is a folder", [tmp_path / "folder", "-o", tmp_path / "o2.jsonl"], "is a folder"),
        ("output is a folder", [src, "-o", tmp_path / "folder"], f"{tmp_path / 'folder'} is a folder"),
        ("output folder missing", [src, "-o", tmp_path / "no" / "o.jsonl"], f"folder {tmp_path / 'no'} does not"),
        ("output is the input", [src, "-o", src], f"{src} is the input file"),
        ("output is a link to the input", [src, "-o", tmp_path / "link.jsonl"], "is the input file"),
    ]
    for name, args, fragment in cases:
        r = run("group", *args, "--quiet")
        msg = one_error_line(r.stderr)
        assert r.returncode == 2 and fragment in msg, (name, msg)
        assert src.read_bytes() == before and temp_files(tmp_path) == [] and temp_files(tmp_path / "folder") == []
        assert not any((tmp_path / f).exists() for f in ("o1.jsonl", "o2.jsonl"))
        fault(record_property, tmp_path, f"usage: {name}: exit 2; {msg}")


def test_special_files_are_written_through_not_replaced(tmp_path, labelled, record_property):
    src = tmp_path / "claims.jsonl"
    n = write_jsonl(src, labelled[:30])
    # a FIFO: its reader gets every row, and it stays a FIFO
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    r = run("group", src, "-o", fifo, "--quiet", "--jobs", "2", "--chunk", "7")
    rows = reader.communicate(timeout=60)[0].decode().splitlines()
    assert r.returncode == 0 and len(rows) == n and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    # a symbolic link: its target gets the output, the link stays a link
    target, link = tmp_path / "target.jsonl", tmp_path / "link.jsonl"
    target.write_text(PREVIOUS)
    link.symlink_to(target)
    assert run("group", src, "-o", link, "--quiet").returncode == 0
    assert link.is_symlink() and len(target.read_text().splitlines()) == n
    # a character device: written to, never replaced (a private null device when root)
    if os.geteuid() == 0:
        dev = tmp_path / "null"
        os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    else:
        dev = "/dev/null"
    assert run("group", src, "-o", dev, "--quiet").returncode == 0
    assert stat.S_ISCHR(os.lstat(dev).st_mode)
    fault(record_property, tmp_path, f"-o FIFO / symlink / device: written through (the FIFO's reader got "
                                     f"{len(rows)} of "
                                     f"{n} rows), none replaced")
    if os.geteuid() == 0:
        blk = tmp_path / "blk"
        os.mknod(blk, 0o600 | stat.S_IFBLK, os.makedev(7, 200))
        r = run("group", src, "-o", blk, "--quiet")
        msg = one_error_line(r.stderr)
        assert r.returncode == 2 and "block device" in msg and stat.S_ISBLK(os.lstat(blk).st_mode)
        fault(record_property, tmp_path, f"-o a block device: exit 2; {msg}")


def test_output_mode_comes_from_the_umask_or_the_file_replaced(tmp_path, labelled):
    src = tmp_path / "claims.jsonl"
    write_jsonl(src, labelled[:3])
    new, old = tmp_path / "new.jsonl", tmp_path / "old.jsonl"
    old.write_text(PREVIOUS)
    old.chmod(0o604)
    for out in (new, old):
        r = subprocess.run(cmd("group", src, "-o", out, "--quiet"), cwd=ROOT, capture_output=True, text=True,
                           preexec_fn=lambda: os.umask(0o027))
        assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(new.stat().st_mode) == 0o640          # 0666 & ~027
    assert stat.S_IMODE(old.stat().st_mode) == 0o604


def test_bad_jobs_and_chunk_values_are_usage_errors(tmp_path, labelled):
    src = tmp_path / "claims.jsonl"
    write_jsonl(src, labelled[:3])
    for opt in (["--jobs", "0"], ["--chunk", "0"]):
        r = run("group", src, "-o", tmp_path / "o.jsonl", *opt)
        assert r.returncode == 2 and "at least 1" in one_error_line(r.stderr)


# ------------------------------------------------------------------ audit


def test_audit_streams_rows_as_it_reads_them(tmp_path, labelled, record_property):
    """Rows come out while the input is still open: audit does not read the whole file first."""
    p = subprocess.Popen(cmd("audit", "-", "--quiet"), cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    rows = []
    for c in labelled[:400]:
        c = claim_of(c)
        del c["version"]
        c["billed_drg"], c["discharge_date"] = 291, "2026-05-10"
        rows.append((json.dumps(c) + "\n").encode())

    def feed():                                   # a thread: the pipes must not fill up both ways
        for r in rows:
            p.stdin.write(r)
        p.stdin.flush()
        opened.wait(60)                           # the input stays open until a row came out
        p.stdin.close()
    opened = threading.Event()
    t = threading.Thread(target=feed, daemon=True)
    t.start()
    try:
        first = p.stdout.readline()               # before the input ends
    finally:
        opened.set()
    assert first and json.loads(first)["line"] == 1
    rest = p.stdout.read().decode().splitlines()
    assert p.wait(timeout=60) == 0, p.stderr.read()
    t.join(5)
    assert len(rest) + 1 == len(rows)
    fault(record_property, tmp_path, f"audit of an open-ended input ({len(rows)} rows, stdin kept open): rows "
                                     f"written before the input ended")


@pytest.mark.parametrize("field, value, fragment", [
    ("billed_drg", -1, "billed_drg must be a DRG number (1-999), got -1"),
    ("billed_drg", 99999, "billed_drg must be a DRG number (1-999), got 99999"),
    ("billed_drg", 291.5, "billed_drg must be a DRG number (1-999), got 291.5"),
    ("los", float("nan"), "length of stay must be a whole number of days, got nan"),
    ("los", -3, "length of stay must not be negative, got -3"),
    ("charges", -10, "charges must not be negative, got -10"),
    ("charges", float("inf"), "charges must be a finite number"),
])
def test_audit_refuses_the_values_estimate_refuses(field, value, fragment):
    from grouper.finance.audit import audit_claim
    claim = {"id": "x", "discharge_date": "2026-05-10", "pdx": "I5022", "sdx": [["J9601", "Y"]], "sex": "M",
             "discharge_status": 1, "billed_drg": 291, field: value}
    r = audit_claim(claim)
    assert r.error is not None and fragment in r.error, r


def test_audit_reads_a_whole_billed_drg_written_as_a_float():
    from grouper.finance.audit import audit_claim
    claim = {"id": "x", "discharge_date": "2026-05-10", "pdx": "I5022", "sdx": [["J9601", "Y"]], "sex": "M",
             "discharge_status": 1}
    for billed in ("291.0", 291.0, " 291 "):
        r = audit_claim({**claim, "billed_drg": billed})
        assert r.error is None and r.billed_drg == 291 and r.match


# ------------------------------------------------------------------ numpy values


NUMPY_FIELDS = {"version": np.int64, "age": np.int32, "discharge_status": np.int64}


def test_numpy_scalars_group_as_cms_labels_say(labelled, record_property):
    """np.int64 version and discharge status, np.str_ codes: CMS's DRG on every claim (an
    np.int64 status 20 used to read as invalid -> 999, an np.int64 version as unknown)."""
    claims = [c for c in labelled if c.get("age") is not None][:600]
    for c in claims:
        d = claim_of(c)
        for k, t in NUMPY_FIELDS.items():
            d[k] = t(d[k])
        d["pdx"] = np.str_(d["pdx"])
        d["sdx"] = [[np.str_(a), np.str_(b)] for a, b in d["sdx"]]
        d["procedures"] = np.array(d["procedures"], dtype=str)
        r = grouper.group(d)
        assert (r.final_drg, r.return_code) == (c["expected"]["final_drg"], c["expected"]["return_code"]), c["id"]
        assert grouper.group(grouper.Claim.from_dict(d)).final_drg == c["expected"]["final_drg"]
    expired = sum(1 for c in claims if c["discharge_status"] == 20)
    record_property("fault", f"numpy scalars in group() ({len(claims)} labelled claims, {expired} expired): "
                             f"every DRG as CMS")


def test_numpy_columns_group_as_cms_labels_say(labelled, record_property):
    claims = labelled[:800]
    cols = {
        "pdx": np.array([c["pdx"] for c in claims]),
        "version": np.array([c["version"] for c in claims], dtype=np.int64),
        "sex": np.array([c["sex"] or "U" for c in claims]),
        "discharge_status": np.array([c["discharge_status"] for c in claims], dtype=np.int16),
        "sdx": [np.array([s[0] for s in c["sdx"]], dtype=object) for c in claims],
        "sdx_poa": [np.array([s[1] for s in c["sdx"]], dtype=object) for c in claims],
        "procedures": (np.array([p for c in claims for p in c["procedures"]], dtype=object),
                       np.cumsum([0] + [len(c["procedures"]) for c in claims])),
        "hospital_status": np.array([c.get("hospital_status", "NOT_EXEMPT") for c in claims]),
        "pdx_poa": np.array([c.get("pdx_poa", "Y") for c in claims]),
        "admit_dx": np.array([c.get("admit_dx") for c in claims], dtype=object),
    }
    want = [c["expected"]["final_drg"] for c in claims]
    assert grouper.group_batch(cols).final_drg.tolist() == want
    from grouper.bulk.columns import Columns
    assert grouper.group_batch(Columns.from_arrays(**cols)).final_drg.tolist() == want
    assert grouper.group_batch(np.array([claim_of(c) for c in claims], dtype=object)).final_drg.tolist() == want
    record_property("fault", f"numpy columns in group_batch / Columns.from_arrays ({len(claims)} labelled "
                             f"claims): every DRG as CMS")


def test_numpy_values_that_look_alike_are_read_as_their_python_values():
    base = {"version": 431, "pdx": "N393", "discharge_status": 1}
    rows = [{**base, "sex": np.bool_(True)}, {**base, "sex": 1}, {**base, "sex": np.int64(1)},
            {**base, "discharge_status": np.bool_(True)}, {**base, "discharge_date": np.datetime64("2024-01-15"),
                                                           "version": None}]
    out = grouper.group_batch(rows)
    single = [grouper.group(r) for r in rows]
    assert out.final_drg.tolist() == [r.final_drg for r in single]
    as_python = [grouper.group(r) for r in ({**base, "sex": True}, {**base, "sex": 1}, {**base, "sex": 1},
                                            {**base, "discharge_status": True})]
    assert [r.final_drg for r in single[:4]] == [r.final_drg for r in as_python]
    assert as_python[0].final_drg != as_python[1].final_drg      # sex True is unknown, sex 1 male
    assert single[4].version == 410                              # FY2024 first half


@pytest.mark.parametrize("given, fragment", [
    ({"version": 431, "pdx": "I5022"}, "this is one claim"),
    ("I5022", "got a value of type str"),
    (5, "got a value of type int"),
    (grouper.Claim(pdx="I5022", version=431), "got one claim"),
    ({"version": [431]}, "with a 'pdx' column"),
])
def test_a_wrong_top_level_shape_is_one_clear_error(given, fragment):
    with pytest.raises(TypeError, match="group_batch takes many claims|dict of columns") as e:
        grouper.group_batch(given)
    assert fragment in str(e.value)


def test_columns_of_different_lengths_are_one_clear_error():
    with pytest.raises(ValueError, match="column 'version' has 1 values, 'pdx' has 2"):
        grouper.group_batch({"pdx": np.array(["I5022", "I5020"]), "version": np.array([431])})


def test_a_malformed_entry_warns_instead_of_vanishing():
    """An MCC given in a shape the reading does not take (291 -> 293) is flagged on the row."""
    claim = {"version": 431, "pdx": "I5022", "sex": "M", "discharge_status": 1, "age": 70}
    assert grouper.group({**claim, "sdx": [["J9601", "Y"]]}).final_drg == 291
    for sdx in ({"J9601": "Y"}, [None], [{"x": 1}], [[None, "Y"]], [["J9601", "Y", "extra"]]):
        r = grouper.group({**claim, "sdx": sdx})
        assert "ENTRY_MALFORMED" in {w.code for w in r.warnings}, sdx
    for procs in ({"a": 1}, [None]):
        r = grouper.group({**claim, "sdx": [["J9601", "Y"]], "procedures": procs})
        assert [w.field for w in r.warnings if w.code == "ENTRY_MALFORMED"] == ["procedures[1]"], procs
