"""The typed results model: what an evaluation found, the one hand-off from the engine to
every output (reports, the gate), and its JSON (``schemas/results.schema.json``).

This package imports nothing of ``spec``, ``formula`` or ``engine`` (nor YAML or Polars):
a saved document is read back with :func:`from_json` and rendered without them. The model
is built from an evaluation by :func:`kpispec.engine.results.build`.
"""

from kpispec.results.codec import ResultsError, dumps, from_dict, from_json, to_dict, to_json
from kpispec.results.model import (
    ATTENTION,
    STATUS_ORDER,
    STATUSES,
    VERSION,
    Bound,
    Breakdown,
    Change,
    Gate,
    Kpi,
    Link,
    Member,
    MemberPoint,
    Owner,
    Period,
    Point,
    ProjectInfo,
    Results,
    Scorecard,
    Source,
    Status,
    Summary,
    Target,
    summarize,
)

__all__ = [
    "ATTENTION",
    "STATUSES",
    "STATUS_ORDER",
    "VERSION",
    "Bound",
    "Breakdown",
    "Change",
    "Gate",
    "Kpi",
    "Link",
    "Member",
    "MemberPoint",
    "Owner",
    "Period",
    "Point",
    "ProjectInfo",
    "Results",
    "ResultsError",
    "Scorecard",
    "Source",
    "Status",
    "Summary",
    "Target",
    "dumps",
    "from_dict",
    "from_json",
    "summarize",
    "to_dict",
    "to_json",
]
