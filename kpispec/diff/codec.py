"""The diff as JSON (``kpispec diff --format json``), following ``schemas/diff.schema.json``.

Keys come in the order of the model's fields; floats are the engine's, written as the
shortest text that reads back the same; the same diff gives the same bytes.
"""

from __future__ import annotations

import dataclasses
from enum import Enum

from kpispec import __version__
from kpispec.diff.git import Revision
from kpispec.diff.model import Diff

SCHEMA = "diff.schema.json"


def _plain(value: object) -> object:
    if isinstance(value, Revision):
        return {"name": value.name, "commit": value.commit, "label": value.label}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value


def to_dict(diff: Diff) -> dict[str, object]:
    """The diff document as plain JSON data."""
    body = _plain(diff)
    assert isinstance(body, dict)
    version = body.pop("version")
    return {"kpispec_diff": version, "generator": f"kpispec {__version__}", **body}


def to_json(diff: Diff) -> str:
    from kpispec.results.codec import dumps

    return dumps(to_dict(diff))
