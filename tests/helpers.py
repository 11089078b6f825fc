"""Small helpers shared by the test modules."""

from __future__ import annotations

from pathlib import Path
from typing import Any


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
