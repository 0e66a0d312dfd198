"""The vectorized core's own machinery gives what the engine's per-claim functions give:
distinct rows, formulas over bit sets, the CC-exclusion bitmap, and HAC/POA processing of
claims cut to their HAC-listed secondary diagnoses."""
import random

import numpy as np
import pytest
from test_batch import assert_row_equals_single

import grouper
from grouper.bulk import vector as V
from grouper.engine import formula as fm
from grouper.engine.compiled import compiled
from grouper.tables import default

from conftest import SAMPLE, read_jsonl

TS = default()
VERSION = 431


@pytest.fixture(scope="module")
def vtab():
    return V.vector_tables(compiled(TS, VERSION))


def _check_distinct(parts):
    first, inv = V._distinct_rows(*parts)
    rows = np.column_stack([p if p.ndim == 2 else p[:, None] for p in parts])
    assert (rows[first][inv] == rows).all(), "a row's representative differs from it"
    assert len(first) == len(np.unique(rows, axis=0)), "equal rows in different groups"


def test_distinct_rows_groups_exactly_the_equal_rows():
    rng = np.random.default_rng(5)
    for n in (1, 2, 17, 1000):
        words = rng.integers(0, 4, size=(n, 3)).astype(np.uint64)
        levels = rng.integers(0, 3, size=n).astype(np.uint64)
        _check_distinct((words, levels))
        _check_distinct((levels,))
    first, inv = V._distinct_rows(np.zeros(0, np.uint64))
    assert len(first) == len(inv) == 0


def test_distinct_rows_survives_hash_collisions(monkeypatch):
    # with a zero multiplier every row hashes alike: the rows themselves must decide
    monkeypatch.setattr(V, "_MIX", np.uint64(0))
    rng = np.random.default_rng(6)
    words = rng.integers(0, 3, size=(500, 2)).astype(np.uint64)
    _check_distinct((words, rng.integers(0, 2, size=500).astype(np.uint64)))


def test_bitset_formulas_agree_with_mask_formulas():
    """Every formula of some lists, over random claims: claim u's bit of the bit-set predicate
    is the mask predicate of claim u's mask and level."""
    cv = compiled(TS, VERSION)
    bit = cv.features.bit
    rng = random.Random(7)
    n = 200
    for lst in sorted(cv.lists)[:6]:
        for row in cv.lists[lst]:
            operands = [b.bit_length() - 1 for b in _bits(row.bits)]
            masks = [sum(1 << g for g in operands if rng.random() < 0.5) for _ in range(n)]
            levels = [rng.randrange(3) for _ in range(n)]
            B = [0] * (64 * cv.features.n_words)
            for g in operands:
                B[g] = sum(1 << u for u in range(n) if masks[u] >> g & 1)
            V2 = sum(1 << u for u in range(n) if levels[u] == 2)
            V1 = sum(1 << u for u in range(n) if levels[u] == 1)
            got = fm.compile_bitset_predicate(row.node, bit)(B, V2, V1) & ((1 << n) - 1)
            want = fm.compile_mask_predicate(row.node, bit)
            for u in range(n):
                assert bool(got >> u & 1) == want(masks[u], levels[u]), \
                    f"list {lst} formula {row.position} ({row.expression}): claim {u}"


def _bits(mask: int):
    while mask:
        low = mask & -mask
        yield low
        mask ^= low


def test_exclusion_bitmap_holds_exactly_the_tables_exclusion_pairs(vtab):
    bitmap, cc_index, n_cc = vtab.exclusion_bitmap()
    cc = np.flatnonzero(vtab.dx_sev > 0)
    lists = np.unique(vtab.dx_excl[vtab.dx_excl > 0])
    rng = np.random.default_rng(8)
    keys = TS.exclusion_keys
    pairs = [(int(L), int(i)) for L, i in zip(rng.choice(lists, 20000), rng.choice(cc, 20000))]
    # and pairs that are on a list, so that both answers are tested
    on = TS.exclusion_keys_sorted[::97]
    pairs += [(int(k // TS.n_dx), int(k % TS.n_dx)) for k in on if vtab.dx_sev[k % TS.n_dx] > 0]
    for L, i in pairs:
        at = L * n_cc + int(cc_index[i])
        got = bool(bitmap[at >> 3] >> (at & 7) & 1)
        assert got == ((L * TS.n_dx + i) in keys), f"exclusion list {L}, code {TS.dx_code(i)}"


def test_one_hac_code_among_unlisted_ones_is_grouped_as_one_claim_by_claim(vtab):
    """HAC/POA processing reads only the HAC-listed secondary diagnoses, and their number
    when one is listed (a one-SDX claim has its own return codes): claims with one listed
    SDX, alone or among unlisted ones, in every position, agree with grouper.group."""
    rows = [c for c in read_jsonl(SAMPLE) if c["expected"]["num_hac_categories_satisfied"] > 0
            and c["version"] == VERSION]
    assert rows, "the sample has claims meeting a HAC"
    unlisted = []
    for c in read_jsonl(SAMPLE):
        for code, _ in c.get("sdx", []):
            i = TS.dx_id(code)
            if i is not None and vtab.dx_valid[i] and not vtab.dx_hac_listed[i] and code not in unlisted:
                unlisted.append(code)
        if len(unlisted) >= 3:
            break
    claims = []
    for c in rows[:40]:
        base = {k: v for k, v in c.items() if k not in ("expected", "scenario")}
        listed = [s for s in base["sdx"] if (i := TS.dx_id(s[0])) is not None and vtab.dx_hac_listed[i]]
        for s in listed[:1]:
            for sdx in ([s], [s, [unlisted[0], "N"]], [[unlisted[0], "Y"], s, [unlisted[1], "U"]],
                        [[unlisted[0], "Y"], [unlisted[1], "Y"], s]):
                claims.append(dict(base, sdx=sdx))
    assert len(claims) >= 40
    out = grouper.group_batch(claims)
    for i, rec in enumerate(claims):
        assert_row_equals_single(out[i], rec, i)
