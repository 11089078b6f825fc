"""Small helpers shared by the test modules."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml


def write_files(folder: Path, files: dict[str, str] | dict[str, str | bytes]) -> Path:
    """Write ``files`` (relative path -> text or bytes) below ``folder``; return ``folder``."""
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def line_of(text: str, needle: str, *, whole: bool = True) -> int:
    """The 1-based number of the one line of ``text`` that reads ``needle`` (stripped), or
    with ``whole=False`` that contains it."""
    found = [
        n
        for n, line in enumerate(text.splitlines(), 1)
        if (line.strip() == needle if whole else needle in line)
    ]
    assert len(found) == 1, (needle, found)
    return found[0]


def evaluate_doc(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """``kpispec.evaluate`` as the results document's JSON data (``eval --format json``)."""
    import kpispec
    from kpispec.results import to_dict

    return to_dict(kpispec.evaluate(*args, **kwargs))


def yaml12(text: str) -> Any:
    """YAML as kpispec reads it (YAML 1.2's core schema): dates stay text and only
    true/false are booleans, so the `on:` of a join is a key, not YAML 1.1's boolean."""
    loader = type("L", (yaml.SafeLoader,), {})
    dropped = ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    loader.yaml_implicit_resolvers = {
        k: [r for r in v if r[0] not in dropped]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf")
    )
    return yaml.load(text, Loader=loader)
