"""One grouper version's tables, compiled for grouping (built lazily, once per version).

Turns the data of :class:`grouper.tables.VersionTables` into what the stages
use per claim: attribute sets per code (interned by pattern), formula lists in
evaluation order with parsed and compiled expressions, procedure clusters and
HAC formulas.  Nothing here is specific to one claim.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

import attrs

from ..tables.store import TableSet, VersionTables
from . import formula as fm
from .atoms import (
    ALWAYS_DECLARED,
    ERROR_ATOMS,
    FALLTHROUGH,
    MCC_ALIVE,
    NORMAL_NEWBORN,
    is_or_procedure,
    procedure_tallies,
    site_bits,
)
from .codes import UNGROUPED_DRG_SEVERITY, UNRELATED_OR, MedSurg, ReturnCode, med_surg

NAMESPACES = ("P", "S", "R", "X")


class Features:
    """Feature bits of one version: every operand tested by a formula gets one bit in an
    integer mask ("P" principal-dx attribute, "S" secondary-dx attribute, "R" procedure
    attribute, "X" claim-level atom).

    Each namespace occupies whole 64-bit words (P first, then S, R, X), so a claim's mask
    is also a row of uint64 words for the vectorized path (:mod:`grouper.bulk.vector`)."""

    def __init__(self, operands: dict[str, list[str]]):
        self.index: dict[tuple[str, str], int] = {}
        self.words: dict[str, tuple[int, int]] = {}   # namespace -> (first word, number of words)
        word = 0
        for ns in NAMESPACES:
            names = operands.get(ns, [])
            n_words = max(1, -(-len(names) // 64))
            self.words[ns] = (word, n_words)
            for k, name in enumerate(names):
                self.index[(ns, name)] = 1 << (word * 64 + k)
            word += n_words
        self.n_words = word

    def bit(self, ns: str, name: str) -> int:
        b = self.index.get((ns, name))
        if b is None:
            raise KeyError(f"operand {ns}:{name} was not declared")
        return b

    def mask(self, ns: str, names) -> int:
        """Bits of the given names that some formula tests (others are irrelevant)."""
        idx = self.index
        out = 0
        for n in names:
            b = idx.get((ns, n))
            if b is not None:
                out |= b
        return out


@attrs.frozen
class Row:
    """One DRG formula of a formula list, in evaluation order."""

    list_mdc: int
    drg: int
    base_drg: int
    mdc: int
    surgical: str
    med_surg: MedSurg                                         # from ``surgical``
    reroute_mdc: int
    reports_mdc: bool                # a reroute to a list whose MDC the claim then reports (not 29)
    expression: str
    node: object = attrs.field(repr=False, eq=False)
    bits: int = attrs.field(repr=False, eq=False)             # feature bits the formula tests
    supp_index: int = attrs.field(repr=False, eq=False)       # index of its suppression set
    suppression: frozenset
    drg_severity: int
    reports_claim_severity: bool     # a real grouping: not DRG 998's formula (see codes)
    error: ReturnCode | None   # return code when this control row matches
    rank: int
    position: int              # place in its list's evaluation order (identifies the row)


@attrs.frozen
class Cluster:
    code: str                        # Z@nnnn pseudo-code
    pr_id: int
    choices: tuple[frozenset, ...]   # procedure ids per choice
    suppression_mdcs: frozenset


def _operands(nodes, hac_nodes=()) -> dict[str, list[str]]:
    """Every operand the DRG formulas test (``nodes``: parse trees or lists of atoms), per
    feature namespace, in first-seen order; and
    the claim-level atoms that HAC formulas test (so that a claim's feature mask holds every
    atom a HAC formula can read)."""
    out: dict[str, dict] = {ns: {} for ns in NAMESPACES}
    for node in hac_nodes:
        for a in fm.atoms(node):
            if a.kind == "ONLY":
                out["X"]["ONLY:" + a.name] = None
            elif a.kind == "SPECIAL":
                out["X"][a.name] = None
    for node in nodes:
        for a in (node if isinstance(node, list) else fm.atoms(node)):
            k, n = a.kind, a.name
            if k == "PDX":
                out["P"][n] = None
            elif k == "SDX":
                out["S"][n] = None
            elif k == "ANY":
                out["P"][n] = None
                out["S"][n] = None
            elif k == "ONLY":
                out["X"]["ONLY:" + n] = None
            elif k == "SPECIAL":
                out["X"][n] = None
            elif k == "PROC":
                out["R"][n] = None
    for n in ALWAYS_DECLARED:
        out["X"][n] = None
    out["S"][FALLTHROUGH] = None
    return {ns: list(d) for ns, d in out.items()}


class DxInfo:
    """What the tables say about one diagnosis code in one version (shared, immutable)."""

    __slots__ = ("id", "mdc", "severity", "attrs", "excl", "pbits", "sbits", "supbits", "hac_lists", "hac",
                 "gender", "sites", "newborn", "mccalive", "kind")

    def __init__(self, id, mdc, severity, attrs_, excl, derived, hac_lists, gender):
        self.id, self.mdc, self.severity, self.attrs, self.excl, self.gender = id, mdc, severity, attrs_, excl, gender
        # what follows from the attributes alone (Compiled.dx_derived): feature and
        # suppression-set bits, trauma sites (grouper.engine.atoms), normal newborn, MCC alive
        self.pbits, self.sbits, self.supbits, self.sites, self.newborn, self.mccalive = derived
        self.hac_lists = hac_lists            # (HAC number, SDX operand) of the HAC lists it is on
        self.hac = bool(hac_lists)
        # what preprocessing asks of all of a claim's secondary diagnoses at once (OR-ed)
        self.kind = (HAC_LISTED if hac_lists else 0) | (0 if self.newborn else NOT_NEWBORN) | (
            SEVERE if severity else 0)


# DxInfo.kind bits: on some HAC list, not a normal-newborn code, a CC or MCC in the table
HAC_LISTED, NOT_NEWBORN, SEVERE = 1, 2, 4


# PrInfo.flags bits: what preprocessing asks of all of a claim's procedures at once
CLUSTERED, IS_OR, COUNTED = 1, 2, 4


class PrInfo:
    """What the tables say about one procedure code in one version (shared, immutable)."""

    __slots__ = ("id", "attrs", "rbits", "is_or", "clustered", "tallies", "presences", "counted", "flags")

    def __init__(self, id, attrs_, rbits, is_or, clustered, tallies, presences):
        self.id, self.attrs, self.rbits, self.is_or, self.clustered = id, attrs_, rbits, is_or, clustered
        # what it adds to each procedure counter (grouper.engine.atoms.COUNTERS)
        self.tallies, self.presences = tallies, presences
        self.counted = any(tallies)
        self.flags = (CLUSTERED if clustered else 0) | (IS_OR if is_or else 0) | (COUNTED if self.counted else 0)


class Compiled:
    # The formula lists are parsed lazily, a list when first evaluated (one claim walks a
    # few of the 28): what every list needs up front -- the feature bits of every operand,
    # each list's bits and suppression sets -- comes from the formulas' operands, read
    # from their text without parsing it.
    def __init__(self, tables: TableSet, vt: VersionTables):
        self.tables = tables
        self.vt = vt
        self.version = vt.version
        operands = {mdc: [fm.text_atoms(r["expression"]) for r in rows] for mdc, rows in vt.formulas.items()}
        self.hac_nodes = {n: fm.parse(e) for n, e in vt.hac_formulas.items()}
        self.features = Features(_operands((ops for lists in operands.values() for ops in lists),
                                           self.hac_nodes.values()))
        self.supp_sets: list[frozenset] = [frozenset()]
        # the feature bit of the newborn fall-through operand (preprocessing sets it per claim)
        self.fallthrough_bit: int = self.features.index.get(("S", FALLTHROUGH), 0)
        bit = self.features.bit
        # per formula: (its atoms, feature bits it tests, index of its suppression set)
        self._plans: dict[int, list[tuple]] = {}
        # per formula list: (feature bits its formulas test, suppression-set indexes it uses)
        self.list_plan: dict[int, tuple[int, tuple[int, ...]]] = {}
        for mdc, rows in vt.formulas.items():
            plans = self._plans[mdc] = []
            all_bits = 0
            for r, ops in zip(rows, operands[mdc]):
                supp = frozenset(r["severity_suppression"])
                if supp not in self.supp_sets:
                    self.supp_sets.append(supp)
                b = fm.operand_bits(ops, bit)
                all_bits |= b
                plans.append((ops, b, self.supp_sets.index(supp)))
            self.list_plan[mdc] = (all_bits, tuple(sorted({p[2] for p in plans})))
        # per formula list: the bit mask of its suppression sets
        self.list_sets: dict[int, int] = {mdc: sum(1 << k for k in supp) for mdc, (_, supp) in self.list_plan.items()}
        self.lists: Mapping[int, tuple[Row, ...]] = _Lists(self._list_rows, vt.formulas)
        # secondary-dx attribute -> bit mask of the suppression sets naming it
        self.supp_attr_bits: dict[str, int] = {}
        for k, ss in enumerate(self.supp_sets):
            for a in ss:
                self.supp_attr_bits[a] = self.supp_attr_bits.get(a, 0) | (1 << k)
        self.memo: dict = {}
        self._atom_preds: dict = {}
        self._list_preds: dict = {}
        self._dx_cache: dict[tuple, frozenset] = {}
        self._pr_cache: dict[int, frozenset] = {}
        self._dx_info: dict[str, DxInfo | None] = {}
        self._pr_info: dict[str, PrInfo | None] = {}
        # by spelling as written: dx_read/pr_read are these dicts' item lookups (a hit costs
        # no Python call, so `map(cv.dx_read, codes)` runs at C speed)
        self._dx_read = _ReadCache(lambda code: self.dx_info(code.upper()))
        self._pr_read = _ReadCache(lambda code: self.pr_info(code.upper()))
        self.dx_read = self._dx_read.__getitem__
        self.pr_read = self._pr_read.__getitem__
        self._dx_bits: dict[frozenset, tuple] = {}
        self._dx_derived: dict[frozenset, tuple] = {}    # attributes -> DxInfo's facts that follow from them
        self._pr_bits: dict[frozenset, tuple] = {}

    def _list_rows(self, mdc: int) -> tuple[Row, ...]:
        """The formulas of list ``mdc`` in evaluation order, parsed."""
        return tuple(self._row(mdc, i, r, *plan)
                     for i, (r, plan) in enumerate(zip(self.vt.formulas[mdc], self._plans[mdc])))

    def _row(self, mdc: int, position: int, r: dict, ops: list, bits: int, supp_index: int) -> Row:
        error = None
        if r["drg"] == 0 and not r["reroute_mdc"]:
            for a in ops:
                if a.kind == "SPECIAL" and a.name in ERROR_ATOMS:
                    error = ERROR_ATOMS[a.name]
                    break
        return Row(list_mdc=mdc, drg=r["drg"], base_drg=r["base_drg"], mdc=r["mdc"],
                   surgical=r["surgical"], med_surg=med_surg(r["surgical"]), reroute_mdc=r["reroute_mdc"],
                   reports_mdc=r["reroute_mdc"] != UNRELATED_OR, expression=r["expression"],
                   node=fm.parse(r["expression"]), bits=bits, supp_index=supp_index,
                   suppression=self.supp_sets[supp_index], drg_severity=r["drg_severity"],
                   reports_claim_severity=r["drg_severity"] != UNGROUPED_DRG_SEVERITY,
                   error=error, rank=r["rank"], position=position)

    def list_predicates(self, lst: int) -> tuple:
        """``f(mask, level)`` of every formula of list ``lst``, in list order: compiled on first
        use, so that grouping one claim compiles only the lists it evaluates."""
        got = self._list_preds.get(lst)
        if got is None:
            bit = self.features.bit
            got = self._list_preds[lst] = tuple(fm.compile_mask_predicate(r.node, bit) for r in self.lists[lst])
        return got

    def atom_predicate(self, atom):
        """``f(mask, level)`` of one operand (cached)."""
        got = self._atom_preds.get(atom)
        if got is None:
            got = self._atom_preds[atom] = fm.compile_mask_predicate(atom, self.features.bit)
        return got

    def dx_info(self, code: str) -> DxInfo | None:
        """Table facts of a diagnosis code (upper case) in this version; None if invalid."""
        got = self._dx_info.get(code, self)
        if got is not self:
            return got
        i = self.tables.dx_id(code)
        vt = self.vt
        if i is None or vt.dx_mdc[i] < 0:
            info = None
        else:
            a = self.dx_attrs(i)
            derived = self._dx_derived.get(a)
            if derived is None:
                derived = self.dx_derived(a)
            info = DxInfo(i, int(vt.dx_mdc[i]), int(vt.dx_sev[i]), a, int(vt.dx_excl[i]), derived,
                          self.hac_lists(code), vt.gender_mdc.get(i))
        if len(self._dx_info) < _INFO_CACHE_LIMIT:
            self._dx_info[code] = info
        return info

    def dx_derived(self, a: frozenset) -> tuple:
        """What a diagnosis' attributes ``a`` alone decide (DxInfo's ``derived``), per attribute set."""
        derived = self._dx_derived.get(a)
        if derived is None:
            derived = self._dx_derived[a] = self.attr_bits(a) + (site_bits(a), NORMAL_NEWBORN in a, MCC_ALIVE in a)
        return derived

    # -- many codes at once -----------------------------------------------------------
    # A block of claims read a column at a time comes with each code's id in the code
    # universe (grouper.bulk.arrow).  Making the facts of its codes not yet looked up in one
    # loop, before its claims go through the stages one by one, costs a fraction of the
    # look-ups one at a time (no search of the code, no call per step) and fills the same
    # caches with the same facts: dx_read/pr_read then find them.
    def warm_dx(self, codes, ids) -> int:
        """Make the facts of diagnosis codes not yet read, all at once: ``codes`` spelled as
        written (repeats allowed), ``ids`` each one's id as spelled in the code universe (-1:
        in no version), as ``grouper.bulk.arrow.code_ids`` gives them; puts in the caches what
        :meth:`dx_read` would, code by code.  A spelling not in upper case is left to
        :meth:`dx_read` (its id is that of its upper-cased spelling).  Returns how many codes'
        facts were made."""
        todo = _unread(self._dx_read, self._dx_info, codes, ids)
        if not todo:
            return 0
        vt = self.vt
        mdc_of, sev_of, excl_of = vt.dx_mdc, vt.dx_sev, vt.dx_excl
        attr_of, hac_of, cat_of = vt.dx_attr, vt.dx_hac, vt.dx_dxcat
        sets, derived_of = self._dx_cache, self._dx_derived
        hac_codes, gender = vt.hac_codes, vt.gender_mdc
        infos = []
        for code, i in todo:
            if i < 0 or mdc_of[i] < 0:
                infos.append(None)
                continue
            key = (attr_of[i], hac_of[i], cat_of[i])
            a = sets.get(key)
            if a is None:
                a = self._dx_attr_set(key)
            derived = derived_of.get(a)
            if derived is None:
                derived = self.dx_derived(a)
            hi = hac_codes.get(code)
            infos.append(DxInfo(i, mdc_of[i], sev_of[i], a, excl_of[i], derived,
                                () if hi is None else self.hac_lists_of(hi), gender.get(i)))
        _fill(self._dx_read, self._dx_info, todo, infos)
        return len(todo)

    def warm_pr(self, codes, ids) -> int:
        """:meth:`warm_dx` of procedure codes (what :meth:`pr_read` would make of each)."""
        todo = _unread(self._pr_read, self._pr_info, codes, ids)
        if not todo:
            return 0
        attr_of = self.vt.pr_attr
        sets, bits_of, clusters_of = self._pr_cache, self._pr_bits, self.clusters_of
        infos = []
        for _, i in todo:
            p = -1 if i < 0 else attr_of[i]
            if p < 0:
                infos.append(None)
                continue
            a = sets.get(p)
            if a is None:
                a = self.pr_attrs(i)
            bits = bits_of.get(a)
            if bits is None:
                bits = self._pr_bits_of(a)
            infos.append(PrInfo(i, a, bits[0], bits[1], i in clusters_of, bits[2], bits[3]))
        _fill(self._pr_read, self._pr_info, todo, infos)
        return len(todo)

    def dx_valid(self, code: str) -> bool:
        """Whether a diagnosis code (upper case) is one of this version: ``dx_info(code) is not
        None``, without making the code's facts when they are not at hand (the admitting
        diagnosis: only its validity is reported)."""
        got = self._dx_info.get(code, self)
        if got is not self:
            return got is not None
        i = self.tables.dx_id(code)
        return i is not None and self.vt.dx_mdc[i] >= 0

    def attr_bits(self, a: frozenset) -> tuple[int, int, int]:
        """(P feature bits, S feature bits, suppression-set bits) of a diagnosis' attributes."""
        bits = self._dx_bits.get(a)
        if bits is None:                 # per attribute set: codes share them
            f = self.features
            sup = 0
            for name in a:
                sup |= self.supp_attr_bits.get(name, 0)
            bits = self._dx_bits[a] = (f.mask("P", a), f.mask("S", a), sup)
        return bits

    def pr_info(self, code: str) -> PrInfo | None:
        """Table facts of a procedure code (upper case) in this version; None if invalid."""
        got = self._pr_info.get(code, self)
        if got is not self:
            return got
        i = self.tables.pr_id(code)
        if i is None or self.vt.pr_attr[i] < 0:
            info = None
        else:
            a = self.pr_attrs(i)
            bits = self._pr_bits.get(a)
            if bits is None:                 # per attribute pattern: codes share them
                bits = self._pr_bits_of(a)
            info = PrInfo(i, a, bits[0], bits[1], i in self.clusters_of, bits[2], bits[3])
        if len(self._pr_info) < _INFO_CACHE_LIMIT:
            self._pr_info[code] = info
        return info

    def _pr_bits_of(self, a: frozenset) -> tuple:
        """(R feature bits, is an OR procedure, tallies, presences) of a procedure's attributes."""
        bits = self._pr_bits[a] = (self.features.mask("R", a), is_or_procedure(a)) + procedure_tallies(a)
        return bits

    # -- codes ----------------------------------------------------------------------
    def dx_attrs(self, i: int) -> frozenset:
        vt = self.vt
        key = (int(vt.dx_attr[i]), int(vt.dx_hac[i]), int(vt.dx_dxcat[i]))
        got = self._dx_cache.get(key)
        if got is None:
            got = self._dx_attr_set(key)
        return got

    def _dx_attr_set(self, key: tuple) -> frozenset:
        """The attributes of a diagnosis' (attribute, HAC, category) pattern numbers (cached)."""
        pat = self.tables.dx_patterns
        got = self._dx_cache[key] = frozenset(pat.get(key[0], ()) + pat.get(key[1], ()) + pat.get(key[2], ()))
        return got

    def pr_attrs(self, i: int) -> frozenset:
        p = int(self.vt.pr_attr[i])
        got = self._pr_cache.get(p)
        if got is None:
            got = self._pr_cache[p] = frozenset(self.tables.pr_patterns.get(p, ()))
        return got

    @cached_property
    def clusters(self) -> tuple[Cluster, ...]:
        vt = self.vt
        pr_code = self.tables.pr_code
        out = []
        for c in range(len(vt.cl_code)):
            ch = []
            for k in range(vt.cl_choice_off[c], vt.cl_choice_off[c + 1]):
                ch.append(frozenset(vt.ch_codes[vt.ch_code_off[k]:vt.ch_code_off[k + 1]].tolist()))
            out.append(Cluster(code=pr_code(int(vt.cl_code[c])), pr_id=int(vt.cl_code[c]), choices=tuple(ch),
                               suppression_mdcs=frozenset(vt.cl_supp[vt.cl_supp_off[c]:vt.cl_supp_off[c + 1]]
                                                          .tolist())))
        return tuple(out)

    @cached_property
    def clusters_of(self) -> dict[int, tuple[int, ...]]:
        """Procedure id -> indexes of the clusters it takes part in."""
        vt = self.vt
        return {int(code): tuple(vt.pcl_cluster[vt.pcl_off[k]:vt.pcl_off[k + 1]].tolist())
                for k, code in enumerate(vt.pcl_code)}

    @cached_property
    def hac_code_info(self) -> dict[str, tuple[tuple[str, ...], tuple[int, ...]]]:
        return {c: (tuple(o), tuple(n)) for c, (o, n) in self.vt.hac_codes.items()}

    @cached_property
    def hac_sdx_operands(self) -> dict[int, tuple[str, ...]]:
        """HAC number -> the secondary-diagnosis operands of its formula (``SDX:`` atoms:
        HAC04; hac06_sdx, hac06_show; hac11_sdx), the first one being its main operand."""
        out = {}
        for n, node in self.hac_nodes.items():
            ops = []
            for a in fm.atoms(node):
                if a.kind == "SDX" and a.name not in ops:
                    ops.append(a.name)
            out[n] = tuple(ops)
        return out

    @cached_property
    def hac_pdx_numbers(self) -> frozenset:
        """HAC numbers whose formula tests the principal diagnosis (``PDX:hac11_pdx``)."""
        return frozenset(n for n, node in self.hac_nodes.items() if any(a.kind == "PDX" for a in fm.atoms(node)))

    def hac_lists(self, code: str) -> tuple[tuple[int, str], ...]:
        """The HAC lists a diagnosis code (upper case) is on as a secondary diagnosis: (HAC
        number, SDX operand of its formula) for each of the code's HAC operands that the
        formula tests as a secondary diagnosis, by HAC number."""
        return self.hac_lists_of(self.vt.hac_codes.get(code))

    def hac_lists_of(self, hi) -> tuple[tuple[int, str], ...]:
        """:meth:`hac_lists` of a code's entry in the HAC code table (operands, HAC numbers)."""
        if hi is None:
            return ()
        operands = set(hi[0])
        ops = self.hac_sdx_operands
        return tuple((n, op) for n in sorted(set(hi[1])) for op in ops.get(n, ()) if op in operands)


# code look-ups are cached per spelling; beyond this many (a file of random strings), new
# spellings are looked up each time instead of filling memory
_INFO_CACHE_LIMIT = 500_000


def _unread(read: dict, infos: dict, codes, ids) -> list[tuple[str, int]]:
    """(spelling, id) of the distinct spellings of ``codes`` (ids parallel) that ``read`` (the
    cache by spelling) does not hold, written in upper case (the key of ``infos``, the cache by
    code), in first-seen order, as many as both caches have room for; a spelling whose facts
    ``infos`` holds (made for another spelling) is put in ``read`` here."""
    room_read, room_infos = _INFO_CACHE_LIMIT - len(read), _INFO_CACHE_LIMIT - len(infos)
    out: list = []
    hits = 0
    for code, i in dict(zip(codes, ids)).items():
        if code in read or type(code) is not str or code.upper() != code:
            continue
        if hits + len(out) >= room_read:
            break
        got = infos.get(code, infos)
        if got is not infos:
            read[code] = got
            hits += 1
        elif len(out) < room_infos:
            out.append((code, i))
        else:
            break
    return out


def _fill(read: dict, infos: dict, todo: list, made: list) -> None:
    """Put the facts ``made`` of the spellings of ``todo`` in both caches."""
    codes = [c for c, _ in todo]
    infos.update(zip(codes, made))
    read.update(zip(codes, made))


class _Lists(Mapping):
    """Formula list number -> its rows, built by ``build`` when first asked for (all keys
    known up front, so iterating and ``len`` work as on a dict)."""

    def __init__(self, build, keys):
        self._build = build
        self._keys = tuple(keys)
        self._known = frozenset(self._keys)
        self._built: dict = {}

    def __getitem__(self, mdc):
        got = self._built.get(mdc)
        if got is None:
            if mdc not in self._known:
                raise KeyError(mdc)
            got = self._built.setdefault(mdc, self._build(mdc))
        return got

    def __iter__(self):
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, mdc) -> bool:
        return mdc in self._known


class _ReadCache(dict):
    """code as written -> its DxInfo/PrInfo (None: not a code of the version), filled on
    first look-up by ``read``; at most _INFO_CACHE_LIMIT spellings are kept."""

    __slots__ = ("read",)

    def __init__(self, read):
        super().__init__()
        self.read = read

    def __missing__(self, code):
        got = self.read(code)
        if len(self) < _INFO_CACHE_LIMIT:
            self[code] = got
        return got


def compiled(tables: TableSet, version: int) -> Compiled:
    """The compiled tables of a version (built on first use, then cached on the table set)."""
    return tables.cached(("compiled", version), lambda: Compiled(tables, tables.version(version)))
