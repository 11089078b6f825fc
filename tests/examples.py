"""Extract the YAML examples of a Markdown page and turn each into a project to validate.

The conventions (docs/contributing.md): a block is a whole spec file (it has
`kpispec: 1` and `scorecard:`), a project file (`# kpispec.yaml` first), a fragment
(`# fragment: kpi` merged over a base KPI, `# fragment: spec` appended to a base spec),
an invalid example (`# invalid: CODE` first), or not kpispec at all (`# file: name`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from helpers import yaml12

FENCE = re.compile(r"^```yaml[^\n]*\n(.*?)^```", re.S | re.M)

BASE_SOURCE = {"id": "events", "path": "events.csv", "time": "at"}
BASE_KPI = {"id": "example", "name": "Example", "source": "events", "formula": "count(*)"}


@dataclass
class Example:
    page: str
    line: int
    text: str

    @property
    def markers(self) -> dict[str, str]:
        found = {}
        for line in self.text.splitlines()[:2]:
            m = re.match(r"#\s*(fragment|invalid|file):\s*(\S+)", line.strip())
            if m:
                found[m.group(1)] = m.group(2)
        return found

    @property
    def id(self) -> str:
        return f"{Path(self.page).name}:{self.line}"


def examples(page: Path) -> list[Example]:
    text = page.read_text(encoding="utf-8")
    out = []
    for m in FENCE.finditer(text):
        line = text.count("\n", 0, m.start()) + 2
        out.append(Example(str(page), line, m.group(1)))
    return out


def _plain(text: str) -> Any:
    return yaml12(text)


def base_spec() -> dict[str, Any]:
    return {
        "kpispec": 1,
        "scorecard": {"id": "examples", "title": "Examples"},
        "sources": [dict(BASE_SOURCE)],
        "kpis": [],
    }


def write_project(example: Example, folder: Path) -> None:
    """Lay out the example as a project in ``folder``."""
    markers = example.markers
    first = example.text.lstrip().splitlines()[0] if example.text.strip() else ""
    kind = markers.get("fragment")
    if kind == "kpi":
        spec = base_spec()
        spec["kpis"] = [{**BASE_KPI, **_plain(example.text)}]
        (folder / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    elif kind == "spec":
        spec = base_spec()
        for key, value in (_plain(example.text) or {}).items():
            if isinstance(value, list):
                spec.setdefault(key, []).extend(value)
            else:
                spec[key] = value
        (folder / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    elif first.startswith("# kpispec.yaml"):
        (folder / "kpispec.yaml").write_text(example.text, encoding="utf-8")
        spec = base_spec()
        spec["kpis"] = [dict(BASE_KPI)]
        (folder / "specs").mkdir()
        (folder / "specs" / "spec.yaml").write_text(
            yaml.safe_dump(spec, sort_keys=False), encoding="utf-8"
        )
    else:
        (folder / "spec.yaml").write_text(example.text, encoding="utf-8")
