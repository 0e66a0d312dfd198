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

import attrs

from .compiled import OR_ATTRS, Compiled
from .validate import SEX_FEMALE, SEX_MALE, ReadClaim

DIED_STATUS = 20
AMA_STATUS = 7
TRANSFER_ACUTE = frozenset({2, 5, 66, 82, 85, 94})
TRAUMA_SITES = ("sthead", "stchest", "stabdom", "stkidney", "sturin", "stpel", "stuplimb", "stlolimb")
NORMAL_NEWBORN = "incident"          # attribute tested by ONLY:incident (DRG 795)
FALLTHROUGH = "mdc15fallthrough"
JOINTS = ("righthip", "lefthip", "rightknee", "leftknee", "rightankle", "leftankle")
EMPTY = frozenset()


@attrs.define(slots=True)
class Dx:
    position: int                 # 0 = PDX, 1.. = SDX in input order
    code: str                     # as given
    poa: str
    valid: bool
    id: int = -1
    mdc: int = -1                 # table MDC as PDX
    severity: int = 0             # 0 NCC, 1 CC, 2 MCC (table severity)
    attrs: frozenset = EMPTY
    excl: int = 0                 # CC-exclusion list number (0: none)


@attrs.define(slots=True)
class Proc:
    position: int                 # input position; cluster pseudo-codes get -1 - k
    code: str
    valid: bool
    id: int = -1
    attrs: frozenset = EMPTY
    is_or_attr: bool = False      # has d468/d477 (ORPROC, unrelated-OR DRGs)
    suppressed_in: frozenset = EMPTY   # MDC lists in which a formed cluster hides this code
    cluster: bool = False


@attrs.define(slots=True)
class ClaimState:
    read: ReadClaim
    cv: Compiled
    pdx: Dx
    sdx: list
    procs: list                   # valid input procedures, then formed cluster codes
    all_procs: list               # every input procedure, valid or not, in input order
    pdx_mdc: int | None           # MDC of the PDX (sex-resolved); None when not known
    X: frozenset                  # true special atoms
    P: frozenset                  # PDX attributes
    S: frozenset                  # union of valid SDX attributes
    _r_cache: dict = attrs.Factory(dict)

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


def _lookup_dx(cv: Compiled, position: int, code: str, poa: str) -> Dx:
    i = cv.tables.dx_index.get(code.upper())
    if i is None or cv.vt.dx_mdc[i] < 0:
        return Dx(position, code, poa, False)
    vt = cv.vt
    return Dx(position, code, poa, True, i, int(vt.dx_mdc[i]), int(vt.dx_sev[i]), cv.dx_attrs(i),
              int(vt.dx_excl[i]))


def _form_clusters(cv: Compiled, procs: list[Proc]) -> list[Proc]:
    on_claim = {p.id for p in procs}
    candidates = sorted({c for p in procs for c in cv.clusters_of.get(p.id, ())})
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
        attrs_ = cv.pr_attrs(cl.pr_id)
        out.append(Proc(-1 - k, cl.code, True, cl.pr_id, attrs_, bool(attrs_ & OR_ATTRS), EMPTY, True))
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
    vt = cv.vt
    pdx = _lookup_dx(cv, 0, rc.pdx, rc.pdx_poa)
    sdx = [_lookup_dx(cv, k + 1, code, poa) for k, (code, poa) in enumerate(rc.sdx)]

    all_procs = []
    for k, code in enumerate(rc.procedures):
        i = cv.tables.pr_index.get(code.upper())
        if i is None or vt.pr_attr[i] < 0:
            all_procs.append(Proc(k, code, False))
        else:
            a = cv.pr_attrs(i)
            all_procs.append(Proc(k, code, True, i, a, bool(a & OR_ATTRS)))
    valid_procs = [p for p in all_procs if p.valid]
    procs = valid_procs + _form_clusters(cv, valid_procs)

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
    if not pdx.valid:
        X.add("INVALID_PDX")
    else:
        pdx_mdc = pdx.mdc
        g = vt.gender_mdc.get(pdx.id)
        if g is not None:
            if rc.sex == SEX_MALE:
                pdx_mdc = g[0]
            elif rc.sex == SEX_FEMALE:
                pdx_mdc = g[1]
            else:
                X.add("INVALID_SEX")
        if pdx.mdc == 0:
            X.add("PDX_ECODE")
        if pdx_mdc == 20:
            X.add("MDC_20_FALL_THRU")
    valid_sdx = [d for d in sdx if d.valid]
    S = frozenset().union(*(d.attrs for d in valid_sdx)) if valid_sdx else EMPTY
    # CMS quirk (labelled claims): as a secondary-diagnosis operand, "falls through the
    # normal-newborn logic" means "some secondary diagnosis is not a normal-newborn code".
    if any(NORMAL_NEWBORN not in d.attrs for d in valid_sdx):
        S = S | {FALLTHROUGH}
    else:
        S = S - {FALLTHROUGH}
    P = pdx.attrs
    sites = {s for s in TRAUMA_SITES if s in P or s in S}
    if len(sites) >= 2:
        X.add("MULTST")
    if pdx.valid and "incident" in P and all("incident" in d.attrs for d in valid_sdx):
        X.add("ONLY:incident")
    _counter_atoms(procs, X)
    return ClaimState(rc, cv, pdx, sdx, procs, all_procs, pdx_mdc, frozenset(X), P, S)
