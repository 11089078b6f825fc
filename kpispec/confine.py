"""The one place that decides whether a path may be touched: inside the project root.

Every file kpispec reads or writes on behalf of a spec (spec files, source files and the
files their globs match, spec-test rows, database files named in connections, output
folders) is judged by :func:`escape`. It resolves every symlink on the way, in order (so
``link/..`` goes where the operating system goes, not where the text suggests), and
refuses a path whose real location leaves the root, so a committed symlink cannot smuggle
an outside file into a build. ``--allow-outside-root`` lifts the rule for people who
trust their specs. :func:`outside_root` turns an escape into the E410 diagnostic, and
:func:`glob_paths` expands a source's glob without following symlinked folders under
``**`` (no loops, no walks through the rest of the machine).
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kpispec.diagnostics import Diagnostic, Loc

#: What E410 suggests, unless the caller knows better.
HINT = (
    "keep the file inside the project (copy it in, or make the symlink point inside the "
    "root), or pass --allow-outside-root if you trust these specs"
)


@dataclass(frozen=True, slots=True)
class Escape:
    """Why a path is refused: the path asked for, where it really leads, and the symlink
    (if any) that led outside."""

    path: Path
    real: Path
    link: Path | None
    link_target: str | None

    def describe(self, root: Path) -> str:
        """One sentence for a diagnostic message: which symlink was followed, and where to."""
        shown = _show(self.path, root)
        if self.link is None:
            return f"{shown} is outside the project root {root}"
        if self.link == self.path:
            really = "" if self.link_target == str(self.real) else f", which is {self.real}"
            return f"{shown} is a symlink to {self.link_target}{really}, outside the project root {root}"
        return (
            f"{shown} is {self.real}, outside the project root {root}: it goes through "
            f"the symlink {_show(self.link, root)} -> {self.link_target}"
        )


def _show(path: Path, root: Path) -> str:
    for base in (Path(os.path.abspath(root)), real_root(root)):
        try:
            return str(path.relative_to(base))
        except ValueError:
            continue
    return str(path)


def real_root(root: Path) -> Path:
    """The root as the rule compares it: absolute, every symlink resolved."""
    return Path(os.path.realpath(root))


def _within(path: Path, base: Path) -> bool:
    return path == base or path.is_relative_to(base)


def escape(path: Path, root: Path) -> Escape | None:
    """Why ``path`` leaves ``root`` (both may hold symlinks), or None when it stays inside.

    The path need not exist: a missing tail is judged by its parents' real location. The
    path is not normalised before symlinks are resolved: ``data/../x`` with ``data`` a
    symlink is judged where it really leads.
    """
    real_base = real_root(root)
    absolute = Path(os.path.join(os.getcwd(), path))  # keeps `..` (pathlib never folds it)
    real = Path(os.path.realpath(absolute))
    if _within(real, real_base):
        return None
    link, target = _first_link_outside(absolute, real_base)
    return Escape(absolute, real, link, target)


def _first_link_outside(path: Path, real_base: Path) -> tuple[Path | None, str | None]:
    """The first symlink along ``path``, in a folder inside the root, that leads outside."""
    current = Path(path.anchor)  # the real folder reached so far
    shown = Path(path.anchor)  # the same place, spelled as the user spelled it
    for part in path.parts[1:]:
        shown = shown / part
        if part == "..":
            current = current.parent
            continue
        candidate = current / part
        try:
            is_link = candidate.is_symlink()
        except OSError:
            return None, None
        if not is_link:
            current = candidate
            continue
        target = Path(os.path.realpath(candidate))
        if _within(current, real_base) and not _within(target, real_base):
            try:
                return shown, os.readlink(candidate)
            except OSError:
                return shown, str(target)
        current = target
    return None, None


def inside(path: Path, root: Path) -> bool:
    """Whether the real location of ``path`` is inside the real root."""
    return escape(path, root) is None


def outside_root(
    what: str, paths: Iterable[Path], root: Path, loc: Loc, hint: str = HINT
) -> Diagnostic | None:
    """E410 for the first of ``paths`` that leaves the root (``what`` names the reader).

    A path holding a NUL character names no file anywhere (the system refuses it): that is
    E204, reported here because every path a spec names passes through this check.
    """
    for path in paths:
        if "\x00" in str(path):
            return nul_in_path(loc)
        found = escape(path, root)
        if found is not None:
            return Diagnostic(
                "E410", f"{what}: {found.describe(root)}", loc, hint, length=max(1, loc.length)
            )
    return None


def nul_in_path(loc: Loc) -> Diagnostic:
    """The one diagnostic for a path that holds a NUL character."""
    return Diagnostic(
        "E204", "a path cannot hold a NUL character", loc, "remove the \\0 from the path"
    )


_MAGIC = re.compile(r"[*?[]")


def has_magic(pattern: str) -> bool:
    return _MAGIC.search(pattern) is not None


def glob_paths(base: Path, pattern: str, within: Path | None = None) -> list[Path]:
    """The paths (files, folders, links) ``pattern`` (relative to ``base``, or absolute) matches, sorted.

    The rules of :func:`glob.glob` with ``recursive=True`` (``*`` and ``?`` stay in one
    folder, ``**`` spans folders, names starting with ``.`` match only a pattern that
    starts with ``.``), except that ``**`` does not descend into symlinked folders: a
    symlink loop (``d/a -> .``) cannot make the walk endless, and a link out of the
    project is not walked. Links named by the pattern are followed (and then judged by
    :func:`escape`, like every match). With ``within`` (the project root), no folder whose
    real location is outside it is ever listed (``/**/*.csv`` does not walk the machine):
    such a folder is returned itself, in place of what it holds, so that the caller's
    :func:`escape` check refuses it by name.
    """
    full = Path(os.path.join(os.getcwd(), base, pattern))
    paths = [Path(full.anchor)]
    fence = None if within is None else real_root(within)
    fenced: list[Path] = []
    for part in full.parts[1:]:
        if fence is not None and (part == "**" or has_magic(part)):
            outside = [p for p in paths if not _within(Path(os.path.realpath(p)), fence)]
            fenced += [p for p in outside if p.is_dir()]
            paths = [p for p in paths if p not in outside]
        if part == "**":
            paths = [found for p in paths for found in _below(p)]
        elif has_magic(part):
            paths = [
                p / name
                for p in paths
                for name in _names(p)
                if (part.startswith(".") or not name.startswith("."))
                and fnmatch.fnmatchcase(name, part)
            ]
        else:
            paths = [p / part for p in paths]
    return sorted({p for p in paths if os.path.lexists(p)} | set(fenced))


def _names(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return [e.name for e in entries]
    except OSError:
        return []


def _below(folder: Path) -> list[Path]:
    """``folder`` and everything below it that is not hidden, without entering links."""
    found = [folder]
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as entries:
                listed = [(e.name, e.is_symlink(), _is_dir(e)) for e in entries]
        except OSError:
            continue
        for name, is_link, is_dir in listed:
            if name.startswith(".") or (is_link and is_dir):
                continue  # hidden, or a symlinked folder: not walked, as pathlib does
            path = current / name
            found.append(path)
            if is_dir:
                stack.append(path)
    return found


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def database_file(url: str, root: Path) -> Path | None:
    """The file an ``sqlite:`` or ``duckdb:`` URL opens (relative to the root), or None.

    ``sqlite:///data/x.db`` is relative to the project root, ``sqlite:////abs/x.db`` is
    absolute; ``:memory:`` and an empty path open no file. Other schemes open no file.
    """
    scheme = url.split(":", 1)[0].lower()
    if scheme not in ("sqlite", "duckdb"):
        return None
    target = url.split(":///", 1)[1] if ":///" in url else url.split("://", 1)[-1]
    if target in ("", ":memory:"):
        return None
    return Path(target) if Path(target).is_absolute() else root / target
