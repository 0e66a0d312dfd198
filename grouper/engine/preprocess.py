"""Preprocessing (CMS ``logic/preprocess`` and ``MsdrgMaskBuilder``): look every code up in the
version's tables, form procedure clusters, compute the claim-level atoms.

For the principal diagnosis, each secondary diagnosis and each procedure this finds
whether the code exists in the version (CMS ``isCodeValid``), its MDC and severity, and
its attribute lists (CMS ``PdxAttributeProcessor``, ``SdxAttributeProcessor``,
``ProcedureAttributeProcessor``).  It forms procedure clusters (CMS ``MsdrgClusters``;
``docs/cms-rules.md``, "Procedure clusters": a cluster forms when every choice has one of
its codes on the claim; its ``Z@`` pseudo-code joins the procedures and its components'
attributes are ignored in the cluster's suppression MDCs) and computes the claim-level
atoms of the formula language with the rules of :mod:`grouper.engine.atoms` (ALIVE,
MULTST, BILATERAL, the vessel/stent/fusion counters, the invalid-input atoms, ...).  The
result is a :class:`ClaimState`: attribute sets and a feature mask per formula list.
"""
from __future__ import annotations

from operator import itemgetter

from ..reading import ReadClaim
from .atoms import (
    ANYDX,
    FALLTHROUGH,
    NO_MDC,
    ORPROC,
    claim_tallies,
    counter_atoms,
    diagnosis_atoms,
    principal_atoms,
    status_atoms,
)
from .compiled import CLUSTERED, COUNTED, IS_OR, NOT_NEWBORN, Compiled, DxInfo, PrInfo

_FIRST = itemgetter(0)
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

    __slots__ = ("position", "code", "valid", "id", "attrs", "suppressed_in", "cluster", "info")

    def __init__(self, position: int, code: str, info: PrInfo | None, cluster: bool = False):
        self.position = position
        self.code = code
        self.info = info
        self.cluster = cluster
        self.suppressed_in = EMPTY        # formula lists in which a formed cluster hides this code
        if info is None:
            self.valid, self.id, self.attrs = False, -1, EMPTY
        else:
            self.valid, self.id, self.attrs = True, info.id, info.attrs

    def __repr__(self):
        return f"Proc({self.position}, {self.code!r}, valid={self.valid})"


class ClaimState:
    """Everything the later stages need about one claim, as attribute sets (P, S, R) and as
    feature masks over the version's formula operands."""

    __slots__ = ("read", "cv", "pdx", "sdx_info", "_sdx", "procs", "all_procs", "pdx_mdc", "X", "P", "base_mask",
                 "_S", "_r_cache", "_rmask_cache", "clustered", "_ranked", "sdx_kinds")

    def __init__(self, read, cv, pdx, sdx_info, procs, all_procs, pdx_mdc, X, base_mask, clustered, sdx_kinds):
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
        self._ranked = None
        # DxInfo.kind of the valid secondary diagnoses, OR-ed: whether some SDX is on a HAC
        # list, is a CC or MCC in the table (HAC_LISTED, SEVERE: the stages' shortcuts)
        self.sdx_kinds = sdx_kinds

    def ranked_sdx(self) -> list:
        """The valid secondary diagnoses as (position, attributes), by table severity, MCC
        first, then by code as written, ties in input order (the tie-break order of marking);
        built once."""
        if self._ranked is None:
            sdx = self.read.sdx
            order = sorted((-i.severity, sdx[k][0], k, i.attrs) for k, i in enumerate(self.sdx_info) if i is not None)
            self._ranked = [(k + 1, a) for _, _, k, a in order]
        return self._ranked

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
            if any(not d.info.newborn for d in valid):        # atoms.FALLTHROUGH_RULE
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


def formed_clusters(cv: Compiled, ids) -> list:
    """The procedure clusters that a claim's procedures (code ids of its valid procedures) form:
    every cluster with a code on the claim in each of its choices, in cluster order."""
    on_claim = set(ids)
    clusters, clusters_of = cv.clusters, cv.clusters_of
    candidates = sorted({c for i in on_claim for c in clusters_of.get(i, ())})
    return [clusters[c] for c in candidates if all(ch & on_claim for ch in clusters[c].choices)]


def _form_clusters(cv: Compiled, procs: list[Proc]) -> list[Proc]:
    """The formed clusters' pseudo-codes as procedures; their components are hidden in the
    clusters' suppression MDCs."""
    out = []
    for k, cl in enumerate(formed_clusters(cv, [p.id for p in procs])):
        members = frozenset().union(*cl.choices)
        for p in procs:
            if p.id in members:
                p.suppressed_in = p.suppressed_in | cl.suppression_mdcs
        out.append(Proc(-1 - k, cl.code, cv.pr_info(cl.code), cluster=True))
    return out


def preprocess(cv: Compiled, read: ReadClaim) -> ClaimState:
    """Look up all codes of a claim as read, form clusters, compute the claim-level atoms."""
    dx_read = cv.dx_read
    pdx = Dx(0, read.pdx, read.pdx_poa, dx_read(read.pdx))
    sdx_info = list(map(dx_read, map(_FIRST, read.sdx)))

    pr_read = cv.pr_read
    codes = read.procedures
    all_procs = list(map(Proc, range(len(codes)), codes, map(pr_read, codes))) if codes else []
    procs = [p for p in all_procs if p.valid]
    flags = 0                         # PrInfo.flags of the valid procedures, OR-ed
    for p in procs:
        flags |= p.info.flags
    clustered = False
    if flags & CLUSTERED:
        formed = _form_clusters(cv, procs)
        if formed:
            procs = procs + formed
            clustered = True
            for p in formed:              # a formed cluster's pseudo-code counts as a procedure too
                flags |= p.info.flags

    pinfo = pdx.info
    s_mask = 0
    sites = pinfo.sites if pinfo is not None else 0
    kinds = 0
    for info in sdx_info:
        if info is not None:
            s_mask |= info.sbits
            sites |= info.sites
            kinds |= info.kind
    all_newborn = not kinds & NOT_NEWBORN
    # the secondary-diagnosis operand "falls through the normal-newborn logic" (atoms.FALLTHROUGH_RULE)
    fall = cv.fallthrough_bit
    s_mask = (s_mask & ~fall) | (0 if all_newborn else fall)
    any_or = bool(flags & IS_OR)
    if flags & COUNTED:
        pdx_mdc, X, x_mask = _claim_atoms(cv, pinfo, read, any_or, all_newborn, sites,
                                          claim_tallies((p.info.tallies, p.info.presences) for p in procs))
    else:
        # the claim-level atoms depend on these few values only: memoized per version
        key = ("claim atoms", None if pinfo is None else (pinfo.mdc, pinfo.gender, pinfo.newborn), read.sex,
               read.discharge_status, any_or, all_newborn, sites)
        got = cv.memo.get(key)
        if got is None:
            got = cv.memo[key] = _claim_atoms(cv, pinfo, read, any_or, all_newborn, sites, None)
        pdx_mdc, X, x_mask = got
    base = (pinfo.pbits if pinfo is not None else 0) | s_mask | x_mask
    return ClaimState(read, cv, pdx, sdx_info, procs, all_procs, pdx_mdc, X, base, clustered, kinds)


def _claim_atoms(cv: Compiled, pinfo, read: ReadClaim, any_or: bool, all_newborn: bool, sites: int, tallies):
    """(the principal diagnosis' MDC, the claim-level atoms, their feature bits) of a claim:
    from its principal diagnosis, sex, discharge status, OR procedures, newborn codes, trauma
    sites and procedure counters' ``tallies`` (None: no counted procedure)."""
    if pinfo is None:
        pdx_mdc, p_atoms = principal_atoms(NO_MDC, None, read.sex)
    else:
        pdx_mdc, p_atoms = principal_atoms(pinfo.mdc, pinfo.gender, read.sex)
    X = {ANYDX}
    X |= status_atoms(read.discharge_status)
    X |= p_atoms
    if any_or:
        X.add(ORPROC)
    X |= diagnosis_atoms(pinfo is not None and pinfo.newborn, all_newborn, sites)
    if tallies is not None:
        X |= counter_atoms(*tallies)
    X = frozenset(X)
    return pdx_mdc, X, cv.features.mask("X", X)
