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
from collections.abc import Mapping
from itertools import repeat

import numpy as np

from ..reading import stage as va
from ..reading.claim import _to_dx
from ..engine.compiled import compiled
from ..engine.codes import UNGROUPABLE_DRG, MedSurg, ReturnCode, Severity
from ..tables import default as _default_tables
from ..reading.stage import ClaimError
from .vector import (HOSP_EXEMPT, HOSP_NOT_EXEMPT, HOSP_UNKNOWN, Batch, _poa_classes, _segment_rows,
                     group_vectors, vector_tables)

_HOSP = {"NOT_EXEMPT": HOSP_NOT_EXEMPT, "EXEMPT": HOSP_EXEMPT, "UNKNOWN": HOSP_UNKNOWN}
# claim-level CC/MCC by level number + 1 (-1: NONE)
_LEVEL_NAMES = np.array([Severity.NONE, Severity.NON_CC, Severity.CC, Severity.MCC], dtype=object)

COLUMNS = ("id", "version", "initial_drg", "initial_mdc", "final_drg", "final_mdc", "return_code",
           "initial_return_code", "initial_base_drg", "final_base_drg", "initial_med_surg", "final_med_surg",
           "initial_severity", "final_severity", "initial_claim_severity", "final_claim_severity", "hac_status",
           "num_hac_categories_satisfied", "weight", "gmlos", "amlos", "error", "error_message")


class Columns:
    """Claims in columnar form, read the way the CMS grouper reads them.

    Diagnoses and procedures are flat lists with offsets (CSR): claim ``i`` has secondary
    diagnoses ``sdx_codes[sdx_off[i]:sdx_off[i+1]]``.  ``error`` holds a
    :class:`~grouper.ClaimError` for rows that cannot be grouped (their other fields are
    placeholders)."""

    def __init__(self, n):
        self.n = n
        self.id = [None] * n
        self.version = np.full(n, -1, dtype=np.int32)
        self.pdx: list = [""] * n
        self.pdx_poa: list = ["Y"] * n
        self.sdx_codes: list = []
        self.sdx_poa: list = []
        self.sdx_off = np.zeros(n + 1, dtype=np.int64)
        self.pr_codes: list = []
        self.pr_off = np.zeros(n + 1, dtype=np.int64)
        self.sex = np.zeros(n, dtype=np.int8)
        self.dstat = np.full(n, -1, dtype=np.int16)
        self.hospital = np.zeros(n, dtype=np.int8)
        self.admit_dx: list = [None] * n
        self.error: list = [None] * n
        self.error_rows: list[int] = []
        self.records: list | None = None       # the input records, for the per-claim fallback

    @classmethod
    def from_records(cls, records, *, version=None, tables=None) -> "Columns":
        """From claim mappings (JSON-lines schema) or :class:`Claim` objects."""
        from ..engine.pipeline import _VersionOf, as_claim, resolve_version
        records = records if isinstance(records, list) else list(records)
        ts = tables or _default_tables()
        n = len(records)
        col = cls(n)
        col.records = records
        sdx_codes, sdx_poa, pr_codes = col.sdx_codes, col.sdx_poa, col.pr_codes
        sdx_off, pr_off = col.sdx_off, col.pr_off
        vcache: dict = {}
        fast_poa = va._POA_FAST
        poa_get, add_code, add_poa = fast_poa.get, sdx_codes.append, sdx_poa.append
        sex_cache: dict = {}
        ds_cache: dict = {}
        hosp_cache: dict = {}
        ids, pdxs, pdx_poas, admits = col.id, col.pdx, col.pdx_poa, col.admit_dx
        sexes, dstats, hosps, versions = col.sex, col.dstat, col.hospital, col.version
        for i, rec in enumerate(records):
            try:
                if type(rec) is not dict:
                    claim = as_claim(rec)
                    va.check_readable(claim)
                    v = resolve_version(ts, claim, version)
                    rec = None
                    rc = va.read_claim(claim, v)
                    _store_read(col, i, rc, getattr(claim, "id", None))
                    continue
                if "pdx" not in rec:
                    raise ClaimError("MISSING_PDX", "pdx", None, "the claim has no 'pdx' field")
                pdx = rec["pdx"]
                if type(pdx) is not str:
                    if pdx is not None and not isinstance(pdx, (str, bytes)):
                        va.check_readable(as_claim(rec))
                    pdx = va.read_code(pdx)
                    pdx_poa = va.POA_BLANK if rec["pdx"] is None else va.read_poa(rec.get("pdx_poa", "Y"))
                else:
                    p = rec.get("pdx_poa", "Y")
                    pdx_poa = fast_poa.get(p) if type(p) is str else None
                    if pdx_poa is None:
                        pdx_poa = va.read_poa(p)
                if version is None:
                    vkey = (rec.get("version"), rec.get("discharge_date"))
                    try:
                        v = vcache.get(vkey)
                    except TypeError:      # unhashable version/date values
                        v, vkey = None, None
                    if v is None:
                        v = resolve_version(ts, _VersionOf(rec), None)
                        if vkey is not None:
                            vcache[vkey] = v
                else:
                    v = vcache.get(None)
                    if v is None:
                        v = vcache[None] = resolve_version(ts, _VersionOf(rec), version)
            except ClaimError as exc:
                col.error[i] = exc
                col.error_rows.append(i)
                sdx_off[i + 1] = len(sdx_codes)
                pr_off[i + 1] = len(pr_codes)
                continue
            sdx = rec.get("sdx")
            if sdx:
                if type(sdx) is list:
                    for item in sdx:
                        if type(item) is list and len(item) == 2 and type(item[0]) is str:
                            c, q = item
                            add_code(c)
                            q2 = poa_get(q) if type(q) is str else None
                            add_poa(q2 if q2 is not None else va.read_poa(q))
                        else:
                            dx = _to_dx(item)
                            sdx_codes.append(va.read_code(dx.code))
                            sdx_poa.append(va.read_poa(dx.poa))
                else:
                    for code, poa in va.read_mapping({"pdx": "", "sdx": sdx}, v).sdx:
                        sdx_codes.append(code)
                        sdx_poa.append(poa)
            sdx_off[i + 1] = len(sdx_codes)
            procs = rec.get("procedures")
            if procs:
                if type(procs) is list and all(type(x) is str for x in procs):
                    pr_codes.extend(procs)
                else:
                    pr_codes.extend(va.read_mapping({"pdx": "", "procedures": procs}, v).procedures)
            pr_off[i + 1] = len(pr_codes)
            ids[i] = rec.get("id")
            versions[i] = v
            pdxs[i] = pdx
            pdx_poas[i] = pdx_poa
            x = rec.get("sex")            # cached readings; bools and floats go to _cached
            y = sex_cache.get(x) if type(x) is str else None
            sexes[i] = y if y is not None else _cached(sex_cache, x, va.read_sex)
            x = rec.get("discharge_status")
            y = ds_cache.get(x) if type(x) is int else None
            dstats[i] = y if y is not None else _cached(ds_cache, x, _read_ds)
            x = rec.get("hospital_status", "NOT_EXEMPT")
            y = hosp_cache.get(x) if type(x) is str else None
            hosps[i] = y if y is not None else _cached(hosp_cache, x, _read_hosp)
            x = rec.get("admit_dx")
            admits[i] = None if x is None else (x if type(x) is str else va.read_code(x))
        return col

    def code_ids(self, tables) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ids of the principal diagnoses, secondary diagnoses and procedures in the code
        universe of ``tables`` (-1: in no version), looked up the way the CMS grouper does."""
        return (_lookup(tables.dx_index, self.pdx), _lookup(tables.dx_index, self.sdx_codes),
                _lookup(tables.pr_index, self.pr_codes))

    def sdx_poa_class(self) -> np.ndarray:
        """POA class of every secondary diagnosis: 0 Y/W, 1 N/U, 2 anything else."""
        return _poa_classes(self.sdx_poa)

    @classmethod
    def from_arrays(cls, *, pdx, sdx=None, sdx_poa=None, procedures=None, version=None, discharge_date=None,
                    sex=None, discharge_status=None, hospital_status=None, pdx_poa=None, admit_dx=None,
                    id=None, tables=None) -> "Columns":
        """From columns: ``pdx`` a sequence of codes; ``sdx``/``procedures`` sequences of code
        lists (``sdx_poa`` parallel POA lists, default Y), or ``(flat_codes, offsets)`` pairs;
        the other fields sequences or scalars."""
        return cls.from_records(arrays_to_records(pdx=pdx, sdx=sdx, sdx_poa=sdx_poa, procedures=procedures,
                                                  version=version, discharge_date=discharge_date, sex=sex,
                                                  discharge_status=discharge_status,
                                                  hospital_status=hospital_status, pdx_poa=pdx_poa,
                                                  admit_dx=admit_dx, id=id), tables=tables)


def arrays_to_records(*, pdx, sdx=None, sdx_poa=None, procedures=None, version=None, discharge_date=None,
                      sex=None, discharge_status=None, hospital_status=None, pdx_poa=None, admit_dx=None,
                      id=None) -> list[dict]:
    """Claim mappings from columns (see :meth:`Columns.from_arrays`)."""
    n = len(pdx)

    def col(x, i, default):
        if x is None:
            return default
        if isinstance(x, (str, int, float)) and not isinstance(x, bool):
            return x
        return x[i]

    def lists(x, i):
        if x is None:
            return []
        if isinstance(x, tuple) and len(x) == 2 and not isinstance(x[0], str):
            flat, off = x
            return list(flat[off[i]:off[i + 1]])
        v = x[i]
        return [] if v is None else list(v)

    records = []
    for i in range(n):
        codes = lists(sdx, i)
        poas = lists(sdx_poa, i) if sdx_poa is not None else ["Y"] * len(codes)
        rec = {"pdx": col(pdx, i, None), "sdx": [[c, p] for c, p in zip(codes, poas)],
               "procedures": lists(procedures, i), "sex": col(sex, i, None),
               "discharge_status": col(discharge_status, i, None),
               "hospital_status": col(hospital_status, i, "NOT_EXEMPT"), "pdx_poa": col(pdx_poa, i, "Y"),
               "admit_dx": col(admit_dx, i, None), "id": col(id, i, i)}
        if version is not None:
            rec["version"] = col(version, i, None)
        if discharge_date is not None:
            rec["discharge_date"] = col(discharge_date, i, None)
        records.append(rec)
    return records


class BatchResult:
    """Columns aligned with the input rows (numpy arrays; object arrays for text)."""

    def __init__(self, columns: dict, details=None):
        for k, v in columns.items():
            setattr(self, k, v)
        self.columns = tuple(columns)
        self.details = details          # list of grouper.Result (details=True), else None

    def __len__(self):
        return len(self.final_drg)

    def __getitem__(self, i) -> dict:
        return {k: _py(getattr(self, k)[i]) for k in self.columns}

    def to_records(self) -> list[dict]:
        return [self[i] for i in range(len(self))]

    def to_pandas(self):
        import pandas as pd
        return pd.DataFrame({k: getattr(self, k) for k in self.columns})


def _cached(cache: dict, x, read):
    """read(x) through a cache keyed by value; bools and floats are read directly, since
    True == 1 == 1.0 share a dict key but not a meaning (sex True is unknown, 1 is male)."""
    if type(x) is bool or type(x) is float:
        return read(x)
    try:
        return cache[x]
    except KeyError:
        y = cache[x] = read(x)
        return y
    except TypeError:                          # unhashable: read it each time
        return read(x)


def _read_ds(x):
    d = va.read_discharge_status(x)
    return -1 if d is None else d


def _read_hosp(x):
    return _HOSP[va.read_hospital_status(x)]


def _py(v):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v != v:
        return None
    return v


def _lookup(index: dict, codes: list) -> np.ndarray:
    """Code id of each code (the CMS grouper upper-cases codes), -1 if in no version."""
    ids = np.fromiter(map(index.get, codes, repeat(-1)), dtype=np.int64, count=len(codes))
    for i in np.flatnonzero(ids < 0).tolist():
        c = codes[i]
        if type(c) is str and c.upper() != c:
            ids[i] = index.get(c.upper(), -1)
    return ids


def _store_read(col: Columns, i: int, rc, cid) -> None:
    """Store a claim read by :func:`grouper.validate.read_claim` as row ``i``."""
    col.id[i] = cid
    col.version[i] = rc.version
    col.pdx[i] = rc.pdx
    col.pdx_poa[i] = rc.pdx_poa
    for code, poa in rc.sdx:
        col.sdx_codes.append(code)
        col.sdx_poa.append(poa)
    col.sdx_off[i + 1] = len(col.sdx_codes)
    col.pr_codes.extend(rc.procedures)
    col.pr_off[i + 1] = len(col.pr_codes)
    col.sex[i] = rc.sex
    col.dstat[i] = -1 if rc.discharge_status is None else rc.discharge_status
    col.hospital[i] = _HOSP[rc.hospital_status]
    col.admit_dx[i] = rc.admit_dx


def _as_records(claims) -> list:
    """The claims of any supported input as a list of claim mappings or Claim objects."""
    mod = type(claims).__module__
    if mod.startswith("pandas"):
        return claims.to_dict("records")
    if mod.startswith("pyarrow"):
        return claims.to_pylist()
    if isinstance(claims, Mapping) and "pdx" in claims and not isinstance(claims["pdx"], (str, bytes)):
        return arrays_to_records(**claims)
    return claims if isinstance(claims, list) else list(claims)


# Claims are read and grouped in chunks: the arrays of a chunk stay in the processor's
# caches, and memory is bounded by the chunk, not the batch.
CHUNK = 50_000


def group_batch(claims, *, version=None, tables=None, details: bool = False) -> BatchResult:
    """Group many claims; results identical to :func:`grouper.group`, row for row."""
    # The cyclic garbage collector would repeatedly walk every object the caller holds
    # (a million claim dicts cost seconds); nothing here makes reference cycles.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _group_batch(claims, version, tables, details)
    finally:
        if was_enabled:
            gc.enable()


def _group_batch(claims, version, tables, details: bool) -> BatchResult:
    ts = tables or _default_tables()
    if isinstance(claims, Columns):
        return BatchResult(*_group_columns(claims, version, ts, details))
    records = _as_records(claims)
    parts = [_group_columns(Columns.from_records(records[a:a + CHUNK], version=version, tables=ts),
                            version, ts, details)
             for a in range(0, len(records), CHUNK)]
    if len(parts) == 1:
        return BatchResult(*parts[0])
    if not parts:
        return BatchResult(*_group_columns(Columns.from_records([], version=version, tables=ts), version, ts,
                                           details))
    out = {k: np.concatenate([p[0][k] for p in parts]) for k in parts[0][0]}
    return BatchResult(out, [r for p in parts for r in p[1]] if details else None)


def _group_columns(cols: Columns, version, ts, details: bool) -> tuple[dict, list | None]:
    n = cols.n
    out = {k: np.zeros(n, dtype=np.int32) for k in ("version", "initial_drg", "initial_mdc", "final_drg",
                                                    "final_mdc", "initial_base_drg", "final_base_drg",
                                                    "num_hac_categories_satisfied")}
    for k in ("return_code", "initial_return_code", "initial_med_surg", "final_med_surg", "initial_severity",
              "final_severity", "initial_claim_severity", "final_claim_severity", "hac_status", "error",
              "error_message"):
        out[k] = np.full(n, None, dtype=object)
    for k in ("weight", "gmlos", "amlos"):
        out[k] = np.full(n, np.nan)
    out["id"] = np.array(cols.id + [None], dtype=object)[:n]
    out["version"] = cols.version.copy()
    fallback_rows: list[int] = []
    versions = np.unique(cols.version[cols.version > 0]).tolist()
    if versions:
        ids, poa = cols.code_ids(ts), cols.sdx_poa_class()
    for v in versions:
        idx = np.flatnonzero(cols.version == v)
        _group_version(ts, v, cols, ids, poa, idx, out, fallback_rows)
    for i in cols.error_rows:
        e = cols.error[i]
        out["error"][i] = e.code
        out["error_message"][i] = str(e)
    if fallback_rows or details:
        from ..engine.pipeline import group
        rows = range(n) if details else fallback_rows
        results = [None] * n if details else None
        for i in rows:
            if cols.error[i] is not None:
                continue
            rec = cols.records[i] if cols.records is not None else None
            r = group(rec, tables=ts, version=version, details=details) if rec is not None else None
            if details:
                results[i] = r
            _fill_from_result(out, i, r)
        return out, results
    return out, None


def _group_version(ts, v, cols: Columns, ids, poa, idx: np.ndarray, out: dict, fallback_rows: list) -> None:
    cv = compiled(ts, v)
    vtab = vector_tables(cv)
    pdx_id, sdx_id, pr_id = ids
    if len(idx) == cols.n:
        sdx_rows, sdx_off = slice(None), cols.sdx_off
        pr_rows, pr_off = slice(None), cols.pr_off
    else:
        sdx_rows, sdx_off = _segment_rows(cols.sdx_off, idx)
        pr_rows, pr_off = _segment_rows(cols.pr_off, idx)
    b = Batch(pdx_id[idx], sdx_id[sdx_rows], poa[sdx_rows], sdx_off, pr_id[pr_rows], pr_off,
              cols.sex[idx], cols.dstat[idx], cols.hospital[idx])
    res = group_vectors(vtab, b)
    ini, fin = res["initial"], res["final"]
    out["initial_drg"][idx] = ini["drg"]
    out["initial_mdc"][idx] = ini["mdc"]
    out["final_drg"][idx] = fin["drg"]
    out["final_mdc"][idx] = fin["mdc"]
    out["return_code"][idx] = fin["rc"]
    out["initial_return_code"][idx] = ini["rc"]
    surg = np.array(list(vtab.row_med_surg) + [MedSurg.NONE], dtype=object)
    for a, key_base, key_ms in ((ini, "initial_base_drg", "initial_med_surg"),
                                (fin, "final_base_drg", "final_med_surg")):
        ok = (a["rc"] == ReturnCode.OK) & (a["row"] >= 0)
        r = np.where(ok, a["row"], -1)
        out[key_base][idx] = np.where(ok, vtab.row_base[r], UNGROUPABLE_DRG)
        out[key_ms][idx] = surg[np.where(ok, r, len(surg) - 1)]
    out["initial_severity"][idx] = np.where(ini["rc"] == ReturnCode.OK, ini["sev_used"], Severity.NON_CC)
    out["final_severity"][idx] = np.where(fin["rc"] == ReturnCode.OK, fin["sev_used"], Severity.NON_CC)
    out["initial_claim_severity"][idx] = _LEVEL_NAMES[ini["claim_level"] + 1]
    out["final_claim_severity"][idx] = _LEVEL_NAMES[fin["claim_level"] + 1]
    out["hac_status"][idx] = res["hac_status"]
    out["num_hac_categories_satisfied"][idx] = res["num_hac"]
    fy = cv.vt.fiscal_year
    if fy in ts.fiscal_years:
        w = ts.weights(fy)
        drg = fin["drg"]
        out["weight"][idx] = w.weight[drg]
        out["gmlos"][idx] = w.gmlos[drg]
        out["amlos"][idx] = w.amlos[drg]
    fallback_rows.extend(idx[res["fallback"]].tolist())


def _fill_from_result(out: dict, i: int, r) -> None:
    for k in ("initial_drg", "initial_mdc", "final_drg", "final_mdc", "initial_base_drg", "final_base_drg",
              "num_hac_categories_satisfied", "return_code", "initial_return_code", "initial_med_surg",
              "final_med_surg", "initial_severity", "final_severity", "initial_claim_severity",
              "final_claim_severity", "hac_status"):
        out[k][i] = getattr(r, k)
    out["version"][i] = r.version
    for k in ("weight", "gmlos", "amlos"):
        x = getattr(r, k)
        out[k][i] = np.nan if x is None else x
