"""The edits of the CMS Medicare Code Editor (MCE 2.0): names, order and payment class.

The names and their order are CMS's (the ``Edit`` enum of the MCE); a claim's edit counts are
listed in this order.  Each edit is *prepayment* (the claim is returned or held before
payment), *postpayment* (paid, then reviewed) or neither (informational); the claim's edit
type follows from the edits it has (:func:`edit_type`).

Which edits an ICD-10 claim can raise was established on the 40,000 claims labelled by the
CMS MCE (``docs/mce.md`` has a real example of each): the attributes behind the others exist
only in the ICD-9 tables (discharges before 2015-10-01), or the CMS MCE 43.1 never reports them.
"""
from __future__ import annotations

import attrs

PREPAYMENT, POSTPAYMENT = "PREPAYMENT", "POSTPAYMENT"
ICD10, ICD9_ONLY, UNUSED = "ICD10", "ICD9_ONLY", "UNUSED"

EDIT_TYPES = ("NONE", "PREPAYMENT", "POSTPAYMENT", "BOTH", "INVALID_DISCHARGE_DATE")


@attrs.frozen
class EditInfo:
    """One MCE edit: its CMS name, position in CMS's order, payment class (PREPAYMENT,
    POSTPAYMENT or None when it does not make the claim an edited claim), whether ICD-10
    claims can raise it (ICD10, ICD9_ONLY, UNUSED) and what it means."""

    name: str
    index: int
    payment: str | None
    scope: str
    meaning: str


_EDITS = [
    ("INVALID_CODE", PREPAYMENT, ICD10,
     "a diagnosis or procedure code that is not valid on the discharge date (a blank principal diagnosis too)"),
    ("SEX_CONFLICT", PREPAYMENT, ICD10, "a code for one sex only on a claim of the other (or of unknown) sex"),
    ("AGE_CONFLICT", PREPAYMENT, ICD10,
     "a newborn, pediatric, maternity or adult diagnosis outside that age group on the discharge date"),
    ("QUESTIONABLE_ADMISSION", PREPAYMENT, ICD10,
     "a principal diagnosis that is not usually a sufficient reason for an inpatient admission"),
    ("MANIFESTATION_AS_PDX", PREPAYMENT, ICD10,
     "a manifestation code (to be coded after its underlying disease) as principal diagnosis"),
    ("NONSPECIFIC_PDX", POSTPAYMENT, ICD9_ONLY, "a non-specific principal diagnosis (ICD-9 attribute 'nonspecific')"),
    ("E_CODE_AS_PDX", PREPAYMENT, ICD10, "an external-cause code as principal diagnosis"),
    ("UNACCEPTABLE_PDX", PREPAYMENT, ICD10, "a code that is unacceptable as principal diagnosis"),
    ("DUPLICATE_OF_PDX", PREPAYMENT, ICD10, "a secondary diagnosis that repeats the principal diagnosis"),
    ("MEDICARE_IS_SECONDARY_PAYER", POSTPAYMENT, ICD9_ONLY,
     "a diagnosis suggesting another payer is primary (ICD-9 attribute 'msp')"),
    ("REQUIRES_SDX", PREPAYMENT, ICD10,
     "a principal diagnosis acceptable only with a secondary diagnosis, given without one"),
    ("NONSPECIFIC_OR", POSTPAYMENT, ICD9_ONLY, "only non-specific O.R. procedures (ICD-9 attribute 'nonspecific')"),
    ("OPEN_BIOPSY", POSTPAYMENT, ICD9_ONLY, "an open biopsy (ICD-9 attribute 'biopsy')"),
    ("NON_COVERED", PREPAYMENT, ICD10,
     "a procedure Medicare does not cover (alone, or with the claim's diagnoses or age)"),
    ("BILATERAL", POSTPAYMENT, ICD9_ONLY, "bilateral joint procedures (ICD-9 attribute 'bilateral')"),
    ("LIMITED_COVERAGE_LVRS", PREPAYMENT, ICD9_ONLY, "lung volume reduction surgery (ICD-9)"),
    ("LIMITED_COVERAGE", PREPAYMENT, ICD10, "a procedure Medicare covers only under limited circumstances"),
    ("LIMITED_COVERAGE_LUNG_TRANSPLANT", PREPAYMENT, ICD9_ONLY, "lung transplant (ICD-9)"),
    ("QUESTIONABLE_OBSTETRIC_ADMISSION", PREPAYMENT, ICD10,
     "a delivery procedure without an outcome-of-delivery secondary diagnosis"),
    ("LIMITED_COVERAGE_COMBINATION_HEART_LUNG_TRANSPLANT", PREPAYMENT, ICD9_ONLY, "heart-lung transplant (ICD-9)"),
    ("LIMITED_COVERAGE_HEART_TRANSPLANT", PREPAYMENT, ICD9_ONLY, "heart transplant (ICD-9)"),
    ("LIMITED_COVERAGE_HEART_IMPLANT", PREPAYMENT, ICD9_ONLY, "implantable heart assist system (ICD-9)"),
    ("LIMITED_COVERAGE_INTESTINE_MULTI_VISCERAL_TRANSPLANT", PREPAYMENT, ICD9_ONLY, "intestine transplant (ICD-9)"),
    ("LIMITED_COVERAGE_LIVER_TRANSPLANT", PREPAYMENT, ICD9_ONLY, "liver transplant (ICD-9)"),
    ("INVALID_ADMIT_DX", None, ICD10,
     "an admitting diagnosis that is not valid on the discharge date (reported, but not an edited claim)"),
    ("INVALID_AGE", PREPAYMENT, ICD10, "an age outside 0-124 years"),
    ("INVALID_SEX", PREPAYMENT, ICD10, "a sex other than male or female (until 2024-09-30)"),
    ("INVALID_DISCHARGE_STATUS", PREPAYMENT, ICD10, "a patient discharge status not valid on the discharge date"),
    ("LIMITED_COVERAGE_KIDNEY_TRANSPLANT", PREPAYMENT, ICD9_ONLY, "kidney transplant (ICD-9)"),
    ("LIMITED_COVERAGE_PANCREAS_TRANSPLANT", PREPAYMENT, ICD9_ONLY, "pancreas transplant (ICD-9)"),
    ("TYPE_OF_AGE_CONFLICT", None, UNUSED, "the age group of an age conflict: a detail of AGE_CONFLICT, never counted"),
    ("INVALID_POA", None, UNUSED, "never reported by MCE 43.1 (POA values are not edited)"),
    ("LIMITED_COVERAGE_ARTIFICIAL_HEART", PREPAYMENT, UNUSED,
     "never reported: the ICD-10 artificial heart is reported as NON_COVERED or LIMITED_COVERAGE"),
    ("WRONG_PROCEDURE_PERFORMED", PREPAYMENT, ICD10, "a diagnosis saying the wrong procedure was performed"),
    ("INCONSISTENT_WITH_LENGTH_OF_STAY", PREPAYMENT, ICD10,
     "a procedure that needs a longer stay than the claim's length of stay"),
    ("UNSPECIFIED", PREPAYMENT, ICD10,
     "a diagnosis code of unspecified laterality or site where a specific code exists"),
]

EDITS: tuple[EditInfo, ...] = tuple(EditInfo(n, i, p, s, m) for i, (n, p, s, m) in enumerate(_EDITS))
EDIT_NAMES: tuple[str, ...] = tuple(e.name for e in EDITS)
INDEX: dict[str, int] = {e.name: e.index for e in EDITS}
BY_NAME: dict[str, EditInfo] = {e.name: e for e in EDITS}
ICD10_EDITS: tuple[str, ...] = tuple(e.name for e in EDITS if e.scope == ICD10)

#: Every warning of the grouper (``grouper.reading.WARNING_CODES``) set against the MCE's edits:
#: (the MCE edit, how the warning relates to it).  "same": the warning reports what the edit
#: reports, so it has the edit's name; "a case of": a narrower finding with its own name (it
#: says why, or how to fix it); None: no MCE edit reports it.
WARNINGS_AND_EDITS = {
    "PDX_MISSING": ("INVALID_CODE", "a case of", "a blank principal diagnosis is an invalid code to the MCE"),
    "CODE_DOTTED": ("INVALID_CODE", "a case of", "a code invalid as written, with the valid spelling"),
    "CODE_PADDED": ("INVALID_CODE", "a case of", "a code invalid as written, with the valid spelling"),
    "CODE_LOWERCASE": (None, None, "the MCE upper-cases codes too: no edit"),
    "CODE_NOT_TEXT": (None, None, "read as text; the MCE edits the text"),
    "CODE_UNKNOWN": ("INVALID_CODE", "a case of", "a code of no grouper version"),
    "CODE_OTHER_VERSION": ("INVALID_CODE", "a case of", "a code valid in another grouper version"),
    "CODE_NORMALIZED": (None, None, "the normalize option; the MCE reads codes as written"),
    "CODE_CONVERSION": (None, None, "the convert_codes option; the MCE edits the codes as billed, in the code set "
                                    "of the discharge date"),
    "CODE_EMPTY": (None, None, "the MCE ignores blank secondary diagnoses and procedures too"),
    "ENTRY_MALFORMED": (None, None, "an entry without a code is read null, an INVALID_CODE to the MCE too; an entry "
                                    "with extra items is read by its code"),
    "CODE_CLUSTER_PSEUDO": ("INVALID_CODE", "a case of", "a grouper pseudo-code, invalid to the MCE"),
    "DUPLICATE_SDX": (None, None, "the MCE edits repeats of the principal diagnosis only"),
    "DUPLICATE_OF_PDX": ("DUPLICATE_OF_PDX", "same", "the grouper compares codes upper-cased, the MCE as written"),
    "DUPLICATE_PROCEDURE": (None, None, "no MCE edit"),
    "TOO_MANY_SDX": (None, None, "no MCE edit"),
    "TOO_MANY_PROCEDURES": (None, None, "no MCE edit"),
    "INVALID_AGE": ("INVALID_AGE", "same", "outside 0-124"),
    "AGE_NOT_A_NUMBER": (None, None, "the MCE cannot edit the claim: ClaimError BAD_AGE"),
    "AGE_MISSING": (None, None, "the MCE cannot edit the claim: ClaimError MISSING_AGE"),
    "SEX_MISSING": ("INVALID_SEX", "a case of", "a missing sex is unknown (INVALID_SEX until 2024-09-30); named for "
                                               "its fix, mapping the sex column"),
    "INVALID_SEX": ("INVALID_SEX", "same", "the MCE also flags U (unknown) until 2024-09-30, and nothing after"),
    "INVALID_DISCHARGE_STATUS": ("INVALID_DISCHARGE_STATUS", "same",
                                 "the grouper's list of statuses; the MCE's list is by discharge date"),
    "DISCHARGE_STATUS_MISSING": (None, None, "the MCE cannot edit the claim: ClaimError MISSING_DISCHARGE_STATUS"),
    "DISCHARGE_STATUS_TEXT": (None, None, "read as the number it spells, by both"),
    "INVALID_POA": ("INVALID_POA", "same", "MCE 43.1 never reports it (POA values are not edited)"),
    "POA_BLANK": (None, None, "POA values are not edited by MCE 43.1"),
    "HOSPITAL_STATUS_UNRECOGNIZED": (None, None, "the MCE does not read the hospital status"),
    "INVALID_ADMIT_DX": ("INVALID_ADMIT_DX", "same", "valid in the grouper version used / on the discharge date"),
    "VERSION_OUTSIDE_FISCAL_YEAR": (None, None, "the MCE goes by the discharge date, not a grouper version"),
    "WEIGHTS_UNAVAILABLE": (None, None, "relative weights are not the MCE's concern"),
}

# the bit of each edit in a mask of edits (bit i = EDITS[i])
_PRE_MASK = sum(1 << e.index for e in EDITS if e.payment == PREPAYMENT)
_POST_MASK = sum(1 << e.index for e in EDITS if e.payment == POSTPAYMENT)


def edit_type(mask: int) -> str:
    """The claim's edit type from the mask of the edits it has (bit i = ``EDITS[i]``):
    PREPAYMENT / POSTPAYMENT when it has edits of that class only, BOTH when it has both,
    NONE when it has none (an invalid admitting diagnosis alone leaves the type NONE)."""
    pre, post = mask & _PRE_MASK, mask & _POST_MASK
    if pre and post:
        return "BOTH"
    if pre:
        return "PREPAYMENT"
    if post:
        return "POSTPAYMENT"
    return "NONE"
