"""What the attributes (flags) of the MCE code tables mean, and the few constants of the
MCE's logic that are not in its data.

Every attribute the builder finds in an ICD-10 table must be listed here (an unknown one stops
the build: a new CMS release with a new attribute needs a rule before it can be used).  The
rules were read from the 40,000 claims labelled by the CMS MCE; ``docs/mce.md`` gives, for
each, the labelled claims that decide it.
"""
from __future__ import annotations

# Diagnosis attributes -> the edit they drive.
DX_FLAGS = {
    "adult": "AGE_CONFLICT outside the Adult age group",
    "maternity": "AGE_CONFLICT outside the Maternity age group",
    "newborn": "AGE_CONFLICT outside the Newborn age group",
    "pediatric": "AGE_CONFLICT outside the Pediatric age group",
    "male": "SEX_CONFLICT unless the patient is male",
    "female": "SEX_CONFLICT unless the patient is female",
    "ecodepdx": "E_CODE_AS_PDX as principal diagnosis",
    "manifestation": "MANIFESTATION_AS_PDX as principal diagnosis",
    "unacceptable": "UNACCEPTABLE_PDX as principal diagnosis (REQUIRES_SDX with 'reqsdx')",
    "reqsdx": "with 'unacceptable': REQUIRES_SDX as principal diagnosis of a claim without secondary diagnoses",
    "qadm": "QUESTIONABLE_ADMISSION as principal diagnosis",
    "unspecified": "UNSPECIFIED as principal or secondary diagnosis",
    "wrngproc": "WRONG_PROCEDURE_PERFORMED as principal or secondary diagnosis",
    "delout": "outcome of delivery: as secondary diagnosis, clears QUESTIONABLE_OBSTETRIC_ADMISSION",
    "diabtypeI": "type I diabetes: makes a pancreas transplant ('ncov45') covered",
    "clintrial": "clinical trial: makes the artificial heart ('lcov_artheartxpa' + 'b') limited coverage",
    "ncov6": "makes an 'ncov6' procedure NON_COVERED",
    "ncov7": "makes an 'ncov7' procedure NON_COVERED",
    "ncov_z302": "makes an 'ncov_z302' procedure NON_COVERED",
}

# Procedure attributes -> the edit they drive.
PR_FLAGS = {
    "male": "SEX_CONFLICT unless the patient is male",
    "female": "SEX_CONFLICT unless the patient is female",
    "noncovered": "NON_COVERED always",
    "lcov": "LIMITED_COVERAGE (unless NON_COVERED)",
    "ncov45": "pancreas transplant: NON_COVERED without a kidney transplant ('kidneyxp') or a type I diabetes "
              "diagnosis ('diabtypeI')",
    "kidneyxp": "kidney transplant: makes a pancreas transplant ('ncov45') covered",
    "ncov6": "NON_COVERED with an 'ncov6' diagnosis (principal or secondary)",
    "ncov7": "NON_COVERED with an 'ncov7' diagnosis (principal or secondary)",
    "ncov_z302": "NON_COVERED with an 'ncov_z302' diagnosis (principal or secondary)",
    "ncov12agele60": "NON_COVERED unless the age is 0-60",
    "lcov_artheartxpa": "artificial heart, with 'lcov_artheartxpb' on the claim: NON_COVERED, or LIMITED_COVERAGE "
                        "with a clinical-trial diagnosis ('clintrial')",
    "lcov_artheartxpb": "see 'lcov_artheartxpa'",
    "csect": "cesarean delivery: QUESTIONABLE_OBSTETRIC_ADMISSION without an outcome-of-delivery secondary "
             "diagnosis ('delout')",
    "vagdel": "vaginal delivery: as 'csect'",
    "los": "INCONSISTENT_WITH_LENGTH_OF_STAY when the stay is shorter than MIN_LOS days",
}

# Procedure attributes that make a procedure non-covered when a diagnosis of the claim (principal or
# secondary, not the admitting diagnosis) carries the same attribute.
NCOV_WITH_DX = ("ncov6", "ncov7", "ncov_z302")

# INVALID_AGE outside these ages (years, inclusive).
AGE_MIN, AGE_MAX = 0, 124
# 'ncov12agele60': covered for ages 0..60 only.
NCOV_AGE_MAX = 60
# 'los' procedures need a stay of at least MIN_LOS days (ICD-10 MCE).
MIN_LOS = 5
# From this discharge date an unknown sex is valid (no INVALID_SEX) and conflicts with no code.
SEX_UNKNOWN_ACCEPTED_FROM = 20241001
