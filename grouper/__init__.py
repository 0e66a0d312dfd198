"""grouper: the CMS MS-DRG grouper in pure Python (versions 40.0-44.0).

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
           "Layout", "LayoutError", "ProcResult", "Result", "group_arrow",
           "TableIntegrityError", "VersionError", "edit", "group",
           "Conversion", "convert_dx", "convert_dx_batch", "convert_pr", "convert_pr_batch"]

# The batch API needs numpy; it is imported on first use, so a process that groups one
# claim at a time never loads it (cold start: docs/columnar.md).
_BATCH = frozenset({"BatchResult", "Columns"})
_CONVERT = frozenset({"Conversion", "convert_dx", "convert_dx_batch", "convert_pr", "convert_pr_batch"})


def __getattr__(name):
    if name in _BATCH:
        from .bulk import batch
        return getattr(batch, name)
    if name == "edit":                  # the Medicare Code Editor: its tables load when first used
        from .mce import edit
        return edit
    if name in _CONVERT:
        from .tables import convert
        return getattr(convert, name)
    if name == "group_batch":
        from .mce.grouping import group_batch
        return group_batch
    if name == "group_arrow":
        from .bulk.results import group_arrow
        return group_arrow
    if name in ("Layout", "LayoutError"):
        from .reading import layout
        return getattr(layout, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _BATCH | _CONVERT | {"edit", "group_batch", "group_arrow", "Layout", "LayoutError"})
