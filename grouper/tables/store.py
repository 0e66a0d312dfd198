"""Loading compiled tables: lazily, once per version, checked against the manifest.

Each ``*.tbl`` file is verified against the sha256 in ``MANIFEST.json`` when it
is first read; a changed or truncated file raises :class:`TableIntegrityError`
naming the file, never a wrong DRG.
"""
from __future__ import annotations

import os
import threading
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from . import container
from .files import read_checked, read_manifest
from .versions import VersionError, label, parse_date, parse_version

if TYPE_CHECKING:
    import datetime as _dt
    from pathlib import Path


class TableIntegrityError(RuntimeError):
    """A compiled table file is missing, changed or truncated (checked against MANIFEST.json)."""


def default_tables_dir() -> Path:
    """``$GROUPER_TABLES``; else the tables shipped in the installed package (``grouper/_tables``,
    see setup.py); else the ``tables/`` folder of a source checkout (editable installs, tests)."""
    from pathlib import Path
    return Path(default_tables_path())


def default_tables_path() -> str:
    """:func:`default_tables_dir` as text (``os.path`` only: grouping a claim never imports
    ``pathlib``)."""
    env = os.environ.get("GROUPER_TABLES")
    if env:
        return env
    package = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))     # .../grouper
    checkout = os.path.join(os.path.dirname(package), "tables")
    for cand in (os.path.join(package, "_tables"), checkout):
        if os.path.exists(os.path.join(cand, "MANIFEST.json")):
            return cand
    return checkout


_PLAIN_KEY = (int, str, type(None))
# header members looked up by code or pattern number: decoded a member at a time
# (container.JsonObject); one claim reads a few of their thousands of entries
_BY_CODE = frozenset({"hac_codes", "dx_patterns", "pr_patterns"})


class TableSet:
    """All compiled tables in one folder.  Files are read on first use and cached."""

    def __init__(self, directory: str | os.PathLike | None = None):
        # the folder as text; :attr:`dir` is it as a Path (made when asked for)
        self.root: str = os.fspath(directory) if directory is not None else default_tables_path()
        self._lock = threading.Lock()
        self._files: dict[str, tuple[dict, dict]] = {}
        self._versions: dict[int, VersionTables] = {}
        self._weights: dict[int, FiscalYearWeights] = {}
        self._derived: dict = {}
        self._resolved: dict = {}       # (version, discharge date) as given -> version

    def cached(self, key, factory):
        """A value derived from these tables (e.g. compiled formulas), built once per key."""
        got = self._derived.get(key)
        if got is None:
            value = factory()
            with self._lock:
                got = self._derived.setdefault(key, value)
        return got

    @cached_property
    def dir(self) -> Path:
        """The tables' folder."""
        from pathlib import Path
        return Path(self.root)

    # -- manifest and raw files ------------------------------------------------
    @cached_property
    def manifest(self) -> dict:
        return read_manifest(self.root, TableIntegrityError,
                             f"compiled tables here; build them with "
                             f"'python -m grouper.tables build msdrg_combined.bin fy*.tsv --out {self.root}'")

    def read(self, name: str) -> tuple[dict, dict]:
        got = self._files.get(name)
        if got is not None:
            return got
        with self._lock:
            got = self._files.get(name)
            if got is None:
                got = self._files[name] = self._read_checked(name)
        return got

    def _read_checked(self, name: str):
        data = self._read_bytes(name)
        try:
            return container.loads(data, os.path.join(self.root, name), _BY_CODE)
        except container.ContainerError as exc:
            raise TableIntegrityError(str(exc)) from None

    def _read_bytes(self, name: str) -> bytes:
        return read_checked(self.root, self.manifest, name, TableIntegrityError, "python -m grouper.tables build")

    # -- versions ---------------------------------------------------------------
    @cached_property
    def versions(self) -> tuple[int, ...]:
        return tuple(v["version"] for v in self.manifest["versions"])

    @cached_property
    def version_ranges(self) -> dict[int, tuple[_dt.date, _dt.date]]:
        import datetime as _dt
        return {v["version"]: (_dt.date.fromisoformat(v["effective_from"]),
                               _dt.date.fromisoformat(v["effective_to"]))
                for v in self.manifest["versions"]}

    def resolve(self, version=None, discharge_date=None) -> int:
        """The grouper version to use: explicit, or the one in force on the discharge date."""
        plain = type(version) in _PLAIN_KEY and type(discharge_date) in _PLAIN_KEY
        if plain:
            got = self._resolved.get((version, discharge_date))
            if got is not None:
                return got
        v = self._resolve(version, discharge_date)
        if plain and len(self._resolved) < 10_000:
            self._resolved[(version, discharge_date)] = v
        return v

    def _resolve(self, version, discharge_date) -> int:
        if version is not None:
            v = parse_version(version)
            if v not in self.versions:
                raise VersionError(
                    f"grouper version {version!r} is not in the compiled tables (have "
                    f"{', '.join(label(x) for x in self.versions)}); import a newer CMS release with "
                    f"'python -m grouper.tables build msdrg-binary-access-*.jar …'")
            return v
        if discharge_date is None:
            raise VersionError("give a grouper version or a discharge date")
        d = parse_date(discharge_date)
        for v, (start, end) in self.version_ranges.items():
            if start <= d <= end:
                return v
        first = min(s for s, _ in self.version_ranges.values())
        last = max(e for _, e in self.version_ranges.values())
        raise VersionError(
            f"discharge date {d.isoformat()} is outside the compiled tables' range "
            f"{first.isoformat()} .. {last.isoformat()}; import the CMS release in force on that date "
            f"with 'python -m grouper.tables build msdrg-binary-access-*.jar fyYYYY.tsv --out tables/'")

    def version(self, version=None, discharge_date=None) -> VersionTables:
        v = self.resolve(version, discharge_date)
        got = self._versions.get(v)
        if got is None:
            got = VersionTables(self, v)
            with self._lock:
                got = self._versions.setdefault(v, got)
        return got

    # -- weights ----------------------------------------------------------------
    @cached_property
    def fiscal_years(self) -> tuple[int, ...]:
        return tuple(f["fiscal_year"] for f in self.manifest.get("fiscal_years", []))

    def weights(self, fy: int) -> FiscalYearWeights:
        got = self._weights.get(fy)
        if got is None:
            if fy not in self.fiscal_years:
                raise VersionError(self.missing_weights_message(fy))
            got = FiscalYearWeights(*self.read(f"fy{fy}.tbl"))
            with self._lock:
                got = self._weights.setdefault(fy, got)
        return got

    def missing_weights_message(self, fy: int) -> str:
        """Why fiscal year ``fy`` has no relative weight, GMLOS or AMLOS here, and the command
        that imports its Table 5: these tables' own build command plus that year's file.  The
        one wording of the claim warning, the batch warning, the payment estimate and
        :meth:`weights`."""
        sources = self.manifest.get("sources", [])
        grouper = [s["file"].split("!")[0] for s in sources if "fiscal_year" not in s]
        years = [s["file"] for s in sources if "fiscal_year" in s and s["fiscal_year"] != fy]
        command = " ".join(["python -m grouper.tables build", *grouper, *years, f"fy{fy}.tsv", "--out tables/"])
        have = ", ".join(f"FY{x}" for x in self.fiscal_years) or "none"
        return (f"the compiled tables have no FY{fy} relative weights (IPPS Table 5; they have {have}); "
                f"import FY{fy}'s Table 5 with '{command}'")

    # -- code universe ---------------------------------------------------------
    # Two ways in: a code's id by binary search over the sorted code text (:meth:`dx_id`,
    # :meth:`pr_id`; what one claim needs, no object per code of the universe), and the
    # whole universe as a list and a dict (:attr:`dx_codes`, :attr:`dx_index`; what a batch
    # of many claims needs, built on first use).
    @cached_property
    def _code_universe(self) -> tuple[CodeIndex, CodeIndex]:
        data = self._read_bytes("codes.tbl")            # not kept here: the indexes hold the file's bytes
        try:
            at = container.spans(data, os.path.join(self.root, "codes.tbl"))
        except container.ContainerError as exc:
            raise TableIntegrityError(str(exc)) from None
        return CodeIndex(data, *at["dx_text"]), CodeIndex(data, *at["pr_text"])

    @property
    def dx_codes(self) -> list[str]:
        return self._code_universe[0].codes

    @property
    def pr_codes(self) -> list[str]:
        return self._code_universe[1].codes

    @property
    def dx_index(self) -> dict[str, int]:
        return self._code_universe[0].index()

    @property
    def pr_index(self) -> dict[str, int]:
        return self._code_universe[1].index()

    @property
    def n_dx(self) -> int:
        """Number of diagnosis codes in the code universe (ids are 0 .. n_dx - 1)."""
        return len(self._code_universe[0])

    @property
    def n_pr(self) -> int:
        return len(self._code_universe[1])

    def dx_id(self, code: str) -> int | None:
        """Id of a diagnosis code (exactly as spelled) in the code universe; None if in no version."""
        return self._code_universe[0].find(code)

    def pr_id(self, code: str) -> int | None:
        """Id of a procedure code (exactly as spelled) in the code universe; None if in no version."""
        return self._code_universe[1].find(code)

    def dx_code(self, i: int) -> str:
        """The diagnosis code of an id."""
        return self._code_universe[0].code(i)

    def pr_code(self, i: int) -> str:
        return self._code_universe[1].code(i)

    @cached_property
    def dx_codes_array(self):
        """Sorted fixed-width codes, for ``numpy.searchsorted`` interning of batches."""
        import numpy as np
        return np.array(self.dx_codes, dtype="S7")

    @cached_property
    def pr_codes_array(self):
        import numpy as np
        return np.array(self.pr_codes, dtype="S7")

    def versions_with_code(self, kind: str, code: str) -> tuple[int, ...]:
        """Versions in which a diagnosis ('dx') or procedure ('pr') code is valid."""
        i = self.dx_id(code) if kind == "dx" else self.pr_id(code)
        if i is None:
            return ()
        out = []
        for v in self.versions:
            vt = self.version(v)
            arr = vt.dx_mdc if kind == "dx" else vt.pr_attr
            if arr[i] >= 0:
                out.append(v)
        return tuple(out)

    # -- unversioned tables -----------------------------------------------------
    @cached_property
    def _common(self):
        return self.read("common.tbl")

    @cached_property
    def dx_patterns(self) -> Mapping[int, tuple[str, ...]]:
        """Attribute pattern number -> the attribute names of a diagnosis pattern."""
        return _Patterns(self._common[1]["dx_patterns"])

    @cached_property
    def pr_patterns(self) -> Mapping[int, tuple[str, ...]]:
        """Attribute pattern number -> the attribute names of a procedure pattern."""
        return _Patterns(self._common[1]["pr_patterns"])

    @property
    def ccx_off(self):
        """Start of each CC-exclusion list in :attr:`ccx_dx` (list ``k``: ``ccx_dx[ccx_off[k]:ccx_off[k+1]]``)."""
        return self._common[0]["ccx_off"]

    @property
    def ccx_dx(self):
        """The diagnosis ids of every CC-exclusion list, each list sorted."""
        return self._common[0]["ccx_dx"]

    def excludes(self, number: int, dx_id: int) -> bool:
        """Whether CC-exclusion list ``number`` holds the diagnosis ``dx_id`` (binary search)."""
        off, dx, n = self._ccx
        if not 0 <= number < n:
            return False
        hi = off[number + 1]
        k = bisect_left(dx, dx_id, off[number], hi)
        return k < hi and dx[k] == dx_id

    @cached_property
    def _ccx(self) -> tuple:
        """(:attr:`ccx_off`, :attr:`ccx_dx`, the number of lists): what :meth:`excludes` reads
        for every secondary diagnosis, at hand."""
        return self.ccx_off, self.ccx_dx, len(self.ccx_off) - 1

    @cached_property
    def exclusion_keys(self) -> frozenset[int]:
        """{list number * n_dx + dx id}: every (exclusion list, excluded code) pair."""
        return frozenset(self.exclusion_keys_sorted.tolist())

    @cached_property
    def exclusion_keys_sorted(self):
        """:attr:`exclusion_keys` as a sorted numpy array (the batch path's look-up)."""
        import numpy as np
        off, dx = container.as_numpy(self.ccx_off), container.as_numpy(self.ccx_dx)
        n = self.n_dx
        lists = np.repeat(np.arange(len(off) - 1, dtype=np.int64), np.diff(off))
        return np.sort(lists * n + dx)

    def exclusion_list(self, number: int) -> list[str]:
        off = self.ccx_off
        if not 0 < number <= len(off) - 2:
            return []
        return [self.dx_code(i) for i in self.ccx_dx[off[number]:off[number + 1]]]


class _Patterns(Mapping):
    """Pattern number -> attribute names (a tuple), from the header's object keyed by the
    number as text: each pattern read when first asked for (a plain dict of all of them is
    built on iteration)."""

    def __init__(self, members: Mapping[str, list]):
        self._members = members
        self._got: dict[int, tuple[str, ...]] = {}
        self._all: dict[int, tuple[str, ...]] | None = None

    def _every(self) -> dict[int, tuple[str, ...]]:
        if self._all is None:
            self._all = {int(k): tuple(v) for k, v in self._members.items()}
        return self._all

    def __getitem__(self, number):
        got = self._got.get(number) if type(number) is int else None
        if got is None:
            if self._all is not None or type(number) is not int:
                return self._every()[number]
            got = self._got[number] = tuple(self._members[str(number)])
        return got

    def __iter__(self):
        return iter(self._every())

    def __len__(self) -> int:
        return len(self._every())


class CodeIndex:
    """A sorted code universe kept as its newline-separated text: a code's id by binary
    search over the bytes themselves, with no object per code (which one claim does not
    need: splitting 150,000 codes costs a new process milliseconds and megabytes).  A search
    costs a few microseconds more than a dict's look-up, so after ``SEARCHES`` searches (a
    process that groups many claims) a dict of every code is built once and used instead;
    ``raw`` (bytes per code) and ``codes`` (text) are built on first use, for the batch path
    and for id -> code.  The text is ``data[start:end]``, searched where it lies (the table
    file as read: no copy)."""

    SEARCHES = 1_000
    BLOCK_BITS = 12

    def __init__(self, data: bytes, start: int = 0, end: int | None = None):
        self.data, self.start, self.end = data, start, len(data) if end is None else end
        self.searches = 0
        self._index: dict | None = None

    @property
    def text(self) -> bytes:
        """The codes, one a line."""
        return self.data[self.start:self.end]

    def __len__(self) -> int:
        return self.n

    @cached_property
    def n(self) -> int:
        """The number of codes (counted with the blocks' newlines: one pass over the text)."""
        return self._blocks[1] + 1

    @property
    def _newlines_before_block(self) -> list[int]:
        """Newlines before each block of 2 ** BLOCK_BITS bytes of the text: a code's id counts
        only the newlines of its own block (counting from the start costs ~0.1 ms per code)."""
        return self._blocks[0]

    @cached_property
    def _blocks(self) -> tuple[list[int], int]:
        t, size, end = self.data, 1 << self.BLOCK_BITS, self.end
        out, n = [], 0
        for start in range(self.start, end + 1, size):
            out.append(n)
            n += t.count(b"\n", start, min(start + size, end))
        return out, n

    @cached_property
    def raw(self) -> list[bytes]:
        return self.text.split(b"\n")

    def code(self, i: int) -> str:
        return self.raw[i].decode("ascii")

    @cached_property
    def codes(self) -> list[str]:
        return self.text.decode("ascii").split("\n")

    def index(self) -> dict[str, int]:
        """code -> id for every code (built on first call)."""
        if self._index is None:
            self._index = {c: i for i, c in enumerate(self.codes)}
        return self._index

    def find(self, code) -> int | None:
        if self._index is not None:
            return self._index.get(code)
        self.searches += 1
        if self.searches > self.SEARCHES:
            return self.index().get(code)
        if type(code) is not str or not code.isascii():
            return None
        key = code.encode("ascii")
        t, first, end = self.data, self.start, self.end
        # lo, hi: line starts (hi may be one past the end); the code, if present, starts in [lo, hi)
        lo, hi = first, end + 1
        while lo < hi:
            s = t.rfind(b"\n", lo, (lo + hi) // 2) + 1 or lo    # start of the line holding the middle
            e = t.find(b"\n", s, end)
            if e < 0:
                e = end
            line = t[s:e]
            if line == key:                       # its id: the newlines before it
                b = (s - first) >> self.BLOCK_BITS
                return self._newlines_before_block[b] + t.count(b"\n", first + (b << self.BLOCK_BITS), s)
            if line < key:
                lo = e + 1
            else:
                hi = s
        return None


class FiscalYearWeights:
    """Table 5 of one fiscal year: weight, GMLOS, AMLOS and flags by DRG."""

    def __init__(self, arrays: dict, meta: dict):
        self.fy: int = meta["fy"]
        self.source: str = meta["source"]
        self.has_flags: bool = meta["has_flags"]
        self.titles: dict[str, str] = meta["titles"]
        self.weight = arrays["weight"]
        self.gmlos = arrays["gmlos"]
        self.amlos = arrays["amlos"]
        self.listed = arrays["listed"]
        self.post_acute = arrays["post_acute"]
        self.special_pay = arrays["special_pay"]
        # per-DRG (weight, gmlos, amlos) as Python floats, None where Table 5 has none
        self.figures: Sequence[tuple | None] = _Figures(self)

    def numpy(self, name: str):
        """One of the arrays (weight, gmlos, amlos, listed, post_acute, special_pay) as numpy."""
        return container.as_numpy(getattr(self, name))


class _Figures(Sequence):
    """DRG -> (weight, GMLOS, AMLOS) as Python floats (None for a figure Table 5 leaves
    blank), or None for a DRG Table 5 does not list; read from the arrays when asked for
    (one claim needs one DRG's, not a list of all 1,000)."""

    def __init__(self, w: FiscalYearWeights):
        self._w = w

    def __len__(self) -> int:
        return len(self._w.weight)

    def __getitem__(self, d):
        if isinstance(d, slice):
            return [self[i] for i in range(*d.indices(len(self)))]
        w = self._w
        if not w.listed[d]:
            return None
        return tuple(None if x != x else float(x) for x in (w.weight[d], w.gmlos[d], w.amlos[d]))   # x != x: NaN


class VersionTables:
    """The tables of one grouper version (arrays indexed by global code ids)."""

    def __init__(self, tables: TableSet, version: int):
        self.tables = tables
        self.version = version
        self.label = label(version)
        arrays, meta = tables.read(f"v{version}.tbl")
        self.arrays = arrays
        self.meta = meta
        for name, arr in arrays.items():
            setattr(self, name, arr)
        self.formulas: dict[int, list[dict]] = {int(k): v for k, v in meta["formulas"].items()}
        self.hac_formulas: dict[int, str] = {int(k): v for k, v in meta["hac_formulas"].items()}
        self.hac_codes: dict[str, list] = meta["hac_codes"]
        entry = next(v for v in tables.manifest["versions"] if v["version"] == version)
        self.fiscal_year: int = entry["fiscal_year"]
        self._entry = entry

    def __repr__(self):
        return f"<VersionTables v{self.label} FY{self.fiscal_year}>"

    @cached_property
    def effective_from(self) -> _dt.date:
        """The first discharge date the version is in force for."""
        import datetime as _dt
        return _dt.date.fromisoformat(self._entry["effective_from"])

    @cached_property
    def effective_to(self) -> _dt.date:
        import datetime as _dt
        return _dt.date.fromisoformat(self._entry["effective_to"])

    @cached_property
    def drg_titles(self) -> dict[int, str]:
        return {int(k): v for k, v in self.meta["titles"]["drg"].items()}

    @cached_property
    def mdc_titles(self) -> dict[int, str]:
        return {int(k): v for k, v in self.meta["titles"]["mdc"].items()}

    @cached_property
    def hac_titles(self) -> dict[int, str]:
        return {int(k): v for k, v in self.meta["titles"]["hac"].items()}

    def numpy(self, name: str):
        """One of the per-code arrays (``dx_mdc``, ``pr_attr`` ...) as a numpy array (zero copy)."""
        return container.as_numpy(self.arrays[name])

    @cached_property
    def gender_mdc(self) -> dict[int, tuple[int, int]]:
        """dx id -> (MDC if male, MDC if female) for the sex-dependent codes."""
        return {int(d): (int(m), int(f)) for d, m, f in zip(self.gd_dx, self.gd_male, self.gd_female)}

    @cached_property
    def drgs(self) -> frozenset[int]:
        return frozenset(r["drg"] for rows in self.formulas.values() for r in rows if r["drg"])

    @cached_property
    def drg_info(self) -> dict[int, dict]:
        """DRG -> first formula row naming it (base DRG, MDC, surgical)."""
        out: dict[int, dict] = {}
        for _, rows in sorted(self.formulas.items()):
            for r in rows:
                if r["drg"] and r["drg"] not in out:
                    out[r["drg"]] = r
        return out
