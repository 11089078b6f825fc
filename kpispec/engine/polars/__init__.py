"""The Polars backend: formulas lowered to Polars expressions (the plan and sources use them)."""
