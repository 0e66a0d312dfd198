"""The reading stage for many claims at once: claims in -> columns of claims as read.

The same reading as :func:`grouper.reading.stage.read`, row by row (the same checks, the
same version resolution, the same value readings), written into flat columns for the
batch path instead of one :class:`~grouper.reading.stage.ReadClaim` per claim.  Claim
mappings in their common shapes are read inline (a million claims read in a few seconds);
anything else goes through the per-claim reading.

Inputs: claim mappings (JSON-lines schema), :class:`~grouper.reading.claim.Claim`
objects, a pandas DataFrame, an Arrow table, or a dict of columns (:func:`records_of`).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .claim import PLAIN_TYPES, no_codes, plain, to_diagnosis, without_missing
from .errors import ClaimError
from .layout import Layout, looks_wide
from .stage import check_code_lists, check_mapping_pdx, read, resolve_version
from .stay import read_age, read_date, read_los, read_status_number, read_stay
from .values import (
    POA_BLANK,
    POA_READ,
    HospitalStatus,
    read_code,
    read_discharge_status,
    read_hospital_status,
    read_poa,
    read_procedures,
    read_sdx,
    read_sex,
)

#: Hospital status in a column: a small integer per status.
HOSPITAL_CODE = {HospitalStatus.NOT_EXEMPT: 0, HospitalStatus.EXEMPT: 1, HospitalStatus.UNKNOWN: 2}
#: Discharge status in a column when it is NONE (missing or not a CMS status).
NO_STATUS = -1


class ReadColumns:
    """Claims in columnar form, read the way the CMS grouper reads them.

    Diagnoses and procedures are flat lists with offsets (CSR): claim ``i`` has secondary
    diagnoses ``sdx_codes[sdx_off[i]:sdx_off[i+1]]``.  ``error`` holds a
    :class:`~grouper.ClaimError` for rows that cannot be grouped (their other fields are
    placeholders).  With ``stay=True`` the stay is read too (:mod:`grouper.reading.stay`):
    ``discharge_date`` (``yyyymmdd``), ``age``, ``status_number`` and ``los`` columns."""

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
        self.dstat = np.full(n, NO_STATUS, dtype=np.int16)
        self.hospital = np.zeros(n, dtype=np.int8)          # HOSPITAL_CODE
        self.admit_dx: list = [None] * n
        self.error: list = [None] * n
        self.error_rows: list[int] = []
        self.records: list | None = None       # the input records, for the per-claim fallback
        self.conversions: dict = {}            # row -> (field, Conversion), with convert_codes
        self.tables = None                     # the table set the claims were read against
        self.discharge_date = self.age = self.status_number = self.los = None   # the stay (stay=True)

    @classmethod
    def from_records(cls, records, *, version=None, tables=None, convert_codes: bool = False,
                     resolve: bool = True, stay: bool = False, los=None):
        """From claim mappings (JSON-lines schema) or :class:`~grouper.reading.claim.Claim` objects.

        ``convert_codes``: every claim is read through :func:`~grouper.reading.stage.read` with
        that option; ``conversions`` holds per row what it reported.  ``resolve=False``: no
        grouper version (the ``version`` column stays -1; see :func:`~grouper.reading.stage.read`);
        ``stay=True``: read the stay as well, each claim's ``los`` overridden by ``los`` (one
        value, or a sequence aligned with the records)."""
        if tables is None and resolve:
            from ..tables import default
            tables = default()
        records = records_in = records if isinstance(records, list) else list(records)
        ts = tables
        n = len(records)
        col = cls(n)
        col.records = records
        col.tables = ts
        los_seq = None
        if stay:
            col.discharge_date = np.zeros(n, dtype=np.int64)
            col.age = np.zeros(n, dtype=np.int64)
            col.status_number = np.zeros(n, dtype=np.int64)
            col.los = np.zeros(n, dtype=np.int64)
            if los is not None and not isinstance(los, (int, float, str)):
                los_seq = list(los)
                if len(los_seq) != n:
                    raise ValueError(f"los has {len(los_seq)} values for {n} claims")
        sdx_codes, sdx_poa, pr_codes = col.sdx_codes, col.sdx_poa, col.pr_codes
        sdx_off, pr_off = col.sdx_off, col.pr_off
        vcache: dict = {}
        poa_get, add_code, add_poa = POA_READ.get, sdx_codes.append, sdx_poa.append
        sex_cache: dict = {}
        ds_cache: dict = {}
        hosp_cache: dict = {}
        ids, pdxs, pdx_poas, admits = col.id, col.pdx, col.pdx_poa, col.admit_dx
        sexes, dstats, hosps, versions = col.sex, col.dstat, col.hospital, col.version
        plain_types = PLAIN_TYPES.issuperset
        for i, rec in enumerate(records):
            if type(rec) is dict and not plain_types(map(type, rec.values())):
                # a value pandas or numpy uses for "missing" reads as None, as in read()
                # (df.to_dict("records") gives NaN for an empty cell)
                if col.records is records_in:      # the caller's list is not changed
                    records = col.records = list(records)
                rec = records[i] = without_missing(rec)
            try:
                if type(rec) is not dict or convert_codes:
                    got = read(rec, ts, version=version, convert_codes=convert_codes, resolve=resolve)
                    if stay:
                        col._store_stay(i, read_stay(got.raw, los if los_seq is None else los_seq[i]))
                    col._store(i, got.claim, getattr(got.raw, "id", None))
                    if got.conversions:
                        col.conversions[i] = got.conversions
                    continue
                if "pdx" not in rec or type(rec["pdx"]) is not str:
                    check_mapping_pdx(rec)
                    pdx = rec["pdx"]
                    pdx_poa = POA_BLANK if pdx is None else read_poa(rec.get("pdx_poa", "Y"))
                    pdx = read_code(pdx)
                else:
                    pdx = rec["pdx"]
                    p = rec.get("pdx_poa", "Y")
                    pdx_poa = POA_READ.get(p) if type(p) is str else None
                    if pdx_poa is None:
                        pdx_poa = read_poa(p)
                x = rec.get("sdx")
                if type(x) is str or type(x) is bytes or type(rec.get("procedures")) in (str, bytes):
                    check_code_lists(rec)         # CODES_AS_TEXT, after the pdx, as the reading stage
                if not resolve:
                    v = -1
                elif version is None:
                    vkey = (rec.get("version"), rec.get("discharge_date"))
                    try:
                        v = vcache.get(vkey)
                    except TypeError:      # unhashable version/date values
                        v, vkey = None, None
                    if v is None:
                        v = resolve_version(ts, rec.get("version"), rec.get("discharge_date"))
                        if vkey is not None:
                            vcache[vkey] = v
                else:
                    v = vcache.get(None)
                    if v is None:
                        v = vcache[None] = resolve_version(ts, override=version)
                if stay:          # read_stay, inline for the common value types
                    d = read_date(rec.get("discharge_date"))
                    a = rec.get("age")
                    if type(a) is not int:
                        a = read_age(a)
                    s = rec.get("discharge_status")
                    if type(s) is not int:
                        s = read_status_number(s)
                    m = los if los_seq is None else los_seq[i]
                    if m is None:
                        m = rec.get("los")
                    adm = rec.get("admission_date")
                    if type(m) is not int or m < 0 or adm is not None:
                        m = read_los(m, adm, d)
                    if not (_LOW < a < _HIGH and _LOW < s < _HIGH and m < _HIGH):
                        a, s, m = _clip(a), _clip(s), _clip(m)
                    col.discharge_date[i], col.age[i], col.status_number[i], col.los[i] = d, a, s, m
            except ClaimError as exc:
                col.error[i] = exc
                col.error_rows.append(i)
                sdx_off[i + 1] = len(sdx_codes)
                pr_off[i + 1] = len(pr_codes)
                continue
            sdx = rec.get("sdx")
            if type(sdx) is list:
                for item in sdx:
                    if type(item) is list and len(item) == 2 and type(item[0]) is str:
                        c, q = item
                        add_code(c)
                        q2 = poa_get(q) if type(q) is str else None
                        add_poa(q2 if q2 is not None else read_poa(q))
                    else:
                        dx = to_diagnosis(item)
                        add_code(read_code(dx.code))
                        add_poa(read_poa(dx.poa))
            elif not no_codes(sdx):
                for code, poa in read_sdx(sdx):
                    add_code(code)
                    add_poa(poa)
            sdx_off[i + 1] = len(sdx_codes)
            procs = rec.get("procedures")
            if type(procs) is list:
                if procs:
                    pr_codes.extend(procs if all(type(x) is str for x in procs) else read_procedures(procs))
            elif not no_codes(procs):
                pr_codes.extend(read_procedures(procs))
            pr_off[i + 1] = len(pr_codes)
            x = rec.get("id")
            ids[i] = x if type(x) in _PLAIN_KEYS else plain(x)
            versions[i] = v
            pdxs[i] = pdx
            pdx_poas[i] = pdx_poa
            x = rec.get("sex")            # cached readings; bools and floats go to _cached
            y = sex_cache.get(x) if type(x) is str else None
            sexes[i] = y if y is not None else _cached(sex_cache, x, read_sex)
            x = rec.get("discharge_status")
            y = ds_cache.get(x) if type(x) is int else None
            dstats[i] = y if y is not None else _cached(ds_cache, x, _status_code)
            x = rec.get("hospital_status", "NOT_EXEMPT")
            y = hosp_cache.get(x) if type(x) is str else None
            hosps[i] = y if y is not None else _cached(hosp_cache, x, _hospital_code)
            x = rec.get("admit_dx")
            admits[i] = None if x is None else (x if type(x) is str else read_code(x))
        return col

    def _store_stay(self, i: int, st) -> None:
        self.discharge_date[i], self.age[i], self.status_number[i], self.los[i] = (
            st.discharge_date, _clip(st.age), _clip(st.discharge_status), _clip(st.los))

    def _store(self, i: int, claim, cid) -> None:
        """Store a claim read by :func:`grouper.reading.stage.read` as row ``i``."""
        self.id[i] = cid
        self.version[i] = -1 if claim.version is None else claim.version
        self.pdx[i] = claim.pdx
        self.pdx_poa[i] = claim.pdx_poa
        for code, poa in claim.sdx:
            self.sdx_codes.append(code)
            self.sdx_poa.append(poa)
        self.sdx_off[i + 1] = len(self.sdx_codes)
        self.pr_codes.extend(claim.procedures)
        self.pr_off[i + 1] = len(self.pr_codes)
        self.sex[i] = claim.sex
        self.dstat[i] = NO_STATUS if claim.discharge_status is None else claim.discharge_status
        self.hospital[i] = HOSPITAL_CODE[claim.hospital_status]
        self.admit_dx[i] = claim.admit_dx


#: The value types whose readings are cached by value: True == 1 == 1.0 == np.int64(1) share
#: a dict key but not a meaning (sex True is unknown, 1 is male), so only text, int and None.
_PLAIN_KEYS = frozenset({str, int, type(None)})


# Whole numbers beyond these bounds are stored as the bound (an int64 column cannot hold them):
# an age, status or stay that large is out of every range the MCE checks either way.
_LOW, _HIGH = -(2 ** 62), 2 ** 62


def _clip(x: int) -> int:
    return _LOW if x <= _LOW else _HIGH if x >= _HIGH else x


def _cached(cache: dict, x, read_value):
    """read_value(x) through a cache keyed by value, for the :data:`_PLAIN_KEYS` types;
    anything else (bools, floats, numpy values ...) is read directly."""
    if type(x) not in _PLAIN_KEYS:
        return read_value(x)
    try:
        return cache[x]
    except KeyError:
        y = cache[x] = read_value(x)
        return y


def _status_code(x) -> int:
    d = read_discharge_status(x)
    return NO_STATUS if d is None else d


def _hospital_code(x) -> int:
    return HOSPITAL_CODE[read_hospital_status(x)]


def records_of(claims, columns=None) -> list:
    """The claims of any supported input as a list of claim mappings or Claim objects: a
    pandas DataFrame, an Arrow table, a dict of columns (:func:`arrays_to_records`), or an
    iterable of claims.  A table in the wide layout (numbered DX/POA/PX columns) is read with
    the column mapping ``columns`` (see :mod:`grouper.reading.layout`; default: the standard
    layout when the columns look wide).  TypeError for anything else -- one claim, a text, a
    number: one clear error rather than a row per key or per character."""
    mod = type(claims).__module__
    if mod.startswith("pandas"):
        header = [str(c) for c in claims.columns]
        records = claims.to_dict("records")
    elif mod.startswith("pyarrow"):
        header = list(claims.column_names)
        records = claims.to_pylist()
    elif isinstance(claims, Mapping):
        if "pdx" in claims and columns is None:
            if _is_column(claims["pdx"]):
                return arrays_to_records(**claims)
            raise TypeError("group_batch takes many claims (a list of claims, a dict of columns, a DataFrame or "
                            "an Arrow table); this is one claim (its 'pdx' is not a column): use "
                            "grouper.group(claim) or a list of claims")
        if not (claims and all(_is_column(v) for v in claims.values())) or (
                columns is None and not looks_wide(list(claims))):
            raise TypeError(f"a mapping of claims must be a dict of columns with a 'pdx' column or wide "
                            f"DX1.. columns; got keys {', '.join(map(repr, list(claims)[:8]))}")
        header = list(claims)                 # a dict of wide columns
        n = len(next(iter(claims.values())))
        records = [{k: plain(claims[k][i]) for k in header} for i in range(n)]
    else:
        if isinstance(claims, (str, bytes)) or not hasattr(claims, "__iter__"):
            what = "one claim" if type(claims).__name__ == "Claim" else f"a value of type {type(claims).__name__}"
            raise TypeError(f"group_batch takes many claims (a list of claims, a dict of columns, a DataFrame or "
                            f"an Arrow table), got {what}")
        claims = plain(claims)          # a numpy array of claims: its items
        records = claims if isinstance(claims, list) else list(claims)
        first = records[0] if records else None
        header = list(first) if type(first) is dict and "pdx" not in first else None
    if header is None or (columns is None and not looks_wide(header)):
        return records
    layout = Layout.of(columns)
    bound = layout.bind(header)
    hints = bound.hints()
    if hints:       # columns that look like claim fields but are not read: say so, never drop them silently
        import warnings
        text = "; ".join(h.replace("give --column ", "map ").replace(" (or --preset ", " (or preset ")
                         for h in hints)
        warnings.warn("group_batch: " + text, UserWarning, stacklevel=4)
    return [bound.claim([r.get(h) for h in header]) if isinstance(r, Mapping) else r for r in records]


def _is_column(x) -> bool:
    return not isinstance(x, (str, bytes, Mapping)) and x is not None and hasattr(x, "__len__")


def _flat_pair(x) -> bool:
    """A code-list column given as ``(flat_codes, offsets)``."""
    return isinstance(x, tuple) and len(x) == 2 and not isinstance(x[0], str) and _is_column(x[0])


_COLUMNS = ("pdx", "sdx", "sdx_poa", "procedures", "version", "discharge_date", "sex", "discharge_status",
            "hospital_status", "pdx_poa", "admit_dx", "id", "age", "los", "admission_date")


def arrays_to_records(*, pdx, sdx=None, sdx_poa=None, procedures=None, version=None, discharge_date=None,
                      sex=None, discharge_status=None, hospital_status=None, pdx_poa=None, admit_dx=None,
                      id=None, age=None, los=None, admission_date=None) -> list[dict]:
    """Claim mappings from columns: ``pdx`` a sequence of codes; ``sdx``/``procedures``
    sequences of code lists (``sdx_poa`` parallel POA lists, default Y), or
    ``(flat_codes, offsets)`` pairs; the other fields sequences or scalars (``age``, ``los``
    and ``admission_date``, read by the Medicare Code Editor, only when given).  numpy columns
    and scalars are read as the Python values they hold; a column of another length than
    ``pdx`` is a ValueError naming it."""
    given = dict(pdx=pdx, sdx=sdx, sdx_poa=sdx_poa, procedures=procedures, version=version,
                 discharge_date=discharge_date, sex=sex, discharge_status=discharge_status,
                 hospital_status=hospital_status, pdx_poa=pdx_poa, admit_dx=admit_dx, id=id, age=age, los=los,
                 admission_date=admission_date)
    n = len(plain(pdx))
    for k, x in given.items():
        if k in ("sdx", "sdx_poa", "procedures") and _flat_pair(x):
            given[k] = (plain(x[0]), plain(x[1]))       # (flat codes, offsets)
            continue
        given[k] = x = plain(x)
        if _is_column(x) and len(x) != n:
            raise ValueError(f"column {k!r} has {len(x):,} values, 'pdx' has {n:,}")
    pdx, sdx, sdx_poa, procedures, version, discharge_date, sex, discharge_status, hospital_status, pdx_poa, \
        admit_dx, id, age, los, admission_date = (given[k] for k in _COLUMNS)

    def col(x, i, default):
        if x is None:
            return default
        if not _is_column(x):
            return x
        return x[i]

    def lists(x, i):
        if x is None:
            return []
        if _flat_pair(x):
            flat, off = x
            return list(flat[off[i]:off[i + 1]])
        v = plain(x[i])
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
        for name, x in (("age", age), ("los", los), ("admission_date", admission_date)):
            if x is not None:
                rec[name] = col(x, i, None)
        records.append(rec)
    return records
