"""The command line's summary outputs, a chunk at a time: CSV rows, JSON-lines records and Arrow
tables (Parquet, Arrow IPC) built from the columns of a :class:`grouper.bulk.summary.SummaryChunk`,
and the run's counts.

Arrow / Parquet summary schema (``docs/columnar.md``): ``id`` (as in the input), ``line``
(int64: the input line, or row number from 1), ``version`` ("43.1"), the claim-level fields
(DRGs and MDCs int32, return codes, severities, medical/surgical and HAC status as text,
weights float64), ``final_drg_description``, ``error_code``, ``error_message``,
``error_field`` (null on grouped rows; the result fields are null on error rows), ``warnings``
as ``list<struct<code, field, value, message>>`` (``value`` as text), then the kept input
columns.
"""
from __future__ import annotations

import numpy as np

CSV_FIELDS = ["id", "line", "version", "initial_drg", "initial_mdc", "final_drg", "final_mdc", "return_code",
              "initial_severity", "final_severity", "hac_status", "final_drg_description", "weight", "gmlos",
              "amlos", "error_code", "error", "warnings"]


def version_label(v: int) -> str:
    """The one spelling of a grouper version in every output: 431 -> '43.1'."""
    return f"{v // 10}.{v % 10}"


def warning_text(w: dict) -> str:
    """A warning in a CSV cell: its code, field and value, e.g. ``CODE_DOTTED pdx=I50.22``."""
    v = w.get("value")
    return f"{w['code']} {w['field']}={'' if v is None else v}"


def _labels(versions: np.ndarray, ok: np.ndarray) -> list:
    """Each row's version label (None on error rows), labelled once per distinct version."""
    uniq, inv = np.unique(versions, return_inverse=True)
    lut = np.array([version_label(v) for v in uniq.tolist()] + [None], dtype=object)
    inv = inv.ravel()
    if not ok.all():
        inv[~ok] = len(uniq)
    return lut[inv].tolist()


def _column(chunk, name: str, ok: np.ndarray) -> list:
    a = getattr(chunk.result, name)
    if a.dtype.kind == "f":
        return _floats(a, ok)
    vals = a.tolist()
    if not ok.all():
        vals = [x if good else None for x, good in zip(vals, ok.tolist())]
    return vals


def _floats(a: np.ndarray, ok: np.ndarray) -> list:
    """A float column as the CSV writer writes each value (``str``; NaN and error rows: None),
    formatted once per distinct value."""
    zero = a == 0
    if zero.any() and np.signbit(a[zero]).any():          # -0.0 and 0.0 are one value to unique
        vals = [None if x != x else x for x in a.tolist()]
        return vals if ok.all() else [x if good else None for x, good in zip(vals, ok.tolist())]
    uniq, inv = np.unique(a, return_inverse=True)
    lut = np.array([None if x != x else str(x) for x in uniq.tolist()] + [None], dtype=object)
    inv = inv.ravel()
    if not ok.all():
        inv[~ok] = len(uniq)
    return lut[inv].tolist()


def _ok(chunk) -> np.ndarray:
    return ~chunk.bad


def kept_columns(chunk, names: list[str]) -> list[list]:
    """The kept input columns' values per row (None where a row has none)."""
    table = getattr(chunk, "kept_table", None)
    if table is not None:
        return [table.column(name).to_pylist() for name in names]
    kept = chunk.kept or [None] * chunk.n
    return [[(k or {}).get(name) for k in kept] for name in names]


def csv_rows(chunk, kept_names=()) -> list[tuple]:
    """The rows of a chunk in CSV_FIELDS order, then the kept input columns."""
    ok = _ok(chunk)
    cols = [chunk.id, chunk.line, _labels(chunk.result.version, ok)]
    for f in CSV_FIELDS[3:15]:
        cols.append(_column(chunk, f, ok))
    errs, n = chunk.errors, chunk.n
    codes, messages, texts = [""] * n, [""] * n, [""] * n
    for i in np.flatnonzero(~ok).tolist():
        codes[i], messages[i] = errs[i]["code"], errs[i]["message"]
    ws_all = chunk.warnings
    for i in np.flatnonzero(np.fromiter(map(bool, ws_all), dtype=bool, count=n)).tolist():
        texts[i] = "; ".join(warning_text(w.to_dict()) for w in ws_all[i])
    cols += [codes, messages, texts]
    cols.extend(kept_columns(chunk, kept_names))
    return list(zip(*cols))


def json_records(chunk, kept_fields=None) -> list[dict]:
    """The rows of a chunk as JSON-lines records (the version as its label, kept columns last)."""
    out = chunk.records()
    for rec in out:
        if isinstance(rec.get("version"), int):
            rec["version"] = version_label(rec["version"])
    if kept_fields is not None:
        table = getattr(chunk, "kept_table", None)
        kept = table.to_pylist() if table is not None else chunk.kept
        for rec, k in zip(out, kept or ()):
            if k:
                rec.update(kept_fields(k))
    return out


def arrow_table(chunk, kept_names=()):
    """The rows of a chunk as an Arrow table (schema: the module docstring); kept columns as the
    input had them when it was an Arrow table, else from the rows' kept values."""
    import pyarrow as pa

    from ..bulk.results import result_arrays, text_array
    lines = getattr(chunk, "line_array", None)
    cols = {"id": _id_array(chunk), "line": pa.array(chunk.line if lines is None else lines, pa.int64())}
    cols.update(result_arrays(chunk, warnings=True))
    input_table = getattr(chunk, "kept_table", None)
    if input_table is not None:
        for name in kept_names:
            cols[_free(name, cols)] = input_table.column(name)
    else:
        for name, vals in zip(kept_names, kept_columns(chunk, kept_names)):
            cols[_free(name, cols)] = text_array(vals)          # one type for every chunk
    return pa.table(cols)


def _free(name: str, taken) -> str:
    return f"input_{name}" if name in taken else name


def _id_array(chunk):
    from ..bulk.results import text_array
    if getattr(chunk, "id_array", None) is not None:      # an Arrow input's ids, as its file has them
        return chunk.id_array
    return text_array(chunk.id)                             # read from rows: text, one type for every chunk


def count(chunk, outcomes, warn_counts, stats) -> None:
    """Add a chunk's rows to the run's counts: outcome per row (return code or error), warnings
    by code, and the rows per warning and error code with the first example of each
    (:class:`grouper.cli.inputs.RunStats`, as its ``add`` counts a row).  The rows without error
    or warning are counted a column at a time."""
    bad = chunk.bad
    rc = chunk.result.return_code
    any_bad = bool(bad.any())
    coded = chunk.result.codes.get("return_code")
    if coded is None:
        outcomes.update((rc[~bad] if any_bad else rc).tolist())
    else:                      # counted by code: each code's text once (-1: the row's own text)
        codes, texts = coded
        own = (codes < 0) & ~bad if any_bad else codes < 0
        counted = np.bincount(codes[~(bad | own)], minlength=len(texts))
        for k in np.flatnonzero(counted).tolist():
            outcomes[texts[k]] += int(counted[k])
        outcomes.update(rc[own].tolist())
    ws_all, errs = chunk.warnings, chunk.errors
    warned = np.fromiter(map(bool, ws_all), dtype=bool, count=chunk.n)
    special = np.flatnonzero(bad | warned).tolist()
    stats.rows += chunk.n - len(special)
    codes: list = []           # every warning's code
    row_codes: list = []       # each row's distinct warning codes
    examples = stats.examples
    for i in special:                    # in row order: the first example of each code is kept
        err = errs[i]
        if err:
            outcomes["error:" + err["code"]] += 1
            stats.add({"error": err})
            continue
        stats.rows += 1
        ws = ws_all[i]
        if len(ws) == 1:
            c = ws[0].code
            codes.append(c)
            row_codes.append(c)
            if c not in examples:
                examples[c] = _example(ws[0])
            continue
        seen = {}
        for w in ws:
            c = w.code
            codes.append(c)
            if c not in seen:
                seen[c] = None
                if c not in examples:
                    examples[c] = _example(w)
        row_codes.extend(seen)
    warn_counts.update(codes)
    stats.warning_rows.update(row_codes)


def _example(w) -> str:
    """A warning as the run's summary quotes it (``field=value``; RunStats.add's spelling)."""
    v = w.to_dict()["value"]
    return f"{w.field}={'' if v is None else v}"
