"""The full-detail JSON lines written from memoized pieces (grouper.bulk.detail) are, byte for byte,
the per-claim result ``grouper.group(claim, details=True).to_dict()`` as the command line writes
it (its id, input line number, ``error: null``, the version spelled "43.1"), on every claim of
the committed oracle sample -- and, with GROUPER_FULL_ORACLE=1, on every labelled claim."""
import json
import os

import pytest

import grouper
from grouper.bulk.detail import detail_rows
from grouper.cli.columnar import version_label
from grouper.io import Row
from grouper.tables import default

from conftest import ORACLE, SAMPLE, needs_oracle, read_jsonl


def reference(claim, n: int):
    """The output record of one claim from the per-claim API alone, or None when the claim
    cannot be grouped (the command line writes its error row its own way)."""
    try:
        d = grouper.group(claim, details=True).to_dict()
    except grouper.ClaimError:
        return None
    d["id"] = claim.get("id")
    d["line"] = n
    d["error"] = None
    d["version"] = version_label(d["version"])
    return d


def first_difference(got, want, where=""):
    """The path of the first field that differs between two decoded records."""
    if isinstance(want, dict) and isinstance(got, dict):
        if list(got) != list(want):
            return f"{where}(field order {list(got)} != {list(want)})"
        for k in want:
            d = first_difference(got[k], want[k], f"{where}.{k}" if where else k)
            if d:
                return d
        return None
    if isinstance(want, list) and isinstance(got, list):
        if len(got) != len(want):
            return f"{where} (length {len(got)} != {len(want)})"
        for i, (g, w) in enumerate(zip(got, want)):
            d = first_difference(g, w, f"{where}[{i}]")
            if d:
                return d
        return None
    return None if (got == want and type(got) is type(want)) else f"{where}: {got!r} != {want!r}"


def check_lines(claims, label: str):
    rows = [Row(n, c, None, None) for n, c in enumerate(claims, start=1)]
    got = detail_rows(rows, tables=default(), label=version_label)
    assert len(got.lines) == len(claims)
    written = 0
    for n, (claim, line) in enumerate(zip(claims, got.lines), start=1):
        want = reference(claim, n)
        where = f"{label}: claim {claim.get('id')!r} (line {n})"
        if want is None:
            assert line is None, f"{where}: cannot be grouped, yet a line was written"
            continue
        assert line is not None, f"{where}: groupable, yet left to the caller"
        written += 1
        text = json.dumps(want, ensure_ascii=False, separators=(",", ":")) + "\n"
        if line != text:
            diff = first_difference(json.loads(line), json.loads(text))
            pytest.fail(f"{where}: field {diff or '(same values, different text)'}")
        assert got.return_code[n - 1] == want["return_code"], f"{where}: return_code counted"
        assert [w.to_dict() for w in got.warnings[n - 1]] == want["warnings"], f"{where}: warnings counted"
    return written


def test_every_sample_claim_is_its_per_claim_result_byte_for_byte():
    claims = read_jsonl(SAMPLE)
    assert check_lines(claims, "oracle sample") >= len(claims) * 0.9


FULL = os.environ.get("GROUPER_FULL_ORACLE") == "1"
ORACLE_FILES = sorted(p.name for p in ORACLE.glob("*.jsonl*")) if ORACLE.exists() else []


@needs_oracle
@pytest.mark.skipif(not FULL, reason="every labelled claim with GROUPER_FULL_ORACLE=1 (minutes on 2 cores)")
@pytest.mark.parametrize("name", ORACLE_FILES)
def test_every_labelled_claim_is_its_per_claim_result_byte_for_byte(name):
    claims = read_jsonl(ORACLE / name)
    assert check_lines(claims, name) > 0


def test_rows_left_to_the_caller():
    """Unreadable rows, claims that cannot be grouped, kept columns and ids JSON cannot spell
    as they are come back as None: the command line writes them its own way."""
    ok = {"id": "a", "version": 431, "pdx": "I10", "sdx": [], "procedures": []}
    rows = [Row(1, ok, None, None), Row(2, None, ("BAD_JSON", "not JSON"), None),
            Row(3, {"id": "b", "version": 431}, None, None), Row(4, ok, None, {"x": 1}),
            Row(5, dict(ok, id=float("nan")), None, None), Row(6, ["not", "a", "claim"], None, None)]
    got = detail_rows(rows, tables=default(), label=version_label)
    assert [line is not None for line in got.lines] == [True, False, False, False, False, False]
    assert json.loads(got.lines[0])["final_drg"] == grouper.group(ok).final_drg
