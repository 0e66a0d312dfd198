"""Entry points that never raise for bad input: one output record per input record.

Used by the command line and the batch API: a claim that cannot be grouped
comes back as a record with its id (or line number) and an ``error``
``{code, message, field, value}``; everything else comes back grouped, with
warnings.
"""
from __future__ import annotations

import warnings as _warnings

from ..engine.pipeline import group
from ..reading import Claim, ClaimError, claim_warnings, quick_clean, read, read_claim, version_warnings


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
        ts = tables if not isinstance(tables, str) else _tableset(tables)
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


def _tableset(path: str):
    from ..tables import TableSet
    ts = _tablesets.get(path)
    if ts is None:
        ts = _tablesets[path] = TableSet(path)
    return ts


SUMMARY_FIELDS = ("version", "initial_drg", "initial_mdc", "final_drg", "final_mdc", "return_code",
                  "initial_return_code", "initial_base_drg", "final_base_drg", "initial_med_surg", "final_med_surg",
                  "initial_severity", "final_severity", "initial_claim_severity", "final_claim_severity",
                  "hac_status", "num_hac_categories_satisfied", "weight", "gmlos", "amlos")


def summary_records(rows, *, normalize=False, version=None, tables=None, warnings=True,
                    convert_codes=False) -> list[dict]:
    """Claim-level results of a chunk of file rows through the vectorized batch path.  With
    ``normalize`` or ``convert_codes`` each claim is read first (those edits made and kept for
    its warnings), then the edited claims are grouped."""
    from .batch import WeightsUnavailableWarning, group_batch
    ts = _tableset(tables) if isinstance(tables, str) else tables
    tset = ts or _default()
    claims, where, edits = [], [], {}
    for k, row in enumerate(rows):
        if row.error is None:
            c = row.claim
            if (normalize or convert_codes) and isinstance(c, dict):
                try:
                    got = read(c, tset, version=version, normalize=normalize, convert_codes=convert_codes)
                    c, edits[len(claims)] = got.raw, (got.changes, got.conversions)
                except ClaimError:  # unreadable claims are reported by group_batch
                    pass
            claims.append(c)
            where.append(k)
    with _warnings.catch_warnings():     # each record carries its own WEIGHTS_UNAVAILABLE warning
        _warnings.simplefilter("ignore", WeightsUnavailableWarning)
        out = group_batch(claims, version=version, tables=ts) if claims else None
    cols = _plain_columns(out) if out is not None else {}
    vtabs: dict = {}
    recs = []
    j = 0
    for row in rows:
        if row.error is not None:
            recs.append(error_record(None, row.error[0], row.error[1], row.line))
            continue
        claim = claims[j]
        cid = claim.get("id") if isinstance(claim, dict) else getattr(claim, "id", None)
        if cols["error"][j] is not None:
            rec = {"id": cid, "line": row.line,
                   "error": {"code": cols["error"][j], "message": cols["error_message"][j], "field": None,
                             "value": None}}
        else:
            rec = {"id": cid, "line": row.line}
            for f in SUMMARY_FIELDS:
                rec[f] = cols[f][j]
            v = rec["version"]
            vt = vtabs.get(v)
            if vt is None:
                vt = vtabs[v] = tset.version(v)
            rec["final_drg_description"] = vt.drg_titles.get(rec["final_drg"], "")
            rec["error"] = None
            if warnings:
                if j not in edits and quick_clean(claim, vt, tset):
                    rec["warnings"] = [w.to_dict() for w in version_warnings(v, tset)]
                else:
                    cl = claim if isinstance(claim, Claim) else Claim.from_dict(claim)
                    ws = claim_warnings(cl, read_claim(cl, v), tset, *edits.get(j, ((), ())))
                    rec["warnings"] = [w.to_dict() for w in ws]
        recs.append(rec)
        j += 1
    return recs


def _plain_columns(out) -> dict:
    """Batch columns as lists of plain Python values (NaN as None)."""
    cols = {}
    for f in SUMMARY_FIELDS + ("error", "error_message"):
        a = getattr(out, f)
        vals = a.tolist()
        if a.dtype.kind == "f":
            vals = [None if x != x else x for x in vals]
        cols[f] = vals
    return cols


def _default():
    from ..tables import default
    return default()
