"""Layer 5 -- files: reading claim files and writing result files.

Owns the file formats: JSON lines and the wide CSV layout in (:mod:`.readers`, one
:class:`Row` per input row, never a dropped row), atomic writes out (:mod:`.writers`).
May import: the standard library, attrs and :mod:`grouper.reading.layout` (the wide layout's
column mapping, shared with ``group_batch`` on wide DataFrames; itself standard library only) --
nothing else of the grouper; a row's claim is a plain dict that the reading stage
(:mod:`grouper.reading`) reads like any other input.
"""
from ..reading.layout import Layout, LayoutError
from .readers import (
    CsvError,
    CsvReader,
    InputError,
    JsonlReader,
    Row,
    check_input,
    detect_format,
    parse_delimiter,
    read_csv,
    read_jsonl,
    read_rows,
)
from .writers import AtomicWriter, OutputError, json_line, plain_value

__all__ = ["AtomicWriter", "CsvError", "CsvReader", "InputError", "JsonlReader", "Layout", "LayoutError",
           "OutputError", "Row", "check_input", "detect_format", "json_line", "parse_delimiter", "plain_value",
           "read_csv", "read_jsonl", "read_rows"]
