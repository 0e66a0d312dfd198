"""HTML reports: self-contained, the audit's numbers and reasons, charts, and a Chromium rendering."""
import html
import re
import struct
import sys
from decimal import Decimal as D

import pytest
from test_audit import CLAIMS, DATA

from grouper.finance.audit import audit_rows
from grouper.finance.payment import Hospital
from grouper.finance.report import find_chromium, has_matplotlib, render_audit_html, render_estimate_html, screenshot

HOSPITAL = Hospital.from_file(DATA / "sample_hospital.json")


@pytest.fixture(scope="module")
def rows():
    return audit_rows(CLAIMS, HOSPITAL)


def money(x):
    s = f"${abs(x):,.2f}"
    return ("−" + s) if x < 0 else ("+" + s if x > 0 else s)


def assert_self_contained(page):
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:)""", page)   # only data: URIs
    assert "@import" not in page and "url(" not in page


def card(page, title):
    """The value and the explaining line of the card titled ``title``."""
    m = re.search(r'<div class="k">' + re.escape(html.escape(title)) + r'</div><div class="v[^"]*">(.*?)</div>'
                  r'(?:<div class="d">(.*?)</div>)?', page)
    assert m, title
    return html.unescape(m.group(1)), html.unescape(m.group(2) or "")


DATA_ERRORS = {"dotted-code", "invalid-pdx", "invalid-status-ami", "sex-dependent-unknown"}


def test_audit_report_is_self_contained_and_shows_the_totals(rows):
    page = render_audit_html(rows, hospital=HOSPITAL, charts="html")
    assert_self_contained(page)
    diffs = [r for r in rows if not r.match]
    assert len(diffs) == 23 and len(rows) == 40
    assert card(page, "DRG differences") == ("23 (58%)", "19 coding differences, 4 data errors")  # 57.5 % half up
    assert {r.id for r in diffs if r.reason_group == "data"} == DATA_ERRORS
    assert card(page, "Data errors")[0] == "4"
    coding = [r for r in diffs if r.id not in DATA_ERRORS]
    over = sum(r.payment_difference for r in coding if r.payment_difference is not None and r.payment_difference < 0)
    under = sum(r.payment_difference for r in coding if r.payment_difference is not None and r.payment_difference > 0)
    assert over < 0 < under
    # gross over- and under-payment apart, never netted, each card saying what it is
    assert card(page, "Billed above regrouped")[0] == money(over)
    assert "possible overpayment" in card(page, "Billed above regrouped")[1]
    assert card(page, "Billed below regrouped")[0] == money(under)
    assert "possible underpayment" in card(page, "Billed below regrouped")[1]
    assert "Money at stake (net)" not in page
    priced = [r for r in rows if r.billed_payment is not None and r.regrouped_payment is not None
              and r.id not in DATA_ERRORS]
    assert card(page, "Estimated, as billed")[0] == money(sum(r.billed_payment for r in priced)).lstrip("+")
    assert "Sample Community Hospital: wage index 0.9264" in page


def test_report_percentages_round_half_up():
    from grouper.finance.report import percent
    assert (percent(23, 40), percent(1, 8), percent(1, 3), percent(2, 3), percent(0, 5)) == (
        "58%", "13%", "33%", "67%", "0%")


def test_audit_report_shows_plain_english_reasons_and_data_errors_apart(rows):
    page = render_audit_html(rows, hospital=HOSPITAL, charts="html")
    for internal in ("NO_CC_MCC", "SDX_NOT_COUNTED", "SDX_ADDS_SEVERITY", "DATA_ERROR", "UNGROUPABLE"):
        assert internal not in page, internal
    assert "a secondary diagnosis adds a CC/MCC" in page
    assert "Claims with a data error (4)" in page and "Claims with a coding difference (19)" in page
    data_section = page.split("Claims with a data error (4)", 1)[1]
    for r in rows:
        if r.id in DATA_ERRORS:
            assert html.escape(r.reason) in data_section, r.id


def test_every_mdc_is_titled_and_both_reports_count_the_same_claims(rows):
    from grouper.finance.payment import NotPriced, price_claim
    audit = render_audit_html(rows, hospital=HOSPITAL, charts="html")
    priced = [price_claim(c, HOSPITAL) for c in CLAIMS]
    est = render_estimate_html([e for e in priced if not isinstance(e, NotPriced)],
                               unpriced=[e for e in priced if isinstance(e, NotPriced)], hospital=HOSPITAL,
                               charts="html")

    def mdc_rows(page):
        table = page.split("<th>MDC</th>", 1)[1].split("</table>", 1)[0]
        return [re.findall(r"<td[^>]*>(.*?)</td>", tr)[:3] for tr in table.split("<tr>")[1:]]

    a, e = mdc_rows(audit), mdc_rows(est)
    assert a == e and len(a) > 5
    assert all(title and not title.startswith("MDC ") for _, title, _ in a)
    assert ["–", "Ungroupable (DRG 999)"] in [r[:2] for r in a]
    assert sum(int(n) for _, _, n in a) == len(CLAIMS)


def test_audit_report_lists_every_difference_with_its_reason(rows):
    page = render_audit_html(rows, hospital=HOSPITAL, charts="html")
    for r in rows:
        if not r.match:
            assert html.escape(r.reason) in page, r.id
    # top change by money impact first: the heart transplant billed 2, regrouped 1
    assert page.index("2 → 1") < page.index("4 → 3")


def test_audit_report_without_hospital_compares_weights_only(rows):
    page = render_audit_html(audit_rows(CLAIMS[:5]), charts="html")
    assert "weights only" in page and "Billed above regrouped" not in page


@pytest.mark.skipif(not has_matplotlib(), reason="matplotlib not installed (optional extra 'report')")
def test_charts_are_embedded_png_images(rows):
    page = render_audit_html(rows, hospital=HOSPITAL, charts="matplotlib")
    assert_self_contained(page)
    assert page.count('src="data:image/png;base64,') == 3


def test_asking_for_matplotlib_charts_without_it_is_a_clear_error(rows, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)      # as if it were not installed
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(RuntimeError, match="pip install"):
        render_audit_html(rows, charts="matplotlib")


def test_estimate_report(tmp_path):
    from grouper.finance.payment import NotPriced, price_claim
    got = [price_claim(c, HOSPITAL) for c in CLAIMS]
    ests = [e for e in got if not isinstance(e, NotPriced)]
    unpriced = [e for e in got if isinstance(e, NotPriced)]
    assert unpriced and all(u.drg in (998, 999) and u.fiscal_year for u in unpriced)
    page = render_estimate_html(ests, unpriced=unpriced, errors=[("x", "no version")], hospital=HOSPITAL,
                                charts="html")
    assert_self_contained(page)
    total = sum((e.total for e in ests), D(0))
    assert card(page, "Total estimated payment")[0] == f"${total:,.2f}"
    assert f"Stays not priced ({len(unpriced)})" in page and "Stays not read or grouped (1)" in page
    assert "Not included</b>: new-technology add-ons (NTAP)" in page


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.skipif(find_chromium() is None,
                    reason="Chromium not installed (apt-get install -y chromium); the screenshot needs a browser")
def test_headless_chromium_renders_the_audit_report(rows, tmp_path):
    src = tmp_path / "audit.html"
    src.write_text(render_audit_html(rows, hospital=HOSPITAL), encoding="utf-8")
    png = screenshot(src, tmp_path / "audit.png", width=1200, height=900)
    assert png_size(png) == (1200, 900)
    assert png.stat().st_size > 20_000                     # a rendered page, not a blank image
