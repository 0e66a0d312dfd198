"""Cold start: a new process that groups one claim loads only what that claim needs
(no numpy, no look-up dict of every code, only the formula lists it evaluates), and the
light look-ups it uses instead agree with the full ones on every code."""
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
