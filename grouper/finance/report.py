"""Self-contained HTML reports for an audit or an estimate batch.

One file, no server, no external resource: inline CSS; charts are PNG images embedded as
``data:`` URIs when matplotlib is installed (``pip install grouper[report]``), otherwise plain
HTML/CSS bars.  The same numbers are always in tables next to the charts.

    >>> from grouper.finance.report import render_audit_html
    >>> html = render_audit_html([], charts="html")
    >>> html.startswith("<!DOCTYPE html>")
    True

:func:`screenshot` renders a report to PNG with headless Chromium (used for
``docs/report-screenshot.png``).
"""
from __future__ import annotations

import base64
import html as _html
import io
import os
import shutil
import subprocess
import tempfile
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

CSS = """
*{box-sizing:border-box} body{font:14px/1.45 -apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1d2733;
margin:0;background:#f4f6f9} header{background:#16324f;color:#fff;padding:22px 36px}
header h1{margin:0 0 4px;font-size:24px} header p{margin:0;opacity:.85}
main{padding:18px 36px 40px;max-width:1400px} h2{font-size:18px;margin:28px 0 10px;color:#16324f}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin-top:6px} .card{background:#fff;border-radius:8px;padding:12px 16px;
min-width:170px;box-shadow:0 1px 3px rgba(0,0,0,.08)} .card .k{font-size:12px;color:#5b6878;text-transform:uppercase;
letter-spacing:.03em} .card .v{font-size:22px;font-weight:600;margin-top:2px} .neg{color:#b3261e} .pos{color:#1b7f3b}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:18px} .panel{background:#fff;border-radius:8px;padding:14px 16px;
box-shadow:0 1px 3px rgba(0,0,0,.08);overflow:auto}
.panel img{max-width:100%;height:auto;display:block;margin:0 auto 8px}
table{border-collapse:collapse;width:100%;font-size:13px} th,td{padding:5px 8px;border-bottom:1px solid #e3e7ec;
text-align:left;vertical-align:top} th{background:#eef2f6;font-weight:600} td.n,th.n{text-align:right;
font-variant-numeric:tabular-nums;white-space:nowrap} tr.diff td{background:#fffaf0}
.bar{background:#3d7bb6;height:12px;border-radius:2px} .bar.neg{background:#c0504d} .barcell{width:38%}
.card .d{font-size:11.5px;color:#5b6878;margin-top:4px;max-width:230px;line-height:1.35}
.muted{color:#6b7785;font-size:12px} footer{padding:0 36px 30px;color:#6b7785;font-size:12px;max-width:1400px}
code{font-size:12px;background:#eef2f6;padding:0 3px;border-radius:3px}
"""


def has_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _e(x) -> str:
    return _html.escape("" if x is None else str(x))


def _money(x, signed=False) -> str:
    if x is None:
        return "–"
    x = Decimal(x)
    s = f"{abs(x):,.2f}"
    if x < 0:
        return f"−${s}"
    return f"+${s}" if signed and x > 0 else f"${s}"


def _num(x, places=4, signed=False) -> str:
    if x is None:
        return "–"
    x = Decimal(x)
    s = f"{abs(x):,.{places}f}"
    if x < 0:
        return "−" + s
    return ("+" + s) if signed and x > 0 else s


def _sum_known(values):
    """The sum of the known values; None when none is known (shown as a dash, not as $0.00)."""
    known = [v for v in values if v is not None]
    return sum(known, Decimal(0)) if known else None


def _cls(x) -> str:
    if x is None:
        return ""
    return "neg" if Decimal(x) < 0 else ("pos" if Decimal(x) > 0 else "")


# ------------------------------------------------------------------ charts


def _png(fig) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _barh_png(labels, values, title, xlabel, money=False) -> str:
    from matplotlib.figure import Figure
    n = max(len(labels), 1)
    fig = Figure(figsize=(6.4, 0.42 * n + 1.2))
    ax = fig.add_subplot(111)
    ys = list(range(len(labels)))[::-1]
    vals = [float(v) for v in values]
    colors = ["#c0504d" if v < 0 else "#3d7bb6" for v in vals]
    ax.barh(ys, vals, color=colors, height=0.65)
    ax.set_yticks(ys)
    ax.set_yticklabels(labels, fontsize=9)
    ax.set_title(title, fontsize=11, loc="left")
    ax.set_xlabel(xlabel, fontsize=9)
    ax.tick_params(axis="x", labelsize=8)
    ax.axvline(0, color="#555", linewidth=0.8)
    if money:
        from matplotlib.ticker import FuncFormatter
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{'-' if x < 0 else ''}${abs(x):,.0f}"))
    span = max((abs(v) for v in vals), default=1) or 1
    for y, v in zip(ys, vals):
        text = (f"{'-' if v < 0 else ''}${abs(v):,.0f}" if money else f"{v:,.0f}")
        ax.text(v + (span * 0.01 if v >= 0 else -span * 0.01), y, text, va="center",
                ha="left" if v >= 0 else "right", fontsize=8)
    lo = min(0.0, min(vals, default=0.0))
    hi = max(0.0, max(vals, default=0.0))
    pad = span * 0.28
    ax.set_xlim(lo - (pad if lo < 0 else 0), hi + (pad if hi > 0 else span * 0.05))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return _png(fig)


def _html_bars(labels, values, money=False) -> str:
    span = max((abs(float(v)) for v in values), default=1) or 1
    rows = []
    for lab, v in zip(labels, values):
        w = abs(float(v)) / span * 100
        txt = _money(v, signed=True) if money else _e(v)
        rows.append(f'<tr><td>{_e(lab)}</td><td class="barcell"><div class="bar{" neg" if float(v) < 0 else ""}" '
                    f'style="width:{w:.1f}%"></div></td><td class="n">{txt}</td></tr>')
    return "<table>" + "".join(rows) + "</table>"


def _chart(labels, values, title, xlabel, charts, money=False) -> str:
    if not labels:
        return '<p class="muted">nothing to chart</p>'
    if charts == "matplotlib":
        png = _barh_png(labels, values, title, xlabel, money)
        return f'<img alt="{_e(title)}" src="data:image/png;base64,{png}">'
    return f'<p class="muted">{_e(title)}</p>' + _html_bars(labels, values, money)


def _charts_mode(charts: str) -> str:
    if charts == "auto":
        return "matplotlib" if has_matplotlib() else "html"
    if charts == "matplotlib" and not has_matplotlib():
        raise RuntimeError("charts='matplotlib' needs matplotlib: pip install 'grouper[report]'")
    if charts not in ("matplotlib", "html"):
        raise ValueError(f"charts must be auto, matplotlib or html, got {charts!r}")
    return charts


def _page(title: str, subtitle: str, body: str, footer: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{_e(title)}</title><style>{CSS}</style></head>'
            f'<body><header><h1>{_e(title)}</h1><p>{subtitle}</p></header><main>{body}</main>'
            f'<footer>{footer}</footer></body></html>\n')


def _cards(items) -> str:
    """Cards of (title, value, css class[, one line saying what the figure is])."""
    out = []
    for k, v, cls, *line in items:
        d = f'<div class="d">{_e(line[0])}</div>' if line and line[0] else ""
        out.append(f'<div class="card"><div class="k">{_e(k)}</div><div class="v {cls}">{v}</div>{d}</div>')
    return '<section class="cards">' + "".join(out) + "</section>"


def _n(x) -> str:
    """A count with thousands separators."""
    return f"{x:,}"


def percent(part: int, whole: int) -> str:
    """part / whole as a whole percentage, rounded half up (23 / 40 = 57.5 % -> '58%')."""
    if not whole:
        return "–"
    from decimal import ROUND_HALF_UP
    return f"{(Decimal(part) * 100 / Decimal(whole)).quantize(Decimal(1), ROUND_HALF_UP)}%"


def mdc_key(drg, mdc) -> str:
    """The MDC bucket of a claim: DRG 999 (MDC 0 in CMS's output) is its own 'ungroupable' bucket."""
    return "ungroupable" if drg == 999 else str(mdc)


def mdc_table(items, *, money=None) -> tuple[list, list]:
    """(labels, rows) of the MDC distribution; items are (drg, mdc, mdc title, payment or None).
    The same function counts the audit's and the estimate's claims, so both reports agree."""
    count: Counter = Counter()
    titles: dict = {}
    pay: dict = defaultdict(lambda: Decimal(0))
    for drg, mdc, title, amount in items:
        k = mdc_key(drg, mdc)
        count[k] += 1
        titles.setdefault(k, "Ungroupable (DRG 999)" if k == "ungroupable" else (title or f"MDC {mdc}"))
        if amount is not None:
            pay[k] += amount
    order = sorted(count.items(), key=lambda kv: (-kv[1], int(kv[0]) if kv[0].isdigit() else 99))
    rows = []
    for m, n in order:
        row = [m if m.isdigit() else "–", _e(titles[m]), _n(n)]
        if money:
            row.append(_money(pay[m]) if m in pay else "–")
        rows.append(row)
    labels = [(f"MDC {m}" if m.isdigit() else m, n) for m, n in order]
    return labels, rows


def _table(headers, rows, numeric=(), row_classes=None) -> str:
    th = "".join(f'<th class="n">{_e(h)}</th>' if i in numeric else f"<th>{_e(h)}</th>"
                 for i, h in enumerate(headers))
    body = []
    for k, r in enumerate(rows):
        cls = f' class="{row_classes[k]}"' if row_classes and row_classes[k] else ""
        tds = "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r))
        body.append(f"<tr{cls}>{tds}</tr>")
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _hospital_line(hospital) -> str:
    if hospital is None:
        return "no hospital given: weights only, no payment estimates"
    name = hospital.name or "hospital"
    status = ("quality data" if hospital.quality_data else "no quality data") + ", " + (
        "EHR user" if hospital.ehr_user else "not an EHR user")
    return (f"{_e(name)}: wage index {hospital.wage_index}, GAF {hospital.gaf_used}, {status}"
            + (", Puerto Rico" if hospital.puerto_rico else ""))


FOOTER = ("Generated by <code>grouper</code>. DRGs are re-grouped with the MS-DRG version in force at each discharge "
          "date. Payment estimates follow docs/payment.md: operating and capital IPPS payment with the "
          "hospital's IME/DSH factors, transfer per diem and cost outlier, rounded as the CMS Pricer rounds. "
          "<b>Not included</b>: new-technology add-ons (NTAP), readmissions reduction (HRRP), value-based "
          "purchasing (VBP), HAC reduction program, low-volume add-on, hospital-specific rates (SCH/MDH), "
          "sequestration, deductible and coinsurance, capital hold-harmless and pass-through amounts: "
          "a remittance can differ from the estimate by these.")


# ------------------------------------------------------------------ audit


def render_audit_html(rows, *, hospital=None, title="DRG audit report", charts="auto", top=12, notes=()) -> str:
    """The HTML report of a batch of :class:`grouper.finance.audit.AuditRow` (a string, self-contained)."""
    from .audit import DATA_ERROR_KINDS, KIND_LABELS
    mode = _charts_mode(charts)
    rows = list(rows)
    ok = [r for r in rows if r.error is None]
    errors = [r for r in rows if r.error is not None]
    diffs = [r for r in ok if not r.match]
    data = [r for r in diffs if r.reason_kind in DATA_ERROR_KINDS]
    coding = [r for r in diffs if r.reason_kind not in DATA_ERROR_KINDS]
    priced = [r for r in ok if r.billed_payment is not None and r.regrouped_payment is not None
              and r.reason_kind not in DATA_ERROR_KINDS]
    billed_total = sum((r.billed_payment for r in priced), Decimal(0))
    regrouped_total = sum((r.regrouped_payment for r in priced), Decimal(0))
    over = [r for r in coding if r.payment_difference is not None and r.payment_difference < 0]
    under = [r for r in coding if r.payment_difference is not None and r.payment_difference > 0]
    over_total = sum((r.payment_difference for r in over), Decimal(0))
    under_total = sum((r.payment_difference for r in under), Decimal(0))
    dw = sum((r.weight_difference for r in coding if r.weight_difference is not None), Decimal(0))
    paid = [r for r in ok if r.paid_amount is not None and r.regrouped_payment is not None]
    versions = sorted({r.version for r in ok if r.version})
    vtext = (f"grouper v{versions[0] // 10}.{versions[0] % 10}–v{versions[-1] // 10}.{versions[-1] % 10}"
             if versions else "no claim grouped")
    subtitle = f"{_n(len(rows))} claims · {vtext} · {_hospital_line(hospital)}"

    cards = [("Claims audited", _n(len(ok)), "", "re-grouped with the MS-DRG version in force at discharge"),
             ("DRG differences", f"{_n(len(diffs))} ({percent(len(diffs), len(ok))})", "",
              f"{_n(len(coding))} coding differences, {_n(len(data))} data errors"),
             ("Data errors", _n(len(data)), "neg" if data else "",
              "ungroupable because a value is invalid (code, sex, discharge status): fix the data and re-bill; "
              "not counted as money at stake"),
             ("Not auditable", _n(len(errors)), "neg" if errors else "", "rows that could not be read or grouped"),
             ("Weight change (coding)", _num(dw, signed=True), _cls(dw),
              "sum of regrouped − billed relative weights over the coding differences")]
    if hospital is not None:
        cards += [("Estimated, as billed", _money(billed_total), "",
                   f"IPPS estimate of the billed DRGs ({_n(len(priced))} priced claims, data errors apart)"),
                  ("Estimated, regrouped", _money(regrouped_total), "", "the same claims at the regrouped DRGs"),
                  ("Billed above regrouped", _money(over_total, signed=True), _cls(over_total),
                   f"{_n(len(over))} claims whose billed DRG pays more than the regrouped one: "
                   f"possible overpayment to refund"),
                  ("Billed below regrouped", _money(under_total, signed=True), _cls(under_total),
                   f"{_n(len(under))} claims whose regrouped DRG pays more: possible underpayment to recover")]
        if paid:
            pd = sum((r.paid_difference for r in paid), Decimal(0))
            cards.append((f"Regrouped vs paid ({_n(len(paid))} claims)", _money(pd, signed=True), _cls(pd),
                          "regrouped estimate − amount paid; the estimate leaves out the items in the footer"))
    body = [_cards(cards)]
    for n in notes:
        body.append(f'<p class="muted"><b>Note:</b> {_e(n)}</p>')

    # top DRG changes (coding differences)
    groups = defaultdict(list)
    for r in coding:
        groups[(r.billed_drg, r.regrouped_drg)].append(r)

    def impact(rs):
        vals = [r.payment_difference for r in rs if r.payment_difference is not None]
        return sum(vals, Decimal(0)) if vals else None

    changes = sorted(groups.items(), key=lambda kv: (-(abs(impact(kv[1])) if impact(kv[1]) is not None else
                                                       abs(sum((r.weight_difference or 0) for r in kv[1]))),
                                                     kv[0]))
    top_changes = changes[:top]
    use_money = hospital is not None
    labels = [f"{b} → {g}" for (b, g), _ in top_changes]
    values = [(impact(rs) or Decimal(0)) if use_money else sum((r.weight_difference or 0) for r in rs)
              for _, rs in top_changes]
    chart = _chart(labels, values, "Top DRG changes by money impact" if use_money else
                   "Top DRG changes by weight change", "estimated payment difference ($)" if use_money
                   else "relative weight difference", mode, money=use_money)
    trows = []
    for (b, g), rs in top_changes:
        kinds = Counter(r.reason_kind for r in rs)
        why = rs[0].reason if len(rs) == 1 else "; ".join(
            f"{KIND_LABELS.get(k, k)} ({_n(n)} claim{'s' if n > 1 else ''})" for k, n in kinds.most_common())
        trows.append([f"{b} → {g}", _e(rs[0].regrouped_title), _n(len(rs)),
                      _num(sum((r.weight_difference or 0) for r in rs), signed=True),
                      f'<span class="{_cls(impact(rs))}">{_money(impact(rs), signed=True)}</span>', _e(why)])
    body.append('<h2>Top DRG changes (coding differences)</h2><div class="grid"><div class="panel">' + chart
                + '</div><div class="panel">'
                + _table(["billed → regrouped", "regrouped DRG", "claims", "Δ weight", "Δ payment", "reason"],
                         trows, numeric=(2, 3, 4)) + "</div></div>")

    # distributions
    drg_count = Counter(r.regrouped_drg for r in ok)
    titles = {r.regrouped_drg: r.regrouped_title for r in ok}
    top_drgs = sorted(drg_count.items(), key=lambda kv: (-kv[1], kv[0]))[:15]
    mdc_labels, mdc_rows = mdc_table((r.regrouped_drg, r.regrouped_mdc, r.regrouped_mdc_title, None) for r in ok)
    c1 = _chart([f"DRG {d}" for d, _ in top_drgs], [n for _, n in top_drgs], "Regrouped DRGs (claims)",
                "claims", mode)
    c2 = _chart([lab for lab, _ in mdc_labels], [n for _, n in mdc_labels], "MDCs (claims)", "claims", mode)
    t1 = _table(["DRG", "title", "claims"], [[str(d), _e(titles.get(d)), _n(n)] for d, n in top_drgs], numeric=(2,))
    t2 = _table(["MDC", "title", "claims"], mdc_rows, numeric=(2,))
    body.append('<h2>Distribution of DRGs and MDCs (regrouped)</h2><div class="grid">'
                f'<div class="panel">{c1}{t1}</div><div class="panel">{c2}{t2}</div></div>')

    # reasons
    kinds = Counter(r.reason_kind for r in coding)
    body.append("<h2>Why the DRGs differ</h2><div class=\"panel\">" + _table(
        ["reason", "claims", "Δ payment", "example"],
        [[_e(KIND_LABELS.get(k, k)), _n(n),
          _money(_sum_known(r.payment_difference for r in coding if r.reason_kind == k), signed=True),
          _e(next(r.reason for r in coding if r.reason_kind == k))]
         for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))], numeric=(1, 2)) + "</div>")

    # per-claim
    def claim_rows(rs):
        out = []
        for r in sorted(rs, key=lambda r: (-(abs(r.payment_difference) if r.payment_difference is not None else 0),
                                           str(r.id))):
            out.append([_e(r.id), _e(r.discharge_date), _e(r.version_label), str(r.billed_drg), str(r.regrouped_drg),
                        _num(r.weight_difference, signed=True),
                        f'<span class="{_cls(r.payment_difference)}">{_money(r.payment_difference, signed=True)}'
                        f'</span>', _e(r.reason)])
        return out

    heads = ["claim", "discharge", "version", "billed", "regrouped", "Δ weight", "Δ payment", "reason"]
    crow = claim_rows(coding)
    body.append(f"<h2>Claims with a coding difference ({_n(len(coding))})</h2><div class=\"panel\">" + _table(
        heads, crow, numeric=(3, 4, 5, 6), row_classes=["diff"] * len(crow)) + "</div>")
    if data:
        body.append(f"<h2>Claims with a data error ({_n(len(data))})</h2><p class=\"muted\">The claim cannot be "
                    "grouped because a value is invalid or missing; its payment difference is not money at stake "
                    "(fix the data and re-bill).</p><div class=\"panel\">"
                    + _table(heads, claim_rows(data), numeric=(3, 4, 5, 6)) + "</div>")
    if errors:
        body.append(f"<h2>Claims not audited ({_n(len(errors))})</h2><div class=\"panel\">" + _table(
            ["claim", "line", "problem"], [[_e(r.id), _e(r.line), _e(r.error)] for r in errors]) + "</div>")
    return _page(title, subtitle, "".join(body), FOOTER)


# ------------------------------------------------------------------ estimate


def render_estimate_html(estimates, *, errors=(), unpriced=(), hospital=None, title="IPPS payment estimate",
                         charts="auto", top=15, notes=()) -> str:
    """The HTML report of a batch of :class:`grouper.finance.payment.Estimate` (``errors``: (id, message) pairs
    of rows not read or grouped; ``unpriced``: :class:`grouper.finance.payment.NotPriced` stays)."""
    mode = _charts_mode(charts)
    es = list(estimates)
    errors = list(errors)
    unpriced = list(unpriced)
    total = sum((e.total for e in es), Decimal(0))
    op = sum((e.operating_payment for e in es), Decimal(0))
    cap = sum((e.capital_payment for e in es), Decimal(0))
    outl = sum((e.outlier for e in es), Decimal(0))
    transfers = [e for e in es if e.transfer_applied]
    reduction = sum(((e.operating_full + e.capital_full) - (e.operating_base + e.capital_base) for e in transfers),
                    Decimal(0))
    fys = sorted({e.fiscal_year for e in es})
    years = f" · FY{fys[0]}–FY{fys[-1]}" if fys else ""
    subtitle = f"{_n(len(es) + len(unpriced) + len(errors))} stays{years} · " + _hospital_line(hospital)
    cards = [("Stays estimated", _n(len(es)), "", "grouped and priced"),
             ("Not priced", _n(len(unpriced)), "neg" if unpriced else "",
              "grouped, but no payment can be estimated (DRG 998/999, transfer without length of stay ...)"),
             ("Not read or grouped", _n(len(errors)), "neg" if errors else "", "rows with an input error"),
             ("Total estimated payment", _money(total), "", "operating + capital + uncompensated care"),
             ("Operating", _money(op), "", "incl. IME, DSH and outlier"), ("Capital", _money(cap), "",
                                                                               "incl. IME, DSH and outlier"),
             ("Cost outliers", _money(outl), "", "80 % (burns 90 %) of the costs above the threshold"),
             (f"Transfers ({_n(len(transfers))})", _money(-reduction), _cls(-reduction),
              "reduction by the per-diem transfer rule"),
             ("Average per stay", _money((total / len(es)).quantize(Decimal("0.01"))) if es else "–", "",
              "total ÷ stays estimated")]
    body = [_cards(cards)]
    for n in notes:
        body.append(f'<p class="muted"><b>Note:</b> {_e(n)}</p>')
    by_drg = defaultdict(list)
    for e in es:
        by_drg[e.drg].append(e)
    ranked = sorted(by_drg.items(), key=lambda kv: (-sum(e.total for e in kv[1]), kv[0]))[:top]
    c1 = _chart([f"DRG {d}" for d, _ in ranked], [sum((e.total for e in v), Decimal(0)) for _, v in ranked],
                "Estimated payment by DRG", "estimated payment ($)", mode, money=True)
    t1 = _table(["DRG", "title", "stays", "payment"],
                [[str(d), _e(v[0].drg_title), _n(len(v)), _money(sum((e.total for e in v), Decimal(0)))]
                 for d, v in ranked], numeric=(2, 3))
    mdc_labels, mdc_rows = mdc_table([(e.drg, e.mdc, e.mdc_title, e.total) for e in es]
                                     + [(u.drg, u.mdc, u.mdc_title, None) for u in unpriced], money=True)
    c2 = _chart([lab for lab, _ in mdc_labels], [n for _, n in mdc_labels], "MDCs (stays)", "stays", mode)
    t2 = _table(["MDC", "title", "stays", "payment"], mdc_rows, numeric=(2, 3))
    body.append('<h2>Distribution of DRGs and MDCs</h2><div class="grid">'
                f'<div class="panel">{c1}{t1}</div><div class="panel">{c2}{t2}</div></div>')
    srows = []
    for e in es:
        srows.append([_e(e.claim_id), f"FY{e.fiscal_year}", str(e.drg), _e(e.drg_title), _e(e.los),
                      _e(f"{e.discharge_status:02d}" if e.discharge_status is not None else ""),
                      _e(e.transfer if e.transfer_applied else ""), _money(e.operating_payment),
                      _money(e.capital_payment), _money(e.outlier) if e.outlier else "", _money(e.total)])
    body.append("<h2>Stays</h2><div class=\"panel\">" + _table(
        ["stay", "FY", "DRG", "title", "LOS", "status", "transfer", "operating", "capital", "outlier", "total"],
        srows, numeric=(4, 7, 8, 9, 10)) + "</div>")
    if unpriced:
        body.append(f"<h2>Stays not priced ({_n(len(unpriced))})</h2><div class=\"panel\">" + _table(
            ["stay", "FY", "DRG", "title", "reason"],
            [[_e(u.claim_id), f"FY{u.fiscal_year}" if u.fiscal_year else "", _e(u.drg), _e(u.drg_title), _e(u.reason)]
             for u in unpriced]) + "</div>")
    if errors:
        body.append(f"<h2>Stays not read or grouped ({_n(len(errors))})</h2><div class=\"panel\">" + _table(
            ["stay", "problem"], [[_e(i), _e(m)] for i, m in errors]) + "</div>")
    return _page(title, subtitle, "".join(body), FOOTER)


# ------------------------------------------------------------------ screenshot


CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """The headless browser to use for screenshots ($CHROMIUM, else the first on PATH)."""
    env = os.environ.get("CHROMIUM")
    if env:
        return env if shutil.which(env) or Path(env).exists() else None
    for n in CHROMIUM_NAMES:
        p = shutil.which(n)
        if p:
            return p
    return None


def screenshot(html_path, png_path, *, width: int = 1400, height: int = 2600, browser: str | None = None,
               timeout: float = 120, trim: bool = False, palette: bool = False) -> Path:
    """Render ``html_path`` with headless Chromium into ``png_path`` (a fresh profile, no network).

    ``trim``: cut the empty page background below the content, and ``palette``: store 256 colours
    (a smaller file for docs); both need Pillow, which matplotlib brings.  Render with a generous
    ``height`` and ``trim=True`` to get the whole page."""
    exe = browser or find_chromium()
    if exe is None:
        raise RuntimeError("no Chromium found (install it, e.g. 'apt-get install -y chromium', or set $CHROMIUM)")
    html_path = Path(html_path).resolve()
    png_path = Path(png_path).resolve()
    png_path.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="grouper-chromium-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--hide-scrollbars", f"--user-data-dir={profile}", f"--window-size={width},{height}",
               f"--screenshot={png_path}", html_path.as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if not png_path.exists() or png_path.stat().st_size == 0:
        raise RuntimeError(f"Chromium did not write {png_path} (exit {proc.returncode}): {proc.stderr[-800:]}")
    if trim or palette:
        _postprocess(png_path, trim, palette)
    return png_path


def _postprocess(png_path: Path, trim: bool, palette: bool, margin: int = 24) -> None:
    from PIL import Image
    with Image.open(png_path) as im:
        im.load()
    rgb = im.convert("RGB")
    w, h = rgb.size
    if trim:
        bg = rgb.getpixel((w - 1, h - 1))
        y = h - 1
        while y > 0 and all(rgb.getpixel((x, y)) == bg for x in range(0, w, 7)):
            y -= 1
        rgb = rgb.crop((0, 0, w, min(h, y + 1 + margin)))
    if palette:
        rgb = rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    rgb.save(png_path, optimize=True)
