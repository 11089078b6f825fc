"""kpispec: a declarative KPI spec language and report compiler.

The API (``kpispec.validate``, ``load``, ``evaluate``, ``check``, ``test``, ``render``,
``publish``, ``explain``, ``sql``, ``diff``) lives in :mod:`kpispec.api` and is imported on first use, so
that importing kpispec stays cheap.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
_API = (
    "validate",
    "load",
    "evaluate",
    "check",
    "test",
    "render",
    "publish",
    "explain",
    "sql",
    "diff",
)
__all__ = ["DataError", "Diagnostic", "KpispecError", "SpecError", "__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        from kpispec import api

        return getattr(api, name)
    if name in ("SpecError", "DataError", "KpispecError", "Diagnostic"):
        from kpispec import diagnostics

        return getattr(diagnostics, name)
    raise AttributeError(f"module 'kpispec' has no attribute {name!r}")
