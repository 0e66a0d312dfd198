"""The claim-level atoms of the formula language: what each one means, declared once.

A DRG formula tests diagnosis and procedure attributes (table data) and *claim-level
atoms*, which CMS's grouper computes from the claim as a whole (its ``MsdrgMaskBuilder``
and the special nodes of its formula language: ``SignificantTrauma``, ``OnlyIncidentNode``,
``MdcFallThruNode``, ``BilateralNode``, ``CountTwoNode`` ... ``CountFourNode``,
``CountFusionsNode``).  See ``docs/cms-rules.md`` ("Claim-level atoms").

Every rule here is written once and used by every path: the per-claim preprocessing
(:mod:`grouper.engine.preprocess`) calls these functions on one claim's values; the
vectorized core (:mod:`grouper.bulk.vector`) calls the same functions over each atom's
small domain (every discharge status, every principal-diagnosis class and sex, every
combination of trauma sites) and over per-procedure tallies, and looks the answers up per
claim; the affects-DRG marking (:mod:`grouper.engine.marking`) reads the counters'
declarations to know which procedures a true counter marks.  The functions that the
vectorized core applies to whole columns (:meth:`Counter.holds`, :func:`bit_count`) are
written with operators that mean the same on Python ints and numpy arrays.

Nothing here reads the tables: attribute names are CMS's data vocabulary, constant
across versions 40.0-43.1.
"""
from __future__ import annotations

from functools import cache

import attrs

from ..reading.values import SEX_FEMALE, SEX_MALE
from .codes import ReturnCode

# ---------------------------------------------------------------- attribute vocabulary

#: Procedure attributes of an OR (operating room) procedure.
OR_ATTRS = frozenset({"d468", "d477"})
#: Diagnosis attributes of significant trauma, one per body site (MULTST).
TRAUMA_SITES = ("sthead", "stchest", "stabdom", "stkidney", "sturin", "stpel", "stuplimb", "stlolimb")
#: Attribute of the "normal newborn" diagnoses (tested by ONLY:incident for DRG 795).
NORMAL_NEWBORN = "incident"
#: Secondary-diagnosis operand "falls through the normal-newborn logic" (see FALLTHROUGH_RULE).
FALLTHROUGH = "mdc15fallthrough"
#: Diagnosis attribute of a CC/MCC that does not count when the patient died.
MCC_ALIVE = "mccalive"
#: Procedure attributes of the joint replaced, per side (BILATERAL).
JOINTS = ("righthip", "lefthip", "rightknee", "leftknee", "rightankle", "leftankle")
#: Procedure attributes of a drug-eluting and of a bare-metal stent procedure.
DRUG_STENT, BARE_STENT = "NORdrugstent", "NORstent"

FALLTHROUGH_RULE = ("as a secondary-diagnosis operand, mdc15fallthrough is true when some valid secondary "
                    "diagnosis is not a normal-newborn code (CMS quirk, from the labelled claims)")

# ---------------------------------------------------------------- discharge status

DIED_STATUS = 20
AMA_STATUS = 7
TRANSFER_ACUTE = frozenset({2, 5, 66, 82, 85, 94})       # XFRNBA: transfer to acute care

ANYDX = "ANYDX"                  # always true: the claim has a principal diagnosis
ORPROC = "ORPROC"                # some procedure is an OR procedure (v40's formulas)


@cache
def status_atoms(status: int | None) -> frozenset[str]:
    """The atoms of a discharge status as read (None: missing or not a CMS status)."""
    out = set()
    if status is None:
        out.add("INVALID_DSTAT")
    out.add("DIED" if status == DIED_STATUS else "ALIVE")
    if status == AMA_STATUS:
        out.add("AMA")
    if status in TRANSFER_ACUTE:
        out.add("XFRNBA")
    return frozenset(out)


def is_or_procedure(attrs_: frozenset) -> bool:
    """Whether a procedure with these attributes makes ORPROC true."""
    return bool(attrs_ & OR_ATTRS)


# ---------------------------------------------------------------- principal diagnosis

NO_MDC = -1                      # the MDC of a principal diagnosis that is not a code of the version


@cache
def principal_atoms(mdc: int, gender: tuple[int, int] | None, sex: int) -> tuple[int, frozenset[str]]:
    """(MDC of the claim, atoms) from the principal diagnosis' table MDC (NO_MDC: not a code
    of the version), its sex-dependent MDCs (male, female) if any, and the sex as read."""
    if mdc == NO_MDC:
        return NO_MDC, frozenset({"INVALID_PDX"})
    out = set()
    pdx_mdc = mdc
    if gender is not None:
        # any sex but male reads the female MDC; an unknown sex is also INVALID_SEX, which
        # only pre-MDC DRGs and reroutes ranked before it escape (inferred,
        # docs/inferred-rules.md G1)
        pdx_mdc = gender[0] if sex == SEX_MALE else gender[1]
        if sex != SEX_MALE and sex != SEX_FEMALE:
            out.add("INVALID_SEX")
    if mdc == 0:
        out.add("PDX_ECODE")                 # a V/W/X/Y code: cannot be a principal diagnosis
    if pdx_mdc == 20:
        out.add("MDC_20_FALL_THRU")
    return pdx_mdc, frozenset(out)


# ---------------------------------------------------------------- all diagnoses

MULTIPLE_SITES = 2               # MULTST: significant trauma in this many body sites or more


def site_bits(attrs_: frozenset) -> int:
    """The trauma sites of a diagnosis' attributes, one bit per TRAUMA_SITES entry."""
    if attrs_.isdisjoint(TRAUMA_SITES):
        return 0
    return sum(1 << k for k, s in enumerate(TRAUMA_SITES) if s in attrs_)


@cache
def diagnosis_atoms(pdx_newborn: bool, all_sdx_newborn: bool, sites: int) -> frozenset[str]:
    """The atoms of the diagnoses taken together: ONLY:incident when the principal and every
    valid secondary diagnosis are normal-newborn codes, MULTST when the trauma sites of the
    principal and valid secondary diagnoses (``sites``, OR of :func:`site_bits`) are many."""
    out = set()
    if pdx_newborn and all_sdx_newborn:
        out.add("ONLY:" + NORMAL_NEWBORN)
    if bit_count(sites) >= MULTIPLE_SITES:
        out.add("MULTST")
    return frozenset(out)


def bit_count(x):
    """Number of bits set: of an int, or of each element of a uint8 numpy array."""
    if isinstance(x, int):
        return x.bit_count()
    if not hasattr(x, "shape") or x.shape == ():        # a numpy scalar
        return int(x).bit_count()
    return _popcount8()[x]


@cache
def _popcount8():
    import numpy as np  # only the vectorized path counts bits of arrays
    return np.array([bin(k).count("1") for k in range(256)], dtype=np.int8)


# ---------------------------------------------------------------- procedure counters


@attrs.frozen
class Counter:
    """A claim-level atom true when the claim's procedures reach a count.

    Each procedure adds its *tally*: the sum of the ``units`` of its attributes (only
    procedures with one of ``kinds``, when given, count); the atom is true when the
    claim's total reaches ``threshold`` and every attribute of ``each`` is on some counted
    procedure.  A ``distinct`` counter counts the distinct attributes over the claim
    instead of units (its tally is a bit per attribute).

    How a true atom marks procedures as affecting the DRG (:mod:`grouper.engine.marking`;
    rules read from the labelled claims, ``docs/inferred-rules.md`` A5-A10):

    * ``marks``: "counted" every procedure with one of ``kinds`` (or of ``units``);
      "prefix" the procedures in code order until the threshold is reached; "stents" that
      prefix plus every procedure of the stent kind the formula's stent operand matched
      (FOUR_STENTS); "principal_and_first" the principal procedure when it has a counted
      attribute, and the first other holder by code; "distinct" formed clusters first, then
      procedures in code order, each bringing an attribute not yet seen, until
      ``threshold`` distinct attributes are seen (BILATERAL: two joints);
    * ``adds_units``: the ``units`` attributes of the procedures in the code-order prefix
      join the formula list's procedure operands (stent and vessel counters);
    * ``fusion``: a spinal-fusion counter: once one is found true on the matched path,
      procedures tied for an operand are taken in code order; and a "counted" fusion
      counter found true in a formula that failed earlier in the list makes the matched
      formula's operand on one of its attributes mark every counted procedure."""

    atom: str
    units: dict = attrs.field(converter=lambda d: dict(d))
    threshold: int
    kinds: frozenset = frozenset()
    each: frozenset = frozenset()
    distinct: bool = False
    marks: str = "counted"
    adds_units: bool = False
    fusion: bool = False

    def tally(self, attrs_: frozenset) -> int:
        """What one procedure with these attributes adds."""
        if self.kinds and not attrs_ & self.kinds:
            return 0
        if self.distinct:
            return sum(1 << k for k, a in enumerate(self.units) if a in attrs_)
        return sum(u for a, u in self.units.items() if a in attrs_)

    def presence(self, attrs_: frozenset) -> int:
        """The ``each`` attributes a counted procedure with these attributes has (bits)."""
        if self.kinds and not attrs_ & self.kinds:
            return 0
        return sum(1 << k for k, a in enumerate(sorted(self.each)) if a in attrs_)

    def holds(self, total, present):
        """Whether the atom is true for a claim's total tally and OR of presences (ints, or
        numpy arrays: one element per claim)."""
        ok = (bit_count(total) if self.distinct else total) >= self.threshold
        if self.each:
            ok = ok & (present == (1 << len(self.each)) - 1)
        return ok

    @property
    def marked_attrs(self) -> frozenset:
        """The attributes of the procedures a true "counted" atom marks."""
        return self.kinds or frozenset(self.units)


def _units(prefix: str) -> dict:
    return {f"{prefix}{k}": k for k in (1, 2, 3, 4)}   # vessel1 .. vessel4 count 1 .. 4


VESSEL_UNITS, STENT_UNITS = _units("vessel"), _units("stent")

#: The procedure counters (docs/cms-rules.md; vessels, stents and joints confirmed with the
#: Java grouper, the fusion counters from the labelled claims).
COUNTERS = (
    Counter("FOUR_VESSELS", VESSEL_UNITS, 4, marks="prefix", adds_units=True),
    Counter("FOUR_STENTS", STENT_UNITS, 4, kinds=frozenset({DRUG_STENT, BARE_STENT}), marks="stents",
            adds_units=True),
    Counter("FOUR_DRUG_ELUTING_STENTS", STENT_UNITS, 4, kinds=frozenset({DRUG_STENT}), adds_units=True),
    Counter("FOUR_NON_DRUG_ELUTING_STENTS", STENT_UNITS, 4, kinds=frozenset({BARE_STENT}), adds_units=True),
    Counter("BILATERAL", dict.fromkeys(JOINTS, 1), 2, distinct=True, marks="distinct"),
    Counter("SINGLEFUSIONCTR", {"sglantfuse": 1, "sglpostfuse": 1}, 3,
            each=frozenset({"sglantfuse", "sglpostfuse"}), fusion=True),
    Counter("SGLANTCTR", {"sglantfuse": 1}, 2, marks="principal_and_first", fusion=True),
    Counter("SGLPOST1CTR", {"sglpostfuse1": 1}, 2, marks="principal_and_first", fusion=True),
    Counter("SGLANTSECTXCTR", {"sglantsectXfuse": 1}, 2, fusion=True),
    Counter("SGLPOSTFUSECTR", {"sglpostfuse": 1}, 2, fusion=True),
)
COUNTER = {c.atom: c for c in COUNTERS}
#: Atoms true when any of their parts is (MULTFUSE: several single-level fusions).
COMPOSITE = {"MULTFUSE": ("SGLANTCTR", "SGLPOST1CTR")}
COUNTER_ATOMS = frozenset(COUNTER) | frozenset(COMPOSITE)
#: Spinal-fusion counter atoms (composites of fusion counters included): see ``Counter.fusion``.
FUSION_ATOMS = frozenset(c.atom for c in COUNTERS if c.fusion) | frozenset(
    name for name, parts in COMPOSITE.items() if any(COUNTER[p].fusion for p in parts))

assert all(len(c.units) <= 8 for c in COUNTERS if c.distinct)     # bit_count of uint8


#: Every attribute some counter reads (a procedure without any counts for none).
COUNTED_ATTRS = frozenset().union(*(c.kinds | frozenset(c.units) | c.each for c in COUNTERS))
_NO_TALLIES = ((0,) * len(COUNTERS), (0,) * len(COUNTERS))


def procedure_tallies(attrs_: frozenset) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(tally, presence) of one procedure for every counter, in COUNTERS order."""
    if attrs_.isdisjoint(COUNTED_ATTRS):
        return _NO_TALLIES
    return tuple(c.tally(attrs_) for c in COUNTERS), tuple(c.presence(attrs_) for c in COUNTERS)


def claim_tallies(per_procedure) -> tuple[list[int], list[int]]:
    """A claim's totals (the sum of its procedures' tallies, their OR for a distinct counter)
    and the OR of their presences, per counter, from (tallies, presences) per procedure."""
    totals, presences = [0] * len(COUNTERS), [0] * len(COUNTERS)
    for tallies, pres in per_procedure:
        for k, c in enumerate(COUNTERS):
            if tallies[k]:
                totals[k] = totals[k] | tallies[k] if c.distinct else totals[k] + tallies[k]
            presences[k] |= pres[k]
    return totals, presences


def counter_atoms(totals, presences) -> set[str]:
    """The counter and composite atoms true for a claim's summed tallies and OR-ed presences
    (one entry per counter, in COUNTERS order)."""
    out = {c.atom for c, t, p in zip(COUNTERS, totals, presences) if c.holds(t, p)}
    out.update(name for name, parts in COMPOSITE.items() if any(p in out for p in parts))
    return out


# ---------------------------------------------------------------- the language

#: Every claim-level atom name the formula language knows (a bare name not listed here is a
#: procedure attribute).  ERRORDRG is never set (docs/cms-rules.md, "Formula lists").
SPECIAL_ATOMS = frozenset({
    ANYDX, "ERRORDRG", ORPROC, "MULTST", "MDC_20_FALL_THRU", "ALIVE", "DIED", "AMA", "XFRNBA",
    "INVALID_PDX", "INVALID_SEX", "INVALID_DSTAT", "PDX_ECODE",
}) | COUNTER_ATOMS

#: Atoms that turn a drg-0 control row into an error (DRG 999 with a return code).
ERROR_ATOMS = {
    "INVALID_PDX": ReturnCode.INVALID_PDX,
    "PDX_ECODE": ReturnCode.DX_CANNOT_BE_PDX,
    "INVALID_SEX": ReturnCode.INVALID_SEX,
    "INVALID_DSTAT": ReturnCode.INVALID_DISCHARGE_STATUS,
}

#: Atoms that every version's feature mask holds even when no formula of the version tests
#: them (the error atoms, and the discharge-status atoms that every claim sets).
ALWAYS_DECLARED = (ANYDX, "ALIVE", "DIED", "INVALID_DSTAT", "INVALID_PDX", "INVALID_SEX", "PDX_ECODE")
