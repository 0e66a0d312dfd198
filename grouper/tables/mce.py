"""The compiled Medicare Code Editor tables (``tables/mce/``): MCE releases, loaded lazily, once.

    >>> from grouper.tables.mce import mce_tables
    >>> t = mce_tables()
    >>> t.name, t.release, t.termination_date
    ('43.1', 431, 20260930)
    >>> sorted(t.dx_flag_names(t.dx_flags("O80", 20250101)))
    ['maternity']

An MCE release is a folder with ``mce.tbl`` and ``MANIFEST.json`` (built by
:mod:`grouper.tables.build.mce`, ``python -m grouper.tables build-mce``).  The default release
is the folder ``$GROUPER_MCE_TABLES``, else ``mce/`` inside the grouper tables folder (CMS's
MCE 2.0 release 43.1); every sub-folder of it with a manifest is an opt-in release, selected
by the name in its manifest (``mce_tables("fy2027")``: ``tables/mce/fy2027``).  Files are
checked against the manifest (size and sha256) when first read: a missing or damaged file
raises :class:`~grouper.tables.store.TableIntegrityError` naming it and the rebuild command.
"""
from __future__ import annotations

import json
import os
from functools import cache
from itertools import repeat
from pathlib import Path

from . import container
from .files import read_checked, read_manifest
from .store import TableIntegrityError, default_tables_dir
from .versions import VersionError, label, parse_version

FORMAT = "grouper-mce-1"
DATA_FILE = "mce.tbl"
REBUILD = "python -m grouper.tables build-mce mce.bin --out tables/mce"
INVALID = -1        # the attributes of a code not valid on the date
OPEN_END = 99991231


def default_mce_dir() -> Path:
    """``$GROUPER_MCE_TABLES``, else ``mce/`` inside the grouper tables folder."""
    env = os.environ.get("GROUPER_MCE_TABLES")
    return Path(env) if env else default_tables_dir() / "mce"


@cache
def _default_root(mce_env: str | None, tables_env: str | None) -> str:
    return str(default_mce_dir())


def _root(directory) -> str:
    """The MCE tables folder as text: ``directory``, else the default one (resolved once per
    value of the environment variables that choose it)."""
    if directory is not None:
        return str(directory)
    env = os.environ
    return _default_root(env.get("GROUPER_MCE_TABLES"), env.get("GROUPER_TABLES"))


def release_name(manifest: dict) -> str:
    """The name a release is selected by: its manifest's ``name``, else CMS's release number
    as a label (431 -> "43.1")."""
    name = manifest.get("name")
    if name:
        return str(name)
    release = manifest.get("release")
    return label(release) if release else "?"


class MceTables:
    """One compiled MCE release: code attributes by date, age groups, discharge statuses.

    Attribute sets are bit masks; :meth:`dx_bit` / :meth:`pr_bit` give the bit of a named
    attribute (0 when this release has no code with it)."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self.manifest = read_manifest(self.directory, TableIntegrityError, f"MCE tables; build them with '{REBUILD}'")
        data = read_checked(self.directory, self.manifest, DATA_FILE, TableIntegrityError, REBUILD)
        try:
            arrays, meta = container.loads(data, str(self.directory / DATA_FILE))
        except container.ContainerError as exc:
            raise TableIntegrityError(str(exc)) from None
        if self.manifest.get("format") != FORMAT:
            raise TableIntegrityError(f"{self.directory / 'MANIFEST.json'}: format {self.manifest.get('format')!r}, "
                                      f"this grouper reads {FORMAT!r}; rebuild with '{REBUILD}'")
        self.arrays = arrays
        self.meta = meta
        self.name: str = release_name(self.manifest)
        self.release: int | None = meta["release"]
        self.termination_date: int = meta["termination_date"]
        self.icd10_from: int = meta["icd10_from"]
        self.dx_names: tuple[str, ...] = tuple(meta["dx_flags"])
        self.pr_names: tuple[str, ...] = tuple(meta["pr_flags"])
        self.age_groups = tuple(tuple(g) for g in meta["age_groups"])     # (name, flag, age0, age1, start, end)
        self.statuses = tuple(tuple(s) for s in meta["discharge_statuses"])  # (code, start, end)
        self._age_rules = tuple((self.dx_bit(flag), a0, a1, start, end)
                                for _, flag, a0, a1, start, end in self.age_groups)
        self._status_periods: dict[int, list] = {}
        for code, start, end in self.statuses:
            self._status_periods.setdefault(code, []).append((start, end))
        self._dx_rows = None
        self._pr_rows = None
        self._index: dict = {}
        self._age_masks: dict = {}
        self._derived: dict = {}

    def __repr__(self) -> str:
        return f"MceTables({self.name!r}, {str(self.directory)!r})"

    def cached(self, key, factory):
        """A value derived from these tables (e.g. the rules' attribute bits), built once per key."""
        got = self._derived.get(key)
        if got is None:
            got = self._derived[key] = factory()
        return got

    # ------------------------------------------------------------ attributes

    def dx_bit(self, name: str) -> int:
        return 1 << self.dx_names.index(name) if name in self.dx_names else 0

    def pr_bit(self, name: str) -> int:
        return 1 << self.pr_names.index(name) if name in self.pr_names else 0

    def dx_flag_names(self, mask: int) -> tuple[str, ...]:
        return tuple(n for i, n in enumerate(self.dx_names) if mask >= 0 and mask >> i & 1)

    def pr_flag_names(self, mask: int) -> tuple[str, ...]:
        return tuple(n for i, n in enumerate(self.pr_names) if mask >= 0 and mask >> i & 1)

    # ------------------------------------------------------------- look-ups

    def _rows(self, prefix) -> dict:
        """code -> ((start, end, flags), ...), the code's periods in date order."""
        a = self.arrays
        codes = [c.decode("ascii") for c in a[f"{prefix}_code"].tolist()]
        first = a[f"{prefix}_first"].tolist()
        rows = list(zip(a[f"{prefix}_start"].tolist(), a[f"{prefix}_end"].tolist(), a[f"{prefix}_flags"].tolist()))
        return {c: tuple(rows[first[k]:first[k + 1]]) for k, c in enumerate(codes)}

    @property
    def dx_rows(self) -> dict:
        if self._dx_rows is None:
            self._dx_rows = self._rows("dx")
        return self._dx_rows

    @property
    def pr_rows(self) -> dict:
        if self._pr_rows is None:
            self._pr_rows = self._rows("pr")
        return self._pr_rows

    def dx_flags(self, code: str, date: int) -> int:
        """The attribute mask of a diagnosis code on a discharge date (``yyyymmdd``), or -1
        when the code (looked up as written, then upper-cased) is not valid on that date."""
        return code_flags(self.dx_rows, code, date)

    def pr_flags(self, code: str, date: int) -> int:
        """As :meth:`dx_flags`, for a procedure code."""
        return code_flags(self.pr_rows, code, date)

    def covers(self, date: int) -> bool:
        """Whether the release edits discharges of ``date`` (ICD-10, up to its termination date)."""
        return self.icd10_from <= date <= self.termination_date

    def age_conflict_mask(self, age: int, date: int) -> int:
        """The diagnosis attributes (age groups) that conflict with an age on a date: the
        groups in force on the date whose age range does not hold the age."""
        key = (age, date)
        got = self._age_masks.get(key)
        if got is None:
            got = 0
            for bit, a0, a1, start, end in self._age_rules:
                if start <= date <= end and not a0 <= age <= a1:
                    got |= bit
            if len(self._age_masks) < 65536:
                self._age_masks[key] = got
        return got

    def status_valid(self, status: int, date: int) -> bool:
        """Whether a patient discharge status is valid on a discharge date."""
        return any(s <= date <= e for s, e in self._status_periods.get(status, ()))

    # ----------------------------------------------------------- vectorized

    def lookup_many(self, prefix: str, codes: list[str], dates):
        """Attribute masks (int64, -1 = not valid) of many codes, each on its own date (numpy
        arrays; numpy is imported here, so editing one claim never loads it)."""
        import numpy as np
        get = self._code_index(prefix).get
        ids = np.fromiter(map(get, codes, repeat(-1)), dtype=np.int64, count=len(codes))
        for i in np.flatnonzero(ids < 0).tolist():
            c = codes[i]
            u = c.upper()
            if u != c:
                ids[i] = get(u, -1)
        out = np.full(len(codes), INVALID, dtype=np.int64)
        ok = ids >= 0
        if not ok.any():
            return out
        first, start, end, flags = (container.as_numpy(self.arrays[f"{prefix}_{k}"])
                                    for k in ("first", "start", "end", "flags"))
        k = np.flatnonzero(ok)
        row = first[ids[k]].astype(np.int64)
        last = first[ids[k] + 1].astype(np.int64)
        d = dates[k]
        while len(k):
            hit = (start[row] <= d) & (d <= end[row])
            out[k[hit]] = flags[row[hit]]
            row = row + 1
            more = ~hit & (row < last)
            k, row, last, d = k[more], row[more], last[more], d[more]
        return out

    def _code_index(self, prefix: str) -> dict:
        got = self._index.get(prefix)
        if got is None:
            codes = [c.decode("ascii") for c in self.arrays[f"{prefix}_code"].tolist()]
            got = self._index[prefix] = dict(zip(codes, range(len(codes))))
        return got


def code_flags(rows: dict, code: str, date: int) -> int:
    """The attribute mask of ``code`` (looked up as written, then upper-cased) in the period that
    holds ``date``, or INVALID."""
    periods = rows.get(code)
    if periods is None:
        u = code.upper()
        if u == code:
            return INVALID
        periods = rows.get(u)
        if periods is None:
            return INVALID
    for start, end, flags in periods:
        if start <= date <= end:
            return flags
    return INVALID


# ------------------------------------------------------------------ releases


@cache
def _load(directory: str) -> MceTables:
    return MceTables(directory)


@cache
def _releases(directory: str) -> tuple[tuple[str, str, int], ...]:
    """(name, folder, termination date) of the default release in ``directory`` and of each
    sub-folder release, from their manifests."""
    root = Path(directory)
    out = []
    folders = [root] + sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))) \
        if root.is_dir() else [root]
    for folder in folders:
        try:
            manifest = json.loads((folder / "MANIFEST.json").read_text())
            end = int(str(manifest["termination_date"]).replace("-", ""))
        except (OSError, ValueError, KeyError, TypeError):
            if folder == root:          # the default release: reading it names the problem
                out.append(("", str(folder), 0))
            continue
        out.append((release_name(manifest), str(folder), end))
    return tuple(out)


def mce_releases(directory: str | os.PathLike | None = None) -> dict[str, Path]:
    """The MCE releases installed, default first: ``{name: folder}`` (e.g. ``{"43.1": tables/mce,
    "fy2027": tables/mce/fy2027}``)."""
    return {name: Path(folder) for name, folder, _ in _releases(_root(directory)) if name}


def releases_covering(date: int, directory: str | os.PathLike | None = None) -> list[str]:
    """The names of the installed releases whose tables reach ``date`` (``yyyymmdd``; by the
    termination dates of their manifests, without loading them)."""
    return [name for name, _, end in _releases(_root(directory)) if name and date <= end]


def default_mce_tables() -> MceTables:
    """The default release's tables, resolved on first use in the process (like
    :func:`grouper.tables.default`; :func:`reset_default_mce` re-reads the environment)."""
    got = _DEFAULT.get("t")
    if got is None:
        got = _DEFAULT["t"] = mce_tables()
    return got


def reset_default_mce() -> None:
    """Forget the default MCE release, so that the next use reads ``$GROUPER_MCE_TABLES`` again."""
    _DEFAULT.clear()


_DEFAULT: dict = {}      # the default MCE release once resolved (one look-up per edited claim)


def mce_tables(release=None, *, directory: str | os.PathLike | None = None) -> MceTables:
    """The tables of an MCE release, read once per process: the default release (None), or one
    selected by name (``"fy2027"``) or CMS release number (``"43.1"``, 431).  ``directory``
    is the MCE tables folder (default :func:`default_mce_dir`).  An unknown release raises
    :class:`~grouper.tables.versions.VersionError` listing the installed ones."""
    root = _root(directory)
    if release is None:
        return _load(root)
    want = str(release).strip().lower()
    found = _releases(root)
    for name, folder, _ in found:
        if name and name.lower() == want:
            return _load(folder)
    try:
        number = parse_version(release)
    except VersionError:
        number = None
    if number is not None:
        for name, folder, _ in found:
            if name == label(number):
                return _load(folder)
    have = ", ".join(n for n, _, _ in found if n) or "none"
    raise VersionError(f"MCE release {release!r} is not installed in {root} (installed: {have}); build it with "
                       f"'python -m grouper.tables build-mce SOURCE --out {root}/NAME'")
