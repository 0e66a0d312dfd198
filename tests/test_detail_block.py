"""The full-detail JSON lines of a block of input lines read a column at a time by Arrow (the
command line's default, ``python -m grouper group claims.jsonl -o out.jsonl``) are the lines the
row-by-row route writes (each claim's ``grouper.group(claim, details=True).to_dict()``, or its
error row), line for line, byte for byte: on every claim of the committed oracle sample, and on
blocks where odd lines (unreadable, not a claim, errors, nested too deep, blank) make the block
fall back to reading line by line in the middle of the file."""
import gzip
import importlib
import json

import pytest

from grouper import io as gio
from grouper.bulk.arrow import columns_from_arrow
from grouper.bulk.detail import claims_as_read
from grouper.io.arrow import jsonl_table
from grouper.io.readers import jsonl_row
from grouper.reading import read
from grouper.tables import default

from conftest import SAMPLE

pytest.importorskip("pyarrow")
cli = importlib.import_module("grouper.cli.main")

#: lines that are not a plain claim: each makes the block it is in read otherwise (parsed
#: line by line, or its row an error row), as the command line meets them in a file
ODD_LINES = [
    b'{"id": "bad-json", "pdx": "I10"',                                       # not JSON
    b'["not", "an", "object"]',                                               # not an object
    b'{"id": "no-pdx", "version": 431, "sdx": [["E119", "Y"]]}',              # MISSING_PDX
    b'{"id": "pdx-number", "version": 431, "pdx": 12}',                      # PDX_NOT_TEXT
    b'{"id": "sdx-text", "version": 431, "pdx": "I10", "sdx": "E119,J9601"}',  # CODES_AS_TEXT
    b'{"id": "no-version", "pdx": "I10"}',                                    # NO_VERSION
    b'{"id": "version-99", "version": 990, "pdx": "I10"}',                    # UNKNOWN_VERSION
    b'{"id": "deep", "version": 431, "pdx": "I10", "x": ' + b"[" * 40 + b"]" * 40 + b"}",   # nested too deep
    b'{"id": "float-age", "version": 431, "pdx": "I10", "age": 70.5}',        # a float: line by line
    b'{"id": "escape", "version": 431, "pdx": "I10", "sex": "\\u0046"}',      # an escape: line by line
    b'{"id": 7, "version": "43.1", "pdx": "i10", "pdx_poa": null, "sdx": [["e119"], [], null, ["I10", "y"]], '
    b'"procedures": [null, "0DTJ4ZZ"], "discharge_status": "01", "hospital_status": "exempt"}',
    b"   ",                                                                   # a blank line
]


def sample_lines() -> list[bytes]:
    with gzip.open(SAMPLE, "rb") as f:
        return f.read().splitlines(keepends=True)


def block_of(lines: list[bytes], first: int = 1) -> list:
    """A block as :meth:`grouper.io.JsonlReader.blocks` gives it."""
    return [(first + i, raw, 0) for i, raw in enumerate(lines)]


def options() -> dict:
    class Args:
        detail = None
    return cli._options(Args(), "jsonl")


def text(x) -> str:
    return x if type(x) is str else gio.json_line(x)


def check_block(block: list, opts: dict, where: str) -> int:
    """Both routes on one block; the number of rows written from Arrow's columns."""
    rows = [jsonl_row(*item) for item in block]
    rows = [r for r in rows if r is not None]
    want = cli.group_chunk(rows, opts)
    got = cli.group_chunk(cli.JsonlBlock(block), opts)
    assert len(got.lines) == len(want.lines), f"{where}: {len(got.lines)} rows, not {len(want.lines)}"
    for row, g, w, grc, wrc, gws, wws in zip(rows, got.lines, want.lines, got.return_code, want.return_code,
                                            got.warnings, want.warnings):
        at = f"{where}: line {row.line}"
        assert text(g) == text(w), f"{at}: {text(g)[:200]} != {text(w)[:200]}"
        assert grc == wrc, f"{at}: return code counted {grc!r}, not {wrc!r}"
        assert (gws is None) == (wws is None), f"{at}: warnings counted for one route only"
        if wws is not None:
            assert [x.to_dict() for x in gws] == [x.to_dict() for x in wws], f"{at}: warnings counted"
    return len(rows)


def test_sample_blocks_read_by_arrow_write_the_row_routes_lines(monkeypatch):
    detail = importlib.import_module("grouper.bulk.detail")
    seen = []
    real = detail.detail_arrow

    def counted(cols, lines, **kw):
        seen.append(cols.n)
        return real(cols, lines, **kw)
    monkeypatch.setattr(detail, "detail_arrow", counted)
    lines = sample_lines()
    opts = options()
    for start in range(0, len(lines), 5000):
        check_block(block_of(lines[start:start + 5000], start + 1), opts, f"oracle sample block at {start + 1}")
    # most of the sample is read from Arrow's columns (claims with other value types are not)
    assert sum(seen) >= len(lines) * 0.7


@pytest.mark.parametrize("version", [None, "40.0"])
def test_odd_lines_fall_back_mid_block_and_every_line_is_the_row_routes(version):
    lines = sample_lines()[:1200]
    opts = dict(options(), version=version)
    # odd lines in the middle of a block: the quarters holding them are read line by line, the
    # others from Arrow
    mixed = lines[:600] + [odd + b"\n" for odd in ODD_LINES] + lines[600:]
    check_block(block_of(mixed), opts, "odd lines in a block")
    # each odd line on its own, and with one claim (a block Arrow reads, with an error row, or does not)
    for k, odd in enumerate(ODD_LINES):
        check_block(block_of([odd + b"\n"]), opts, f"odd line {k} alone")
        check_block(block_of([lines[k], odd + b"\n"]), opts, f"odd line {k} after a claim")


ODD_CLAIMS = [
    b'{"id": 7, "version": "43.1", "pdx": "i10", "pdx_poa": null, "sdx": [["e119"], [], null, ["I10", "y"], '
    b'["J9601", "x"], ["R69", "YY"], ["R69", ""]], "procedures": ["0DTJ4ZZ", null], "discharge_status": "01", '
    b'"sex": 2, "hospital_status": "exempt", "admit_dx": "R69"}\n',
    b'{"id": "x", "discharge_date": "2024-01-15", "pdx": null, "sdx": null, "procedures": null, '
    b'"discharge_status": "20.0", "sex": "female", "hospital_status": "", "admit_dx": "r69"}\n',
    b'{"pdx": "I10", "version": "43.1", "sdx": [{"code": "E119", "poa": "N"}], "procedures": [{"code": "0DTJ4ZZ"}], '
    b'"discharge_status": "x", "sex": "U", "hospital_status": "UNKNOWN", "pdx_poa": "w"}\n',
]


@pytest.mark.parametrize("which", ["sample", "odd claims"])
def test_claims_as_read_are_what_the_reading_stage_gives(which):
    lines = sample_lines()[:3000] if which == "sample" else ODD_CLAIMS
    ts = default()
    if which != "sample":                          # one claim at a time: their value types differ
        for raw in lines:
            check_as_read([raw], ts)
    else:                                          # the blocks Arrow reads (most of them)
        checked = sum(check_as_read(lines[a:a + 100], ts, a + 1, strict=False) for a in range(0, len(lines), 100))
        assert checked >= len(lines) * 0.7


def check_as_read(lines, ts, first=1, strict=True) -> int:
    got = jsonl_table(block_of(lines, first), max_line=1 << 20)
    if got is None and not strict:
        return 0
    assert got is not None, f"{lines[0][:80]!r}: Arrow does not read it"
    table, numbers = got
    cols = columns_from_arrow(table, tables=ts)
    got = claims_as_read(cols)
    for n, raw, made in zip(numbers, lines, got):
        claim = json.loads(raw)
        want = read(claim, ts).claim
        assert made is not None, f"line {n} ({claim.get('id')}): not read from the columns"
        for field in ("version", "pdx", "pdx_poa", "sdx", "procedures", "sex", "discharge_status",
                      "hospital_status", "admit_dx"):
            a, b = getattr(made, field), getattr(want, field)
            assert a == b and type(a) is type(b), f"line {n} ({claim.get('id')}): {field} {a!r} != {b!r}"
        assert made == want
    return len(lines)


def test_cli_file_output_equals_the_row_route_of_standard_output(tmp_path):
    """The same input through the command line: to a file (read a block at a time by Arrow) and
    to standard output (read line by line), byte for byte."""
    import subprocess
    import sys

    from conftest import ROOT
    src = tmp_path / "in.jsonl"
    lines = sample_lines()[:2000]
    src.write_bytes(b"".join(lines[:700]) + b"\n".join(ODD_LINES) + b"\n" + b"".join(lines[700:]))
    out = tmp_path / "out.jsonl"
    a = subprocess.run([sys.executable, "-m", "grouper", "group", str(src), "-o", str(out), "--quiet",
                        "--chunk", "900"], cwd=ROOT, capture_output=True)
    b = subprocess.run([sys.executable, "-m", "grouper", "group", str(src), "--quiet", "--chunk", "900"],
                       cwd=ROOT, capture_output=True)
    assert a.returncode == b.returncode == 1, (a.stderr, b.stderr)
    got, want = out.read_bytes().splitlines(), b.stdout.splitlines()
    assert len(got) == len(want) == len(lines) + len(ODD_LINES) - 1       # the blank line: no row
    for n, (g, w) in enumerate(zip(got, want), start=1):
        assert g == w, f"output row {n}: {g[:200]!r} != {w[:200]!r}"


NULL_FIRST = [b'{"id": "a", "version": 431, "pdx": "I10", "procedures": [null, "0DTJ4ZZ", "0DTJ4ZZ"]}\n',
              b'{"id": "b", "version": 431, "pdx": "K3580", "procedures": ["0DTJ4ZZ"]}\n']


def test_a_code_list_starting_with_null_is_read_line_by_line():
    """pyarrow's JSON reader gives such a list's text items without the leading nulls (an invalid
    table: items shifted); the block is read line by line, and each row is the row route's."""
    check_block(block_of(NULL_FIRST), options(), "procedures [null, code]")


def test_summary_of_a_code_list_starting_with_null(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"".join(NULL_FIRST))
    r = subprocess.run([sys.executable, "-m", "grouper", "group", str(src), "--detail", "summary", "--quiet",
                        "-o", str(tmp_path / "out.csv")], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rows = (tmp_path / "out.csv").read_text().splitlines()
    # claim a: I10 with an unknown (null) code and two 0DTJ4ZZ; claim b: K3580 with 0DTJ4ZZ (appendectomy)
    want = {"a": grouper_summary(NULL_FIRST[0]), "b": grouper_summary(NULL_FIRST[1])}
    for row in rows[1:]:
        cid, _, _, drg = row.split(",")[:4]
        assert int(drg) == want[cid], f"claim {cid}: initial DRG {drg}, grouper.group says {want[cid]}"


def grouper_summary(raw: bytes) -> int:
    import grouper
    return grouper.group(json.loads(raw)).initial_drg
