"""Every YAML example in the README and docs/ validates (or fails as it says it does)."""

from __future__ import annotations

import re
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


PYTHON = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
PY_EXAMPLES = [
    (page, text.count("\n", 0, m.start()) + 2, m.group(1))
    for page in PAGES
    for text in [page.read_text(encoding="utf-8")]
    for m in PYTHON.finditer(text)
]


@pytest.mark.parametrize(
    ("page", "line", "code"), PY_EXAMPLES, ids=[f"{p.name}:{n}" for p, n, _ in PY_EXAMPLES]
)
def test_python_example(page: Path, line: int, code: str, tmp_path: Path, monkeypatch) -> None:
    """Python examples run as written, from a folder laid out like the repository."""
    import kpispec
    from kpispec.results import to_json

    for name in ("specs", "schemas"):
        (tmp_path / name).symlink_to(ROOT / name)
    doc = kpispec.evaluate(ROOT / "specs", as_of="2026-11-22")
    (tmp_path / "results.json").write_text(to_json(doc), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"{page.name}:{line}", "exec"), {"__name__": "__example__"})
