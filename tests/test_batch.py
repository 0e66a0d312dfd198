"""The batch path gives exactly what the per-claim path gives, row for row."""
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import grouper

from conftest import SAMPLE, read_jsonl
from test_properties import claims as claim_strategy

FIELDS = ("version", "initial_drg", "initial_mdc", "final_drg", "final_mdc", "return_code", "initial_return_code",
          "initial_base_drg", "final_base_drg", "initial_med_surg", "final_med_surg", "initial_severity",
          "final_severity", "initial_claim_severity", "final_claim_severity", "hac_status",
          "num_hac_categories_satisfied", "weight", "gmlos", "amlos", "initial_drg_description",
          "final_drg_description")


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return a == b


def assert_batch_equals_single(records):
    out = grouper.group_batch(records)
    assert len(out) == len(records)
    for i, rec in enumerate(records):
        assert_row_equals_single(out[i], rec, i)


def assert_row_equals_single(row, rec, i):
    """A batch row says what grouper.group says of the same claim (error code or fields)."""
    try:
        r = grouper.group(rec)
    except grouper.ClaimError as exc:
        assert row["error"] == exc.code, (rec, row)
        return
    assert row["error"] is None, (rec, row)
    name = rec.get("id", i) if isinstance(rec, dict) else i
    for f in FIELDS:
        want, got = getattr(r, f), row[f]
        assert _same(want, got), f"claim {name}: {f}: batch {got!r} != per-claim {want!r}"


def test_batch_equals_single_on_every_committed_oracle_claim():
    records = [{k: v for k, v in c.items() if k not in ("expected", "scenario")} for c in read_jsonl(SAMPLE)]
    assert_batch_equals_single(records)


def test_batch_matches_cms_on_the_sample():
    rows = read_jsonl(SAMPLE)
    out = grouper.group_batch([{k: v for k, v in c.items() if k != "expected"} for c in rows])
    for i, c in enumerate(rows):
        e = c["expected"]
        for f in ("initial_drg", "final_drg", "initial_mdc", "final_mdc", "return_code", "initial_severity",
                  "final_severity", "hac_status"):
            assert out[i][f] == e[f], f"{c['id']}: {f}"


def test_empty_and_single_batches():
    out = grouper.group_batch([])
    assert len(out) == 0 and out.final_drg.shape == (0,)
    out = grouper.group_batch([{"version": 431, "pdx": "I5022", "sdx": [["J9601", "Y"]]}])
    assert out.final_drg.tolist() == [291] and out.weight.tolist() == [1.2838]


def test_invalid_rows_keep_their_place():
    recs = [{"version": 431, "pdx": "I5022"}, {"sdx": []}, "not a claim", {"pdx": "I5022"},
            {"discharge_date": "2024-01-15", "pdx": "I5020"}, {"version": "99.9", "pdx": "I5022"}]
    out = grouper.group_batch(recs)
    assert len(out) == 6
    assert out.error.tolist() == [None, "MISSING_PDX", "NOT_A_CLAIM", "NO_VERSION", None, "UNKNOWN_VERSION"]
    assert out.final_drg[0] == 293 and out.final_drg[4] == 293 and out.version[4] == 410


def test_columns_input_and_details():
    out = grouper.group_batch({"pdx": ["I5022", "M1611", "J189"], "sdx": [["J9601"], [], ["L89154"]],
                               "sdx_poa": [["Y"], [], ["N"]], "procedures": [[], ["0SR9019"], []],
                               "version": 431}, details=True)
    assert out.final_drg.tolist() == [291, 470, 195]
    assert out.initial_drg.tolist() == [291, 470, 193]
    assert out.details[2].sdx[0].hacs[0].hac_status == "HAC_CRITERIA_MET"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(claim_strategy, max_size=40),
       st.lists(st.sampled_from([{"sdx": []}, {"pdx": 5, "version": 431}, {"pdx": "I5022"},
                                 {"pdx": "I50.22", "version": 431}, {"pdx": None, "version": 431}]), max_size=4),
       st.randoms(use_true_random=False))
def test_generated_batches_equal_single_claims(good, bad, rnd):
    recs = list(good) + list(bad)
    rnd.shuffle(recs)
    assert_batch_equals_single(recs)


from test_properties import anything  # noqa: E402

wild_record = st.fixed_dictionaries(
    {"id": st.integers(), "pdx": anything, "pdx_poa": anything, "age": anything, "sex": anything,
     "discharge_status": anything, "admit_dx": anything, "hospital_status": anything,
     "version": st.one_of(st.just(431), st.just("40.0"), anything), "discharge_date": anything,
     "sdx": st.one_of(anything, st.lists(st.one_of(st.tuples(anything, anything).map(list), anything), max_size=40)),
     "procedures": st.one_of(anything, st.lists(anything, max_size=40))})
wild_item = st.one_of(wild_record, claim_strategy, anything)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(wild_item, max_size=30))
def test_arbitrary_values_in_every_field_of_a_batch_keep_every_row_in_place(items):
    """Arbitrary text, numbers, None, lists and non-claims anywhere in a batch: nothing but
    per-row error codes, the row count and order kept, every row as the per-claim path says."""
    out = grouper.group_batch(items)
    assert len(out) == len(items)
    for i, item in enumerate(items):
        row = out[i]
        if isinstance(item, dict) and "id" in item and row["error"] is None:
            assert row["id"] == item["id"]
        assert_row_equals_single(row, item, i)


def test_huge_code_lists_in_a_batch():
    big = {"version": 431, "pdx": "I5022", "sdx": [["J9601", "Y"]] + [["E119", "Y"]] * 5000,
           "procedures": ["0DTJ4ZZ"] * 3000}
    assert_batch_equals_single([big, {"pdx": None, "version": 431}, big])


def test_values_that_are_equal_as_keys_but_read_differently_are_read_per_row():
    """True == 1 == 1.0 in Python, but sex True is unknown while sex 1 is male (and a
    boolean discharge status is invalid): the batch reads each as the per-claim path does."""
    rows = [{"version": 431, "pdx": "N393", "sex": s, "discharge_status": d}
            for s, d in [(1, 1), (True, True), (1.0, 1.0), (2, 1), (True, 1), ("1", 1), (1, True)]]
    assert_batch_equals_single(rows)
    assert grouper.group_batch(rows).final_drg.tolist()[:2] == [696, 999]
