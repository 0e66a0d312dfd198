"""The full-detail run's shortcuts give what the general paths give: the JSONL line decoder
(json.loads' value or error), the claim-version fast path (the same ClaimError), the
clean-claim screen's memo of valid codes (kept per version)."""
import json

import pytest

from grouper.io.readers import _loads
from grouper.reading import ClaimError, quick_clean
from grouper.reading.stage import resolve_version
from grouper.tables import default

TS = default()

LINES = [
    '{"pdx":"I10"}', '{"pdx":"I10"}\n', ' {"pdx":"I10"}\n', '{"pdx":"I10"} \n', '{"pdx":"I10"}\r\n',
    '{"pdx":"I10"}\n\n', '\ufeff{"pdx":"I10"}\n', '{"pdx":"I10"', '{"pdx":"I10"}x\n', '{"pdx":"I10"}{}\n',
    '[1,2]\n', '"text"\n', 'NaN\n', '{"a":NaN,"b":-Infinity}\n', '', '\n', 'nul\n', '{"a":1e999}\n',
    '{"a":"\\ud800"}\n', '{"a":' * 5000 + '1' + '}' * 5000 + '\n',
]


@pytest.mark.parametrize("line", LINES, ids=range(len(LINES)))
def test_a_line_decodes_as_json_loads_decodes_it(line):
    try:
        expected = ("value", json.dumps(json.loads(line)))
    except Exception as exc:          # the error itself is what is compared
        expected = ("error", type(exc), str(exc))
    try:
        got = ("value", json.dumps(_loads(line)))
    except Exception as exc:
        got = ("error", type(exc), str(exc))
    assert got == expected, f"line {line[:40]!r}"


def test_an_unknown_numeric_version_is_the_same_error_as_written_as_text():
    with pytest.raises(ClaimError) as as_number:
        resolve_version(TS, 999)
    with pytest.raises(ClaimError) as as_text:
        resolve_version(TS, "999")
    assert as_number.value.code == as_text.value.code == "UNKNOWN_VERSION"
    assert as_number.value.value == 999 and as_text.value.value == "999"
    assert str(as_number.value).startswith("grouper version 999 is not in the compiled tables (have 40.0,")
    assert resolve_version(TS, 431) == 431
    assert resolve_version(TS, 431, None, "40.0") == 400         # the override wins


def _code_new_in(new: int, old: int) -> str:
    """A diagnosis code valid in version ``new`` and not in ``old`` (from the tables)."""
    vn, vo = TS.version(new), TS.version(old)
    for code, i in TS.dx_index.items():
        if vn.dx_mdc[i] >= 0 and vo.dx_mdc[i] < 0:
            return code
    raise AssertionError("no such code")


def _claim(version, pdx, sdx=(), procedures=()):
    return {"version": version, "age": 70, "sex": "M", "discharge_status": 1, "pdx": pdx, "pdx_poa": "Y",
            "sdx": [list(x) for x in sdx], "procedures": list(procedures), "hospital_status": "NOT_EXEMPT"}


def test_a_code_seen_valid_in_one_version_is_not_taken_as_valid_in_another():
    code = _code_new_in(431, 400)
    assert quick_clean(_claim(431, "I10", [(code, "Y")]), TS.version(431), TS)
    assert not quick_clean(_claim(400, "I10", [(code, "Y")]), TS.version(400), TS)
    assert not quick_clean(_claim(400, code), TS.version(400), TS)
    assert quick_clean(_claim(431, code), TS.version(431), TS)


def test_the_screen_turns_down_what_it_turned_down_before_memoizing():
    v = TS.version(431)
    assert quick_clean(_claim(431, "I10", [("E119", "Y")], ["0DTJ4ZZ"]), v, TS)
    assert not quick_clean(_claim(431, "i10"), v, TS)                                  # lower case
    assert not quick_clean(_claim(431, "I10", [("e119", "Y")]), v, TS)
    assert not quick_clean(_claim(431, "I10", [("E119", "Y"), ("E119", "N")]), v, TS)  # a repeat
    assert not quick_clean(_claim(431, "I10", [("I10", "Y")]), v, TS)                  # the PDX again
    assert not quick_clean(_claim(431, "I10", [("E119", "X")]), v, TS)                 # POA
    assert not quick_clean(_claim(431, "I10", [("E119", "Y", "extra")]), v, TS)
    assert not quick_clean(_claim(431, "I10", [], ["0DTJ4ZZ", "0DTJ4ZZ"]), v, TS)
    assert not quick_clean(_claim(431, "I10", [], ["0dtj4zz"]), v, TS)
    assert not quick_clean(_claim(431, "I10", [], [7]), v, TS)
    cluster = next(c for c in TS.pr_index if c.startswith("Z@"))
    assert not quick_clean(_claim(431, "I10", [], [cluster]), v, TS)                   # a cluster pseudo-code
