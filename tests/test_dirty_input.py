"""A dirty 10,000-row extract through the command line: every row comes back, in order,
each corrupted row with the expected error or warning, each clean row grouped as alone.

The 20 corruptions (5% of the rows, 25 rows each):"""
import json
import random
import subprocess
import sys

import pytest

import grouper

from conftest import ROOT, SAMPLE, read_jsonl


def corruptions():
    """name -> (function(claim dict) -> JSON-lines text of the row, expected code)."""
    def js(c):
        return json.dumps(c)

    def upd(**kw):
        return lambda c: js({**c, **kw})

    return {
        "not JSON": (lambda c: js(c)[:-5], "UNREADABLE_ROW"),
        "JSON array, not object": (lambda c: json.dumps([c]), "UNREADABLE_ROW"),
        "no pdx field": (lambda c: js({k: v for k, v in c.items() if k != "pdx"}), "MISSING_PDX"),
        "pdx is a number": (upd(pdx=5022), "PDX_NOT_TEXT"),
        "no version nor date": (lambda c: js({k: v for k, v in c.items() if k != "version"}), "NO_VERSION"),
        "date outside the tables": (lambda c: js({**{k: v for k, v in c.items() if k != "version"},
                                                  "discharge_date": "2031-02-01"}), "DATE_OUT_OF_RANGE"),
        "date unreadable": (lambda c: js({**{k: v for k, v in c.items() if k != "version"},
                                          "discharge_date": "31/02/2026"}), "BAD_DATE"),
        "unknown version": (upd(version="38.0"), "UNKNOWN_VERSION"),
        "dotted pdx": (lambda c: js({**c, "pdx": c["pdx"][:3] + "." + c["pdx"][3:]}), "CODE_DOTTED"),
        "lower-case pdx": (lambda c: js({**c, "pdx": c["pdx"].lower()}), "CODE_LOWERCASE"),
        "padded pdx": (lambda c: js({**c, "pdx": " " + c["pdx"]}), "CODE_PADDED"),
        "code of another version": (lambda c: js({**c, "version": 400, "sdx": [["A4154", "Y"]] + c["sdx"]}),
                                    "CODE_OTHER_VERSION"),
        "garbage code": (lambda c: js({**c, "procedures": ["QQQ9999"] + c["procedures"]}), "CODE_UNKNOWN"),
        "age 999": (upd(age=999), "INVALID_AGE"),
        "sex X": (upd(sex="X"), "INVALID_SEX"),
        "status as text '01'": (upd(discharge_status="01"), "DISCHARGE_STATUS_TEXT"),
        "status 99": (upd(discharge_status=99), "INVALID_DISCHARGE_STATUS"),
        "odd POA": (lambda c: js({**c, "sdx": [["E119", "Q"]] + c["sdx"]}), "INVALID_POA"),
        "30 secondary diagnoses": (lambda c: js({**c, "sdx": [["E119", "Y"]] + [["I10", "Y"]] * 29}),
                                   "TOO_MANY_SDX"),
        "non-UTF-8 bytes": (lambda c: js(c).replace(c["pdx"], "\udce9" + c["pdx"]), "UNREADABLE_ROW"),
    }


@pytest.fixture(scope="module")
def dirty_file(tmp_path_factory):
    rng = random.Random(20261129)
    pool = [{k: v for k, v in c.items() if k not in ("expected", "scenario")} for c in read_jsonl(SAMPLE)
            if c["scenario"] in ("realistic", "targeted") and c["expected"]["return_code"] == "OK"
            and c["pdx"] and isinstance(c["pdx"], str) and len(c["pdx"]) >= 4]
    rows, kinds = [], []
    names = list(corruptions())
    corrupt_at = set(rng.sample(range(10_000), 500))
    k = 0
    for i in range(10_000):
        c = dict(rng.choice(pool))
        c["id"] = f"row{i}"
        c.setdefault("age", 70)
        c.setdefault("sex", "F")
        c["discharge_status"] = c.get("discharge_status") or 1
        if i in corrupt_at:
            name = names[k % len(names)]
            k += 1
            fn, code = corruptions()[name]
            rows.append(fn(c))
            kinds.append((name, code, c))
        else:
            rows.append(json.dumps(c))
            kinds.append((None, None, c))
    path = tmp_path_factory.mktemp("dirty") / "claims.jsonl"
    with open(path, "wb") as f:
        for r in rows:
            f.write(r.encode("utf-8", "surrogateescape") + b"\n")
    return path, kinds


@pytest.mark.parametrize("detail", ["full", "summary"])
def test_every_row_comes_back_with_its_reason(dirty_file, tmp_path, detail):
    path, kinds = dirty_file
    out = tmp_path / "out.jsonl"
    r = subprocess.run([sys.executable, "-m", "grouper", "group", str(path), "-o", str(out), "--detail", detail],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 1, r.stderr          # some rows could not be grouped
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(got) == 10_000
    assert [g["line"] for g in got] == list(range(1, 10_001))
    assert "UNREADABLE_ROW" in r.stderr and "CODE_DOTTED" in r.stderr     # the summary
    counts = {}
    for g, (name, code, clean) in zip(got, kinds):
        if name is None:
            assert g["error"] is None
            alone = grouper.group(clean)
            assert g["final_drg"] == alone.final_drg and g["id"] == clean["id"]
            continue
        counts[name] = counts.get(name, 0) + 1
        if g.get("error"):
            assert g["error"]["code"] == code, (name, g)
        else:
            assert code in {w["code"] for w in g["warnings"]}, (name, g["warnings"])
    assert len(counts) == 20 and all(v == 25 for v in counts.values())
