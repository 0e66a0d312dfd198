"""File handling shared by the compiled-table builders and loaders (MS-DRG tables and
IPPS parameters): a whole table directory written atomically, its MANIFEST.json read, and
each table file checked against the manifest, with errors that name the file.

The readers take a folder as a ``str`` or a ``Path`` and use ``os.path`` only: loading the
tables of one claim does not import ``pathlib`` (with ``urllib.parse`` and ``ipaddress``,
milliseconds of a new process's start).
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def write_all(files: dict[str, bytes], out: Path) -> None:
    """Write every file to a temporary folder inside ``out``, then move them in, the manifest
    last (an interrupted build never leaves a manifest that describes files not written), and
    remove the files the previous manifest listed that the new build no longer has.  Nothing
    else in ``out`` is touched: the sub-folders of other table families (``tables/ipps``,
    ``tables/mce``), written by their own builders, stay as they are."""
    import shutil
    import tempfile
    from pathlib import Path
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


def read_manifest(directory: str | Path, error: type[Exception], how_to_build: str) -> dict:
    """The MANIFEST.json of a table directory; ``error`` naming the file when it is missing
    (with ``how_to_build``, the command that makes it) or unreadable."""
    path = os.path.join(directory, "MANIFEST.json")
    try:
        with open(path, "rb") as f:
            return json.loads(f.read())
    except FileNotFoundError:
        raise error(f"{path}: no {how_to_build}") from None
    except (ValueError, OSError) as exc:
        raise error(f"{path}: unreadable manifest ({exc})") from None


def read_checked(directory: str | Path, manifest: dict, name: str, error: type[Exception], rebuild: str) -> bytes:
    """The bytes of table file ``name``, checked against the manifest's size and sha256;
    ``error`` naming the file (and ``rebuild``, the command that remakes it) otherwise."""
    entry = manifest.get("files", {}).get(name)
    path = os.path.join(directory, name)
    if entry is None:
        raise error(f"{path}: not listed in MANIFEST.json")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None
    if len(data) != entry["bytes"]:
        raise error(f"{path}: {len(data)} bytes, MANIFEST.json says {entry['bytes']} (truncated or replaced "
                    f"file); rebuild the tables with '{rebuild}'")
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise error(f"{path}: sha256 differs from MANIFEST.json (corrupted or edited file); "
                    f"rebuild the tables with '{rebuild}'")
    return data
