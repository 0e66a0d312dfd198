"""Cold start: a new process that groups one claim loads only what that claim needs
(no numpy, pathlib, datetime or stay module; no look-up dict of every code; only the formula
lists it evaluates; only the entries of the tables' header look-ups that it reads), and the
light look-ups it uses instead agree with the full ones on every code and entry.  No test
here measures time (benchmarks/cold.py does)."""
import subprocess
import sys

import pytest

from grouper import tables

from conftest import ROOT

TS = tables.default()


def _fresh(code: str) -> str:
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_grouping_one_claim_in_a_new_process_never_imports_numpy():
    out = _fresh("import sys, grouper\n"
                 "r = grouper.group({'version': 431, 'pdx': 'I2109', 'sdx': [['I5022', 'Y'], ['N179', 'N']],\n"
                 "                   'procedures': ['02703DZ'], 'sex': 'M', 'discharge_status': 1}, details=True)\n"
                 "print(len(r.sdx), len(r.procedures), 'numpy' in sys.modules)")
    assert out == "2 1 False"


def test_the_batch_api_still_loads_on_first_use():
    out = _fresh("import sys, grouper\n"
                 "print('numpy' in sys.modules, grouper.group_batch([{'version': 431, 'pdx': 'I5022'}]).final_drg[0],\n"
                 "      'numpy' in sys.modules, 'group_batch' in dir(grouper))")
    assert out == "False 293 True True"


@pytest.mark.parametrize("kind", ["dx", "pr"])
def test_the_binary_search_finds_every_code_at_its_index(kind):
    codes = TS.dx_codes if kind == "dx" else TS.pr_codes
    universe = tables.TableSet(TS.dir)._code_universe[0 if kind == "dx" else 1]     # a fresh one: no dict yet
    universe.SEARCHES = 10**9
    find = universe.find
    assert [find(c) for c in codes] == list(range(len(codes)))
    for missing in ["", "I50.22", "i5022", " I5022", "ZZZZZZZZ", "I5022\n", "Ä123", "0"]:
        assert find(missing) is None, missing
    assert find(None) is None and find(5022) is None
    universe.SEARCHES = 0              # a process that searched many codes: the dict takes over
    assert [find(c) for c in codes[::97]] == list(range(0, len(codes), 97)) and find("I50.22") is None
    assert universe.index() is universe.index()


def test_the_exclusion_binary_search_agrees_with_every_exclusion_pair():
    off, dx = TS.ccx_off, TS.ccx_dx
    n = TS.n_dx
    for number in range(len(off) - 1):
        members = set(dx[off[number]:off[number + 1]].tolist())
        assert all(TS.excludes(number, i) for i in members)
        # the neighbours of each member that are not members are not excluded
        for i in members:
            for j in (i - 1, i + 1):
                if 0 <= j < n and j not in members:
                    assert not TS.excludes(number, j), (number, j)
    assert len(TS.exclusion_keys) == len(dx)


def test_one_claim_in_a_new_process_builds_no_object_per_code_and_parses_only_the_lists_it_walks():
    out = _fresh("import grouper\n"
                 "from grouper import tables\n"
                 "from grouper.engine.compiled import compiled\n"
                 "r = grouper.group({'version': 431, 'pdx': 'I2109', 'sdx': [['I5022', 'Y'], ['N179', 'N']],\n"
                 "                   'procedures': ['02703DZ'], 'sex': 'M', 'discharge_status': 1})\n"
                 "ts = tables.default()\n"
                 "per_code = [n for u in ts._code_universe for n in ('raw', 'codes') if n in vars(u)]\n"
                 "lists = compiled(ts, 431).lists\n"
                 "print(r.final_drg > 0, per_code, [u._index is None for u in ts._code_universe],\n"
                 "      0 < len(lists._built) < len(lists))")
    assert out == "True [] [True, True] True"


def test_the_operands_read_from_a_formulas_text_are_those_of_its_parse_tree():
    from grouper.engine import formula as fm
    for v in TS.versions:
        vt = TS.version(v)
        texts = [r["expression"] for rows in vt.formulas.values() for r in rows] + list(vt.hac_formulas.values())
        for text in texts:
            assert fm.text_atoms(text) == fm.atoms(fm.parse(text)), (v, text)


def test_rows_parsed_on_first_use_carry_the_bits_of_their_parse_tree():
    from grouper.engine import formula as fm
    from grouper.engine.compiled import Compiled
    cv = Compiled(TS, TS.version(431))
    assert not cv.lists._built
    for mdc in cv.lists:
        for row in cv.lists[mdc]:
            assert row.bits == fm.operand_bits(row.node, cv.features.bit), (mdc, row.position)
            assert cv.supp_sets[row.supp_index] == row.suppression
            assert row.bits & ~cv.list_plan[mdc][0] == 0 and row.supp_index in cv.list_plan[mdc][1]
    assert set(cv.lists._built) == set(cv.lists)


# -- header members decoded one entry at a time (container.JsonObject) ------------------------

def _header(path):
    from grouper.tables import container
    data = path.read_bytes()
    return container.loads(data)[1], container.loads(data, lazy=frozenset({"hac_codes", "dx_patterns",
                                                                           "pr_patterns"}))[1]


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "tables").glob("*.tbl")))
def test_every_entry_read_lazily_is_the_one_the_whole_header_gives(name, monkeypatch):
    from grouper.tables.container import JsonObject
    monkeypatch.setattr(JsonObject, "SEARCHES", 10**9)          # every key searched, never decoded whole
    full, lazy = _header(ROOT / "tables" / name)
    assert set(lazy) == set(full)
    for member, value in full.items():
        got = lazy[member]
        if not isinstance(got, JsonObject):
            assert got == value, (name, member)
            continue
        fresh = _header(ROOT / "tables" / name)[1][member]        # nothing decoded yet
        for key in value:
            assert fresh[key] == value[key], (name, member, key)
        for absent in ["0", "ZZZZZZZ", "I50.22", "i5022", "1 ", "A4154", 1, None]:
            assert fresh.get(absent) == value.get(absent) and (absent in fresh) == (absent in value), (name, absent)
        assert fresh._all is None, "a look-up by code decoded the whole member"
        for odd in ["", "-1", " 1", '"', "\\"]:                 # searched in the decoded member
            assert fresh.get(odd) == value.get(odd), (name, member, odd)
        assert dict(fresh) == value and len(fresh) == len(value)


def test_a_member_the_search_cannot_settle_is_decoded_whole_with_the_same_result():
    """Braces and '","' inside texts, a nested object, blanks, escapes, non-letter keys: the
    lazy reading gives what json.loads gives, falling back to decoding where it must."""
    from grouper.tables import container
    tricky = {
        "braces": {"A1": [["x}", "y"]], "B2": [['}," B2":']], "C3": [["{", "}"]], "D4": 1},
        "nested": {"A1": {"B2": [1]}, "B2": [2]},
        "blanks": {"A1": ["a b"], "B2": ["c"]},
        "escapes": {"A1": ['q"uote'], "B\\2": ["back\\slash"], "C3": ["\n"]},
        "odd_keys": {",[": [1], "-1": [2], "": [3], "é1": [4], "1": [5]},
        "last": {"Z9": [9]},
    }
    for order in (tricky, dict(reversed(list(tricky.items())))):
        data = container.dumps({}, order)
        full = container.loads(data)[1]
        lazy = container.loads(data, lazy=frozenset(order))[1]
        assert full == order
        for member, value in order.items():
            for key in [*value, "A1", "B2", "C3", "Z9", "X0", ",[", "-1", "", "é1", "1", "B\\2"]:
                fresh = container.loads(data, lazy=frozenset(order))[1][member]
                assert fresh.get(key) == value.get(key), (member, key)
            assert dict(lazy[member]) == value


def test_one_claim_in_a_new_process_decodes_no_look_up_member_whole_and_imports_no_pathlib():
    """Nor datetime (a claim without dates) nor the stay's module (the MCE's)."""
    out = _fresh("import sys\n"
                 "for m in ('pathlib', 'datetime'):      # the editable install's import hook loads them\n"
                 "    sys.modules.pop(m, None)\n"
                 "import grouper\n"
                 "from grouper import tables\n"
                 "r = grouper.group({'version': 431, 'pdx': 'I2109', 'sdx': [['I5022', 'Y'], ['N179', 'N']],\n"
                 "                   'procedures': ['02703DZ'], 'sex': 'M', 'discharge_status': 1})\n"
                 "ts = tables.default()\n"
                 "meta = ts._common[1]\n"
                 "print(r.final_drg > 0, ts.version(431).hac_codes._all is None, meta['dx_patterns']._all is None,\n"
                 "      meta['pr_patterns']._all is None, [m for m in ('pathlib', 'datetime', 'grouper.reading.stay')\n"
                 "                                         if m in sys.modules])")
    assert out == "True True True True []"


def test_an_object_end_is_taken_from_two_searches_only_where_they_prove_it():
    from grouper.tables.container import _flat_object_end
    end = _flat_object_end
    assert end('{"A1":[["x"]],"B2":[1]},"next":1}}', 0) == 23
    assert end('{"A1":[["x"]]}}}', 0) == 14                         # the last member of "meta"
    assert end('{"A1":{"B2":[1]},"B2":[2]},"next":1}}', 0) == -1   # a nested object
    assert end('{"A1":["x},"],"B2":[1]},"next":1}}', 0) == -1      # a brace inside a text
    assert end('{"A1":["x}"]}}}', 0) == -1                          # ... followed by no member
    assert end('[1]', 0) == -1


def test_a_key_is_searched_only_where_a_match_can_only_be_that_key():
    from grouper.tables.container import JsonObject
    text = '{"A1":["a,",[":","v"]]}'           # '",[":' occurs, at the end of the text "a,"
    obj = JsonObject(text, 0, len(text))
    assert obj.get(",[") is None and obj.get("A1") == ["a,", [":", "v"]]


def test_many_look_ups_decode_the_object_once_and_answer_the_same():
    """A search reads the object's whole text: a run that looks up thousands of codes (most of
    them absent, e.g. from the HAC code table) must not search each time; after
    JsonObject.SEARCHES searches the object is decoded whole, with the same answers."""
    import json

    from grouper.tables.container import JsonObject
    members = {f"K{i:04d}": [i, "x"] for i in range(0, 400, 2)}
    text = json.dumps(members, separators=(",", ":"))
    obj = JsonObject(text, 0, len(text))
    keys = [f"K{i:04d}" for i in range(400)]
    for n, key in enumerate(keys):
        assert obj.get(key) == members.get(key), key
        assert (obj._all is None) == (n + 1 < JsonObject.SEARCHES), n    # decoded at the SEARCHES-th search
    assert [obj.get(k) for k in keys] == [members.get(k) for k in keys]
