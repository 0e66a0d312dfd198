"""Entry points that never raise for bad input: one output record per input record.

Used by the command line and the batch API: a claim that cannot be grouped
comes back as a record with its id (or line number) and an ``error``
``{code, message, field, value}``; everything else comes back grouped, with
warnings.
"""
from __future__ import annotations

from ..engine.pipeline import group
from ..reading import ClaimError


def error_record(claim, code: str, message: str, line=None, field=None, value=None) -> dict:
    cid = claim.get("id") if isinstance(claim, dict) else None
    v = value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)
    return {"id": cid, "line": line, "error": {"code": code, "message": message, "field": field, "value": v}}


def group_record(claim, *, line=None, read_error=None, normalize=False, version=None, tables=None,
                 convert_codes=False) -> dict:
    """Group a claim given as a dict; never raises for bad input."""
    if read_error is not None:
        return error_record(None, read_error[0], read_error[1], line)
    if not isinstance(claim, dict):
        return error_record(None, "NOT_A_CLAIM", f"expected a JSON object, got {type(claim).__name__}", line)
    ts = None
    if tables is not None:
        ts = tables if not isinstance(tables, str) else tableset_at(tables)
    try:
        result = group(claim, tables=ts, normalize=normalize, version=version, details=True,
                       convert_codes=convert_codes)
    except ClaimError as exc:
        return error_record(claim, exc.code, str(exc), line, exc.field, exc.value)
    rec = result.to_dict()
    rec["id"] = claim.get("id")
    if line is not None:
        rec["line"] = line
    rec["error"] = None
    return rec


_tablesets: dict = {}


def tableset_at(path: str):
    from ..tables import TableSet
    ts = _tablesets.get(path)
    if ts is None:
        ts = _tablesets[path] = TableSet(path)
    return ts


def summary_records(rows, *, normalize=False, version=None, tables=None, warnings=True,
                    convert_codes=False) -> list[dict]:
    """Claim-level results of a chunk of file rows through the vectorized batch path, one dict
    per row.  With ``normalize`` or ``convert_codes`` each claim is read first (those edits made
    and kept for its warnings), then the edited claims are grouped."""
    from .summary import summarize_rows
    ts = tableset_at(tables) if isinstance(tables, str) else tables
    return summarize_rows(rows, normalize=normalize, version=version, tables=ts, warnings=warnings,
                          convert_codes=convert_codes).records()
