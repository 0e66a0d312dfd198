"""The wide claim layout -- one column per field, per diagnosis, per POA, per procedure -- and
the mapping of a file's or a DataFrame's columns onto it.

Shared by the CSV reader (:func:`grouper.io.read_csv`) and :func:`grouper.group_batch` on a
wide DataFrame, so both read the same columns the same way::

    >>> lay = Layout.parse(["pr=PX{n}", "id=Claim No"])
    >>> b = lay.bind(["Claim No", "Discharge Date", "DX1", "POA1", "DX2", "POA2", "PX1", "Billed DRG"])
    >>> b.claim(["c1", "12/28/2024", "I5022", "Y", "J9601", "Y", "02703DZ", "291"])["discharge_date"]
    '2024-12-28'

Column names are matched ignoring case, blanks and punctuation (``Discharge Date`` is
``discharge_date``).  A column named in a mapping (``--column sex=Gender``) must exist: a
missing one is a :class:`LayoutError` naming it and the header found; so is a header with no
diagnosis column.  Dates are read as ``YYYY-MM-DD``, ``YYYYMMDD`` or ``MM/DD/YYYY`` (or a
``date_format`` such as ``%d.%m.%Y``) and passed on as ``YYYY-MM-DD``; a date that cannot be
read is passed on as written (the reading stage reports it).  Codes and POA values are
passed on exactly as written: CMS reads them so (the ``normalize`` option cleans them).

Standard library and attrs only: this module is imported by :mod:`grouper.io` too.
"""
from __future__ import annotations

import datetime as _dt
import math
import re

import attrs

#: one value per claim, in the JSON-lines schema (``pdx``: a principal-diagnosis column
#: apart from the numbered ones; ``principal_pr``: a principal-procedure column, listed first)
SCALAR_FIELDS = ("id", "version", "discharge_date", "admission_date", "age", "sex", "discharge_status",
                 "hospital_status", "admit_dx", "pdx", "pdx_poa", "principal_pr", "billed_drg", "paid_amount",
                 "los", "charges")
#: numbered columns: ``{n}`` is 1, 2, ... (dx1 is the principal diagnosis unless a pdx column is given)
INDEXED_FIELDS = ("dx", "poa", "pr")
FIELDS = SCALAR_FIELDS + INDEXED_FIELDS

#: what each field means (``--help`` and docs/columns.md list them)
FIELD_HELP = {
    "id": "claim id", "version": "grouper version (e.g. 43.1); default: the one in force at discharge",
    "discharge_date": "discharge (through) date", "admission_date": "admission date (length of stay)",
    "age": "age in years (not used by the grouper)", "sex": "M/F/U (MALE/FEMALE, 1/2)",
    "discharge_status": "patient discharge status (01, 02, ... 20 ...)",
    "hospital_status": "NOT_EXEMPT / EXEMPT / UNKNOWN (HAC POA exemption)", "admit_dx": "admitting diagnosis",
    "pdx": "principal diagnosis, when apart from the numbered diagnoses", "pdx_poa": "its POA",
    "principal_pr": "principal procedure, when apart from the numbered procedures",
    "billed_drg": "the DRG billed (audit)", "paid_amount": "the amount paid (audit)",
    "los": "length of stay in days", "charges": "covered charges (cost outlier)",
    "dx": "numbered diagnoses, e.g. DX{n}", "poa": "their POA indicators, e.g. POA{n}",
    "pr": "numbered procedures, e.g. PX{n}",
}
DATE_FIELDS = ("discharge_date", "admission_date")
NUMBER_FIELDS = ("version", "age", "discharge_status")
MONEY_FIELDS = ("paid_amount", "charges")

#: presets: the column names of common exports, each field's candidates in order of preference
PRESETS = {
    "ub04": {
        "id": ("claim_id", "claim_no", "claim_number", "claim", "patient_control_number", "pcn", "icn", "id"),
        "discharge_date": ("discharge_date", "discharge_dt", "dschg_date", "through_date", "thru_date",
                           "statement_through_date", "statement_thru_date", "statement_to_date", "to_date"),
        "admission_date": ("admission_date", "admission_dt", "admit_date", "admit_dt", "statement_from_date",
                           "from_date"),
        "age": ("age", "patient_age", "age_years"),
        "sex": ("sex", "gender", "patient_sex", "patient_gender"),
        "discharge_status": ("discharge_status", "patient_status", "patient_discharge_status",
                             "discharge_disposition", "disch_status", "dschg_status", "status"),
        "hospital_status": ("hospital_status", "poa_exempt_status"),
        "admit_dx": ("admit_dx", "admitting_dx", "admitting_diagnosis", "admit_diagnosis", "admit_diag"),
        "pdx": ("principal_dx", "principal_diagnosis", "prin_dx", "prin_diag", "pdx"),
        "pdx_poa": ("principal_dx_poa", "principal_poa", "prin_dx_poa", "prin_poa", "pdx_poa"),
        "principal_pr": ("principal_procedure", "principal_px", "prin_px", "prin_proc", "principal_pr"),
        "billed_drg": ("billed_drg", "billed_ms_drg", "drg_billed", "ms_drg", "msdrg", "drg"),
        "paid_amount": ("paid_amount", "paid_amt", "amount_paid", "medicare_paid", "paid", "payment"),
        "los": ("los", "length_of_stay"),
        "charges": ("total_charges", "covered_charges", "charges", "total_charge", "tot_chg"),
        "version": ("grouper_version", "version"),
        "dx": ("dx{n}", "diag{n}", "diagnosis{n}", "icd_dx{n}", "icd10_dx{n}", "dx_code{n}", "other_dx{n}"),
        "poa": ("poa{n}", "dx_poa{n}", "poa_dx{n}", "poa_ind{n}", "dx{n}_poa", "poa_indicator{n}"),
        "pr": ("px{n}", "proc{n}", "procedure{n}", "pr{n}", "icd_px{n}", "icd_pcs{n}", "pcs{n}", "px_code{n}",
               "other_px{n}"),
    },
}
PRESET_HELP = {"ub04": "UB-04 / 837I-style exports: Claim ID, Principal Dx, DX1.., POA1.., PX1.., "
                       "Patient Status, Through Date, Total Charges, MS-DRG ... (docs/columns.md)"}


class LayoutError(ValueError):
    """A column mapping that cannot be used: unknown field, missing column, no diagnosis column."""


#: column names (as :func:`column_key` makes them) of a code list in one cell -- the JSON-lines
#: fields ``sdx`` and ``procedures`` and their usual spellings: a table in the wide layout that
#: has one and does not map it would group every claim without those codes
CODE_LIST_COLUMNS = frozenset({"sdx", "procedures", "secondarydiagnoses", "secondarydx", "diagnoses",
                               "diagnosiscodes", "procedurecodes", "icdprocedures", "otherdiagnoses"})


def column_key(name) -> str:
    """A column name as matched: lower case, letters, digits and ``{n}`` only."""
    s = str(name).lower().replace("{n}", "\x00")
    s = re.sub(r"[^0-9a-z\x00]", "", s)
    return s.replace("\x00", "{n}")


def show_header(header) -> str:
    cols = [str(h) for h in header]
    shown = ", ".join(repr(c) for c in cols[:30])
    return shown + (f", ... ({len(cols)} columns)" if len(cols) > 30 else "")


@attrs.frozen
class Layout:
    """A column mapping: the columns given for some fields (``columns``), a preset for the others,
    and the date format.  Fields neither mapped nor in the preset use their own name
    (``discharge_date``, ``dx{n}`` ...)."""

    columns: tuple[tuple[str, str], ...] = ()
    preset: str | None = None
    date_format: str | None = None

    @classmethod
    def parse(cls, specs=None, *, preset: str | None = None, date_format: str | None = None) -> Layout:
        """From ``FIELD=COLUMN`` texts (``dx=DIAG{n}``, ``id=Claim No``) or a mapping."""
        items = list(specs.items()) if isinstance(specs, dict) else []
        for spec in ([] if isinstance(specs, dict) else specs or ()):
            if "=" not in str(spec):
                raise LayoutError(f"column mapping {spec!r} must be FIELD=COLUMN, e.g. pr=PX{{n}} or id='Claim No'")
            k, v = str(spec).split("=", 1)
            items.append((k, v))
        seen = {}
        for k, v in items:
            k = k.strip().lower()
            if k not in FIELDS:
                raise LayoutError(f"unknown field {k!r} in column mapping {k}={v} (fields: {', '.join(FIELDS)})")
            if k in INDEXED_FIELDS and "{n}" not in str(v):
                raise LayoutError(f"the column of {k} must contain {{n}} for the number, e.g. {k}=DX{{n}}; "
                                  f"got {v!r}")
            if not str(v).strip():
                raise LayoutError(f"column mapping {k}= names no column")
            if k in seen and seen[k] != v:
                raise LayoutError(f"field {k} is mapped twice ({seen[k]!r} and {v!r})")
            seen[k] = v
        if preset is not None and preset not in PRESETS:
            raise LayoutError(f"unknown preset {preset!r} (presets: {', '.join(PRESETS)})")
        if date_format is not None:
            try:
                _dt.datetime.strptime(_dt.date(2024, 12, 28).strftime(date_format), date_format)
            except (ValueError, TypeError):
                raise LayoutError(f"date format {date_format!r} cannot be used (e.g. %m/%d/%Y, %d.%m.%Y)") from None
        return cls(tuple(seen.items()), preset, date_format)

    @classmethod
    def of(cls, columns) -> Layout:
        """The ``columns`` argument of ``group_batch`` / ``group_arrow`` as a Layout: a Layout, a
        preset name (``"ub04"``), one ``FIELD=COLUMN`` text, a list of them or a mapping."""
        if isinstance(columns, Layout):
            return columns
        if isinstance(columns, str):
            return cls.parse(preset=columns) if "=" not in columns else cls.parse([columns])
        return cls.parse(columns)

    def candidates(self, field: str) -> tuple[str, ...]:
        given = dict(self.columns).get(field)
        if given is not None:
            return (given,)
        if self.preset:
            return PRESETS[self.preset].get(field, (field if field in SCALAR_FIELDS else f"{field}{{n}}",))
        return (field if field in SCALAR_FIELDS else f"{field}{{n}}",)

    def bind(self, header) -> BoundLayout:
        """The columns of ``header`` for each field; LayoutError when a mapped column is missing or
        no column holds diagnoses."""
        header = [("" if h is None else str(h)) for h in header]
        keys = [column_key(h) for h in header]
        index: dict[str, int] = {}
        for i, k in enumerate(keys):
            index.setdefault(k, i)
        given = dict(self.columns)
        scalar: dict[str, int] = {}
        used: set[int] = set()
        columns_of: dict[str, list[int]] = {}
        for i, k in enumerate(keys):
            columns_of.setdefault(k, []).append(i)

        def _twice(cols) -> None:
            """A field read from two columns would silently ignore one of them: refuse it."""
            a, b = sorted(cols)[:2]
            raise LayoutError(f"the header has {header[a]!r} (column {a + 1}) and {header[b]!r} (column {b + 1}) "
                              f"for the same field; rename or remove one")

        for f in SCALAR_FIELDS:
            for cand in self.candidates(f):
                i = index.get(column_key(cand))
                if i is not None and len(columns_of[keys[i]]) > 1:
                    _twice(columns_of[keys[i]])
                if i is not None and i not in used:
                    scalar[f] = i
                    used.add(i)
                    break
            else:
                if f in given:
                    raise LayoutError(f"column mapping {f}={given[f]}: no column {given[f]!r} in the header "
                                      f"({show_header(header)})")
        indexed: dict[str, dict[int, int]] = {}
        for f in INDEXED_FIELDS:
            found: dict[int, int] = {}
            for cand in self.candidates(f):
                rx = re.compile("^" + re.escape(column_key(cand)).replace(r"\{n\}", r"0*([1-9]\d*)") + "$")
                for i, k in enumerate(keys):
                    m = rx.match(k)
                    if m and i not in used:
                        n = int(m.group(1))
                        if n in found:
                            _twice([found[n], i])
                        found[n] = i
                if found:
                    break
            if not found and f in given and f != "poa":
                raise LayoutError(f"column mapping {f}={given[f]}: no column matches {given[f]!r} in the header "
                                  f"({show_header(header)})")
            used.update(found.values())
            indexed[f] = found
        if not indexed["dx"] and "pdx" not in scalar:
            pats = " or ".join(repr(c) for c in self.candidates("dx"))
            hint = ""
            if len(header) == 1 and any(c in header[0] for c in "\t;|,"):
                hint = "; the header is one column: is the delimiter right (--delimiter)?"
            raise LayoutError(f"no diagnosis column: none matches {pats} in the header ({show_header(header)}); "
                              f"map them with --column dx=NAME{{n}} (or pdx=NAME for the principal one){hint}")
        for i, k in enumerate(keys):
            if i not in used and k in CODE_LIST_COLUMNS:
                raise LayoutError(
                    f"column {header[i]!r} (column {i + 1}) looks like a list of codes in one cell, which this "
                    f"layout does not read (it would be ignored: every claim grouped without those codes); "
                    f"give one column per code (DX2, DX3 ... / PX1, PX2 ..., mapped with --column dx=NAME{{n}} "
                    f"--column pr=NAME{{n}}), or give the claims as JSON lines or Parquet, where sdx and "
                    f"procedures are lists")
        return BoundLayout(self, header, scalar, indexed, tuple(i for i in range(len(header)) if i not in used))


@attrs.frozen
class BoundLayout:
    """A layout bound to one header: the column index of each field."""

    layout: Layout
    header: list
    scalar: dict            # field -> column index
    indexed: dict           # dx/poa/pr -> {n: column index}
    unused: tuple           # indexes of the columns no field reads

    @property
    def unused_columns(self) -> list[str]:
        return [self.header[i] for i in self.unused]

    def describe(self) -> dict:
        """field -> the column(s) read for it ("DX1..DX25")."""
        out = {f: self.header[i] for f, i in self.scalar.items()}
        for f, cols in self.indexed.items():
            if cols:
                ns = sorted(cols)
                out[f] = self.header[cols[ns[0]]] + (f"..{self.header[cols[ns[-1]]]}" if len(ns) > 1 else "")
        return out

    def claim(self, values) -> dict:
        """The claim of one row (values in header order) in the JSON-lines schema, with the audit and
        payment fields (billed_drg, paid_amount, admission_date, los, charges) when not blank."""
        claim: dict = {}
        for f, i in self.scalar.items():
            if f in ("pdx", "pdx_poa", "principal_pr"):
                continue
            v = read_scalar(f, values[i], self.layout.date_format)
            if v is not None:
                claim[f] = v
        dx = self.indexed["dx"]
        poa = self.indexed["poa"]
        sdx = []
        if "pdx" in self.scalar:
            p = values[self.scalar["pdx"]]
            claim["pdx"] = None if _blank(p) else _code(p)
            pp = self.scalar.get("pdx_poa")
            claim["pdx_poa"] = _poa(values[pp]) if pp is not None else "Y"
            numbered = sorted(dx)
        else:
            numbered = sorted(dx)
            first = numbered[0]
            p = values[dx[first]]
            claim["pdx"] = None if _blank(p) else _code(p)
            pp = poa.get(first)
            claim["pdx_poa"] = _poa(values[pp]) if pp is not None else "Y"
            numbered = numbered[1:]
        for n in numbered:
            v = values[dx[n]]
            if _blank(v):
                continue
            pi = poa.get(n)
            sdx.append([_code(v), _poa(values[pi]) if pi is not None else "Y"])
        claim["sdx"] = sdx
        procs = []
        if "principal_pr" in self.scalar and not _blank(values[self.scalar["principal_pr"]]):
            procs.append(_code(values[self.scalar["principal_pr"]]))
        pr = self.indexed["pr"]
        procs.extend(_code(values[pr[n]]) for n in sorted(pr) if not _blank(values[pr[n]]))
        claim["procedures"] = procs
        return claim

    def hints(self) -> list[str]:
        """For the columns no field reads: the mapping that would read them, when their names are
        those of a field in a preset (``PX1..PX25 are not read: --column pr=PX{n}``)."""
        out = []
        unused = self.unused_columns
        if not unused:
            return out
        keys = {column_key(h): h for h in unused}
        for preset, cands in PRESETS.items():
            for f in FIELDS:
                if f in self.scalar or (f in self.indexed and self.indexed[f]):
                    continue
                for cand in cands.get(f, ()):
                    ck = column_key(cand)
                    if "{n}" in ck:
                        rx = re.compile("^" + re.escape(ck).replace(r"\{n\}", r"0*([1-9]\d*)") + "$")
                        hits = sorted((int(m.group(1)), h) for k, h in keys.items() if (m := rx.match(k)))
                        if hits:
                            stem = _pattern_of(hits[0][1])
                            span = hits[0][1] + (f"..{hits[-1][1]}" if len(hits) > 1 else "")
                            out.append(f"columns {span} are not read: to read them as {FIELD_HELP[f]}, "
                                       f"give --column {f}={stem} (or --preset {preset})")
                            break
                    elif ck in keys:
                        out.append(f"column {keys[ck]!r} is not read: to read it as {FIELD_HELP[f]}, give "
                                   f"--column {f}={_quote(keys[ck])} (or --preset {preset})")
                        break
        return out


def _quote(name: str) -> str:
    return f"'{name}'" if re.search(r"[^\w{}.-]", name) else name


def _pattern_of(name: str) -> str:
    """``PX1`` -> ``PX{n}``; ``DX_01_POA`` -> ``DX_{n}_POA``."""
    return _quote(re.sub(r"0*[1-9]\d*", "{n}", name, count=1))


def read_scalar(field: str, v, date_format: str | None = None):
    """A scalar field's cell as the claim holds it (dates as YYYY-MM-DD, numbers as numbers,
    amounts without $ and commas, text stripped); None for a blank cell (the claim leaves the
    field out)."""
    if _blank(v):
        return None
    if field in DATE_FIELDS:
        return read_date(v, date_format)
    if field in NUMBER_FIELDS:
        return _num_or_text(v)
    if field in MONEY_FIELDS:
        return _money_text(v)
    return v.strip() if isinstance(v, str) else v


def is_blank(v) -> bool:
    """Whether a cell is empty: null, blank text, NaN (pandas NA)."""
    return _blank(v)


def code_cell(v):
    """A code cell as the claim holds it (None when blank; a number as its text)."""
    return None if _blank(v) else _code(v)


def poa_cell(v) -> str:
    """A POA cell as the claim holds it ("" when blank)."""
    return _poa(v)


def _blank(v) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return not v.strip()
    if isinstance(v, float):
        return math.isnan(v)
    try:                                 # pandas NA / NaT
        return bool(v != v)
    except (TypeError, ValueError):
        return False


def _code(v):
    """A code as written (CMS reads it so); a number from a DataFrame column as its text."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return v if isinstance(v, str) else str(v)


def _poa(v):
    return "" if _blank(v) else (v if isinstance(v, str) else str(v))


def _num_or_text(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if v.is_integer() else v
    s = str(v).strip()
    if len(s) <= 18 and re.fullmatch(r"[+-]?\d+(?:\.0*)?", s):
        return int(s.split(".")[0])         # "20.0" (a float column written by pandas) is 20, as in JSON
    return s


def _money_text(v):
    """``$12,345.67`` -> ``12345.67`` (a number is kept as is)."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    s = str(v).strip().replace(",", "").replace("$", "").replace(" ", "")
    return s


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?: .*)?$")


def read_date(v, date_format: str | None = None):
    """A date as ``YYYY-MM-DD`` text: from a date/datetime, or text in ``date_format``, else
    ``YYYY-MM-DD``, ``YYYYMMDD`` or ``MM/DD/YYYY``.  Text that is none of these is returned as
    written (the reading stage reports it as BAD_DATE)."""
    if isinstance(v, _dt.datetime):
        return v.date().isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    if hasattr(v, "to_pydatetime"):          # pandas Timestamp
        return v.to_pydatetime().date().isoformat()
    if isinstance(v, int) and not isinstance(v, bool):
        v = str(v)
    if not isinstance(v, str):
        return v
    s = v.strip()
    try:
        if date_format:
            return _dt.datetime.strptime(s, date_format).date().isoformat()
        m = _ISO.match(s) or _COMPACT.match(s)
        if m:
            return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        m = _US.match(s)
        if m:
            return _dt.date(int(m.group(3)), int(m.group(1)), int(m.group(2))).isoformat()
    except ValueError:
        pass
    return s


def looks_wide(columns) -> bool:
    """True when columns look like the wide layout (numbered diagnoses) rather than the JSON-lines
    schema (a ``pdx`` column with ``sdx`` lists)."""
    keys = {column_key(c) for c in columns}
    if "pdx" in keys and ("sdx" in keys or "procedures" in keys):
        return False
    return any(re.fullmatch(r"dx0*[1-9]\d*", k) for k in keys)
