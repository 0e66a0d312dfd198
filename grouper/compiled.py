"""One grouper version's tables, compiled for grouping (built lazily, once per version).

Turns the data of :class:`grouper.tables.VersionTables` into what the stages
use per claim: attribute sets per code (interned by pattern), formula lists in
evaluation order with parsed and compiled expressions, procedure clusters and
HAC formulas.  Nothing here is specific to one claim.
"""
from __future__ import annotations

from functools import cached_property

import attrs

from . import formula as fm
from .tables.store import TableSet, VersionTables

OR_ATTRS = frozenset({"d468", "d477"})


@attrs.frozen
class Row:
    """One DRG formula of a formula list, in evaluation order."""

    list_mdc: int
    drg: int
    base_drg: int
    mdc: int
    surgical: str
    reroute_mdc: int
    expression: str
    node: object = attrs.field(repr=False, eq=False)
    pred: object = attrs.field(repr=False, eq=False)
    suppression: frozenset
    drg_severity: int
    error: str | None          # return code when this control row matches
    rank: int
    blob_index: int


@attrs.frozen
class Cluster:
    code: str                        # Z@nnnn pseudo-code
    pr_id: int
    choices: tuple[frozenset, ...]   # procedure ids per choice
    suppression_mdcs: frozenset


class Compiled:
    def __init__(self, tables: TableSet, vt: VersionTables):
        self.tables = tables
        self.vt = vt
        self.version = vt.version
        self.lists: dict[int, tuple[Row, ...]] = {
            mdc: tuple(self._row(mdc, r) for r in rows) for mdc, rows in vt.formulas.items()}
        self.hac_nodes = {n: fm.parse(e) for n, e in vt.hac_formulas.items()}
        self._dx_cache: dict[tuple, frozenset] = {}
        self._pr_cache: dict[int, frozenset] = {}

    @staticmethod
    def _row(mdc: int, r: dict) -> Row:
        node = fm.parse(r["expression"])
        error = None
        if r["drg"] == 0 and not r["reroute_mdc"]:
            for a in fm.atoms(node):
                if a.kind == "SPECIAL" and a.name in fm.ERROR_ATOMS:
                    error = fm.ERROR_ATOMS[a.name]
                    break
        return Row(list_mdc=mdc, drg=r["drg"], base_drg=r["base_drg"], mdc=r["mdc"],
                   surgical=r["surgical"], reroute_mdc=r["reroute_mdc"], expression=r["expression"],
                   node=node, pred=fm.compile_predicate(node),
                   suppression=frozenset(r["severity_suppression"]), drg_severity=r["drg_severity"],
                   error=error, rank=r["rank"], blob_index=r["blob_index"])

    # -- codes ----------------------------------------------------------------------
    def dx_attrs(self, i: int) -> frozenset:
        vt = self.vt
        key = (int(vt.dx_attr[i]), int(vt.dx_hac[i]), int(vt.dx_dxcat[i]))
        got = self._dx_cache.get(key)
        if got is None:
            pat = self.tables.dx_patterns
            got = frozenset(pat.get(key[0], ()) + pat.get(key[1], ()) + pat.get(key[2], ()))
            self._dx_cache[key] = got
        return got

    def pr_attrs(self, i: int) -> frozenset:
        p = int(self.vt.pr_attr[i])
        got = self._pr_cache.get(p)
        if got is None:
            got = self._pr_cache[p] = frozenset(self.tables.pr_patterns.get(p, ()))
        return got

    @cached_property
    def clusters(self) -> tuple[Cluster, ...]:
        vt = self.vt
        codes = self.tables.pr_codes
        out = []
        for c in range(len(vt.cl_code)):
            ch = []
            for k in range(vt.cl_choice_off[c], vt.cl_choice_off[c + 1]):
                ch.append(frozenset(vt.ch_codes[vt.ch_code_off[k]:vt.ch_code_off[k + 1]].tolist()))
            out.append(Cluster(code=codes[int(vt.cl_code[c])], pr_id=int(vt.cl_code[c]), choices=tuple(ch),
                               suppression_mdcs=frozenset(vt.cl_supp[vt.cl_supp_off[c]:vt.cl_supp_off[c + 1]]
                                                          .tolist())))
        return tuple(out)

    @cached_property
    def clusters_of(self) -> dict[int, tuple[int, ...]]:
        """Procedure id -> indexes of the clusters it takes part in."""
        vt = self.vt
        return {int(code): tuple(vt.pcl_cluster[vt.pcl_off[k]:vt.pcl_off[k + 1]].tolist())
                for k, code in enumerate(vt.pcl_code)}

    @cached_property
    def hac_code_info(self) -> dict[str, tuple[tuple[str, ...], tuple[int, ...]]]:
        return {c: (tuple(o), tuple(n)) for c, (o, n) in self.vt.hac_codes.items()}


def compiled(tables: TableSet, version: int) -> Compiled:
    """The compiled tables of a version (built on first use, then cached on the table set)."""
    return tables.cached(("compiled", version), lambda: Compiled(tables, tables.version(version)))
