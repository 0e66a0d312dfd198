"""Adapter: msdrg's MCE (``msdrg.MceEditor``), run with the peers' interpreter.

    .peers/venv/bin/python benchmarks/peer_msdrg_mce.py CLAIMS.jsonl OUT.jsonl

One output line per claim: ``{"edit_type", "edits": {name: count}}`` (msdrg reports counts
only).  Mapping from the labelled-claims schema: ``discharge_date`` -> YYYYMMDD integer;
``sex`` M/F/U -> 0/1/2; ``age`` and ``discharge_status`` as integers; codes as
``{"code": ...}``.  msdrg 1.2.0 takes no length of stay (``los`` is not passed).
"""
import json
import sys

SEX = {"M": 0, "F": 1}


def convert(c: dict) -> dict:
    x = {"discharge_date": int(c["discharge_date"].replace("-", "")), "age": c["age"],
         "sex": SEX.get(c.get("sex"), 2), "discharge_status": c["discharge_status"],
         "pdx": {"code": c["pdx"]}, "sdx": [{"code": s[0]} for s in c.get("sdx") or ()],
         "procedures": [{"code": p} for p in c.get("procedures") or ()]}
    if c.get("admit_dx"):
        x["admit_dx"] = {"code": c["admit_dx"]}
    return x


def main(src: str, dst: str) -> int:
    import msdrg
    with open(src) as f:
        claims = [json.loads(line) for line in f if line.strip()]
    with msdrg.MceEditor() as mce, open(dst, "w") as out:
        for c in claims:
            r = mce.edit(convert(c))
            out.write(json.dumps({"edit_type": r["edit_type"],
                                  "edits": {e["name"]: e["count"] for e in r["edits"]}}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
