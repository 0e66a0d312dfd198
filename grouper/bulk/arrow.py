"""The reading stage for Arrow columns: an Arrow table -> :class:`~grouper.bulk.columns.Columns`,
a whole column at a time.

The schema is the JSON-lines one (``docs/columnar.md``): ``pdx``, ``pdx_poa``, ``sdx`` as
``list<struct<code: string, poa: string>>`` (also accepted: ``list<string>`` of bare codes,
POA Y, and ``list<list<string>>`` of ``[code, poa]`` pairs, as JSON lines give them),
``procedures`` as ``list<string>`` (or ``list<struct<code>>``), ``version`` or
``discharge_date`` (text, number, date), ``sex``, ``discharge_status``, ``hospital_status``,
``admit_dx``, ``id``.  A table in the wide layout (``DX1``, ``POA1``, ``PX1`` ...) is first
turned into that schema with the CSV column mapping (:func:`wide_to_schema`).

Every value is read by the reading stage's own functions (:mod:`grouper.reading.values`,
:func:`grouper.reading.stage.resolve_version`), applied once per *distinct* value of a
column (Arrow dictionary encoding) instead of once per row; codes are looked up once per
distinct spelling.  A row reads exactly as :func:`grouper.group` reads the same row as
Python values (``table.to_pylist()``); rows that cannot be grouped carry their
:class:`~grouper.ClaimError`.  Columns of a type the reading stage cannot take whole
(e.g. an ``sdx`` column of mixed JSON) make :func:`columns_from_arrow` return None, and
the caller reads the rows one by one.

Needs ``pyarrow`` (the ``arrow`` extra); :func:`require_pyarrow` says how to install it.
"""
from __future__ import annotations

import numpy as np

from ..engine.hac import POA_CLASS, PoaClass
from ..reading.columns import HOSPITAL_CODE, NO_STATUS
from ..reading.errors import ClaimError
from ..reading.layout import Layout, code_cell, is_blank, looks_wide, poa_cell, read_scalar
from ..reading.stage import check_pdx, resolve_version
from ..reading.values import POA_BLANK, read_code, read_discharge_status, read_hospital_status, read_poa, read_sex
from .columns import Columns

INSTALL_HINT = "pip install 'grouper[arrow]' (or pip install pyarrow)"


def require_pyarrow():
    """The pyarrow module; an ImportError saying how to install it when it is missing."""
    try:
        import pyarrow
    except ImportError:
        raise ImportError(f"Arrow and Parquet need pyarrow, which is not installed: {INSTALL_HINT}") from None
    return pyarrow


def as_arrow(data, columns=None):
    """An Arrow table from an Arrow table or record batch, a pandas or polars DataFrame (in the
    JSON-lines schema or the wide layout, see :func:`wide_to_schema`); None for anything else,
    or when pyarrow is missing or the DataFrame's columns do not convert (mixed types)."""
    mod = type(data).__module__
    if not mod.startswith(("pyarrow", "pandas", "polars")):
        return None
    try:
        import pyarrow as pa
    except ImportError:
        return None
    try:
        if isinstance(data, pa.RecordBatch):
            table = pa.Table.from_batches([data])
        elif isinstance(data, pa.Table):
            table = data
        elif mod.startswith("pandas") and hasattr(data, "columns"):
            table = pa.Table.from_pandas(data, preserve_index=False)
        elif mod.startswith("polars") and hasattr(data, "to_arrow"):
            table = data.to_arrow()
        else:
            return None
    except (pa.ArrowException, TypeError, ValueError):
        return None
    if columns is not None or looks_wide(table.column_names):
        table = wide_to_schema(table, columns)
    return table


# ------------------------------------------------------------------ one value per distinct value


def _pc():
    import pyarrow.compute as pc
    return pc


def plain_array(arr):
    """A combined, non-dictionary array."""
    pa = require_pyarrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    return arr


_NP_TYPES = {"int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64, "uint8": np.uint8,
             "uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64, "float": np.float32,
             "double": np.float64}


def to_np(arr, fill=None) -> np.ndarray:
    """A primitive Arrow array (booleans, integers, floats) as a numpy array read from its
    buffers, nulls as ``fill`` (pyarrow's own ``to_numpy`` and ``fill_null`` import pandas when
    it is installed: seconds for a short run)."""
    pa = require_pyarrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    n, off = len(arr), arr.offset
    if n == 0:
        return np.zeros(0, dtype=bool if pa.types.is_boolean(arr.type) else _NP_TYPES.get(str(arr.type), np.int64))
    buf = arr.buffers()[1]
    if pa.types.is_boolean(arr.type):
        out = np.unpackbits(np.frombuffer(buf, dtype=np.uint8), bitorder="little")[off:off + n].astype(bool)
    else:
        out = np.frombuffer(buf, dtype=_NP_TYPES[str(arr.type)])[off:off + n]
    if arr.null_count:
        if fill is None:
            raise ValueError("to_np: the array has nulls and no fill value")
        valid = np.unpackbits(np.frombuffer(arr.buffers()[0], dtype=np.uint8), bitorder="little")[off:off + n]
        out = out.copy()
        out[valid == 0] = fill
    return out


class Encoded:
    """A column as its distinct values (Python values, as ``to_pylist`` gives them; the last
    one None, for the nulls) and each row's position among them."""

    def __init__(self, arr):
        pa = require_pyarrow()
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
        n = len(arr)
        if arr.null_count == n or pa.types.is_null(arr.type):
            self.values, self.index = [None], np.zeros(n, dtype=np.int64)
            return
        # a dictionary-encoded column (e.g. read so from Parquet) is taken as it is when its
        # dictionary is short (POAs, sex: it may hold values no row has, which are then simply
        # not used); else encoded afresh (the row group's codes, or a few rows taken from it)
        if pa.types.is_dictionary(arr.type):
            enc = arr if len(arr.dictionary) <= n // 8 else _pc().dictionary_encode(arr.dictionary_decode())
        else:
            enc = _pc().dictionary_encode(arr)
        self.values = enc.dictionary.to_pylist() + [None]
        self.index = to_np(enc.indices, len(self.values) - 1).astype(np.int64)

    def map(self, fn, dtype=object) -> np.ndarray:
        """``fn(value)`` for every row, computed once per distinct value."""
        lut = np.empty(len(self.values), dtype=dtype)
        for k, v in enumerate(self.values):
            lut[k] = fn(v)
        return lut[self.index]


def per_value(arr, fn, dtype=object) -> np.ndarray:
    """``fn(value)`` for every row of ``arr`` (Python values, as ``to_pylist`` gives them; None
    for a null), computed once per distinct value, as a numpy array of ``dtype``."""
    return Encoded(arr).map(fn, dtype)


def _poa_class_of(raw) -> int:
    return POA_CLASS.get(read_poa(raw), PoaClass.OTHER)


def _fill(n: int, value, dtype=object) -> np.ndarray:
    out = np.empty(n, dtype=dtype)
    out.fill(value)
    return out


def _codes_as_read(arr):
    """A code column as the grouper reads it (:func:`grouper.reading.values.read_code`): text
    as written, any other value as its text; nulls stay null (read as the code ``"null"``)."""
    pa = require_pyarrow()
    arr = plain_array(arr)
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return arr
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), pa.string())
    read = per_value(arr, lambda v: None if v is None else read_code(v))
    return pa.array(read.tolist(), type=pa.string())


def code_ids(codes, tables, kind: str, slot: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The id of every code of a string column (or a dictionary-encoded one) in the code
    universe of ``tables`` (``kind`` "dx" or "pr"; -1: in no version; null: the code "null"),
    and whether the exact spelling was found.  Each distinct spelling is looked up once
    (:func:`spelling_ids`); a dictionary-encoded column (Parquet read with dictionaries) is
    looked up once per dictionary, which the batches of a row group share (``slot`` names the
    column, e.g. "sdx", whose last dictionary is kept)."""
    pa = require_pyarrow()
    n = len(codes)
    if n == 0 or codes.null_count == n:
        return np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=bool)
    if pa.types.is_dictionary(codes.type) and _is_text(codes.type.value_type):
        spellings, indices = codes.dictionary, codes.indices
        lut, exact_lut = _dictionary_ids(spellings, tables, kind, slot or kind)
    else:
        if not pa.types.is_string(codes.type):
            codes = codes.cast(pa.string())
        enc = _pc().dictionary_encode(codes)
        spellings, indices = enc.dictionary, enc.indices
        lut, exact_lut = spelling_ids(spellings, tables, kind)
    at = to_np(indices, len(spellings))                    # a null: the last entry, no code
    return lut[at], exact_lut[at]


def spelling_ids(spellings, tables, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """For distinct spellings (a string array): each one's code id (-1: in no version) and
    whether it was found as spelled, plus a last entry (-1, False) for a null.  Found by
    Arrow's hashing -- the universe looked up in the hash of the spellings, which is small,
    rather than the reverse, which would hash the whole universe each time; a spelling not
    found is looked up with :func:`grouper.bulk.columns.code_id` (upper-cased, as CMS reads)."""
    pa = require_pyarrow()
    if not pa.types.is_string(spellings.type):
        spellings = spellings.cast(pa.string())
    # per code id: the position of its spelling (-1: not among them)
    where = to_np(_pc().index_in(code_universe(tables, kind), value_set=spellings), -1)
    found = np.flatnonzero(where >= 0)
    lut = np.full(len(spellings) + 1, -1, dtype=np.int64)
    lut[where[found]] = found
    exact_lut = lut >= 0
    missed = np.flatnonzero(~exact_lut[:-1])
    if len(missed):                             # not as spelled: upper case, as CMS reads
        find = code_finder(tables, kind)
        for k, v in zip(missed.tolist(), spellings.take(pa.array(missed)).to_pylist()):
            if type(v) is str and v.upper() != v:
                got = find(v.upper())
                if got is not None:
                    lut[k] = got
    return lut, exact_lut


def code_universe(tables, kind: str):
    """The code universe of ``tables`` ("dx" or "pr") as an Arrow string array (position: id)."""
    pa = require_pyarrow()
    return tables.cached(("arrow_codes", kind), lambda: pa.array(tables.dx_codes if kind == "dx"
                                                                  else tables.pr_codes, pa.string()))


def code_finder(tables, kind: str):
    """The tables' look-up of one code as spelled ("dx" or "pr"; None when in no version),
    which searches the code text rather than building the index of every code for a few."""
    return tables.dx_id if kind == "dx" else tables.pr_id


def _dictionary_ids(dictionary, tables, kind: str, slot: str):
    """:func:`spelling_ids` of a dictionary, kept for the next batch of the same row group
    (one per column ``slot``; its dictionary is equal, compared byte for byte)."""
    last = tables.cached(("arrow_last_dictionary", kind, slot), dict)
    got = last.get("ids")                       # (dictionary, lut, exact), replaced whole
    if got is not None and len(got[0]) == len(dictionary) and got[0].equals(dictionary):
        return got[1], got[2]
    lut, exact = spelling_ids(dictionary, tables, kind)
    last["ids"] = (dictionary, lut, exact)
    return lut, exact


# ------------------------------------------------------------------ code lists


def _offsets(lists) -> np.ndarray:
    """CSR offsets of a list column (a null list has no items)."""
    lengths = to_np(_pc().list_value_length(lists), 0)
    off = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum(lengths, out=off[1:])
    return off


class CodeList:
    """A code-list column (``sdx`` or ``procedures``) as read: ``codes`` (text as written; null
    for a missing code, read as "null"), CSR ``off``; for diagnoses the POA as read, its
    HAC/POA class, and the POA as given (``poa_raw``, Y where ``poa_given`` is false).
    ``text`` is false when the codes were not all text (read with ``read_code``).  ``source``:
    the same codes dictionary-encoded when they came so (Parquet), for :func:`code_ids`."""

    def __init__(self, codes, off, text=True, poa_raw=None, poa_given=None, source=None):
        self.codes, self.off, self.text = codes, off, text
        self.source = codes if source is None else source
        m = len(codes)
        self.poa_raw, self.poa_given = poa_raw, poa_given
        self.poa_enc = None            # the POA as given, encoded (for the warnings)
        if poa_raw is None:
            self.poa_read, self.poa_class = _fill(m, "Y"), np.full(m, POA_CLASS["Y"], dtype=np.int8)
        else:
            enc = self.poa_enc = Encoded(poa_raw)
            self.poa_read, self.poa_class = enc.map(read_poa), enc.map(_poa_class_of, np.int8)
            if poa_given is not None and not poa_given.all():
                self.poa_read[~poa_given] = "Y"
                self.poa_class[~poa_given] = POA_CLASS["Y"]

    @classmethod
    def empty(cls, n: int) -> CodeList:
        return cls(require_pyarrow().nulls(0, require_pyarrow().string()), np.zeros(n + 1, dtype=np.int64))


def _is_text(t) -> bool:
    pa = require_pyarrow()
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def one_chunk(arr):
    """An array of one chunk (as it is: dictionary-encoded or not)."""
    pa = require_pyarrow()
    if isinstance(arr, pa.ChunkedArray):
        return arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr


def text_dictionary(arr):
    """``arr`` (combined) when it is a dictionary-encoded text column, else None."""
    pa = require_pyarrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if pa.types.is_dictionary(arr.type) and _is_text(arr.type.value_type):
        return arr
    return None


def _read_sdx(lists) -> CodeList | None:
    """An ``sdx`` column as read; None for an item type the reading stage does not take a
    column at a time."""
    pa = require_pyarrow()
    pc = _pc()
    n = len(lists)
    if pa.types.is_null(lists.type):
        return CodeList.empty(n)
    if not (pa.types.is_list(lists.type) or pa.types.is_large_list(lists.type)):
        return None
    off = _offsets(lists)
    flat = plain_array(pc.list_flatten(lists))
    t = flat.type
    m = len(flat)
    if pa.types.is_struct(t):
        names = [t.field(i).name for i in range(t.num_fields)]
        if "code" not in names:
            return None
        valid = to_np(flat.is_valid())      # a null item reads as code null, POA Y
        given = pc.struct_field(flat, "code")
        source = text_dictionary(given)
        if source is not None and valid.all():      # the codes stay dictionary-encoded (not decoded)
            codes, text = source, True
        else:
            raw = plain_array(given)
            codes = _codes_as_read(raw)
            if not valid.all():
                codes = pc.if_else(pa.array(valid), codes, pa.nulls(m, codes.type))
                source = None
            text = _is_text(raw.type) or pa.types.is_null(raw.type)
        if "poa" in names:
            return CodeList(codes, off, text, pc.struct_field(flat, "poa"), valid, source)
        return CodeList(codes, off, text, source=source)     # {"code": c}: POA Y
    if _is_text(t) or pa.types.is_null(t):                   # bare codes: POA Y
        return CodeList(_codes_as_read(flat), off)
    if pa.types.is_list(t) or pa.types.is_large_list(t):      # [code, poa] pairs
        inner = _offsets(flat)
        lengths = np.diff(inner)
        values = plain_array(pc.list_flatten(flat))
        if not (_is_text(values.type) or pa.types.is_null(values.type)):
            return None
        values = _codes_as_read(values)
        has_code, has_poa = lengths >= 1, lengths >= 2
        code_at = np.where(has_code, inner[:-1], 0)
        codes = values.take(pa.array(code_at)) if len(values) else pa.nulls(m, pa.string())
        if not has_code.all():
            codes = pc.if_else(pa.array(has_code), codes, pa.nulls(m, pa.string()))
        poa_at = np.where(has_poa, inner[:-1] + 1, 0)
        poa_raw = values.take(pa.array(poa_at)) if len(values) else pa.nulls(m, pa.string())
        return CodeList(codes, off, True, poa_raw, has_poa)   # [code] or a null item: POA Y
    return None


def _read_procedures(lists) -> CodeList | None:
    """A ``procedures`` column as read; None for an item type not taken whole."""
    pa = require_pyarrow()
    pc = _pc()
    n = len(lists)
    if pa.types.is_null(lists.type):
        return CodeList.empty(n)
    if not (pa.types.is_list(lists.type) or pa.types.is_large_list(lists.type)):
        return None
    off = _offsets(lists)
    given = pc.list_flatten(lists)
    source = text_dictionary(given)
    if source is not None:                  # dictionary-encoded text: kept so (not decoded)
        return CodeList(source, off, True, source=source)
    flat = plain_array(given)
    if pa.types.is_struct(flat.type):
        if flat.type.get_field_index("code") < 0:
            return None
        valid = flat.is_valid()
        raw = plain_array(pc.struct_field(flat, "code"))
        codes = _codes_as_read(raw)
        return CodeList(pc.if_else(valid, codes, pa.nulls(len(flat), codes.type)), off,
                        _is_text(raw.type) or pa.types.is_null(raw.type))
    if pa.types.is_list(flat.type) or pa.types.is_large_list(flat.type) or pa.types.is_map(flat.type):
        return None
    return CodeList(_codes_as_read(flat), off, _is_text(flat.type) or pa.types.is_null(flat.type))


# ------------------------------------------------------------------ the table


def _status_code(x) -> int:
    d = read_discharge_status(x)
    return NO_STATUS if d is None else d


def _hospital_code(x) -> int:
    return HOSPITAL_CODE[read_hospital_status(x)]


def _pdx_problem(v):
    """The ClaimError of a principal diagnosis that is not text (None when it reads)."""
    try:
        check_pdx(v)
    except ClaimError as exc:
        return exc
    return None


def columns_from_arrow(table, *, version=None, tables=None) -> Columns | None:
    """Claims of an Arrow table (or record batch) in the JSON-lines schema as :class:`Columns`,
    read a whole column at a time; None when a column's type cannot be read that way (the
    caller then reads the rows one by one, e.g. with ``Columns.from_records(table.to_pylist())``)."""
    pa = require_pyarrow()
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    if tables is None:
        from ..tables import default
        tables = default()
    ts = tables
    n = table.num_rows
    names = set(table.column_names)

    def column(name):
        return plain_array(table.column(name)) if name in names else None

    def encoded(name):             # as given (dictionary-encoded or not), for per_value
        return one_chunk(table.column(name)) if name in names else None

    col = Columns(n)
    col.tables = ts
    col.arrow = table
    errors = [None] * n

    # principal diagnosis: text (or null: the code "null", POA blank); anything else PDX_NOT_TEXT
    # (a dictionary-encoded column is not decoded: its dictionary is what is read)
    pdx_source = text_dictionary(table.column("pdx")) if "pdx" in names else None
    pdx = pdx_source if pdx_source is not None else column("pdx")
    col.pdx_text = True            # the principal diagnoses are text (or null) as given
    if pdx is None:
        missing = ClaimError("MISSING_PDX", "pdx", None, "the claim has no 'pdx' field")
        errors = [missing] * n
        pdx = pa.nulls(n, pa.string())
    elif pdx_source is None and not (pa.types.is_string(pdx.type) or pa.types.is_large_string(pdx.type)
                                     or pa.types.is_null(pdx.type)):
        problems = per_value(pdx, _pdx_problem)
        errors = [e if e is not None else errors[i] for i, e in enumerate(problems.tolist())]
        pdx = _codes_as_read(pdx)
        col.pdx_text = False
    if pdx_source is not None:           # the principal diagnoses stay dictionary-encoded
        pdx = pdx_source
    pdx_null = to_np(pdx.is_null())

    sdx = column("sdx")
    sdx = _read_sdx(sdx) if sdx is not None else CodeList.empty(n)
    procs = column("procedures")
    procs = _read_procedures(procs) if procs is not None else CodeList.empty(n)
    if sdx is None or procs is None:
        return None

    # the grouper version: once per distinct (version, discharge date)
    if version is not None:
        try:
            v = resolve_version(ts, override=version)
            versions = np.full(n, v, dtype=np.int32)
        except ClaimError as exc:
            versions = np.full(n, -1, dtype=np.int32)
            errors = [e if e is not None else exc for e in errors]
    else:
        vcol, dcol = column("version"), column("discharge_date")
        keys = []
        for c in (vcol, dcol):
            if c is None:
                keys.append((np.zeros(n, dtype=np.int64), [None]))
            elif c.null_count == n or pa.types.is_null(c.type):
                keys.append((np.zeros(n, dtype=np.int64), [None]))
            else:
                enc = _pc().dictionary_encode(c)
                vals = enc.dictionary.to_pylist() + [None]
                keys.append((to_np(enc.indices, len(vals) - 1).astype(np.int64),
                             vals))
        (vi, vvals), (di, dvals) = keys
        pair = vi * len(dvals) + di
        uniq, inv = np.unique(pair, return_inverse=True)
        resolved = np.full(len(uniq), -1, dtype=np.int32)
        problems = [None] * len(uniq)
        for k, p in enumerate(uniq.tolist()):
            try:
                resolved[k] = resolve_version(ts, vvals[p // len(dvals)], dvals[p % len(dvals)])
            except ClaimError as exc:
                problems[k] = exc
        inv = inv.ravel()
        versions = resolved[inv]
        for k in np.flatnonzero(versions < 0).tolist():
            if errors[k] is None:
                errors[k] = problems[inv[k]]

    # claim-level values, once per distinct value with the reading stage's functions
    sex = encoded("sex")
    ds = encoded("discharge_status")
    hs = encoded("hospital_status")
    pp = encoded("pdx_poa")
    adx = encoded("admit_dx")
    col.sex = per_value(sex, read_sex, np.int8) if sex is not None else np.full(n, read_sex(None), np.int8)
    col.dstat = per_value(ds, _status_code, np.int16) if ds is not None else np.full(n, NO_STATUS, np.int16)
    col.hospital = (per_value(hs, _hospital_code, np.int8) if hs is not None
                    else np.full(n, _hospital_code("NOT_EXEMPT"), np.int8))
    pdx_poa = per_value(pp, read_poa) if pp is not None else _fill(n, "Y")
    pdx_poa[pdx_null] = POA_BLANK
    col.pdx_poa = pdx_poa
    col.admit_dx = (per_value(adx, lambda x: None if x is None else (x if type(x) is str else read_code(x)))
                    if adx is not None else _fill(n, None))
    col.id = column("id") if "id" in names else pa.nulls(n)

    col.pdx, col.sdx_codes, col.sdx_poa, col.sdx_off = pdx, sdx.codes, sdx.poa_read, sdx.off
    col.pr_codes, col.pr_off = procs.codes, procs.off
    col.code_lists = (sdx, procs)
    col.error = errors
    col.error_rows = [] if errors.count(None) == n else [i for i, e in enumerate(errors) if e is not None]
    versions = versions.astype(np.int32)
    if col.error_rows:
        versions[col.error_rows] = -1
    col.version = versions
    found = (code_ids(pdx if pdx_source is None else pdx_source, ts, "dx", "pdx"),
             code_ids(sdx.source, ts, "dx", "sdx"), code_ids(procs.source, ts, "pr", "procedures"))
    col._ids = tuple(f[0] for f in found)
    col.exact = tuple(f[1] for f in found)          # spelled exactly as the tables (for the warnings)
    col._poa_class = sdx.poa_class
    return col


# ------------------------------------------------------------------ the wide layout


def wide_to_schema(table, columns=None):
    """A wide table (``DX1``, ``POA1``, ``PX1`` ... columns, mapped like a CSV file's with
    ``columns``: a :class:`~grouper.reading.layout.Layout`, a ``{field: column}`` dict,
    ``["pr=PX{n}", ...]`` or a preset name) in the JSON-lines schema: the same claim per row as
    :meth:`grouper.reading.layout.BoundLayout.claim` gives, built a column at a time.  Columns
    no field reads are kept as they are."""
    pa = require_pyarrow()
    layout = Layout.of(columns)
    header = table.column_names
    bound = layout.bind(header)
    n = table.num_rows
    cells = _WideCells(table)

    out = {}
    for f, i in bound.scalar.items():
        if f in ("pdx", "pdx_poa", "principal_pr"):
            continue
        out[f] = cells.scalar(i, f, layout)
    dx, poa = bound.indexed["dx"], bound.indexed["poa"]
    numbered = sorted(dx)
    if "pdx" in bound.scalar:
        pdx_i, pdx_poa_i = bound.scalar["pdx"], bound.scalar.get("pdx_poa")
        has_pdx_poa = pdx_poa_i is not None
    else:
        first = numbered[0]
        pdx_i, pdx_poa_i = dx[first], poa.get(first)
        has_pdx_poa = pdx_poa_i is not None
        numbered = numbered[1:]
    out["pdx"] = pa.array(cells.code(pdx_i).tolist(), type=pa.string())
    out["pdx_poa"] = pa.array(cells.poa(pdx_poa_i).tolist() if has_pdx_poa else ["Y"] * n, type=pa.string())
    # secondary diagnoses: the non-blank numbered columns of each row, in number order
    if numbered:
        codes = np.stack([cells.code(dx[k]) for k in numbered], axis=1)
        keep = ~np.stack([cells.blank(dx[k]) for k in numbered], axis=1)
        poas = np.stack([cells.poa(poa[k]) if k in poa else _fill(n, "Y") for k in numbered], axis=1)
        off = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(keep.sum(axis=1), out=off[1:])
        items = pa.StructArray.from_arrays([pa.array(codes[keep].tolist(), type=pa.string()),
                                            pa.array(poas[keep].tolist(), type=pa.string())], names=["code", "poa"])
        out["sdx"] = pa.ListArray.from_arrays(pa.array(off), items)
    else:
        out["sdx"] = pa.ListArray.from_arrays(pa.array(np.zeros(n + 1, dtype=np.int32)),
                                              pa.StructArray.from_arrays([pa.array([], pa.string())] * 2,
                                                                         names=["code", "poa"]))
    pr = bound.indexed["pr"]
    pcols = ([bound.scalar["principal_pr"]] if "principal_pr" in bound.scalar else []) + [pr[k] for k in sorted(pr)]
    if pcols:
        codes = np.stack([cells.code(i) for i in pcols], axis=1)
        keep = ~np.stack([cells.blank(i) for i in pcols], axis=1)
        off = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(keep.sum(axis=1), out=off[1:])
        out["procedures"] = pa.ListArray.from_arrays(pa.array(off), pa.array(codes[keep].tolist(), type=pa.string()))
    else:
        out["procedures"] = pa.ListArray.from_arrays(pa.array(np.zeros(n + 1, dtype=np.int32)),
                                                     pa.array([], pa.string()))
    for i in bound.unused:                       # columns no field reads: kept as they are
        name = header[i]
        if name not in out:
            out[name] = table.column(i)
    return pa.table(out)


class _WideCells:
    """The cells of a wide table's columns read as :meth:`BoundLayout.claim` reads one row's
    values, once per distinct value of each column."""

    def __init__(self, table):
        self.table = table
        self._cache: dict = {}

    def _per(self, i: int, key: str, fn):
        got = self._cache.get((i, key))
        if got is None:
            got = self._cache[(i, key)] = per_value(plain_array(self.table.column(i)), fn)
        return got

    def blank(self, i: int) -> np.ndarray:
        return self._per(i, "blank", is_blank).astype(bool)

    def code(self, i: int) -> np.ndarray:
        return self._per(i, "code", code_cell)

    def poa(self, i: int) -> np.ndarray:
        return self._per(i, "poa", poa_cell)

    def scalar(self, i: int, field: str, layout: Layout):
        """A scalar field's column as the claim dicts hold it (blank cells absent: null)."""
        pa = require_pyarrow()
        vals = self._per(i, "scalar:" + field, lambda v: read_scalar(field, v, layout.date_format))
        try:
            return pa.array(vals.tolist())
        except (pa.ArrowException, TypeError, ValueError):       # mixed values: as text
            return pa.array([None if v is None else str(v) for v in vals.tolist()], type=pa.string())


# ------------------------------------------------------------------ claim mappings -> Arrow


def _sdx_item(d):
    """A secondary diagnosis of a claim mapping as ``{code, poa}`` (no POA given: Y, as the grouper
    reads it)."""
    if isinstance(d, dict):
        return {"code": _text(d.get("code")), "poa": _text(d.get("poa", "Y"))}
    if isinstance(d, (list, tuple)):
        return {"code": _text(d[0]) if len(d) > 0 else None, "poa": _text(d[1]) if len(d) > 1 else "Y"}
    return {"code": _text(d), "poa": "Y"}


def _text(v):
    return v if v is None or type(v) is str else str(v)


def claims_table(claims):
    """Claim mappings (the JSON-lines schema) as an Arrow table in the documented schema: ``sdx``
    as ``list<struct<code: string, poa: string>>`` (a bare code or ``[code]`` pair gets POA Y,
    as the grouper reads it), ``procedures`` as ``list<string>``, each other field as Arrow infers it
    from its values, or as text when they are of mixed types (e.g. ``discharge_status`` 1 and
    "01").  For writing claims to Parquet; a claim reads from the table as from its mapping
    except where a value became text."""
    pa = require_pyarrow()
    claims = list(claims)
    names: dict = {}
    for c in claims:
        names.update(dict.fromkeys(c))
    cols = {}
    sdx_type = pa.list_(pa.struct([("code", pa.string()), ("poa", pa.string())]))
    for name in names:
        vals = [c.get(name) for c in claims]
        if name == "sdx":
            cols[name] = pa.array([None if v is None else [_sdx_item(d) for d in v] for v in vals], sdx_type)
        elif name == "procedures":
            cols[name] = pa.array([None if v is None else [_text(p.get("code") if isinstance(p, dict) else p)
                                                           for p in v] for v in vals], pa.list_(pa.string()))
        else:
            try:
                cols[name] = pa.array(vals)
            except (pa.ArrowException, TypeError, ValueError):
                cols[name] = pa.array([_text(v) if not isinstance(v, (dict, list)) else json_text(v) for v in vals],
                                      pa.string())
    return pa.table(cols) if cols else pa.table({"pdx": pa.nulls(len(claims), pa.string())})


def json_text(v) -> str:
    import json
    return json.dumps(v, separators=(",", ":"))
