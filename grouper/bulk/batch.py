"""Group many claims at once: columnar in, columnar out.

    >>> import grouper
    >>> out = grouper.group_batch([{"version": 431, "pdx": "I5022", "sdx": [["J9601", "Y"]]},
    ...                            {"discharge_date": "2024-01-15", "pdx": "I5020"}])
    >>> out.final_drg.tolist(), out.weight.tolist()
    ([291, 293], [1.2838, 0.5615])

Input: a list (or any iterable) of claim mappings in the JSON-lines schema or
:class:`grouper.Claim` objects, a dict of columns (:meth:`Columns.from_arrays`),
a pandas DataFrame or an Arrow table (optional extras).  Output: a
:class:`BatchResult` whose columns are numpy arrays aligned row for row with
the input; rows that cannot be grouped carry an error code instead of a DRG.
The results are identical to :func:`grouper.group` on every claim (tests check
this); per-code flags are computed on request (``details=True``), by the
per-claim engine.
"""
from __future__ import annotations

import gc
import warnings

import numpy as np

from ..engine.compiled import compiled
from ..reading import conversion_warnings, version_warnings
from ..reading.columns import records_of
from ..tables import default as _default_tables
from .arrow import as_arrow, columns_from_arrow
from .columns import Columns
from .vector import drg_weights, group_vectors, objects, vector_tables

COLUMNS = ("id", "version", "initial_drg", "initial_mdc", "final_drg", "final_mdc", "return_code",
           "initial_return_code", "initial_base_drg", "final_base_drg", "initial_med_surg", "final_med_surg",
           "initial_severity", "final_severity", "initial_claim_severity", "final_claim_severity", "hac_status",
           "num_hac_categories_satisfied", "weight", "gmlos", "amlos", "initial_drg_description",
           "final_drg_description", "error", "error_message")


class BatchResult:
    """Columns aligned with the input rows (numpy arrays; object arrays for text)."""

    def __init__(self, columns: dict, details=None, codes: dict | None = None):
        for k, v in columns.items():
            setattr(self, k, v)
        self.columns = tuple(columns)
        self.details = details          # list of grouper.Result (details=True), else None
        #: text columns also as integer codes, when grouped so: ``{name: (codes, texts)}``, the
        #: value of row ``i`` being ``texts[codes[i]]``, or where ``codes[i]`` is -1 the text
        #: column's own (rows not grouped by the vector core: errors, formed clusters ...)
        self.codes = codes or {}

    def __len__(self):
        return len(self.final_drg)

    def __getitem__(self, i) -> dict:
        return {k: _py(getattr(self, k)[i]) for k in self.columns}

    def to_records(self) -> list[dict]:
        return [self[i] for i in range(len(self))]

    def to_pandas(self):
        import pandas as pd
        return pd.DataFrame({k: getattr(self, k) for k in self.columns})


def _py(v):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v != v:
        return None
    return v


# Claims are read and grouped in chunks: the arrays of a chunk stay in the processor's
# caches, and memory is bounded by the chunk, not the batch.
CHUNK = 50_000


def group_batch(claims, *, version=None, tables=None, details: bool = False, columns=None,
                convert_codes: bool = False) -> BatchResult:
    """Group many claims; results identical to :func:`grouper.group`, row for row.

    ``convert_codes`` converts each claim's codes to the code set of the version used, as
    :func:`grouper.group` does; the result then has a ``conversions`` column: per row the
    CODE_CONVERSION warnings (dicts) of its codes.

    A table in the wide layout (a DataFrame, Arrow table, dict of columns or list of row dicts
    with ``DX1``, ``POA1``, ``PX1`` ... columns instead of ``pdx``/``sdx`` lists) is read with
    the column mapping of the CSV files (:mod:`grouper.reading.layout`): ``columns`` is a
    :class:`~grouper.reading.layout.Layout`, a ``{field: column}`` dict, ``["pr=PX{n}", ...]`` or a
    preset name (``"ub04"``);
    the default layout (``dx{n}``, ``poa{n}``, ``pr{n}`` ..., any case) is used when the
    columns look wide.  A mapped column that is missing raises
    :class:`~grouper.reading.layout.LayoutError` naming it."""
    # The cyclic garbage collector would repeatedly walk every object the caller holds
    # (a million claim dicts cost seconds); nothing here makes reference cycles.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        out = _group_batch(claims, version, tables, details, columns, convert_codes)
    finally:
        if was_enabled:
            gc.enable()
    _warn_missing_weights(out, tables or _default_tables())
    return out


class WeightsUnavailableWarning(UserWarning):
    """Rows grouped under a version whose fiscal year has no Table 5 in the tables: their
    weight, GMLOS and AMLOS are NaN (each claim's WEIGHTS_UNAVAILABLE warning, for a batch)."""


def _warn_missing_weights(out: BatchResult, ts) -> None:
    """One UserWarning per grouper version whose fiscal year has no Table 5 in the tables (the
    claims' WEIGHTS_UNAVAILABLE warning, with the number of rows): their weight, GMLOS and
    AMLOS are NaN."""
    grouped = np.equal(out.error, None)
    for v in np.unique(out.version[grouped]).tolist():
        for w in version_warnings(int(v), ts):
            n = int((grouped & (out.version == v)).sum())
            warnings.warn(f"group_batch: {n:,} row{'s' if n != 1 else ''}: {w.message}", WeightsUnavailableWarning,
                          stacklevel=3)


def _group_batch(claims, version, tables, details: bool, columns=None, convert_codes=False) -> BatchResult:
    ts = tables or _default_tables()
    if isinstance(claims, Columns):
        if convert_codes:
            raise ValueError("convert_codes needs the claims themselves, not Columns already read")
        coded = None if details else {}
        out, results = _group_columns(claims, version, ts, details, coded=coded)
        return BatchResult(out, results, _codes(coded))
    table = None if convert_codes else as_arrow(claims, columns)
    if table is not None and table.num_rows > CHUNK and not details:
        # Arrow, pandas, polars, a chunk at a time: each chunk's results are written straight
        # into the whole table's columns (concatenating the chunks' columns cost more)
        out = _new_columns(table.num_rows)
        for a in range(0, table.num_rows, CHUNK):
            _group_columns(_arrow_chunk(table.slice(a, CHUNK), version, ts), version, ts, details,
                           out={k: v[a:a + CHUNK] for k, v in out.items()})
        return BatchResult(out)
    if table is not None:              # Arrow, pandas, polars: read a whole column at a time
        parts = [_group_columns(_arrow_chunk(table.slice(a, CHUNK), version, ts), version, ts, details)
                 for a in range(0, table.num_rows, CHUNK)]
    else:
        records = records_of(claims, columns)
        parts = [_group_columns(Columns.from_records(records[a:a + CHUNK], version=version, tables=ts,
                                                     convert_codes=convert_codes),
                                version, ts, details, convert_codes)
                 for a in range(0, len(records), CHUNK)]
    if len(parts) == 1:
        return BatchResult(*parts[0])
    if not parts:
        return BatchResult(*_group_columns(Columns.from_records([], version=version, tables=ts), version, ts,
                                           details, convert_codes))
    out = {k: np.concatenate([p[0][k] for p in parts]) for k in parts[0][0]}
    return BatchResult(out, [r for p in parts for r in p[1]] if details else None)


def _arrow_chunk(table, version, ts) -> Columns:
    """Columns of an Arrow chunk, a whole column at a time; row by row when a column's type
    cannot be read whole (e.g. mixed JSON in ``sdx``)."""
    cols = columns_from_arrow(table, version=version, tables=ts)
    return cols if cols is not None else Columns.from_records(table.to_pylist(), version=version, tables=ts)


def _new_columns(n: int) -> dict:
    """The result columns of ``n`` rows, before grouping."""
    out = {k: np.zeros(n, dtype=np.int32) for k in ("version", "initial_drg", "initial_mdc", "final_drg",
                                                    "final_mdc", "initial_base_drg", "final_base_drg",
                                                    "num_hac_categories_satisfied")}
    for k in ("return_code", "initial_return_code", "initial_med_surg", "final_med_surg", "initial_severity",
              "final_severity", "initial_claim_severity", "final_claim_severity", "hac_status", "error",
              "error_message"):
        out[k] = objects(n)
    for k in ("weight", "gmlos", "amlos"):
        out[k] = np.full(n, np.nan)
    for k in ("initial_drg_description", "final_drg_description", "id"):
        out[k] = objects(n)
    return out


#: the text columns given also as integer codes (BatchResult.codes): result column -> the
#: vector core's coded column (grouper.bulk.vector.CODED, "hac_status", "drg_description")
CODED_COLUMNS = {"return_code": "return_code", "initial_return_code": "return_code",
                 "initial_med_surg": "med_surg", "final_med_surg": "med_surg", "initial_severity": "severity",
                 "final_severity": "severity", "initial_claim_severity": "claim_severity",
                 "final_claim_severity": "claim_severity", "hac_status": "hac_status",
                 "initial_drg_description": "drg_description", "final_drg_description": "drg_description"}


def _codes(coded: dict | None) -> dict | None:
    """BatchResult.codes from what :func:`_group_columns` gathered: each column's codes and its
    texts (the versions' texts one after the other)."""
    if not coded:
        return None
    out = {}
    for name, (codes, texts) in coded.items():
        out[name] = (codes, texts[0] if len(texts) == 1 else np.concatenate(texts or [objects(0)]))
    return out


def _group_columns(cols: Columns, version, ts, details: bool, convert_codes=False,
                   out: dict | None = None, coded: dict | None = None) -> tuple[dict, list | None]:
    """Group the claims of ``cols`` into result columns: new ones, or ``out`` (views of a larger
    result's columns, filled in place); with ``coded`` (an empty dict) the text columns'
    integer codes are put there too (:data:`CODED_COLUMNS`, see :func:`_codes`)."""
    n = cols.n
    if out is None:
        out = _new_columns(n)
    if coded is not None:
        for name in CODED_COLUMNS:
            coded[name] = (np.full(n, -1, dtype=np.int32), [])
    out["id"][:] = cols.id_array()
    out["version"][:] = cols.version
    fallback_rows: list[int] = []
    versions = np.unique(cols.version[cols.version > 0]).tolist()
    if versions:
        ids, poa = cols.code_ids(ts), cols.sdx_poa_class()
    for v in versions:
        idx = np.flatnonzero(cols.version == v)
        _group_version(ts, v, cols, ids, poa, idx, out, fallback_rows, coded)
    if coded is not None and fallback_rows:            # grouped again below, row by row
        for codes, _ in coded.values():
            codes[fallback_rows] = -1
    for i in cols.error_rows:
        e = cols.error[i]
        out["error"][i] = e.code
        out["error_message"][i] = str(e)
    if convert_codes:
        out["conversions"] = np.empty(n, dtype=object)
        for i in range(n):
            got = cols.conversions.get(i, ())
            out["conversions"][i] = [w.to_dict() for w in conversion_warnings(got, int(out["version"][i]))]
    if fallback_rows or details:
        from ..engine.pipeline import group
        rows = [i for i in (range(n) if details else fallback_rows) if cols.error[i] is None]
        results = [None] * n if details else None
        for i, rec in zip(rows, cols.records_at(rows)):
            r = group(rec, tables=ts, version=version, details=details, convert_codes=convert_codes)
            if details:
                results[i] = r
            _fill_from_result(out, i, r)
        return out, results
    return out, None


def _group_version(ts, v, cols: Columns, ids, poa, idx: np.ndarray, out: dict, fallback_rows: list,
                   coded: dict | None = None) -> None:
    cv = compiled(ts, v)
    vtab = vector_tables(cv)
    res = group_vectors(vtab, cols.batch(idx, ids, poa))
    rows = slice(None) if len(idx) == cols.n else idx     # one version: every row, written as a slice
    for prefix, a in (("initial_", res["initial"]), ("final_", res["final"])):
        out[prefix + "drg"][rows] = a["drg"]
        out[prefix + "mdc"][rows] = a["mdc"]
        out[prefix + "base_drg"][rows] = a["base_drg"]
        out[prefix + "med_surg"][rows] = a["med_surg"]
        out[prefix + "severity"][rows] = a["severity"]
        out[prefix + "claim_severity"][rows] = a["claim_severity"]
    out["return_code"][rows] = res["final"]["return_code"]
    out["initial_return_code"][rows] = res["initial"]["return_code"]
    out["hac_status"][rows] = res["hac_status"]
    titles = _titles(ts, v)
    out["initial_drg_description"][rows] = titles[res["initial"]["drg"]]
    out["final_drg_description"][rows] = titles[res["final"]["drg"]]
    out["num_hac_categories_satisfied"][rows] = res["num_hac"]
    figures = drg_weights(cv, res["final"]["drg"])
    if figures is not None:
        out["weight"][rows], out["gmlos"][rows], out["amlos"][rows] = figures
    fallback_rows.extend(idx[res["fallback"]].tolist())
    if coded is not None:
        vocab = dict(vtab.vocab, drg_description=titles)
        sides = {"initial": res["initial"], "final": res["final"]}
        for name, key in CODED_COLUMNS.items():
            codes, texts = coded[name]
            side, _, field = name.partition("_")
            if key == "hac_status":
                got = res["hac_status_code"]
            elif key == "drg_description":
                got = sides[side]["drg"]
            else:
                got = sides["final" if name == "return_code" else side][key + "_code"]
            start = sum(map(len, texts))
            codes[rows] = np.where(got >= 0, got + start, -1)
            texts.append(vocab[key])


def _titles(ts, v) -> np.ndarray:
    """DRG number -> title of version ``v`` (an object array; '' for numbers without a DRG)."""
    def build():
        titles = ts.version(v).drg_titles
        arr = np.full(max(max(titles, default=0), 999) + 1, "", dtype=object)
        for d, t in titles.items():
            arr[d] = t
        return arr
    return ts.cached(("drg_title_array", v), build)


def _fill_from_result(out: dict, i: int, r) -> None:
    for k in ("initial_drg", "initial_mdc", "final_drg", "final_mdc", "initial_base_drg", "final_base_drg",
              "num_hac_categories_satisfied", "return_code", "initial_return_code", "initial_med_surg",
              "final_med_surg", "initial_severity", "final_severity", "initial_claim_severity",
              "final_claim_severity", "hac_status", "initial_drg_description", "final_drg_description"):
        out[k][i] = getattr(r, k)
    out["version"][i] = r.version
    for k in ("weight", "gmlos", "amlos"):
        x = getattr(r, k)
        out[k][i] = np.nan if x is None else x
