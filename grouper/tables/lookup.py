"""Look up one code or one DRG in the compiled tables, for people and for reports."""
from __future__ import annotations

import math
import re

import attrs

from .versions import fiscal_year as _fiscal_year
from .versions import label

SEVERITY = ("NCC", "CC", "MCC")


def table_set(tables):
    if tables is None:
        from . import default
        return default()
    return tables


@attrs.frozen
class DiagnosisInfo:
    code: str
    version: int
    valid: bool
    mdc: int | None                       # MDC as principal diagnosis (0: cannot be PDX)
    mdc_by_sex: tuple[int, int] | None    # (male, female) for the sex-dependent codes
    severity: str | None                  # MCC / CC / NCC as a secondary diagnosis
    attributes: tuple[str, ...]           # DRG-logic lists (PDX:/SDX:/ANY: operands)
    hac_attributes: tuple[str, ...]
    dx_categories: tuple[str, ...]        # dxcMMnn lists
    cc_exclusion_list: int | None         # as PDX: the list of secondary dx that do not count as CC/MCC
    excludes_as_pdx: tuple[str, ...]      # ... and its codes
    did_you_mean: tuple[str, ...] = ()    # an invalid code: the valid spelling (I50.23 -> I5023)
    note: str | None = None               # why the code is invalid, in a sentence


@attrs.frozen
class ProcedureInfo:
    code: str
    version: int
    valid: bool
    is_or: bool
    attributes: tuple[str, ...]
    clusters: tuple[str, ...]             # Z@ clusters the code takes part in
    did_you_mean: tuple[str, ...] = ()
    note: str | None = None


@attrs.frozen
class DrgInfo:
    drg: int
    version: int
    fiscal_year: int
    title: str | None
    mdc: int | None
    base_drg: int | None
    surgical: str | None                  # SURGICAL / MEDICAL / NA
    weight: float | None
    gmlos: float | None
    amlos: float | None
    post_acute: bool | None               # post-acute-care transfer DRG (None: not in the source)
    special_pay: bool | None


def diagnosis(code: str, version=None, discharge_date=None, *, tables=None) -> DiagnosisInfo:
    ts = table_set(tables)
    vt = ts.version(version if version is not None or discharge_date is not None else max(ts.versions),
                    discharge_date)
    i = ts.dx_index.get(code)
    if i is None or vt.dx_mdc[i] < 0:
        mean, note = _suggest(ts, vt, "dx", code)
        return DiagnosisInfo(code, vt.version, False, None, None, None, (), (), (), None, (), mean, note)
    pat = ts.dx_patterns
    excl = int(vt.dx_excl[i])
    return DiagnosisInfo(
        code=code, version=vt.version, valid=True, mdc=int(vt.dx_mdc[i]),
        mdc_by_sex=vt.gender_mdc.get(i),
        severity=SEVERITY[int(vt.dx_sev[i])],
        attributes=pat.get(int(vt.dx_attr[i]), ()),
        hac_attributes=pat.get(int(vt.dx_hac[i]), ()),
        dx_categories=pat.get(int(vt.dx_dxcat[i]), ()),
        cc_exclusion_list=excl or None,
        excludes_as_pdx=tuple(ts.exclusion_list(excl)) if excl else (),
    )


def procedure(code: str, version=None, discharge_date=None, *, tables=None) -> ProcedureInfo:
    ts = table_set(tables)
    vt = ts.version(version if version is not None or discharge_date is not None else max(ts.versions),
                    discharge_date)
    i = ts.pr_index.get(code)
    if i is None or vt.pr_attr[i] < 0:
        mean, note = _suggest(ts, vt, "pr", code)
        return ProcedureInfo(code, vt.version, False, False, (), (), mean, note)
    attrs_ = ts.pr_patterns.get(int(vt.pr_attr[i]), ())
    clusters = ()
    hit = [k for k, c in enumerate(vt.pcl_code) if c == i]
    if hit:
        k = hit[0]
        ids = vt.pcl_cluster[vt.pcl_off[k]:vt.pcl_off[k + 1]]
        clusters = tuple(ts.pr_codes[int(vt.cl_code[c])] for c in ids)
    return ProcedureInfo(code, vt.version, True, "d468" in attrs_ or "d477" in attrs_, attrs_, clusters)


def _suggest(ts, vt, kind: str, code) -> tuple[tuple[str, ...], str]:
    """(valid spellings, a sentence) for a code that is not valid in ``vt``: the code without dots
    and blanks in upper case when that is valid, else the versions in which it is valid."""
    index = ts.dx_index if kind == "dx" else ts.pr_index
    valid = vt.dx_mdc if kind == "dx" else vt.pr_attr
    what = "ICD-10-CM" if kind == "dx" else "ICD-10-PCS"
    text = str(code)
    clean = re.sub(r"[\s.]", "", text).upper()
    i = index.get(clean)
    if clean != text and i is not None and valid[i] >= 0:
        if clean == text.upper():
            return (clean,), f"did you mean {clean}? (the CMS grouper upper-cases codes: it reads {text!r} as {clean})"
        return (clean,), (f"{text!r} is not a code as written (CMS reads codes without dots or blanks): did you "
                          f"mean {clean}?  (--normalize cleans codes this way)")
    others = ts.versions_with_code(kind, clean) if clean else ()
    if others:
        return (), (f"{clean} is not a valid {what} code in v{label(vt.version)}; it is in "
                    f"v{', v'.join(label(v) for v in others)}")
    return (), f"{text!r} is not an {what} code of any grouper version in the tables"


#: attribute names whose meaning the CMS tables' format documents (../shared/cms/README.md §4)
ATTRIBUTE_NAMES = (
    (r"d468", "extensive O.R. procedure"), (r"d477", "non-extensive O.R. procedure"),
    (r"nonor", "non-O.R. procedure"), (r"ornec", "O.R. procedure used only by the pre-MDC logic"),
    (r"d48[456]", "O.R. procedure of the multiple-significant-trauma logic (MDC 24)"),
    (r"dxc(\d\d)(\d\d)", "diagnosis category list {2} of MDC {1}"),
    (r"HAC(\d\d)", "hospital-acquired condition {1}"), (r"hac(\d\d)_(\w+)", "HAC {1} operand ({2})"),
    (r"stent(\d)", "counts as {1} coronary stent(s)"), (r"vessel(\d)", "counts as {1} treated vessel(s)"),
    (r"NOR\w*", "non-O.R. procedure that affects the DRG"),
    (r"(right|left)(hip|knee|ankle)", "laterality: {1} {2}"),
)


def describe_attribute(name: str, version: int, *, tables=None) -> str:
    """An attribute in words: what its name means (when the table format documents it) and the
    DRGs whose formulas test it, with their titles ("tested by DRGs 291-293: Heart Failure ...")."""
    ts = table_set(tables)
    vt = ts.version(version)
    parts = []
    for rx, text in ATTRIBUTE_NAMES:
        m = re.fullmatch(rx, name)
        if m:
            parts.append(text.format(None, *(g.lstrip("0") or "0" for g in m.groups())))
            break
    users = _attribute_users(ts, vt.version).get(name, ())
    if len(users) > 6:
        parts.append(f"tested by {len(users)} DRGs ({', '.join(map(str, users[:5]))}, ...)")
    elif users:
        titles = list(dict.fromkeys(_base_title(vt.drg_titles.get(d, "")) for d in users))
        parts.append(f"tested by {_span(users)}: {'; '.join(titles[:3])}" + ("; ..." if len(titles) > 3 else ""))
    elif not parts:
        parts.append(f"not tested by any DRG formula of v{label(vt.version)}")
    return ", ".join(parts)


def _attribute_users(ts, version: int) -> dict:
    def build():
        users: dict = {}
        for d, info in ts.version(version).drg_info.items():
            for tok in set(re.findall(r"[A-Za-z_][\w]*", info.get("expression") or "")):
                users.setdefault(tok, []).append(d)
        return {k: tuple(sorted(v)) for k, v in users.items()}
    return ts.cached(("attribute_users", version), build)


def _base_title(title: str) -> str:
    return re.split(r" with(out)? (MCC|CC)", title)[0]


def _span(drgs) -> str:
    drgs = sorted(drgs)
    if len(drgs) > 1 and drgs == list(range(drgs[0], drgs[-1] + 1)):
        return f"DRGs {drgs[0]}-{drgs[-1]}"
    return ("DRGs " if len(drgs) > 1 else "DRG ") + ", ".join(map(str, drgs))


def _num(x) -> float | None:
    x = float(x)
    return None if math.isnan(x) else x


def drg(number: int, version=None, fy: int | None = None, discharge_date=None, *, tables=None) -> DrgInfo:
    """A DRG's title, family and Table 5 figures.  ``fy`` picks the weights' fiscal year
    (the latest version of that year supplies the title); or give a version/date."""
    ts = table_set(tables)
    if version is None and discharge_date is None:
        if fy is None:
            fy = max(ts.fiscal_years) if ts.fiscal_years else _fiscal_year(max(ts.versions))
        in_fy = [v for v in ts.versions if _fiscal_year(v) == fy]
        version = max(in_fy) if in_fy else max(ts.versions)
    vt = ts.version(version, discharge_date)
    if fy is None:
        fy = vt.fiscal_year
    info = vt.drg_info.get(number)
    weight = gmlos = amlos = None
    pa = sp = None
    if fy in ts.fiscal_years:
        w = ts.weights(fy)
        if 0 < number < len(w.weight) and w.listed[number]:
            weight, gmlos, amlos = _num(w.weight[number]), _num(w.gmlos[number]), _num(w.amlos[number])
            pa = None if w.post_acute[number] < 0 else bool(w.post_acute[number])
            sp = None if w.special_pay[number] < 0 else bool(w.special_pay[number])
    return DrgInfo(
        drg=number, version=vt.version, fiscal_year=fy, title=vt.drg_titles.get(number),
        mdc=info["mdc"] if info else None, base_drg=info["base_drg"] if info else None,
        surgical=info["surgical"] if info else None,
        weight=weight, gmlos=gmlos, amlos=amlos, post_acute=pa, special_pay=sp)
