"""The front end: spec files to a checked project (find, read YAML, schema, model, checks), no Polars."""
