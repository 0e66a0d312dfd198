"""Field-by-field comparison of a result with a CMS-labelled ``expected`` object."""
from __future__ import annotations

import json

TOP = ["initial_drg", "initial_mdc", "final_drg", "final_mdc", "return_code", "initial_severity",
       "final_severity", "hac_status", "initial_return_code", "initial_claim_severity", "final_claim_severity",
       "num_hac_categories_satisfied", "initial_base_drg", "final_base_drg", "initial_med_surg", "final_med_surg",
       "admit_dx_flag"]
DX = ["code", "poa", "recognized", "affects_drg", "initial_severity_usage", "final_severity_usage", "poa_error",
      "hacs"]
PR = ["code", "recognized", "affects_drg", "is_or", "hac_usage"]


def _norm(v):
    if isinstance(v, list):
        return sorted(json.dumps(x, sort_keys=True) for x in v)
    return v


def differences(expected: dict, got: dict) -> list[str]:
    """'field: expected X, got Y' for every differing field (per code as pdx.f, sdx[i].f, procedures[i].f)."""
    out = []
    for f in TOP:
        if f in expected and _norm(expected[f]) != _norm(got.get(f)):
            out.append(f"{f}: expected {expected[f]!r}, got {got.get(f)!r}")
    for kind, fields in (("pdx", DX), ("sdx", DX), ("procedures", PR)):
        ev, gv = expected.get(kind), got.get(kind)
        if kind == "pdx":
            ev, gv = ([ev] if ev else []), ([gv] if gv else [])
        if len(ev or []) != len(gv or []):
            out.append(f"{kind}: expected {len(ev or [])} entries, got {len(gv or [])}")
            continue
        for i, (a, b) in enumerate(zip(ev or [], gv or [])):
            for f in fields:
                if f in a and _norm(a[f]) != _norm(b.get(f)):
                    where = kind if kind == "pdx" else f"{kind}[{i}]"
                    out.append(f"{where}.{f} ({a.get('code')}): expected {a[f]!r}, got {b.get(f)!r}")
    return out
