"""grouper: the CMS MS-DRG grouper in pure Python (versions 40.0-44.0).

    >>> import grouper
    >>> r = grouper.group(grouper.Claim(pdx="I5022", sdx=[("J9601", "Y")], sex="M",
    ...                                 discharge_status=1, version="43.1"))
    >>> r.final_drg, r.weight
    (291, 1.2838)
"""
from .bulk.batch import BatchResult, Columns
from .engine.pipeline import group
from .engine.result import DxResult, ProcResult, Result
from .mce import edit
from .mce.grouping import group_batch
from .reading import Claim, ClaimError, ClaimWarning, Diagnosis
from .reading.layout import Layout, LayoutError
from .tables import TableIntegrityError, VersionError
from .tables.convert import Conversion, convert_dx, convert_dx_batch, convert_pr, convert_pr_batch

__all__ = ["BatchResult", "Columns", "group_batch", "Claim", "ClaimError", "ClaimWarning", "Diagnosis", "DxResult",
           "Layout", "LayoutError", "ProcResult", "Result",
           "TableIntegrityError", "VersionError", "edit", "group",
           "Conversion", "convert_dx", "convert_dx_batch", "convert_pr", "convert_pr_batch"]
