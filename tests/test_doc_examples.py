"""Every YAML example in the README and docs/ validates (or fails as it says it does)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from examples import Example, examples, write_project

from kpispec.spec.load import load

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
ALL = [e for page in PAGES for e in examples(page)]


@pytest.mark.parametrize("example", ALL, ids=[e.id for e in ALL])
def test_example(example: Example, tmp_path: Path) -> None:
    markers = example.markers
    if "file" in markers:
        yaml.safe_load(example.text)  # not a spec, but still valid YAML
        return
    write_project(example, tmp_path)
    loaded = load(tmp_path, data=False)
    found = [f"{d.code} {d.loc}: {d.message}" for d in loaded.diagnostics if d.is_error]
    if "invalid" in markers:
        assert any(f.startswith(markers["invalid"]) for f in found), found
    else:
        assert found == []


def test_the_docs_have_examples() -> None:
    assert len(ALL) >= 1
