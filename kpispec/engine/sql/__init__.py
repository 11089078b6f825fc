"""The SQL engines: the logical plan lowered to sqlglot expression trees, per dialect.

``dialects`` is the capability table, ``compile`` the formula lowering, ``query`` the
aggregate query of a group, ``run`` the databases (DuckDB, PostgreSQL, Spark) that run it.
"""
