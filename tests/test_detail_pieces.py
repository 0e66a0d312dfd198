"""The pieces the full-detail writer is made of, each against an independent statement of what
it must give: JSON text as ``json.dumps`` writes it, the marking tie-break order written out by
hand, and grouping results that do not depend on what was grouped before (the memoized list
walk)."""
import json

import pytest

import grouper
from grouper.bulk.detail import _text
from grouper.engine.compiled import compiled
from grouper.engine.preprocess import preprocess
from grouper.engine.result import TOP_FIELDS, top_values
from grouper.reading import read
from grouper.tables import TableSet, default
from grouper.tables.lookup import diagnosis

from conftest import SAMPLE, read_jsonl


@pytest.mark.parametrize("value", [
    "g1-0049999", "A01", "", " ", "x y", "a\"b", "a\\b", "a\nb", "tab\there", "\x00", "\x1f", "\x7f",
    "é", "日本", "\u2028", "\u2029", "\ud800", "'", "/", "<&>", "\U0001F600",
    None, 0, 12, -3, 1.5, True, False, ["A01"], {"a": 1},
])
def test_a_value_is_written_as_json_writes_it(value):
    want = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert _text(value) == want, f"value {value!r}: {_text(value)!r} != {want!r}"


def test_every_one_character_string_is_written_as_json_writes_it():
    for c in range(0x3100):
        s = chr(c)
        want = json.dumps(s, ensure_ascii=False)
        assert _text(s) == want, f"character U+{c:04X}: {_text(s)!r} != {want!r}"


def _state(claim):
    ts = default()
    r = read(claim, ts)
    return preprocess(compiled(ts, r.claim.version), r.claim)


def test_secondary_diagnoses_rank_by_table_severity_then_code_as_written_then_input_order():
    # MCC J9601 and J9602, CC N179, non-CC E119 (v43.1); "j9600" is J9600 (an MCC) written in
    # lower case: it sorts after every upper-case MCC; the repeated J9602 keeps its input order;
    # XX999 is not a code (never ranked)
    sdx = [["E119", "Y"], ["J9602", "Y"], ["N179", "Y"], ["XX999", "Y"], ["j9600", "Y"], ["J9601", "Y"],
           ["J9602", "Y"]]
    state = _state({"version": 431, "sex": "M", "discharge_status": 1, "pdx": "I5022", "sdx": sdx})
    severity = {code: diagnosis(code.upper(), 431).severity for code, _ in sdx if code != "XX999"}
    assert severity == {"E119": "NCC", "J9602": "MCC", "N179": "CC", "j9600": "MCC", "J9601": "MCC"}
    got = [position for position, _ in state.ranked_sdx()]
    assert got == [6, 2, 7, 5, 3, 1], f"tie-break order (positions) {got}"
    attrs = dict(state.ranked_sdx())
    assert attrs[3] == state.sdx_info[2].attrs, "position 3 (N179) carries N179's attributes"


def test_grouping_does_not_depend_on_the_claims_grouped_before():
    """The list walk is memoized per version on the claim's features and severity summary:
    grouping the sample in one order and in the reverse order, each from fresh tables, gives
    every claim the same result, field by field."""
    claims = [{k: v for k, v in c.items() if k not in ("expected", "scenario")} for c in read_jsonl(SAMPLE)]

    def run(order):
        ts = TableSet(default().root)
        out = {}
        for k in order:
            try:
                out[k] = top_values(grouper.group(claims[k], tables=ts))
            except grouper.ClaimError as exc:
                out[k] = exc.code
        return out

    forward = run(range(len(claims)))
    backward = run(reversed(range(len(claims))))
    for k, c in enumerate(claims):
        a, b = forward[k], backward[k]
        if a != b:
            field = next((f for f, x, y in zip(TOP_FIELDS, a, b) if x != y), "?") if isinstance(a, tuple) else "error"
            pytest.fail(f"claim {c.get('id')}: field {field} differs with the order of grouping")
