"""The engine's shortcuts for the common claim give what its general, code-by-code paths give,
on every CMS-labelled claim of the committed sample (all versions): the claim's OR-ed code kinds
(some SDX on a HAC list, a CC/MCC in the table, not every SDX a normal-newborn code), the
candidates of a claim without a CC/MCC code, the severity usage without an exclusion, removal
or labelled suppression, the HAC outcome of a claim with no HAC-listed code, the marking steps
of the true operands, and the cover of a single procedure operand."""
import pytest

from grouper.engine import hac, marking, severity
from grouper.engine.compiled import HAC_LISTED, NOT_NEWBORN, SEVERE, compiled
from grouper.engine.grouping import OK
from grouper.engine.pipeline import _excluded, _stages
from grouper.reading import ClaimError, read
from grouper.tables import default

from conftest import SAMPLE, read_jsonl


@pytest.fixture(scope="module")
def runs():
    """(claim id, stages) of every sample claim that can be read."""
    ts = default()
    out = []
    for c in read_jsonl(SAMPLE):
        claim = {k: v for k, v in c.items() if k not in ("expected", "scenario")}
        try:
            r = read(claim, ts).claim
        except ClaimError:
            continue
        out.append((c["id"], _stages(compiled(ts, r.version), r)))
    assert len(out) > 30_000
    return out


def test_the_claims_code_kinds_are_those_of_its_secondary_diagnoses(runs):
    for cid, (state, *_) in runs:
        valid = [i for i in state.sdx_info if i is not None]
        assert bool(state.sdx_kinds & HAC_LISTED) == any(i.hac_lists for i in valid), f"{cid}: HAC listed"
        assert bool(state.sdx_kinds & SEVERE) == any(i.severity for i in valid), f"{cid}: CC/MCC"
        assert bool(state.sdx_kinds & NOT_NEWBORN) == any(not i.newborn for i in valid), f"{cid}: newborn"


def test_candidates_are_those_found_code_by_code(runs):
    seen = 0
    for cid, (state, cand, *_) in runs:
        assert cand == severity._candidates_each(state), f"{cid}: candidates"
        seen += not state.sdx_kinds & SEVERE and bool(state.sdx_info)
    assert seen > 100, "claims with secondary diagnoses, none a CC or MCC"


def test_severity_usage_is_that_found_code_by_code(runs):
    shortcut = 0
    for cid, (state, cand, initial, _, hacs) in runs:
        if initial.return_code != OK:
            continue
        sets = state.cv.supp_sets
        for supp in {initial.row.suppression, frozenset(), *sets[:4]}:
            label = bool(supp) and state.cv.version >= severity.FIRST_VERSION_LABELLING_DRG_LOGIC
            for removed in {frozenset(), hacs.met_positions, frozenset(range(1, len(cand) + 1, 2))}:
                got = severity.usage(state, cand, supp, removed)
                want = severity._usage_each(state, cand, supp, removed, label)
                assert got == want, f"{cid}: severity usage, suppression {sorted(supp)}, removed {sorted(removed)}"
                shortcut += not (label or removed) and severity._EXCLUDED not in cand
    assert shortcut > 10_000


def test_a_claim_without_a_hac_listed_code_has_the_outcome_evaluation_gives(runs):
    seen = 0
    for cid, (state, cand, *_) in runs:
        if state.sdx_kinds & HAC_LISTED:
            continue
        seen += 1
        for grouped in (True, False):
            want = hac.evaluate(state.cv, state.read.hospital_status, state.P, state.R(-1), state.X,
                                hac.claim_inputs(state), _excluded(cand), grouped)
            assert hac.evaluate_claim(state, _excluded(cand), grouped) == want, f"{cid}: HAC outcome"
    assert seen > 10_000


def test_marking_steps_mark_what_the_walker_marks_for_each_true_operand(runs):
    kinds = set()
    for cid, (state, cand, initial, final, hacs) in runs:
        marked = [(initial, frozenset())] + ([(final, hacs.removed)] if final is not initial else [])
        for a, removed in marked:
            if a.return_code != OK or a.row is None:
                continue
            summary = severity.severity_summary(state, cand, removed)
            for row, lst in a.path:
                lvl = a.level if row is a.row else severity.level_for_set(*summary, row.supp_index)
                steps = marking._true_operands(state, row, lst, lvl)
                dx, needs, counters = set(), [], []
                marking._mark_steps(state, cand, row, lst, lvl, steps, dx, needs, counters)
                w = marking._Walker(state, cand, lst, lvl, row.suppression)
                for how, _, node in steps:
                    kinds.add(how)
                    w.mark_atom(node)
                assert (dx, needs, counters) == (w.dx, w.needs, w.counters), f"{cid}: marks of DRG {a.drg}"
    assert kinds == {marking._PDX, marking._SDX, marking._SEV, marking._NEED, marking._OTHER}


def test_a_single_procedure_operand_is_covered_by_its_first_holder_in_tie_order(runs):
    seen = 0
    for cid, (state, _, initial, *_) in runs:
        if not state.procs:
            continue
        lists = {lst for _, lst in initial.path} | {state.pdx_mdc}
        names = {a for p in state.procs for a in p.attrs} | {"no such attribute"}
        for lst in lists:
            for name in names:
                needs = [(lst, frozenset((name,)))]
                for code_order in (False, True):
                    order = marking._code_order if code_order else marking._tie_order(state)
                    want = marking._cover_greedy(state, sorted(state.procs, key=order), needs)
                    got = marking._cover(state, needs, code_order)
                    assert got == want, f"{cid}: procedures marked for {name} in list {lst}"
                    seen += len(want) > 0
    assert seen > 10_000


def test_the_severity_summary_is_the_and_of_the_counting_codes_suppression_bits(runs):
    for cid, (state, cand, _, _, hacs) in runs:
        for removed in {frozenset(), hacs.met_positions}:
            mcc = cc = severity.ALL_SETS
            for k, (info, (sev, _)) in enumerate(zip(state.sdx_info, cand), start=1):
                if sev == severity.MCC and k not in removed:
                    mcc &= info.supbits
                elif sev == severity.CC and k not in removed:
                    cc &= info.supbits
            assert severity.severity_summary(state, cand, removed) == (mcc, cc), f"{cid}: severity summary"


def test_a_code_is_valid_when_it_has_table_facts_whether_they_were_made_or_not():
    ts = default()
    written = [c.get(k) for c in read_jsonl(SAMPLE) for k in ("pdx", "admit_dx")]
    codes = sorted({c.upper() for c in written if isinstance(c, str)}) + ["", "I1O", "ZZZZZZZ", "i10"]
    for version in ts.versions:
        before = [compiled(ts, version).dx_valid(c) for c in codes]     # facts not made yet for most
        cv = compiled(ts, version)
        want = [cv.dx_info(c) is not None for c in codes]
        after = [cv.dx_valid(c) for c in codes]                          # facts made now
        for c, b, w, a in zip(codes, before, want, after):
            assert b == w == a, f"v{version} {c!r}: valid before {b}, facts {w}, valid after {a}"
