"""The one place that decides whether a path may be touched: inside the project root.

Every file kpispec reads or writes on behalf of a spec (spec files, source files and the
files their globs match, spec-test rows, database files named in connections, output
folders) goes through :func:`confine`. It resolves every symlink on the way and refuses a
path whose real location leaves the root, so a committed symlink cannot smuggle an outside
file into a build. ``allow_outside`` (``--allow-outside-root``) lifts the rule for people
who trust their specs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Escape:
    """Why a path is refused: the path asked for, where it really leads, and the symlink
    (if any) that led outside."""

    path: Path
    real: Path
    link: Path | None
    link_target: str | None

    def describe(self, root: Path) -> str:
        """One sentence for a diagnostic message."""
        if self.link is not None:
            return (
                f"{_show(self.path, root)} leads outside the project root {root} through the "
                f"symlink {_show(self.link, root)} -> {self.link_target}"
            )
        return f"{_show(self.path, root)} points outside the project root {root}"


def _show(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def real_root(root: Path) -> Path:
    """The root as the rule compares it: absolute, every symlink resolved."""
    return Path(os.path.realpath(root))


def escape(path: Path, root: Path) -> Escape | None:
    """Why ``path`` leaves ``root`` (both may hold symlinks), or None when it stays inside.

    The path need not exist: a missing tail is judged by its parents' real location.
    """
    real_base = real_root(root)
    absolute = Path(os.path.abspath(path))
    real = Path(os.path.realpath(absolute))
    if real.is_relative_to(real_base):
        return None
    return Escape(absolute, real, *_first_link_outside(absolute, root, real_base))


def _first_link_outside(path: Path, root: Path, real_base: Path) -> tuple[Path | None, str | None]:
    """The first symlink along ``path`` (below the root) whose real target is outside."""
    start = Path(os.path.abspath(root))
    if path.is_relative_to(start):
        current, rest = start, path.relative_to(start).parts
    else:
        current, rest = Path(path.anchor), path.parts[1:]
    for part in rest:
        current = current / part
        if current.is_symlink():
            target = Path(os.path.realpath(current))
            if not target.is_relative_to(real_base):
                return current, os.readlink(current)
    return None, None


def inside(path: Path, root: Path) -> bool:
    """Whether the real location of ``path`` is inside the real root."""
    return escape(path, root) is None
