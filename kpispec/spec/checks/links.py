"""Links of a KPI: http, https, mailto or relative; a `javascript:` link runs code (E420)."""

from __future__ import annotations

from kpispec.escaping import link_problem
from kpispec.spec.checks.context import Context
from kpispec.spec.model import Kpi


def check_links(ctx: Context, kpi: Kpi) -> None:
    for link in kpi.links:
        problem = link_problem(link.url)
        if problem is None:
            continue
        scheme = problem.startswith("uses")
        ctx.out.add(
            "E420",
            f"link `{link.url}` is not allowed: it {problem}",
            link.loc or kpi.loc,
            "a link may be http://, https://, mailto: or relative (docs/funnel.html); "
            "javascript:, data: and other schemes could run code in a reader's browser"
            if scheme
            else "write the address without control characters or space around it "
            "(percent-encode a character the address needs, e.g. %20 for a space)",
        )
