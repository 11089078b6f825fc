"""kpispec: a declarative KPI spec language and report compiler."""

__version__ = "0.1.0"
