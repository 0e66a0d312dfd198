"""Layer 5 -- files: reading claim files and writing result files.

Owns the file formats: JSON lines and the wide CSV layout in (:mod:`.readers`, one
:class:`Row` per input row, never a dropped row), atomic writes out (:mod:`.writers`).
May import: the standard library and attrs only -- nothing of the grouper; a row's claim
is a plain dict that the reading stage (:mod:`grouper.reading`) reads like any other input.
"""
from .readers import (CsvLayout, InputError, JsonlReader, Row, check_input, detect_format, read_csv, read_jsonl,
                      read_rows)
from .writers import AtomicWriter, OutputError, json_line

__all__ = ["AtomicWriter", "CsvLayout", "InputError", "JsonlReader", "OutputError", "Row", "check_input",
           "detect_format", "json_line", "read_csv", "read_jsonl", "read_rows"]
