"""The example project in specs/: clean, tested, every status shown, data reproducible."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from helpers import evaluate_doc
from polars.testing import assert_frame_equal

import kpispec
from kpispec.examples.__main__ import DOMAINS

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
AS_OF = "2026-11-22"


@pytest.fixture(scope="module")
def doc() -> dict:
    return evaluate_doc(SPECS, as_of=AS_OF)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kpispec", *args], capture_output=True, text=True, cwd=ROOT
    )


def test_validates_without_errors_or_warnings() -> None:
    done = run("validate", "specs", "--strict", "--format", "json")
    assert done.returncode == 0, done.stdout
    assert '"diagnostics": []' in done.stdout


def test_the_specs_own_tests_pass() -> None:
    done = run("test", "specs")
    assert done.returncode == 0, done.stdout
    last = done.stdout.strip().splitlines()[-1]
    passed = int(last.split()[0])
    assert last == f"{passed} passed, 0 failed"
    assert passed >= 37


def test_catalogue_size_and_smart_targets(doc: dict) -> None:
    cards = doc["scorecards"]
    assert len(cards) >= 6
    kpis = [k for c in cards for k in c["kpis"]]
    assert len(kpis) >= 30
    for kpi in kpis:
        assert kpi["description"], kpi["id"]
        assert kpi["owner"], kpi["id"]
        assert kpi["targets"], kpi["id"]
        final = kpi["targets"][-1]
        assert final["why"] and final["by"], kpi["id"]


def test_every_kpi_has_a_spec_test() -> None:
    loaded = kpispec.load(SPECS)
    tested = {t.kpi for card in loaded.checked.project.scorecards for t in card.tests}
    kpis = {k.id for k in loaded.checked.project.all_kpis()}
    assert kpis - tested == set()


def test_the_scorecards_show_every_status(doc: dict) -> None:
    statuses = {k["status"] for c in doc["scorecards"] for k in c["kpis"]}
    assert {"met", "at_risk", "missed"} <= statuses
    # a glide path on track: met, with the bound in force below the final target
    on_track = [
        k
        for c in doc["scorecards"]
        for k in c["kpis"]
        if k["status"] == "met"
        and k["bound"]
        and k["bound"]["min"] is not None
        and any(t["from"] or t["baseline"] is not None for t in k["targets"])
        and k["bound"]["min"] < (k["targets"][-1]["min"] or float("inf"))
    ]
    assert on_track


def test_a_norwegian_and_a_danish_scorecard(doc: dict) -> None:
    locales = {c["locale"] for c in doc["scorecards"]}
    assert {"nb", "da"} <= locales


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_sample_data_is_reproducible(domain: str, tmp_path: Path) -> None:
    import importlib

    module = importlib.import_module(f"kpispec.examples.{domain}")
    written = module.generate(tmp_path)
    assert written
    for path in written:
        committed = SPECS / "data" / path.name
        assert committed.is_file(), f"{path.name} is not committed in specs/data"
        assert_frame_equal(pl.read_parquet(path), pl.read_parquet(committed))


def test_the_sample_data_is_small() -> None:
    total = sum(p.stat().st_size for p in (SPECS / "data").iterdir())
    assert total < 4 * 1024 * 1024
