"""The per-claim Medicare Code Editor: one function per group of CMS edits, in CMS order.

    reading (grouper.reading: the claim without a grouper version, and its stay)
    -> validation (codes, admitting diagnosis, sex, discharge status, age)
    -> principal diagnosis -> admitting diagnosis -> secondary diagnoses -> procedures

:func:`edit` is the public entry point (re-exported as ``grouper.edit``).  Each code's edits are
listed in the order they are applied here, which is the order the CMS MCE lists them in.  The
batch path (:mod:`.batch`) applies the same rules to columns: the attribute bits (:func:`bits`),
the code orders (``PDX_ORDER`` ...) and the constants of :mod:`.rules` are shared.
"""
from __future__ import annotations

import attrs

from ..reading import ClaimError, ClaimWarning, Stay, read, read_stay
from ..reading.stage import ReadClaim
from ..tables import TableIntegrityError
from ..tables.mce import INVALID, MceTables, code_flags, default_mce_tables, mce_tables, releases_covering
from . import rules
from .catalog import INDEX, edit_type
from .result import CodeEdits, EditResult

E = INDEX                          # edit name -> index (bit) in CMS order
N_EDITS = len(INDEX)

(INVALID_CODE, SEX_CONFLICT, AGE_CONFLICT, QUESTIONABLE_ADMISSION, MANIFESTATION_AS_PDX, E_CODE_AS_PDX,
 UNACCEPTABLE_PDX, DUPLICATE_OF_PDX, REQUIRES_SDX, NON_COVERED, LIMITED_COVERAGE,
 QUESTIONABLE_OBSTETRIC_ADMISSION, INVALID_ADMIT_DX, INVALID_AGE, INVALID_SEX, INVALID_DISCHARGE_STATUS,
 WRONG_PROCEDURE_PERFORMED, INCONSISTENT_WITH_LENGTH_OF_STAY, UNSPECIFIED) = (
    E[n] for n in ("INVALID_CODE", "SEX_CONFLICT", "AGE_CONFLICT", "QUESTIONABLE_ADMISSION", "MANIFESTATION_AS_PDX",
                   "E_CODE_AS_PDX", "UNACCEPTABLE_PDX", "DUPLICATE_OF_PDX", "REQUIRES_SDX", "NON_COVERED",
                   "LIMITED_COVERAGE", "QUESTIONABLE_OBSTETRIC_ADMISSION", "INVALID_ADMIT_DX", "INVALID_AGE",
                   "INVALID_SEX", "INVALID_DISCHARGE_STATUS", "WRONG_PROCEDURE_PERFORMED",
                   "INCONSISTENT_WITH_LENGTH_OF_STAY", "UNSPECIFIED"))

NAMES = tuple(sorted(INDEX, key=INDEX.get))

# The edits each kind of code can raise, in the order they are applied (and listed).
PDX_ORDER = (INVALID_CODE, E_CODE_AS_PDX, MANIFESTATION_AS_PDX, UNACCEPTABLE_PDX, REQUIRES_SDX,
             QUESTIONABLE_ADMISSION, AGE_CONFLICT, SEX_CONFLICT, WRONG_PROCEDURE_PERFORMED, UNSPECIFIED)
ADMIT_ORDER = (INVALID_ADMIT_DX, AGE_CONFLICT, SEX_CONFLICT)
SDX_ORDER = (INVALID_CODE, DUPLICATE_OF_PDX, UNSPECIFIED, WRONG_PROCEDURE_PERFORMED, AGE_CONFLICT, SEX_CONFLICT)
PR_ORDER = (INVALID_CODE, SEX_CONFLICT, INCONSISTENT_WITH_LENGTH_OF_STAY, NON_COVERED, LIMITED_COVERAGE,
            QUESTIONABLE_OBSTETRIC_ADMISSION)


@attrs.frozen
class MceClaim:
    """A claim as the MCE reads it: the reading stage's claim and stay (date as ``yyyymmdd``,
    sex 0 unknown / 1 male / 2 female, codes as read; ``admit_dx`` None when not given or
    empty)."""

    date: int
    age: int
    sex: int
    status: int
    los: int
    pdx: str
    admit_dx: str | None
    sdx: tuple[str, ...]
    procedures: tuple[str, ...]
    id: object = None


def mce_claim(rc: ReadClaim, st: Stay, cid=None) -> MceClaim:
    """The MCE's view of a claim read by :func:`grouper.reading.read` and
    :func:`grouper.reading.read_stay`."""
    admit = rc.admit_dx
    return MceClaim(st.discharge_date, st.age, rc.sex, st.discharge_status, st.los, rc.pdx,
                    None if admit is None or admit == "" else admit, tuple(c for c, _ in rc.sdx), rc.procedures, cid)


def read_mce_claim(claim, los=None) -> MceClaim:
    """Read a claim (a :class:`grouper.Claim` or a mapping) for the MCE through the reading stage
    (no grouper version: the MCE goes by the discharge date), or raise ClaimError."""
    got = read(claim, None, resolve=False)
    raw, rc = got.raw, got.claim
    return mce_claim(rc, read_stay(raw, los), raw.get("id") if type(raw) is dict else getattr(raw, "id", None))


@attrs.frozen
class Bits:
    """The attribute bits of one release that the rules use (0 for an attribute the release
    does not have: its rule never fires)."""

    dx_male: int
    dx_female: int
    ecodepdx: int
    manifestation: int
    unacceptable: int
    reqsdx: int
    qadm: int
    unspecified: int
    wrngproc: int
    delout: int
    diabtypeI: int
    clintrial: int
    pr_male: int
    pr_female: int
    noncovered: int
    lcov: int
    ncov45: int
    kidneyxp: int
    ncov_age: int
    arth_a: int
    arth_b: int
    delivery: int
    los: int
    ncov_pairs: tuple[tuple[int, int], ...]   # (procedure bit, diagnosis bit) of NCOV_WITH_DX

    @classmethod
    def of(cls, t: MceTables) -> Bits:
        d, p = t.dx_bit, t.pr_bit
        return cls(d("male"), d("female"), d("ecodepdx"), d("manifestation"), d("unacceptable"), d("reqsdx"),
                   d("qadm"), d("unspecified"), d("wrngproc"), d("delout"), d("diabtypeI"), d("clintrial"),
                   p("male"), p("female"), p("noncovered"), p("lcov"), p("ncov45"), p("kidneyxp"),
                   p("ncov12agele60"), p("lcov_artheartxpa"), p("lcov_artheartxpb"), p("csect") | p("vagdel"),
                   p("los"), tuple((p(f), d(f)) for f in rules.NCOV_WITH_DX if p(f) and d(f)))


def bits(t: MceTables) -> Bits:
    """The attribute bits of a release, once per release; a release with an attribute the rules
    do not know is refused (its edits would silently be incomplete)."""
    return t.cached("rule_bits", lambda: _checked_bits(t))


def _checked_bits(t: MceTables) -> Bits:
    for names, known, what in ((t.dx_names, rules.DX_FLAGS, "diagnosis"), (t.pr_names, rules.PR_FLAGS, "procedure")):
        unknown = sorted(set(names) - set(known))
        if unknown:
            raise TableIntegrityError(f"{t.directory}: MCE release {t.name} has {what} attributes this grouper's "
                                      f"MCE rules do not know ({', '.join(unknown)}); a newer grouper is needed")
    return Bits.of(t)


def is_blank(code: str) -> bool:
    """A blank code (empty, or all zeros): no code at all for the MCE."""
    return not code.strip("0")


def sex_conflict_masks(b: Bits, sex: int, date: int) -> tuple[int, int]:
    """SEX_CONFLICT: the diagnosis and procedure attributes that conflict with the patient's sex
    (a male-only code unless male, a female-only code unless female; an unknown sex conflicts
    with both until SEX_UNKNOWN_ACCEPTED_FROM, with neither from then on)."""
    if sex == 1:
        return b.dx_female, b.pr_female
    if sex == 2:
        return b.dx_male, b.pr_male
    if date >= rules.SEX_UNKNOWN_ACCEPTED_FROM:
        return 0, 0
    return b.dx_male | b.dx_female, b.pr_male | b.pr_female


def list_flags(rows: dict, codes, d: int) -> tuple[list, list]:
    """The attribute masks of a list of secondary diagnoses or procedures on the discharge date
    (0 for an invalid or blank code) and each code's first edits (INVALID_CODE or none)."""
    flags, edits = [], []
    get = rows.get
    for code in codes:
        periods = get(code)                # inline look-up of a code written as in the tables
        if periods is None:
            f = code_flags(rows, code, d) if code.strip("0") else 0
        else:
            f = INVALID
            for start, end, g in periods:
                if start <= d <= end:
                    f = g
                    break
        if f == INVALID:
            flags.append(0)
            edits.append([INVALID_CODE])
        else:
            flags.append(f)
            edits.append([])
    return flags, edits


def validation_edits(t: MceTables, c: MceClaim, counts: list) -> tuple:
    """INVALID_CODE (each code not valid on the discharge date; a blank principal diagnosis;
    blank secondary diagnoses and procedures are no codes), INVALID_ADMIT_DX, INVALID_SEX
    (unknown sex until SEX_UNKNOWN_ACCEPTED_FROM), INVALID_DISCHARGE_STATUS (a status not valid
    on the date) and INVALID_AGE (outside AGE_MIN-AGE_MAX).  Counts the claim-level edits and
    returns the attribute masks of the codes (0 for an invalid or blank code) with each code's
    first edits."""
    d = c.date
    dx_rows, pr_rows = t.dx_rows, t.pr_rows
    pdx_f = INVALID if is_blank(c.pdx) else code_flags(dx_rows, c.pdx, d)
    pdx_e = []
    if pdx_f == INVALID:
        pdx_e.append(INVALID_CODE)
        pdx_f = 0
    admit_f, admit_e = 0, None
    if c.admit_dx is not None:
        admit_e = []
        if not is_blank(c.admit_dx):
            admit_f = code_flags(dx_rows, c.admit_dx, d)
            if admit_f == INVALID:
                admit_e.append(INVALID_ADMIT_DX)
                counts[INVALID_ADMIT_DX] += 1
                admit_f = 0
    sdx_f, sdx_e = list_flags(dx_rows, c.sdx, d)
    pr_f, pr_e = list_flags(pr_rows, c.procedures, d)
    if c.sex == 0 and d < rules.SEX_UNKNOWN_ACCEPTED_FROM:
        counts[INVALID_SEX] += 1
    if not t.status_valid(c.status, d):
        counts[INVALID_DISCHARGE_STATUS] += 1
    if not rules.AGE_MIN <= c.age <= rules.AGE_MAX:
        counts[INVALID_AGE] += 1
    return pdx_f, pdx_e, admit_f, admit_e, sdx_f, sdx_e, pr_f, pr_e


def pdx_edits(b: Bits, f: int, has_sdx: bool, age_mask: int, sex_mask: int, out: list) -> None:
    """Edits of the principal diagnosis, in CMS order: E_CODE_AS_PDX, MANIFESTATION_AS_PDX,
    UNACCEPTABLE_PDX (or REQUIRES_SDX for an unacceptable 'reqsdx' code on a claim without
    secondary diagnoses; with one it is accepted), QUESTIONABLE_ADMISSION, AGE_CONFLICT,
    SEX_CONFLICT, WRONG_PROCEDURE_PERFORMED, UNSPECIFIED."""
    if f & b.ecodepdx:
        out.append(E_CODE_AS_PDX)
    if f & b.manifestation:
        out.append(MANIFESTATION_AS_PDX)
    if f & b.unacceptable:
        if not f & b.reqsdx:
            out.append(UNACCEPTABLE_PDX)
        elif not has_sdx:
            out.append(REQUIRES_SDX)
    if f & b.qadm:
        out.append(QUESTIONABLE_ADMISSION)
    if f & age_mask:
        out.append(AGE_CONFLICT)
    if f & sex_mask:
        out.append(SEX_CONFLICT)
    if f & b.wrngproc:
        out.append(WRONG_PROCEDURE_PERFORMED)
    if f & b.unspecified:
        out.append(UNSPECIFIED)


def admit_dx_edits(f: int, age_mask: int, sex_mask: int, out: list) -> None:
    """Edits shown on the admitting diagnosis but not counted for the claim: AGE_CONFLICT,
    SEX_CONFLICT (its other attributes raise nothing)."""
    if f & age_mask:
        out.append(AGE_CONFLICT)
    if f & sex_mask:
        out.append(SEX_CONFLICT)


def sdx_edits(b: Bits, code: str, pdx: str, f: int, age_mask: int, sex_mask: int, out: list) -> None:
    """Edits of a secondary diagnosis, in CMS order: DUPLICATE_OF_PDX (the same text as the
    principal diagnosis, blank or invalid included), UNSPECIFIED, WRONG_PROCEDURE_PERFORMED,
    AGE_CONFLICT, SEX_CONFLICT."""
    if code == pdx:
        out.append(DUPLICATE_OF_PDX)
    if f & b.unspecified:
        out.append(UNSPECIFIED)
    if f & b.wrngproc:
        out.append(WRONG_PROCEDURE_PERFORMED)
    if f & age_mask:
        out.append(AGE_CONFLICT)
    if f & sex_mask:
        out.append(SEX_CONFLICT)


def procedure_context(b: Bits, pdx_f: int, sdx_f: list, pr_f: list) -> tuple:
    """What the procedure edits need to know about the whole claim: the attributes of all its
    diagnoses (principal and secondary; not the admitting one), of its secondary diagnoses, and
    of all its procedures."""
    any_dx = pdx_f
    any_sdx = 0
    for f in sdx_f:
        any_sdx |= f
    any_dx |= any_sdx
    any_pr = 0
    for f in pr_f:
        any_pr |= f
    return any_dx, any_sdx, any_pr


def procedure_edits(b: Bits, f: int, c: MceClaim, ctx: tuple, sex_mask: int, out: list) -> None:
    """Edits of a procedure, in CMS order:

    * SEX_CONFLICT;
    * INCONSISTENT_WITH_LENGTH_OF_STAY: a 'los' procedure on a stay shorter than MIN_LOS days;
    * NON_COVERED: 'noncovered' always; 'ncov45' (pancreas transplant) without a kidney
      transplant or a type I diabetes diagnosis; 'ncov6'/'ncov7'/'ncov_z302' with a diagnosis of
      the same attribute; 'ncov12agele60' at an age outside 0-NCOV_AGE_MAX; the artificial heart
      ('lcov_artheartxpa' and 'lcov_artheartxpb' both on the claim) without a clinical-trial
      diagnosis;
    * LIMITED_COVERAGE (only when not NON_COVERED): 'lcov'; the artificial heart with a
      clinical-trial diagnosis;
    * QUESTIONABLE_OBSTETRIC_ADMISSION: a delivery procedure ('csect'/'vagdel') without an
      outcome-of-delivery ('delout') secondary diagnosis."""
    any_dx, any_sdx, any_pr = ctx
    if f & sex_mask:
        out.append(SEX_CONFLICT)
    if f & b.los and c.los < rules.MIN_LOS:
        out.append(INCONSISTENT_WITH_LENGTH_OF_STAY)
    artificial_heart = f & (b.arth_a | b.arth_b) and any_pr & b.arth_a and any_pr & b.arth_b
    ncov = bool(f & b.noncovered)
    if not ncov and f & b.ncov45 and not any_pr & b.kidneyxp and not any_dx & b.diabtypeI:
        ncov = True
    if not ncov:
        for pbit, dbit in b.ncov_pairs:
            if f & pbit and any_dx & dbit:
                ncov = True
                break
    if not ncov and f & b.ncov_age and not 0 <= c.age <= rules.NCOV_AGE_MAX:
        ncov = True
    if not ncov and artificial_heart and not any_dx & b.clintrial:
        ncov = True
    if ncov:
        out.append(NON_COVERED)
    elif f & b.lcov or (artificial_heart and any_dx & b.clintrial):
        out.append(LIMITED_COVERAGE)
    if f & b.delivery and not any_sdx & b.delout:
        out.append(QUESTIONABLE_OBSTETRIC_ADMISSION)


def edit_claim(t: MceTables, c: MceClaim) -> EditResult:
    """The MCE on a claim already read (see :func:`read_mce_claim`)."""
    if c.date > t.termination_date:
        return EditResult("INVALID_DISCHARGE_DATE", _ZEROS, CodeEdits(c.pdx),
                          None if c.admit_dx is None else CodeEdits(c.admit_dx),
                          tuple(CodeEdits(x) for x in c.sdx), tuple(CodeEdits(x) for x in c.procedures),
                          release_label(t), c.id, (after_release_warning(t, c.date),))
    b = bits(t)
    counts = [0] * N_EDITS
    pdx_f, pdx_e, admit_f, admit_e, sdx_f, sdx_e, pr_f, pr_e = validation_edits(t, c, counts)
    age_mask = t.age_conflict_mask(c.age, c.date)
    dx_sex, pr_sex = sex_conflict_masks(b, c.sex, c.date)
    pdx_edits(b, pdx_f, bool(c.sdx), age_mask, dx_sex, pdx_e)
    if admit_e is not None:
        admit_dx_edits(admit_f, age_mask, dx_sex, admit_e)
    pdx = c.pdx
    for code, f, out in zip(c.sdx, sdx_f, sdx_e):
        if f or code == pdx:               # every secondary-diagnosis edit needs one or the other
            sdx_edits(b, code, pdx, f, age_mask, dx_sex, out)
    if c.procedures:
        ctx = procedure_context(b, pdx_f, sdx_f, pr_f)
        for f, out in zip(pr_f, pr_e):
            if f:                          # every procedure edit needs an attribute
                procedure_edits(b, f, c, ctx, pr_sex, out)
    for e in pdx_e:
        counts[e] += 1
    for lst in sdx_e:
        if lst:
            for e in lst:
                counts[e] += 1
    for lst in pr_e:
        if lst:
            for e in lst:
                counts[e] += 1
    mask = 0
    for e in _nonzero(counts):
        mask |= 1 << e
    return EditResult(
        edit_type(mask), tuple(counts), _code_edits(c.pdx, pdx_e),
        None if admit_e is None else _code_edits(c.admit_dx, admit_e),
        tuple(map(_code_edits, c.sdx, sdx_e)), tuple(map(_code_edits, c.procedures, pr_e)),
        release_label(t), c.id)


def release_label(t: MceTables) -> int | str:
    """What a result reports as ``version_used``: CMS's release number, else the release's name."""
    return t.release if t.release else t.name


def after_release_warning(t: MceTables, date: int) -> ClaimWarning:
    """DISCHARGE_AFTER_MCE_RELEASE: the claim is discharged after ``t`` ends; names the installed
    release that covers the date (``mce_release=``), if any."""
    key = ("after_release_warning", date)
    return t.cached(key, lambda: _after_release_warning(t, date))


def _after_release_warning(t: MceTables, date: int) -> ClaimWarning:
    day, end = iso(date), iso(t.termination_date)
    covering = [n for n in releases_covering(date) if n != t.name]
    msg = f"discharged {day}, after MCE release {t.name} ends ({end}): nothing is edited (INVALID_DISCHARGE_DATE)"
    if covering:
        msg += (f"; MCE release {covering[0]} covers {day}: edit with mce_release={covering[0]!r} "
                f"(command line: --mce-release {covering[0]})")
    else:
        msg += ("; no installed MCE release covers that date (build one with 'python -m grouper.tables build-mce "
                "SOURCE --out tables/mce/NAME', see docs/mce.md)")
    return ClaimWarning("DISCHARGE_AFTER_MCE_RELEASE", "discharge_date", day, msg)


def _nonzero(counts: list):
    return [i for i, n in enumerate(counts) if n] if any(counts) else ()


_NO_EDITS: dict = {}       # code -> CodeEdits(code, ()) (most codes have no edit)
_NAMED: dict = {}          # tuple of edit indices -> tuple of edit names


def _code_edits(code: str, edits: list) -> CodeEdits:
    if not edits:
        got = _NO_EDITS.get(code)
        if got is None:
            got = CodeEdits(code)
            if len(_NO_EDITS) < 200_000:
                _NO_EDITS[code] = got
        return got
    key = tuple(edits)
    names = _NAMED.get(key)
    if names is None:
        names = _NAMED[key] = tuple(NAMES[e] for e in key)
    return CodeEdits(code, names)


_ZEROS = (0,) * N_EDITS


def edit(claim, los=None, *, mce_release=None, tables: MceTables | str | None = None) -> EditResult:
    """Run CMS's Medicare Code Editor on one claim.

    ``claim`` is what :func:`grouper.group` takes (a :class:`grouper.Claim` or a mapping in the
    JSON-lines schema); ``los`` the length of stay in days (default: the claim's ``los``, or
    the days from its ``admission_date``).  The edits depend on the discharge date (the
    release's code tables in force on it), not on a grouper version.  ``mce_release`` selects
    an installed MCE release (default CMS's MCE 43.1; ``"fy2027"`` for discharges from
    2026-10-01, see ``docs/mce.md``); ``tables`` a compiled release folder or
    :class:`~grouper.tables.mce.MceTables`.  A claim without a discharge date, age, discharge
    status or length of stay raises :class:`grouper.ClaimError` naming the field."""
    t = release_tables(mce_release, tables)
    c = read_mce_claim(claim, los)
    if c.date < t.icd10_from:
        raise before_icd10(t, c.date)
    return edit_claim(t, c)


def before_icd10(t: MceTables, date: int) -> ClaimError:
    """DATE_BEFORE_ICD10: the MCE's tables are ICD-10; earlier discharges were coded in ICD-9."""
    return ClaimError("DATE_BEFORE_ICD10", "discharge_date", iso(date),
                      f"discharged {iso(date)}, before {iso(t.icd10_from)}: claims of that date are coded in "
                      f"ICD-9, which this MCE does not edit (its tables are ICD-10)")


def iso(d: int) -> str:
    s = str(d)
    return f"{s[:4]}-{s[4:6]}-{s[6:]}"


def release_tables(mce_release=None, tables: MceTables | str | None = None) -> MceTables:
    """The MCE release to edit with: ``tables`` (a release folder or MceTables), else the installed
    release named ``mce_release``, else the default release."""
    if tables is not None:
        if mce_release is not None:
            raise ValueError("give mce_release or tables, not both")
        return tables if isinstance(tables, MceTables) else mce_tables(directory=tables)
    return default_mce_tables() if mce_release is None else mce_tables(mce_release)
