"""Every adversarial claim of the committed oracle sample groups exactly as CMS does with
the default settings, and carries the warnings a user would want.

What a user would want is derived here from the claim itself and from CMS's own verdict
(`expected`), independently of the library's checks:
- a code CMS did not recognize gets a warning on that field saying why (dotted, padded,
  of another version, unknown, ...); an empty PDX gets PDX_MISSING;
- a repeated secondary diagnosis or procedure, or an SDX equal to the PDX, is flagged;
- more than 24 SDX / 25 procedures, an age outside 0-124 or missing, a sex other than
  M/F/U, a discharge status that is not a CMS status, an odd POA value are flagged;
- and each adversarial scenario shows at least one warning of its kind on every claim
  whose input really has that defect.
"""
import pytest

import grouper

from conftest import SAMPLE, read_jsonl
from oracle_compare import differences

ADVERSARIAL_ROWS = [c for c in read_jsonl(SAMPLE) if c["scenario"] not in ("targeted", "realistic")]
CODE_PROBLEMS = {"CODE_DOTTED", "CODE_PADDED", "CODE_NOT_TEXT", "CODE_UNKNOWN", "CODE_OTHER_VERSION",
                 "CODE_EMPTY", "PDX_MISSING"}
CMS_STATUSES = {1, 2, 3, 4, 5, 6, 7, 8, 9, 20, 21, 30, 40, 41, 42, 43, 50, 51, 61, 62, 63, 64, 65, 66, 69, 70,
                81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95}
GOOD_POA = {"Y", "N", "U", "W", "1", "E", "", None}


def wanted(c):
    """(code, field) pairs a user would want for claim c, from its input and CMS's verdict."""
    want = set()
    exp = c["expected"]
    pdx = c.get("pdx")
    if pdx in (None, ""):
        want.add(("PDX_MISSING", "pdx"))
    elif not exp["pdx"]["recognized"]:
        want.add(("*", "pdx"))
    sdx = c.get("sdx") or []
    for k, ((code, poa), e) in enumerate(zip(sdx, exp["sdx"]), 1):
        if code and not e["recognized"]:
            want.add(("*", f"sdx[{k}]"))
        if code and code == pdx:
            want.add(("DUPLICATE_OF_PDX", f"sdx[{k}]"))
        elif code and code in [s[0] for s in sdx[:k - 1]]:
            want.add(("DUPLICATE_SDX", f"sdx[{k}]"))
        if poa not in GOOD_POA and not (isinstance(poa, str) and poa.upper() in GOOD_POA):
            want.add(("INVALID_POA", f"sdx[{k}].poa"))
    procs = c.get("procedures") or []
    for k, (p, e) in enumerate(zip(procs, exp["procedures"]), 1):
        if p and not e["recognized"]:
            want.add(("*", f"procedures[{k}]"))
        if p and p in procs[:k - 1]:
            want.add(("DUPLICATE_PROCEDURE", f"procedures[{k}]"))
    if len(sdx) > 24:
        want.add(("TOO_MANY_SDX", "sdx"))
    if len(procs) > 25:
        want.add(("TOO_MANY_PROCEDURES", "procedures"))
    age = c.get("age")
    if age is None:
        want.add(("AGE_MISSING", "age"))
    elif not 0 <= age <= 124:
        want.add(("INVALID_AGE", "age"))
    sex = c.get("sex")
    if sex in (None, ""):
        want.add(("SEX_MISSING", "sex"))
    elif str(sex).upper() not in ("M", "F", "U", "1", "2", "MALE", "FEMALE"):
        want.add(("INVALID_SEX", "sex"))
    st = c.get("discharge_status")
    if st is None:
        want.add(("DISCHARGE_STATUS_MISSING", "discharge_status"))
    elif isinstance(st, str):
        want.add(("DISCHARGE_STATUS_TEXT" if st.strip().isdigit() and int(st) in CMS_STATUSES
                  else "INVALID_DISCHARGE_STATUS", "discharge_status"))
    elif st not in CMS_STATUSES:
        want.add(("INVALID_DISCHARGE_STATUS", "discharge_status"))
    return want


def has(result, code, field):
    return any((code == "*" and w.code in CODE_PROBLEMS or w.code == code) and
               (w.field == field or w.field.startswith(field + ".")) for w in result.warnings)


def test_the_sample_holds_every_adversarial_scenario():
    assert len({c["scenario"] for c in ADVERSARIAL_ROWS}) == 47


@pytest.mark.parametrize("scenario", sorted({c["scenario"] for c in ADVERSARIAL_ROWS}))
def test_adversarial_claims_group_as_cms_and_carry_the_warnings_a_user_wants(scenario):
    failures = []
    for c in (c for c in ADVERSARIAL_ROWS if c["scenario"] == scenario):
        claim = {k: v for k, v in c.items() if k not in ("expected", "scenario")}
        r = grouper.group(claim)
        diffs = differences(c["expected"], r.to_dict())
        if diffs:
            failures.append(f"{c['id']}: differs from CMS in {diffs[:3]}")
        for code, field in sorted(wanted(c)):
            if not has(r, code, field):
                failures.append(f"{c['id']}: no {code if code != '*' else 'code-problem'} warning on {field} "
                                f"(got {[(w.code, w.field) for w in r.warnings]})")
    assert not failures, "\n".join(failures[:20])


SCENARIO_WARNINGS = {
    "invalid_pdx": CODE_PROBLEMS | {"CODE_LOWERCASE"}, "missing_pdx": {"PDX_MISSING"},
    "invalid_sdx": CODE_PROBLEMS | {"CODE_LOWERCASE", "CODE_CLUSTER_PSEUDO"},
    "invalid_proc": CODE_PROBLEMS | {"CODE_LOWERCASE", "CODE_CLUSTER_PSEUDO"},
    "other_version_pdx": {"CODE_OTHER_VERSION"}, "other_version_sdx": {"CODE_OTHER_VERSION"},
    "other_version_proc": {"CODE_OTHER_VERSION"},
    "duplicate_sdx": {"DUPLICATE_SDX"}, "duplicate_proc": {"DUPLICATE_PROCEDURE"},
    "sdx_equals_pdx": {"DUPLICATE_OF_PDX"}, "cc_pdx_repeated_as_sdx": {"DUPLICATE_OF_PDX"},
    "over_25_codes": {"TOO_MANY_SDX", "TOO_MANY_PROCEDURES"},
    "age_missing": {"AGE_MISSING"}, "sex_odd_values": {"INVALID_SEX", "SEX_MISSING"},
    "invalid_discharge_status": {"INVALID_DISCHARGE_STATUS", "DISCHARGE_STATUS_TEXT", "DISCHARGE_STATUS_MISSING"},
    "poa_odd_values": {"INVALID_POA", "POA_BLANK"},
}


@pytest.mark.parametrize("scenario", sorted(SCENARIO_WARNINGS))
def test_each_defect_scenario_is_flagged_where_its_input_has_the_defect(scenario):
    """Scenario names say what is wrong; the claims of a defect scenario whose input really
    has that defect (some draw a value CMS accepts, e.g. sex 'male' or 2, a lower-case code)
    carry a warning of that kind, and every such scenario has such claims."""
    kinds = SCENARIO_WARNINGS[scenario]
    rows = [c for c in ADVERSARIAL_ROWS if c["scenario"] == scenario]
    defective = [c for c in rows if any(code in kinds or code == "*" and kinds & CODE_PROBLEMS
                                        for code, _ in wanted(c))]
    assert len(defective) >= len(rows) // 4, f"{scenario}: only {len(defective)} of {len(rows)} have the defect"
    unflagged = [c["id"] for c in defective
                 if not {w.code for w in grouper.group({k: v for k, v in c.items()
                                                       if k not in ("expected", "scenario")}).warnings} & kinds]
    assert not unflagged, f"{scenario}: {len(unflagged)} defective claims carry no {sorted(kinds)}: {unflagged[:10]}"
