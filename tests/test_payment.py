"""IPPS payment estimates: worked examples checked by hand, and the rules behind them.

FY2026 national parameters used below (tables/ipps, from ../shared/cms/rates, see docs/payment.md):
Table 1A (wage index > 1, 66 % labor), full update: labor 4456.72, non-labor 2295.89;
Table 1B (wage index <= 1, 62 % labor), full update: labor 4186.62, non-labor 2565.99;
capital federal rate 524.15; fixed-loss outlier threshold 40,397.
Table 5 FY2026: DRG 470 weight 1.9289 GMLOS 1.9; DRG 291 weight 1.2838 GMLOS 3.8 (post-acute DRG);
DRG 481 weight 2.0945 GMLOS 4.3 (post-acute and special-pay DRG).
Every money line is rounded to the cent (half up) and the next line uses the rounded figure.
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
    capital = cents(D("1.9289") * D("524.15") * gaf)  # 1.9289 x 468.957005 = 904.5712 -> 904.57
    e = estimate_drg(470, 2026, Hospital(wage_index="0.85"))
    assert e.gaf == gaf
    assert e.operating_base == operating == D("11813.77")
    assert e.capital_base == capital == D("904.57")
    assert e.total == D("12718.34")


def test_drg_291_fy2026_at_wage_index_1_and_0_85():
    op_10 = cents(D("1.2838") * (D("4186.62") * D("1.0") + D("2565.99")))     # 1.2838 x 6752.61 = 8669.0007
    cap_10 = cents(D("1.2838") * D("524.15"))                                 # 672.8998
    op_85 = cents(D("1.2838") * (D("4186.62") * D("0.85") + D("2565.99")))    # 1.2838 x 6124.617 = 7862.7833
    cap_85 = cents(D("1.2838") * D("524.15") * D("0.8947"))                   # 1.2838 x 468.957005 = 602.0470
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
    full_op = D("8669.00")
    per_diem = cents(full_op / D("3.8"))              # 2281.32 per day
    fraction = (D(2) / D("3.8")).quantize(D("0.0001"), ROUND_HALF_UP)   # 0.526316 -> 0.5263 (Pricer precision)
    operating = cents(full_op * fraction)             # 4562.4947 -> 4562.49 (2 x per diem = 4562.64)
    capital = cents(D("672.90") * fraction)           # 354.147 -> 354.15
    e = estimate_drg(291, 2026, Hospital(wage_index="1.0"), discharge_status="02", los=1)
    assert e.transfer == "acute" and e.transfer_applied and e.per_diem_days == 2
    assert e.operating_per_diem == per_diem == D("2281.32")
    assert e.transfer_fraction == fraction == D("0.5263")
    assert (e.operating_base, e.capital_base) == (operating, capital) == (D("4562.49"), D("354.15"))
    assert e.total == D("4916.64")
    assert abs(e.operating_base - 2 * per_diem) < D("0.20")   # = full / GMLOS x (LOS + 1), to the rounding


def test_special_pay_drg_post_acute_transfer():
    # DRG 481 (special-pay) discharged to a SNF (03) after 2 days: 42 U.S.C. 1395ww(d)(5)(J)(i) pays
    # 50 % of the per-diem transfer payment + 50 % of the full payment:
    # fraction = 0.5 + 0.5 x (LOS + 1) / GMLOS = 0.5 + 0.5 x 3 / 4.3 = 0.848837 -> 0.8488
    full_op = cents(D("2.0945") * (D("4186.62") + D("2565.99")))   # 2.0945 x 6752.61 = 14143.3416 -> 14143.34
    full_cap = cents(D("2.0945") * D("524.15"))                      # 1097.8322 -> 1097.83
    fraction = (D("0.5") + D("0.5") * D(3) / D("4.3")).quantize(D("0.0001"), ROUND_HALF_UP)
    e = estimate_drg(481, 2026, Hospital(wage_index="1.0"), discharge_status=3, los=2)
    assert e.transfer == "post-acute special-pay"
    assert (e.operating_full, e.capital_full, e.transfer_fraction) == (full_op, full_cap, fraction)
    assert fraction == D("0.8488")
    assert e.operating_base == cents(full_op * fraction) == D("12004.87")
    assert e.capital_base == cents(full_cap * fraction) == D("931.84")
    # the same DRG under the plain per-diem rule (acute transfer, 02) gets less: 3 / 4.3 = 0.6977
    assert estimate_drg(481, 2026, Hospital(wage_index="1.0"), discharge_status=2, los=2).transfer_fraction \
        == D("0.6977")


def test_cost_outlier_case():
    # DRG 291, wage index 1.0, charges 200,000, cost-to-charge ratios 0.25 (operating) and 0.02 (capital).
    h = Hospital(wage_index="1.0", cost_to_charge_operating="0.25", cost_to_charge_capital="0.02")
    op_share = D("0.925925926")                       # 0.25 / (0.25 + 0.02), 9 decimals
    cap_share = D("0.074074074")                      # 0.02 / 0.27
    op_fixed = cents((D(40397) * D("0.62") * D("1.0") + D(40397) * D("0.38")) * op_share)   # 37404.63
    cap_fixed = cents(D(40397) * D("1.0000") * cap_share)                                    # 2992.37
    op_threshold = D("8669.00") + op_fixed            # 46073.63 (no IME/DSH, no uncompensated care)
    cap_threshold = D("672.90") + cap_fixed           # 3665.27
    op_cost, cap_cost = D("200000") * D("0.25"), D("200000") * D("0.02")   # 50000.00, 4000.00
    op_outlier = cents(D("0.80") * (op_cost - op_threshold))    # 0.8 x 3926.37 = 3141.096 -> 3141.10
    cap_outlier = cents(D("0.80") * (cap_cost - cap_threshold))  # 0.8 x 334.73 = 267.784 -> 267.78
    e = estimate_drg(291, 2026, h, charges=200000)
    assert (e.operating_fixed_loss, e.capital_fixed_loss) == (op_fixed, cap_fixed) == (D("37404.63"), D("2992.37"))
    assert (e.operating_outlier_threshold, e.capital_outlier_threshold) == (op_threshold, cap_threshold)
    assert (e.operating_outlier, e.capital_outlier) == (op_outlier, cap_outlier) == (D("3141.10"), D("267.78"))
    assert e.total == D("8669.00") + D("672.90") + op_outlier + cap_outlier == D("12750.78")


def test_transfer_reduces_the_outlier_threshold_in_proportion():
    h = Hospital(wage_index="1.0", cost_to_charge_operating="0.25", cost_to_charge_capital="0.02")
    e = estimate_drg(291, 2026, h, charges=200000, discharge_status=2, los=1)
    assert e.fixed_loss_after_transfer == cents(D(40397) * D("0.5263")) == D("21260.94")
    op_fixed = cents(D("21260.94") * D("0.925925926"))          # 19686.06
    assert e.operating_outlier == cents(D("0.80") * (D("50000.00") - (D("4562.49") + op_fixed))) == D("20601.16")


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
    assert e.operating_ime == cents(D("4562.49") * D("0.05")) == D("228.12")
    assert e.operating_dsh == cents(D("4562.49") * D("0.02")) == D("91.25")
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
    assert (e.claim_id, e.drg, e.version, e.los) == ("hf", 291, 431, 1)
    assert e.total == D("4916.64")                    # the status-02 worked example above


def test_a_result_needs_its_discharge_status():
    r = grouper.group({"version": 431, "pdx": "I5022", "sdx": [["J9601", "Y"]], "discharge_status": 1})
    with pytest.raises(EstimateError, match="discharge_status"):
        estimate(r, Hospital(wage_index="1.0"))
    assert estimate(r, Hospital(wage_index="1.0"), discharge_status=1).total == D("9341.90")


def test_explain_shows_each_step_of_the_arithmetic():
    text = "\n".join(estimate_drg(291, 2026, Hospital(wage_index="1.0"), discharge_status=2, los=1).explain())
    assert "labor part = 4186.62 x wage index 1.0 = 4186.62" in text
    assert "operating DRG payment = 1.2838 x 6752.61 = 8669.00" in text
    assert "transfer fraction = 2 / 3.8 = 0.5263" in text
    assert "total = 4562.49 + 354.15 + 0.00 = 4916.64" in text


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
