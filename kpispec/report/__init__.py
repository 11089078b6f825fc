"""The reports: the static site, the Markdown scorecards, SVG charts and badges, the
terminal table and CSV, in the reader's locale. Reads only the typed results
(:mod:`kpispec.results`), never a spec or a data file."""
