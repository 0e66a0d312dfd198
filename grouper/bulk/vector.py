"""The vectorized grouping core: many claims of one version as numpy arrays.

The same CMS rules as the per-claim stages, as array operations:

1. codes are interned to ids of the tables' code universe while the claims are
   read (:class:`grouper.bulk.columns.Columns`), then checked against the version;
2. per-code facts come from arrays indexed by code id; the claim's feature
   mask (PDX, SDX, procedure and claim-level operand bits, word-aligned as in
   :class:`grouper.compiled.Features`) is an OR-reduction over its codes;
3. CC/MCC candidates, PDX exclusions and per-suppression-set levels are
   segment reductions;
4. each formula list is evaluated once per *distinct* (masked feature row,
   levels) among the claims that reach it, with the same memoized evaluation
   as the per-claim path (:func:`grouper.drg_logic.evaluate_list`);
5. HAC/POA processing evaluates the HAC formulas per secondary diagnosis.

Claims that form procedure clusters (about 2%) are grouped by the per-claim
engine: clusters hide component attributes per formula list.
"""
from __future__ import annotations

import numpy as np

from ..engine import formula as fm
from ..engine import grouping as drg_logic
from ..engine.codes import HacStatus, ReturnCode, Severity
from ..engine.compiled import FALLTHROUGH, JOINTS, OR_ATTRS, TRAUMA_SITES, Compiled
from ..reading.columns import HOSPITAL_CODE
from ..reading.values import HospitalStatus
from ..engine.preprocess import AMA_STATUS, DIED_STATUS, TRANSFER_ACUTE

U64 = np.uint64


# ------------------------------------------------------------------ code ids


# ----------------------------------------------------------- per-version arrays


class VectorTables:
    """Per-code facts of one version as arrays (built once per version)."""

    def __init__(self, cv: Compiled):
        self.cv = cv
        ts = cv.tables
        vt = cv.vt
        F = cv.features
        self.n_words = F.n_words
        n_dx, n_pr = len(ts.dx_codes), len(ts.pr_codes)

        # diagnoses: facts per code id (invalid codes -> profile 0, no attributes)
        valid = vt.dx_mdc >= 0
        self.dx_valid = valid
        self.dx_mdc = vt.dx_mdc.astype(np.int16)
        self.dx_sev = np.where(valid, vt.dx_sev, 0).astype(np.int8)
        self.dx_excl = vt.dx_excl.astype(np.int64)
        combo = (vt.dx_attr.astype(np.int64) << 32) | (vt.dx_hac.astype(np.int64) << 16) | vt.dx_dxcat
        combo = np.where(valid, combo, -1)
        uniq, inv = np.unique(combo, return_inverse=True)
        n_prof = len(uniq) + 1                      # the last profile: invalid codes, no attributes
        self.invalid_profile = n_prof - 1
        self.dx_prof = np.where(valid, inv, self.invalid_profile).astype(np.int32)
        self.prof_words = np.zeros((n_prof, F.n_words), dtype=U64)
        self.prof_sup = np.zeros(n_prof, dtype=np.int64)
        self.prof_incident = np.zeros(n_prof, dtype=bool)
        self.prof_mccalive = np.zeros(n_prof, dtype=bool)
        self.prof_sites = np.zeros(n_prof, dtype=np.uint8)
        first = np.zeros(n_prof, dtype=np.int64)
        first[inv[::-1]] = np.arange(n_dx)[::-1]
        for p in range(n_prof - 1):
            if uniq[p] < 0:
                continue
            info = cv.dx_info(ts.dx_codes[int(first[p])])
            self.prof_words[p] = _words(info.pbits | info.sbits, F.n_words)
            self.prof_sup[p] = info.supbits
            self.prof_incident[p] = info.incident
            self.prof_mccalive[p] = info.mccalive
            self.prof_sites[p] = sum(1 << k for k, s in enumerate(TRAUMA_SITES) if s in info.sites)
        p0, pn = F.words["P"]
        s0, sn = F.words["S"]
        r0, rn = F.words["R"]
        self.p_slice, self.s_slice, self.r_slice = slice(p0, p0 + pn), slice(s0, s0 + sn), slice(r0, r0 + rn)
        # the words a code can set, contiguous: a PDX sets P bits, an SDX S bits
        self.prof_p = np.ascontiguousarray(self.prof_words[:, self.p_slice])
        self.prof_s = np.ascontiguousarray(self.prof_words[:, self.s_slice])
        self.gender = np.full((n_dx, 2), -1, dtype=np.int16)
        for i, (m, f) in vt.gender_mdc.items():
            self.gender[i] = (m, f)
        self.dx_hac = np.zeros(n_dx, dtype=bool)
        for code in cv.hac_code_info:
            i = ts.dx_index.get(code)
            if i is not None:
                self.dx_hac[i] = True

        # procedures: facts per attribute pattern
        self.pr_pat = vt.pr_attr.astype(np.int32)
        pats = sorted(set(ts.pr_patterns) | {0})
        n_pat = max(pats) + 2
        self.pat_words = np.zeros((n_pat, F.n_words), dtype=U64)
        self.pat_or = np.zeros(n_pat, dtype=bool)
        self.pat_vessels = np.zeros(n_pat, dtype=np.int16)
        self.pat_stents = np.zeros(n_pat, dtype=np.int16)
        self.pat_drug = np.zeros(n_pat, dtype=bool)
        self.pat_bare = np.zeros(n_pat, dtype=bool)
        self.pat_joints = np.zeros(n_pat, dtype=np.uint8)
        self.pat_fusion = np.zeros((n_pat, 4), dtype=np.int16)   # sglant, sglpost, sglpost1, sglantsectX
        for p in pats:
            a = frozenset(ts.pr_patterns.get(p, ()))
            self.pat_words[p] = _words(F.mask("R", a), F.n_words)
            self.pat_or[p] = bool(a & OR_ATTRS)
            self.pat_vessels[p] = sum(k for k in (1, 2, 3, 4) if f"vessel{k}" in a)
            self.pat_stents[p] = sum(k for k in (1, 2, 3, 4) if f"stent{k}" in a)
            self.pat_drug[p] = "NORdrugstent" in a
            self.pat_bare[p] = "NORstent" in a
            self.pat_joints[p] = sum(1 << k for k, j in enumerate(JOINTS) if j in a)
            self.pat_fusion[p] = ["sglantfuse" in a, "sglpostfuse" in a, "sglpostfuse1" in a,
                                  "sglantsectXfuse" in a]
        self.pat_r = np.ascontiguousarray(self.pat_words[:, self.r_slice])    # procedures set R bits only
        self.pat_counted = ((self.pat_vessels > 0) | (self.pat_stents > 0) | (self.pat_joints > 0)
                            | self.pat_fusion.any(axis=1))
        self.pr_clustered = np.zeros(n_pr, dtype=bool)
        self.pr_clustered[list(cv.clusters_of)] = True

        # claim-level atoms -> bit in the X words
        self.x0 = F.words["X"][0]
        self.x_bits = {name: F.index[("X", name)] >> (64 * self.x0)
                       for (ns, name) in F.index if ns == "X"}
        self.fall_bit = F.index[("S", FALLTHROUGH)] >> (64 * s0)

        # formula lists: feature-word masks
        self.list_words = {lst: _words(bits, F.n_words) for lst, (bits, _) in cv.list_plan.items()}
        # per list: the two-bit level fields of the suppression sets its formulas read
        self.list_level_mask = {lst: U64(sum(3 << (2 * k) for k in supp)) for lst, (_, supp) in cv.list_plan.items()}
        self.list_cols = {}
        for lst, w in self.list_words.items():
            cols = np.flatnonzero(w)
            self.list_cols[lst] = (cols, w[cols])
        # every formula row as arrays, by row index
        self.rows = [r for lst in sorted(cv.lists) for r in cv.lists[lst]]
        self.row_index = {id(r): k for k, r in enumerate(self.rows)}
        self.rc_names = [ReturnCode.OK, ReturnCode.UNGROUPABLE] + sorted({r.error for r in self.rows if r.error})
        rc_code = {name: k for k, name in enumerate(self.rc_names)}
        self.row_drg = np.array([r.drg for r in self.rows], dtype=np.int32)
        self.row_reroute = np.array([r.reroute_mdc for r in self.rows], dtype=np.int16)
        self.row_rc = np.array([rc_code[r.error] if r.error else -1 for r in self.rows], dtype=np.int16)
        self.row_supp = np.array([r.supp_index for r in self.rows], dtype=np.int64)
        self.row_real = np.array([r.reports_claim_severity for r in self.rows], dtype=bool)
        self.row_has_sev = np.array([any(a.kind == "SEV" for a in fm.atoms(r.node)) for r in self.rows], dtype=bool)
        self.row_base = np.array([r.base_drg for r in self.rows], dtype=np.int32)
        self.row_med_surg = np.array([r.med_surg for r in self.rows], dtype=object)

        # HAC: per HAC number, the codes on its lists (any / main SDX operand) as arrays
        self._hac_prepare()

    def _hac_prepare(self):
        cv = self.cv
        ts = cv.tables
        from ..engine.hac import sdx_operands
        ops = sdx_operands(cv)
        n_dx = len(ts.dx_codes)
        self.hac_numbers = sorted(ops)
        self.hac_on_list = {n: np.zeros(n_dx, dtype=bool) for n in self.hac_numbers}
        self.hac_main = {n: np.zeros(n_dx, dtype=bool) for n in self.hac_numbers}
        self.hac_first = np.full(n_dx, 99, dtype=np.int16)        # lowest HAC number of the code's lists
        for code, (operands, numbers) in cv.hac_code_info.items():
            i = ts.dx_index.get(code)
            if i is None:
                continue
            opset = set(operands)
            for n in sorted(set(numbers)):
                sops = [op for op in ops.get(n, ()) if op in opset]
                if sops:
                    self.hac_on_list[n][i] = True
                    self.hac_first[i] = min(self.hac_first[i], n)
                    if ops[n][0] in opset:
                        self.hac_main[n][i] = True
        self.hac_candidate = self.hac_first < 99


def _words(mask: int, n_words: int) -> np.ndarray:
    return np.frombuffer(mask.to_bytes(8 * n_words, "little"), dtype="<u8").astype(U64)


def _mask_int(row: np.ndarray) -> int:
    return int.from_bytes(row.astype("<u8").tobytes(), "little")


def vector_tables(cv: Compiled) -> VectorTables:
    return cv.tables.cached(("vector", cv.version), lambda: VectorTables(cv))


# -------------------------------------------------------------- segment helpers


def _seg_or(values: np.ndarray, off: np.ndarray, n: int) -> np.ndarray:
    """OR of ``values`` rows per segment ``off[i]:off[i+1]`` (zeros for empty segments)."""
    shape = (n,) + values.shape[1:]
    out = np.zeros(shape, dtype=values.dtype)
    nonempty = off[1:] > off[:-1]
    if len(values) and nonempty.any():
        red = np.bitwise_or.reduceat(values, off[:-1][nonempty], axis=0)
        out[nonempty] = red
    return out


def segment_rows(off: np.ndarray, claims: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat positions of the segments of ``claims`` and their offsets among them."""
    lens = off[claims + 1] - off[claims]
    sub_off = np.zeros(len(claims) + 1, dtype=np.int64)
    np.cumsum(lens, out=sub_off[1:])
    rows = np.repeat(off[claims] - sub_off[:-1], lens) + np.arange(sub_off[-1])
    return rows, sub_off


def _seg_reduce(ufunc, values: np.ndarray, off: np.ndarray, n: int, empty):
    out = np.full(n, empty, dtype=values.dtype)
    nonempty = off[1:] > off[:-1]
    if len(values) and nonempty.any():
        out[nonempty] = ufunc.reduceat(values, off[:-1][nonempty])
    return out


_MIX = U64(0x9E3779B97F4A7C15)


def _distinct_rows(*parts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(first, inv)`` of the distinct rows of uint64 arrays (2-D, or 1-D as one column)
    taken side by side: the index of one row per distinct value and, for every row, the
    position of its value in ``first``.  Rows are hashed to one word and sorted by hash
    (much faster than sorting whole rows); the result is checked row by row and recomputed
    by whole-row sorting on a hash collision."""
    cols = [c for p in parts for c in ([p] if p.ndim == 1 else [p[:, j] for j in range(p.shape[1])])]
    n = len(cols[0])
    if not n:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    h = np.zeros(n, dtype=U64)
    with np.errstate(over="ignore"):
        for c in cols:
            h ^= c
            h *= _MIX
            h ^= h >> U64(29)
    _, first, inv = np.unique(h, return_index=True, return_inverse=True)
    inv = inv.ravel()
    if not all(np.array_equal(p[first][inv], p) for p in parts):
        rows = np.ascontiguousarray(np.stack(cols, axis=1))
        void = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
        _, first, inv = np.unique(void, return_index=True, return_inverse=True)
        inv = inv.ravel()
    return first, inv


# ----------------------------------------------------------------- the kernel


class Batch:
    """Claims of one version in columnar form, as the CMS grouper reads them: codes as ids
    in the code universe of the tables (-1: in no version), CSR offsets."""

    def __init__(self, pdx_id, sdx_id, sdx_poa_class, sdx_off, pr_id, pr_off, sex, dstat, hospital):
        self.pdx_id = pdx_id            # int64 (n)
        self.sdx_id = sdx_id            # int64 flat
        self.sdx_poa_class = sdx_poa_class   # int8 flat: 0 POA Y/W, 1 N/U, 2 anything else
        self.sdx_off = sdx_off          # int64 (n+1)
        self.pr_id = pr_id              # int64 flat
        self.pr_off = pr_off
        self.sex = sex                  # int8: 0 unknown, 1 male, 2 female
        self.dstat = dstat              # int16: -1 = invalid/none
        self.hospital = hospital        # int8: 0 NOT_EXEMPT, 1 EXEMPT, 2 UNKNOWN
        self.n = len(pdx_id)


HOSP_EXEMPT = HOSPITAL_CODE[HospitalStatus.EXEMPT]
HOSP_UNKNOWN = HOSPITAL_CODE[HospitalStatus.UNKNOWN]
RC_OK, RC_UNGROUPABLE, RC_PENDING = 0, 1, -1


def group_vectors(vtab: VectorTables, b: Batch) -> dict:
    """Group a batch of one version.  Returns columns; ``fallback`` marks the claims that
    the caller must group with the per-claim engine (formed procedure clusters)."""
    cv = vtab.cv
    ts = cv.tables
    n = b.n
    W = vtab.n_words

    # 1. code ids valid in this version
    pdx_id = np.where(vtab.dx_valid[b.pdx_id] & (b.pdx_id >= 0), b.pdx_id, -1)
    sdx_id = np.where(vtab.dx_valid[b.sdx_id] & (b.sdx_id >= 0), b.sdx_id, -1)
    pr_id = np.where((vtab.pr_pat[b.pr_id] >= 0) & (b.pr_id >= 0), b.pr_id, -1)
    sdx_claim = np.repeat(np.arange(n), np.diff(b.sdx_off))
    pr_claim = np.repeat(np.arange(n), np.diff(b.pr_off))
    sdx_valid = sdx_id >= 0
    pr_valid = pr_id >= 0

    # claims that form a procedure cluster: per-claim engine
    fallback = np.zeros(n, dtype=bool)
    if pr_valid.any():
        clus = np.zeros(len(pr_id), dtype=bool)
        clus[pr_valid] = vtab.pr_clustered[pr_id[pr_valid]]
        cands = np.unique(pr_claim[clus]).tolist()
        if cands:
            ids, offs = pr_id.tolist(), b.pr_off.tolist()
            for c in cands:
                fallback[c] = _forms_cluster(cv, ids[offs[c]:offs[c + 1]])

    # 2. feature words
    pdx_valid = pdx_id >= 0
    pdx_prof = np.where(pdx_valid, vtab.dx_prof[np.maximum(pdx_id, 0)], vtab.invalid_profile)
    words = np.zeros((n, W), dtype=U64)
    words[:, vtab.p_slice] = vtab.prof_p[pdx_prof]
    sdx_prof = np.where(sdx_valid, vtab.dx_prof[np.maximum(sdx_id, 0)], vtab.invalid_profile)
    if len(sdx_id):
        words[:, vtab.s_slice] = _seg_or(vtab.prof_s[sdx_prof], b.sdx_off, n)
    pr_pat = np.where(pr_valid, vtab.pr_pat[np.maximum(pr_id, 0)], 0)
    if len(pr_id):
        words[:, vtab.r_slice] = _seg_or(vtab.pat_r[pr_pat], b.pr_off, n)

    # newborn fall-through operand: some valid SDX is not a normal-newborn code
    not_incident = sdx_valid & ~vtab.prof_incident[sdx_prof]
    any_not_incident = _seg_reduce(np.logical_or, not_incident, b.sdx_off, n, False)
    s0 = vtab.s_slice.start
    fall = U64(vtab.fall_bit)
    words[:, s0] = np.where(any_not_incident, words[:, s0] | fall, words[:, s0] & ~fall)

    # 3. claim-level atoms
    x = np.zeros(n, dtype=U64)

    def setx(name, cond):
        bit = vtab.x_bits.get(name)
        if bit is not None:
            x[cond] |= U64(bit)

    ds = b.dstat
    setx("ANYDX", np.ones(n, dtype=bool))
    setx("INVALID_DSTAT", ds < 0)
    setx("ALIVE", ds != DIED_STATUS)
    setx("DIED", ds == DIED_STATUS)
    setx("AMA", ds == AMA_STATUS)
    setx("XFRNBA", np.isin(ds, list(TRANSFER_ACUTE)))
    if len(pr_id):
        setx("ORPROC", _seg_reduce(np.logical_or, pr_valid & vtab.pat_or[pr_pat], b.pr_off, n, False))
    setx("INVALID_PDX", ~pdx_valid)
    table_mdc = np.where(pdx_valid, vtab.dx_mdc[np.maximum(pdx_id, 0)], -1)
    g = vtab.gender[np.maximum(pdx_id, 0)]
    gendered = pdx_valid & (g[:, 0] >= 0)
    pdx_mdc = table_mdc.copy()
    pdx_mdc = np.where(gendered & (b.sex == 1), g[:, 0], pdx_mdc)
    pdx_mdc = np.where(gendered & (b.sex == 2), g[:, 1], pdx_mdc)
    setx("INVALID_SEX", gendered & (b.sex != 1) & (b.sex != 2))
    setx("PDX_ECODE", pdx_valid & (table_mdc == 0))
    setx("MDC_20_FALL_THRU", pdx_valid & (pdx_mdc == 20))
    sites = np.where(pdx_valid, vtab.prof_sites[pdx_prof], 0).astype(np.uint8)
    if len(sdx_id):
        sites |= _seg_or(np.where(sdx_valid, vtab.prof_sites[sdx_prof], 0).astype(np.uint8), b.sdx_off, n)
    setx("MULTST", np.unpackbits(sites[:, None], axis=1).sum(axis=1) >= 2)
    pdx_incident = pdx_valid & vtab.prof_incident[pdx_prof]
    setx("ONLY:incident", pdx_incident & ~any_not_incident)
    if len(pr_id):
        _counter_atoms(vtab, pr_valid, pr_pat, pr_claim, n, setx)
    words[:, vtab.x0] |= x

    # 4. severity candidates
    died = ds == DIED_STATUS
    sev = np.where(sdx_valid, vtab.dx_sev[np.maximum(sdx_id, 0)], 0).astype(np.int8)
    pdx_excl = np.where(pdx_valid, vtab.dx_excl[np.maximum(pdx_id, 0)], 0)
    excluded = np.zeros(len(sdx_id), dtype=bool)
    if len(sdx_id):
        lists = pdx_excl[sdx_claim]
        cand_pair = (lists > 0) & (sev > 0)
        if cand_pair.any():
            keys = lists[cand_pair] * len(ts.dx_codes) + sdx_id[cand_pair]
            ek = ts.exclusion_keys_sorted
            pos = np.minimum(np.searchsorted(ek, keys), len(ek) - 1)
            excluded[cand_pair] = ek[pos] == keys
    mcc_dead = died[sdx_claim] & vtab.prof_mccalive[sdx_prof] if len(sdx_id) else np.zeros(0, dtype=bool)
    count_sev = np.where(excluded | mcc_dead, 0, sev).astype(np.int8)
    sup = np.where(count_sev > 0, vtab.prof_sup[sdx_prof], 0) if len(sdx_id) else np.zeros(0, np.int64)

    poa_class = b.sdx_poa_class
    ctx = _Ctx(vtab, b, n, words, pdx_valid, pdx_mdc, sdx_claim, count_sev, sup, fallback)

    # 5. initial DRG
    initial = ctx.assign(np.zeros(len(sdx_id), dtype=bool))

    # 6. HAC/POA and the final DRG
    hac = _hac(vtab, b, ctx, initial, sdx_id, sdx_valid, sdx_claim, excluded, poa_class, pdx_id, pr_id)
    final = dict(initial)
    removed = hac["removed"]
    redo = hac["has_removed"] & ~hac["error"]
    if redo.any():
        again = ctx.assign(removed, only=redo)
        for k in final:
            final[k] = np.where(redo, again[k], final[k])
    err = hac["error_code"]
    has_err = err != ""
    if has_err.any():
        final["drg"] = np.where(has_err, drg_logic.UNGROUPABLE_DRG, final["drg"])
        final["mdc"] = np.where(has_err, 0, final["mdc"])
        final["rc"] = np.where(has_err, err, final["rc"])
        final["row"] = np.where(has_err, -1, final["row"])
        final["level_row"] = np.where(has_err, 0, final["level_row"])
        final["claim_level"] = np.where(has_err, -1, final["claim_level"])
    status = np.full(n, HacStatus.NOT_APPLICABLE, dtype=object)
    met = hac["num"] > 0
    status[met & has_err] = HacStatus.FINAL_DRG_UNGROUPABLE
    status[met & ~has_err & (final["drg"] != initial["drg"])] = HacStatus.FINAL_DRG_CHANGES
    status[met & ~has_err & (final["drg"] == initial["drg"])] = HacStatus.FINAL_DRG_NO_CHANGE
    return {"initial": initial, "final": final, "hac_status": status, "num_hac": hac["num"],
            "fallback": fallback}


def _forms_cluster(cv: Compiled, ids: list) -> bool:
    """Whether a claim's procedures (ids, -1 invalid) form one of the version's clusters
    (every choice of the cluster has a code on the claim; see marking._form_clusters)."""
    on_claim = set(ids)
    on_claim.discard(-1)
    clusters_of, clusters = cv.clusters_of, cv.clusters
    for c in {c for i in on_claim for c in clusters_of.get(i, ())}:
        if all(ch & on_claim for ch in clusters[c].choices):
            return True
    return False


def _counter_atoms(vtab, pr_valid, pr_pat, pr_claim, n, setx):
    """Stent, vessel, bilateral-joint and spinal-fusion counters (see marking._counter_atoms),
    summed over the few procedures that carry a counted attribute."""
    rel = np.flatnonzero(pr_valid & vtab.pat_counted[pr_pat])
    if not len(rel):
        return
    cl, pp = pr_claim[rel], pr_pat[rel]

    def total(values):
        return np.bincount(cl, weights=values, minlength=n)

    st, drug, bare = vtab.pat_stents[pp], vtab.pat_drug[pp], vtab.pat_bare[pp]
    setx("FOUR_VESSELS", total(vtab.pat_vessels[pp]) >= 4)
    setx("FOUR_STENTS", total(np.where(drug | bare, st, 0)) >= 4)
    setx("FOUR_DRUG_ELUTING_STENTS", total(np.where(drug, st, 0)) >= 4)
    setx("FOUR_NON_DRUG_ELUTING_STENTS", total(np.where(bare, st, 0)) >= 4)
    joints = np.zeros(n, dtype=np.uint8)
    np.bitwise_or.at(joints, cl, vtab.pat_joints[pp])
    setx("BILATERAL", np.unpackbits(joints[:, None], axis=1).sum(axis=1) >= 2)
    fus = vtab.pat_fusion[pp]
    ant, post, post1, antx = (total(fus[:, j]) for j in range(4))
    setx("SINGLEFUSIONCTR", (ant >= 1) & (post >= 1) & (ant + post >= 3))
    setx("SGLANTCTR", ant >= 2)
    setx("SGLPOST1CTR", post1 >= 2)
    setx("SGLANTSECTXCTR", antx >= 2)
    setx("SGLPOSTFUSECTR", post >= 2)
    setx("MULTFUSE", (ant >= 2) | (post1 >= 2))


class _Ctx:
    """What list evaluation needs about the batch."""

    def __init__(self, vtab, b, n, words, pdx_valid, pdx_mdc, sdx_claim, count_sev, sup, fallback):
        self.vtab, self.b, self.n = vtab, b, n
        self.words, self.pdx_valid, self.pdx_mdc = words, pdx_valid, pdx_mdc
        self.sdx_claim, self.count_sev, self.sup = sdx_claim, count_sev, sup
        self.fallback = fallback
        self._lv0 = None          # levels without removals, once computed
        self._packed = None       # (levels, packed levels) last packed

    def levels(self, removed: np.ndarray | None, claims: np.ndarray | None = None) -> np.ndarray:
        """(n, K) level of every claim for every suppression set of the version, without
        the ``removed`` secondary diagnoses.  With ``claims``, only those claims are
        recomputed; the others keep their levels without removals."""
        K = len(self.vtab.cv.supp_sets)
        cs = self.count_sev
        if claims is None:
            lv = np.zeros((self.n, K), dtype=np.int8)
            pos = np.flatnonzero(cs if removed is None else cs * ~removed)
        else:
            lv = (self.levels(None) if self._lv0 is None else self._lv0).copy()
            lv[claims] = 0
            rows, _ = segment_rows(self.b.sdx_off, claims)
            pos = rows[(cs[rows] > 0) & ~removed[rows]]
        if not len(pos):
            return lv
        # only the CC/MCC codes matter: a maximum per claim, and per suppression set
        # without the codes the set names
        cl, c, sp = self.sdx_claim[pos], cs[pos], self.sup[pos]
        starts = np.flatnonzero(np.r_[True, cl[1:] != cl[:-1]])
        owners = cl[starts]
        lv[owners] = np.maximum.reduceat(c, starts)[:, None]
        named = np.flatnonzero(sp)                 # codes some suppression set names
        if not len(named):
            return lv
        owner_of = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(pos)]))
        owner_off = np.r_[starts, len(pos)]
        present = int(np.bitwise_or.reduce(sp[named]))
        for k in range(K):
            if present >> k & 1:
                # recompute only the claims with a code that set k names
                bit = np.int64(1) << k
                aff = np.unique(owner_of[named[(sp[named] & bit) != 0]])
                rows, sub_off = segment_rows(owner_off, aff)
                vals = np.where(sp[rows] & bit, 0, c[rows]).astype(np.int8)
                lv[owners[aff], k] = np.maximum.reduceat(vals, sub_off[:-1])
        return lv

    def packed_levels(self, lv: np.ndarray) -> np.ndarray:
        """Every claim's levels in one word, two bits per suppression set."""
        if self._packed is None or self._packed[0] is not lv:
            shifts = (2 * np.arange(lv.shape[1])).astype(U64)
            self._packed = (lv, np.bitwise_or.reduce(lv.astype(U64) << shifts, axis=1))
        return self._packed[1]

    def assign(self, removed: np.ndarray, only: np.ndarray | None = None) -> dict:
        """Pre-MDC, MDC and reroutes for every claim (or the ``only`` subset)."""
        vtab = self.vtab
        cv = vtab.cv
        n = self.n
        if only is None:
            lv = self.levels(removed)
            self._lv0 = lv if not removed.any() else None
        else:
            lv = self.levels(removed, np.flatnonzero(only))
        drg = np.zeros(n, dtype=np.int32)
        mdc = np.zeros(n, dtype=np.int16)
        rc = np.full(n, RC_PENDING, dtype=np.int16)
        row_out = np.full(n, -1, dtype=np.int32)
        level_row = np.zeros(n, dtype=np.int8)
        report = np.where(self.pdx_mdc >= 0, self.pdx_mdc, 0).astype(np.int16)
        cur = np.zeros(n, dtype=np.int16)                 # current formula list
        visited = np.zeros(n, dtype=np.int64)             # lists seen (bit min(list, 62))
        active = ~self.fallback
        if only is not None:
            active = active & only
        one = np.int64(1)
        for _ in range(8):
            idx = np.flatnonzero(active)
            if not len(idx):
                break
            for lst in np.unique(cur[idx]).tolist():
                sel = idx[cur[idx] == lst]
                visited[sel] |= one << min(lst, 62)
                ri, lvls = self._eval_list(lst, sel, lv)
                none = ri < 0
                # no formula: pre-MDC -> the PDX's MDC list; otherwise ungroupable
                to_mdc = none & (lst == 0) & self.pdx_valid[sel]
                cur[sel[to_mdc]] = self.pdx_mdc[sel[to_mdc]]
                dead = sel[none & ~to_mdc]
                drg[dead], rc[dead], active[dead] = drg_logic.UNGROUPABLE_DRG, RC_UNGROUPABLE, False
                hit = ~none
                j, r, lvl = sel[hit], ri[hit], lvls[hit]
                err = vtab.row_rc[r] >= 0
                assigned = ~err & (vtab.row_drg[r] > 0)
                reroute = ~err & ~assigned
                je = j[err]
                drg[je], rc[je], row_out[je], level_row[je], active[je] = \
                    drg_logic.UNGROUPABLE_DRG, vtab.row_rc[r[err]], r[err], lvl[err], False
                ja = j[assigned]
                drg[ja], mdc[ja], rc[ja], row_out[ja], level_row[ja], active[ja] = \
                    vtab.row_drg[r[assigned]], report[ja], RC_OK, r[assigned], lvl[assigned], False
                jr = j[reroute]
                nxt = vtab.row_reroute[r[reroute]]
                report[jr] = np.where(nxt != drg_logic.UNRELATED_OR, nxt, report[jr])
                loop = (visited[jr] & (one << np.minimum(nxt, 62).astype(np.int64))) != 0
                drg[jr[loop]], rc[jr[loop]], active[jr[loop]] = drg_logic.UNGROUPABLE_DRG, RC_UNGROUPABLE, False
                cur[jr[~loop]] = nxt[~loop]
        # claim-level CC/MCC of the assigning formula (-1: NONE) and the level it used
        claim_level = np.full(n, -1, dtype=np.int8)
        sev_used = np.full(n, Severity.NON_CC, dtype=object)
        okj = np.flatnonzero(rc == RC_OK)
        if len(okj):
            r_ok = row_out[okj]
            real = vtab.row_real[r_ok]
            claim_level[okj[real]] = lv[okj[real], vtab.row_supp[r_ok[real]]]
            sevj = okj[vtab.row_has_sev[r_ok]]
            if len(sevj):
                order = np.argsort(row_out[sevj], kind="stable")
                rs = row_out[sevj][order]
                starts = np.flatnonzero(np.r_[True, rs[1:] != rs[:-1]])
                ends = np.r_[starts[1:], len(order)]
                for a0, z0 in zip(starts.tolist(), ends.tolist()):
                    js = sevj[order[a0:z0]]
                    r = vtab.rows[int(rs[a0])]
                    masked = self.words[js] & _words(r.bits, self.words.shape[1])
                    lvl_js = level_row[js]
                    first, inv = _distinct_rows(masked, lvl_js.astype(U64))
                    vals = [drg_logic.row_severity_used(cv, r, _mask_int(masked[f]), int(lvl_js[f]))
                            for f in first.tolist()]
                    sev_used[js] = np.array(vals, dtype=object)[inv.ravel()]
        rc_text = np.array(vtab.rc_names + [""], dtype=object)[np.where(rc == RC_PENDING, len(vtab.rc_names), rc)]
        return {"drg": drg, "mdc": mdc, "rc": rc_text, "row": row_out, "level_row": level_row,
                "claim_level": claim_level, "sev_used": sev_used}

    def _eval_list(self, lst, sel, lv):
        cv = self.vtab.cv
        plan = cv.list_plan.get(lst)
        if plan is None:
            return np.full(len(sel), -1, dtype=np.int32), np.zeros(len(sel), dtype=np.int8)
        supp_idx = np.asarray(plan[1], dtype=np.intp)
        cols, lw = self.vtab.list_cols[lst]          # the feature words the list reads
        masked = self.words[np.ix_(sel, cols)] & lw
        # the levels the list's formulas read, two bits per suppression set
        packed = self.packed_levels(lv)[sel] & self.vtab.list_level_mask[lst]
        first, inv = _distinct_rows(masked, packed)
        row_index = self.vtab.row_index
        res_ri = np.empty(len(first), dtype=np.int32)
        res_lv = np.empty(len(first), dtype=np.int8)
        shifts = [64 * c for c in cols.tolist()]
        supp = supp_idx.tolist()
        for u, f in enumerate(first.tolist()):
            m = sum(w << sh for w, sh in zip(masked[f].tolist(), shifts))
            lvt = tuple(lv[sel[f], supp].tolist())
            row, lvl = drg_logic.evaluate_list(cv, lst, m, lvt)
            res_ri[u] = -1 if row is None else row_index[id(row)]
            res_lv[u] = lvl
        inv = inv.ravel()
        return res_ri[inv], res_lv[inv]


def _hac(vtab, b, ctx, initial, sdx_id, sdx_valid, sdx_claim, excluded, poa_class, pdx_id, pr_id) -> dict:
    """HAC/POA processing (see :mod:`grouper.hac`) for every claim of the batch."""
    n = b.n
    num = np.zeros(n, dtype=np.int16)
    removed = np.zeros(len(sdx_id), dtype=bool)
    out = {"num": num, "removed": removed, "has_removed": np.zeros(n, dtype=bool),
           "error": np.zeros(n, dtype=bool), "error_code": np.full(n, "", dtype=object)}
    if not len(sdx_id):
        return out
    ok_claim = (initial["rc"] == ReturnCode.OK) & (b.hospital != HOSP_EXEMPT) & ~ctx.fallback
    cand = sdx_valid & vtab.hac_candidate[np.maximum(sdx_id, 0)] & ok_claim[sdx_claim] & (poa_class != 0)
    if not cand.any():
        return out
    cv = vtab.cv
    claims = np.unique(sdx_claim[cand])
    for c in claims.tolist():
        a, z = b.sdx_off[c], b.sdx_off[c + 1]
        ids = sdx_id[a:z]
        pclass = poa_class[a:z]
        exc = excluded[a:z]
        pdx = pdx_id[c]
        P = cv.dx_info(cv.tables.dx_codes[pdx]).attrs if pdx >= 0 else frozenset()
        pa, pz = b.pr_off[c], b.pr_off[c + 1]
        R = frozenset().union(*(cv.pr_attrs(int(i)) for i in pr_id[pa:pz] if i >= 0))
        met_positions, met, unrecognized = [], set(), False
        for k in range(z - a):
            i = int(ids[k])
            if i < 0 or not vtab.hac_candidate[i] or pclass[k] == 0:
                continue
            if pclass[k] == 2:
                unrecognized = True
            lists = [(nn, None) for nn in vtab.hac_numbers if vtab.hac_on_list[nn][i]]
            if exc[k] and any(vtab.hac_main[nn][i] for nn, _ in lists):
                continue
            S = cv.dx_info(cv.tables.dx_codes[i]).attrs
            hits = [nn for nn, _ in lists if fm.evaluate(cv.hac_nodes[nn], P, S, R, frozenset(), 0)]
            if hits:
                met_positions.append(a + k)
                met.update(hits)
        if not met:
            continue
        num[c] = len(met)
        hosp = b.hospital[c]
        if hosp == HOSP_UNKNOWN:
            single = (z - a) == 1 and pclass[0] != 1
            out["error_code"][c] = (ReturnCode.HAC_STATUS_INVALID_POA_INVALID_OR_1 if single
                                    else ReturnCode.HAC_STATUS_INVALID_MULT_HACS_POA_NOT_Y_W)
            out["error"][c] = True
        elif unrecognized:
            out["error_code"][c] = ReturnCode.HAC_MISSING_ONE_POA
            out["error"][c] = True
        else:
            removed[met_positions] = True
            out["has_removed"][c] = True
    return out
