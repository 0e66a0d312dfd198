"""The CMS DRG formula language: parse once, compile to a Python predicate.

Grammar (``docs/cms-rules.md``, "Formula language")::

    expr   := term ('|' term)*
    term   := factor ('&' factor)*
    factor := '~' factor | '(' expr ')' | atom
    atom   := [PREFIX ':'] NAME          PREFIX in PDX, SDX, ANY, ONLY

An atom is classified when it is parsed:

* ``PDX:x`` / ``SDX:x`` / ``ANY:x`` / ``ONLY:x`` — diagnosis attribute tests;
* ``MCC`` / ``CC`` — the CC/MCC level of the claim for *this* formula;
* special claim-level atoms (``ALIVE``, ``MULTST``, ``FOUR_STENTS``, …, see
  :data:`grouper.engine.atoms.SPECIAL_ATOMS`);
* anything else — a procedure attribute (``replacex``, ``d468``, …).

A compiled predicate is a Python function ``f(P, S, R, X, sev) -> bool`` over
the principal-diagnosis attributes ``P``, the union of secondary-diagnosis
attributes ``S``, the active procedure attributes ``R`` and the set ``X`` of
true special atoms; ``sev`` is 2 for MCC, 1 for CC, 0 otherwise.
"""
from __future__ import annotations

import re
from functools import cache

import attrs

from .atoms import SPECIAL_ATOMS

_NOOP = re.compile(r"^(MDC\d\d|\d+)$")  # MDCnn and bare numbers: never set by any claim

_TOKEN = re.compile(r"\s*(?:([()&|~])|([A-Za-z0-9_@]+(?::[A-Za-z0-9_@]+)?))")
_TOKENS = re.compile(r"[()&|~]|[A-Za-z0-9_@]+(?::[A-Za-z0-9_@]+)?")


class FormulaError(ValueError):
    pass


@attrs.frozen
class Atom:
    kind: str     # "PDX" "SDX" "ANY" "ONLY" "SEV" "SPECIAL" "PROC" "NOOP"
    name: str

    def __str__(self):
        return f"{self.kind}:{self.name}" if self.kind in ("PDX", "SDX", "ANY", "ONLY") else self.name


@attrs.frozen
class Not:
    child: object


@attrs.frozen
class And:
    children: tuple


@attrs.frozen
class Or:
    children: tuple


@cache
def _atom(text: str) -> Atom:
    if ":" in text:
        prefix, name = text.split(":", 1)
        if prefix not in ("PDX", "SDX", "ANY", "ONLY"):
            raise FormulaError(f"unknown prefix {prefix!r}")
        return Atom(prefix, name)
    if text in ("MCC", "CC"):
        return Atom("SEV", text)
    if text in SPECIAL_ATOMS:
        return Atom("SPECIAL", text)
    if _NOOP.match(text):
        return Atom("NOOP", text)
    return Atom("PROC", text)


def parse(text: str):
    text = text.strip()
    tokens = _TOKENS.findall(text)
    if "".join(tokens) != "".join(text.split()):       # something is not a token: say where
        _tokenize(text)
    return _parse(text, tokens)


def _tokenize(text: str) -> list:
    tokens = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FormulaError(f"cannot parse formula {text!r} at {pos}")
        tokens.append(m.group(1) or m.group(2))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


def _parse(text: str, tokens: list):
    i = 0

    def peek():
        return tokens[i] if i < len(tokens) else None

    def take():
        nonlocal i
        i += 1
        return tokens[i - 1]

    def expr():
        items = [term()]
        while peek() == "|":
            take()
            items.append(term())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def term():
        items = [factor()]
        while peek() == "&":
            take()
            items.append(factor())
        return items[0] if len(items) == 1 else And(tuple(items))

    def factor():
        t = peek()
        if t is None:
            raise FormulaError(f"unexpected end of formula {text!r}")
        if t == "~":
            take()
            return Not(factor())
        if t == "(":
            take()
            node = expr()
            if peek() != ")":
                raise FormulaError(f"missing ')' in {text!r}")
            take()
            return node
        if t in (")", "&", "|"):
            raise FormulaError(f"unexpected {t!r} in {text!r}")
        return _atom(take())

    node = expr()
    if i != len(tokens):
        raise FormulaError(f"trailing tokens in {text!r}")
    return node


_OPERATORS = frozenset("()&|~")


def text_atoms(text: str) -> list[Atom]:
    """The operands of a formula's text in order, as :func:`atoms` gives them from its parse
    tree, without parsing it (a malformed formula is reported when it is parsed)."""
    return [_atom(t) for t in _TOKENS.findall(text) if t not in _OPERATORS]


def atoms(node) -> list[Atom]:
    if isinstance(node, Atom):
        return [node]
    if isinstance(node, Not):
        return atoms(node.child)
    return [a for c in node.children for a in atoms(c)]


def _py(node) -> str:
    if isinstance(node, Atom):
        k, n = node.kind, node.name
        if k == "PDX":
            return f"({n!r} in P)"
        if k == "SDX":
            return f"({n!r} in S)"
        if k == "ANY":
            return f"({n!r} in P or {n!r} in S)"
        if k == "ONLY":
            return f"({'ONLY:' + n!r} in X)"
        if k == "SEV":
            return "(sev == 2)" if n == "MCC" else "(sev == 1)"
        if k == "SPECIAL":
            return f"({n!r} in X)"
        if k == "PROC":
            return f"({n!r} in R)"
        return "False"
    if isinstance(node, Not):
        return f"(not {_py(node.child)})"
    op = " and " if isinstance(node, And) else " or "
    return "(" + op.join(_py(c) for c in node.children) + ")"


def compile_predicate(node):
    src = f"lambda P, S, R, X, sev: {_py(node)}"
    return eval(src, {"__builtins__": {}})


def evaluate(node, P, S, R, X, sev) -> bool:
    """Interpretive evaluation (used when marking which codes made a formula true)."""
    if isinstance(node, Atom):
        k, n = node.kind, node.name
        if k == "PDX":
            return n in P
        if k == "SDX":
            return n in S
        if k == "ANY":
            return n in P or n in S
        if k == "ONLY":
            return ("ONLY:" + n) in X
        if k == "SEV":
            return sev == (2 if n == "MCC" else 1)
        if k == "SPECIAL":
            return n in X
        if k == "PROC":
            return n in R
        return False
    if isinstance(node, Not):
        return not evaluate(node.child, P, S, R, X, sev)
    if isinstance(node, And):
        return all(evaluate(c, P, S, R, X, sev) for c in node.children)
    return any(evaluate(c, P, S, R, X, sev) for c in node.children)


# ------------------------------------------------------------ mask compilation


def _mask_py(node, bit) -> str:
    """Python source of ``node`` over an integer feature mask ``m`` and level ``sev``.

    ``bit(namespace, name)`` gives the feature bit of an operand: "P" principal-dx
    attributes, "S" secondary-dx attributes, "R" procedure attributes, "X" claim-level
    special atoms (including ONLY:x)."""
    if isinstance(node, Atom):
        k, n = node.kind, node.name
        if k == "PDX":
            return f"(m & {bit('P', n)})"
        if k == "SDX":
            return f"(m & {bit('S', n)})"
        if k == "ANY":
            return f"(m & {bit('P', n) | bit('S', n)})"
        if k == "ONLY":
            return f"(m & {bit('X', 'ONLY:' + n)})"
        if k == "SEV":
            return "(sev == 2)" if n == "MCC" else "(sev == 1)"
        if k == "SPECIAL":
            return f"(m & {bit('X', n)})"
        if k == "PROC":
            return f"(m & {bit('R', n)})"
        return "False"
    if isinstance(node, Not):
        return f"(not {_mask_py(node.child, bit)})"
    op = " and " if isinstance(node, And) else " or "
    return "(" + op.join(_mask_py(c, bit) for c in node.children) + ")"


def compile_mask_predicate(node, bit):
    """``f(m, sev) -> truthy``: the formula over a feature mask (see :func:`_mask_py`)."""
    return eval(f"lambda m, sev: bool({_mask_py(node, bit)})", {"__builtins__": {"bool": bool}})


def _bitset_py(node, bit) -> str:
    """Python source of ``node`` over claims as bits of integers: ``B[g]`` has bit ``u`` set when
    claim ``u`` has feature bit ``g``, ``V2``/``V1`` when its level is MCC/CC; the same operands
    as :func:`_mask_py`.  ``~`` gives a negative int (two's complement: every claim outside the
    operand), so the caller masks the result to its claims."""
    if isinstance(node, Atom):
        k, n = node.kind, node.name
        if k == "PDX":
            return _bit_ref(bit("P", n))
        if k == "SDX":
            return _bit_ref(bit("S", n))
        if k == "ANY":
            return f"({_bit_ref(bit('P', n))} | {_bit_ref(bit('S', n))})"
        if k == "ONLY":
            return _bit_ref(bit("X", "ONLY:" + n))
        if k == "SEV":
            return "V2" if n == "MCC" else "V1"
        if k == "SPECIAL":
            return _bit_ref(bit("X", n))
        if k == "PROC":
            return _bit_ref(bit("R", n))
        return "0"
    if isinstance(node, Not):
        return f"(~{_bitset_py(node.child, bit)})"
    op = " & " if isinstance(node, And) else " | "
    return "(" + op.join(_bitset_py(c, bit) for c in node.children) + ")"


def _bit_ref(b: int) -> str:
    return f"B[{b.bit_length() - 1}]"


def compile_bitset_predicate(node, bit):
    """``f(B, V2, V1) -> int``: the formula over many claims at once, claim ``u`` as bit ``u``
    of integers (see :func:`_bitset_py`); Python's integer operators do the work of numpy's
    on boolean columns at a fraction of the cost per operation, for the vectorized path."""
    return eval(f"lambda B, V2, V1: {_bitset_py(node, bit)}", {"__builtins__": {}})


def operand_bits(node, bit) -> int:
    """Every feature bit a formula can test (``node``: a parse tree, or its list of atoms)."""
    out = 0
    for a in (node if isinstance(node, list) else atoms(node)):
        k, n = a.kind, a.name
        if k == "PDX":
            out |= bit("P", n)
        elif k == "SDX":
            out |= bit("S", n)
        elif k == "ANY":
            out |= bit("P", n) | bit("S", n)
        elif k == "ONLY":
            out |= bit("X", "ONLY:" + n)
        elif k == "SPECIAL":
            out |= bit("X", n)
        elif k == "PROC":
            out |= bit("R", n)
    return out


def severity_operand_used(node, true) -> str | None:
    """The first MCC/CC operand that is evaluated and true when ``node`` is evaluated
    left to right with short-circuit ``&``/``|`` (``true(atom)`` gives each operand's
    value).  This is the level a DRG formula "used" (CMS's secondary-dx CC/MCC flag)."""
    found: list = []

    def ev(n) -> bool:
        if isinstance(n, Atom):
            v = true(n)
            if v and n.kind == "SEV" and not found:
                found.append(n.name)
            return v
        if isinstance(n, Not):
            return not ev(n.child)
        if isinstance(n, And):
            return all(ev(c) for c in n.children)
        return any(ev(c) for c in n.children)

    ev(node)
    return found[0] if found else None
