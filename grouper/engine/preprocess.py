"""Stage 2 — attribute marking: look every code up in the version's tables.

For the principal diagnosis, each secondary diagnosis and each procedure this
finds whether the code exists in the version (CMS ``isCodeValid``), its MDC and
severity, and its attribute lists.  It forms procedure clusters (CMS README
§4.4: a cluster forms when every choice has one of its codes on the claim;
its ``Z@`` pseudo-code joins the procedures and its components' attributes
are ignored in the cluster's suppression MDCs) and computes the claim-level
special atoms of the formula language (§5.3: ALIVE, MULTST, BILATERAL,
vessel/stent/fusion counters, invalid-input atoms, …).
"""
from __future__ import annotations

from operator import itemgetter

from .compiled import (FALLTHROUGH, JOINTS, NORMAL_NEWBORN, OR_ATTRS, TRAUMA_SITES, Compiled, DxInfo,
                       PrInfo)
from ..reading import ReadClaim
from ..reading.values import SEX_FEMALE, SEX_MALE

_FIRST = itemgetter(0)

DIED_STATUS = 20
AMA_STATUS = 7
TRANSFER_ACUTE = frozenset({2, 5, 66, 82, 85, 94})
EMPTY = frozenset()


class Dx:
    """One diagnosis of the claim: its position and POA, and the table facts of its code."""

    __slots__ = ("position", "code", "poa", "valid", "id", "mdc", "severity", "attrs", "excl", "info")

    def __init__(self, position: int, code: str, poa: str, info: DxInfo | None):
        self.position = position          # 0 = PDX, 1.. = SDX in input order
        self.code = code                  # as given
        self.poa = poa
        self.info = info
        if info is None:
            self.valid, self.id, self.mdc, self.severity, self.attrs, self.excl = False, -1, -1, 0, EMPTY, 0
        else:
            self.valid, self.id, self.mdc, self.severity = True, info.id, info.mdc, info.severity
            self.attrs, self.excl = info.attrs, info.excl

    def __repr__(self):
        return f"Dx({self.position}, {self.code!r}, {self.poa!r}, valid={self.valid})"


class Proc:
    """One procedure of the claim (or a formed cluster pseudo-code, position < 0)."""

    __slots__ = ("position", "code", "valid", "id", "attrs", "is_or_attr", "suppressed_in", "cluster", "info")

    def __init__(self, position: int, code: str, info: PrInfo | None, cluster: bool = False):
        self.position = position
        self.code = code
        self.info = info
        self.cluster = cluster
        self.suppressed_in = EMPTY        # formula lists in which a formed cluster hides this code
        if info is None:
            self.valid, self.id, self.attrs, self.is_or_attr = False, -1, EMPTY, False
        else:
            self.valid, self.id, self.attrs, self.is_or_attr = True, info.id, info.attrs, info.is_or_attr

    def __repr__(self):
        return f"Proc({self.position}, {self.code!r}, valid={self.valid})"


class ClaimState:
    """Everything the later stages need about one claim, as attribute sets (P, S, R) and as
    feature masks over the version's formula operands."""

    __slots__ = ("read", "cv", "pdx", "sdx_info", "_sdx", "procs", "all_procs", "pdx_mdc", "X", "P", "base_mask",
                 "_S", "_r_cache", "_rmask_cache", "clustered")

    def __init__(self, read, cv, pdx, sdx_info, procs, all_procs, pdx_mdc, X, base_mask, clustered):
        self.read, self.cv, self.pdx = read, cv, pdx
        self.sdx_info = sdx_info         # table facts per secondary diagnosis (None: invalid code)
        self._sdx = None
        self.procs, self.all_procs, self.pdx_mdc, self.X = procs, all_procs, pdx_mdc, X
        self.P = pdx.attrs
        self.base_mask = base_mask       # PDX, SDX and claim-level bits (procedures added per list)
        self.clustered = clustered       # a formed cluster hides components in some lists
        self._S = None
        self._r_cache = {}
        self._rmask_cache = {}

    @property
    def sdx(self) -> list:
        """The secondary diagnoses as :class:`Dx` objects (built on first use)."""
        if self._sdx is None:
            self._sdx = [Dx(k, code, poa, info)
                         for k, ((code, poa), info) in enumerate(zip(self.read.sdx, self.sdx_info), start=1)]
        return self._sdx

    @property
    def S(self) -> frozenset:
        """Union of the valid secondary diagnoses' attributes (with the newborn fall-through
        operand as CMS evaluates it)."""
        if self._S is None:
            valid = [d for d in self.sdx if d.valid]
            out = frozenset().union(*(d.attrs for d in valid)) if valid else EMPTY
            if any(not d.info.incident for d in valid):
                out = out | {FALLTHROUGH}
            else:
                out = out - {FALLTHROUGH}
            self._S = out
        return self._S

    def R(self, mdc: int) -> frozenset:
        """Procedure attributes active when evaluating formula list ``mdc``."""
        got = self._r_cache.get(mdc)
        if got is None:
            out: set = set()
            for p in self.procs:
                if mdc not in p.suppressed_in:
                    out |= p.attrs
            got = self._r_cache[mdc] = frozenset(out)
        return got

    def mask(self, mdc: int) -> int:
        """Feature mask for evaluating formula list ``mdc``."""
        key = mdc if self.clustered else None
        got = self._rmask_cache.get(key)
        if got is None:
            r = 0
            for p in self.procs:
                if mdc not in p.suppressed_in:
                    r |= p.info.rbits
            got = self._rmask_cache[key] = self.base_mask | r
        return got


def _form_clusters(cv: Compiled, procs: list[Proc]) -> list[Proc]:
    on_claim = {p.id for p in procs}
    candidates = sorted({c for p in procs if p.info.clustered for c in cv.clusters_of.get(p.id, ())})
    formed = []
    for c in candidates:
        cl = cv.clusters[c]
        if all(ch & on_claim for ch in cl.choices):
            formed.append(cl)
    out = []
    for k, cl in enumerate(formed):
        members = frozenset().union(*cl.choices)
        for p in procs:
            if p.id in members:
                p.suppressed_in = p.suppressed_in | cl.suppression_mdcs
        out.append(Proc(-1 - k, cl.code, cv.pr_info(cl.code), cluster=True))
    return out


def _count(procs, name: str) -> int:
    return sum(1 for p in procs if name in p.attrs)


def _counter_atoms(procs: list[Proc], X: set) -> None:
    vessels = sum(n for p in procs for n in (1, 2, 3, 4) if f"vessel{n}" in p.attrs)
    if vessels >= 4:
        X.add("FOUR_VESSELS")
    stents = drug = bare = 0
    for p in procs:
        n = sum(k for k in (1, 2, 3, 4) if f"stent{k}" in p.attrs)
        if not n:
            continue
        is_drug = "NORdrugstent" in p.attrs
        is_bare = "NORstent" in p.attrs
        if is_drug or is_bare:
            stents += n
        if is_drug:
            drug += n
        if is_bare:
            bare += n
    if stents >= 4:
        X.add("FOUR_STENTS")
    if drug >= 4:
        X.add("FOUR_DRUG_ELUTING_STENTS")
    if bare >= 4:
        X.add("FOUR_NON_DRUG_ELUTING_STENTS")
    if len({j for p in procs for j in JOINTS if j in p.attrs}) >= 2:
        X.add("BILATERAL")
    X.update(fusion_atoms(procs))


def fusion_atoms(procs) -> set:
    """Spinal fusion counters: several single-level fusions coded separately."""
    ant = _count(procs, "sglantfuse")
    post = _count(procs, "sglpostfuse")
    out = set()
    if ant >= 1 and post >= 1 and ant + post >= 3:
        out.add("SINGLEFUSIONCTR")
    if ant >= 2:
        out.add("SGLANTCTR")
    if _count(procs, "sglpostfuse1") >= 2:
        out.add("SGLPOST1CTR")
    if _count(procs, "sglantsectXfuse") >= 2:
        out.add("SGLANTSECTXCTR")
    if post >= 2:
        out.add("SGLPOSTFUSECTR")
    if "SGLANTCTR" in out or "SGLPOST1CTR" in out:
        out.add("MULTFUSE")
    return out


def mark(cv: Compiled, rc: ReadClaim) -> ClaimState:
    """Stage entry point: look up all codes, form clusters, compute special atoms."""
    dx_read = cv.dx_read
    pdx = Dx(0, rc.pdx, rc.pdx_poa, dx_read(rc.pdx))
    sdx_info = list(map(dx_read, map(_FIRST, rc.sdx)))

    pr_read = cv.pr_read
    codes = rc.procedures
    all_procs = list(map(Proc, range(len(codes)), codes, map(pr_read, codes))) if codes else []
    procs = [p for p in all_procs if p.valid]
    clustered = False
    if any(p.info.clustered for p in procs):
        formed = _form_clusters(cv, procs)
        if formed:
            procs = procs + formed
            clustered = True

    X = {"ANYDX"}
    ds = rc.discharge_status
    if ds is None:
        X.add("INVALID_DSTAT")
    if ds != DIED_STATUS:
        X.add("ALIVE")
    else:
        X.add("DIED")
    if ds == AMA_STATUS:
        X.add("AMA")
    if ds in TRANSFER_ACUTE:
        X.add("XFRNBA")
    if any(p.is_or_attr for p in procs):
        X.add("ORPROC")

    pdx_mdc = None
    pinfo = pdx.info
    if pinfo is None:
        X.add("INVALID_PDX")
    else:
        pdx_mdc = pinfo.mdc
        g = pinfo.gender
        if g is not None:
            if rc.sex == SEX_MALE:
                pdx_mdc = g[0]
            elif rc.sex == SEX_FEMALE:
                pdx_mdc = g[1]
            else:
                X.add("INVALID_SEX")
        if pinfo.mdc == 0:
            X.add("PDX_ECODE")
        if pdx_mdc == 20:
            X.add("MDC_20_FALL_THRU")

    s_mask = 0
    sites = set(pinfo.sites) if pinfo is not None else set()
    all_incident = True
    for info in sdx_info:
        if info is not None:
            s_mask |= info.sbits
            if info.sites:
                sites |= info.sites
            if not info.incident:
                all_incident = False
    # CMS quirk (labelled claims): as a secondary-diagnosis operand, "falls through the
    # normal-newborn logic" means "some secondary diagnosis is not a normal-newborn code".
    fall = cv.features.index.get(("S", FALLTHROUGH), 0)
    s_mask = (s_mask & ~fall) | (0 if all_incident else fall)
    if len(sites) >= 2:
        X.add("MULTST")
    if pinfo is not None and pinfo.incident and all_incident:
        X.add("ONLY:incident")
    if any(p.info.counted for p in procs):
        _counter_atoms(procs, X)
    X = frozenset(X)
    base = (pinfo.pbits if pinfo is not None else 0) | s_mask | cv.features.mask("X", X)
    return ClaimState(rc, cv, pdx, sdx_info, procs, all_procs, pdx_mdc, X, base, clustered)
