"""The ``normalize`` option: opt-in cleaning of unambiguous code formatting before reading.

CMS reads a code exactly as written (``I50.22`` is not a code); with ``normalize`` the
dots and blanks of codes and the letter case of codes and POA are cleaned first, and each
change is reported as a CODE_NORMALIZED warning (:func:`grouper.reading.checks.claim_warnings`).
"""
from __future__ import annotations

import re

import attrs

from .claim import Claim, Diagnosis

_CODE_JUNK = re.compile(r"[\s.]")


def normalize_claim(claim: Claim) -> tuple[Claim, list[tuple[str, str, str]]]:
    """The cleaned claim and (field, before, after) per changed code."""
    changes = []

    def clean(field, code):
        if not isinstance(code, str):
            return code
        new = _CODE_JUNK.sub("", code).upper()
        if new != code:
            changes.append((field, code, new))
        return new

    def clean_poa(poa):
        if isinstance(poa, str) and poa.strip() and poa.strip().upper() != poa:
            return poa.strip().upper()
        return poa

    pdx = clean("pdx", claim.pdx)
    sdx = tuple(Diagnosis(clean(f"sdx[{k}]", d.code), clean_poa(d.poa)) for k, d in enumerate(claim.sdx, 1))
    procs = tuple(clean(f"procedures[{k}]", p) for k, p in enumerate(claim.procedures, 1))
    new = attrs.evolve(claim, pdx=pdx, pdx_poa=clean_poa(claim.pdx_poa), sdx=sdx,
                       procedures=procs,
                       admit_dx=clean("admit_dx", claim.admit_dx) if claim.admit_dx is not None else None)
    return new, changes
