"""Find a project on disk: its root, its project file and its spec files."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kpispec.confine import glob_paths

PROJECT_FILE = "kpispec.yaml"
SPEC_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Layout:
    root: Path
    project_file: Path | None
    #: The spec files or folder the user named; None means the whole project.
    selection: Path | None


def find_layout(path: Path) -> Layout:
    """Locate the project of ``path`` (a folder or a spec file).

    The project file is looked for in the folder and then in its parents up to the
    repository's top (the folder holding ``.git``). Without one, the folder named is the
    root and every default applies.
    """
    absolute = Path(os.path.abspath(path))
    if absolute.is_symlink() and absolute.is_file():
        # a spec file that is a symlink belongs to the project it sits in, not to the one
        # it points into; whether it may be read is then judged like any other spec file
        path = Path(os.path.realpath(absolute.parent)) / absolute.name
    else:
        path = path.resolve()
    start = path.parent if path.is_file() else path
    selection = path if path.is_file() else None
    folder = start
    while True:
        candidate = folder / PROJECT_FILE
        if candidate.is_file():
            if selection is None and folder != start:
                selection = start
            return Layout(folder, candidate, selection)
        if (folder / ".git").exists() or folder.parent == folder:
            break
        folder = folder.parent
    return Layout(start, None, selection)


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def spec_files(layout: Layout, patterns: list[str]) -> list[Path]:
    """The scorecard files of a project, sorted: its ``specs:`` globs or every YAML file."""
    root = layout.root
    found: set[Path] = set()
    if patterns:
        for pattern in patterns:
            for name in glob_paths(root, pattern, within=root):
                candidate = Path(os.path.abspath(name))  # keep the name a link has
                if (
                    candidate.is_file() or candidate.is_symlink()
                ) and candidate.suffix in SPEC_SUFFIXES:
                    found.add(candidate)
    else:
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "node_modules")
            for file in files:
                if file.endswith(SPEC_SUFFIXES) and not file.startswith("."):
                    found.add(Path(os.path.abspath(Path(folder) / file)))
    if layout.project_file is not None:
        found.discard(layout.project_file.resolve())
    inside = (p for p in found if p.is_relative_to(root))
    return sorted(p for p in inside if not _hidden(p, root))
