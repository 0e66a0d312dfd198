"""HTML reports: self-contained, the audit's numbers and reasons, charts, and a Chromium rendering."""
import html
import re
import struct
import sys
from decimal import Decimal as D

import pytest
from test_audit import CLAIMS, DATA

from grouper.finance.audit import audit_rows
from grouper.finance.payment import Hospital, estimate
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


def test_audit_report_is_self_contained_and_shows_the_totals(rows):
    page = render_audit_html(rows, hospital=HOSPITAL, charts="html")
    assert_self_contained(page)
    diffs = [r for r in rows if not r.match]
    net = sum(r.payment_difference for r in diffs if r.payment_difference is not None)
    assert f"{len(diffs)} (57%)" in page                                   # DRG differences card
    assert money(net) in page                                              # money at stake
    assert money(sum(r.billed_payment for r in rows if r.billed_payment is not None and
                     r.regrouped_payment is not None)).lstrip("+") in page
    assert "Sample Community Hospital: wage index 0.9264" in page


def test_audit_report_lists_every_difference_with_its_reason(rows):
    page = render_audit_html(rows, hospital=HOSPITAL, charts="html")
    for r in rows:
        if not r.match:
            assert html.escape(r.reason) in page, r.id
    assert f"Claims with a difference ({sum(not r.match for r in rows)})" in page
    # top change by money impact first: the heart transplant billed 2, regrouped 1
    assert page.index("2 → 1") < page.index("4 → 3")


def test_audit_report_without_hospital_compares_weights_only(rows):
    page = render_audit_html(audit_rows(CLAIMS[:5]), charts="html")
    assert "weights only" in page and "Money at stake" not in page


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
    ests = []
    for c in CLAIMS[:12]:
        try:
            ests.append(estimate(c, HOSPITAL))
        except Exception:
            pass
    page = render_estimate_html(ests, errors=[("x", "DRG 999 has no weight")], hospital=HOSPITAL, charts="html")
    assert_self_contained(page)
    total = sum((e.total for e in ests), D(0))
    assert f"${total:,.2f}" in page and "Stays not estimated (1)" in page


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
