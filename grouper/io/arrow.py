"""Parquet and Arrow IPC files: claims in by record batches, results out, written atomically.

``.parquet`` / ``.pq`` are Parquet, ``.arrow`` / ``.feather`` / ``.ipc`` Arrow IPC (file
format; an IPC stream is read too).  The claim schema is the JSON-lines one (``sdx`` as
``list<struct<code: string, poa: string>>``, ``procedures`` as ``list<string>``, the wide
CSV layout also accepted): see ``docs/columnar.md``.  Reading is by record batches, so memory
is bounded by the batch, not the file.  Needs ``pyarrow`` (the ``arrow`` extra): without
it, :class:`ArrowUnavailable` says how to install it.
"""
from __future__ import annotations

import functools
import os
import tempfile

ARROW_EXTENSIONS = {".parquet": "parquet", ".pq": "parquet", ".arrow": "arrow", ".feather": "arrow",
                    ".ipc": "arrow"}
INSTALL_HINT = "pip install 'grouper[arrow]' (or pip install pyarrow)"


class ArrowUnavailable(ImportError):
    """pyarrow is needed for Parquet / Arrow files and is not installed."""


def require_pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ArrowUnavailable(f"Parquet and Arrow files need pyarrow, which is not installed: {INSTALL_HINT}") \
            from None
    return pyarrow


def arrow_format(path: str) -> str | None:
    """'parquet' or 'arrow' for a path with one of their extensions, else None."""
    ext = os.path.splitext(path)[1].lower()
    return ARROW_EXTENSIONS.get(ext)


#: the claim columns whose text a Parquet file's batches give dictionary-encoded (codes, POAs,
#: sex, hospital status: few distinct values, each read or looked up once per row group, see
#: :func:`grouper.bulk.arrow.code_ids`), unless the column is kept in the output
DICTIONARY_COLUMNS = ("pdx", "admit_dx", "sdx", "procedures", "pdx_poa", "sex", "hospital_status")


class ArrowReader:
    """The record batches of a Parquet or Arrow IPC file, ``batch_size`` rows each (the last
    fewer); ``columns`` the file's column names, ``num_rows`` its rows; ``position`` the rows
    read so far (for the progress bar).  A Parquet file's code and POA text columns
    (:data:`DICTIONARY_COLUMNS`) come dictionary-encoded, except those named in ``keep``
    (the columns the output keeps as the input had them).  The batches are read and decoded
    by a thread of their own, :attr:`AHEAD` batches ahead of the caller (Arrow decodes
    without the interpreter's lock): the caller groups one batch while the next is read; an
    error of that thread is raised where the caller takes the batch it would have given."""

    keep: tuple = ()

    def __init__(self, path: str, *, batch_size: int = 100_000):
        pa = require_pyarrow()
        command_memory_pool()
        self.path = path
        self.batch_size = batch_size
        self.format = arrow_format(path) or "parquet"
        self.position = 0
        try:
            if self.format == "parquet":
                import pyarrow.parquet as pq
                self._file = pq.ParquetFile(path)
                self.schema = self._file.schema_arrow
                self.num_rows = self._file.metadata.num_rows
            else:
                self._source = pa.memory_map(path, "r")
                try:
                    self._file = pa.ipc.open_file(self._source)
                    self.num_rows = sum(self._file.get_batch(i).num_rows for i in range(self._file.num_record_batches))
                except pa.ArrowInvalid:
                    self._source.seek(0)
                    self._file = pa.ipc.open_stream(self._source)
                    self.num_rows = None
                self.schema = self._file.schema
        except FileNotFoundError:
            raise
        except (pa.ArrowException, OSError) as exc:
            raise ValueError(f"{path}: not a readable {self.format} file ({exc})") from None
        self.columns = list(self.schema.names)

    #: tables read ahead by a thread of their own (0: none, read when asked for)
    AHEAD = 2

    def __iter__(self):
        if not self.AHEAD:
            for table in self._tables():
                self.position += table.num_rows
                yield table
            return
        import queue
        import threading
        q: queue.Queue = queue.Queue(self.AHEAD)
        stop = threading.Event()

        def put(item) -> bool:          # False once the caller stopped reading
            while not stop.is_set():
                try:
                    q.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def read() -> None:             # the reading thread: the tables, then the end or the error
            try:
                for table in self._tables():
                    if not put(("table", table)):
                        return
                put(("end", None))
            except BaseException as exc:       # raised again in the caller's thread
                put(("error", exc))
        thread = threading.Thread(target=read, name="grouper-arrow-reader", daemon=True)
        thread.start()
        try:
            while True:
                kind, got = q.get()
                if kind == "end":
                    return
                if kind == "error":
                    raise got
                self.position += got.num_rows
                yield got
        finally:
            stop.set()

    def _tables(self):
        """The file's tables of about ``batch_size`` rows, in order."""
        pa = require_pyarrow()
        if self.format == "parquet":
            batches = self._parquet_batches(pa)
        elif isinstance(self._file, pa.ipc.RecordBatchFileReader):
            batches = (self._file.get_batch(i) for i in range(self._file.num_record_batches))
        else:
            batches = iter(self._file)
        pending, rows, first = [], 0, True
        for b in batches:                     # small batches are joined up to about batch_size rows
            pending.append(b)
            rows += b.num_rows
            if rows >= self.batch_size:
                yield self._table(pa, pending)
                pending, rows = [], 0
                first = False
        if rows or (first and pending):
            yield self._table(pa, pending)

    def _parquet_batches(self, pa):
        """A Parquet file's batches, row group by row group (pyarrow cannot give a nested column
        dictionary-encoded in a batch that spans row groups), the code columns dictionary-encoded;
        a row group pyarrow cannot read so is read as plain text from where it stopped."""
        paths = _dictionary_paths(self._file.schema, set(self.keep or ()))
        if not paths:
            yield from self._file.iter_batches(batch_size=self.batch_size)
            return
        import pyarrow.parquet as pq
        file = pq.ParquetFile(self.path, read_dictionary=paths)
        for g in range(file.num_row_groups):
            done = 0
            try:
                for b in file.iter_batches(batch_size=self.batch_size, row_groups=[g]):
                    done += b.num_rows
                    yield b
            except pa.ArrowNotImplementedError:
                for b in self._file.iter_batches(batch_size=self.batch_size, row_groups=[g]):
                    if done >= b.num_rows:
                        done -= b.num_rows
                        continue
                    yield b.slice(done)
                    done = 0

    def _table(self, pa, batches):
        if any(b.schema != batches[0].schema for b in batches):     # dictionary and plain: plain
            table = pa.concat_tables([pa.Table.from_batches([b]).cast(self.schema) for b in batches])
            table = table.combine_chunks()
        else:
            table = pa.Table.from_batches(batches).combine_chunks()
        return table


def _dictionary_paths(schema, keep) -> list[str]:
    """The paths of the text leaves of a Parquet schema's :data:`DICTIONARY_COLUMNS` not in
    ``keep`` (``pdx``, ``sdx.list.element.code``, ``sdx.list.element.poa``,
    ``procedures.list.element`` ...)."""
    out = []
    for i in range(len(schema)):
        c = schema.column(i)
        root = c.path.split(".")[0]
        if root in DICTIONARY_COLUMNS and root not in keep and c.physical_type == "BYTE_ARRAY" \
                and c.logical_type.type == "STRING":
            out.append(c.path)
    return out


class ArrowWriter:
    """Tables appended to a Parquet or Arrow IPC file written under a temporary name and renamed
    into place when closed without error (an interrupted run leaves no file that looks finished,
    and an existing file as it was).  The schema is the first table's (``schema`` when no table
    is written: an empty file).  ``inputs``: paths the output must not overwrite.  ``deferred``:
    the temporary file is made on ``__enter__`` (errors then come from the ``with``).  Parquet
    row groups hold at least :attr:`ROW_GROUP` rows (small tables are gathered first: fewer,
    larger row groups are faster to write and to read).  The tables are encoded and written by a
    thread of their own (Arrow releases the interpreter's lock while it does), at most
    :attr:`QUEUE` tables behind the caller, so the caller groups the next chunk meanwhile; an
    error of that thread (disk full ...) is raised by the next :meth:`write` or by
    :meth:`close`.  The ``id`` and ``line`` columns are written without Parquet's dictionary
    encoding (their values are mostly distinct: it costs time for a larger file); the values
    and types read back are the same."""

    ROW_GROUP = 100_000
    QUEUE = 2
    #: columns written to Parquet without dictionary encoding
    PLAIN_COLUMNS = ("id", "line")

    def __init__(self, path: str, fmt: str | None = None, *, schema=None, inputs=(), deferred: bool = False):
        require_pyarrow()
        command_memory_pool()
        self.path = str(path)
        self.schema = schema
        self.format = fmt or arrow_format(self.path) or "parquet"
        self.inputs = [str(p) for p in inputs if p is not None and str(p) != "-"]
        self.existed = False
        self._tmp = None
        self._writer = None
        self._pending: list = []        # Parquet: tables not yet written (fewer than ROW_GROUP rows)
        self._pending_rows = 0
        self._thread = None             # the thread that writes (started by the first table)
        self._queue = None
        self._error = None              # what the writing thread raised
        self.rows = 0
        if not deferred:
            self._open()

    def _open(self) -> None:
        from .writers import OutputError
        p = self.path
        if p == "-":
            raise OutputError(f"{self.format} output cannot go to standard output: give a file name")
        for src in self.inputs:
            if _same(p, src):
                raise OutputError(f"{p} is the input file: write the output to another file")
        if os.path.isdir(p):
            raise OutputError(f"{p} is a folder: give a file name")
        self.existed = os.path.exists(p)
        d = os.path.dirname(os.path.abspath(p)) or "."
        if not os.path.isdir(d):
            raise OutputError(f"cannot write {p}: folder {os.path.dirname(p) or '.'} does not exist")
        try:
            fd, self._tmp = tempfile.mkstemp(prefix="." + os.path.basename(p) + ".", suffix=".part", dir=d)
        except OSError as exc:
            raise OutputError(f"cannot write {p}: {exc.strerror} (folder {d})") from None
        os.close(fd)

    def failed(self, rows: int) -> str:
        """What a failed or interrupted run leaves, for its message."""
        return f"nothing written, {self.path} is as it was" if self.existed else \
            f"nothing written, {self.path} was not created"

    def write(self, table) -> None:
        pa = require_pyarrow()
        self._check()
        if self._writer is None:
            if self.format == "parquet":
                import pyarrow.parquet as pq
                self._writer = pq.ParquetWriter(self._tmp, table.schema,
                                                use_dictionary=_dictionary_leaves(table.schema, self.PLAIN_COLUMNS))
            else:
                self._sink = pa.OSFile(self._tmp, "wb")
                self._writer = pa.ipc.new_file(self._sink, table.schema)
            self._schema = table.schema
        if table.schema != self._schema:
            table = _conform(table, self._schema)
        self.rows += table.num_rows
        if self.format != "parquet":
            self._put(table)
            return
        self._pending.append(table)
        self._pending_rows += table.num_rows
        if self._pending_rows >= self.ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            pa = require_pyarrow()
            table = self._pending[0] if len(self._pending) == 1 else pa.concat_tables(self._pending)
            self._pending, self._pending_rows = [], 0
            self._put(table)

    def _put(self, table) -> None:
        """Hand a table to the writing thread (started on the first), waiting while it is
        :attr:`QUEUE` tables behind."""
        if self._thread is None:
            import queue
            import threading
            self._queue = queue.Queue(self.QUEUE)
            self._thread = threading.Thread(target=self._run, name="grouper-arrow-writer", daemon=True)
            self._thread.start()
        self._queue.put(table)
        self._check()

    def _run(self) -> None:
        """The writing thread: each table in turn until None; after an error, the tables are
        taken and dropped (the caller sees the error at its next call)."""
        while True:
            table = self._queue.get()
            if table is None:
                return
            if self._error is None:
                try:
                    self._writer.write_table(table)
                except BaseException as exc:
                    self._error = exc

    def _check(self) -> None:
        if self._error is not None:
            exc, self._error = self._error, _Reported()
            if not isinstance(exc, _Reported):
                raise exc

    def _join(self) -> None:
        """Wait for the writing thread to have written every table handed to it."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def close(self, ok: bool = True) -> None:
        if self._tmp is None:
            return
        try:
            if not ok and self._error is None and self._thread is not None:
                self._error = _Reported()          # failed: what is still queued is not written
            if self._writer is None and ok:
                pa = require_pyarrow()
                self.write((self.schema or pa.schema([])).empty_table())
            if self._writer is not None:
                if ok:
                    self._flush()
                self._join()
                if ok:
                    self._check()
                self._writer.close()
                if self.format != "parquet":
                    self._sink.close()
        except BaseException:
            ok = False
            raise
        finally:
            self._join()
            if ok:
                os.replace(self._tmp, self.path)
            else:
                try:
                    os.unlink(self._tmp)
                except OSError:
                    pass
            self._tmp = None

    def __enter__(self):
        if self._tmp is None:
            self._open()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(ok=exc_type is None)
        return False


def _dictionary_leaves(schema, plain) -> list[str]:
    """The Parquet column paths of ``schema`` (``warnings.list.element.code`` ...) except those
    of the top-level columns ``plain``: what ``use_dictionary`` takes."""
    pa = require_pyarrow()
    import pyarrow.parquet as pq
    buf = pa.BufferOutputStream()
    pq.write_table(schema.empty_table(), buf)
    file = pq.ParquetFile(pa.BufferReader(buf.getvalue()))
    paths = [file.schema.column(i).path for i in range(len(file.schema))]
    return [p for p in paths if p.split(".")[0] not in plain]


class _Reported(Exception):
    """The writing thread's error, once raised in the caller's thread (later tables are dropped)."""


def _conform(table, schema):
    """``table`` with the columns of ``schema`` (a later chunk whose types Arrow inferred
    differently, e.g. a column all null in the first chunk): cast where the types differ."""
    pa = require_pyarrow()
    cols = []
    for field in schema:
        if field.name in table.column_names:
            col = table.column(field.name)
            cols.append(col if col.type == field.type else col.cast(field.type))
        else:
            cols.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(cols, schema=schema)


def _same(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


# ------------------------------------------------------------------ JSON lines, parsed by Arrow

#: fields whose absence the claim reads differently from a null (Claim.from_dict's defaults;
#: a missing "pdx" is the MISSING_PDX error): the value an absent key reads as
_DEFAULTS = {"pdx_poa": "Y", "admit_dx_poa": "Y", "hospital_status": "NOT_EXEMPT", "pdx": None}


@functools.cache
def _claim_fields() -> frozenset:
    """The keys of a claim mapping the grouper reads (:meth:`grouper.Claim.from_dict`)."""
    import attrs

    from ..reading import Claim
    return frozenset(f.name for f in attrs.fields(Claim))


@functools.cache
def _text_fields():
    import pyarrow as pa
    # dates stay text (Arrow would read "2024-01-15" as a timestamp)
    return pa.schema([(name, pa.string()) for name in ("discharge_date", "admission_date")])


def _plain_type(pa, t, top: bool) -> bool:
    """Whether a parsed column's type holds the JSON values exactly as ``json.loads`` gives them
    to the claim reader (text, integers, nulls, lists of those; ``sdx`` pairs as lists)."""
    if pa.types.is_string(t) or pa.types.is_null(t) or pa.types.is_int64(t):
        return True
    if pa.types.is_list(t):
        return _plain_type(pa, t.value_type, False)
    if pa.types.is_struct(t) and not top:
        return all(_plain_type(pa, f.type, False) for f in t)
    return False


def jsonl_table(block, *, max_line: int):
    """An Arrow table of a block of JSON lines (``(line number, raw bytes, 0)`` items, see
    :meth:`grouper.io.JsonlReader.blocks`) parsed by Arrow's JSON reader, and the line numbers;
    None when the block must be read line by line to read exactly as ``json.loads`` reads it:
    a line that is not an object, not UTF-8, an escape (``\\u``), a float or a value of
    another type than the rest of its column, a key absent where the claim reads absence
    differently from null (a missing ``pdx``, an ``sdx`` object without ``poa``), an
    over-long or blank line, or no pyarrow."""
    try:
        import pyarrow as pa
        import pyarrow.json as pj
    except ImportError:
        return None
    lines, raws = [], []
    for item in block:
        if not isinstance(item, tuple):
            return None
        n, raw, extra = item
        if extra or len(raw) > max_line or not raw.strip():
            return None
        lines.append(n)
        raws.append(raw if raw.endswith(b"\n") else raw + b"\n")
    if not raws:
        return None
    data = b"".join(raws)
    longest = max(map(len, raws))          # parsed in blocks of whole lines, on every core
    if b"\\u" in data:
        return None
    try:
        table = pj.read_json(pa.BufferReader(data),
                             read_options=pj.ReadOptions(block_size=max(1 << 20, 2 * longest), use_threads=True),
                             parse_options=pj.ParseOptions(newlines_in_values=False, explicit_schema=_text_fields(),
                                                           unexpected_field_behavior="infer"))
    except (pa.ArrowException, ValueError):
        return None
    if table.num_rows != len(lines):
        return None
    read = _claim_fields()                  # keys the claim reader ignores are left out, whatever their type
    table = table.select([name for name in table.column_names if name in read])
    if not all(_plain_type(pa, f.type, True) for f in table.schema):
        return None
    table = table.combine_chunks()
    if any(_struct_gap(pa, table.column(i)) for i in range(table.num_columns)):
        return None
    for name, default in _DEFAULTS.items():
        if name not in table.column_names:
            continue
        col = table.column(name)
        if not col.null_count:
            continue
        nulls = [i for i, v in enumerate(col.is_null().to_pylist()) if v]
        key = f'"{name}"'.encode()
        absent = [int(i) for i in nulls if key not in raws[i] or name not in _json_keys(raws[i])]
        if not absent:
            continue
        if default is None:
            return None
        vals = col.to_pylist()
        for i in absent:
            vals[i] = default
        table = table.set_column(table.column_names.index(name), name, pa.array(vals, col.type if
                                                                                 not pa.types.is_null(col.type)
                                                                                 else pa.string()))
    return table, lines


def _struct_gap(pa, col) -> bool:
    """Whether a list-of-objects column has an object without one of the keys (Arrow gives
    null, as for a null value; a ``{code}`` without ``poa`` reads as POA Y, a null as none)."""
    if not pa.types.is_list(col.type) or not pa.types.is_struct(col.type.value_type):
        return False
    import pyarrow.compute as pc
    items = pc.list_flatten(col)
    if isinstance(items, pa.ChunkedArray):
        items = items.combine_chunks()
    return any(items.field(k).null_count for k in range(items.type.num_fields))


def _json_keys(raw: bytes):
    import json
    try:
        obj = json.loads(raw)
    except ValueError:
        return ()
    return obj if isinstance(obj, dict) else ()


# ------------------------------------------------------------------ the command's memory pool


@functools.cache
def command_memory_pool() -> None:
    """In the process of ``python -m grouper`` only: Arrow's memory from its jemalloc pool (else
    the system's) instead of the default mimalloc, which keeps what a chunk freed (about 90 MB
    more at the peak of a Parquet -> Parquet run, and more time in the kernel).  Nothing when
    the command runs inside another program (its pool is that program's choice) or when
    ``ARROW_DEFAULT_MEMORY_POOL`` chooses one."""
    import sys
    main = sys.modules.get("__main__")
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL") or \
            getattr(getattr(main, "__spec__", None), "name", None) != "grouper.__main__":
        return
    pa = require_pyarrow()
    for make in (getattr(pa, "jemalloc_memory_pool", None), getattr(pa, "system_memory_pool", None)):
        if make is None:
            continue
        try:
            pa.set_memory_pool(make())
            return
        except (NotImplementedError, pa.ArrowException):      # not in this build of pyarrow
            continue


# ------------------------------------------------------------------ pyarrow without pandas


class _NoPandas:
    """A module finder that says pandas is not installed (see :func:`without_pandas_probe`)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "pandas":
            raise ModuleNotFoundError("pandas is not used here", name=name)
        return None


def without_pandas_probe() -> None:
    """Spare a process that uses no pandas the import of it (0.2-0.3 s): pyarrow imports
    pandas the first time it converts Python values (``pa.array``, ``pa.table``), to check
    whether they are pandas objects.  Made to fail once, that check takes "no pandas" for
    the values it is given; explicit conversions (``to_pandas``, ``Table.from_pandas``) still
    import pandas when they are called.  Only in the process of ``python -m grouper``, which
    gives pyarrow no pandas objects (not when the command runs inside another program); does
    nothing when pandas is already imported or pyarrow is missing."""
    import sys
    main = sys.modules.get("__main__")
    if "pandas" in sys.modules or getattr(getattr(main, "__spec__", None), "name", None) != "grouper.__main__":
        return                                 # pandas there already, or not the command's own process
    try:
        import pyarrow as pa
    except ImportError:
        return
    sys.meta_path.insert(0, _NoPandas)
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(_NoPandas)
