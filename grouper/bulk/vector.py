"""The vectorized grouping core: many claims of one version as numpy arrays.

The engine's rules (:mod:`grouper.engine`) applied to columns; every rule is the engine's
own function, called either on a column at once or once per distinct value:

1. preprocessing (:func:`preprocess_columns`): codes are interned to ids of the tables'
   code universe while the claims are read (:class:`grouper.bulk.columns.Columns`), then
   checked against the version; the claim's feature mask (PDX, SDX, procedure and
   claim-level operand bits, word-aligned as in :class:`grouper.engine.compiled.Features`)
   is an OR-reduction over its codes; the claim-level atoms come from tables that
   :class:`VectorTables` fills by calling the rules of :mod:`grouper.engine.atoms` over
   their whole domain (every discharge status, principal-diagnosis class and sex, trauma
   sites), and the procedure counters from the counters' own tallies and tests;
2. severity (:func:`severity_columns`): CC/MCC candidates with
   :func:`grouper.engine.severity.exclusion_key` and ``counted_severity``, and each
   claim's level per suppression set with ``level_for_set``, once per distinct
   (MCC, CC) suppression summary;
3. grouping (:meth:`_Walk.assign`): each formula list is evaluated once per *distinct*
   (masked feature row, levels) among the claims that reach it: with the per-claim path's
   memoized :func:`grouper.engine.grouping.evaluate_list` when they are few, else every
   formula at once over all of them, compiled over bit sets (one bit per distinct row,
   :func:`grouper.engine.formula.compile_bitset_predicate`), first match wins; the walk
   follows the rows' reroutes and :func:`grouper.engine.grouping.next_list` until no claim
   is pending;
4. HAC/POA (:func:`hac_columns`): :func:`grouper.engine.hac.evaluate` for each claim that
   has a HAC-listed secondary diagnosis whose POA is not Y/W, its inputs cut to what the
   HAC formulas read (claims alike share one evaluation);
5. results (:func:`_outcome`): base DRG, medical/surgical, claim severity and HAC status
   from the engine's functions, tabulated over their small domains.

Claims that form procedure clusters (about 2%) are grouped by the per-claim engine:
clusters hide component attributes per formula list.
"""
from __future__ import annotations

import numpy as np

from ..engine import formula as fm
from ..engine import grouping, hac, severity
from ..engine.atoms import (
    ANYDX,
    COMPOSITE,
    COUNTERS,
    FALLTHROUGH,
    MCC_ALIVE,
    NO_MDC,
    NORMAL_NEWBORN,
    ORPROC,
    diagnosis_atoms,
    is_or_procedure,
    principal_atoms,
    procedure_tallies,
    site_bits,
    status_atoms,
)
from ..engine.codes import PRE_MDC, UNGROUPABLE_DRG, ReturnCode, Severity
from ..engine.compiled import Compiled
from ..engine.formula import atoms as formula_atoms
from ..engine.preprocess import formed_clusters
from ..engine.weights import fiscal_year_weights
from ..reading.columns import HOSPITAL_CODE, NO_STATUS
from ..reading.values import SEX_FEMALE, SEX_MALE, SEX_UNKNOWN

U64 = np.uint64
HOSPITAL_OF_CODE = {code: status for status, code in HOSPITAL_CODE.items()}
MAX_STATUS = 99                       # discharge statuses are two digits
SEXES = (SEX_UNKNOWN, SEX_MALE, SEX_FEMALE)
#: the levels a formula can use, as the ``severity`` column's codes index them
SEVERITY_VOCAB = np.array(list(Severity), dtype=object)
_SEVERITY_CODE = {s: k for k, s in enumerate(SEVERITY_VOCAB.tolist())}
#: result columns given also as integer codes (``<name>_code`` in :func:`group_vectors`'
#: results): the row's value is ``VectorTables.vocab[name][code]``, or, where the code is -1,
#: only in the text column (a HAC return code the formula rows do not name)
CODED = ("return_code", "med_surg", "severity", "claim_severity")


# ----------------------------------------------------------- per-version arrays


class VectorTables:
    """Per-code facts of one version as arrays (built once per version), each from the
    engine's per-code facts (:class:`grouper.engine.compiled.DxInfo`, ``PrInfo``) and rules."""

    def __init__(self, cv: Compiled):
        self.cv = cv
        ts = cv.tables
        vt = cv.vt
        F = cv.features
        self.n_words = F.n_words
        n_dx, n_pr = ts.n_dx, ts.n_pr
        K = len(cv.supp_sets)
        assert 2 * K <= 64, "two bits per suppression set in one word (packed levels)"

        # claim-level atoms -> bits in the X word
        self.x0 = F.words["X"][0]
        self.x_items = [(name, F.index[("X", name)] >> (64 * self.x0)) for (ns, name) in F.index if ns == "X"]

        def xbits(names) -> int:
            return F.mask("X", names) >> (64 * self.x0)

        self.x_anydx = U64(xbits({ANYDX}))
        self.x_orproc = U64(xbits({ORPROC}))
        # discharge status (NO_STATUS: missing/invalid) -> its atoms' bits
        self.status_x = np.zeros(MAX_STATUS + 2, dtype=U64)
        for s in range(NO_STATUS, MAX_STATUS + 1):
            self.status_x[s + 1] = xbits(status_atoms(None if s == NO_STATUS else s))

        # diagnoses: facts per attribute profile (invalid codes -> the last profile, no attributes)
        valid = vt.numpy("dx_mdc") >= 0
        self.dx_valid = valid
        self.dx_sev = np.where(valid, vt.numpy("dx_sev"), 0).astype(np.int8)
        self.dx_excl = vt.numpy("dx_excl").astype(np.int64)
        # by code id, the last entry (id -1) for a code that is not one of the version
        self.dx_sev_ext = np.append(self.dx_sev, 0).astype(np.int8)
        self.dx_excl_ext = np.append(np.where(valid, self.dx_excl, 0), 0)
        combo = ((vt.numpy("dx_attr").astype(np.int64) << 32) | (vt.numpy("dx_hac").astype(np.int64) << 16)
                 | vt.numpy("dx_dxcat"))
        combo = np.where(valid, combo, -1)
        uniq, inv = np.unique(combo, return_inverse=True)
        inv = inv.ravel()
        n_prof = len(uniq) + 1
        self.invalid_profile = n_prof - 1
        self.dx_prof = np.where(valid, inv, self.invalid_profile).astype(np.int32)
        self.prof_words = np.zeros((n_prof, F.n_words), dtype=U64)
        self.prof_sup = np.zeros(n_prof, dtype=np.int64)
        self.prof_newborn = np.zeros(n_prof, dtype=bool)
        self.prof_mccalive = np.zeros(n_prof, dtype=bool)
        self.prof_sites = np.zeros(n_prof, dtype=np.uint8)
        first = np.zeros(n_prof, dtype=np.int64)
        first[inv[::-1]] = np.arange(n_dx)[::-1]
        for p in range(n_prof - 1):
            if uniq[p] < 0:
                continue
            # DxInfo's facts, from the attributes the profile's codes share
            a = cv.dx_attrs(int(first[p]))
            pbits, sbits, self.prof_sup[p] = cv.attr_bits(a)
            self.prof_words[p] = words_of(pbits | sbits, F.n_words)
            self.prof_newborn[p] = NORMAL_NEWBORN in a
            self.prof_mccalive[p] = MCC_ALIVE in a
            self.prof_sites[p] = site_bits(a)
        p0, pn = F.words["P"]
        s0, sn = F.words["S"]
        r0, rn = F.words["R"]
        self.p_slice, self.s_slice, self.r_slice = slice(p0, p0 + pn), slice(s0, s0 + sn), slice(r0, r0 + rn)
        # the words a code can set, contiguous: a PDX sets P bits, an SDX S bits
        self.prof_p = np.ascontiguousarray(self.prof_words[:, self.p_slice])
        self.prof_s = np.ascontiguousarray(self.prof_words[:, self.s_slice])
        self.fall_bit = U64(F.index[("S", FALLTHROUGH)] >> (64 * s0))
        # what a secondary diagnosis adds to its claim, ORed over the claim in one pass: its
        # S words, then a word of flags (bit 0: a code of the version that is not a normal
        # newborn's, bits 8-15: its trauma sites)
        self.prof_s_flags = np.zeros((n_prof, sn + 1), dtype=U64)
        self.prof_s_flags[:, :sn] = self.prof_s
        known = np.zeros(n_prof, dtype=bool)
        known[:n_prof - 1] = uniq >= 0
        self.prof_s_flags[:, sn] = ((known & ~self.prof_newborn).astype(U64)
                                    | (self.prof_sites.astype(U64) << U64(8)))
        # profile by code id, the last entry (id -1) for a code that is not one of the version
        self.dx_prof_ext = np.append(self.dx_prof, self.invalid_profile).astype(np.int32)
        # diagnoses taken together: (PDX newborn, every SDX newborn, trauma sites) -> atoms' bits
        self.diag_x = np.zeros((2, 2, 256), dtype=U64)
        for a in (0, 1):
            for b in (0, 1):
                for s in range(256):
                    self.diag_x[a, b, s] = xbits(diagnosis_atoms(bool(a), bool(b), s))

        # principal diagnosis: its class (valid?, table MDC, sex-dependent MDCs) -> per sex
        # the claim's MDC and the atoms' bits (the last class: not a code of the version)
        gender = np.full((n_dx, 2), -1, dtype=np.int64)
        for i, (m, f) in vt.gender_mdc.items():
            gender[i] = (m, f)
        mdcs = np.where(valid, vt.numpy("dx_mdc"), NO_MDC).astype(np.int64)
        # the three small integers (MDC numbers or -1) as one key, 20 bits each
        key = ((mdcs + 1) << 40) | ((gender[:, 0] + 1) << 20) | (gender[:, 1] + 1)
        classes, cls_inv = np.unique(key, return_inverse=True)
        n_cls = len(classes) + 1
        self.dx_pdx_class = cls_inv.ravel().astype(np.int32)
        self.invalid_pdx_class = n_cls - 1
        self.class_mdc = np.zeros((n_cls, 3), dtype=np.int16)
        self.class_x = np.zeros((n_cls, 3), dtype=U64)
        for c in range(n_cls):
            k = int(classes[c]) if c < n_cls - 1 else None
            mdc, gm, gf = ((k >> 40) - 1, ((k >> 20) & 0xFFFFF) - 1, (k & 0xFFFFF) - 1) if k is not None \
                else (NO_MDC, -1, -1)
            for sex in SEXES:
                pdx_mdc, atoms = principal_atoms(mdc, (gm, gf) if gm >= 0 else None, sex)
                self.class_mdc[c, sex], self.class_x[c, sex] = pdx_mdc, xbits(atoms)

        # HAC: the codes on a HAC list as a secondary diagnosis
        self.dx_hac_listed = np.zeros(n_dx, dtype=bool)
        index = ts.dx_index
        for code, entry in cv.hac_code_info.items():
            if cv.hac_lists_of(entry):
                i = index.get(code)
                if i is not None and valid[i]:
                    self.dx_hac_listed[i] = True

        # procedures: facts per attribute pattern
        self.pr_pat = vt.numpy("pr_attr").astype(np.int32)
        pats = sorted(set(ts.pr_patterns) | {0})
        n_pat = max(pats) + 2
        self.pat_words = np.zeros((n_pat, F.n_words), dtype=U64)
        self.pat_or = np.zeros(n_pat, dtype=bool)
        self.pat_tally = np.zeros((n_pat, len(COUNTERS)), dtype=np.int64)
        self.pat_presence = np.zeros((n_pat, len(COUNTERS)), dtype=np.int64)
        for p in pats:
            a = frozenset(ts.pr_patterns.get(p, ()))
            self.pat_words[p] = words_of(F.mask("R", a), F.n_words)
            self.pat_or[p] = is_or_procedure(a)
            self.pat_tally[p], self.pat_presence[p] = procedure_tallies(a)
        self.pat_r = np.ascontiguousarray(self.pat_words[:, self.r_slice])    # procedures set R bits only
        # a procedure's R words and a word of flags (bit 0: an OR procedure), and whether it has any
        self.pat_r_flags = np.zeros((n_pat, rn + 1), dtype=U64)
        self.pat_r_flags[:, :rn] = self.pat_r
        self.pat_r_flags[:, rn] = self.pat_or.astype(U64)
        self.pat_nonzero = self.pat_r_flags.any(axis=1)
        self.pat_counted = self.pat_tally.any(axis=1)
        # the procedures that take part in a cluster (the claims that may form one): a code
        # outside them changes no cluster's formation
        self.pr_clustered = np.zeros(n_pr, dtype=bool)
        self.pr_clustered[list(cv.clusters_of)] = True
        self.pr_clustered[vt.numpy("ch_codes")] = True     # every code of every cluster's choices

        # formula lists: feature-word masks
        self.list_words = {lst: words_of(bits, F.n_words) for lst, (bits, _) in cv.list_plan.items()}
        # per list: the two-bit level fields of the suppression sets its formulas read
        self.list_level_mask = {lst: U64(sum(3 << (2 * k) for k in supp)) for lst, (_, supp) in cv.list_plan.items()}
        self.list_cols = {}
        for lst, w in self.list_words.items():
            cols = np.flatnonzero(w)
            self.list_cols[lst] = (cols, w[cols])
        self.max_rounds = len(cv.lists) + 1          # a claim never evaluates a list twice

        # every formula row as arrays, by row index; return codes as small integers
        self.rows = [r for lst in sorted(cv.lists) for r in cv.lists[lst]]
        self.row_index = {id(r): k for k, r in enumerate(self.rows)}
        self.rc_names = [ReturnCode.OK, ReturnCode.UNGROUPABLE] + sorted({r.error for r in self.rows if r.error})
        self.rc_code = {name: k for k, name in enumerate(self.rc_names)}
        self.row_drg = np.array([r.drg for r in self.rows], dtype=np.int32)
        self.row_reroute = np.array([r.reroute_mdc for r in self.rows], dtype=np.int16)
        self.row_reports_mdc = np.array([r.reports_mdc for r in self.rows], dtype=bool)
        self.row_rc = np.array([self.rc_code[r.error] if r.error else -1 for r in self.rows], dtype=np.int16)
        self.row_supp = np.array([r.supp_index for r in self.rows], dtype=np.int64)
        self.row_reports = np.array([r.reports_claim_severity for r in self.rows], dtype=bool)
        self.row_words = np.stack([words_of(r.bits, F.n_words) for r in self.rows])   # the bits each formula tests
        self.row_has_sev = np.array([any(a.kind == "SEV" for a in formula_atoms(r.node)) for r in self.rows],
                                    dtype=bool)
        # (base DRG, medical/surgical) by row index, the last entry for "not grouped"
        facts = [grouping.assignment_facts(True, r) for r in self.rows] + [grouping.assignment_facts(False, None)]
        self.row_base = np.array([f[0] for f in facts], dtype=np.int32)
        self.row_med_surg = np.array([f[1] for f in facts], dtype=object)
        # claim severity by (grouped, the row reports one, level)
        self.claim_severity = np.array([[[grouping.claim_severity(bool(g), bool(r), lv) for lv in range(3)]
                                         for r in (0, 1)] for g in (0, 1)], dtype=object)
        # HAC status by (criteria met, initial grouped, final grouped, DRG changed)
        self.hac_status = np.array([hac.hac_status(*map(bool, (m, i, f, c)))
                                    for m in (0, 1) for i in (0, 1) for f in (0, 1) for c in (0, 1)],
                                   dtype=object).reshape(2, 2, 2, 2)
        # the texts a result column's integer codes index (:data:`CODED`)
        self.vocab = {"return_code": np.array(self.rc_names + [None], dtype=object),
                      "med_surg": self.row_med_surg, "severity": SEVERITY_VOCAB,
                      "claim_severity": self.claim_severity.ravel(), "hac_status": self.hac_status.ravel()}
        self._bitset_plans: dict = {}
        self._hac_inputs = None
        self._exclusions = None
        self.formed: dict = {}         # set of cluster components -> whether they form a cluster

    def hac_inputs(self) -> _HacInputs:
        """The HAC formulas' operands and the codes' HAC inputs (:class:`_HacInputs`, built on first use)."""
        if self._hac_inputs is None:
            self._hac_inputs = _HacInputs(self)
        return self._hac_inputs

    def exclusion_bitmap(self) -> tuple[np.ndarray, np.ndarray, int]:
        """The tables' CC-exclusion pairs (:func:`grouper.engine.severity.exclusion_key`) of the
        version's CC/MCC codes as a bitmap, built on first use: ``(bitmap, cc_index, n_cc)``, the
        pair (exclusion list L, code i) at bit ``L * n_cc + cc_index[i]``."""
        if self._exclusions is None:
            ts = self.cv.tables
            n_dx = len(ts.dx_codes)
            cc = self.dx_sev > 0
            cc_index = np.cumsum(cc) - 1
            n_cc = int(cc.sum())
            keys = ts.exclusion_keys_sorted
            lists, code = np.divmod(keys, n_dx)
            assert (severity.exclusion_key(lists, code, n_dx) == keys).all()
            keep = cc[code]
            at = lists[keep] * n_cc + cc_index[code[keep]]
            n_lists = max(int(lists.max(initial=0)), int(self.dx_excl.max(initial=0))) + 1
            bitmap = np.zeros(n_lists * n_cc // 8 + 1, dtype=np.uint8)
            np.bitwise_or.at(bitmap, at >> 3, (1 << (at & 7)).astype(np.uint8))
            self._exclusions = (bitmap, cc_index, n_cc)
        return self._exclusions

    def bitset_plan(self, lst: int) -> tuple:
        """For :meth:`_Walk._eval_bitsets`: per feature word the list reads, the positions of
        the bits it tests; and (row index, ``f(B, V2, V1)``, suppression set) of every formula
        of list ``lst`` that can assign, reroute or error, in list order (compiled on first use)."""
        got = self._bitset_plans.get(lst)
        if got is None:
            bit = self.cv.features.bit
            cols, lw = self.list_cols[lst]
            positions = [np.flatnonzero((w >> np.arange(64, dtype=U64)) & U64(1)) for w in lw.tolist()]
            preds = [(self.row_index[id(r)], fm.compile_bitset_predicate(r.node, bit), r.supp_index)
                     for r in self.cv.lists[lst] if r.drg or r.reroute_mdc or r.error]
            got = self._bitset_plans[lst] = (positions, preds)
        return got


def objects(n: int, value=None) -> np.ndarray:
    """An object array of ``n`` times ``value`` (np.full converts object by object: 30 times slower)."""
    out = np.empty(n, dtype=object)          # all None
    if value is not None:
        out.fill(value)
    return out


def words_of(mask: int, n_words: int) -> np.ndarray:
    """A feature mask (int) as a row of uint64 words."""
    return np.frombuffer(mask.to_bytes(8 * n_words, "little"), dtype="<u8").astype(U64)


def mask_of(row: np.ndarray) -> int:
    """A row of uint64 words as a feature mask (int)."""
    return int.from_bytes(row.astype("<u8").tobytes(), "little")


def vector_tables(cv: Compiled) -> VectorTables:
    return cv.tables.cached(("vector", cv.version), lambda: VectorTables(cv))


# -------------------------------------------------------------- segment helpers


def _seg_or(values: np.ndarray, off: np.ndarray, n: int) -> np.ndarray:
    """OR of ``values`` rows per segment ``off[i]:off[i+1]`` (zeros for empty segments)."""
    shape = (n,) + values.shape[1:]
    out = np.zeros(shape, dtype=values.dtype)
    nonempty = off[1:] > off[:-1]
    if len(values) and nonempty.all():
        return np.bitwise_or.reduceat(values, off[:-1], axis=0)
    if len(values) and nonempty.any():
        out[nonempty] = np.bitwise_or.reduceat(values, off[:-1][nonempty], axis=0)
    return out


def segment_rows(off: np.ndarray, claims: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat positions of the segments of ``claims`` and their offsets among them."""
    lens = off[claims + 1] - off[claims]
    sub_off = np.zeros(len(claims) + 1, dtype=np.int64)
    np.cumsum(lens, out=sub_off[1:])
    rows = np.repeat(off[claims] - sub_off[:-1], lens) + np.arange(sub_off[-1])
    return rows, sub_off


def _runs_reduce(ufunc, values: np.ndarray, owner: np.ndarray, n: int, empty):
    """``ufunc`` of ``values`` per owner (owners sorted ascending), ``empty`` for the others."""
    out = np.full(n, empty, dtype=values.dtype)
    if len(values):
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        out[owner[starts]] = ufunc.reduceat(values, starts)
    return out


_MIX = U64(0x9E3779B97F4A7C15)


def _distinct_rows(*parts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(first, inv)`` of the distinct rows of uint64 arrays (2-D, or 1-D as one column)
    taken side by side: the index of one row per distinct value and, for every row, the
    position of its value in ``first``.  Several columns are hashed to one word and sorted
    by hash (much faster than sorting whole rows); rows of equal hash are checked to be
    equal, and on a hash collision the rows are sorted whole instead."""
    cols = [c for p in parts for c in ([p] if p.ndim == 1 else [p[:, j] for j in range(p.shape[1])])]
    n = len(cols[0])
    if not n:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if len(cols) == 1:
        h = cols[0]
    else:
        h = np.zeros(n, dtype=U64)
        with np.errstate(over="ignore"):
            for c in cols:
                h ^= c
                h *= _MIX
                h ^= h >> U64(29)
    order = np.argsort(h)
    hs = h[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(hs[1:], hs[:-1], out=new[1:])
    if len(cols) > 1:
        differ = np.zeros(n - 1, dtype=bool)
        for c in cols:
            cs = c[order]
            differ |= cs[1:] != cs[:-1]
        if (differ & ~new[1:]).any():        # equal hashes, different rows
            rows = np.ascontiguousarray(np.stack(cols, axis=1))
            void = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
            _, first, inv = np.unique(void, return_index=True, return_inverse=True)
            return first, inv.ravel()
    inv = np.empty(n, dtype=np.int64)
    inv[order] = np.cumsum(new) - 1
    return order[new], inv


# ----------------------------------------------------------------- the kernel


class Batch:
    """Claims of one version in columnar form, as the CMS grouper reads them: codes as ids
    in the code universe of the tables (-1: in no version), CSR offsets."""

    def __init__(self, pdx_id, sdx_id, sdx_poa_class, sdx_off, pr_id, pr_off, sex, dstat, hospital,
                 sdx_lower=None):
        self.pdx_id = pdx_id            # int64 (n)
        self.sdx_id = sdx_id            # int64 flat
        self.sdx_poa_class = sdx_poa_class   # int8 flat: grouper.engine.hac.PoaClass
        self.sdx_off = sdx_off          # int64 (n+1)
        self.pr_id = pr_id              # int64 flat
        self.pr_off = pr_off
        self.sex = sex                  # int8: 0 unknown, 1 male, 2 female
        self.dstat = dstat              # int16: NO_STATUS = invalid/none
        self.hospital = hospital        # int8: grouper.reading.columns.HOSPITAL_CODE
        self.n = len(pdx_id)
        # bool flat: the secondary diagnosis is written in lower case (never CC-excluded,
        # grouper.engine.severity.written_in_lower_case); None: none is
        self.sdx_lower = sdx_lower if sdx_lower is not None else np.zeros(len(sdx_id), dtype=bool)


class Preprocessed:
    """What preprocessing found about a batch (:func:`preprocess_columns`)."""

    def __init__(self, **columns):
        self.__dict__.update(columns)


#: the sets of cluster components remembered per version (VectorTables.formed)
FORMED_LIMIT = 100_000


def preprocess_columns(vtab: VectorTables, b: Batch) -> Preprocessed:
    """Codes valid in the version, the claims that form a procedure cluster (``fallback``:
    the per-claim engine groups them), the claim's MDC and every claim's feature mask
    (``words``: one row of uint64 words per claim, :meth:`grouper.engine.preprocess.ClaimState.mask`
    for a claim without clusters)."""
    cv = vtab.cv
    n = b.n
    pdx_id = np.where(vtab.dx_valid[b.pdx_id] & (b.pdx_id >= 0), b.pdx_id, -1)
    sdx_id = np.where(vtab.dx_valid[b.sdx_id] & (b.sdx_id >= 0), b.sdx_id, -1)
    pr_id = np.where((vtab.pr_pat[b.pr_id] >= 0) & (b.pr_id >= 0), b.pr_id, -1)
    sdx_claim = np.repeat(np.arange(n), np.diff(b.sdx_off))
    pr_claim = np.repeat(np.arange(n), np.diff(b.pr_off))
    sdx_valid, pr_valid, pdx_valid = sdx_id >= 0, pr_id >= 0, pdx_id >= 0

    # claims that form a procedure cluster: per-claim engine.  Whether a claim's procedures
    # form one depends on its cluster components only (every code of a cluster's choices is
    # one of them, VectorTables.pr_clustered): once per distinct set of components.
    fallback = np.zeros(n, dtype=bool)
    if pr_valid.any():
        clus = np.flatnonzero(pr_valid & vtab.pr_clustered[np.maximum(pr_id, 0)])
        if len(clus):
            owner = pr_claim[clus]
            starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]).tolist() + [len(clus)]
            ids, owners = pr_id[clus].tolist(), owner.tolist()
            forms = vtab.formed
            if len(forms) > FORMED_LIMIT:
                forms.clear()
            for a, z in zip(starts[:-1], starts[1:]):
                key = frozenset(ids[a:z])
                got = forms.get(key)
                if got is None:
                    got = forms[key] = bool(formed_clusters(cv, key))
                fallback[owners[a]] = got

    # attribute words: the principal diagnosis' P bits, the OR of the secondary diagnoses' S
    # bits and of the procedures' R bits
    pdx_prof = vtab.dx_prof_ext[pdx_id]
    sdx_prof = vtab.dx_prof_ext[sdx_id]
    pr_pat = np.where(pr_valid, vtab.pr_pat[np.maximum(pr_id, 0)], 0)
    words = np.zeros((n, vtab.n_words), dtype=U64)
    words[:, vtab.p_slice] = np.take(vtab.prof_p, pdx_prof, axis=0)
    sn = vtab.s_slice.stop - vtab.s_slice.start
    if len(sdx_id):
        red = _seg_or(np.take(vtab.prof_s_flags, sdx_prof, axis=0), b.sdx_off, n)
        words[:, vtab.s_slice] = red[:, :sn]
        flags = red[:, sn]
    else:
        flags = np.zeros(n, dtype=U64)
    any_or = np.zeros(n, dtype=bool)
    rows = np.flatnonzero(pr_valid & vtab.pat_nonzero[pr_pat])
    if len(rows):                        # the procedures with R bits or flags, by claim
        owner = pr_claim[rows]
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        red = np.bitwise_or.reduceat(np.take(vtab.pat_r_flags, pr_pat[rows], axis=0), starts, axis=0)
        words[owner[starts], vtab.r_slice] = red[:, :-1]
        any_or[owner[starts]] = (red[:, -1] & U64(1)) != 0
    # the newborn fall-through operand (grouper.engine.atoms.FALLTHROUGH_RULE)
    any_not_newborn = (flags & U64(1)) != 0
    s0 = vtab.s_slice.start
    words[:, s0] = np.where(any_not_newborn, words[:, s0] | vtab.fall_bit, words[:, s0] & ~vtab.fall_bit)

    # claim-level atoms, from the tables of grouper.engine.atoms' rules
    sex = b.sex.astype(np.intp)
    pdx_class = np.where(pdx_valid, vtab.dx_pdx_class[np.maximum(pdx_id, 0)], vtab.invalid_pdx_class)
    pdx_mdc = vtab.class_mdc[pdx_class, sex].astype(np.int16)
    x = vtab.x_anydx | vtab.status_x[b.dstat.astype(np.intp) + 1] | vtab.class_x[pdx_class, sex]
    sites = vtab.prof_sites[pdx_prof] | ((flags >> U64(8)) & U64(0xFF)).astype(np.uint8)
    pdx_newborn = (pdx_valid & vtab.prof_newborn[pdx_prof]).astype(np.intp)
    x |= vtab.diag_x[pdx_newborn, (~any_not_newborn).astype(np.intp), sites]
    x |= np.where(any_or, vtab.x_orproc, U64(0))
    if len(pr_id):
        x |= _counter_bits(vtab, pr_valid, pr_pat, pr_claim, n)
    words[:, vtab.x0] |= x
    return Preprocessed(pdx_id=pdx_id, sdx_id=sdx_id, pr_id=pr_id, sdx_claim=sdx_claim, sdx_valid=sdx_valid,
                        pdx_valid=pdx_valid, sdx_prof=sdx_prof, pdx_mdc=pdx_mdc, words=words, fallback=fallback)


def _counter_bits(vtab, pr_valid, pr_pat, pr_claim, n) -> np.ndarray:
    """The X bits of the procedure counters (grouper.engine.atoms.COUNTERS): each claim's
    total tally (sum, or OR for a distinct counter) and OR of presences, tested by the
    counters' own ``holds``; summed over the few procedures that carry a counted attribute."""
    out = np.zeros(n, dtype=U64)
    rel = np.flatnonzero(pr_valid & vtab.pat_counted[pr_pat])
    if not len(rel):
        return out
    cl, pp = pr_claim[rel], pr_pat[rel]
    true = {}
    for k, c in enumerate(COUNTERS):
        tally = vtab.pat_tally[pp, k]
        if c.distinct:
            total = np.zeros(n, dtype=np.uint8)
            np.bitwise_or.at(total, cl, tally.astype(np.uint8))
        else:
            total = np.bincount(cl, weights=tally, minlength=n).astype(np.int64)
        present = np.zeros(n, dtype=np.int64)
        if c.each:
            np.bitwise_or.at(present, cl, vtab.pat_presence[pp, k])
        true[c.atom] = c.holds(total, present)
    for name, parts in COMPOSITE.items():
        true[name] = np.logical_or.reduce([true[p] for p in parts])
    for name, holds in true.items():
        bits = vtab.cv.features.mask("X", {name}) >> (64 * vtab.x0)
        if bits:
            out |= np.where(holds, U64(bits), U64(0))
    return out


def severity_columns(vtab: VectorTables, b: Batch, pre: Preprocessed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per secondary diagnosis: the severity it counts at, its suppression-set bits, and
    whether the principal diagnosis excludes it (grouper.engine.severity)."""
    sdx_id, sdx_claim = pre.sdx_id, pre.sdx_claim
    sev = vtab.dx_sev_ext[sdx_id]
    excluded = np.zeros(len(sdx_id), dtype=bool)
    if not len(sdx_id):
        return sev, np.zeros(0, np.int64), excluded
    pdx_excl = vtab.dx_excl_ext[pre.pdx_id]
    # the CC/MCC codes of claims whose principal diagnosis has an exclusion list
    pairs = np.flatnonzero((sev > 0) & (pdx_excl[sdx_claim] > 0))
    if len(pairs):
        bitmap, cc_index, n_cc = vtab.exclusion_bitmap()
        at = pdx_excl[sdx_claim[pairs]] * n_cc + cc_index[sdx_id[pairs]]
        on_list = ((bitmap[at >> 3] >> (at & 7).astype(np.uint8)) & 1).astype(bool)
        excluded[pairs] = severity.excluded_by_pdx(on_list, b.sdx_lower[pairs])
    died_mccalive = np.zeros(len(sdx_id), dtype=bool)
    alive = np.flatnonzero(vtab.prof_mccalive[pre.sdx_prof])
    died_mccalive[alive] = b.dstat[sdx_claim[alive]] == severity.DIED_STATUS
    count_sev = severity.counted_severity(sev, excluded, died_mccalive).astype(np.int8)
    sup = np.zeros(len(sdx_id), dtype=np.int64)            # read only where the code counts
    counts = np.flatnonzero(count_sev)
    sup[counts] = vtab.prof_sup[pre.sdx_prof[counts]]
    return count_sev, sup, excluded


RC_OK, RC_UNGROUPABLE, RC_PENDING = 0, 1, -1
#: a list is evaluated over bit sets when more than this many distinct feature rows reach it
#: (fewer: one memoized per-claim evaluation per distinct row is cheaper)
VECTOR_EVAL_MIN = 16


def _list_bit(lst):
    """The bit of a formula list in a claim's visited-lists mask (list 99 shares bit 62)."""
    return np.int64(1) << np.minimum(lst, 62).astype(np.int64)


class _Walk:
    """The grouping walk over a batch: list evaluation, reroutes, and the CC/MCC levels."""

    def __init__(self, vtab, b, pre: Preprocessed, count_sev, sup):
        self.vtab, self.b, self.n = vtab, b, b.n
        self.words, self.pdx_mdc, self.fallback = pre.words, pre.pdx_mdc, pre.fallback
        self.sdx_claim, self.count_sev, self.sup = pre.sdx_claim, count_sev, sup
        self._groups = 0          # groups of claims alike to a list numbered so far

    def levels(self, removed: np.ndarray, claims: np.ndarray | None = None) -> tuple:
        """The level of every claim (or of the ``claims`` given) for every suppression set of the
        version, without the ``removed`` secondary diagnoses: grouper.engine.severity.level_for_set
        of each claim's (MCC, CC) suppression summary, computed once per distinct summary.
        Returns ``(table, inv, packed)``: the (d, K) levels of the distinct summaries, each
        claim's row of ``table`` and each claim's levels in one word, two bits per set."""
        K = len(self.vtab.cv.supp_sets)
        cs, sup, owner = self.count_sev, self.sup, self.sdx_claim
        n = self.n
        if claims is not None:        # the claims' secondary diagnoses only, the claims numbered 0..
            rows, sub_off = segment_rows(self.b.sdx_off, claims)
            cs, sup, removed = cs[rows], sup[rows], removed[rows]
            owner = np.repeat(np.arange(len(claims)), np.diff(sub_off))
            n = len(claims)
        counting = (cs > 0) & ~removed
        mcc = np.flatnonzero(counting & (cs == severity.MCC))
        cc = np.flatnonzero(counting & (cs == severity.CC))
        mcc_sup = _runs_reduce(np.bitwise_and, sup[mcc], owner[mcc], n, np.int64(severity.ALL_SETS))
        cc_sup = _runs_reduce(np.bitwise_and, sup[cc], owner[cc], n, np.int64(severity.ALL_SETS))
        if K <= 31:          # level_for_set reads bits 0..K-1: both summaries in one word
            low = np.int64((1 << K) - 1)
            mcc_sup, cc_sup = mcc_sup & low, cc_sup & low
            first, inv = _distinct_rows((mcc_sup << K | cc_sup).view(U64))
        else:
            first, inv = _distinct_rows(mcc_sup.view(U64), cc_sup.view(U64))
        ks = np.arange(K, dtype=np.int64)[None, :]
        table = severity.level_for_set(mcc_sup[first][:, None], cc_sup[first][:, None], ks).astype(np.int8)
        packed = np.bitwise_or.reduce(table.astype(U64) << (2 * np.arange(K)).astype(U64), axis=1)
        if claims is not None:
            full = np.zeros(self.n, dtype=np.int64)
            full[claims] = inv
            inv = full
        return table, inv, packed[inv]

    def assign(self, removed: np.ndarray, only: np.ndarray | None = None) -> dict:
        """Pre-MDC, MDC and reroutes for every claim (or the ``only`` subset), until no
        claim is pending: (drg, mdc, return-code number, row index, level the row saw)."""
        vtab = self.vtab
        n = self.n
        lv = self.levels(removed, None if only is None else np.flatnonzero(only & ~self.fallback))
        drg = np.zeros(n, dtype=np.int32)
        mdc = np.zeros(n, dtype=np.int16)
        rc = np.full(n, RC_PENDING, dtype=np.int16)
        row_out = np.full(n, -1, dtype=np.int32)
        level_row = np.zeros(n, dtype=np.int8)
        group = np.full(n, -1, dtype=np.int64)
        report = np.where(self.pdx_mdc != NO_MDC, self.pdx_mdc, 0).astype(np.int16)
        cur = np.full(n, PRE_MDC, dtype=np.int16)           # current formula list
        visited = np.zeros(n, dtype=np.int64)               # lists evaluated (_list_bit)
        active = ~self.fallback
        if only is not None:
            active = active & only

        def stop(j, code):                                   # ungroupable: no DRG
            drg[j], rc[j], active[j] = UNGROUPABLE_DRG, code, False

        def go(j, nxt):                                      # continue with list nxt, unless seen
            ended = (nxt == grouping.NO_LIST)
            seen = ~ended & ((visited[j] & _list_bit(np.maximum(nxt, 0))) != 0)
            stop(j[ended | seen], RC_UNGROUPABLE)
            cur[j[~(ended | seen)]] = nxt[~(ended | seen)]

        rounds = 0
        while True:
            idx = np.flatnonzero(active)
            if not len(idx):
                break
            rounds += 1
            assert rounds <= vtab.max_rounds, "a pending claim evaluated a formula list twice"
            for lst in np.unique(cur[idx]).tolist():
                sel = idx[cur[idx] == lst]
                visited[sel] |= _list_bit(np.int64(lst))
                ri, lvls, grp = self._eval_list(lst, sel, lv)
                none = ri < 0
                # no formula matched: grouping.next_list
                j = sel[none]
                go(j, np.broadcast_to(np.asarray(grouping.next_list(lst, self.pdx_mdc[j]), dtype=np.int64), j.shape))
                hit = ~none
                j, r, lvl, g = sel[hit], ri[hit], lvls[hit], grp[hit]
                err = vtab.row_rc[r] >= 0
                assigned = ~err & (vtab.row_drg[r] > 0)
                reroute = ~err & ~assigned
                je = j[err]
                stop(je, vtab.row_rc[r[err]])
                row_out[je], level_row[je] = r[err], lvl[err]
                ja = j[assigned]
                drg[ja], mdc[ja], rc[ja], row_out[ja], level_row[ja], active[ja], group[ja] = \
                    vtab.row_drg[r[assigned]], report[ja], RC_OK, r[assigned], lvl[assigned], False, g[assigned]
                jr, rr = j[reroute], r[reroute]
                nxt = vtab.row_reroute[rr].astype(np.int64)
                report[jr] = np.where(vtab.row_reports_mdc[rr], nxt, report[jr])
                go(jr, nxt)
        return {"drg": drg, "mdc": mdc, "rc": rc, "row": row_out, "level": level_row, "group": group}

    def _eval_list(self, lst, sel, lv):
        cv = self.vtab.cv
        plan = cv.list_plan.get(lst)
        if plan is None:
            return np.full(len(sel), -1, dtype=np.int32), np.zeros(len(sel), dtype=np.int8), \
                np.zeros(len(sel), dtype=np.int64)
        table, lv_inv, packed = lv
        cols, lw = self.vtab.list_cols[lst]          # the feature words the list reads
        words = np.take(self.words, sel, axis=0)
        masked = [words[:, c] & w for c, w in zip(cols.tolist(), lw)]
        if len(sel) <= VECTOR_EVAL_MIN:      # a few claims: each its own row (the memo dedups)
            first = inv = np.arange(len(sel))
        else:
            # the levels the list's formulas read, two bits per suppression set
            first, inv = _distinct_rows(*masked, packed[sel] & self.vtab.list_level_mask[lst])
        levels = table[lv_inv[sel[first]]]
        # the claims' group: claims alike to the list (ids unique over the walks of the batch)
        group = inv + self._groups
        self._groups += len(first)
        if len(first) > VECTOR_EVAL_MIN:
            res_ri, res_lv = self._eval_bitsets(lst, [m[first] for m in masked], cols, levels)
            return res_ri[inv], res_lv[inv], group
        row_index = self.vtab.row_index
        res_ri = np.empty(len(first), dtype=np.int32)
        res_lv = np.empty(len(first), dtype=np.int8)
        shifts = [64 * c for c in cols.tolist()]
        supp = list(plan[1])
        rows_m = list(zip(*(m[first].tolist() for m in masked)))
        for u, (ws, lvr) in enumerate(zip(rows_m, levels[:, supp].tolist())):
            m = sum(w << sh for w, sh in zip(ws, shifts))
            row, lvl = grouping.evaluate_list(cv, lst, m, tuple(lvr))
            res_ri[u] = -1 if row is None else row_index[id(row)]
            res_lv[u] = lvl
        return res_ri[inv], res_lv[inv], group

    def _eval_bitsets(self, lst, masked, cols, lv):
        """:func:`grouper.engine.grouping.evaluate_list` for many distinct (feature words, levels)
        at once: the list's formulas in order, each compiled over the rows as the bits of
        integers (:func:`grouper.engine.formula.compile_bitset_predicate`), first match wins."""
        d = len(lv)
        positions, preds = self.vtab.bitset_plan(lst)
        nb = (d + 7) // 8
        B = [0] * (64 * self.vtab.n_words)
        for m, c, pos in zip(masked, cols.tolist(), positions):
            if not len(pos):
                continue
            planes = np.unpackbits(m.astype("<u8", copy=False).view(np.uint8).reshape(d, 8), axis=1, bitorder="little")
            data = np.packbits(planes.T[pos], axis=1, bitorder="little").tobytes()
            for j, p in enumerate((64 * c + pos).tolist()):
                B[p] = int.from_bytes(data[j * nb:(j + 1) * nb], "little")
        supp = sorted({k for _, _, k in preds})
        lvs = lv[:, supp].T
        data2, data1 = (np.packbits(lvs == v, axis=1, bitorder="little").tobytes() for v in (2, 1))
        V2 = {k: int.from_bytes(data2[j * nb:(j + 1) * nb], "little") for j, k in enumerate(supp)}
        V1 = {k: int.from_bytes(data1[j * nb:(j + 1) * nb], "little") for j, k in enumerate(supp)}
        pending = (1 << d) - 1
        hits, rows, ks = [], [], []
        for ri, pred, k in preds:
            hit = pred(B, V2[k], V1[k]) & pending
            if hit:
                hits.append(hit.to_bytes(nb, "little"))
                rows.append(ri)
                ks.append(k)
                pending ^= hit
                if not pending:
                    break
        res_ri = np.full(d, -1, dtype=np.int32)
        res_lv = np.zeros(d, dtype=np.int8)
        if hits:
            planes = np.unpackbits(np.frombuffer(b"".join(hits), dtype=np.uint8).reshape(len(hits), nb), axis=1,
                                   bitorder="little")[:, :d]
            matched = planes.any(axis=0)
            which = planes.argmax(axis=0)[matched]        # the hits are disjoint
            res_ri[matched] = np.asarray(rows, dtype=np.int32)[which]
            res_lv[matched] = lv[np.flatnonzero(matched), np.asarray(ks, dtype=np.intp)[which]]
        return res_ri, res_lv


def hac_columns(vtab: VectorTables, b: Batch, pre: Preprocessed, initial: dict, excluded: np.ndarray) -> dict:
    """HAC/POA processing (:func:`grouper.engine.hac.evaluate`) of every claim of the batch
    that has a HAC-listed secondary diagnosis.

    A HAC formula reads only its own operands, so each claim's inputs are cut to the
    operands that some HAC formula tests (:class:`_HacInputs`): claims whose cut inputs are
    equal get one evaluation, and its outcome (met HACs, return code, removed positions)."""
    cv = vtab.cv
    n = b.n
    sdx_id = pre.sdx_id
    out = {"num": np.zeros(n, dtype=np.int16), "removed": np.zeros(len(sdx_id), dtype=bool),
           "has_removed": np.zeros(n, dtype=bool), "error": objects(n),
           "has_error": np.zeros(n, dtype=bool)}
    if not len(sdx_id):
        return out
    listed = pre.sdx_valid & vtab.dx_hac_listed[np.maximum(sdx_id, 0)]
    pclass = b.sdx_poa_class
    # a necessary condition of hac.needs_evaluation, to visit only the claims it can accept
    maybe = listed & (pclass != hac.PoaClass.YES)
    if not maybe.any():
        return out
    claims = np.unique(pre.sdx_claim[maybe])
    claims = claims[~pre.fallback[claims] & (initial["rc"][claims] == RC_OK)]
    if not len(claims):
        return out
    hi = vtab.hac_inputs()
    # the claims' procedures whose attributes a HAC formula tests
    pr_claim = np.repeat(np.arange(n), np.diff(b.pr_off))
    wanted = np.zeros(n, dtype=bool)
    wanted[claims] = True
    pr_ok = (pre.pr_id >= 0) & wanted[pr_claim]
    pr_rows = np.flatnonzero(pr_ok & hi.pat_tested[np.where(pr_ok, vtab.pr_pat[np.maximum(pre.pr_id, 0)], 0)])
    R_of: dict = {}
    for c, i in zip(pr_claim[pr_rows].tolist(), pre.pr_id[pr_rows].tolist()):
        R_of[c] = R_of.get(c, _EMPTY) | hi.pr_attrs(cv, i)
    x_of: dict = {}                                  # X word -> its tested atoms (few distinct words)
    xw_all = pre.words[claims, vtab.x0].tolist()
    hospitals = b.hospital[claims].tolist()
    rows, sub_off = segment_rows(b.sdx_off, claims)  # the claims' secondary diagnoses
    first_l = b.sdx_off[claims].tolist()
    offs = sub_off.tolist()
    sdx_l, listed_l, pclass_l, excl_l = sdx_id[rows].tolist(), listed[rows].tolist(), pclass[rows].tolist(), \
        excluded[rows].tolist()
    pdx_l = pre.pdx_id[claims].tolist()
    memo: dict = {}
    num, error, removed, has_removed, has_error = out["num"], out["error"], out["removed"], out["has_removed"], \
        out["has_error"]
    for u, (c, xw, pdx, hcode, first) in enumerate(zip(claims.tolist(), xw_all, pdx_l, hospitals, first_l)):
        a, z = offs[u], offs[u + 1]
        hospital = HOSPITAL_OF_CODE[hcode]
        on, pcs = listed_l[a:z], pclass_l[a:z]
        if not hac.needs_evaluation(True, hospital, zip(on, pcs)):
            continue
        # (HAC lists, POA class, tested attributes) of the HAC-listed SDX: HAC processing
        # checks no other (hac.evaluate marks them POA_NOT_CHECKED and reads nothing else of
        # them), save for their number when one SDX is listed: its return codes tell a claim
        # of one SDX from others (an unlisted SDX stands for the rest)
        pos = [k for k, on_k in enumerate(on) if on_k]
        sdx = tuple([hi.sdx_input(cv, sdx_l[a + k], pcs[k]) for k in pos])
        if len(pos) == 1 and z - a > 1:
            sdx += (_UNLISTED,)
        P = hi.pdx_attrs(cv, pdx) if pdx >= 0 else _EMPTY
        X = x_of.get(xw)
        if X is None:
            X = x_of[xw] = hi.x_atoms(vtab, xw)
        excl = frozenset([j for j, k in enumerate(pos, start=1) if excl_l[a + k]])
        key = (hospital, P, R_of.get(c, _EMPTY), X, sdx, excl)
        outcome = memo.get(key)
        if outcome is None:
            outcome = memo[key] = hac.evaluate(cv, hospital, P, key[2], X, sdx, excl, True)
        num[c] = len(outcome.met_numbers)
        if outcome.error is not None:
            error[c] = outcome.error
            has_error[c] = True
        if outcome.removed:
            for p in outcome.removed:
                removed[first + pos[p - 1]] = True
            has_removed[c] = True
    return out


_EMPTY = frozenset()
_UNLISTED = ((), hac.PoaClass.YES, _EMPTY)


class _HacInputs:
    """The operands the HAC formulas of a version test (:attr:`Compiled.hac_nodes`), and each
    code's inputs to :func:`grouper.engine.hac.evaluate` cut to them (filled on first use)."""

    def __init__(self, vtab: VectorTables):
        cv = vtab.cv
        P, S, R, X = set(), set(), set(), set()
        for node in cv.hac_nodes.values():
            for a in formula_atoms(node):
                k, name = a.kind, a.name
                if k in ("PDX", "ANY"):
                    P.add(name)
                if k in ("SDX", "ANY"):
                    S.add(name)
                if k == "PROC":
                    R.add(name)
                if k == "ONLY":
                    X.add("ONLY:" + name)
                elif k == "SPECIAL":
                    X.add(name)
        self.P, self.S, self.R, self.X = frozenset(P), frozenset(S), frozenset(R), frozenset(X)
        ts = cv.tables
        self.pat_tested = np.zeros(len(vtab.pat_or), dtype=bool)
        for p, a in ts.pr_patterns.items():
            self.pat_tested[p] = bool(self.R.intersection(a))
        self._sdx: dict = {}
        self._lists: dict = {}
        self._pdx: dict = {}
        self._pr: dict = {}

    def sdx_input(self, cv, i: int, pclass: int) -> tuple:
        """(HAC lists, POA class, tested attributes) of the secondary diagnosis with code id ``i``
        (a code of the version): ``DxInfo.hac_lists`` and ``attrs``, from the version's HAC code
        table read whole (its look-up by code searches the table's text)."""
        got = self._sdx.get((i, pclass))
        if got is None:
            lists = self._lists.get(i)
            if lists is None:
                lists = self._lists[i] = cv.hac_lists_of(cv.hac_code_info.get(cv.tables.dx_code(i)))
            got = self._sdx[(i, pclass)] = (lists, pclass, cv.dx_attrs(i) & self.S)
        return got

    def pdx_attrs(self, cv, i: int) -> frozenset:
        """The tested attributes of the principal diagnosis with code id ``i`` (a code of the version)."""
        got = self._pdx.get(i)
        if got is None:
            got = self._pdx[i] = cv.dx_attrs(i) & self.P
        return got

    def pr_attrs(self, cv, i: int) -> frozenset:
        got = self._pr.get(i)
        if got is None:
            got = self._pr[i] = cv.pr_attrs(i) & self.R
        return got

    def x_atoms(self, vtab: VectorTables, xw: int) -> frozenset:
        return frozenset(name for name, bit in vtab.x_items if xw & bit and name in self.X)


def group_vectors(vtab: VectorTables, b: Batch) -> dict:
    """Group a batch of one version.  Returns the result columns of the initial and the final
    assignment, ``hac_status``, ``num_hac`` and ``fallback`` (the claims that the caller must
    group with the per-claim engine: formed procedure clusters)."""
    pre = preprocess_columns(vtab, b)
    count_sev, sup, excluded = severity_columns(vtab, b, pre)
    walk = _Walk(vtab, b, pre, count_sev, sup)
    initial = walk.assign(np.zeros(len(pre.sdx_id), dtype=bool))
    hacs = hac_columns(vtab, b, pre, initial, excluded)
    final = dict(initial)
    has_err = hacs["has_error"]
    redo = hacs["has_removed"] & ~has_err
    if redo.any():
        again = walk.assign(hacs["removed"], only=redo)
        for k in ("drg", "mdc", "rc", "row", "level", "group"):
            final[k] = np.where(redo, again[k], final[k])
    if has_err.any():
        codes = np.full(len(has_err), -1, dtype=np.int16)
        errs = np.flatnonzero(has_err)
        codes[errs] = [vtab.rc_code.get(e, -1) for e in hacs["error"][errs].tolist()]
        final["drg"] = np.where(has_err, UNGROUPABLE_DRG, final["drg"])
        final["mdc"] = np.where(has_err, 0, final["mdc"])
        final["rc"] = np.where(has_err, codes, final["rc"])
        final["row"] = np.where(has_err, -1, final["row"])
        final["level"] = np.where(has_err, 0, final["level"])
    ini = _outcome(vtab, pre, initial, hacs)
    changed = np.flatnonzero(redo | has_err)
    fin = {k: v.copy() for k, v in ini.items()}
    if len(changed):
        sub = _outcome(vtab, pre, {k: v[changed] for k, v in final.items()}, hacs, changed)
        for k, v in sub.items():
            fin[k][changed] = v
    met = hacs["num"] > 0
    # HAC status by (criteria met, initial grouped, final grouped, DRG changed), flattened
    status_code = (((met.astype(np.intp) * 2 + (initial["rc"] == RC_OK)) * 2 + (final["rc"] == RC_OK)) * 2
                   + (final["drg"] != initial["drg"]))
    return {"initial": ini, "final": fin, "hac_status": vtab.vocab["hac_status"][status_code],
            "hac_status_code": status_code, "num_hac": hacs["num"], "fallback": pre.fallback}


def _outcome(vtab: VectorTables, pre: Preprocessed, a: dict, hacs: dict, claims: np.ndarray | None = None) -> dict:
    """The result columns of an assignment: DRG, MDC, return code, base DRG,
    medical/surgical, the severity its formula used and the claim severity (of the batch's
    ``claims`` when given: ``a`` holds their columns only)."""
    cv = vtab.cv
    n = len(a["drg"])
    words = pre.words if claims is None else pre.words[claims]
    errors = hacs["error"] if claims is None else hacs["error"][claims]
    names = np.array(vtab.rc_names + [None], dtype=object)
    rc_index = np.where(a["rc"] >= 0, a["rc"], len(vtab.rc_names))
    return_code = names[rc_index]
    extra = np.flatnonzero(a["rc"] < 0)                  # HAC return codes the rows do not name
    rc_code = rc_index.astype(np.intp)
    rc_code[extra] = -1
    for i in extra.tolist():
        return_code[i] = errors[i]
    grouped = (a["rc"] == RC_OK) & (a["row"] >= 0)
    r = np.where(grouped, a["row"], len(vtab.rows))           # the last facts: not grouped
    reports = grouped & vtab.row_reports[np.minimum(r, len(vtab.rows) - 1)]
    # claim severity by (grouped, the row reports one, level), flattened
    claim_sev_code = (grouped.astype(np.intp) * 2 + reports) * 3 + a["level"]
    claim_sev = vtab.vocab["claim_severity"][claim_sev_code]
    # the level the assigning formula used (grouping.row_severity_used), once per group of
    # claims alike to the list where the formula matched (_Walk._eval_list: the same row,
    # level and features of the list)
    sev_used = objects(n, Severity.NON_CC)
    sev_code = np.full(n, _SEVERITY_CODE[Severity.NON_CC], dtype=np.intp)
    okj = np.flatnonzero(grouped)
    sevj = okj[vtab.row_has_sev[a["row"][okj]]] if len(okj) else okj
    if len(sevj):
        g = a["group"][sevj]
        at = np.full(int(g.max()) + 1, -1, dtype=np.int64)
        at[g[::-1]] = np.arange(len(g) - 1, -1, -1)          # a claim of each group
        first = at[at >= 0]
        code = np.full(len(at), -1, dtype=np.int64)
        code[g[first]] = np.arange(len(first))
        # then once per distinct (row, its features, level) among the groups
        claims_f = sevj[first]
        rows, lvl = a["row"][claims_f], a["level"][claims_f]
        masked = np.take(words, claims_f, axis=0) & np.take(vtab.row_words, rows, axis=0)
        first2, inv2 = _distinct_rows(masked, rows.astype(U64), lvl.astype(U64))
        vals = np.empty(len(first2), dtype=object)
        for u, (row, m, lv) in enumerate(zip(rows[first2].tolist(), masked[first2], lvl[first2].tolist())):
            vals[u] = grouping.row_severity_used(cv, vtab.rows[row], mask_of(m), lv)
        pick = inv2[code[g]]
        sev_used[sevj] = vals[pick]
        sev_code[sevj] = np.array([_SEVERITY_CODE[x] for x in vals.tolist()], dtype=np.intp)[pick]
    return {"drg": a["drg"], "mdc": a["mdc"], "return_code": return_code, "base_drg": vtab.row_base[r],
            "med_surg": vtab.row_med_surg[r], "severity": sev_used, "claim_severity": claim_sev,
            "return_code_code": rc_code, "med_surg_code": r, "severity_code": sev_code,
            "claim_severity_code": claim_sev_code}


def drg_weights(cv: Compiled, drg: np.ndarray):
    """(weight, GMLOS, AMLOS) columns of the final DRGs, or None without weights for the year."""
    w = fiscal_year_weights(cv)
    if w is None:
        return None
    return w.numpy("weight")[drg], w.numpy("gmlos")[drg], w.numpy("amlos")[drg]
