"""No input makes validation crash: random YAML and random formulas give diagnostics only."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpispec.diagnostics import Diagnostic
from kpispec.spec.load import load

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["2026-10-01", "+10%", "5%", "month", "fail", "sessions", "sum(x)", "NO"]),
)
KEYS = [
    "id",
    "formula",
    "target",
    "targets",
    "min",
    "max",
    "by",
    "baseline",
    "change",
    "source",
    "sources",
    "kpis",
    "tests",
    "rows",
    "expect",
    "scorecard",
    "window",
    "grain",
    "path",
    "sql",
    "time",
    "filter",
    "dimensions",
    "owner",
    "unit",
    "columns",
    "from",
    "tolerance",
    "kpispec",
]
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=8))
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)
formula_tokens = st.sampled_from(
    ["sum(", "count(*)", "count(distinct ", "share(", "avg(", "percentile(", "x", "y", "kpi_a",
     ")", "(", ",", " + ", " - ", " * ", " / ", " and ", " or ", " not ", " in (", " between ",
     " is null", " filter (where ", "case when ", " then ", " else ", " end", "'s'", '"q"', "1",
     "0.5", "period_start", "date_diff('day', ", " = ", " < ", "null", "%", "'", '"']
)  # fmt: skip
formulas = st.one_of(st.text(max_size=40), st.lists(formula_tokens, max_size=14).map("".join))


def check(files: dict[str, str | bytes]) -> list[Diagnostic]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, content in files.items():
            path = folder / name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        loaded = load(folder, data=True)
    for d in loaded.diagnostics:
        assert isinstance(d, Diagnostic)
        assert d.code[0] in "EW" and d.message
        assert d.loc.file
    return loaded.diagnostics


@FUZZ
@given(st.text(max_size=300))
def test_random_text(text: str) -> None:
    check({"spec.yaml": text})


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes(data: bytes) -> None:
    check({"spec.yaml": data})


@FUZZ
@given(values)
def test_random_yaml_values(value: object) -> None:
    check({"spec.yaml": yaml.safe_dump(value, allow_unicode=True)})


@FUZZ
@given(st.dictionaries(keys, values, max_size=6), st.dictionaries(keys, values, max_size=6))
def test_random_spec_shapes(kpi: dict, target: dict) -> None:
    spec = {
        "kpispec": 1,
        "scorecard": {"id": "fuzz", "title": "Fuzz"},
        "sources": [{"id": "sessions", "path": "s.csv", "time": "at"}],
        "kpis": [
            {"id": "kpi_a", "source": "sessions", "formula": "count(*)", **kpi, "target": target}
        ],
    }
    check({"spec.yaml": yaml.safe_dump(spec, allow_unicode=True), "s.csv": "at,x,y\n"})


@FUZZ
@given(formulas, formulas)
def test_random_formulas(formula: str, row_filter: str) -> None:
    spec = {
        "kpispec": 1,
        "scorecard": {"id": "fuzz", "title": "Fuzz"},
        "sources": [{"id": "sessions", "path": "s.csv", "time": "at", "filter": row_filter}],
        "kpis": [
            {"id": "kpi_a", "source": "sessions", "formula": formula},
            {"id": "kpi_b", "formula": "kpi_a * 2"},
        ],
    }
    diagnostics = check(
        {"spec.yaml": yaml.safe_dump(spec, allow_unicode=True), "s.csv": "at,x,y\n"}
    )
    for d in diagnostics:
        assert d.loc.line >= 1
