"""Seeded generator of realistic inpatient claims for benchmarking.

    python benchmarks/generate.py 1000000 -o claims.jsonl.gz --seed 1 --version 431

    >>> from benchmarks.generate import generate          # or: import generate
    >>> claims = generate(1000, seed=1)                   # list of dicts

Claims follow the labelled-claims JSON-lines schema (``id, version, age, sex,
discharge_status, pdx, pdx_poa, admit_dx, sdx: [[code, poa], ...], procedures,
hospital_status``) and use only codes valid in the requested grouper version,
taken from the compiled tables.  The mix imitates an inpatient population:

* PDX: a quarter from a list of very common principal diagnoses, the rest drawn
  from an MDC mix weighted like Medicare inpatient stays (5, 4, 8, 6, 18, 1, 11,
  ... heaviest; 3% newborns, 3% MDC 14), uniform over the MDC's codes, with
  subsequent-encounter and sequela injury codes strongly down-weighted.
  Sex-dependent codes (``code_gender_mdcs``) get the sex of the MDC they were
  drawn for; MDC 12 is male, 13/14 female (2% of claims re-draw the sex).
* 0-24 SDX (5% none, 10% 1-2, 70% 3-12, 15% 13-24): common comorbidities,
  codes of the PDX's MDC, random CC, MCC and NCC codes, a few external-cause
  codes; no duplicates and never the PDX itself.  Deliveries carry a Z37
  outcome code and a delivery procedure.
* 0-25 procedures (45% none, 35% 1-3, 17% 4-10, 3% 11-25): the first usually an
  OR procedure named by a surgical DRG formula of the PDX's MDC, the rest mostly
  non-OR.
* POA of SDX 89% Y / 5% N / 2% U / 1.5% W / 1.2% blank / 1.3% "1"; sex 47% M /
  52% F / 1% U; ages 0-100 (newborns 0, MDC 14 14-48); discharge status 50% 1,
  16% 6, the rest spread over the other CMS statuses; hospital status 90%
  NOT_EXEMPT / 6% EXEMPT / 4% UNKNOWN; 30% with an admit dx.

Deterministic for a (n, seed, version): everything is drawn with one
``numpy.random.Generator(PCG64(seed))`` in a fixed order, vectorized over the
whole batch; Python dicts are built only at the end (1M claims in ~10-20 s).
"""
from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import re
import sys
import time
from functools import cache

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

MAX_SDX = 24
MAX_PR = 25

# MDC weights of the principal diagnosis (percent, roughly a Medicare inpatient mix)
MDC_WEIGHTS = {
    5: 17.0, 4: 12.0, 8: 10.0, 6: 9.0, 18: 8.0, 1: 7.5, 11: 6.0, 10: 4.0, 7: 3.0,
    9: 2.5, 19: 2.5, 20: 1.5, 16: 1.5, 17: 1.2, 3: 1.2, 21: 1.5, 23: 1.2, 13: 1.0,
    12: 0.6, 2: 0.3, 22: 0.2, 25: 0.15, 14: 3.0, 15: 3.0,
}

# very common principal diagnoses (kept only when valid as PDX in the version)
COMMON_PDX = [
    "A419", "A4189", "A4151", "I5023", "I5033", "I5043", "I130", "I110", "J189", "J9601", "J9621",
    "N179", "J441", "J440", "I214", "I639", "I6350", "U071", "N390", "K5660", "E871", "M1711",
    "M1712", "M1611", "M1612", "I4891", "I480", "I481", "K8590", "L03115", "L03116", "E1110",
    "E1165", "F10239", "K922", "K921", "I2510", "R55", "R079", "T8141XA", "S72001A", "S72141A",
    "S72002A", "K5730", "K8000", "K8012", "K3580", "N10", "J690", "I2699", "I269", "G4089",
    "F200", "F319", "F332", "D649", "E860", "K7031", "C3490", "C189", "I4820", "I471", "I618", "M4806",
    "M47816", "M5416", "T8389XA", "Z5111", "I130", "E1152", "I70262", "G9341", "R4182", "J8410",
]

# common comorbidities (secondary)
COMMON_SDX = [
    "I10", "E119", "E785", "I2510", "Z794", "Z7901", "K219", "E039", "F329", "F419", "Z87891",
    "I4891", "N183", "N1830", "N1831", "N1832", "N184", "E1122", "I129", "E6601", "Z6841", "D649",
    "E876", "E871", "N179", "J9601", "E43", "D62", "R6520", "I5023", "I5032", "G8929", "M545",
    "M5450", "G4733", "J449", "Z951", "Z955", "Z7982", "Z7984", "F1721", "E559", "N400", "M1990",
    "G309", "F0390", "F03A0", "R4182", "E1165", "I252", "Z8673", "Z86718", "K5900", "R339",
    "E860", "D696", "I480", "I4820", "Z66", "Z515", "E872", "E8720", "J9600", "N390", "B9620",
    "Y929", "Y92009", "W19XXXA", "Z9181", "Z853", "Z8546", "E1151", "I739", "E11649",
]

# common non-OR procedures (transfusion, ventilation, imaging, lines, dialysis, ...)
COMMON_NONOR = [
    "30233N1", "5A1955Z", "5A1945Z", "5A1935Z", "0BH17EZ", "02HV33Z", "05HY33Z", "B2111ZZ",
    "B2151ZZ", "4A023N7", "5A1D70Z", "5A1D90Z", "0DJ08ZZ", "0DB68ZX", "0DB98ZX", "0DJD8ZZ",
    "3E0436Z", "3E033VJ", "B548ZZA", "BW28ZZZ", "0T9B70Z", "GZB4ZZZ", "8E0W4CZ", "3E0G76Z",
    "0W9930Z", "0W9G30Z", "30243N1", "0DH67UZ", "10E0XZZ", "F07L0ZZ",
]

DELIVERY_OUTCOME = ["Z370", "Z3700"]
DELIVERY_PROCS_VAGINAL = ["10E0XZZ", "0KQM0ZZ", "10D07Z6"]
DELIVERY_PROCS_CSECTION = ["10D00Z1", "10D00Z0"]

POA_VALUES = ["Y", "N", "U", "W", "", "1"]
SDX_POA_P = [0.89, 0.05, 0.02, 0.015, 0.012, 0.013]
PDX_POA_P = [0.965, 0.012, 0.008, 0.005, 0.005, 0.005]

SEXES = ["M", "F", "U"]
SEX_P = [0.47, 0.52, 0.01]

# discharge status: 50% 1, 16% 6, the rest over the other CMS patient-status codes
_OTHER_STATUS = {2: 2.0, 3: 10.0, 4: 1.0, 5: 0.5, 7: 1.5, 20: 2.5, 21: 0.4, 30: 0.6, 43: 0.3, 50: 2.0,
                 51: 1.5, 61: 0.4, 62: 3.5, 63: 1.0, 64: 0.2, 65: 0.8, 66: 0.4, 69: 0.1, 70: 0.6}
for _s in range(81, 96):
    _OTHER_STATUS[_s] = 0.2
_rest = 34.0 / sum(_OTHER_STATUS.values())
STATUS_CODES = np.array([1, 6] + list(_OTHER_STATUS), dtype=np.int16)
STATUS_P = np.array([50.0, 16.0] + [w * _rest for w in _OTHER_STATUS.values()])
STATUS_P /= STATUS_P.sum()
NEWBORN_STATUS = np.array([1, 2, 5, 6, 20], dtype=np.int16)
NEWBORN_STATUS_P = np.array([0.90, 0.04, 0.01, 0.04, 0.01])

HOSPITAL = ["NOT_EXEMPT", "EXEMPT", "UNKNOWN"]
HOSPITAL_P = [0.90, 0.06, 0.04]

# SDX slot kinds: common comorbidity, same MDC as PDX, random CC, random MCC, random NCC, E-code
SDX_KIND_P = np.array([0.40, 0.12, 0.09, 0.035, 0.345, 0.01])
SDX_KIND_P_NEWBORN = np.array([0.10, 0.55, 0.05, 0.02, 0.28, 0.00])

_SUBSEQUENT = re.compile(r"^[STVWXY].{5}[DGKPQRSHMN]$")
_PERINATAL = re.compile(r"^(O|P|Z3[3-9]|Z3A)")
_FORMULA_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_@]*(?::[A-Za-z0-9_]+)?")
_NOT_PROC = {"MCC", "CC", "ALIVE", "DIED", "AMA", "XFRNBA", "MULTST", "SDX", "PDX", "ANY", "ONLY"}


# ------------------------------------------------------------------ pools


class _Sampler:
    """Weighted sampling from several buckets of ids at once, without per-draw searches.

    Each bucket is split into classes of equal weight (the weights take a handful
    of values); a draw picks a class from a tiny per-bucket table, then a uniform
    member of it, so a draw is a few gathers whatever the bucket size."""

    def __init__(self, buckets, weights=None, payload=None):
        ids, pay = [], []
        off = 0
        ncls = 1
        per = []
        for i, b in enumerate(buckets):
            b = np.asarray(b, dtype=np.int64)
            w = np.ones(len(b)) if weights is None else np.asarray(weights[i], dtype=np.float64)
            pl = np.zeros(len(b), np.int8) if payload is None else np.asarray(payload[i], np.int8)
            keep = w > 0
            b, w, pl = b[keep], w[keep], pl[keep]
            classes = np.unique(w)
            st, sz, mass = [], [], []
            for cw in classes:
                sel = w == cw
                st.append(off)
                sz.append(int(sel.sum()))
                mass.append(cw * sel.sum())
                ids.append(b[sel])
                pay.append(pl[sel])
                off += int(sel.sum())
            per.append((st, sz, mass))
            ncls = max(ncls, len(classes))
        nb = len(buckets)
        self.starts = np.zeros((nb, ncls), np.int64)
        self.sizes = np.zeros((nb, ncls), np.int64)
        self.cum = np.ones((nb, ncls), np.float64) * 2.0
        self.empty = np.zeros(nb, bool)
        for i, (st, sz, mass) in enumerate(per):
            if not sz:
                self.empty[i] = True
                continue
            k = len(sz)
            self.starts[i, :k] = st
            self.sizes[i, :k] = sz
            c = np.cumsum(mass) / np.sum(mass)
            c[-1] = 2.0
            self.cum[i, :k] = c
            self.starts[i, k:] = st[-1]
            self.sizes[i, k:] = sz[-1]
        self.ids = np.concatenate(ids).astype(np.int32) if ids else np.zeros(0, np.int32)
        self.payload = np.concatenate(pay) if pay else np.zeros(0, np.int8)

    def positions(self, rng, bucket: np.ndarray) -> np.ndarray:
        u1 = rng.random(len(bucket))
        u2 = rng.random(len(bucket))
        if self.cum.shape[1] == 1:
            cls = np.zeros(len(bucket), np.int64)
        else:
            cls = (u1[:, None] >= self.cum[bucket]).sum(axis=1)
        st = self.starts[bucket, cls]
        sz = self.sizes[bucket, cls]
        return st + np.minimum((u2 * sz).astype(np.int64), np.maximum(sz - 1, 0))

    def draw(self, rng, bucket: np.ndarray) -> np.ndarray:
        return self.ids[self.positions(rng, bucket)]


@cache
def _pools(version: int):
    from grouper.tables import default
    ts = default()
    vt = ts.version(version)
    dx_codes, pr_codes = ts.dx_codes, ts.pr_codes
    dx_index, pr_index = ts.dx_index, ts.pr_index
    mdc = vt.numpy("dx_mdc").astype(np.int16)
    sev = vt.numpy("dx_sev")
    valid_dx = mdc >= 0
    codes_arr = np.array(dx_codes, dtype=object)
    subsequent = np.fromiter((bool(_SUBSEQUENT.match(c)) for c in dx_codes), bool, len(dx_codes))
    injury = np.fromiter((c[:1] in ("S", "T") for c in dx_codes), bool, len(dx_codes))
    perinatal = np.fromiter((bool(_PERINATAL.match(c)) for c in dx_codes), bool, len(dx_codes))
    dx_weight = np.where(subsequent, 0.03, 1.0) * np.where(injury, 0.3, 1.0)
    # random secondary codes: few injuries, no pregnancy/perinatal codes (those come with MDC 14/15 PDX)
    sdx_weight = np.where(subsequent, 0.02, 1.0) * np.where(injury, 0.08, 1.0) * np.where(perinatal, 0.0, 1.0)

    # PDX buckets by MDC; sex-dependent codes in both their male and female MDC
    mdcs = sorted(MDC_WEIGHTS)
    gd = {int(d): (int(m), int(f)) for d, m, f in zip(vt.gd_dx, vt.gd_male, vt.gd_female)}
    gd_ids = np.array(sorted(gd), dtype=np.int64)
    buckets, bweights, bsex = [], [], []
    for m in mdcs:
        ids = np.flatnonzero((mdc == m) & valid_dx)
        ids = ids[~np.isin(ids, gd_ids)]
        extra_m = [d for d, (mm, ff) in gd.items() if mm == m]
        extra_f = [d for d, (mm, ff) in gd.items() if ff == m and mm != m]
        # per-id forced sex: -1 none, 0 M, 1 F
        sx = np.full(len(ids), -1, np.int8)
        if m == 12:
            sx[:] = 0
        elif m in (13, 14):
            sx[:] = 1
        allids = np.concatenate([ids, np.array(extra_m, np.int64), np.array(extra_f, np.int64)])
        sx = np.concatenate([sx, np.zeros(len(extra_m), np.int8), np.ones(len(extra_f), np.int8)])
        w = dx_weight[allids] if len(allids) else np.zeros(0)
        if m == 15:  # half of newborns are normal newborns (Z38)
            z38 = np.array([dx_codes[i].startswith("Z38") for i in allids])
            if z38.any():
                w = np.where(z38, w * (0.5 / z38.sum()) / max(w[z38].mean(), 1e-9),
                             w * (0.5 / max((~z38).sum(), 1)) / max(w[~z38].mean(), 1e-9))
        buckets.append(allids)
        bweights.append(w)
        bsex.append(sx)
    keep = [i for i, b in enumerate(buckets) if len(b)]
    mdcs = [mdcs[i] for i in keep]
    buckets = [buckets[i] for i in keep]
    bweights = [bweights[i] for i in keep]
    pdx_sampler = _Sampler(buckets, bweights, [bsex[i] for i in keep])
    mdc_p = np.array([MDC_WEIGHTS[m] for m in mdcs], dtype=np.float64)
    mdc_p /= mdc_p.sum()

    def valid_list(codes, pdx=False):
        out = []
        for c in codes:
            i = dx_index.get(c)
            if i is not None and mdc[i] >= (1 if pdx else 0) and i not in gd and i not in out:
                out.append(i)
        return np.array(out, dtype=np.int32)

    common_pdx = valid_list(COMMON_PDX, pdx=True)
    common_pdx_bucket = np.array([mdcs.index(int(mdc[i])) if int(mdc[i]) in mdcs else -1
                                  for i in common_pdx], dtype=np.int32)
    ok = common_pdx_bucket >= 0
    common_pdx, common_pdx_bucket = common_pdx[ok], common_pdx_bucket[ok]
    common_sdx = valid_list(COMMON_SDX)

    # SDX pools (same-MDC pool = the PDX buckets without forced sex; reuse sampler buckets)
    sdx_same = _Sampler([np.flatnonzero((mdc == m) & valid_dx) for m in mdcs],
                        [dx_weight[np.flatnonzero((mdc == m) & valid_dx)] for m in mdcs])
    nonext = valid_dx & (mdc > 0)
    cc_ids = np.flatnonzero(nonext & (sev == 1))
    mcc_ids = np.flatnonzero(nonext & (sev == 2))
    ncc_ids = np.flatnonzero(nonext & (sev == 0))
    ecode_ids = np.flatnonzero(valid_dx & (mdc == 0))
    sdx_kinds = _Sampler([common_sdx, np.zeros(0), cc_ids, mcc_ids, ncc_ids, ecode_ids],
                         [np.ones(len(common_sdx)), np.zeros(0), sdx_weight[cc_ids], sdx_weight[mcc_ids],
                          sdx_weight[ncc_ids], sdx_weight[ecode_ids]])
    r_ids = np.array([i for i in np.flatnonzero(nonext) if dx_codes[i].startswith("R")], dtype=np.int32)

    # procedures
    pr_attr = vt.numpy("pr_attr")
    valid_pr = (pr_attr >= 0) & ~np.array([c.startswith("Z@") for c in pr_codes])
    npat = max(ts.pr_patterns) + 1 if ts.pr_patterns else 1
    pat_or = np.zeros(npat, bool)
    pat_nonor = np.zeros(npat, bool)
    for k, names in ts.pr_patterns.items():
        s = set(names)
        pat_or[k] = bool(s & {"d468", "d477"})
        pat_nonor[k] = "nonor" in s
    pa = np.where(pr_attr > 0, pr_attr, 0).astype(np.int64)
    is_or = valid_pr & (pr_attr > 0) & pat_or[pa]
    is_nonor = valid_pr & ~is_or
    or_ids = np.flatnonzero(is_or)
    nonor_ids = np.flatnonzero(is_nonor)
    # OR procedures named by each MDC's surgical formulas
    or_by_mdc = []
    for m in mdcs:
        names = set()
        for r in vt.formulas.get(m, []):
            if r.get("surgical") != "SURGICAL":
                continue
            for tok in _FORMULA_TOKEN.findall(r.get("expression", "")):
                if ":" in tok or tok in _NOT_PROC or re.fullmatch(r"MDC\d+", tok):
                    continue
                names.add(tok)
        pat_hit = np.zeros(npat, bool)
        for k, pnames in ts.pr_patterns.items():
            if names & set(pnames):
                pat_hit[k] = True
        ids = np.flatnonzero(is_or & pat_hit[pa])
        or_by_mdc.append(ids if len(ids) else or_ids)
    or_mdc_sampler = _Sampler(or_by_mdc)
    common_nonor = np.array([pr_index[c] for c in COMMON_NONOR if c in pr_index and valid_pr[pr_index[c]]],
                            dtype=np.int32)
    pr_kinds = _Sampler([or_ids, nonor_ids, common_nonor])

    def ids_of(codes, kind):
        index, ok_ = (dx_index, valid_dx) if kind == "dx" else (pr_index, valid_pr)
        return np.array([index[c] for c in codes if c in index and ok_[index[c]]], dtype=np.int32)

    return {
        "mdcs": np.array(mdcs, dtype=np.int16), "mdc_p": mdc_p, "pdx": pdx_sampler,
        "common_pdx": common_pdx, "common_pdx_bucket": common_pdx_bucket, "sdx_same": sdx_same,
        "sdx_kinds": sdx_kinds, "r_ids": r_ids, "or_mdc": or_mdc_sampler, "pr_kinds": pr_kinds,
        "dx_codes": codes_arr, "pr_codes": np.array(pr_codes, dtype=object), "dx_mdc": mdc,
        "delivery_outcome": ids_of(DELIVERY_OUTCOME, "dx"),
        "deliv_vag": ids_of(DELIVERY_PROCS_VAGINAL, "pr"), "deliv_cs": ids_of(DELIVERY_PROCS_CSECTION, "pr"),
    }


# ------------------------------------------------------------------ helpers


def _counts(rng, n, table):
    """Counts from a list of (probability, low, high) bands (inclusive), uniform inside a band."""
    p = np.array([t[0] for t in table], dtype=np.float64)
    band = rng.choice(len(table), size=n, p=p / p.sum())
    lo = np.array([t[1] for t in table])[band]
    hi = np.array([t[2] for t in table])[band]
    return (lo + np.floor(rng.random(n) * (hi - lo + 1))).astype(np.int16)


def _categorical(rng, n, p) -> np.ndarray:
    """``n`` draws of 0..len(p)-1 with probabilities ``p`` (one uniform each, int8)."""
    c = np.cumsum(np.asarray(p, dtype=np.float64))
    c /= c[-1]
    return np.minimum(np.searchsorted(c, rng.random(n), side="right"), len(c) - 1).astype(np.int8)


def _first_occurrence(row: np.ndarray, ids: np.ndarray, ncodes: int) -> np.ndarray:
    """Mask of flat entries that are the first occurrence of their id within their row."""
    key = row.astype(np.int64) * ncodes + ids
    order = np.argsort(key, kind="stable")
    ks = key[order]
    dup_sorted = np.empty(len(ks), bool)
    if len(ks):
        dup_sorted[0] = False
        dup_sorted[1:] = ks[1:] == ks[:-1]
    keep = np.empty(len(ks), bool)
    keep[order] = ~dup_sorted
    return keep


def _recount(row: np.ndarray, keep: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(row[keep], minlength=n).astype(np.int32)


# ------------------------------------------------------------------ generate


def generate_arrays(n: int, seed: int = 0, version: int = 431) -> dict:
    """The claims as numpy arrays of code ids (SDX and procedures flattened row by row,
    with per-claim counts); :func:`generate` turns them into dicts."""
    P = _pools(int(version))
    rng = np.random.default_rng(np.random.PCG64(seed))
    mdcs = P["mdcs"]
    ndx = len(P["dx_codes"])
    npc = len(P["pr_codes"])

    # ---- principal diagnosis
    use_common = rng.random(n) < 0.25
    bucket = _categorical(rng, n, P["mdc_p"]).astype(np.int32)
    pos = P["pdx"].positions(rng, bucket)
    pdx = P["pdx"].ids[pos]
    forced = P["pdx"].payload[pos]
    ci = rng.integers(0, len(P["common_pdx"]), size=n)
    pdx = np.where(use_common, P["common_pdx"][ci], pdx).astype(np.int32)
    bucket = np.where(use_common, P["common_pdx_bucket"][ci], bucket).astype(np.int32)
    forced = np.where(use_common, -1, forced)
    pmdc = mdcs[bucket]
    newborn = pmdc == 15
    obstetric = pmdc == 14

    # ---- sex, age
    sex = _categorical(rng, n, SEX_P)
    redraw = rng.random(n) < 0.02
    sex = np.where((forced >= 0) & ~redraw, forced, sex).astype(np.int8)
    age_band = _categorical(rng, n, [0.04, 0.26, 0.70])
    lo = np.array([1, 18, 65])[age_band]
    hi = np.array([18, 65, 101])[age_band]
    age = lo + (rng.random(n) * (hi - lo)).astype(np.int64)
    age = np.where(obstetric, 14 + (rng.random(n) * 35).astype(np.int64), age)
    age = np.where(newborn, 0, age).astype(np.int16)

    # ---- discharge status, hospital status, PDX POA
    status = STATUS_CODES[_categorical(rng, n, STATUS_P)]
    nb_status = NEWBORN_STATUS[_categorical(rng, n, NEWBORN_STATUS_P)]
    status = np.where(newborn, nb_status, status).astype(np.int16)
    hospital = _categorical(rng, n, HOSPITAL_P)
    pdx_poa = _categorical(rng, n, PDX_POA_P)

    # ---- deliveries: outcome code + delivery procedure for 75% of MDC 14 claims
    delivery = obstetric & (rng.random(n) < 0.75)
    if not (len(P["delivery_outcome"]) and len(P["deliv_vag"]) and len(P["deliv_cs"])):
        delivery[:] = False
    csect = rng.random(n) < 0.32

    # ---- secondary diagnoses (flat, row by row)
    nsdx = _counts(rng, n, [(0.05, 0, 0), (0.10, 1, 2), (0.70, 3, 12), (0.15, 13, 24)]).astype(np.int32)
    nsdx = np.where(delivery, np.maximum(nsdx, 1), nsdx)
    srow = np.repeat(np.arange(n, dtype=np.int32), nsdx)
    total = len(srow)
    scol = np.arange(total, dtype=np.int32) - np.repeat(np.cumsum(nsdx) - nsdx, nsdx).astype(np.int32)
    snb = newborn[srow]
    kind = np.where(snb, _categorical(rng, total, SDX_KIND_P_NEWBORN), _categorical(rng, total, SDX_KIND_P))
    sdx = P["sdx_kinds"].draw(rng, kind.astype(np.int64))
    is_same = kind == 1
    sdx[is_same] = P["sdx_same"].draw(rng, bucket[srow[is_same]].astype(np.int64))
    sdx_poa = _categorical(rng, total, SDX_POA_P)
    first_deliv = delivery[srow] & (scol == 0)
    sdx[first_deliv] = P["delivery_outcome"][0] if len(P["delivery_outcome"]) else sdx[first_deliv]
    sdx_poa[first_deliv] = 0

    # ---- procedures (flat): first usually an OR procedure of the PDX's MDC, the rest mostly non-OR
    npr = _counts(rng, n, [(0.45, 0, 0), (0.35, 1, 3), (0.17, 4, 10), (0.03, 11, 25)]).astype(np.int32)
    npr = np.where(delivery, np.maximum(npr, 1), npr)
    prow = np.repeat(np.arange(n, dtype=np.int32), npr)
    ptotal = len(prow)
    pcol = np.arange(ptotal, dtype=np.int32) - np.repeat(np.cumsum(npr) - npr, npr).astype(np.int32)
    pkind = _categorical(rng, ptotal, [0.10, 0.60, 0.30])
    first = pcol == 0
    first_or = rng.random(ptotal) < 0.80
    pkind = np.where(first, np.where(first_or, 0, 1), pkind).astype(np.int64)
    pr = P["pr_kinds"].draw(rng, pkind)
    related = (pkind == 0) & (rng.random(ptotal) < np.where(first, 0.75, 0.6))
    pr[related] = P["or_mdc"].draw(rng, bucket[prow[related]].astype(np.int64))
    pdeliv = delivery[prow] & first
    if pdeliv.any():
        drow = prow[pdeliv]
        vag = P["deliv_vag"][rng.integers(0, len(P["deliv_vag"]), len(drow))]
        cs = P["deliv_cs"][rng.integers(0, len(P["deliv_cs"]), len(drow))]
        pr[pdeliv] = np.where(csect[drow], cs, vag)

    # ---- admit dx: 30%, half the PDX, half a symptom code
    has_admit = rng.random(n) < 0.30
    admit_same = rng.random(n) < 0.5
    admit = np.where(admit_same, pdx, P["r_ids"][rng.integers(0, len(P["r_ids"]), n)])
    admit = np.where(has_admit, admit, -1).astype(np.int32)

    # ---- drop duplicates (and SDX equal to the PDX)
    keep = _first_occurrence(srow, sdx, ndx) & (sdx != pdx[srow])
    sdx, sdx_poa, nsdx = sdx[keep], sdx_poa[keep], _recount(srow, keep, n)
    keep = _first_occurrence(prow, pr, npc)
    pr, npr = pr[keep], _recount(prow, keep, n)

    return {"n": n, "seed": seed, "version": int(version), "pdx": pdx, "pdx_poa": pdx_poa, "sex": sex,
            "age": age, "status": status, "hospital": hospital, "admit": admit,
            "sdx": sdx, "sdx_poa": sdx_poa, "nsdx": nsdx, "pr": pr, "npr": npr}


def generate(n: int, seed: int = 0, version: int = 431) -> list[dict]:
    """``n`` realistic claims of grouper ``version`` (431 = v43.1), deterministic for (n, seed, version)."""
    A = generate_arrays(n, seed, version)
    gc_was = gc.isenabled()
    gc.disable()  # millions of small lists: the cyclic GC would rescan them again and again
    try:
        return _build(A)
    finally:
        if gc_was:
            gc.enable()


def _build(A: dict) -> list[dict]:
    P = _pools(A["version"])
    dx_codes, pr_codes = P["dx_codes"], P["pr_codes"]
    n = A["n"]
    nsdx, npr = A["nsdx"], A["npr"]
    poa_values = np.array(POA_VALUES, dtype=object)
    pairs = list(map(list, zip(dx_codes[A["sdx"]].tolist(), poa_values[A["sdx_poa"]].tolist())))
    procs = pr_codes[A["pr"]].tolist()
    soff = np.concatenate([[0], np.cumsum(nsdx)]).tolist()
    poff = np.concatenate([[0], np.cumsum(npr)]).tolist()
    pdx = dx_codes[A["pdx"]].tolist()
    pdx_poa = poa_values[A["pdx_poa"]].tolist()
    sex = np.array(SEXES, dtype=object)[A["sex"]].tolist()
    age = A["age"].tolist()
    status = A["status"].tolist()
    hospital = np.array(HOSPITAL, dtype=object)[A["hospital"]].tolist()
    admit_ids = A["admit"]
    admit = np.where(admit_ids >= 0, dx_codes[np.maximum(admit_ids, 0)], None).tolist()
    version = A["version"]
    width = max(7, len(str(n - 1)))
    prefix = f"g{A['seed']}-"
    ids = [prefix + s for s in np.char.zfill(np.arange(n).astype(str), width).tolist()] if n else []
    keys = ("id", "version", "age", "sex", "discharge_status", "pdx", "pdx_poa", "admit_dx", "sdx",
            "procedures", "hospital_status")
    sdx_lists = [pairs[a:b] for a, b in zip(soff[:-1], soff[1:])]
    pr_lists = [procs[a:b] for a, b in zip(poff[:-1], poff[1:])]
    return [dict(zip(keys, row)) for row in zip(ids, [version] * n, age, sex, status, pdx, pdx_poa, admit,
                                                  sdx_lists, pr_lists, hospital)]


def write_jsonl(claims: list[dict], path: str) -> None:
    """Write claims as JSON lines (gzip when the name ends in .gz; level 1 for speed)."""
    tmp = path + ".tmp"
    if path.endswith(".gz"):
        f = gzip.open(tmp, "wt", encoding="utf-8", compresslevel=1)
    else:
        f = open(tmp, "w", encoding="utf-8")
    enc = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with f:
        buf = []
        for c in claims:
            buf.append(enc(c))
            if len(buf) >= 10000:
                f.write("\n".join(buf) + "\n")
                buf.clear()
        if buf:
            f.write("\n".join(buf) + "\n")
    os.replace(tmp, path)


def read_jsonl(path: str) -> list[dict]:
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Generate realistic seeded claims (JSON lines).")
    ap.add_argument("n", type=int, help="number of claims")
    ap.add_argument("-o", "--output", required=True, help="output .jsonl or .jsonl.gz")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--version", type=int, default=431, help="grouper version x10 (e.g. 431)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    claims = generate(args.n, args.seed, args.version)
    t1 = time.perf_counter()
    write_jsonl(claims, args.output)
    t2 = time.perf_counter()
    if not args.quiet:
        print(f"{args.n:,} claims (v{args.version}, seed {args.seed}) generated in {t1 - t0:.1f} s, "
              f"written to {args.output} in {t2 - t1:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
