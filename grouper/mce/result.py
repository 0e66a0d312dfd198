"""The MCE's answer for one claim: immutable value classes, plain-field helpers."""
from __future__ import annotations

import attrs

from ..reading import ClaimWarning
from .catalog import EDIT_NAMES, ICD10_EDITS, INDEX

#: the MCE's own warnings (``EditResult.warnings``): code -> one-line meaning
WARNING_CODES = {
    "DISCHARGE_AFTER_MCE_RELEASE": "discharged after the MCE release's termination date (INVALID_DISCHARGE_DATE, "
                                   "nothing edited); names the installed release that covers the date, if any",
}


@attrs.frozen
class CodeEdits:
    """One code of the claim as read, and the MCE edits it raised (CMS names, in the order the
    MCE applies them)."""

    code: str
    edits: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"code": self.code, "edits": list(self.edits)}


@attrs.frozen(repr=False)
class EditResult:
    """The Medicare Code Editor's result for one claim.

    ``edit_type``: NONE, PREPAYMENT, POSTPAYMENT, BOTH or INVALID_DISCHARGE_DATE (discharged
    after the release's termination date: nothing is edited, and a warning names the release
    that covers the date, if one is installed).  ``counts``: the count of each edit, aligned
    with :data:`grouper.mce.EDIT_NAMES` (CMS order); :attr:`edits` has the non-zero ones by
    name.  ``pdx``, ``admit_dx`` (None when not given), ``sdx`` and ``procedures`` give each
    code's own edits, in input order.  An admitting diagnosis's age/sex conflicts are shown on
    it but not counted (as in the CMS MCE).  ``release``: CMS's release number (431), or the
    name of a release without one (``"fy2027"``)."""

    edit_type: str
    counts: tuple[int, ...] = attrs.field(repr=False)
    pdx: CodeEdits
    admit_dx: CodeEdits | None
    sdx: tuple[CodeEdits, ...]
    procedures: tuple[CodeEdits, ...]
    release: int | str | None = None
    id: object = attrs.field(default=None, eq=False)
    warnings: tuple[ClaimWarning, ...] = ()

    def __repr__(self) -> str:
        return (f"EditResult(edit_type={self.edit_type!r}, edits={self.edits!r}, pdx={self.pdx!r}, "
                f"admit_dx={self.admit_dx!r}, sdx={self.sdx!r}, procedures={self.procedures!r}, "
                f"release={self.release!r})")

    @property
    def edits(self) -> dict[str, int]:
        """The claim's edits with their counts (non-zero only), in CMS order."""
        return {EDIT_NAMES[i]: n for i, n in enumerate(self.counts) if n}

    def count(self, name: str) -> int:
        """The count of one edit (0 when absent); KeyError for a name that is no MCE edit."""
        return self.counts[INDEX[name]]

    @property
    def has_edits(self) -> bool:
        return any(self.counts)

    def to_dict(self) -> dict:
        """The fields of the CMS-labelled MCE output (``version_used``, ``edit_type``,
        ``edits``, ``pdx``, ``admit_dx``, ``sdx``, ``procedures``) and ``warnings``."""
        return {
            "version_used": self.release,
            "edit_type": self.edit_type,
            "edits": self.edits,
            "pdx": self.pdx.to_dict(),
            "admit_dx": None if self.admit_dx is None else self.admit_dx.to_dict(),
            "sdx": [d.to_dict() for d in self.sdx],
            "procedures": [p.to_dict() for p in self.procedures],
            "warnings": [w.to_dict() for w in self.warnings],
        }


def edit_fields(result: EditResult, prefix: str = "mce_") -> dict:
    """The edit type and the count of every edit ICD-10 claims can raise, as flat plain fields
    (for a CSV row or a grouping output): ``{"mce_edit_type": ..., "mce_INVALID_CODE": 0, ...}``."""
    out = {prefix + "edit_type": result.edit_type}
    counts = result.counts
    for name in ICD10_EDITS:
        out[prefix + name] = counts[INDEX[name]]
    return out


def edit_reasons(result: EditResult) -> list[str]:
    """One line per edit, naming where it is: ``"SEX_CONFLICT: sdx[2] O80"``,
    ``"INVALID_DISCHARGE_STATUS: claim"`` (for an audit's reasons or a log)."""
    if result.edit_type == "INVALID_DISCHARGE_DATE":
        return ["INVALID_DISCHARGE_DATE: " + (result.warnings[0].message if result.warnings else
                                              "discharged after the MCE release's termination date; no edits")]
    lines = []
    placed = set()
    parts = [("pdx", result.pdx)]
    if result.admit_dx is not None:
        parts.append(("admit_dx", result.admit_dx))
    parts += [(f"sdx[{k}]", d) for k, d in enumerate(result.sdx, 1)]
    parts += [(f"procedures[{k}]", p) for k, p in enumerate(result.procedures, 1)]
    for where, ce in parts:
        for e in ce.edits:
            lines.append(f"{e}: {where} {ce.code}")
            placed.add(e)
    for name in result.edits:
        if name not in placed:
            lines.append(f"{name}: claim")
    return lines
