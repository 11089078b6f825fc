"""The backend-neutral logical plan: what to aggregate, grouped how, over which windows.

Built from the checked KPIs of one source (:mod:`kpispec.plan.build`); lowered to Polars by
:mod:`kpispec.engine.polars.scans`. Imports no Polars: the plan is data and rules only.
"""
