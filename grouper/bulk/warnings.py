"""Warnings for many claims at once: the checks of :func:`grouper.reading.checks.check_claim`
applied to whole columns.

Every value's warnings come from the reading stage's own per-value checks
(:func:`grouper.reading.checks.field_warnings`), computed once per distinct value (and
version) and placed at each of its occurrences, in the order ``check_claim`` gives them; a
value that certainly draws no warning (a code spelled as the tables spell it and valid in
the version, a plain POA) is not checked at all.  The claims whose warnings depend on the
claim as a whole -- a repeated code, a secondary diagnosis equal to the principal one, more
than 24 diagnoses or 25 procedures -- or whose codes are not text, and the claims read
from records rather than Arrow columns, get ``check_claim`` itself.  So the warnings are
those of :func:`grouper.group`, claim by claim (tests check it on every labelled claim).
"""
from __future__ import annotations

import bisect
from operator import itemgetter

import numpy as np

from ..reading import Claim, claim_warnings, quick_clean, read_claim
from ..reading.checks import ClaimWarning, field_warnings, version_warnings
from .arrow import to_np

#: stands for the field name in a warning computed once for many occurrences
_FIELD = "\x00field\x00"
_PLAIN_POA = frozenset({"Y", "N", "U", "W", "1", "E"})
NO_WARNINGS = ()

# the order of check_claim: the principal diagnosis, each secondary diagnosis (code, then
# POA), each procedure, then the claim-level values
_PDX, _SDX, _PR = 0, 10, 1_000_000
_AGE, _SEX, _STATUS, _PDX_POA, _HOSPITAL, _DATE, _ADMIT, _VERSION = range(2_000_000, 2_000_008)


def column_warnings(cols, tables) -> list:
    """Per row of :class:`~grouper.bulk.columns.Columns`: its warnings (a tuple of
    :class:`~grouper.ClaimWarning`; none for rows that cannot be grouped)."""
    n = cols.n
    out = [NO_WARNINGS] * n
    ok = np.ones(n, dtype=bool)
    ok[list(cols.error_rows)] = False
    if cols.arrow is None:
        _records_warnings(cols, tables, np.flatnonzero(ok), out)
        return out
    sdx, procs = cols.code_lists
    if not (cols.pdx_text and sdx.text and procs.text):
        _claim_warnings(cols, tables, np.flatnonzero(ok), out)
        return out
    w = _Columns(cols, tables, ok)
    whole = ok & w.claim_level_cases()
    w.ok = ok & ~whole
    entries: list = []
    w.pdx_entries(entries)
    w.sdx_entries(entries)
    w.procedure_entries(entries)
    w.value_entries(entries)
    w.version_entries(entries)
    entries.sort(key=itemgetter(0, 1))        # (row, order) is unique: check_claim's order per row
    for row, _, ws in entries:
        out[row] = out[row] + tuple(ws) if out[row] else tuple(ws)
    _claim_warnings(cols, tables, np.flatnonzero(whole), out)
    return out


def _records_warnings(cols, tables, rows, out) -> None:
    """Claims read from records: :func:`grouper.reading.checks.quick_clean` shows most have
    none; the others get ``check_claim``."""
    recs = cols.records
    vts: dict = {}
    rest = []
    for i in rows.tolist():
        v = int(cols.version[i])
        vt = vts.get(v)
        if vt is None:
            vt = vts[v] = tables.version(v)
        if quick_clean(recs[i], vt, tables):
            out[i] = version_warnings(v, tables)
        else:
            rest.append(i)
    _claim_warnings(cols, tables, np.array(rest, dtype=np.int64), out)


def _claim_warnings(cols, tables, rows, out) -> None:
    rows = rows.tolist()
    for i, rec in zip(rows, cols.records_at(rows)):
        claim = rec if isinstance(rec, Claim) else Claim.from_dict(rec)
        out[i] = claim_warnings(claim, read_claim(claim, int(cols.version[i])), tables)


def _placed(ws, field: str) -> list:
    """A warning list computed for the placeholder field, at ``field``."""
    return [ClaimWarning(w.code, w.field.replace(_FIELD, field), w.value, w.message.replace(_FIELD, field))
            for w in ws]


class _Columns:
    """The raw values of an Arrow chunk, and where each check applies."""

    def __init__(self, cols, tables, ok):
        import pyarrow as pa
        self.pa = pa
        self.cols, self.ts, self.ok = cols, tables, ok
        self.n = cols.n
        self.table = cols.arrow
        self.names = set(self.table.column_names)
        self.sdx, self.procs = cols.code_lists
        self.sdx_owner = np.repeat(np.arange(self.n), np.diff(self.sdx.off))
        self.pr_owner = np.repeat(np.arange(self.n), np.diff(self.procs.off))
        self.version = cols.version.astype(np.int64)
        self._placed: dict = {}

    def column(self, name):
        from .arrow import plain_array
        return plain_array(self.table.column(name)) if name in self.names else None

    # -- claim-level cases: check_claim itself
    def claim_level_cases(self) -> np.ndarray:
        """Rows with more than 24 diagnoses / 25 procedures, a repeated code or a secondary
        diagnosis equal to the principal one (check_claim's upper-cased comparison)."""
        n, cols = self.n, self.cols
        out = (np.diff(self.sdx.off) > 24) | (np.diff(self.procs.off) > 25)
        for codes, owner in ((self.sdx.codes, self.sdx_owner), (self.procs.codes, self.pr_owner)):
            if codes.null_count:               # an entry without a code: ENTRY_MALFORMED, as given
                out[owner[to_np(codes.is_null())]] = True
        (pdx_key, sdx_key), never = self._keys([cols.pdx, self.sdx.codes], cols._ids[:2], cols.exact[:2], "dx")
        if len(sdx_key):
            owner = self.sdx_owner
            same = (sdx_key == pdx_key[owner]) & ~np.isin(sdx_key, never)
            out[owner[same]] = True
            out |= _repeated(owner, sdx_key, n)
        (pr_key,), _ = self._keys([self.procs.codes], cols._ids[2:], cols.exact[2:], "pr")
        if len(pr_key):
            out |= _repeated(self.pr_owner, pr_key, n)
        return out

    def _keys(self, arrays, ids, exact, kind: str):
        """Each code's comparison key in check_claim (``read_code(code).upper()``) as an int: the
        code's id when spelled as the tables spell it, else one per distinct upper-cased text;
        and the keys of "" and "NULL" (never equal to the principal diagnosis)."""
        from .arrow import Encoded, code_finder, code_universe
        find = code_finder(self.ts, kind)
        extra: dict = {}
        base = len(code_universe(self.ts, kind))            # keys past the code ids
        out = []
        for arr, i, e in zip(arrays, ids, exact):
            key = np.where(e, i, -1)
            at = np.flatnonzero(~e)
            if len(at):
                enc = Encoded(arr.take(self.pa.array(at)))
                lut = np.empty(len(enc.values), dtype=np.int64)
                for k, v in enumerate(enc.values):
                    u = "NULL" if v is None else v.upper()
                    got = find(u)
                    if got is None:
                        got = extra.setdefault(u, base + len(extra))
                    lut[k] = got
                key[at] = lut[enc.index]
            out.append(key)
        never = [extra[u] for u in ("", "NULL") if u in extra]
        return out, np.array(never, dtype=np.int64)

    def placed(self, ws, key, k: int, field: str) -> list:
        """``_placed(ws, field)``, made once per (template ``key``, position ``k``): the warnings
        are immutable, and rows with the same value at the same position share them."""
        got = self._placed.get((key, k))
        if got is None:
            got = self._placed[(key, k)] = _placed(ws, field)
        return got

    # -- codes
    def _valid(self, ids, versions, kind: str) -> np.ndarray:
        """Whether each code id is valid in the version of its claim."""
        present = _distinct(versions)
        name = "dx_mdc" if kind == "dx" else "pr_attr"
        if len(present) == 1 and present[0] > 0:             # one version: no selection
            arr = self.ts.version(present[0]).numpy(name)
            return (ids >= 0) & (arr[np.maximum(ids, 0)] >= 0)
        out = np.zeros(len(ids), dtype=bool)
        for v in present:
            if v <= 0:
                continue
            sel = versions == v
            arr = self.ts.version(v).numpy(name)
            out[sel] = (ids[sel] >= 0) & (arr[np.maximum(ids[sel], 0)] >= 0)
        return out

    def _code_entries(self, entries, codes, owner, exact, ids, kind: str, field) -> None:
        """Warnings of the codes at positions that are not spelled as the tables spell them or
        not valid in the claim's version, once per distinct (code, version)."""
        from .arrow import Encoded
        versions = self.version[owner]
        clean = exact & self._valid(ids, versions, kind)
        if kind == "pr" and len(codes):            # Z@ cluster pseudo-codes draw a warning even when valid
            clean &= ~_pseudo_codes(self.ts)[np.maximum(ids, 0)]     # (clean codes: spelled as the tables)
        at = np.flatnonzero(~clean & self.ok[owner])
        if not len(at):
            return
        enc = Encoded(codes.take(self.pa.array(at)))
        key = enc.index.astype(np.int64) * 4096 + versions[at]
        uniq, inv = np.unique(key, return_inverse=True)
        templates = [field_warnings(kind, _FIELD, enc.values[u // 4096], int(u % 4096), self.ts)
                     for u in uniq.tolist()]
        for j, t in zip(at.tolist(), inv.ravel().tolist()):
            ws = templates[t]
            if ws:
                row = int(owner[j])
                entries.append(field(row, j, ws, t))

    def pdx_entries(self, entries) -> None:
        from .arrow import Encoded
        cols = self.cols
        ids, exact = cols._ids[0], cols.exact[0]
        clean = exact & self._valid(ids, self.version, "dx")
        at = np.flatnonzero(~clean & self.ok)
        if not len(at):
            return
        enc = Encoded(cols.pdx.take(self.pa.array(at)))
        key = enc.index.astype(np.int64) * 4096 + self.version[at]
        uniq, inv = np.unique(key, return_inverse=True)
        found = [field_warnings("pdx", "pdx", enc.values[u // 4096], int(u % 4096), self.ts) for u in uniq.tolist()]
        for row, t in zip(at.tolist(), inv.ravel().tolist()):
            if found[t]:
                entries.append((row, _PDX, found[t]))

    def sdx_entries(self, entries) -> None:
        off, owner = self.sdx.off, self.sdx_owner

        def code_entry(row, j, ws, t):
            k = j - int(off[row]) + 1
            return row, _SDX + 2 * k, self.placed(ws, ("sdx", t), k, f"sdx[{k}]")

        self._code_entries(entries, self.sdx.codes, owner, self.cols.exact[1], self.cols._ids[1], "dx", code_entry)
        raw, given = self.sdx.poa_raw, self.sdx.poa_given
        if raw is None or not len(raw):
            return
        from .arrow import Encoded
        enc = self.sdx.poa_enc or Encoded(raw)
        plain = np.array([v in _PLAIN_POA if type(v) is str else False for v in enc.values], dtype=bool)
        clean = plain[enc.index]
        if given is not None:
            clean |= ~given
        at = np.flatnonzero(~clean & self.ok[owner])
        if not len(at):
            return
        u = enc.index[at]
        templates = [None] * len(enc.values)
        for t in _distinct(u):
            templates[t] = field_warnings("poa", _FIELD + ".poa", enc.values[t])
        warns = np.array([bool(ws) for ws in templates], dtype=bool)
        hit = np.flatnonzero(warns[u])
        at, u = at[hit], u[hit]
        rows = owner[at]
        ks = at - off[rows] + 1
        # the placed warnings once per distinct (position, template), then each row's entry
        span = len(templates)
        pairs, which = np.unique(ks * span + u, return_inverse=True)
        placed = [self.placed(templates[t], ("poa", t), k, f"sdx[{k}]")
                  for k, t in zip((pairs // span).tolist(), (pairs % span).tolist())]
        entries.extend(zip(rows.tolist(), (_SDX + 2 * ks + 1).tolist(), [placed[i] for i in which.ravel().tolist()]))

    def procedure_entries(self, entries) -> None:
        off = self.procs.off

        def code_entry(row, j, ws, t):
            k = j - int(off[row]) + 1
            return row, _PR + k, self.placed(ws, ("pr", t), k, f"procedures[{k}]")

        self._code_entries(entries, self.procs.codes, self.pr_owner, self.cols.exact[2], self.cols._ids[2], "pr",
                           code_entry)

    # -- the version's own warnings (WEIGHTS_UNAVAILABLE), last
    def version_entries(self, entries) -> None:
        rows = np.flatnonzero(self.ok)
        for v in _distinct(self.version[rows]):
            ws = version_warnings(int(v), self.ts)
            if ws:
                entries.extend((row, _VERSION, ws) for row in rows[self.version[rows] == v].tolist())

    # -- claim-level values
    def value_entries(self, entries) -> None:
        """The claim-level values' warnings, once per distinct value (and version where the
        check looks codes up); an admitting diagnosis spelled as the tables spell it and valid
        in the claim's version is not checked (it draws none)."""
        from .arrow import Encoded, code_ids, one_chunk, text_dictionary
        rows = np.flatnonzero(self.ok)
        if not len(rows):
            return
        pdx_given = ~to_np(self.cols.pdx.is_null())
        for name, order, absent, by_version, only in (
                ("age", _AGE, None, False, None), ("sex", _SEX, None, False, None),
                ("discharge_status", _STATUS, None, False, None), ("pdx_poa", _PDX_POA, "Y", False, pdx_given),
                ("hospital_status", _HOSPITAL, "NOT_EXEMPT", False, None),
                ("discharge_date", _DATE, None, True, None), ("admit_dx", _ADMIT, None, True, None)):
            col = one_chunk(self.table.column(name)) if name in self.names else None
            at = rows if only is None else rows[only[rows]]
            if not len(at):
                continue
            if col is None:
                values, index = [absent], np.zeros(self.n, dtype=np.int64)
            else:
                enc = Encoded(col)
                values, index = enc.values, enc.index
                if name == "admit_dx" and (self.pa.types.is_string(col.type) or text_dictionary(col) is not None):
                    ids, exact = code_ids(col, self.ts, "dx", "admit_dx")
                    clean = (exact & self._valid(ids, self.version, "dx")) | to_np(col.is_null())
                    at = at[~clean[at]]
                    if not len(at):
                        continue
            if by_version:
                key = index[at] * 4096 + self.version[at]
                uniq, inv = np.unique(key, return_inverse=True)
                found = [field_warnings(name, name, values[u // 4096], int(u % 4096), self.ts)
                         for u in uniq.tolist()]
                inv = inv.ravel()
            else:                                    # the values present among the rows
                present = np.flatnonzero(np.bincount(index[at], minlength=len(values)))
                found = [None] * len(values)
                for k in present.tolist():
                    found[k] = field_warnings(name, name, values[k], None, self.ts)
                inv = index[at]
            warns = np.array([bool(f) for f in found], dtype=bool)
            hit = np.flatnonzero(warns[inv])
            if not len(hit):
                continue
            for row, t in zip(at[hit].tolist(), inv[hit].tolist()):
                entries.append((row, order, found[t]))


def _distinct(values: np.ndarray) -> list[int]:
    """The distinct values of an array of small integers (versions, positions), in order."""
    if not len(values):
        return []
    lo = int(values.min())
    return (np.flatnonzero(np.bincount(values - lo)) + lo).tolist()


def _pseudo_codes(tables) -> np.ndarray:
    """Per procedure code id: whether it is a Z@ cluster pseudo-code (warned about even when valid;
    the codes are sorted, so those starting Z@ or z@ are two runs of ids)."""
    def build():
        codes = tables.pr_codes
        out = np.zeros(len(codes), dtype=bool)
        for prefix in ("Z@", "z@"):
            lo = bisect.bisect_left(codes, prefix)
            hi = lo
            while hi < len(codes) and codes[hi].startswith(prefix):
                hi += 1
            out[lo:hi] = True
        return out
    return tables.cached(("pr_pseudo_codes",), build)


def _repeated(owner: np.ndarray, key: np.ndarray, n: int) -> np.ndarray:
    """Rows in which some key occurs twice (``owner``: the row of each key)."""
    out = np.zeros(n, dtype=bool)
    if len(key) < 2:
        return out
    pair = owner.astype(np.int64) * (int(key.max()) + 1) + key
    s = np.sort(pair)
    dup = s[1:] == s[:-1]
    if dup.any():
        out[s[1:][dup] // (int(key.max()) + 1)] = True
    return out
