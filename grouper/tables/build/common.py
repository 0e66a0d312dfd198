"""What the table builders share: the build error and the checksum of a source or output file."""
from __future__ import annotations

import hashlib


class BuildError(Exception):
    """A source file cannot be used; the message names the file and the problem."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
