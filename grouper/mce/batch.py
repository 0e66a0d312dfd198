"""The Medicare Code Editor on many claims at once: columnar, vectorized with numpy.

    >>> from grouper.mce import edit_batch
    >>> out = edit_batch([{"pdx": "V0001XA", "age": 70, "sex": "F", "discharge_status": 1,
    ...                    "discharge_date": "2025-01-15", "los": 3}])
    >>> out.edit_type.tolist(), out.count("E_CODE_AS_PDX").tolist()
    (['PREPAYMENT'], [1])

Input: what :func:`grouper.group_batch` takes (a list of claim mappings or
:class:`grouper.Claim` objects, a pandas DataFrame, an Arrow table, a dict of columns, a wide
table with ``columns=``), each claim with its ``los`` (or give ``los=`` as one value or a
sequence).  Output: an :class:`EditBatch` aligned row for row with the input; ``result(i)`` is
exactly what :func:`grouper.edit` returns for claim ``i`` (tests check it on every labelled
claim).  Rows that cannot be edited carry the :class:`grouper.ClaimError` code and message in
``error`` / ``error_message`` instead of an edit type.

How: the claims are read by the reading stage into columns
(:class:`grouper.reading.ReadColumns` with the stay, no grouper version); each code's
attributes are looked up for its claim's discharge date in one pass per table; every edit is
then a boolean array over all codes (or all claims), and a claim's counts are sums over its
codes.  The rules are the per-claim engine's (:mod:`.engine`: attribute bits, code orders,
constants).
"""
from __future__ import annotations

import gc
from collections.abc import Mapping

import numpy as np

from ..reading import Claim, ReadColumns, records_of
from ..tables.mce import INVALID, MceTables
from . import engine as en
from . import rules
from .catalog import EDIT_NAMES, EDITS, ICD10_EDITS, INDEX, POSTPAYMENT, PREPAYMENT
from .result import CodeEdits, EditResult

N_EDITS = len(EDIT_NAMES)
_PRE = np.array([e.payment == PREPAYMENT for e in EDITS])
_POST = np.array([e.payment == POSTPAYMENT for e in EDITS])
CHUNK = 50_000


class EditBatch:
    """The MCE's results for many claims, aligned with the input rows.

    ``edit_type`` (object array; None for a row with an ``error``), ``counts`` (int32, one row per
    claim, one column per edit in CMS order; :meth:`count` gives one edit's column), ``id``,
    ``error`` / ``error_message``.  Per-code edits are kept as masks and turned into
    :class:`EditResult` objects by :meth:`result` / :meth:`results` / :meth:`to_records`."""

    def __init__(self, n, ids, edit_type, counts, error, error_message, codes, masks, release,
                 error_detail=None, warnings=None):
        self.n = n
        self.warnings = warnings or {}     # row -> warnings (INVALID_DISCHARGE_DATE rows)
        self.error_detail = error_detail or [(None, None)] * n    # (field, value) of each error
        self.id = ids
        self.edit_type = edit_type
        self.counts = counts
        self.error = error
        self.error_message = error_message
        self._codes = codes            # pdx list, admit list, sdx flat list, sdx_off, pr flat list, pr_off
        self._masks = masks            # pdx, admit, sdx, pr edit masks (uint64)
        self.release = release

    def __len__(self) -> int:
        return self.n

    def count(self, name: str) -> np.ndarray:
        """The count of one edit for every claim (KeyError for a name that is no MCE edit)."""
        return self.counts[:, INDEX[name]]

    def fields(self, prefix: str = "mce_") -> dict[str, np.ndarray]:
        """The columns of :func:`grouper.mce.edit_fields` for every claim: the edit type (None for
        an error row) and the count of each edit ICD-10 claims can raise (for a batch output)."""
        out = {prefix + "edit_type": self.edit_type}
        for name in ICD10_EDITS:
            out[prefix + name] = self.counts[:, INDEX[name]]
        return out

    def result(self, i: int) -> EditResult | None:
        """Claim ``i``'s :class:`EditResult` (identical to :func:`grouper.edit`), or None for a
        row that carries an ``error``."""
        if self.error[i] is not None:
            return None
        pdx, admit, sdx, sdx_off, pr, pr_off = self._codes
        mp, ma, ms, mr = self._masks
        a, b = int(sdx_off[i]), int(sdx_off[i + 1])
        c, d = int(pr_off[i]), int(pr_off[i + 1])
        return EditResult(
            self.edit_type[i], tuple(self.counts[i].tolist()), _code(pdx[i], int(mp[i]), _PDX),
            None if admit[i] is None else _code(admit[i], int(ma[i]), _ADMIT),
            tuple(_code(x, m, _SDX) for x, m in zip(sdx[a:b], ms[a:b].tolist())),
            tuple(_code(x, m, _PR) for x, m in zip(pr[c:d], mr[c:d].tolist())),
            self.release, self.id[i], self.warnings.get(i, ()))

    def results(self) -> list:
        return [self.result(i) for i in range(self.n)]

    def to_records(self) -> list[dict]:
        """One dict per claim: ``id`` and the labelled-schema fields (as ``result(i).to_dict()``),
        or ``id`` and ``error`` ``{code, message, field, value}``."""
        pdx, admit, sdx, sdx_off, pr, pr_off = self._codes
        mp, ma, ms, mr = (m.tolist() for m in self._masks)
        so, po = sdx_off.tolist(), pr_off.tolist()
        rows, cols = np.nonzero(self.counts)
        vals = self.counts[rows, cols].tolist()
        starts = np.searchsorted(rows, np.arange(self.n + 1)).tolist()
        cols = cols.tolist()
        names = EDIT_NAMES
        et = self.edit_type.tolist()
        out = []
        for i in range(self.n):
            if self.error[i] is not None:
                field, value = self.error_detail[i]
                out.append({"id": self.id[i], "error": {"code": self.error[i], "message": self.error_message[i],
                                                        "field": field, "value": _plain(value)}})
                continue
            a, b = starts[i], starts[i + 1]
            m = ma[i]
            out.append({
                "version_used": self.release, "edit_type": et[i],
                "edits": {names[cols[k]]: vals[k] for k in range(a, b)},
                "pdx": {"code": pdx[i], "edits": list(_PDX(mp[i])) if mp[i] else []},
                "admit_dx": None if admit[i] is None else {"code": admit[i], "edits": list(_ADMIT(m)) if m else []},
                "sdx": [{"code": x, "edits": list(_SDX(k)) if k else []} for x, k in zip(sdx[so[i]:so[i + 1]],
                                                                                         ms[so[i]:so[i + 1]])],
                "procedures": [{"code": x, "edits": list(_PR(k)) if k else []} for x, k in zip(pr[po[i]:po[i + 1]],
                                                                                              mr[po[i]:po[i + 1]])],
                "warnings": [w.to_dict() for w in self.warnings.get(i, ())],
                "id": self.id[i]})
        return out


def _plain(v):
    return v if isinstance(v, (str, int, float, bool, type(None))) else repr(v)


def _decoder(order):
    cache: dict = {}

    def names(mask: int) -> tuple:
        got = cache.get(mask)
        if got is None:
            got = cache[mask] = tuple(EDIT_NAMES[e] for e in order if mask >> e & 1)
        return got
    return names


_PDX, _ADMIT, _SDX, _PR = (_decoder(o) for o in (en.PDX_ORDER, en.ADMIT_ORDER, en.SDX_ORDER, en.PR_ORDER))


def _code(code, mask, names) -> CodeEdits:
    return CodeEdits(code, names(mask)) if mask else CodeEdits(code)


# ------------------------------------------------------------------ reading


def _read(records: list, los, t: MceTables) -> ReadColumns:
    """The claims read by the reading stage (no grouper version, with the stay); a row
    discharged before the release's first ICD-10 date becomes a DATE_BEFORE_ICD10 error row."""
    col = ReadColumns.from_records(records, resolve=False, stay=True, los=los)
    early = np.flatnonzero(col.discharge_date < t.icd10_from).tolist()
    for i in early:
        if col.error[i] is None:
            col.error[i] = en.before_icd10(t, int(col.discharge_date[i]))
            col.error_rows.append(i)
    for i in col.error_rows:              # an error row keeps its id, as the per-claim error names it
        rec = records[i]
        col.id[i] = rec.get("id") if isinstance(rec, Mapping) else getattr(rec, "id", None)
    return col


# ------------------------------------------------------------------ editing


def _blank(codes: list) -> np.ndarray:
    """Blank codes (empty or all zeros)."""
    return np.fromiter((not c.strip("0") for c in codes), dtype=bool, count=len(codes))


def _flags(t: MceTables, prefix: str, codes: list, dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(attribute masks with 0 for invalid/blank codes, invalid flags) of codes on their dates."""
    f = t.lookup_many(prefix, codes, dates)
    bad = f == INVALID
    if bad.any():
        k = np.flatnonzero(bad)
        blank = _blank([codes[i] for i in k.tolist()])
        bad[k[blank]] = False
        f[k] = 0
    return f, bad


def _any(flags: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """The OR of the attribute masks of each claim's codes."""
    out = np.zeros(n, dtype=np.int64)
    if len(flags):
        np.bitwise_or.at(out, owner, flags)
    return out


def _bit(cond: np.ndarray, e: int) -> np.ndarray:
    return cond.astype(np.uint64) << np.uint64(e)


def _edit_columns(t: MceTables, col: ReadColumns) -> EditBatch:
    n = col.n
    b = en.bits(t)
    ok = np.array([e is None for e in col.error], dtype=bool)
    date = col.discharge_date
    valid_date = ok & (date <= t.termination_date)      # rows that are edited
    D = np.where(valid_date, date, 0)
    admit = [None if a == "" else a for a in col.admit_dx]
    sdx_codes, pr_codes, age, status = col.sdx_codes, col.pr_codes, col.age, col.status_number
    nsdx = np.diff(col.sdx_off)
    npr = np.diff(col.pr_off)
    sdx_owner = np.repeat(np.arange(n), nsdx)
    pr_owner = np.repeat(np.arange(n), npr)
    sdx_live = valid_date[sdx_owner]
    pr_live = valid_date[pr_owner]

    # --- attributes and INVALID_CODE / INVALID_ADMIT_DX
    pdx_f = t.lookup_many("dx", col.pdx, D)            # a blank principal diagnosis is no code: invalid
    pdx_bad = (pdx_f == INVALID) & valid_date
    pdx_f[pdx_bad | ~valid_date] = 0
    sdx_f, sdx_bad = _flags(t, "dx", sdx_codes, D[sdx_owner])
    pr_f, pr_bad = _flags(t, "pr", pr_codes, D[pr_owner])
    sdx_bad &= sdx_live
    pr_bad &= pr_live
    has_admit = np.array([a is not None for a in admit], dtype=bool)
    ai = np.flatnonzero(has_admit & valid_date)
    admit_f = np.zeros(n, dtype=np.int64)
    admit_bad = np.zeros(n, dtype=bool)
    if len(ai):
        f, bad = _flags(t, "dx", [admit[i] for i in ai.tolist()], D[ai])
        admit_f[ai] = f
        admit_bad[ai] = bad

    # --- claim-level values
    inv_sex = valid_date & (col.sex == 0) & (D < rules.SEX_UNKNOWN_ACCEPTED_FROM)
    status_ok = np.zeros(n, dtype=bool)
    for code, s, e in t.statuses:
        status_ok |= (status == code) & (s <= D) & (D <= e)
    inv_status = valid_date & ~status_ok
    inv_age = valid_date & ((age < rules.AGE_MIN) | (age > rules.AGE_MAX))
    age_mask = np.zeros(n, dtype=np.int64)
    for _, flag, a0, a1, s, e in t.age_groups:
        conflict = (s <= D) & (D <= e) & ~((a0 <= age) & (age <= a1))
        age_mask |= np.where(conflict, t.dx_bit(flag), 0)
    unknown_conflicts = (col.sex == 0) & (D < rules.SEX_UNKNOWN_ACCEPTED_FROM)
    dx_sex = np.where(col.sex == 1, b.dx_female, np.where(col.sex == 2, b.dx_male,
                                                          np.where(unknown_conflicts, b.dx_male | b.dx_female, 0)))
    pr_sex = np.where(col.sex == 1, b.pr_female, np.where(col.sex == 2, b.pr_male,
                                                          np.where(unknown_conflicts, b.pr_male | b.pr_female, 0)))

    # --- principal diagnosis
    f = pdx_f
    unacc = (f & b.unacceptable) != 0
    reqsdx = (f & b.reqsdx) != 0
    pm = (_bit(pdx_bad, en.INVALID_CODE) | _bit((f & b.ecodepdx) != 0, en.E_CODE_AS_PDX)
          | _bit((f & b.manifestation) != 0, en.MANIFESTATION_AS_PDX)
          | _bit(unacc & ~reqsdx, en.UNACCEPTABLE_PDX) | _bit(unacc & reqsdx & (nsdx == 0), en.REQUIRES_SDX)
          | _bit((f & b.qadm) != 0, en.QUESTIONABLE_ADMISSION) | _bit((f & age_mask) != 0, en.AGE_CONFLICT)
          | _bit((f & dx_sex) != 0, en.SEX_CONFLICT) | _bit((f & b.wrngproc) != 0, en.WRONG_PROCEDURE_PERFORMED)
          | _bit((f & b.unspecified) != 0, en.UNSPECIFIED))
    pm[~valid_date] = 0

    # --- admitting diagnosis (shown, not counted, apart from INVALID_ADMIT_DX)
    am = (_bit(admit_bad, en.INVALID_ADMIT_DX) | _bit((admit_f & age_mask) != 0, en.AGE_CONFLICT)
          | _bit((admit_f & dx_sex) != 0, en.SEX_CONFLICT))
    am[~valid_date] = 0

    # --- secondary diagnoses
    f = sdx_f
    if len(sdx_codes):
        pdx_arr = np.array(col.pdx, dtype=object)
        dup = (np.array(sdx_codes, dtype=object) == pdx_arr[sdx_owner]) & sdx_live
    else:
        dup = np.zeros(0, dtype=bool)
    sm = (_bit(sdx_bad, en.INVALID_CODE) | _bit(dup, en.DUPLICATE_OF_PDX)
          | _bit((f & b.unspecified) != 0, en.UNSPECIFIED) | _bit((f & b.wrngproc) != 0, en.WRONG_PROCEDURE_PERFORMED)
          | _bit((f & age_mask[sdx_owner]) != 0, en.AGE_CONFLICT) | _bit((f & dx_sex[sdx_owner]) != 0, en.SEX_CONFLICT))
    sm[~sdx_live] = 0

    # --- procedures
    f = pr_f
    if len(pr_codes):
        any_sdx = _any(sdx_f, sdx_owner, n)
        any_dx = (any_sdx | pdx_f)[pr_owner]
        any_sdx = any_sdx[pr_owner]
        any_pr = _any(pr_f, pr_owner, n)[pr_owner]
        pr_age = age[pr_owner]
        heart = ((f & (b.arth_a | b.arth_b)) != 0) & ((any_pr & b.arth_a) != 0) & ((any_pr & b.arth_b) != 0)
        trial = (any_dx & b.clintrial) != 0
        ncov = ((f & b.noncovered) != 0) | (
            ((f & b.ncov45) != 0) & ((any_pr & b.kidneyxp) == 0) & ((any_dx & b.diabtypeI) == 0))
        for pbit, dbit in b.ncov_pairs:
            ncov |= ((f & pbit) != 0) & ((any_dx & dbit) != 0)
        ncov |= ((f & b.ncov_age) != 0) & ((pr_age < 0) | (pr_age > rules.NCOV_AGE_MAX))
        ncov |= heart & ~trial
        lcov = ~ncov & (((f & b.lcov) != 0) | (heart & trial))
        rm = (_bit(pr_bad, en.INVALID_CODE) | _bit((f & pr_sex[pr_owner]) != 0, en.SEX_CONFLICT)
              | _bit(((f & b.los) != 0) & (col.los[pr_owner] < rules.MIN_LOS), en.INCONSISTENT_WITH_LENGTH_OF_STAY)
              | _bit(ncov, en.NON_COVERED) | _bit(lcov, en.LIMITED_COVERAGE)
              | _bit(((f & b.delivery) != 0) & ((any_sdx & b.delout) == 0), en.QUESTIONABLE_OBSTETRIC_ADMISSION))
        rm[~pr_live] = 0
    else:
        rm = np.zeros(0, dtype=np.uint64)

    # --- counts and edit type
    counts = np.zeros((n, N_EDITS), dtype=np.int32)
    counts[:, en.INVALID_ADMIT_DX] = admit_bad & valid_date
    counts[:, en.INVALID_SEX] = inv_sex
    counts[:, en.INVALID_DISCHARGE_STATUS] = inv_status
    counts[:, en.INVALID_AGE] = inv_age
    one = np.uint64(1)
    for e in set(en.PDX_ORDER) | set(en.SDX_ORDER) | set(en.PR_ORDER):
        ue = np.uint64(e)
        c = ((pm >> ue) & one).astype(np.int32)
        if len(sm):
            c += np.bincount(sdx_owner, weights=(sm >> ue) & one, minlength=n).astype(np.int32)
        if len(rm):
            c += np.bincount(pr_owner, weights=(rm >> ue) & one, minlength=n).astype(np.int32)
        counts[:, e] = c
    has = counts > 0
    pre = (has & _PRE).any(axis=1)
    post = (has & _POST).any(axis=1)
    kinds = np.array(["NONE", "PREPAYMENT", "POSTPAYMENT", "BOTH"], dtype=object)
    et = kinds[pre.astype(np.int8) + 2 * post.astype(np.int8)]
    late = ok & ~valid_date
    et[late] = "INVALID_DISCHARGE_DATE"
    et[~ok] = None
    warnings = {i: (en.after_release_warning(t, int(date[i])),) for i in np.flatnonzero(late).tolist()}
    ids = np.empty(n, dtype=object)
    ids[:] = col.id
    errors = col.error
    return EditBatch(n, ids, et, counts, np.array([e and e.code for e in errors] + [None], dtype=object)[:n],
                     np.array([e and str(e) for e in errors] + [None], dtype=object)[:n],
                     (col.pdx, admit, sdx_codes, col.sdx_off, pr_codes, col.pr_off), (pm, am, sm, rm),
                     en.release_label(t), [(e.field, e.value) if e else (None, None) for e in errors], warnings)


# ------------------------------------------------------------------ entry


def edit_batch(claims, los=None, *, mce_release=None, tables: MceTables | str | None = None,
               columns=None) -> EditBatch:
    """Run the Medicare Code Editor on many claims; results identical to :func:`grouper.edit`,
    row for row.  ``los``: one length of stay for all claims or a sequence aligned with them
    (default: each claim's ``los`` or admission date); ``mce_release``/``tables`` as for
    :func:`grouper.edit`; ``columns`` the column mapping of a wide table, as for
    :func:`grouper.group_batch`."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        if isinstance(claims, Claim):
            raise TypeError("edit_batch takes many claims; use grouper.edit for one")
        t = en.release_tables(mce_release, tables)
        records = records_of(claims, columns)
        los_seq = None if los is None or isinstance(los, (int, float, str)) else list(los)
        if los_seq is not None and len(los_seq) != len(records):
            raise ValueError(f"los has {len(los_seq)} values for {len(records)} claims")
        parts = []
        for a in range(0, max(len(records), 1), CHUNK):
            lo = los if los_seq is None else los_seq[a:a + CHUNK]
            parts.append(_edit_columns(t, _read(records[a:a + CHUNK], lo, t)))
        return parts[0] if len(parts) == 1 else _concat(parts)
    finally:
        if was_enabled:
            gc.enable()


def _concat(parts: list) -> EditBatch:
    n = sum(p.n for p in parts)
    pdx, admit, sdx, pr = [], [], [], []
    sdx_off, pr_off = [np.zeros(1, dtype=np.int64)], [np.zeros(1, dtype=np.int64)]
    for p in parts:
        a, b, c, so, d, po = p._codes
        sdx_off.append(so[1:] + len(sdx))
        pr_off.append(po[1:] + len(pr))
        pdx += a
        admit += b
        sdx += c
        pr += d
    masks = tuple(np.concatenate([p._masks[k] for p in parts]) for k in range(4))
    warnings, start = {}, 0
    for p in parts:
        warnings.update({start + i: w for i, w in p.warnings.items()})
        start += p.n
    return EditBatch(n, np.concatenate([p.id for p in parts]), np.concatenate([p.edit_type for p in parts]),
                     np.concatenate([p.counts for p in parts]), np.concatenate([p.error for p in parts]),
                     np.concatenate([p.error_message for p in parts]),
                     (pdx, admit, sdx, np.concatenate(sdx_off), pr, np.concatenate(pr_off)), masks, parts[0].release,
                     [x for p in parts for x in p.error_detail], warnings)
