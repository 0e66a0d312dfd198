"""The values the CMS grouper reports, named once.

Every code the engine puts in a result is a member of one of these ``StrEnum`` classes
(CMS's own spelling, as in the output of the 43.1 Java grouper and the labelled claims).
A member *is* its text (``ReturnCode.OK == "OK"``, ``json.dumps`` and ``str()`` give
``"OK"``), so results, ``to_dict()`` and every file written stay plain text; the names
only make the code say which value it means, and a misspelling an ``AttributeError``.

Also here: the constants of CMS's grouping that are not table data (DRG 999, the
formula-list numbers of the pre-MDC and unrelated-OR lists, the ``drg_severity`` mark of
DRG 998's formula).
"""
from __future__ import annotations

from enum import StrEnum


class ReturnCode(StrEnum):
    """CMS grouper return code (``MsdrgGrouperReturnCode``): why a claim got DRG 999, or OK."""

    OK = "OK"
    UNGROUPABLE = "UNGROUPABLE"                    # no formula assigned a DRG
    INVALID_PDX = "INVALID_PDX"
    DX_CANNOT_BE_PDX = "DX_CANNOT_BE_PDX"
    INVALID_SEX = "INVALID_SEX"
    INVALID_DISCHARGE_STATUS = "INVALID_DISCHARGE_STATUS"
    HAC_MISSING_ONE_POA = "HAC_MISSING_ONE_POA"
    HAC_STATUS_INVALID_MULT_HACS_POA_NOT_Y_W = "HAC_STATUS_INVALID_MULT_HACS_POA_NOT_Y_W"
    HAC_STATUS_INVALID_POA_INVALID_OR_1 = "HAC_STATUS_INVALID_POA_INVALID_OR_1"
    HAC_STATUS_INVALID_POA_N_OR_U = "HAC_STATUS_INVALID_POA_N_OR_U"


class HacStatus(StrEnum):
    """What HAC/POA processing did to the final DRG (``hac_status``)."""

    NOT_APPLICABLE = "NOT_APPLICABLE"
    FINAL_DRG_UNGROUPABLE = "FINAL_DRG_UNGROUPABLE"
    FINAL_DRG_CHANGES = "FINAL_DRG_CHANGES"
    FINAL_DRG_NO_CHANGE = "FINAL_DRG_NO_CHANGE"


class Severity(StrEnum):
    """A claim-level CC/MCC level: the level a DRG formula used (``initial_severity``), or the
    highest level among the counting secondary diagnoses (``initial_claim_severity``; NONE
    when the claim is ungroupable)."""

    NONE = "NONE"
    NON_CC = "NON_CC"
    CC = "CC"
    MCC = "MCC"


#: Severity by level number (0 non-CC, 1 CC, 2 MCC: the numbers the engine computes with).
LEVEL_SEVERITY = (Severity.NON_CC, Severity.CC, Severity.MCC)


class SeverityUsage(StrEnum):
    """How a secondary diagnosis counted toward the CC/MCC level of the assigning formula."""

    NEITHER = "NEITHER"
    CC = "CC"
    MCC = "MCC"
    CC_EXCLUDED = "CC_EXCLUDED"                                  # the principal diagnosis excludes it
    MCC_EXCLUDED = "MCC_EXCLUDED"
    CC_EXCLUDED_BY_DRG_LOGIC = "CC_EXCLUDED_BY_DRG_LOGIC"        # the formula's severity suppression
    MCC_EXCLUDED_BY_DRG_LOGIC = "MCC_EXCLUDED_BY_DRG_LOGIC"


#: SeverityUsage by level number (0 counts as neither).
LEVEL_USAGE = (SeverityUsage.NEITHER, SeverityUsage.CC, SeverityUsage.MCC)
EXCLUDED_USAGE = {SeverityUsage.CC: SeverityUsage.CC_EXCLUDED, SeverityUsage.MCC: SeverityUsage.MCC_EXCLUDED}
DRG_LOGIC_USAGE = {SeverityUsage.CC: SeverityUsage.CC_EXCLUDED_BY_DRG_LOGIC,
                   SeverityUsage.MCC: SeverityUsage.MCC_EXCLUDED_BY_DRG_LOGIC}


class Affects(StrEnum):
    """Whether a code affected the initial DRG, the final DRG, both or neither."""

    NONE = "NONE"
    INITIAL = "INITIAL"
    FINAL = "FINAL"
    BOTH = "BOTH"


class MedSurg(StrEnum):
    """Medical or surgical DRG (NONE when ungroupable)."""

    MEDICAL = "MEDICAL"
    SURGICAL = "SURGICAL"
    NONE = "NONE"


class PoaError(StrEnum):
    """How HAC/POA processing read a secondary diagnosis' POA indicator (``poa_error``)."""

    POA_NOT_CHECKED = "POA_NOT_CHECKED"
    HOSPITAL_EXEMPT = "HOSPITAL_EXEMPT"
    POA_RECOGNIZED_YES_POA = "POA_RECOGNIZED_YES_POA"
    POA_RECOGNIZED_NOT_POA = "POA_RECOGNIZED_NOT_POA"
    POA_NOT_RECOGNIZED = "POA_NOT_RECOGNIZED"


class HacCriteria(StrEnum):
    """The status of one HAC entry of a secondary diagnosis."""

    HAC_CRITERIA_MET = "HAC_CRITERIA_MET"
    HAC_CRITERIA_NOT_MET = "HAC_CRITERIA_NOT_MET"
    HAC_NOT_APPLICABLE_EXCLUSION = "HAC_NOT_APPLICABLE_EXCLUSION"
    HAC_NOT_APPLICABLE_EXEMPT = "HAC_NOT_APPLICABLE_EXEMPT"
    NOT_ON_HAC_LIST = "NOT_ON_HAC_LIST"          # the principal diagnosis' entry of a met HAC (HAC 11)


class AdmitDxFlag(StrEnum):
    """Whether the admitting diagnosis was given and is a code of the version."""

    DX_NOT_GIVEN = "DX_NOT_GIVEN"
    DX_VALID = "DX_VALID"
    DX_INVALID = "DX_INVALID"


#: The DRG of a claim that cannot be grouped (with a return code other than OK).
UNGROUPABLE_DRG = 999

#: ``drg_severity`` of the formula of DRG 998 ("principal diagnosis invalid as discharge
#: diagnosis"): a claim grouped there reports no claim-level CC/MCC severity.
UNGROUPED_DRG_SEVERITY = 9

#: Formula lists that are not MDCs: the pre-MDC list, and the unrelated-OR-procedure list
#: (DRGs 981-989) that a reroute reaches without changing the reported MDC.
PRE_MDC = 0
UNRELATED_OR = 29


def med_surg(surgical: str) -> MedSurg:
    """The medical/surgical type of a formula's ``surgical`` field (``NA`` -> NONE)."""
    return MedSurg.__members__.get(surgical, MedSurg.NONE)
