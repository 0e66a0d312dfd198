"""Regenerate docs/errors-and-warnings.md: every error and warning code with an example
input that produces it and the message it gives.  `python docs/make_errors_doc.py`"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import grouper
from grouper.bulk.records import group_record
from grouper.mce import WARNING_CODES as MCE_WARNING_CODES
from grouper.mce.catalog import WARNINGS_AND_EDITS
from grouper.reading import ERROR_CODES, WARNING_CODES

WARNING_EXAMPLES = {
    "PDX_MISSING": {"version": 431, "pdx": None},
    "CODE_DOTTED": {"version": 431, "pdx": "I50.22"},
    "CODE_PADDED": {"version": 431, "pdx": "I5022", "sdx": [[" J9601", "Y"]]},
    "CODE_LOWERCASE": {"version": 431, "pdx": "i5022"},
    "CODE_NOT_TEXT": {"version": 431, "pdx": "I5022", "procedures": [27034]},
    "CODE_UNKNOWN": {"version": 431, "pdx": "XXXXX"},
    "CODE_OTHER_VERSION": {"version": 400, "pdx": "A4154"},
    "CODE_NORMALIZED": {"version": 431, "pdx": "I50.22"},
    "CODE_CONVERSION": {"discharge_date": "2024-05-01", "pdx": "I5022", "sdx": [["C860", "Y"]]},
    "CODE_EMPTY": {"version": 431, "pdx": "I5022", "sdx": [["", "Y"]]},
    "ENTRY_MALFORMED": {"version": 431, "pdx": "I5022", "sdx": {"J9601": "Y"}},
    "CODE_CLUSTER_PSEUDO": {"version": 431, "pdx": "I442", "procedures": ["Z@0264"]},
    "DUPLICATE_SDX": {"version": 431, "pdx": "I5022", "sdx": [["J9601", "Y"], ["J9601", "Y"]]},
    "DUPLICATE_OF_PDX": {"version": 431, "pdx": "I5022", "sdx": [["I5022", "Y"]]},
    "DUPLICATE_PROCEDURE": {"version": 431, "pdx": "M1611", "procedures": ["0SR9019", "0SR9019"]},
    "TOO_MANY_SDX": {"version": 431, "pdx": "I5022", "sdx": [["E119", "Y"]] * 25},
    "TOO_MANY_PROCEDURES": {"version": 431, "pdx": "M1611", "procedures": ["0SR9019"] * 26},
    "INVALID_AGE": {"version": 431, "pdx": "I5022", "age": 150},
    "AGE_NOT_A_NUMBER": {"version": 431, "pdx": "I5022", "age": "old"},
    "AGE_MISSING": {"version": 431, "pdx": "I5022"},
    "SEX_MISSING": {"version": 431, "pdx": "I5022"},
    "INVALID_SEX": {"version": 431, "pdx": "I5022", "sex": "X"},
    "INVALID_DISCHARGE_STATUS": {"version": 431, "pdx": "I2109", "discharge_status": 8},
    "DISCHARGE_STATUS_MISSING": {"version": 431, "pdx": "I2109"},
    "DISCHARGE_STATUS_TEXT": {"version": 431, "pdx": "I5022", "discharge_status": "01"},
    "INVALID_POA": {"version": 431, "pdx": "I5022", "sdx": [["L89154", "X"]]},
    "POA_BLANK": {"version": 431, "pdx": "J189", "sdx": [["L89154", ""]]},
    "HOSPITAL_STATUS_UNRECOGNIZED": {"version": 431, "pdx": "I5022", "hospital_status": "MAYBE"},
    "INVALID_ADMIT_DX": {"version": 431, "pdx": "I5022", "admit_dx": "R06.02"},
    "VERSION_OUTSIDE_FISCAL_YEAR": {"version": "43.1", "discharge_date": "2026-11-20", "pdx": "I5022"},
    "WEIGHTS_UNAVAILABLE": {"discharge_date": "2026-11-15", "pdx": "I5022"},
}
# the options an example needs: (keyword arguments of grouper.group, how the table says it)
OPTIONS = {
    "CODE_NORMALIZED": ({"normalize": True}, " with `normalize=True` (`--normalize`)"),
    "CODE_CONVERSION": ({"version": "44.0", "convert_codes": True},
                        " with `version=\"44.0\", convert_codes=True` (`--version 44.0 --convert-codes`)"),
}
ERROR_EXAMPLES = {
    "NOT_A_CLAIM": "just text",
    "MISSING_PDX": {"version": 431, "sdx": []},
    "PDX_NOT_TEXT": {"version": 431, "pdx": 5022},
    "CODES_AS_TEXT": {"version": 431, "pdx": "I5022", "sdx": "J9601,E119"},
    "NO_VERSION": {"pdx": "I5022"},
    "UNKNOWN_VERSION": {"version": "39.1", "pdx": "I5022"},
    "DATE_OUT_OF_RANGE": {"discharge_date": "2021-01-01", "pdx": "I5022"},
    "BAD_DATE": {"discharge_date": "yesterday", "pdx": "I5022"},
}
# the errors of the Medicare Code Editor (grouper.edit), whose claims need the stay
_STAY = {"pdx": "I5022", "age": 70, "sex": "M", "discharge_status": 1, "discharge_date": "2025-01-15", "los": 3}
MCE_ERROR_EXAMPLES = {
    "MISSING_DISCHARGE_DATE": {k: v for k, v in _STAY.items() if k != "discharge_date"},
    "MISSING_AGE": {k: v for k, v in _STAY.items() if k != "age"},
    "BAD_AGE": dict(_STAY, age="70 years"),
    "MISSING_DISCHARGE_STATUS": dict(_STAY, discharge_status=None),
    "BAD_DISCHARGE_STATUS": dict(_STAY, discharge_status="home"),
    "MISSING_LOS": {k: v for k, v in _STAY.items() if k != "los"},
    "BAD_LOS": dict(_STAY, los=3, admission_date="2025-01-10"),
    "DATE_BEFORE_ICD10": dict(_STAY, discharge_date="2015-09-30"),
}
MCE_WARNING_EXAMPLES = {
    "DISCHARGE_AFTER_MCE_RELEASE": dict(_STAY, discharge_date="2026-11-20"),
}


def cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def main() -> str:
    lines = [
        "# Errors and warnings", "",
        "Grouping is always identical to the CMS grouper; these codes only *report* what looked",
        "wrong.  Warnings come with a result (`result.warnings`; the `warnings` list of an output",
        "row: `code`, `field`, `value`, `message`); errors mean the input could not be grouped at",
        "all.  This page is generated by `docs/make_errors_doc.py`: each message below is what the",
        "example input really produces.", "",
        "## Errors", "",
        "The single-claim API raises `grouper.ClaimError` (attributes `code`, `field`, `value`, and",
        "the message).  The batch API and the command line put the error on the row instead",
        "(`error` = code, plus the message), keep the row in its place, and the CLI exits with",
        "status 1.  A corrupted or edited table file raises `grouper.TableIntegrityError` naming",
        "the file.", "",
        "| code | meaning | example input | message |", "|---|---|---|---|"]
    for code, meaning in ERROR_CODES.items():
        if code == "UNREADABLE_ROW":
            lines.append(f"| `{code}` | {meaning} | the JSON-lines row `{{not json` (line 3) | "
                         "line 3: not valid JSON (Expecting property name enclosed in double quotes at column 2) |")
            continue
        if code in MCE_ERROR_EXAMPLES:
            ex = MCE_ERROR_EXAMPLES[code]
            try:
                grouper.edit(ex)
                raise AssertionError(f"{code}: no ClaimError")
            except grouper.ClaimError as exc:
                assert exc.code == code, (code, exc.code)
                message = f"{exc} (`grouper.edit`)"
        else:
            ex = ERROR_EXAMPLES[code]
            rec = group_record(ex)
            assert rec["error"] and rec["error"]["code"] == code, (code, rec)
            message = rec["error"]["message"]
        lines.append(f"| `{code}` | {meaning} | `{json.dumps(ex)}` | {cell(message)} |")
    lines += ["", "## Warnings", "", "| code | meaning | example input | message |", "|---|---|---|---|"]
    for code, meaning in WARNING_CODES.items():
        ex = WARNING_EXAMPLES[code]
        options = OPTIONS.get(code, ({}, ""))
        r = grouper.group(ex, **options[0])
        ws = [w for w in r.warnings if w.code == code]
        assert ws, (code, [w.code for w in r.warnings])
        shown = json.dumps(ex)
        if len(shown) > 80:
            shown = shown[:77] + "…"
        extra = options[1]
        lines.append(f"| `{code}` | {meaning} | `{shown}`{extra} | {cell(ws[0].message)} |")
    lines += ["", "### Warnings of the Medicare Code Editor", "",
              "On an edit result (`grouper.edit(...).warnings`, the `warnings` of a `python -m grouper edit` row).",
              "", "| code | meaning | example input | message |", "|---|---|---|---|"]
    for code, meaning in MCE_WARNING_CODES.items():
        ex = MCE_WARNING_EXAMPLES[code]
        ws = [w for w in grouper.edit(ex).warnings if w.code == code]
        assert ws, code
        lines.append(f"| `{code}` | {meaning} | `{json.dumps(ex)}` | {cell(ws[0].message)} |")
    lines += ["", "## Warnings and the Medicare Code Editor's edits", "",
              "A warning that reports what an edit of CMS's Medicare Code Editor reports has the edit's name",
              "(`docs/mce.md` lists the edits).  Every warning set against the edits",
              "(`grouper.mce.catalog.WARNINGS_AND_EDITS`):", "",
              "| warning | MCE edit | relation | note |", "|---|---|---|---|"]
    for code, (edit, relation, note) in WARNINGS_AND_EDITS.items():
        lines.append(f"| `{code}` | {f'`{edit}`' if edit else '—'} | {relation or '—'} | {cell(note)} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "errors-and-warnings.md")
    with open(out, "w") as f:
        f.write(main())
    print(f"wrote {out}")
