"""The error of input that cannot be grouped at all, and the catalogue of its codes."""
from __future__ import annotations


class ClaimError(ValueError):
    """The input cannot be read as a claim at all.  ``field`` and ``value`` say where."""

    def __init__(self, code: str, field: str, value, message: str):
        super().__init__(message)
        self.code = code
        self.field = field
        self.value = value

    def __reduce__(self):
        return (self.__class__, (self.code, self.field, self.value, str(self)))


#: code -> one-line meaning (``docs/errors-and-warnings.md`` lists them with examples)
ERROR_CODES = {
    "NOT_A_CLAIM": "the input is not a claim object/mapping",
    "MISSING_PDX": "the claim has no principal-diagnosis field at all",
    "PDX_NOT_TEXT": "the principal diagnosis is not text (a number, a list, ...)",
    "CODES_AS_TEXT": "a code list (sdx, procedures) is one text holding several codes ('J9601,E119'): give a list",
    "NO_VERSION": "neither a grouper version nor a discharge date is given",
    "UNKNOWN_VERSION": "the grouper version is not in the compiled tables",
    "DATE_OUT_OF_RANGE": "the discharge date is outside the compiled tables' range",
    "BAD_DATE": "the discharge date cannot be read",
    "UNREADABLE_ROW": "a file row cannot be read (bad JSON/CSV, wrong field count, bad bytes, nested too "
                      "deeply, a number too long, a lone surrogate, a line over 1 MiB, a compressed file cut "
                      "off after the row before)",
    # the Medicare Code Editor needs the stay (grouper.reading.stay) and an ICD-10 discharge date
    "MISSING_DISCHARGE_DATE": "the MCE needs the discharge date",
    "MISSING_AGE": "the MCE needs the age in years",
    "BAD_AGE": "the age is not a whole number",
    "MISSING_DISCHARGE_STATUS": "the MCE needs the patient discharge status",
    "BAD_DISCHARGE_STATUS": "the discharge status is not a whole number",
    "MISSING_LOS": "the MCE needs the length of stay (los, days) or the admission date",
    "BAD_LOS": "the length of stay is not a whole number of days >= 0, or disagrees with the admission date",
    "DATE_BEFORE_ICD10": "discharged before ICD-10 (2015-10-01): the MCE's tables are ICD-10",
}
