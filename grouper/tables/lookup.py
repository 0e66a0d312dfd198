"""Look up one code or one DRG in the compiled tables, for people and for reports."""
from __future__ import annotations

import math

import attrs

from .versions import fiscal_year as _fiscal_year

SEVERITY = ("NCC", "CC", "MCC")


def _tables(tables):
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


@attrs.frozen
class ProcedureInfo:
    code: str
    version: int
    valid: bool
    is_or: bool
    attributes: tuple[str, ...]
    clusters: tuple[str, ...]             # Z@ clusters the code takes part in


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
    ts = _tables(tables)
    vt = ts.version(version if version is not None or discharge_date is not None else max(ts.versions),
                    discharge_date)
    i = ts.dx_index.get(code)
    if i is None or vt.dx_mdc[i] < 0:
        return DiagnosisInfo(code, vt.version, False, None, None, None, (), (), (), None, ())
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
    ts = _tables(tables)
    vt = ts.version(version if version is not None or discharge_date is not None else max(ts.versions),
                    discharge_date)
    i = ts.pr_index.get(code)
    if i is None or vt.pr_attr[i] < 0:
        return ProcedureInfo(code, vt.version, False, False, (), ())
    attrs_ = ts.pr_patterns.get(int(vt.pr_attr[i]), ())
    clusters = ()
    hit = (vt.pcl_code == i).nonzero()[0]
    if len(hit):
        k = int(hit[0])
        ids = vt.pcl_cluster[vt.pcl_off[k]:vt.pcl_off[k + 1]]
        clusters = tuple(ts.pr_codes[int(vt.cl_code[c])] for c in ids)
    return ProcedureInfo(code, vt.version, True, "d468" in attrs_ or "d477" in attrs_, attrs_, clusters)


def _num(x) -> float | None:
    x = float(x)
    return None if math.isnan(x) else x


def drg(number: int, version=None, fy: int | None = None, discharge_date=None, *, tables=None) -> DrgInfo:
    """A DRG's title, family and Table 5 figures.  ``fy`` picks the weights' fiscal year
    (the latest version of that year supplies the title); or give a version/date."""
    ts = _tables(tables)
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
