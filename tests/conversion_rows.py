"""Test helpers: the code conversion tables' own rows and the grouper tables' code validity,
from which the conversion tests pick their cases (never a code written by hand)."""
from grouper.tables import default


def rows(kind):
    """(new, effective YYYYMMDD, old) rows of conversions.tbl for 'dx' or 'pr'."""
    arrays, _ = default().read("conversions.tbl")
    return list(zip(arrays[f"{kind}_new"].astype(str).tolist(), arrays[f"{kind}_effective"].tolist(),
                    arrays[f"{kind}_old"].astype(str).tolist()))


def valid(kind, version, code):
    """The code is valid in grouper ``version`` (per the grouper tables)."""
    ts = default()
    i = (ts.dx_index if kind == "dx" else ts.pr_index).get(code)
    vt = ts.version(version)
    return i is not None and (vt.dx_mdc if kind == "dx" else vt.pr_attr)[i] >= 0


def _by_old_and_new(kind, effective):
    rs = [r for r in rows(kind) if r[1] == effective]
    news_of, olds_of = {}, {}
    for new, _, old in rs:
        news_of.setdefault(old, set()).add(new)
        olds_of.setdefault(new, set()).add(old)
    return rs, news_of, olds_of


def one_to_one_deleted_in_fy2025(kind):
    """A row of the table effective 2024-10-01 (FY2025) whose old code is valid in v41.1 and
    not in v42.0, replaced by that one new code alone, which took over that one old code."""
    rs, news_of, olds_of = _by_old_and_new(kind, 20241001)
    for new, _, old in rs:
        if news_of[old] == {new} and olds_of[new] == {old} and valid(kind, 411, old) \
                and not valid(kind, 420, old) and valid(kind, 420, new) and not valid(kind, 411, new):
            return old, new
    raise AssertionError(f"no one-to-one {kind} deletion in FY2025 in the conversion tables")


def split_in_fy2026(kind):
    """A code valid in v42.1 and in no later version, which the rows effective 2025-10-01
    (FY2026) split into several new codes valid in v44.0 (and not in v42.1): (old, news)."""
    rs, news_of, _ = _by_old_and_new(kind, 20251001)
    for old, news in sorted(news_of.items()):
        if len(news) > 1 and valid(kind, 421, old) and not any(valid(kind, v, old) for v in (430, 431, 440)) \
                and all(valid(kind, 440, n) and not valid(kind, 421, n) for n in news):
            return old, tuple(sorted(news))
    raise AssertionError(f"no {kind} code split in FY2026 in the conversion tables")
