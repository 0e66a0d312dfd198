"""The msdrg script of the end-to-end rows: read a JSON-lines file of claims, group each
claim with msdrg, write the results -- the same job as ``python -m grouper group``.

    PEERS_PYTHON benchmarks/peer_msdrg_e2e.py CLAIMS.jsonl OUT.csv     # claim-level CSV
    PEERS_PYTHON benchmarks/peer_msdrg_e2e.py CLAIMS.jsonl OUT.jsonl   # msdrg's full JSON per claim

Each claim is read with ``json.loads``, mapped to msdrg's input the way ``peer_msdrg.py`` maps it
(the same mapping as the throughput rows), grouped with ``MsdrgGrouper().group``; the CSV gets
the claim-level fields (id, version, DRGs, MDCs, return code, severities, HAC status,
description), the JSON lines msdrg's whole result (its per-code ``pdx_output``,
``sdx_output``, ``proc_output`` flags included) with the claim's id.  Timed from process
start (the caller measures the whole process).
"""
from __future__ import annotations

import csv
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

FIELDS = ["id", "version", "initial_drg", "initial_mdc", "final_drg", "final_mdc", "return_code",
          "initial_severity", "final_severity", "hac_status", "final_drg_description"]


def main(src: str, dst: str) -> int:
    import msdrg
    from peer_msdrg import convert
    g = msdrg.MsdrgGrouper()
    n = 0
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8", newline="") as out:
        if dst.endswith(".csv"):
            w = csv.writer(out)
            w.writerow(FIELDS)
            for line in f:
                c = json.loads(line)
                r = g.group(convert(c))
                w.writerow([c.get("id"), c.get("version"), r["initial_drg"], r["initial_mdc"], r["final_drg"],
                            r["final_mdc"], r["return_code"], r["initial_severity"], r["final_severity"],
                            r["grouper_flags"]["hac_status_value"], r["final_drg_description"]])
                n += 1
        else:
            for line in f:
                c = json.loads(line)
                r = g.group(convert(c))
                r["id"] = c.get("id")
                out.write(json.dumps(r) + "\n")
                n += 1
    print(n, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
