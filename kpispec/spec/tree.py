"""Where a project's spec files are read from: the working tree, or a git revision.

The loader reads the files of the working tree itself; a :class:`SpecTree` stands in for
it to load a project as it was at a revision (``kpispec diff``), under the same paths, so
that data files, names and lines compare one for one between the two.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from kpispec.spec.project import Layout


class SpecTree(Protocol):
    def layout(self) -> Layout:
        """The project root (a working-tree path) and its project file, if the tree has one."""
        ...

    def spec_files(self, layout: Layout, patterns: list[str]) -> list[Path]:
        """The scorecard files below the root: those ``patterns`` match, or every YAML file."""
        ...

    def read(self, path: Path) -> bytes:
        """The bytes of a file the tree lists; raises LoadError if it cannot be read."""
        ...

    def name(self, path: Path) -> str:
        """The file as diagnostics show it, naming the revision."""
        ...
