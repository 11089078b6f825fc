"""kpispec: a declarative KPI spec language and report compiler.

The API (``kpispec.load``, ``kpispec.evaluate``, ``kpispec.explain``) lives in
:mod:`kpispec.api` and is imported on first use, so that importing kpispec stays cheap.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["DataError", "SpecError", "__version__", "evaluate", "explain", "load", "render"]


def __getattr__(name: str) -> Any:
    if name in ("load", "evaluate", "explain", "render"):
        from kpispec import api

        return getattr(api, name)
    if name in ("SpecError", "DataError", "KpispecError", "Diagnostic"):
        from kpispec import diagnostics

        return getattr(diagnostics, name)
    raise AttributeError(f"module 'kpispec' has no attribute {name!r}")
