"""The type pass: every formula and filter against its source's column kinds (E314)."""

from __future__ import annotations

from kpispec.spec.checks.context import Context
from kpispec.spec.formula_types import type_errors


def check_types(ctx: Context) -> None:
    ctx.out.items.extend(
        type_errors(ctx.project, ctx.checked, ctx.source_filters, ctx.file_columns)
    )
