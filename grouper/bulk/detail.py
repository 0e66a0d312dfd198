"""Full-detail output rows (every CMS output field, per-code flags) written straight as JSON
lines: what ``python -m grouper group claims.jsonl -o out.jsonl`` writes by default.

Each claim goes through the per-claim engine's stages (:func:`grouper.engine.pipeline.detail_parts`:
the same functions as :func:`grouper.group`), but its output line is put together from
pieces of JSON text memoized per version instead of result objects turned into dicts and
encoded whole: a secondary diagnosis ``{"code": .., "poa": .., ..., "table_severity": ..}``
with the same flags is the same text in every claim that has it, and so are the claim-level
fields of claims grouped alike.  JSON encoding is compositional (an object's text is its
members' texts joined), so a line is, byte for byte, the encoding of the record
``grouper.group(claim, details=True).to_dict()`` that the command line writes otherwise
(``tests/test_detail_lines.py`` checks it on every labelled claim).

A row this module does not write (an unreadable row or claim, kept input columns, a claim id
or value JSON cannot spell as is) is left to the caller: :func:`detail_rows` gives None in its
place.
"""
from __future__ import annotations

import json
from itertools import compress

from ..engine.pipeline import claim_values, detail_columns, group_stages, read_stages
from ..engine.result import TOP_FIELDS
from ..reading import ClaimError, ReadClaim, claim_warnings

#: where claim_values' tuple holds the final return code
_RETURN_CODE = TOP_FIELDS.index("return_code")
#: memoized pieces per version: at most this many, then started again
PIECES_LIMIT = 200_000

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def _text(s) -> str:
    """The JSON text of a value (an id, a code, a POA): a string quoted as is when it has no
    character JSON escapes (``"``, ``\\``, control characters: printable text without the first
    two; ensure_ascii is off, so other characters are written as they are)."""
    if type(s) is str and s.isprintable() and '"' not in s and "\\" not in s:
        return f'"{s}"'
    return _dumps(s)


class DetailRows:
    """The full-detail output of a chunk of rows: per row its JSON line (``lines``, with its
    newline; None for a row left to the caller), and for the rows written here their return
    code (``return_code``) and warnings (``warnings``, a tuple of :class:`~grouper.ClaimWarning`),
    for the run's counts."""

    __slots__ = ("lines", "return_code", "warnings")

    def __init__(self, lines: list, return_code: list, warnings: list):
        self.lines, self.return_code, self.warnings = lines, return_code, warnings


class _Pieces:
    """The memoized JSON texts of one version's output pieces."""

    def __init__(self, cv, label):
        from ..tables.lookup import SEVERITY
        self.cv = cv
        self.label = label(cv.version)
        self.severity = SEVERITY
        self.titles = cv.vt.hac_titles
        self.fiscal_year = cv.vt.fiscal_year
        self.top: dict = {}
        self.dx_code: dict = {}        # (code, POA) -> the object's text before and after the flags
        self.dx_flags: dict = {}       # the flags -> their members' text
        self.pr: dict = {}
        self.tail: dict = {}

    def full(self) -> bool:
        return len(self.top) + len(self.dx_code) + len(self.dx_flags) + len(self.pr) + len(self.tail) > PIECES_LIMIT

    def hacs(self, raw) -> list:
        titles = self.titles
        return [{"hac_number": number, "hac_list": op, "hac_status": status, "description": titles.get(n, "")}
                for number, op, status, n in raw]

    def dx_text(self, code, poa, info, affects, iu, fu, poa_error, raw) -> str:
        """A diagnosis' object: the code's own members (code, POA, recognized; table MDC and
        severity) around the flags', each memoized (codes repeat less than flags do)."""
        got = self.dx_code.get((code, poa))
        if got is None:
            got = self.dx_code[(code, poa)] = self._dx_code(code, poa, info)
        flags = self.dx_flags.get((affects, iu, fu, poa_error, raw))
        if flags is None:
            flags = self._dx_flags(affects, iu, fu, poa_error, raw)
        return got[0] + flags + got[1]

    def sdx_text(self, columns) -> str:
        """The secondary diagnoses' objects, comma-separated, from
        :func:`~grouper.engine.pipeline.detail_columns`' columns (:meth:`dx_text` of each)."""
        code_get, flags_get = self.dx_code.get, self.dx_flags.get
        out = []
        for key, info, affects, iu, fu, poa_error, raw in zip(*columns):
            got = code_get(key)
            if got is None:
                got = self.dx_code[key] = self._dx_code(key[0], key[1], info)
            flags = flags_get((affects, iu, fu, poa_error, raw))
            if flags is None:
                flags = self._dx_flags(affects, iu, fu, poa_error, raw)
            out += got[0], flags, got[1], ","
        if out:
            out.pop()
        return "".join(out)

    def _dx_flags(self, affects, iu, fu, poa_error, raw) -> str:
        got = self.dx_flags[(affects, iu, fu, poa_error, raw)] = _dumps({
            "affects_drg": affects, "initial_severity_usage": iu, "final_severity_usage": fu,
            "poa_error": poa_error, "hacs": self.hacs(raw)})[1:-1] + ","
        return got

    def _dx_code(self, code, poa, info) -> tuple:
        if info is None:
            after = '"table_mdc":null,"table_severity":null}'
        else:     # an int and one of the severity names: their JSON text is their str()
            after = f'"table_mdc":{int(info.mdc)},"table_severity":"{self.severity[info.severity]}"}}'
        return (f'{{"code":{_text(code)},"poa":{_text(poa)},"recognized":{"false" if info is None else "true"},',
                after)

    def pr_text(self, p, affects, is_or, usage) -> str:
        key = (p.code, p.valid, affects, is_or, usage)
        got = self.pr.get(key)
        if got is None:
            got = self.pr[key] = (f'{{"code":{_text(p.code)},"recognized":{"true" if p.valid else "false"},'
                                  f'"affects_drg":"{affects}","is_or":{"true" if is_or else "false"},'
                                  f'"hac_usage":{_dumps(list(usage)) if usage else "[]"}}}')
        return got

    def top_text(self, values) -> str:
        """``"version":..,`` and the claim-level fields up to ``final_mdc_description``, with the
        comma before ``"pdx"``, of :func:`~grouper.engine.pipeline.claim_values`'s values."""
        got = self.top.get(values)
        if got is None:
            d = {"version": self.label}
            d.update(zip(TOP_FIELDS, values))
            got = self.top[values] = _dumps(d)[1:-1] + ","
        return got

    def tail_text(self, values) -> str:
        """``"fiscal_year":..,"weight":..,"gmlos":..,"amlos":..`` with the commas around it."""
        key = values[-3:]
        got = self.tail.get(key)
        if got is None:
            got = self.tail[key] = "," + _dumps({"fiscal_year": self.fiscal_year, "weight": key[0],
                                                 "gmlos": key[1], "amlos": key[2]})[1:-1] + ","
        return got


def _pieces(cv, label) -> _Pieces:
    key = ("detail pieces", cv.version, label)
    got = cv.memo.get(key)
    if got is None or got.full():
        got = cv.memo[key] = _Pieces(cv, label)
    return got


def detail_rows(rows, *, tables, label, version=None) -> DetailRows:
    """The full-detail JSON lines of a chunk of :class:`grouper.io.Row` (claim mappings read
    as they are: no code normalization or conversion), ``tables`` a TableSet, ``label`` the
    spelling of a version number in the output (431 -> "43.1")."""
    lines: list = []
    rcs: list = []
    warns: list = []
    chunk_pieces: dict = {}        # the chunk's pieces per compiled version (checked for size once a chunk)
    for row in rows:
        got = None
        claim = row.claim
        if row.error is None and not row.kept and type(claim) is dict:
            try:
                got = _line(claim, row.line, tables, version, label, chunk_pieces)
            except (ClaimError, ValueError, TypeError):    # the caller reports it, or writes it its way
                got = None
        if got is None:
            lines.append(None)
            rcs.append(None)
            warns.append(None)
        else:
            lines.append(got[0])
            rcs.append(got[1])
            warns.append(got[2])
    return DetailRows(lines, rcs, warns)


def _line(claim: dict, line, tables, version, label, chunk_pieces: dict):
    """(JSON line, return code, warnings) of one claim mapping."""
    read, edits, run = group_stages(claim, tables, version)
    ws = claim_warnings(claim, read, tables, *edits)
    return _written(claim.get("id"), line, read, run, ws, label, chunk_pieces)


def _written(cid, line, read, run, ws, label, chunk_pieces: dict):
    """(JSON line, return code, warnings) of a claim's id, input line, claim as read, stages and
    warnings."""
    cv = run[0].cv
    pieces = chunk_pieces.get(cv)
    if pieces is None:
        pieces = chunk_pieces[cv] = _pieces(cv, label)
    values = claim_values(read, run)
    pdx, sdx, procs = detail_columns(*run)
    dx_text, pr_text = pieces.dx_text, pieces.pr_text
    parts = ['{"id":', _text(cid), ",", pieces.top_text(values), '"pdx":', dx_text(*pdx),
             ',"sdx":[', pieces.sdx_text(sdx),
             '],"procedures":[', ",".join([pr_text(*x) for x in procs]), "]", pieces.tail_text(values),
             '"warnings":', _dumps([w.to_dict() for w in ws]) if ws else "[]"]
    if line is not None:
        parts.append(f',"line":{line}' if type(line) is int else f',"line":{_dumps(line)}')
    parts.append(',"error":null}\n')
    return "".join(parts), values[_RETURN_CODE], ws


# ------------------------------------------------------------------ claims read a column at a time


def detail_arrow(cols, lines, *, tables, label) -> DetailRows:
    """The full-detail JSON lines of claims read a column at a time from Arrow
    (:func:`grouper.bulk.arrow.columns_from_arrow`, ``lines`` their input line numbers): each
    claim as read from the columns (:func:`claims_as_read`), its warnings those of the whole
    columns (:func:`grouper.bulk.warnings.column_warnings`, equal to :func:`grouper.group`'s
    claim by claim), through the per-claim stages.  A row that cannot be grouped, or that the
    columns do not give as :func:`grouper.reading.read` would, is left to the caller (None), who
    reads it line by line as :func:`detail_rows` leaves rows."""
    from .warnings import column_warnings
    n = cols.n
    reads, spelled = _as_read(cols)
    if spelled is not None:
        warm(cols, *spelled, tables)
    ws_all = column_warnings(cols, tables)
    ids = cols.id.to_pylist()
    out_lines: list = [None] * n
    rcs: list = [None] * n
    warns: list = [None] * n
    chunk_pieces: dict = {}
    for k, read in enumerate(reads):
        if read is None:
            continue
        try:
            got = _written(ids[k], lines[k], read, read_stages(read, tables), ws_all[k], label, chunk_pieces)
        except (ClaimError, ValueError, TypeError):    # left to the caller, as detail_rows leaves it
            continue
        out_lines[k], rcs[k], warns[k] = got
    return DetailRows(out_lines, rcs, warns)


def claims_as_read(cols) -> list:
    """Per row of Arrow-read :class:`~grouper.bulk.columns.Columns` the claim as
    :func:`grouper.reading.read` reads the same row's mapping (a
    :class:`~grouper.reading.ReadClaim`: the same fields, of the same types, codes and POAs
    spelled as written), built from the columns' values; None for a row that carries an error,
    and for every row when some codes were not text (read from other values: left to the
    per-claim reading)."""
    return _as_read(cols)[0]


def _as_read(cols) -> tuple:
    """:func:`claims_as_read`, and the codes as read (principal diagnoses, secondary diagnoses,
    procedures: lists of text, parallel to the columns' code ids; None when not read)."""
    from ..reading.columns import HOSPITAL_CODE, NO_STATUS
    from ..reading.values import read_code
    n = cols.n
    sdx, procs = cols.code_lists
    if cols.arrow is None or not (cols.pdx_text and sdx.text and procs.text):
        return [None] * n, None
    hospital = [None] * (max(HOSPITAL_CODE.values()) + 1)
    for status, code in HOSPITAL_CODE.items():
        hospital[code] = status
    pdx = [x if type(x) is str else read_code(x) for x in cols.pdx.to_pylist()]
    sdx_codes = [x if type(x) is str else read_code(x) for x in sdx.codes.to_pylist()]
    sdx_pairs = list(zip(sdx_codes, sdx.poa_read.tolist()))
    pr_codes = [x if type(x) is str else read_code(x) for x in procs.codes.to_pylist()]
    s_off, p_off = sdx.off.tolist(), procs.off.tolist()
    dstat = [None if d == NO_STATUS else d for d in cols.dstat.tolist()]
    out = list(map(ReadClaim, cols.version.tolist(), pdx, cols.pdx_poa.tolist(),
                   [tuple(sdx_pairs[a:b]) for a, b in zip(s_off, s_off[1:])],
                   [tuple(pr_codes[a:b]) for a, b in zip(p_off, p_off[1:])],
                   cols.sex.tolist(), dstat, [hospital[h] for h in cols.hospital.tolist()],
                   list(cols.admit_dx)))
    for i in cols.error_rows:
        out[i] = None
    return out, (pdx, sdx_codes, pr_codes)


def warm(cols, pdx, sdx_codes, pr_codes, tables) -> None:
    """Make the table facts of a block's codes not yet looked up, for each version its claims
    use, all at once (:meth:`~grouper.engine.compiled.Compiled.warm_dx`; codes as read, ids
    from the columns): what the claims' stages would look up one code at a time, at a fraction
    of the cost.  Only the caches change: every claim is grouped as it would be without."""
    import numpy as np

    from ..engine.compiled import compiled
    pdx_id, sdx_id, pr_id = cols.code_ids(tables)[:3]
    versions = np.unique(cols.version)
    versions = versions[versions >= 0].tolist()
    if len(versions) == 1:
        cv = compiled(tables, versions[0])
        cv.warm_dx(pdx + sdx_codes, pdx_id.tolist() + sdx_id.tolist())
        cv.warm_pr(pr_codes, pr_id.tolist())
        return
    sdx_off, pr_off = cols.code_lists[0].off, cols.code_lists[1].off
    for v in versions:           # the codes of the claims of each version
        rows = cols.version == v
        s = np.repeat(rows, np.diff(sdx_off))
        p = np.repeat(rows, np.diff(pr_off))
        cv = compiled(tables, v)
        cv.warm_dx(list(compress(pdx, rows.tolist())) + list(compress(sdx_codes, s.tolist())),
                   pdx_id[rows].tolist() + sdx_id[s].tolist())
        cv.warm_pr(list(compress(pr_codes, p.tolist())), pr_id[p].tolist())
