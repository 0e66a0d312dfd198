"""Write tests/data/hospital_export.csv: CMS-labelled claims (../shared/oracle, v43.1 realistic
claims) in the shape of a hospital's billing export, as Excel saves "CSV UTF-8":

* a byte-order mark, header names of a UB-04/837I-style export ("Claim ID", "Admit Date",
  "Discharge Date", "Patient Status", DX1..DX25, POA1..POA25, PX1..PX25, "Billed DRG",
  "Total Charges", "Paid Amount");
* diagnosis codes written with a dot (I50.22), dates as MM/DD/YYYY, status as "01", charges
  as "$12,345.00";
* a paid amount on every third claim (35 % of the charges: a remittance, not an estimate);
* the billed DRG is CMS's final DRG, except on every fifth claim, billed one DRG off
  (the CC/MCC sibling) as an upcoded or undercoded claim would be.

tests/data/hospital_export_expected.json keeps CMS's own labels of these claims (final DRG,
MDC, return code), so that the test checks this library against CMS, not against itself.

    python tests/make_hospital_export.py
"""
import csv
import datetime as dt
import gzip
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT.parent / "shared" / "oracle" / "v431_dev.jsonl.gz"
OUT = ROOT / "tests" / "data" / "hospital_export.csv"
EXPECTED = ROOT / "tests" / "data" / "hospital_export_expected.json"
N = 30


def dotted(code: str) -> str:
    return code[:3] + "." + code[3:] if len(code) > 3 else code


def pick(claims):
    """Surgical and medical claims, several discharge statuses, DRG 321 (PCI with a stent) included."""
    real = sorted((c for c in claims if "-real-" in c["id"] and c["expected"]["return_code"] == "OK"
                   and len(c["sdx"]) <= 24 and len(c["procedures"]) <= 25 and c["pdx"]), key=lambda c: c["id"])
    chosen = [next(c for c in real if c["expected"]["final_drg"] == 321)]
    surgical = [c for c in real if c["expected"]["final_med_surg"] == "SURGICAL" and c not in chosen]
    medical = [c for c in real if c["expected"]["final_med_surg"] != "SURGICAL"]
    chosen += surgical[:11]
    for status in (1, 6, 3, 2, 20, 62, 50):
        chosen += [c for c in medical if c["discharge_status"] == status][:3 if status in (1, 6) else 2]
    return chosen[:N]


def main():
    with gzip.open(ORACLE, "rt", encoding="utf-8") as f:
        claims = [json.loads(line) for line in f]
    chosen = pick(claims)
    header = (["Claim ID", "Admit Date", "Discharge Date", "Sex", "Age", "Patient Status"]
              + [f"DX{n}" for n in range(1, 26)] + [f"POA{n}" for n in range(1, 26)]
              + [f"PX{n}" for n in range(1, 26)] + ["Billed DRG", "Total Charges", "Paid Amount"])
    expected = {}
    rows = []
    for k, c in enumerate(chosen):
        e = c["expected"]
        discharge = dt.date(2026, 4, 1) + dt.timedelta(days=5 * k)          # v43.1 is in force
        los = 1 + k % 6
        admit = discharge - dt.timedelta(days=los)
        dx = [c["pdx"]] + [s[0] for s in c["sdx"]]
        poa = [c.get("pdx_poa") or "Y"] + [s[1] or "" for s in c["sdx"]]
        px = list(c["procedures"])
        billed = e["final_drg"]
        if k % 5 == 4:                  # billed one DRG off: the sibling with more or less severity
            billed = billed - 1 if billed % 3 != 1 else billed + 1
        charges = 250_000 if k == 7 else 18_000 + 1_000 * k
        paid = f"${charges * 0.35:,.2f}" if k % 3 == 0 else ""          # a remittance: not an estimate of ours
        rows.append([c["id"], admit.strftime("%m/%d/%Y"), discharge.strftime("%m/%d/%Y"), c["sex"], c.get("age", ""),
                     f"{c['discharge_status']:02d}"]
                    + [dotted(x) for x in dx] + [""] * (25 - len(dx))
                    + poa + [""] * (25 - len(poa))
                    + px + [""] * (25 - len(px))
                    + [str(billed), f"${charges:,.2f}", paid])
        expected[c["id"]] = {"final_drg": e["final_drg"], "final_mdc": e["final_mdc"],
                             "return_code": e["return_code"], "billed_drg": billed,
                             "discharge_date": discharge.isoformat(), "admission_date": admit.isoformat(),
                             "charges": charges, "paid_amount": round(charges * 0.35, 2) if paid else None}
    with open(OUT, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    EXPECTED.write_text(json.dumps(expected, indent=1) + "\n")        # in file order
    print(f"wrote {OUT} ({len(rows)} claims) and {EXPECTED}")


if __name__ == "__main__":
    main()
