"""Warming a version's code look-ups in bulk (``Compiled.warm_dx`` / ``warm_pr``, what the
command line's block route does before grouping a block's claims one by one) makes, for every
code, the same facts the look-up of that code alone makes (``dx_read`` / ``pr_read``): every
slot of every DxInfo / PrInfo equal, of the same type, for every diagnosis and procedure code
of the committed oracle sample, in every version -- also codes the version does not have,
codes in no version and spellings not in upper case (left to the look-up one by one)."""
import gzip
import json

import pytest

from grouper.engine import compiled as cm
from grouper.engine.compiled import Compiled, DxInfo, PrInfo
from grouper.reading.values import read_code
from grouper.tables import TableSet, default

from conftest import SAMPLE

TS = default()
#: spellings that are not a code of any version, or not as the tables spell it
ODD = ["I50.22", "i5022", "0dtj4zz", "ZZZZZZZ", "", "null", " I5022", "I5022 ", "Ä123"]


def sample_codes() -> tuple[list[str], list[str]]:
    """Every diagnosis (principal, secondary) and procedure code of the sample, as read (a null
    code: "null"), in first-seen order, and the odd spellings."""
    dx: dict = {}
    pr: dict = {}
    with gzip.open(SAMPLE, "rt") as f:
        for line in f:
            c = json.loads(line)
            dx[read_code(c["pdx"])] = None
            for s in c.get("sdx") or ():
                dx[read_code(s[0] if s else None)] = None
            for p in c.get("procedures") or ():
                pr[read_code(p)] = None
    return list(dx) + ODD, list(pr) + ODD


DX, PR = sample_codes()


def id_as_spelled(find, code) -> int:
    """The id the block route reads for a spelling: exactly as spelled, else upper-cased (-1: none)."""
    got = find(code)
    if got is None and code.upper() != code:
        got = find(code.upper())
    return -1 if got is None else got


def same_facts(kind: str, code: str, version: int, got, want) -> None:
    at = f"{kind} code {code!r}, version {version}"
    assert (got is None) == (want is None), f"{at}: warmed {got!r}, looked up {want!r}"
    if want is None:
        return
    slots = DxInfo.__slots__ if kind == "dx" else PrInfo.__slots__
    for slot in slots:
        a, b = getattr(got, slot), getattr(want, slot)
        assert a == b and type(a) is type(b), f"{at}: {slot} warmed {a!r}, looked up {b!r}"


@pytest.mark.parametrize("version", TS.versions)
def test_warmed_facts_are_the_facts_of_the_codes_looked_up_one_by_one(version):
    vt = TS.version(version)
    warmed, lazy = Compiled(TS, vt), Compiled(TS, vt)
    made = warmed.warm_dx(DX, [id_as_spelled(TS.dx_id, c) for c in DX])
    made += warmed.warm_pr(PR, [id_as_spelled(TS.pr_id, c) for c in PR])
    upper = [c for c in DX + PR if c.upper() == c]
    assert made == len(set(DX) & set(upper)) + len(set(PR) & set(upper)), \
        f"version {version}: {made} codes' facts made, not one per upper-case spelling"
    for kind, codes, cache, read in (("dx", DX, warmed._dx_read, lazy.dx_read),
                                     ("pr", PR, warmed._pr_read, lazy.pr_read)):
        for code in codes:
            if code.upper() == code:                  # warmed: at hand before any look-up
                assert code in cache, f"{kind} code {code!r}, version {version}: not warmed"
            same_facts(kind, code, version, cache[code], read(code))
        # what a claim reads later: the same (a spelling not in upper case, looked up then)
        for code in codes:
            same_facts(kind, code, version, (warmed.dx_read if kind == "dx" else warmed.pr_read)(code), read(code))


def test_warming_keeps_what_was_looked_up_and_shares_the_facts_of_another_spelling():
    cv = Compiled(TS, TS.version(431))
    first = cv.dx_read("I5022")
    lower = cv.dx_read("e119")                   # its facts are kept under "E119" too
    assert cv.warm_dx(["I5022", "E119", "N179"], [TS.dx_id("I5022"), TS.dx_id("E119"), TS.dx_id("N179")]) == 1
    assert cv.dx_read("I5022") is first and cv.dx_read("E119") is lower
    assert cv.dx_read("N179").id == TS.dx_id("N179")


def test_warming_stops_where_the_caches_are_full(monkeypatch):
    monkeypatch.setattr(cm, "_INFO_CACHE_LIMIT", 10)
    cv = Compiled(TS, TS.version(431))
    codes = DX[:50]
    cv.warm_dx(codes, [id_as_spelled(TS.dx_id, c) for c in codes])
    assert len(cv._dx_read) == 10 and len(cv._dx_info) == 10
    assert list(cv._dx_read) == [c for c in dict.fromkeys(codes) if c.upper() == c][:10]


def test_a_block_of_several_versions_warms_each_claims_codes_in_its_version():
    from grouper.bulk import detail
    from grouper.bulk.arrow import columns_from_arrow
    from grouper.io.arrow import jsonl_table
    pytest.importorskip("pyarrow")
    ts = TableSet(TS.dir)                         # its own compiled tables: nothing looked up yet
    lines = []
    with gzip.open(SAMPLE, "rt") as f:
        for k, line in enumerate(f):
            c = json.loads(line)
            if k % 60 == 0 and isinstance(c.get("version"), int) and isinstance(c["pdx"], str):
                # claims of every version, fields of one type throughout (one Arrow table)
                lines.append(json.dumps({
                    "id": str(c["id"]), "version": c["version"], "pdx": c["pdx"],
                    "sdx": [[x[0], "Y"] for x in c.get("sdx") or () if x and isinstance(x[0], str)],
                    "procedures": [x for x in c.get("procedures") or () if isinstance(x, str)]}).encode() + b"\n")
    table, _ = jsonl_table([(1 + i, raw, 0) for i, raw in enumerate(lines)], max_line=1 << 20)
    cols = columns_from_arrow(table, tables=ts)
    reads, spelled = detail._as_read(cols)
    assert len({r.version for r in reads if r is not None}) >= 5
    detail.warm(cols, *spelled, ts)
    for read in reads:
        cv = cm.compiled(ts, read.version)
        for code in [read.pdx] + [c for c, _ in read.sdx]:
            if code.upper() == code:
                assert code in cv._dx_read, f"version {read.version}: {code} not warmed"
        for code in read.procedures:
            if code.upper() == code:
                assert code in cv._pr_read, f"version {read.version}: {code} not warmed"
