"""IPPS payment estimates: worked examples checked by hand, and the rules behind them.

FY2026 national parameters used below (tables/ipps, from ../shared/cms/rates, see docs/payment.md):
Table 1A (wage index > 1, 66 % labor), full update: labor 4456.72, non-labor 2295.89;
Table 1B (wage index <= 1, 62 % labor), full update: labor 4186.62, non-labor 2565.99;
capital federal rate 524.15; fixed-loss outlier threshold 40,397.
Table 5 FY2026: DRG 470 weight 1.9289 GMLOS 1.9; DRG 291 weight 1.2838 GMLOS 3.8 (post-acute DRG);
DRG 481 weight 2.0945 GMLOS 4.3 (post-acute and special-pay DRG).
Rounding is the CMS IPPS Pricer's (PPCAL215, docs/payment.md "Rounding"): the capital federal rate x
GAF is held in cents; the DRG payments (weight x rate) are kept to 9 decimals and paid in cents; a
transfer fraction (4 decimals) multiplies the unrounded payment; IME/DSH are cents of the payment in
cents; the outlier thresholds, costs and outlier amounts are kept to 9 decimals, the outlier paid in
cents.  All half up.
"""
import json
import shutil
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import pytest

import grouper
from grouper import tables
from grouper.finance.payment import (
    BURN_DRGS,
    EstimateError,
    Hospital,
    estimate,
    estimate_drg,
    length_of_stay,
    transfer_kind,
)
from grouper.tables import ipps
from grouper.tables.build.ipps import IppsBuildError, build_ipps

from conftest import ROOT, SHARED

RATES = SHARED / "cms" / "rates"
needs_rates = pytest.mark.skipif(not (RATES / "ipps_national_rates.tsv").exists(),
                                 reason=f"IPPS rate sources not present at {RATES} (they are not committed)")


def cents(x):
    return x.quantize(D("0.01"), ROUND_HALF_UP)


def nine(x):
    """A figure as the Pricer keeps it between steps: 9 decimals, half up."""
    return x.quantize(D("0.000000001"), ROUND_HALF_UP)


# ---------------------------------------------------------------- worked examples (FY2026)


def test_drg_470_fy2026_at_wage_index_1_uses_table_1b():
    # wage index exactly 1.0 is "<= 1": Table 1B, 62 % labor (the Pricer: WI < 1 OR WI = 1 -> table 3)
    labor = D("4186.62") * D("1.0")                   # 4186.620
    rate = labor + D("2565.99")                       # 6752.610
    operating = cents(D("1.9289") * rate)             # 13025.109429 -> 13025.11
    capital = cents(D("1.9289") * D("524.15") * D("1.0000"))   # GAF 1.0 ** 0.6848 = 1; 1011.032935 -> 1011.03
    e = estimate_drg(470, 2026, Hospital(wage_index="1.0"))
    assert e.rate_table.startswith("Table 1B") and e.labor_share == D("62.0")
    assert (e.labor_adjusted, e.operating_rate) == (labor, rate)
    assert e.operating_base == operating == D("13025.11")
    assert e.capital_base == capital == D("1011.03")
    assert e.total == operating + capital == D("14036.14")


def test_drg_470_fy2026_at_wage_index_0_85():
    labor = D("4186.62") * D("0.85")                  # 3558.6270
    rate = labor + D("2565.99")                       # 6124.6170
    operating = cents(D("1.9289") * rate)             # 11813.773... -> 11813.77
    gaf = D("0.8947")                                 # 0.85 ** 0.6848 = 0.894677 -> 0.8947
    capital_rate = cents(D("524.15") * gaf)           # 468.957005 -> 468.96 (H-FEDERAL-RATE is in cents)
    capital = cents(D("1.9289") * capital_rate)       # 1.9289 x 468.96 = 904.576944 -> 904.58
    e = estimate_drg(470, 2026, Hospital(wage_index="0.85"))
    assert e.gaf == gaf and e.capital_rate == capital_rate == D("468.96")
    assert e.operating_base == operating == D("11813.77")
    assert e.capital_base == capital == D("904.58")    # 904.57 if the rate x GAF were not held in cents
    assert e.total == D("12718.35")


def test_drg_291_fy2026_at_wage_index_1_and_0_85():
    op_10 = cents(D("1.2838") * (D("4186.62") * D("1.0") + D("2565.99")))     # 1.2838 x 6752.61 = 8669.0007
    cap_10 = cents(D("1.2838") * D("524.15"))                                 # 672.8998
    op_85 = cents(D("1.2838") * (D("4186.62") * D("0.85") + D("2565.99")))    # 1.2838 x 6124.617 = 7862.7833
    cap_85 = cents(D("1.2838") * cents(D("524.15") * D("0.8947")))            # 1.2838 x 468.96 = 602.0508
    e10 = estimate_drg(291, 2026, Hospital(wage_index="1.0"))
    e85 = estimate_drg(291, 2026, Hospital(wage_index="0.85"))
    assert (e10.operating_base, e10.capital_base, e10.total) == (op_10, cap_10, D("9341.90"))
    assert (e85.operating_base, e85.capital_base, e85.total) == (op_85, cap_85, D("8464.83"))
    assert (op_10, cap_10, op_85, cap_85) == (D("8669.00"), D("672.90"), D("7862.78"), D("602.05"))


def test_wage_index_above_1_uses_table_1a_and_its_66_percent_labor_share():
    labor = D("4456.72") * D("1.1")                   # 4902.392
    operating = cents(D("1.2838") * (labor + D("2295.89")))   # 1.2838 x 7198.282 = 9241.1544
    e = estimate_drg(291, 2026, Hospital(wage_index="1.1"))
    assert e.rate_table.startswith("Table 1A") and e.labor_share == D("66.0")
    assert e.operating_base == operating == D("9241.15")
    assert e.gaf == D("1.0674")                       # 1.1 ** 0.6848 = 1.067446


def test_transfer_status_02_after_one_day_on_a_post_acute_drg():
    # DRG 291 (post-acute DRG) transferred to another hospital (02) after 1 day:
    # paid days = LOS + 1 = 2 (double per diem on day 1) < GMLOS 3.8, so the per-diem rule applies.
    full_op = D("1.2838") * D("6752.61")              # 8669.000718, kept unrounded (H-OPER-FSP-PART)
    full_cap = D("1.2838") * D("524.15")              # 672.90377
    fraction = (D(2) / D("3.8")).quantize(D("0.0001"), ROUND_HALF_UP)   # 0.526316 -> 0.5263 (Pricer precision)
    operating = cents(full_op * fraction)             # 4562.49507... -> 4562.50 (8669.00 x 0.5263 would give 4562.49)
    capital = cents(full_cap * fraction)              # 354.149254... -> 354.15
    e = estimate_drg(291, 2026, Hospital(wage_index="1.0"), discharge_status="02", los=1)
    assert e.transfer == "acute" and e.transfer_applied and e.per_diem_days == 2
    assert e.transfer_fraction == fraction == D("0.5263")
    assert (e.operating_base, e.capital_base) == (operating, capital) == (D("4562.50"), D("354.15"))
    assert e.total == D("4916.65")
    per_diem = cents(full_op / D("3.8"))              # 2281.32 per day (for reading: the Pricer pays full x fraction)
    assert e.operating_per_diem == per_diem and abs(e.operating_base - 2 * per_diem) < D("0.20")


def test_special_pay_drg_post_acute_transfer():
    # DRG 481 (special-pay) discharged to a SNF (03) after 2 days: 42 U.S.C. 1395ww(d)(5)(J)(i) pays
    # 50 % of the per-diem transfer payment + 50 % of the full payment:
    # fraction = 0.5 + 0.5 x (LOS + 1) / GMLOS = 0.5 + 0.5 x 3 / 4.3 = 0.848837 -> 0.8488
    full_op = D("2.0945") * (D("4186.62") + D("2565.99"))   # 2.0945 x 6752.61 = 14143.341645
    full_cap = D("2.0945") * D("524.15")                      # 1097.832175
    fraction = (D("0.5") + D("0.5") * D(3) / D("4.3")).quantize(D("0.0001"), ROUND_HALF_UP)
    e = estimate_drg(481, 2026, Hospital(wage_index="1.0"), discharge_status=3, los=2)
    assert e.transfer == "post-acute special-pay"
    assert (e.operating_full_exact, e.capital_full_exact, e.transfer_fraction) == (full_op, full_cap, fraction)
    assert (e.operating_full, e.capital_full) == (D("14143.34"), D("1097.83"))
    assert fraction == D("0.8488")
    assert e.operating_base == cents(full_op * fraction) == D("12004.87")     # 12004.868388...
    assert e.capital_base == cents(full_cap * fraction) == D("931.84")        # 931.839950...
    # the same DRG under the plain per-diem rule (acute transfer, 02) gets less: 3 / 4.3 = 0.6977
    assert estimate_drg(481, 2026, Hospital(wage_index="1.0"), discharge_status=2, los=2).transfer_fraction \
        == D("0.6977")


OUTLIER_HOSPITAL = dict(wage_index="1.0", cost_to_charge_operating="0.25", cost_to_charge_capital="0.02")
OP_SHARE = D("0.925925926")                           # 0.25 / (0.25 + 0.02), 9 decimals
CAP_SHARE = D("0.074074074")                          # 0.02 / 0.27


def test_cost_outlier_case():
    # DRG 291, wage index 1.0, charges 200,000, cost-to-charge ratios 0.25 (operating) and 0.02 (capital).
    h = Hospital(**OUTLIER_HOSPITAL)
    op_fixed = nine((D(40397) * D("0.62") * D("1.0") + D(40397) * D("0.38")) * OP_SHARE)   # 37404.629632622
    cap_fixed = nine(D(40397) * D("1.0000") * CAP_SHARE)                                    # 2992.370367378
    op_threshold = D("1.2838") * D("6752.61") + op_fixed       # 8669.000718 + 37404.629632622, not rounded
    cap_threshold = D("1.2838") * D("524.15") + cap_fixed      # 672.90377 + 2992.370367378
    op_cost, cap_cost = D("200000") * D("0.25"), D("200000") * D("0.02")   # 50000.00, 4000.00
    op_outlier = cents(D("0.80") * (op_cost - op_threshold))    # 0.8 x 3926.36965 = 3141.0957 -> 3141.10
    cap_outlier = cents(D("0.80") * (cap_cost - cap_threshold))  # 0.8 x 334.72586 = 267.7807 -> 267.78
    e = estimate_drg(291, 2026, h, charges=200000)
    assert (e.operating_fixed_loss, e.capital_fixed_loss) == (op_fixed, cap_fixed)
    assert (e.operating_outlier_threshold, e.capital_outlier_threshold) == (op_threshold, cap_threshold) == (
        D("46073.630350622"), D("3665.274137378"))
    assert (e.operating_outlier, e.capital_outlier) == (op_outlier, cap_outlier) == (D("3141.10"), D("267.78"))
    assert e.total == D("8669.00") + D("672.90") + op_outlier + cap_outlier == D("12750.78")


def test_outlier_thresholds_are_not_rounded_to_the_cent():
    # The case above with charges 184,294.545: operating cost 0.25 x charges = 46073.63625.  Against the
    # unrounded threshold 46073.630350622: 0.8 x 0.005899378 = 0.0047195 -> 0.00.  Had the threshold been
    # rounded to the cent (46073.63), 0.8 x 0.00625 = 0.005 -> 0.01.
    e = estimate_drg(291, 2026, Hospital(**OUTLIER_HOSPITAL), charges="184294.545")
    assert e.operating_cost == D("46073.63625") and e.operating_outlier_threshold == D("46073.630350622")
    assert e.operating_outlier == cents(D("0.80") * (D("46073.63625") - D("46073.630350622"))) == D("0.00")
    cap_cost = D("184294.545") * D("0.02")                       # 3685.8909 > 3665.274137378
    assert e.capital_outlier == cents(D("0.80") * (cap_cost - D("3665.274137378"))) == D("16.49")


def _outlier_with(**addons):
    """DRG 291 FY2026, wage index 1.0, charges 200,000, CCR 0.25/0.02, with the given add-ons."""
    return estimate_drg(291, 2026, Hospital(**OUTLIER_HOSPITAL, **addons), charges=200000)


OP_FULL = D("1.2838") * D("6752.61")                  # 8669.000718 (9 decimals: exact)
CAP_FULL = D("1.2838") * D("524.15")                  # 672.90377
OP_FIXED = D("37404.629632622")                       # test_cost_outlier_case
CAP_FIXED = D("2992.370367378")


def test_uncompensated_care_raises_the_operating_outlier_threshold():
    # 42 CFR 412.84 and the Pricer (3600-CALC-OUTLIER "NOW INCLUDES UNCOMPENSATED CARE"): the
    # operating threshold adds the uncompensated-care amount, so 1,000 of it lowers the outlier by 800
    threshold = OP_FULL + D("1000.00") + OP_FIXED             # 47073.630350622
    e = _outlier_with(uncompensated_care_per_claim="1000")
    assert e.operating_outlier_threshold == threshold
    assert e.operating_outlier == cents(D("0.80") * (D("50000") - threshold)) == D("2341.10")
    assert e.capital_outlier == D("267.78")                   # the capital threshold has no uncompensated care
    assert e.total == D("8669.00") + D("2341.10") + D("672.90") + D("267.78") + D("1000.00") == D("12950.78")


def test_operating_ime_raises_the_operating_outlier_threshold():
    # threshold = payment x (1 + IME) + ...: IME 0.10 adds 866.9000718 to it
    threshold = OP_FULL * (1 + D("0.10")) + OP_FIXED          # 46940.530422422
    e = _outlier_with(operating_ime_factor="0.10")
    assert e.operating_outlier_threshold == threshold
    assert e.operating_ime == cents(D("8669.00") * D("0.10")) == D("866.90")
    assert e.operating_outlier == cents(D("0.80") * (D("50000") - threshold)) == D("2447.58")
    assert e.total == D("8669.00") + D("866.90") + D("2447.58") + D("672.90") + D("267.78") == D("12924.16")


def test_operating_dsh_raises_the_operating_outlier_threshold():
    threshold = OP_FULL + OP_FULL * D("0.05") + OP_FIXED      # DSH 0.05: + 433.4500359
    e = _outlier_with(operating_dsh_factor="0.05")
    assert e.operating_outlier_threshold == threshold
    assert e.operating_dsh == D("433.45")
    assert e.operating_outlier == cents(D("0.80") * (D("50000") - threshold)) == D("2794.34")
    assert e.total == D("8669.00") + D("433.45") + D("2794.34") + D("672.90") + D("267.78") == D("12837.47")


def test_capital_ime_and_dsh_raise_the_capital_outlier_threshold():
    threshold = CAP_FULL * (1 + D("0.10") + D("0.05")) + CAP_FIXED    # 773.8393355 + 2992.370367378
    e = _outlier_with(capital_ime_factor="0.10", capital_dsh_factor="0.05")
    assert e.capital_outlier_threshold == threshold == D("3766.209702878")
    assert (e.capital_ime, e.capital_dsh) == (D("67.29"), D("33.65"))     # 672.90 x 0.10, x 0.05 (33.645)
    assert e.capital_outlier == cents(D("0.80") * (D("4000") - threshold)) == D("187.03")
    assert e.operating_outlier == D("3141.10")


def test_transfer_reduces_the_outlier_threshold_in_proportion():
    h = Hospital(**OUTLIER_HOSPITAL)
    e = estimate_drg(291, 2026, h, charges=200000, discharge_status=2, los=1)
    assert e.fixed_loss_after_transfer == cents(D(40397) * D("0.5263")) == D("21260.94")   # H-CST-THRESH, cents
    op_fixed = nine(D("21260.94") * OP_SHARE)                    # 19686.055541018
    threshold = nine(OP_FULL * D("0.5263")) + op_fixed           # 4562.495077883 + 19686.055541018
    assert e.operating_outlier_threshold == threshold
    assert e.operating_outlier == cents(D("0.80") * (D("50000.00") - threshold)) == D("20601.16")


def test_burn_drgs_get_90_percent_and_are_exactly_the_burn_titles():
    for fy in tables.default().fiscal_years:
        w = tables.default().weights(fy)
        burn = {d for d in range(1, 1000) if w.listed[d] and "burn" in (tables.drg(d, fy=fy).title or "").lower()}
        assert burn == set(BURN_DRGS), fy
    h = Hospital(wage_index="1.0", cost_to_charge_operating="0.9")
    e = estimate_drg(935, 2026, h, charges=500000)
    assert e.outlier_factor == D("0.90") and e.operating_outlier > 0
    assert estimate_drg(291, 2026, h, charges=500000).outlier_factor == D("0.80")


def test_add_ons_apply_to_the_transfer_adjusted_payment():
    h = Hospital(wage_index="1.0", operating_ime_factor="0.05", operating_dsh_factor="0.02",
                 capital_ime_factor="0.03", capital_dsh_factor="0.01", uncompensated_care_per_claim="250")
    e = estimate_drg(291, 2026, h, discharge_status=2, los=1)
    assert e.operating_ime == cents(D("4562.50") * D("0.05")) == D("228.13")    # 228.125 half up
    assert e.operating_dsh == cents(D("4562.50") * D("0.02")) == D("91.25")
    assert (e.capital_ime, e.capital_dsh) == (cents(D("354.15") * D("0.03")), cents(D("354.15") * D("0.01")))
    assert e.total == e.operating_payment + e.capital_payment + D("250.00")


# ---------------------------------------------------------------- transfer rules


def test_acute_transfer_statuses_apply_to_every_drg_post_acute_statuses_only_to_post_acute_drgs():
    assert transfer_kind(293, 2, post_acute=False, special_pay=False) == "acute"
    assert transfer_kind(293, 66, post_acute=False, special_pay=False) == "acute"
    assert transfer_kind(293, 3, post_acute=False, special_pay=False) == "none"
    assert transfer_kind(291, 3, post_acute=True, special_pay=False) == "post-acute"
    assert transfer_kind(291, 51, post_acute=True, special_pay=False) == "post-acute"     # hospice since FY2019
    assert transfer_kind(481, 6, post_acute=True, special_pay=True) == "post-acute special-pay"
    assert transfer_kind(481, 2, post_acute=True, special_pay=True) == "acute"          # 50/50 is post-acute only
    assert transfer_kind(291, 1, post_acute=True, special_pay=False) == "none"
    assert transfer_kind(291, 4, post_acute=True, special_pay=False) == "none"          # custodial care


def test_post_acute_status_on_a_drg_outside_the_list_pays_in_full_with_a_note():
    w = tables.default().weights(2026)
    drg = next(d for d in range(1, 998) if w.listed[d] and w.post_acute[d] == 0 and w.figures[d][0])
    e = estimate_drg(drg, 2026, Hospital(wage_index="1.0"), discharge_status=3, los=1)
    assert e.transfer == "none" and not e.transfer_applied and "not a post-acute DRG" in e.notes[0]


def test_no_reduction_once_los_plus_one_reaches_gmlos():
    e = estimate_drg(470, 2026, Hospital(wage_index="1.0"), discharge_status=2, los=1)   # 2 >= GMLOS 1.9
    assert e.transfer == "acute" and not e.transfer_applied and e.transfer_fraction == 1
    assert e.operating_base == e.operating_full


def test_same_day_transfer_is_paid_as_one_day():
    e0 = estimate_drg(291, 2026, Hospital(wage_index="1.0"), discharge_status=2, los=0)
    e1 = estimate_drg(291, 2026, Hospital(wage_index="1.0"), discharge_status=2, los=1)
    assert e0.per_diem_days == e1.per_diem_days == 2 and e0.total == e1.total


def test_drg_789_is_never_paid_as_a_transfer():
    e = estimate_drg(789, 2026, Hospital(wage_index="1.0"), discharge_status=2, los=0)
    assert e.transfer == "none" and e.operating_base == e.operating_full and "never paid as a transfer" in e.notes[0]


def test_a_transfer_needs_the_length_of_stay():
    with pytest.raises(EstimateError, match="needs the length of stay"):
        estimate_drg(291, 2026, Hospital(wage_index="1.0"), discharge_status=2)


def test_length_of_stay_from_dates():
    assert length_of_stay(None, "2026-05-09", "2026-05-10") == 1
    assert length_of_stay(3) == 3
    with pytest.raises(EstimateError, match="disagrees"):
        length_of_stay(2, "2026-05-09", "2026-05-10")
    with pytest.raises(EstimateError, match="before admission"):
        length_of_stay(None, "2026-05-11", "2026-05-10")


# ---------------------------------------------------------------- rates and hospital status


def test_quality_and_ehr_status_pick_the_table_column():
    p = ipps.parameters(2026)
    assert (p.standardized_amount(0.85, quality_data=False).labor,
            p.standardized_amount(0.85, quality_data=False).nonlabor) == (D("4152.95"), D("2545.36"))
    assert p.standardized_amount(1.2, ehr_user=False).labor == D("4349.21")
    assert p.standardized_amount(1.2, quality_data=False, ehr_user=False).nonlabor == D("2222.05")
    e = estimate_drg(291, 2026, Hospital(wage_index="0.85", quality_data=False))
    assert e.labor_amount == D("4152.95") and e.rate_variant == "noquality_ehr"


def test_puerto_rico_uses_table_1c_and_refuses_a_wage_index_above_1():
    p = ipps.parameters(2026)
    sa = p.standardized_amount(0.5, puerto_rico=True, ehr_user=False)
    assert (sa.labor, sa.nonlabor, sa.labor_share) == (D("4085.63"), D("2504.09"), D("62.0"))
    with pytest.raises(ipps.IppsError, match="Puerto Rico"):
        p.standardized_amount(1.05, puerto_rico=True)


def test_only_values_in_force_are_used_never_superseded_ones():
    assert ipps.parameters(2023).capital_federal_rate == D("483.79")          # not 483.76 (original final rule)
    assert ipps.parameters(2023).outlier_fixed_loss_threshold == D("38788")   # not 38,859
    assert ipps.parameters(2025).capital_federal_rate == D("512.14")          # not 510.51 (before the IFC)
    assert ipps.parameters(2025).outlier_fixed_loss_threshold == D("46217")   # not 46,152
    assert not any("superseded" in k for fy in (2023, 2025) for k in ipps.parameters(fy).values)


def test_a_year_without_a_parameter_is_a_clear_error():
    with pytest.raises(ipps.IppsError, match="FY2027 has no outlier_fixed_loss_threshold.*MISSING"):
        ipps.parameters(2027).outlier_fixed_loss_threshold  # noqa: B018  (reading it raises)
    with pytest.raises(ipps.IppsError, match="no IPPS national parameters for FY2022"):
        ipps.parameters(2022)
    with pytest.raises(EstimateError, match="FY2027"):               # no grouper version / weights either
        estimate_drg(291, 2027, Hospital(wage_index="1.0"))


def test_ungroupable_drgs_have_no_payment():
    with pytest.raises(EstimateError, match="DRG 999 .* no FY2026 relative weight"):
        estimate_drg(999, 2026, Hospital(wage_index="1.0"))


def test_charges_without_a_cost_to_charge_ratio_is_an_error():
    with pytest.raises(EstimateError, match="cost-to-charge"):
        estimate_drg(291, 2026, Hospital(wage_index="1.0"), charges=100000)


def test_post_acute_flags_fy2025_from_the_pricer_agree_with_fy2026_table_5():
    w = tables.default().weights(2026)
    t = ipps.default()
    for d in range(1, 1000):
        if w.listed[d] and w.post_acute[d] >= 0 and d in t.doc["drg_flags"]["2025"]["drgs"]:
            assert t.drg_flags(d, 2025) == (bool(w.post_acute[d]), bool(w.special_pay[d])), d


# ---------------------------------------------------------------- claims and results


def test_estimate_a_claim_groups_it_and_reads_its_dates():
    claim = {"id": "hf", "discharge_date": "2026-05-10", "admission_date": "2026-05-09", "sex": "M",
             "discharge_status": 2, "pdx": "I5022", "sdx": [["J9601", "Y"]]}
    e = estimate(claim, Hospital(wage_index="1.0"))
    assert (e.claim_id, e.drg, e.version, e.los, e.mdc) == ("hf", 291, 431, 1, 5)
    assert e.total == D("4916.65")                    # the status-02 worked example above


def test_a_result_needs_its_discharge_status():
    r = grouper.group({"version": 431, "pdx": "I5022", "sdx": [["J9601", "Y"]], "discharge_status": 1})
    with pytest.raises(EstimateError, match="discharge_status"):
        estimate(r, Hospital(wage_index="1.0"))
    assert estimate(r, Hospital(wage_index="1.0"), discharge_status=1).total == D("9341.90")


def test_the_mdc_of_an_estimate_is_the_claims_mdc_as_grouped():
    # DRG 987 (non-extensive O.R. procedure unrelated to the principal diagnosis) is in every MDC:
    # the estimate reports the claim's MDC (the PDX's), as the audit does, not one MDC of the DRG
    claim = {"id": "u", "discharge_date": "2026-07-01", "sex": "M", "discharge_status": 1, "pdx": "J189",
             "procedures": ["0DTJ4ZZ"]}
    r = grouper.group(claim)
    e = estimate(claim, Hospital(wage_index="1.0"))
    assert e.drg == r.final_drg and e.mdc == r.final_mdc == 4


def test_explain_shows_each_step_of_the_arithmetic():
    text = "\n".join(estimate_drg(291, 2026, Hospital(wage_index="1.0"), discharge_status=2, los=1).explain())
    assert "labor part = 4186.62 x wage index 1.0 = 4186.62" in text
    assert "operating DRG payment = 1.2838 x 6752.61 = 8669.000718" in text
    assert "paid days = max(LOS 1, 1) + 1 = 2" in text
    assert "transfer fraction = 2 / 3.8 = 0.5263" in text
    assert "operating = 8669.000718 x 0.5263 = 4562.495077883, paid 4562.50" in text
    assert "total = 4562.50 + 354.15 + 0.00 = 4916.65" in text
    assert "per diem" not in text                     # the Pricer pays full x fraction; no per diem is used


def test_explain_of_a_same_day_transfer_counts_one_day():
    text = "\n".join(estimate_drg(291, 2026, Hospital(wage_index="1.0"), discharge_status=2, los=0).explain())
    assert "paid days = max(LOS 0, 1) + 1 = 2" in text and "LOS + 1" not in text


def test_every_estimate_lists_what_it_does_not_model():
    e = estimate_drg(291, 2026, Hospital(wage_index="1.0"))
    assert {"new-technology add-on (NTAP)", "readmissions reduction (HRRP)", "value-based purchasing (VBP)",
            "HAC reduction program", "low-volume add-on", "hospital-specific rate (SCH/MDH)", "sequestration",
            "deductible and coinsurance"} <= set(e.not_modelled)
    assert e.to_dict()["not_modelled"] == list(e.not_modelled)
    assert e.explain()[-1].startswith("not included: new-technology add-on (NTAP)")


def test_hospital_settings_per_fiscal_year():
    h = Hospital(wage_index="1.0", fiscal_years={"2025": {"wage_index": "0.85"}})
    assert estimate_drg(291, 2026, h).wage_index == D("1.0")
    e25 = estimate_drg(291, 2025, h)
    assert e25.wage_index == D("0.85") and e25.gaf == D("0.8947")
    assert h.settings_note([2025, 2026]) is None              # each year has its own values
    note = Hospital(wage_index="1.0").settings_note([2025, 2026])
    assert "FY2025, FY2026" in note and "fiscal_years" in note
    with pytest.raises(EstimateError, match="fiscal_years 2025: unknown or not per-year setting.*name"):
        Hospital(wage_index="1.0", fiscal_years={"2025": {"name": "x"}})
    with pytest.raises(EstimateError, match="fiscal_years 2025: wage_index must be positive"):
        Hospital(wage_index="1.0", fiscal_years={"2025": {"wage_index": 0}})


def test_hospital_config_from_json_and_toml(tmp_path):
    h = Hospital.from_file(ROOT / "grouper" / "data" / "sample_hospital.json")
    assert h.wage_index == D("0.9264") and h.gaf_used == D("0.9490") and h.cost_to_charge_operating == D("0.241")
    (tmp_path / "h.toml").write_text('wage_index = 1.05\nehr_user = false\ngaf = 1.0340\n')
    t = Hospital.from_file(tmp_path / "h.toml")
    assert (t.wage_index, t.ehr_user, t.gaf_used) == (D("1.05"), False, D("1.0340"))
    (tmp_path / "bad.json").write_text(json.dumps({"wage_index": 1, "wage_idx": 2}))
    with pytest.raises(EstimateError, match="unknown hospital setting.*wage_idx"):
        Hospital.from_file(tmp_path / "bad.json")
    with pytest.raises(EstimateError, match="wage_index must be positive"):
        Hospital(wage_index=0)
    # an empty or incomplete file says what it lacks (it ended the run with an internal TypeError)
    (tmp_path / "empty.toml").write_text("")
    with pytest.raises(EstimateError, match="empty.toml: missing hospital setting.*wage_index"):
        Hospital.from_file(tmp_path / "empty.toml")


# ---------------------------------------------------------------- the shipped IPPS tables


@needs_rates
def test_build_ipps_reproduces_the_committed_tables_byte_for_byte(tmp_path):
    sources = sorted(RATES.glob("*.tsv"))
    manifest = build_ipps(sources, tmp_path, log=lambda *a: None)
    for name in ("ipps.json", "MANIFEST.json"):
        assert (tmp_path / name).read_bytes() == (ROOT / "tables" / "ipps" / name).read_bytes(), name
    assert [s["file"] for s in manifest["sources"]] == sorted(p.name for p in sources)
    assert manifest["missing"] == {"2027": ["outlier_fixed_loss_threshold"]}


@needs_rates
def test_build_ipps_rejects_a_labor_amount_that_is_not_the_labor_share(tmp_path):
    text = (RATES / "ipps_national_rates.tsv").read_text().replace("\t4456.72\t", "\t4465.72\t", 1)
    (tmp_path / "ipps_national_rates.tsv").write_text(text)
    with pytest.raises(IppsBuildError, match="ipps_national_rates.tsv: FY2026 op_std_labor_wi_gt1_full"):
        build_ipps([tmp_path / "ipps_national_rates.tsv"], tmp_path / "out", log=lambda *a: None)
    assert not (tmp_path / "out" / "ipps.json").exists()


def test_an_edited_ipps_file_is_refused(tmp_path):
    for name in ("ipps.json", "MANIFEST.json"):
        shutil.copy(ROOT / "tables" / "ipps" / name, tmp_path / name)
    data = (tmp_path / "ipps.json").read_text().replace('"524.15"', '"624.15"')
    (tmp_path / "ipps.json").write_text(data)
    with pytest.raises(ipps.IppsIntegrityError, match="differs from MANIFEST.json"):
        ipps.IppsTables(tmp_path).parameters(2026)


def test_the_explanation_in_docs_payment_md_is_the_real_output():
    doc = (ROOT / "docs" / "payment.md").read_text()
    block = doc.split("```\nDRG 291 Heart Failure", 1)[1].split("```", 1)[0]
    shown = ("DRG 291 Heart Failure" + block).strip().splitlines()
    claim = {"id": "hf-mcc", "discharge_date": "2026-05-10", "admission_date": "2026-05-05", "sex": "M",
             "discharge_status": 1, "pdx": "I5022", "sdx": [["J9601", "Y"]]}
    e = estimate(claim, Hospital.from_file(ROOT / "grouper" / "data" / "sample_hospital.json"))
    assert e.explain() == shown
