"""File handling shared by the compiled-table builders and loaders: a whole table
directory written atomically, and a directory's MANIFEST.json read with a clear error."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path


def write_all(files: dict[str, bytes], out: Path) -> None:
    """Write every file to a temporary folder inside ``out``, then move them in, the manifest
    last (an interrupted build never leaves a manifest that describes files not written), and
    remove the files the previous manifest listed that the new build no longer has."""
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=out))
    try:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        old_manifest = out / "MANIFEST.json"
        stale = set()
        if old_manifest.exists():
            try:
                stale = set(json.loads(old_manifest.read_text())["files"]) - set(files)
            except (ValueError, KeyError, TypeError):
                stale = set()
        for name in sorted(files, key=lambda n: n == "MANIFEST.json"):  # manifest last
            os.replace(tmp / name, out / name)
        for name in stale:
            (out / name).unlink(missing_ok=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_manifest(directory: Path, error: type[Exception], how_to_build: str) -> dict:
    """The MANIFEST.json of a table directory; ``error`` naming the file when it is missing
    (with ``how_to_build``, the command that makes it) or unreadable."""
    path = directory / "MANIFEST.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise error(f"{path}: no {how_to_build}") from None
    except (ValueError, OSError) as exc:
        raise error(f"{path}: unreadable manifest ({exc})") from None
