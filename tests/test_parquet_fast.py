"""The Parquet / Arrow output's fast paths give what the per-claim engine gives: text result
columns built from the vector core's integer codes (BatchResult.codes), and the output file
written by a thread of its own (its errors still the run's) with the ``id`` and ``line``
columns not dictionary-encoded (the values and types read back unchanged)."""
import collections
import errno
import os
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow", reason="pyarrow (the 'arrow' extra) is not installed")
import pyarrow.parquet as pq  # noqa: E402
from test_arrow_io_fast import _edited  # noqa: E402

import grouper  # noqa: E402
from grouper import cli  # noqa: E402
from grouper.bulk.arrow import claims_table, columns_from_arrow  # noqa: E402
from grouper.bulk.batch import CODED_COLUMNS, WeightsUnavailableWarning  # noqa: E402
from grouper.bulk.results import result_arrays  # noqa: E402
from grouper.bulk.summary import summarize_arrow  # noqa: E402
from grouper.io.arrow import ArrowReader, ArrowWriter  # noqa: E402

from conftest import ROOT, SAMPLE, group_or_error, read_jsonl  # noqa: E402

PREVIOUS = b"previous output, must survive\n"


@pytest.fixture(scope="module")
def claims():
    """Labelled claims of every scenario (30 each) and the same claims edited to draw errors
    and other versions; the claims as group() reads them from the Arrow table."""
    per: dict = collections.defaultdict(list)
    for c in read_jsonl(SAMPLE):
        if len(per[c["scenario"]]) < 30:
            per[c["scenario"]].append({k: v for k, v in c.items() if k not in ("expected", "scenario")})
    base = [c for cs in per.values() for c in cs]
    table = claims_table(base + [_edited(c, k) for k, c in enumerate(base)])
    return table, table.to_pylist()


def test_coded_text_columns_are_those_of_group(claims):
    """Every text column written from codes (return codes, medical/surgical, severities, HAC
    status, DRG titles) has, claim by claim, the value group() gives; the claims include error
    rows, several versions in one chunk, claims the per-claim engine groups (formed clusters)
    and HAC return codes the formula rows do not name (the codes' -1 rows)."""
    table, rows = claims
    chunk = summarize_arrow(table)
    codes = chunk.result.codes
    assert set(codes) == set(CODED_COLUMNS), "every text column has codes"
    own = (codes["return_code"][0] < 0) & ~chunk.bad
    assert own.sum() > (codes["hac_status"][0] < 0).sum() - chunk.bad.sum() > 0, \
        "claims grouped row by row, and HAC return codes that only the text column holds"
    assert len(np.unique(chunk.result.version[~chunk.bad])) > 1, "several versions in one chunk"
    got = {k: v.to_pylist() for k, v in result_arrays(chunk).items()}
    n_err = 0
    for i, rec in enumerate(rows):
        g = group_or_error(rec)
        if isinstance(g, grouper.ClaimError):
            n_err += 1
            assert got["error_code"][i] == g.code, f"claim {rec['id']}: error_code"
            assert got["hac_status"][i] is None and got["final_drg_description"][i] is None, \
                f"claim {rec['id']}: result fields of an error row are null"
            continue
        for f in ("return_code", "initial_return_code", "initial_med_surg", "final_med_surg", "initial_severity",
                  "final_severity", "initial_claim_severity", "final_claim_severity", "hac_status",
                  "final_drg_description"):
            assert got[f][i] == getattr(g, f), f"claim {rec['id']}: {f}"
    assert n_err, "the claims have error rows"


def test_codes_index_the_text_columns(claims):
    """BatchResult.codes: where a code is not -1, the text it indexes is the text column's."""
    table, _ = claims
    with warnings.catch_warnings():          # v44.0 claims: the FY2027 weights may be missing
        warnings.simplefilter("ignore", WeightsUnavailableWarning)
        res = grouper.group_batch(columns_from_arrow(table))
    for name, (codes, texts) in res.codes.items():
        col = getattr(res, name)
        at = np.flatnonzero(codes >= 0)
        assert len(at) > len(col) // 2, name
        assert texts[codes[at]].tolist() == col[at].tolist(), f"{name}: the texts its codes index"


def test_a_chunk_of_error_rows_only_has_null_results():
    table = claims_table([{"id": "a", "version": 999, "pdx": "I5022"}, {"id": "b", "pdx": "I5022"}])
    chunk = summarize_arrow(table)
    assert chunk.bad.all()
    got = result_arrays(chunk)
    for f in CODED_COLUMNS:
        if f in got:
            assert got[f].to_pylist() == [None, None], f


# ------------------------------------------------------------------ the writer


def _table(n: int, start: int = 0):
    return pa.table({"id": [f"c{i}" for i in range(start, start + n)], "line": pa.array(range(start, start + n)),
                     "final_drg": pa.array([291 + i % 3 for i in range(n)], pa.int32()),
                     "return_code": ["OK"] * n,
                     "warnings": pa.array([[{"code": "X", "field": "pdx"}] if i % 2 else [] for i in range(n)],
                                          pa.list_(pa.struct([("code", pa.string()), ("field", pa.string())])))})


def test_id_and_line_are_written_without_dictionary_and_read_back_the_same(tmp_path):
    out = tmp_path / "out.parquet"
    tables = [_table(700, k * 700) for k in range(3)]
    with ArrowWriter(str(out)) as w:
        for t in tables:
            w.write(t)
    back = pq.read_table(out)
    want = pa.concat_tables(tables)
    assert back.schema.equals(want.schema) and back.equals(want), "values and types as written"
    meta = pq.ParquetFile(out).metadata.row_group(0)
    enc = {meta.column(i).path_in_schema: meta.column(i).encodings for i in range(meta.num_columns)}
    assert set(enc) == {"id", "line", "final_drg", "return_code", "warnings.list.element.code",
                        "warnings.list.element.field"}
    for path, used in enc.items():
        assert ("RLE_DICTIONARY" in used) == (path not in ("id", "line")), f"{path}: {used}"


@pytest.mark.parametrize("fmt", ["parquet", "arrow"])
def test_an_error_of_the_writing_thread_fails_the_output(tmp_path, monkeypatch, fmt):
    """The second table fails to write (disk full): the error comes out of ``close`` (or the
    next ``write``), the previous file is left as it was and no temporary file remains."""
    out = tmp_path / f"out.{fmt}"
    out.write_bytes(PREVIOUS)
    w = ArrowWriter(str(out))
    w.ROW_GROUP = 1
    w.write(_table(10))
    real, calls = w._writer.write_table, []

    def failing(table, *a, **kw):
        calls.append(table.num_rows)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(table, *a, **kw)
    monkeypatch.setattr(w._writer, "write_table", failing)
    with pytest.raises(OSError, match="No space left on device"):
        for k in range(1, 50):
            w.write(_table(10, 10 * k))
        w.close()
    w.close(ok=False)
    assert out.read_bytes() == PREVIOUS
    assert [p.name for p in tmp_path.iterdir()] == [out.name], "no temporary file"
    assert len(calls) < 10, "nothing more is written after the error"


def test_disk_full_in_the_writing_thread_is_the_commands_error(tmp_path, monkeypatch, capsys):
    table = claims_table([{"id": f"c{i}", "version": 431, "pdx": "I5022", "sdx": [["J9601", "Y"]]}
                          for i in range(300)])
    src, out = tmp_path / "c.parquet", tmp_path / "out.parquet"
    pq.write_table(table, src)
    out.write_bytes(PREVIOUS)
    monkeypatch.setattr(ArrowWriter, "ROW_GROUP", 50)
    real = pq.ParquetWriter.write_table
    calls = []

    def failing(self, table, *a, **kw):
        calls.append(table.num_rows)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, table, *a, **kw)
    monkeypatch.setattr(pq.ParquetWriter, "write_table", failing)
    capsys.readouterr()
    status = cli.main(["group", str(src), "-o", str(out), "--quiet", "--chunk", "50"])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert err == f"error: cannot write {out}: No space left on device; nothing written, {out} is as it was"
    assert out.read_bytes() == PREVIOUS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.parquet", "out.parquet"], "no temporary file"


def test_an_interrupted_write_leaves_no_file(tmp_path):
    out = tmp_path / "out.parquet"
    with pytest.raises(KeyboardInterrupt):
        with ArrowWriter(str(out)) as w:
            w.ROW_GROUP = 1
            for k in range(5):
                w.write(_table(100, 100 * k))
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ the reader


def _reader_threads() -> list:
    return [t for t in threading.enumerate() if t.name == "grouper-arrow-reader"]


def test_batches_read_ahead_come_in_order_and_count_as_taken(tmp_path, claims):
    table, rows = claims
    src = tmp_path / "c.parquet"
    pq.write_table(table, src, row_group_size=500)
    reader = ArrowReader(str(src), batch_size=400)
    got, positions, given = [], [], 0
    for t in reader:
        got.extend(t.to_pylist())
        given += t.num_rows
        time.sleep(0.01)                       # the thread reads ahead meanwhile
        positions.append((reader.position, given))
    assert got == rows, "every row once, in order"
    assert all(p == g for p, g in positions), "position: the rows given so far, not those read ahead"


def test_an_error_while_reading_ahead_is_raised_where_its_batch_would_come(tmp_path, claims, monkeypatch):
    table, _ = claims
    src = tmp_path / "c.parquet"
    pq.write_table(table, src, row_group_size=500)
    real = pq.ParquetFile

    class Failing(real):
        def iter_batches(self, *a, row_groups=None, **kw):
            if row_groups == [3]:
                raise pa.ArrowInvalid("corrupt row group 3")
            yield from super().iter_batches(*a, row_groups=row_groups, **kw)
    monkeypatch.setattr(pq, "ParquetFile", Failing)
    reader = ArrowReader(str(src), batch_size=500)
    taken = []
    with pytest.raises(pa.ArrowInvalid, match="corrupt row group 3"):
        for t in reader:
            taken.append(t.num_rows)
    assert taken == [500, 500, 500], "the row groups before the failing one"
    assert not _reader_threads()


def test_a_reader_left_early_stops_its_thread(tmp_path, claims):
    table, _ = claims
    src = tmp_path / "c.parquet"
    pq.write_table(table, src, row_group_size=100)
    it = iter(ArrowReader(str(src), batch_size=100))
    next(it)
    assert _reader_threads(), "the batches are read by a thread"
    it.close()
    for _ in range(50):
        if not _reader_threads():
            break
        time.sleep(0.05)
    assert not _reader_threads(), "the thread ends when the caller stops reading"


# ------------------------------------------------------------------ the command's memory pool

_POOL_SCRIPT = """
import runpy, sys
import pyarrow as pa
sys.argv = ["grouper", "group", sys.argv[1], "-o", sys.argv[2], "--quiet"]
try:
    runpy.run_module("grouper", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
print(pa.default_memory_pool().backend_name)
"""


def _pool_after(tmp_path, *, library: bool = False, env=None) -> str:
    src, out = tmp_path / "c.parquet", tmp_path / "out.parquet"
    pq.write_table(claims_table([{"id": "a", "version": 431, "pdx": "I5022"}]), src)
    if library:
        code = ("import sys, pyarrow as pa\nfrom grouper.io.arrow import ArrowReader, ArrowWriter\n"
                "list(ArrowReader(sys.argv[1]))\nArrowWriter(sys.argv[2], deferred=True)\n"
                "print(pa.default_memory_pool().backend_name)\n")
    else:
        code = _POOL_SCRIPT
    r = subprocess.run([sys.executable, "-c", code, str(src), str(out)], capture_output=True, text=True,
                       cwd=ROOT, timeout=300, env={**os.environ, **(env or {})})
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout.strip().splitlines()[-1]


def test_the_command_takes_arrow_memory_from_jemalloc(tmp_path):
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this pyarrow build has no jemalloc (the command then uses the system pool)")
    env = {"ARROW_DEFAULT_MEMORY_POOL": ""}
    default = pa.default_memory_pool().backend_name
    assert _pool_after(tmp_path, env=env) == "jemalloc", "the command's own process"
    assert _pool_after(tmp_path, library=True, env=env) == default, "inside another program: its own pool"
    assert _pool_after(tmp_path, env={"ARROW_DEFAULT_MEMORY_POOL": "system"}) == "system", "the user's choice"


# ------------------------------------------------------------------ dictionary-encoded codes


def test_dictionary_encoded_codes_are_read_without_decoding(tmp_path, claims, monkeypatch):
    """A Parquet file's code columns come dictionary-encoded (ArrowReader): pdx, sdx and
    procedures are looked up a dictionary at a time, never decoded row by row, and group as
    the plain text columns do."""
    table, _ = claims
    plain = table.filter(pa.array([v == 431 for v in table.column("version").to_pylist()]))
    src = tmp_path / "c.parquet"
    pq.write_table(plain, src)
    read = pa.concat_tables(list(ArrowReader(str(src), batch_size=10_000)))
    assert pa.types.is_dictionary(read.schema.field("pdx").type)
    assert pa.types.is_dictionary(read.schema.field("procedures").type.value_type)
    assert pa.types.is_dictionary(read.schema.field("sdx").type.value_type.field("code").type)

    import grouper.bulk.arrow as bulk_arrow
    real = bulk_arrow.plain_array

    def no_decoding(arr):
        assert not pa.types.is_dictionary(arr.type), "a code column was decoded"
        return real(arr)
    monkeypatch.setattr(bulk_arrow, "plain_array", no_decoding)
    cols = columns_from_arrow(read)
    monkeypatch.undo()
    got = summarize_arrow(read)
    assert got.result.final_drg.tolist() == grouper.group_batch(cols).final_drg.tolist()
    want = summarize_arrow(plain)
    for f in ("final_drg", "initial_drg", "return_code", "final_severity", "hac_status"):
        assert getattr(got.result, f).tolist() == getattr(want.result, f).tolist(), f
    assert [[w.to_dict() for w in ws] for ws in got.warnings] == [[w.to_dict() for w in ws] for ws in want.warnings]
    assert got.errors == want.errors


def test_the_line_column_is_each_claims_line_in_the_input(tmp_path):
    """JSON lines to Parquet: ``line`` is the line of the claim in the file (blank lines
    counted, across the blocks the file is parsed in), not its row number; Parquet to
    Parquet: its row number from 1."""
    from grouper.cli.main import JSONL_BLOCK
    claim = '{"id": "%s", "version": 431, "pdx": "I5022"}\n'
    src = tmp_path / "c.jsonl"
    n = JSONL_BLOCK + 3
    src.write_text(claim % "a" + "\n\n" + "".join(claim % k for k in range(n - 1)))
    out = tmp_path / "out.parquet"
    assert cli.main(["group", str(src), "-o", str(out), "--quiet"]) == 0
    got = pq.read_table(out).column("line").to_pylist()
    assert got == [1] + list(range(4, n + 3))
    src2, back = tmp_path / "c.parquet", tmp_path / "back.parquet"
    pq.write_table(claims_table([{"id": x, "version": 431, "pdx": "I5022"} for x in "abc"]), src2)
    assert cli.main(["group", str(src2), "-o", str(back), "--quiet"]) == 0
    assert pq.read_table(back).column("line").to_pylist() == [1, 2, 3]
