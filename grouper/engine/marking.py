"""Marking (CMS ``logic/marking``: ``InitialDiagnosisMarking`` ... ``FinalSgFunctionMarking``):
which codes affected the DRG (CMS "affects DRG" flags).

The CMS grouper marks codes as a side effect of evaluating formulas: while the
formula that assigns the DRG (and every rerouting formula on the way) is
evaluated left to right with short-circuit ``&`` / ``|``, each operand that is
evaluated and true marks the code(s) that made it true.

Diagnoses are marked operand by operand.  Where several codes satisfy an
operand, the CLINICAL_SIGNIFICANCE tie-breaker picks one: secondary diagnoses
are ranked MCC first, then CC, then by code as written (a lower-case code after
every upper-case one).

Procedures (rules read from the labelled claims):

* Procedure operands are satisfied jointly (:func:`_cover`): the operands found
  true along the whole path (rerouting rows included) are covered greedily, each
  pick being the procedure that satisfies most of the still uncovered operands,
  ties broken by :func:`_tie_order` (an OR principal procedure first; from v41.0 a
  non-OR principal last, up to v40.1 the principal first in any case; then by code as
  written; plain code order once a spinal-fusion counter was found true).  So
  ``arterial & NORdrugstent`` marks one drug-eluting stent procedure, not the
  principal procedure plus a stent, and ``ORPROC`` then ``CC & d468`` marks a
  single d468 procedure.
* A formed cluster hides its components in its suppression MDCs — those of the
  formula list and that of the principal diagnosis (:func:`_shown`); a marked
  cluster marks its components choice by choice until every choice has one
  (:func:`_members`).
* True claim-level counters mark what they counted (:func:`_counter`, from the counters'
  declarations in :mod:`grouper.engine.atoms`: ``Counter.marks``, ``adds_units``,
  ``fusion``); the stent and vessel counters add their counted units to the list's
  operands (:func:`_cover_units`); a fusion counter found true in an earlier failed
  formula of the list makes the matched formula's operand on its attribute mark all it
  counted (:func:`_primed`).

The rules read from the labelled claims are listed, with the claims that decided them,
in ``docs/inferred-rules.md``.
* When HAC processing changes the DRG, the procedures of the met HAC criteria
  affect the final DRG (:func:`mark_final`).

A code's flag is INITIAL, FINAL, BOTH or NONE after marking the initial and the final DRG.
"""
from __future__ import annotations

import attrs

from . import formula as fm
from . import severity as sv
from .atoms import (
    ANYDX,
    COMPOSITE,
    COUNTER,
    COUNTER_ATOMS,
    COUNTERS,
    FALLTHROUGH,
    FUSION_ATOMS,
    MULTIPLE_SITES,
    NORMAL_NEWBORN,
    OR_ATTRS,
    ORPROC,
    TRAUMA_SITES,
    Counter,
)
from .codes import Affects, ReturnCode
from .grouping import MEMO_LIMIT, Assignment
from .preprocess import ClaimState


@attrs.define
class Marks:
    dx: set = attrs.Factory(set)        # dx positions (0 = PDX)
    pr: set = attrs.Factory(set)        # input procedure positions


# Newborn logic (CMS quirks, from the labelled claims).  NORMAL_NEWBORN is the attribute of
# "normal newborn" diagnoses (tested by ONLY:incident for DRG 795).  A secondary diagnosis
# is never marked through it; SDX:mdc15fallthrough ("falls through the normal-newborn
# logic") marks the first secondary diagnosis that is not a normal-newborn code, and so
# does v40's ANYDX (DRG 794) when the principal diagnosis is a normal-newborn code.



# From v41.0 a principal procedure that is not an OR procedure ranks after all the others
# in the tie order; up to v40.1 the principal procedure ranks first whatever its OR status
# (inferred, docs/inferred-rules.md A4).
FIRST_VERSION_NONOR_PRINCIPAL_LAST = 410


def _tie_order(state: ClaimState):
    """CLINICAL_SIGNIFICANCE order of procedures, as a sort key: the principal procedure
    first (from v41.0 only when it is an OR procedure, else last), the others by code as
    written; formed cluster pseudo-codes after the input procedures."""
    if state.cv.version >= FIRST_VERSION_NONOR_PRINCIPAL_LAST:
        def key(p):
            return (0 if p.position != 0 else -1 if "nonor" not in p.attrs else 1, p.position < 0, p.code)
    else:
        def key(p):
            return (p.position != 0, p.position < 0, p.code)
    return key


def _code_order(p):
    """Procedures by code as written, formed cluster pseudo-codes after the input procedures."""
    return (p.position < 0, p.code)


class _Walker:
    def __init__(self, state: ClaimState, cand, lst: int, level: int, suppression):
        self.state = state
        self.cand = cand
        self.lst = lst
        self.level = level
        self.supp = suppression
        self.dx: set = set()
        self.needs: list = []            # (list, operand attributes) of true procedure operands
        self.counters: list = []         # (list, counter name) of true counter operands
        self._sorted = None

    # tie-break order of secondary diagnoses: table severity MCC, CC, NCC, then by code as
    # written (a lower-case code sorts after every upper-case one; inferred, A3), as
    # (position, attributes)
    def sdx_sorted(self) -> list:
        if self._sorted is None:
            self._sorted = self.state.ranked_sdx()
        return self._sorted

    def eval(self, node) -> bool:
        if isinstance(node, fm.Atom):
            return self.atom(node)
        if isinstance(node, fm.Not):
            return not self.eval(node.child)
        if isinstance(node, fm.And):
            for c in node.children:
                if not self.eval(c):
                    return False
            return True
        for c in node.children:
            if self.eval(c):
                return True
        return False

    def atom(self, node: fm.Atom) -> bool:
        st = self.state
        if not fm.evaluate(node, st.P, st.S, st.R(self.lst), st.X, self.level):
            return False
        self.mark_atom(node)
        return True

    def mark_atom(self, node: fm.Atom) -> None:
        """Mark the code(s) that made a true operand true."""
        st = self.state
        k, n = node.kind, node.name
        if k == "PDX" or k == "ONLY":
            self.dx.add(0)
        elif k in ("SDX", "ANY"):
            if k == "ANY" and n in st.P:
                self.dx.add(0)
            elif n == NORMAL_NEWBORN:
                pass
            elif n == FALLTHROUGH and k == "SDX":
                self.mark_fallthrough()
            else:
                for position, attrs_ in self.sdx_sorted():
                    if n in attrs_:
                        self.dx.add(position)
                        break
        elif k == "SEV":
            want = sv.MCC if n == "MCC" else sv.CC
            for position, attrs_ in self.sdx_sorted():
                if self.cand[position - 1][0] == want and not (self.supp and attrs_ & self.supp):
                    self.dx.add(position)
                    break
        elif k == "PROC":
            self.needs.append((self.lst, frozenset((n,))))
        elif k == "SPECIAL":
            self.special(n)

    def mark_fallthrough(self) -> None:
        for position, attrs_ in self.sdx_sorted():
            if NORMAL_NEWBORN not in attrs_:
                self.dx.add(position)
                break

    def special(self, n: str) -> None:
        st = self.state
        if n == ANYDX:
            if NORMAL_NEWBORN in st.P:
                self.mark_fallthrough()
        elif n == "MULTST":
            # the PDX, then SDX in tie-break order, until two body sites are covered
            sites: set = set()
            for position, attrs_ in [(st.pdx.position, st.pdx.attrs)] + self.sdx_sorted():
                new = {s for s in TRAUMA_SITES if s in attrs_} - sites
                if new:
                    sites |= new
                    self.dx.add(position)
                    if len(sites) >= MULTIPLE_SITES:
                        break
        elif n == ORPROC:
            self.needs.append((self.lst, OR_ATTRS))
        elif n in COUNTER_ATOMS:
            self.counters.append((self.lst, n))


class _Tracer(_Walker):
    """Evaluates a formula as :class:`_Walker` does, recording the operands found true."""

    def __init__(self, state: ClaimState, lst: int, level: int):
        super().__init__(state, None, lst, level, frozenset())
        self.true: list = []

    def atom(self, node: fm.Atom) -> bool:
        st = self.state
        if fm.evaluate(node, st.P, st.S, st.R(self.lst), st.X, self.level):
            self.true.append(node)
            return True
        return False


def _true_operands(state: ClaimState, row, lst: int, level: int) -> tuple:
    """The operands of formula ``row`` found true, in evaluation order (left to right, with
    short-circuit), when list ``lst`` is evaluated at CC/MCC ``level``: what the walker marks
    codes for, each as its marking step (:func:`_step`).  Each operand's truth is decided by
    the feature bits the formula tests (the claim's mask for the list, as grouping reads it)
    and the level, so the answer is memoized per version on those: claims that look alike to
    the formula share it."""
    key = ("true operands", id(row), lst, level, state.mask(lst) & row.bits)
    memo = state.cv.memo
    got = memo.get(key)
    if got is None:
        t = _Tracer(state, lst, level)
        t.eval(row.node)
        got = tuple(map(_step, t.true))
        if len(memo) > MEMO_LIMIT:
            memo.clear()
        memo[key] = got
    return got


# How :func:`mark` marks for a true operand: the principal diagnosis; the first secondary
# diagnosis in tie-break order with an attribute; the first counting at a CC/MCC level and
# not suppressed by the formula; a procedure operand to cover; anything else as
# _Walker.mark_atom does (the same rules, spelled out for the common operands).
_PDX, _SDX, _SEV, _NEED, _OTHER = range(5)


def _step(node: fm.Atom) -> tuple:
    """(how, its argument, the operand) of a true operand (see _PDX ...)."""
    k, n = node.kind, node.name
    if k == "PDX" or k == "ONLY":
        return _PDX, None, node
    if k == "SDX" and n != NORMAL_NEWBORN and n != FALLTHROUGH:
        return _SDX, n, node
    if k == "SEV":
        return _SEV, sv.MCC if n == "MCC" else sv.CC, node
    if k == "PROC":
        return _NEED, frozenset((n,)), node
    return _OTHER, None, node


def _shown(state: ClaimState, p, lst: int) -> bool:
    """Whether a procedure can be marked for an operand of formula list ``lst``: a formed
    cluster hides its components in its suppression MDCs, both the list's and the
    principal diagnosis' MDC."""
    return lst not in p.suppressed_in and state.pdx_mdc not in p.suppressed_in


def _visible(state: ClaimState, lst: int):
    return [p for p in state.procs if _shown(state, p, lst)]


def _members(state: ClaimState, p) -> list:
    """Input procedures a marked procedure stands for: itself, or for a formed cluster its
    component codes on the claim (first occurrence), choice by choice in code order, until
    every choice has one: the last choice reached marks only its first code (inferred,
    docs/inferred-rules.md A6)."""
    if p.position >= 0:
        return [p]
    cv = state.cv
    by_code = cv.tables.cached(("clusters_by_code", cv.version), lambda: {c.code: c for c in cv.clusters})
    on_claim = sorted((q for q in state.procs if q.position >= 0), key=lambda q: q.code)
    choices = by_code[p.code].choices
    out, ids, done = [], set(), set()
    for choice in choices:
        for q in on_claim:
            if q.id in choice and q.id not in ids:
                out.append(q)
                ids.add(q.id)
                done |= {j for j, ch in enumerate(choices) if q.id in ch}
                if len(done) == len(choices):
                    return out
    return out


def _cover(state: ClaimState, needs: list, code_order: bool = False) -> list:
    """Procedures marked for the true procedure operands: repeatedly the procedure (in
    tie order, or plain code order) that satisfies most of the operands not yet satisfied."""
    out = []
    if not needs:                 # no procedure operand was true (most medical DRGs)
        return out
    left = list(dict.fromkeys(needs))
    order = _code_order if code_order else _tie_order(state)
    if len(left) == 1:            # one operand (most surgical DRGs): its first holder in that order
        lst, a = left[0]
        if state.clustered:
            holders = [p for p in state.procs if p.attrs & a and _shown(state, p, lst)]
        else:                     # no formed cluster: no procedure is hidden (_shown)
            holders = [p for p in state.procs if p.attrs & a]
        return [min(holders, key=order)] if len(holders) > 1 else holders     # min: the first of ties
    return _cover_greedy(state, sorted(state.procs, key=order), left)


def _cover_greedy(state: ClaimState, procs: list, left: list) -> list:
    """:func:`_cover` of the distinct operands ``left`` over ``procs`` in tie order."""
    out = []

    def hits(p, left):
        return [nd for nd in left if _shown(state, p, nd[0]) and p.attrs & nd[1]]

    while left:
        best = max(procs, key=lambda p: len(hits(p, left)))     # max keeps the first in tie order
        got = hits(best, left)
        if not got:
            break
        out.append(best)
        left = [nd for nd in left if nd not in got]
    return out


def _prefix(procs, counter: Counter) -> list:
    """Procedures in code order, each with its tally, until the counter's threshold is reached."""
    out, total = [], 0
    for p in sorted(procs, key=lambda p: p.code):
        u = counter.tally(p.attrs)
        if not u:
            continue
        if total >= counter.threshold:
            break
        out.append(p)
        total += u
    return out


def _distinct(procs, counter: Counter) -> list:
    """Formed clusters first, then procedures in code order, each that brings a counted
    attribute not yet seen, until the counter's threshold of distinct attributes is seen."""
    out, seen = [], set()
    for p in sorted(procs, key=lambda p: (p.position >= 0, p.code)):
        new = (p.attrs & counter.units.keys()) - seen
        if new:
            out.append(p)
            seen |= new
            if len(seen) >= counter.threshold:
                break
    return out


def _counter(state: ClaimState, lst: int, name: str, needs) -> tuple[list, set]:
    """(procedures marked, unit attributes) of a true counter operand, as its declaration
    (:class:`grouper.engine.atoms.Counter`) says: ``marks`` which procedures; with
    ``adds_units``, the ``units`` attributes of the procedures in the code-order prefix,
    which join the list's procedure operands (:func:`_cover_units`).  A composite
    (MULTFUSE) marks through its true parts."""
    if name in COMPOSITE:
        return [p for part in COMPOSITE[name] if part in state.X
                for p in _counter(state, lst, part, needs)[0]], set()
    counter = COUNTER[name]
    procs = _visible(state, lst)
    marks = counter.marks
    counted = _prefix(procs, counter) if counter.adds_units or marks in ("prefix", "stents") else []
    if marks == "counted":
        out = [p for p in procs if p.attrs & counter.marked_attrs]
    elif marks == "prefix":
        out = list(counted)
    elif marks == "stents":
        # the prefix, and every procedure of the stent kind the formula's stent operand matched
        kinds = {a for _, nd in needs for a in nd if a in counter.kinds}
        out = counted + [p for p in procs if p.attrs & kinds]
    elif marks == "principal_and_first":
        holders = [p for p in procs if p.position >= 0 and p.attrs & counter.marked_attrs]
        others = sorted((p for p in holders if p.position != 0), key=lambda p: p.code)
        out = [p for p in holders if p.position == 0] + others[:1]
    elif marks == "distinct":
        out = _distinct(procs, counter)
    else:
        raise ValueError(f"counter {name}: unknown marking {marks!r}")
    units = {a for p in counted for a in counter.units if a in p.attrs} if counter.adds_units else set()
    return out, units


def _cover_units(state: ClaimState, needs: list, unit_ops: list) -> list:
    """Procedures marked for the true procedure operands when stent or vessel counters add
    their unit attributes (``unit_ops``) to their list's single-attribute operands.  When
    one procedure holds all of them, the operands are covered as usual; when none does,
    CMS marks operand by operand, each its first holder in tie order (inferred from DRG
    246/248/321 claims, docs/inferred-rules.md A7)."""
    lists = {lst for lst, _ in unit_ops}
    joint = list(dict.fromkeys([nd for nd in needs if nd[0] in lists and len(nd[1]) == 1] + unit_ops))
    if any(all(_shown(state, p, lst) and p.attrs & a for lst, a in joint) for p in state.procs):
        return _cover(state, needs + unit_ops)
    out = []
    procs = sorted(state.procs, key=_tie_order(state))
    for lst, a in joint:
        for p in procs:
            if _shown(state, p, lst) and p.attrs & a:
                out.append(p)
                break
    return out + _cover(state, [nd for nd in needs if nd not in joint])


#: Counters that mark every procedure they count and can prime a later formula (see
#: :func:`_primed`): the "counted" fusion counters, with the attributes they count.
_PRIMING = {c.atom: c.marked_attrs for c in COUNTERS if c.fusion and c.marks == "counted"}


def _primed(state: ClaimState, cand, a: Assignment, removed: frozenset, needs: list) -> list:
    """(list, counter) of the "counted" fusion counters (SGLPOSTFUSECTR, SGLANTSECTXCTR,
    SINGLEFUSIONCTR) found true while evaluating a formula that failed before the matched
    one in the same list, when the matched path uses one of their counted attributes as an
    operand: that operand then marks every counted procedure (inferred from DRG 427 claims,
    docs/inferred-rules.md A9)."""
    true_counters = state.X & _PRIMING.keys()
    out = []
    summary = None
    for row, lst in a.path:
        used = {x for at, nd in needs if at == lst for x in nd}
        if not any(_PRIMING[n] & used for n in true_counters):
            continue
        for prev in state.cv.lists[lst]:
            if prev is row:
                break
            if prev.drg or prev.reroute_mdc or prev.error:
                summary = summary or sv.severity_summary(state, cand, removed)
                lvl = sv.level_for_set(summary[0], summary[1], prev.supp_index)
                w = _Walker(state, cand, lst, lvl, prev.suppression)
                w.eval(prev.node)
                out += [(at, n) for at, n in w.counters if n in _PRIMING and _PRIMING[n] & used]
    return out


def _mark_steps(state: ClaimState, cand, row, lst: int, level: int, steps, dx: set, needs: list,
                counters: list) -> None:
    """Mark for the true operands of formula ``row`` (``steps``, from :func:`_true_operands`)
    what :meth:`_Walker.mark_atom` marks for each: diagnosis positions into ``dx``, procedure
    operands and true counters appended to ``needs`` and ``counters``."""
    w = None
    for how, arg, node in steps:
        if how == _PDX:
            dx.add(0)
        elif how == _SDX:
            for position, attrs_ in state.ranked_sdx():
                if arg in attrs_:
                    dx.add(position)
                    break
        elif how == _SEV:
            # the first in tie-break order of the codes counting at this level and not
            # suppressed: all have that table severity, so the one first by code as written,
            # then input order (no ranking of every code)
            supp = row.suppression
            sdx, infos = state.read.sdx, state.sdx_info
            first = min(((sdx[k][0], k) for k, (sev, _) in enumerate(cand)
                         if sev == arg and not (supp and infos[k].attrs & supp)), default=None)
            if first is not None:
                dx.add(first[1] + 1)
        elif how == _NEED:
            needs.append((lst, arg))
        else:
            if w is None:                    # marking into the caller's set and lists
                w = _Walker(state, cand, lst, level, row.suppression)
                w.dx, w.needs, w.counters = dx, needs, counters
            w.mark_atom(node)


def mark(state: ClaimState, a: Assignment, cand, removed: frozenset) -> Marks:
    """Codes marked while evaluating the formulas that produced an assignment."""
    out = Marks()
    if a.return_code != ReturnCode.OK or a.row is None:
        return out
    dx = out.dx
    dx.add(0)
    needs, counters = [], []
    summary = None
    for row, lst in a.path:
        if row is a.row:
            lvl = a.level
        else:                                    # a rerouting row: the level its formula saw
            summary = summary or sv.severity_summary(state, cand, removed)
            lvl = sv.level_for_set(summary[0], summary[1], row.supp_index)
        _mark_steps(state, cand, row, lst, lvl, _true_operands(state, row, lst, lvl), dx, needs, counters)
    if not _PRIMING.keys().isdisjoint(state.X):
        counters += _primed(state, cand, a, removed, needs)
    picked, unit_ops = [], []
    for lst, name in counters:
        got, units = _counter(state, lst, name, needs)
        picked += got
        unit_ops += [(lst, frozenset((u,))) for u in sorted(units)]
    # once a spinal-fusion counter has been found true, tied procedures are taken in code
    # order: the principal procedure loses its precedence (inferred, docs/inferred-rules.md A10)
    code_order = any(name in FUSION_ATOMS for _, name in counters)
    picked += _cover_units(state, needs, unit_ops) if unit_ops else _cover(state, needs, code_order)
    for p in picked:
        out.pr |= {q.position for q in _members(state, p)}
    return out


def mark_final(state: ClaimState, initial: Assignment, final: Assignment, cand, removed: frozenset,
               hac_procedures) -> Marks:
    """Marks of the final DRG.  When HAC/POA processing changed the DRG, the secondary
    diagnoses it removed, and the procedures of the HAC criteria they met
    (``hac_procedures``: per input procedure, its HAC lists), are themselves marked as
    affecting the final DRG."""
    out = mark(state, final, cand, removed)
    if final.return_code == ReturnCode.OK and final.drg != initial.drg:
        out.dx |= removed
        out.pr |= {k for k, u in enumerate(hac_procedures) if u}
    return out


def flags(initial: Marks, final: Marks, n_dx: int, n_pr: int):
    """Per diagnosis position (0: PDX) and per input procedure: INITIAL, FINAL, BOTH or NONE."""
    if initial is final:
        return _same(n_dx, initial.dx), _same(n_pr, initial.pr)
    return _fill(n_dx, initial.dx, final.dx), _fill(n_pr, initial.pr, final.pr)


def _fill(n: int, a: set, b: set) -> list:
    out = [Affects.NONE] * n          # most codes are marked for neither DRG
    for i in a | b:
        if 0 <= i < n:
            out[i] = Affects.BOTH if i in a and i in b else Affects.INITIAL if i in a else Affects.FINAL
    return out


def _same(n: int, a: set) -> list:
    """The flags when both DRGs have the same marks: BOTH where marked."""
    out = [Affects.NONE] * n
    for i in a:
        if 0 <= i < n:
            out[i] = Affects.BOTH
    return out
