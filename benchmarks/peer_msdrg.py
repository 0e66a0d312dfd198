"""Adapter: the ``msdrg`` peer grouper (compiled "mz-drg" engine, ctypes bindings).

Run with the peers' interpreter (see ``peers.py``):

    benchmarks/.peers/venv/bin/python benchmarks/peer_msdrg.py CLAIMS.jsonl OUT.json [--mode parallel --jobs 2]

API used: ``msdrg.MsdrgGrouper()`` (one native context), ``g.group(dict)["final_drg"]``.
Mapping from the labelled-claims schema (inputs are converted before timing starts):

* ``version``            -> ``version`` (int, same numbering: 431 = v43.1)
* ``sex`` M/F/U          -> ``sex`` 0/1/2 (anything else -> 2, as the CMS grouper reads it)
* ``discharge_status``   -> ``discharge_status`` (int)
* ``hospital_status``    -> ``hospital_status`` (NOT_EXEMPT / EXEMPT / UNKNOWN)
* ``age``                -> ``age`` (not used for grouping by CMS)
* ``pdx``, ``pdx_poa``   -> ``pdx: {"code", "poa"}``
* ``admit_dx``           -> ``admit_dx: {"code", "poa": "Y"}`` when given
* ``sdx [[code, poa]]``  -> ``sdx: [{"code", "poa"}]``
* ``procedures``         -> ``procedures: [{"code"}]``
* POA: Y/N/U/W pass through; blank, ``"1"`` and null become ``" "``.  msdrg's Python
  validator accepts only Y/N/U/W/" "; its engine (like CMS's ``GfcPoa``) treats blank, ``1``
  and ``E`` alike as "not a valid POA" (POA_NOT_RECOGNIZED, HAC -> DRG 999), so ``" "`` keeps
  the meaning.  Any other POA value would be rejected by msdrg's validator; it is sent as
  ``" "`` too (the CMS grouper maps other single characters to E, the same outcome).
* tie-breaker: msdrg's default, CLINICAL_SIGNIFICANCE (what the labelled claims used).
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness

SEX = {"M": 0, "F": 1, "U": 2, "MALE": 0, "FEMALE": 1, "1": 0, "2": 1, 1: 0, 2: 1}
POA_OK = {"Y", "N", "U", "W"}
HOSP = {"NOT_EXEMPT": "NOT_EXEMPT", "NON_EXEMPT": "NOT_EXEMPT", "EXEMPT": "EXEMPT", "UNKNOWN": "UNKNOWN"}


def _poa(p):
    if isinstance(p, str):
        p = p.upper()
        if p in POA_OK:
            return p
    return " "


def _sdx(item):
    if isinstance(item, (list, tuple)):
        code, poa = item[0], (item[1] if len(item) > 1 else "Y")
    elif isinstance(item, dict):
        code, poa = item.get("code"), item.get("poa", "Y")
    else:
        code, poa = item, "Y"
    return {"code": code if isinstance(code, str) else "", "poa": _poa(poa)}


def _int(v, default=0):
    if isinstance(v, bool):
        return default
    if isinstance(v, int):
        return v
    return default  # a non-integer status is no CMS status (the CMS grouper reads it as NONE)


def convert(c: dict) -> dict:
    sex = c.get("sex")
    x = {
        "version": int(c["version"]),
        "age": _int(c.get("age")),
        "sex": SEX.get(sex.upper() if isinstance(sex, str) else sex, 2),
        "discharge_status": _int(c.get("discharge_status")),
        "hospital_status": HOSP.get(c.get("hospital_status") or "NOT_EXEMPT", "NOT_EXEMPT"),
        "pdx": {"code": c.get("pdx") or "", "poa": _poa(c.get("pdx_poa", "Y"))},
        "sdx": [_sdx(s) for s in c.get("sdx") or ()],
        "procedures": [{"code": p} for p in c.get("procedures") or ()],
    }
    if c.get("admit_dx"):
        x["admit_dx"] = {"code": c["admit_dx"], "poa": _poa(c.get("admit_dx_poa", "Y"))}
    return x


def load():
    import msdrg
    return msdrg.MsdrgGrouper()


init = load


def group_one(g, x):
    return g.group(x)["final_drg"]


def info() -> dict:
    import importlib.metadata as md
    try:
        import orjson  # noqa: F401
        backend = "orjson"
    except ImportError:
        backend = "json"
    return {"package": "msdrg", "version": md.version("msdrg"), "json_backend": backend,
            "api": "msdrg.MsdrgGrouper().group(dict)"}


group_chunk = _harness.make_chunk_grouper(sys.modules[__name__])

if __name__ == "__main__":
    sys.exit(_harness.run_adapter(sys.modules[__name__], "msdrg"))
