"""The ``convert_codes`` option: a claim's codes converted to the code set of the grouper version
used, before reading (for regrouping an old claim under a newer version, or the reverse).

The codes were written for the claim's discharge date (or, without one, for its own
``version``); each one the target version does not have is looked up in CMS's ICD-10
conversion tables (:mod:`grouper.tables.convert`):

* one replacement: the code is replaced by it (``CONVERTED``);
* several replacements (a code split in two, or codes merged): kept as written
  (``AMBIGUOUS``) -- choosing one is the coder's call;
* no replacement known: kept as written (``NO_MATCH``), reported only for a code that was
  valid on the claim's own date (anything else is a typo, reported by the usual warnings).

Each of these is reported as a CODE_CONVERSION warning
(:func:`grouper.reading.checks.claim_warnings`); the grouper then reads the converted claim as
any other.  Codes the target version has are never touched, nor is their spelling.
"""
from __future__ import annotations

import attrs

from ..tables.convert import AMBIGUOUS, CONVERTED, NO_MATCH, Conversion, converter
from ..tables.versions import VersionError
from .claim import Claim, Diagnosis, plain


def source_date(claim: Claim, tables):
    """The date whose code set the claim was coded in: its discharge date, else the first day
    of its own version; None when it has neither (or neither can be read)."""
    conv = converter(tables)
    for value in (plain(claim.discharge_date), plain(claim.version)):
        if value is None or value == "" or isinstance(value, bool):
            continue
        try:
            return conv.when(value)
        except (VersionError, ValueError, TypeError):
            return None
    return None


def convert_claim(claim: Claim, tables, version: int) -> tuple[Claim, tuple[tuple[str, Conversion], ...]]:
    """The claim with its codes converted to the code set of grouper ``version``, and
    ``(field, Conversion)`` for each code reported (converted, or kept as written for want of
    a single replacement)."""
    source = source_date(claim, tables)
    if source is None:
        return claim, ()
    conv = converter(tables)
    target = tables.version(version).effective_from
    dx_fields = (["pdx"] + [f"sdx[{k}]" for k in range(1, len(claim.sdx) + 1)]
                 + (["admit_dx"] if claim.admit_dx is not None else []))
    dx_codes = [claim.pdx] + [d.code for d in claim.sdx] + ([claim.admit_dx] if claim.admit_dx is not None else [])
    pr_fields = [f"procedures[{k}]" for k in range(1, len(claim.procedures) + 1)]
    reported: list = []
    new_codes = {}
    for kind, fields, codes in (("dx", dx_fields, dx_codes), ("pr", pr_fields, list(claim.procedures))):
        if not codes:
            continue
        was_valid = None
        for field, code, c in zip(fields, codes, conv.convert_many(kind, codes, source, target)):
            if c.status == CONVERTED:
                new_codes[field] = c.unique
                reported.append((field, c))
            elif c.status == AMBIGUOUS:
                reported.append((field, c))
            elif c.status == NO_MATCH:
                if was_valid is None:
                    was_valid = _valid_on(conv, kind, source)
                if was_valid(code.strip().upper().replace(".", "")):
                    reported.append((field, c))
    if not new_codes:
        return claim, tuple(reported)
    get = new_codes.get
    sdx = tuple(Diagnosis(get(f"sdx[{k}]", d.code), d.poa) for k, d in enumerate(claim.sdx, 1))
    procs = tuple(get(f"procedures[{k}]", p) for k, p in enumerate(claim.procedures, 1))
    new = attrs.evolve(claim, pdx=get("pdx", claim.pdx), sdx=sdx, procedures=procs,
                       admit_dx=get("admit_dx", claim.admit_dx))
    return new, tuple(reported)


def _valid_on(conv, kind: str, when):
    try:
        return conv.valid_on(kind, when)
    except VersionError:        # no grouper version covers the claim's date: nothing is known
        return lambda code: False
