"""A Polars expression with the kind of value it computes, and the type error it may raise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from kpispec.diagnostics import FormulaProblem
from kpispec.formula.kinds import Kind
from kpispec.formula.nodes import Node
from kpispec.formula.types import HINT, needs


class CompileError(FormulaProblem):
    """A type problem at a character range of a formula (made a D105 by the planner)."""

    code = "D105"
    exit_code = 3

    def __init__(self, message: str, node: Node, hint: str | None = None) -> None:
        super().__init__(message, node.start, node.end, hint)


class Unsupported(CompileError):
    """A formula an engine cannot compute exactly as the language defines it."""

    code = "D110"


@dataclass(frozen=True)
class Typed:
    expr: pl.Expr
    kind: Kind
    literal: Any = None  #: the Python value of a literal, for parsing dates in comparisons
    is_literal: bool = False


def check(value: Typed, allowed: tuple[Kind, ...], node: Node, what: str) -> None:
    """Raise the language's complaint if ``value`` is not of an ``allowed`` kind."""
    message = needs(value.kind, allowed, what)
    if message is not None:
        raise CompileError(message, node, HINT)
