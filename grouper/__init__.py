"""grouper: the CMS MS-DRG grouper in pure Python (versions 40.0-43.1).

    >>> import grouper
    >>> r = grouper.group(grouper.Claim(pdx="I5022", sdx=[("J9601", "Y")], sex="M",
    ...                                 discharge_status=1, version="43.1"))
    >>> r.final_drg, r.weight
    (291, 1.2838)
"""
from .engine.pipeline import group
from .engine.result import DxResult, ProcResult, Result
from .reading import Claim, ClaimError, ClaimWarning, Diagnosis
from .tables import TableIntegrityError, VersionError

__all__ = ["BatchResult", "Columns", "group_batch", "Claim", "ClaimError", "ClaimWarning", "Diagnosis", "DxResult",
           "Layout", "LayoutError", "ProcResult", "Result",
           "TableIntegrityError", "VersionError", "group"]

# The batch API needs numpy; it is imported on first use, so a process that groups one
# claim at a time never loads it (cold start: docs/scale.md).
_BATCH = frozenset({"BatchResult", "Columns", "group_batch"})


def __getattr__(name):
    if name in _BATCH:
        from .bulk import batch
        return getattr(batch, name)
    if name in ("Layout", "LayoutError"):
        from .reading import layout
        return getattr(layout, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _BATCH | {"Layout", "LayoutError"})
