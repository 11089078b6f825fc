"""The engine: sources opened lazily, one fused Polars query per source (plan), the
shared stage after aggregation (evaluate: derived KPIs, periods, freshness), targets and
statuses, the typed results built from it (results), and spec tests. Besides the
sample-data generators (`kpispec.examples`), the only package that imports Polars or a
database driver."""
