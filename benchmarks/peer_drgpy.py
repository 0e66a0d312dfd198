"""Adapter: the ``drgpy`` peer grouper (pure Python, rule tables per MDC).

Run with the peers' interpreter (see ``peers.py``):

    benchmarks/.peers/venv/bin/python benchmarks/peer_drgpy.py CLAIMS.jsonl OUT.json [--mode parallel --jobs 2]

API used: ``drgpy.msdrg.DRGEngine(version="v43.1")`` (one engine per grouper version),
``engine.get_drg(dx_lst, pr_lst, gender, is_alive, poa, discharge_status)`` -> a DRG string
(``"000"`` when nothing matched).  Mapping from the labelled-claims schema (inputs are
converted before timing starts):

* ``version`` 400/401/410/411/420/421/430/431 -> engine ``v40``, ``v40`` (drgpy has no
  v40.1), ``v41``, ``v41.1``, ``v42``, ``v42.1``, ``v43``, ``v43.1``
* ``dx_lst`` = ``[pdx] + sdx codes``; ``poa`` = the POA values aligned with it (drgpy only
  acts on N/U, dropping the CC/MCC of a HAC-listed code; it has no HAC-final-DRG / 999 logic)
* ``pr_lst`` = ``procedures``
* ``gender`` = ``"M"``/``"F"``; drgpy raises on anything else, so claims with sex ``U`` are
  *unsupported* (not grouped, left out of the agreement)
* ``is_alive`` = discharge status not in {20, 40, 41, 42} (expired)
* ``discharge_status`` = two-digit string (``"01"``)
* not representable: ``hospital_status`` (HAC exemption), ``admit_dx``, ``age``.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness

VERSIONS = {400: "v40", 401: "v40", 410: "v41", 411: "v41.1", 420: "v42", 421: "v42.1",
            430: "v43", 431: "v43.1"}
EXPIRED = {20, 40, 41, 42}
_engines: dict = {}


def _poa(p):
    return p if isinstance(p, str) else ""


def convert(c: dict):
    sex = c.get("sex")
    sex = sex.upper() if isinstance(sex, str) else sex
    sex = {"MALE": "M", "FEMALE": "F", "1": "M", "2": "F", 1: "M", 2: "F"}.get(sex, sex)
    if sex not in ("M", "F"):
        return None
    v = VERSIONS.get(int(c["version"]))
    if v is None:
        return None
    sdx = c.get("sdx") or ()
    codes = [s[0] if isinstance(s, (list, tuple)) else s for s in sdx]
    poas = [_poa(s[1]) if isinstance(s, (list, tuple)) and len(s) > 1 else "Y" for s in sdx]
    ds = c.get("discharge_status")
    ds = int(ds) if isinstance(ds, int) else 0
    return (v, [c.get("pdx") or ""] + codes, list(c.get("procedures") or ()), sex, ds not in EXPIRED,
            [_poa(c.get("pdx_poa", "Y"))] + poas, f"{ds:02d}")


def load():
    from drgpy.msdrg import DRGEngine
    _engines.setdefault("v43.1", DRGEngine(version="v43.1"))
    return _engines


init = load


def group_one(engines, x):
    v, dx, pr, sex, alive, poa, ds = x
    e = engines.get(v)
    if e is None:
        from drgpy.msdrg import DRGEngine
        e = engines[v] = DRGEngine(version=v)
    return int(e.get_drg(dx, pr, gender=sex, is_alive=alive, poa=poa, discharge_status=ds))


def info() -> dict:
    import importlib.metadata as md
    return {"package": "drgpy", "version": md.version("drgpy"),
            "api": "drgpy.msdrg.DRGEngine(version).get_drg(dx_lst, pr_lst, gender, is_alive, poa, discharge_status)"}


group_chunk = _harness.make_chunk_grouper(sys.modules[__name__])

if __name__ == "__main__":
    sys.exit(_harness.run_adapter(sys.modules[__name__], "drgpy"))
