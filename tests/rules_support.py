"""Shared helpers of the rule tests: the CMS-labelled claims of the committed sample by id,
and a comparison that names the claim and every differing field."""
from __future__ import annotations

import grouper

from conftest import SAMPLE, read_jsonl
from oracle_compare import differences
from rule_claims import RULE_CLAIMS

_BY_ID = {c["id"]: c for c in read_jsonl(SAMPLE)}


def labelled(cid: str) -> dict:
    """The committed CMS-labelled claim ``cid``."""
    assert cid in _BY_ID, f"{cid} is not in {SAMPLE.name}: rebuild it with python tests/make_sample.py"
    return _BY_ID[cid]


def claims_of(rule: str) -> list[str]:
    return RULE_CLAIMS[rule]


def mismatches(cid: str, fields: tuple[str, ...] = ()) -> list[str]:
    """CMS's label against this engine for claim ``cid``: every differing field, or only those
    whose name starts with one of ``fields`` (e.g. ``return_code``, ``sdx[``, ``procedures``)."""
    c = labelled(cid)
    got = grouper.group(c).to_dict()
    diffs = differences(c["expected"], got)
    if fields:
        diffs = [d for d in diffs if d.startswith(fields)]
    return [f"{cid}: {d}" for d in diffs]


def assert_as_cms(cid: str, *fields: str) -> None:
    bad = mismatches(cid, fields)
    assert not bad, "differs from CMS:\n" + "\n".join(bad)


def batch_mismatches(cids: list[str], fields: tuple[str, ...]) -> list[str]:
    """The batch path against CMS's labels, for the top-level ``fields``."""
    from grouper import group_batch
    claims = [labelled(cid) for cid in cids]
    rows = group_batch([{k: v for k, v in c.items() if k != "expected"} for c in claims]).to_records()
    return [f"{c['id']}: batch {f}: expected {c['expected'][f]!r}, got {r[f]!r}"
            for c, r in zip(claims, rows) for f in fields if r[f] != c["expected"][f]]
