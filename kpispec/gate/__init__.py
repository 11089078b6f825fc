"""The CI gate: the verdict on the typed results (:mod:`kpispec.gate.verdict`) and its
formats (text, JUnit, GitHub annotations, Markdown). Reads only :mod:`kpispec.results`."""
