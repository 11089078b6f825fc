"""The whole pipeline on hostile input: only KpispecError may escape.

The oracle of benchmarks/fuzz_specs.py (which runs 100,000 inputs), at a count that keeps
the suite fast: the example specs mutated by the fuzzer's own mutators, and formulas and
values built by Hypothesis over a small project, loaded, evaluated, rendered and tested
in process through the Python API. test_fuzz.py covers validation alone.
"""

from __future__ import annotations

import importlib.util
import math
import random
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import evaluate_doc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpispec
from kpispec.api import parse_as_of
from kpispec.diagnostics import KpispecError
from kpispec.engine.spectests import run_tests

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("fuzz_specs", ROOT / "benchmarks" / "fuzz_specs.py")
assert _spec is not None and _spec.loader is not None
fuzz = importlib.util.module_from_spec(_spec)
sys.modules["fuzz_specs"] = fuzz  # dataclasses look their module up by name
_spec.loader.exec_module(fuzz)

PIPELINE = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def pipeline(spec: Path, as_of: str, period: str | None, out: Path) -> dict[str, Any] | None:
    """Load, evaluate, render and test; None when a KpispecError stopped it (as it may)."""
    try:
        loaded = kpispec.load(spec)
        doc = evaluate_doc(loaded, as_of=as_of, period=period)
        kpispec.render(doc, out)
        run_tests(loaded.checked, as_of=parse_as_of(as_of), scorecards=loaded.selected)
    except KpispecError:
        return None
    return doc


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    corpus = fuzz.Corpus.of_examples()
    folder = tmp_path_factory.mktemp("fuzz")
    project = corpus.project(folder / "p")
    for name in corpus.originals:  # as the fuzzer does: alone when a scorecard can be
        corpus.write(project, name, None)
        if pipeline(project / "scorecards" / name, fuzz.AS_OF, None, folder / "site") is None:
            corpus.needs_others.add(name)
    return corpus, project


def test_the_examples_pass_the_pipeline(examples: tuple[Any, Path], tmp_path: Path) -> None:
    corpus, project = examples
    for name in corpus.originals:
        corpus.write(project, name, None)
        doc = pipeline(project / "scorecards" / name, fuzz.AS_OF, None, tmp_path / "site")
        assert doc is not None, name


@PIPELINE
@given(st.integers(0, 2**63))
def test_mutated_example_specs(examples: tuple[Any, Path], seed: int) -> None:
    corpus, project = examples
    fuzzed = corpus.input(project, random.Random(seed))
    out = project.parent / "site"
    doc = pipeline(fuzzed.spec, fuzzed.as_of, fuzzed.period, out)
    if doc is not None:
        for card in doc["scorecards"]:
            for kpi in card["kpis"]:
                value = kpi["value"]
                assert value is None or math.isfinite(value)
    shutil.rmtree(out, ignore_errors=True)


numbers = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([2**63 - 1, -(2**63), 1e28, 1e308, -1e308, 5e-324]),
)
formula_text = st.one_of(
    st.builds(lambda seed: fuzz._formula(random.Random(seed)), st.integers(0, 2**32)),
    st.lists(st.sampled_from(fuzz.FORMULA_PARTS), max_size=12).map("".join),
    st.text(max_size=30),
)


@PIPELINE
@given(
    formula=formula_text,
    values=st.lists(numbers, min_size=0, max_size=6),
    as_of=st.sampled_from(fuzz.AS_OFS),
    period=st.sampled_from(fuzz.PERIODS),
    unit=st.sampled_from(["count", "percent", "currency", "number", "seconds"]),
)
def test_formulas_over_extreme_values(
    tmp_path_factory: pytest.TempPathFactory,
    formula: str,
    values: list[float],
    as_of: str,
    period: str | None,
    unit: str,
) -> None:
    folder = tmp_path_factory.mktemp("values")
    rows = "".join(f"2026-10-{1 + i:02d},{v!r},{'ab'[i % 2]}\n" for i, v in enumerate(values))
    card = {
        "kpispec": 1,
        "scorecard": {"id": "fuzz", "title": "Fuzz"},
        "sources": [{"id": "s", "path": "s.csv", "time": "at", "columns": {"x": "number"}}],
        "kpis": [
            {
                "id": "k",
                "source": "s",
                "formula": formula,
                "unit": unit,
                "dimensions": ["ch"],
                "target": {"min": 1, "by": "2026-12-31"},
            },
            {"id": "j", "formula": "k * 2 + k"},
        ],
        "tests": [
            {"name": "t", "kpi": "k", "rows": {"s": [{"at": "2026-10-01", "x": 1}]}, "expect": 1}
        ],
    }
    (folder / "kpispec.yaml").write_text("kpispec: 1\ntimezone: Europe/Oslo\n")
    (folder / "s.yaml").write_text(yaml.safe_dump(card, allow_unicode=True))
    (folder / "s.csv").write_text("at,x,ch\n" + rows)
    pipeline(folder / "s.yaml", as_of, period, folder / "site")
