"""A formula's canonical text: equal for formulas that differ only in how they are written.

Whitespace, line breaks, the case of keywords and function names, quoting a name that
needs no quotes, redundant parentheses and ``1`` against ``1.0`` all disappear, because
the text is made from the AST, not from the formula as written. ``kpispec diff`` compares
definitions by it.
"""

from __future__ import annotations

import dataclasses

from kpispec.formula.nodes import Literal, Node
from kpispec.formula.parser import parse
from kpispec.formula.tokens import FormulaSyntaxError

#: Node fields that say where or how a node was written, not what it means.
_WRITING = frozenset({"start", "end", "name_end", "filter_start", "quoted"})


def canonical(text: str) -> str:
    """The canonical text of a formula; the formula itself (stripped) if it does not parse."""
    try:
        return _text(parse(text))
    except FormulaSyntaxError:  # compared as written (validation reports it)
        return " ".join(text.split())


def _text(node: Node) -> str:
    if isinstance(node, Literal):
        value = node.value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return repr(float(value))
        return repr(value)
    parts = [type(node).__name__]
    for f in dataclasses.fields(node):
        if f.name in _WRITING:
            continue
        parts.append(f"{f.name}={_value(getattr(node, f.name))}")
    return "(" + " ".join(parts) + ")"


def _value(value: object) -> str:
    if isinstance(value, Node):
        return _text(value)
    if isinstance(value, tuple):
        return "[" + " ".join(_value(v) for v in value) + "]"
    return repr(value)
