"""Claims as columns for the batch path: the reading stage's columns, with the look-ups of
the vectorized core (code ids in the tables' code universe, POA classes)."""
from __future__ import annotations

from itertools import repeat

import numpy as np

from ..engine.hac import POA_CLASS, PoaClass
from ..engine.severity import written_in_lower_case
from ..reading.columns import ReadColumns, arrays_to_records
from .vector import Batch, segment_rows


class Columns(ReadColumns):
    """Claims in columnar form, read the way the CMS grouper reads them (see
    :class:`grouper.reading.columns.ReadColumns`: :meth:`from_records` reads claim mappings
    or :class:`grouper.Claim` objects, :meth:`from_arrays` columns;
    :func:`grouper.bulk.arrow.columns_from_arrow` an Arrow table, a whole column at a time)."""

    #: filled by the readers that compute them while reading (Arrow: once per distinct code)
    _ids: tuple | None = None
    _poa_class: np.ndarray | None = None
    #: the Arrow table the claims were read from (JSON-lines schema), for :meth:`records_at`
    arrow = None

    def code_ids(self, tables) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Ids of the principal diagnoses, secondary diagnoses and procedures in the code
        universe of ``tables`` (-1: in no version), looked up the way the CMS grouper does,
        and per secondary diagnosis whether it is written in lower case
        (:func:`grouper.engine.severity.written_in_lower_case`: never CC-excluded)."""
        if self._ids is not None and tables is self.tables:
            # read from Arrow: a code found but not as spelled was found upper-cased
            pdx, sdx, pr = self._ids
            return pdx, sdx, pr, (sdx >= 0) & ~self.exact[1]
        recased: list = []
        sdx = _lookup(tables.dx_index, self.sdx_codes, recased)
        lower = np.zeros(len(sdx), dtype=bool)
        lower[recased] = True
        return (_lookup(tables.dx_index, self.pdx), sdx, _lookup(tables.pr_index, self.pr_codes), lower)

    def sdx_poa_class(self) -> np.ndarray:
        """The HAC/POA class of every secondary diagnosis' POA (:data:`grouper.engine.hac.POA_CLASS`)."""
        if self._poa_class is not None:
            return self._poa_class
        return poa_classes(self.sdx_poa)

    def records_at(self, rows) -> list:
        """The claims at positions ``rows`` as given (mappings or Claim objects), for the
        per-claim engine (claims that form procedure clusters, details)."""
        rows = list(rows)
        if self.records is not None:
            return [self.records[i] for i in rows]
        if self.arrow is not None:
            return self.arrow.take(rows).to_pylist() if rows else []
        raise ValueError("these columns keep no claims to group one by one")

    def id_array(self) -> np.ndarray:
        """The claim ids as an object array (None where the input had none)."""
        if isinstance(self.id, list):
            return np.array(self.id + [None], dtype=object)[:self.n]
        out = np.empty(self.n, dtype=object)
        out[:] = self.id.to_pylist()
        return out

    def batch(self, idx: np.ndarray, ids=None, poa=None) -> Batch:
        """The claims at positions ``idx`` (all of one version) as a :class:`grouper.bulk.vector.Batch`;
        ``ids`` and ``poa`` are :meth:`code_ids` and :meth:`sdx_poa_class` when already computed."""
        pdx_id, sdx_id, pr_id, sdx_lower = ids if ids is not None else self.code_ids(self.tables)
        poa = poa if poa is not None else self.sdx_poa_class()
        if len(idx) == self.n:
            sdx_rows, sdx_off = slice(None), self.sdx_off
            pr_rows, pr_off = slice(None), self.pr_off
        else:
            sdx_rows, sdx_off = segment_rows(self.sdx_off, idx)
            pr_rows, pr_off = segment_rows(self.pr_off, idx)
        return Batch(pdx_id[idx], sdx_id[sdx_rows], poa[sdx_rows], sdx_off, pr_id[pr_rows], pr_off,
                     self.sex[idx], self.dstat[idx], self.hospital[idx], sdx_lower[sdx_rows])

    @classmethod
    def from_arrays(cls, *, pdx, sdx=None, sdx_poa=None, procedures=None, version=None, discharge_date=None,
                    sex=None, discharge_status=None, hospital_status=None, pdx_poa=None, admit_dx=None,
                    id=None, tables=None) -> Columns:
        """From columns: ``pdx`` a sequence of codes; ``sdx``/``procedures`` sequences of code
        lists (``sdx_poa`` parallel POA lists, default Y), or ``(flat_codes, offsets)`` pairs;
        the other fields sequences or scalars."""
        return cls.from_records(arrays_to_records(pdx=pdx, sdx=sdx, sdx_poa=sdx_poa, procedures=procedures,
                                                  version=version, discharge_date=discharge_date, sex=sex,
                                                  discharge_status=discharge_status,
                                                  hospital_status=hospital_status, pdx_poa=pdx_poa,
                                                  admit_dx=admit_dx, id=id), tables=tables)


def _lookup(index: dict, codes: list, lower: list | None = None) -> np.ndarray:
    """Code id of each code (the CMS grouper upper-cases codes), -1 if in no version;
    ``lower`` collects the positions of the codes found that are written in lower case
    (the index holds upper-case codes, so only codes not found as written can be)."""
    ids = np.fromiter(map(index.get, codes, repeat(-1)), dtype=np.int64, count=len(codes))
    for i in np.flatnonzero(ids < 0).tolist():
        c = codes[i]
        if written_in_lower_case(c):
            ids[i] = index.get(c.upper(), -1)
            if lower is not None and ids[i] >= 0:
                lower.append(i)
    return ids


def code_id(index: dict, code) -> int:
    """The id of one code as written: exactly as spelled, else upper-cased (as CMS reads it); -1 if none."""
    got = index.get(code, -1) if type(code) is str else -1
    if got < 0 and type(code) is str and code.upper() != code:
        got = index.get(code.upper(), -1)
    return got


def poa_classes(poas: list) -> np.ndarray:
    """:data:`grouper.engine.hac.POA_CLASS` of every POA as read (int8)."""
    other = PoaClass.OTHER
    if not poas:
        return np.zeros(0, np.int8)
    try:
        arr = np.array(poas, dtype="S2")
    except (UnicodeEncodeError, TypeError):
        return np.array([POA_CLASS.get(p, other) for p in poas], dtype=np.int8)
    out = np.full(len(arr), other, dtype=np.int8)
    for text, cls in POA_CLASS.items():
        out[arr == text.encode()] = cls
    return out
