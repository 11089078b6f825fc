"""docs/cli.md and docs/ci.md show what `kpispec diff` really prints for the example project.

The example (tests/diff_example.py) changes one formula and one target of specs/ in a
throwaway repository; each block marked ``<!-- output: NAME -->`` in the docs must be the
command's output, byte for byte. ``python tests/diff_example.py`` writes them again.
"""

from __future__ import annotations

from pathlib import Path

import diff_example as example
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return example.make(tmp_path_factory.mktemp("diff-docs"))


@pytest.mark.parametrize("name", sorted(example.PAGES))
def test_the_docs_show_the_real_output(repo: Path, name: str) -> None:
    page = (ROOT / example.PAGES[name]).read_text(encoding="utf-8")
    shown = example.block(page, name).group(1)
    assert shown == example.run(repo, name), f"run `python tests/diff_example.py` ({name})"


def test_the_example_holds_a_target_change_and_a_formula_change(repo: Path) -> None:
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "kpispec", *example.COMMANDS["diff-text"], "--format", "json"],
        cwd=repo, capture_output=True, text=True, check=True,
    )  # fmt: skip
    data = json.loads(done.stdout)
    fields = {(k["id"], f["field"]) for k in data["kpis"] for f in k["fields"]}
    assert fields == {("revenue", "formula"), ("return_rate", "target.max")}
    # the return rate of 2026-10 (12.7 %) misses ≤ 10 % and meets ≤ 13 %
    (rate,) = [k for k in data["kpis"] if k["id"] == "return_rate"]
    assert (rate["base"]["status"], rate["head"]["status"]) == ("missed", "met")
    assert 10 < rate["head"]["value"] <= 13
