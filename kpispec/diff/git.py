"""A project's spec files at a git revision, read with git's plumbing.

Nothing here writes: ``git ls-tree`` lists the revision's files and ``git cat-file
--batch`` reads their contents, so the work tree, the index and the refs stay as they
were (``GIT_OPTIONAL_LOCKS=0`` keeps git from refreshing the index on the side). Only
the files below the project root are listed, so a spec at a revision can name nothing
outside it; data files are read from the working tree, the same for both revisions.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

from kpispec.diagnostics import Diagnostic, Loc, SpecError
from kpispec.escaping import one_line
from kpispec.spec.loader import MAX_FILE_BYTES, LoadError, display_name, too_large
from kpispec.spec.project import PROJECT_FILE, SPEC_SUFFIXES, Layout

WORKING_TREE = "working tree"
_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")


@dataclass(frozen=True, slots=True)
class Revision:
    """A side of a diff: a commit (as the user named it), or the working tree."""

    name: str  #: as given on the command line, or "working tree"
    commit: str | None = None  #: the full commit id; None for the working tree

    @property
    def short(self) -> str:
        """The name a report shows: ``main``, ``a1b2c3d`` (for a commit id), ``working tree``."""
        if self.commit is not None and _SHA.fullmatch(self.name):
            return self.commit[:7]
        return self.name

    @property
    def label(self) -> str:
        """``main (a1b2c3d)``, or ``working tree``."""
        if self.commit is None:
            return self.name
        short = self.commit[:7]
        return short if self.short == short else f"{self.short} ({short})"


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}
    try:
        return subprocess.run(
            ["git", "-C", str(repo), *args], input=stdin, capture_output=True, env=env, check=False
        )
    except OSError as exc:
        raise _usage("E008", f"cannot run git: {exc.strerror or exc}", "install git") from None


def _usage(code: str, message: str, hint: str) -> SpecError:
    return SpecError([Diagnostic(code, message, Loc("<command line>"), hint)])


def top_level(path: Path) -> Path:
    """The top folder of the git repository that holds ``path`` (E008 if none does)."""
    folder = path if path.is_dir() else path.parent
    done = _git(folder, "rev-parse", "--show-toplevel")
    if done.returncode != 0:
        said = one_line(done.stderr.decode("utf-8", "replace").strip())
        if "dubious ownership" in said:  # a checkout owned by another user (CI containers)
            raise _usage(
                "E008",
                f"git refuses to read {display_name(path)}: {said}",
                "mark the checkout safe: git config --global --add safe.directory <its path>",
            )
        raise _usage(
            "E008",
            f"{display_name(path)} is not in a git repository",
            "run kpispec diff inside a git checkout of the project",
        )
    return Path(os.fsdecode(done.stdout.rstrip(b"\n")))


def resolve(repo: Path, name: str) -> Revision:
    """The commit a revision names (a branch, a tag, a commit id, ``HEAD~1``); else E009."""
    done = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{name}^{{commit}}")
    if done.returncode != 0 or not name or name.startswith("-"):
        raise _usage(
            "E009",
            f"unknown git revision {one_line(name)!r}",
            "name a branch, a tag or a commit of this repository (in CI, fetch it first: "
            "actions/checkout with fetch-depth: 0)",
        )
    return Revision(name, done.stdout.decode("ascii").strip())


@dataclass(frozen=True, slots=True)
class _Entry:
    mode: str
    sha: str
    size: int


class GitTree:
    """The spec files of the project below ``root`` as they are at ``revision``.

    Implements :class:`kpispec.spec.tree.SpecTree`: files are named by their working-tree
    paths (so that data paths and names are those of the working tree), read from git.
    """

    def __init__(self, repo: Path, revision: Revision, root: Path) -> None:
        assert revision.commit is not None
        self.repo = Path(os.path.realpath(repo))
        self.revision = revision
        self.root = root
        self.real_root = Path(os.path.realpath(root))
        prefix = self.real_root.relative_to(self.repo).as_posix()
        listed = _git(
            self.repo, "ls-tree", "-r", "-z", "-l", "--full-tree", revision.commit, "--",
            "." if prefix == "." else prefix,
        )  # fmt: skip
        if listed.returncode != 0:
            raise _usage(
                "E009",
                f"cannot list revision {revision.label}: {one_line(listed.stderr.decode(errors='replace'))}",
                "name a commit of this repository",
            )
        #: path below the root (posix) -> its entry
        self.files: dict[str, _Entry] = {}
        for record in listed.stdout.split(b"\0"):
            if not record:
                continue
            meta, _, name = record.partition(b"\t")
            mode, kind, sha, size = meta.decode("ascii").split()
            if kind != "blob":
                continue  # a submodule
            path = PurePosixPath(os.fsdecode(name))
            below = path.as_posix() if prefix == "." else path.relative_to(prefix).as_posix()
            self.files[below] = _Entry(mode, sha, 0 if size == "-" else int(size))
        self._texts: dict[str, bytes] = {}

    def empty(self, project_file: bool) -> bool:
        """No project here at this revision: no project file where the other revision has
        one (the YAML files there are something else), or no YAML file at all."""
        if project_file and PROJECT_FILE not in self.files:
            return True
        return not any(name.endswith(SPEC_SUFFIXES) for name in self.files)

    def _below(self, path: Path) -> str:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(self.root)).as_posix()

    def layout(self) -> Layout:
        project_file = self.root / PROJECT_FILE if PROJECT_FILE in self.files else None
        return Layout(self.root, project_file, None)

    def spec_files(self, layout: Layout, patterns: list[str]) -> list[Path]:
        globs = [_pattern_parts(p, self.root) for p in patterns]
        found = []
        for name in sorted(self.files):
            if not name.endswith(SPEC_SUFFIXES) or name == PROJECT_FILE:
                continue
            parts = name.split("/")
            if any(p.startswith(".") for p in parts):
                continue  # hidden, as in the working tree
            if patterns:
                if any(g is not None and _matches(parts, g) for g in globs):
                    found.append(name)
            elif "node_modules" not in parts:
                found.append(name)
        self._read([PROJECT_FILE, *found])
        return [self.root / name for name in found]

    def read(self, path: Path) -> bytes:
        name = self._below(path)
        entry = self.files.get(name)
        problem = None
        if entry is None:
            problem = "not in the revision"
        elif entry.mode == "120000":
            problem = "a symlink is not followed at a revision"
        elif entry.size > MAX_FILE_BYTES:
            raise too_large(entry.size, self.name(path))
        else:
            self._read([name])
            if name not in self._texts:
                problem = "git cannot read it (is the clone complete?)"
        if problem is not None:
            raise LoadError(
                Diagnostic(
                    "E100",
                    f"cannot read file: {problem}",
                    Loc(self.name(path)),
                    "keep spec files as regular files in the repository",
                )
            )
        return self._texts[name]

    def _read(self, names: list[str]) -> None:
        """Read these files (those not read yet, regular and small enough) with one
        ``git cat-file --batch``; a blob git cannot read is left out."""
        wanted = []
        for name in dict.fromkeys(names):
            entry = self.files.get(name)
            if entry is None or name in self._texts:
                continue
            if entry.mode != "120000" and entry.size <= MAX_FILE_BYTES:
                wanted.append(name)
        if not wanted:
            return
        shas = "".join(f"{self.files[n].sha}\n" for n in wanted).encode("ascii")
        out = _git(self.repo, "cat-file", "--batch", stdin=shas).stdout
        at = 0
        for name in wanted:
            end = out.find(b"\n", at)
            if end < 0:
                break
            header = out[at:end].split()
            if len(header) != 3:  # "<sha> missing": not in the object store
                at = end + 1
                continue
            size = int(header[2])
            self._texts[name] = out[end + 1 : end + 1 + size]
            at = end + 1 + size + 1

    def name(self, path: Path) -> str:
        return f"{self.revision.short}:{display_name(path)}"


def _pattern_parts(pattern: str, root: Path) -> list[str] | None:
    """A glob as parts below ``root`` (written relative to it, or absolute); None when it
    names no place below the root."""
    top = os.path.abspath(root)
    joined = os.path.normpath(os.path.join(top, pattern))
    if joined != top and not joined.startswith(top + os.sep):
        return None
    below = os.path.relpath(joined, top).replace(os.sep, "/")
    return [p for p in below.split("/") if p not in ("", ".")]


def _matches(parts: list[str], pattern: list[str]) -> bool:
    """Whether a path (its parts) matches a glob as :func:`glob.glob` with ``recursive``
    matches it: ``*`` stays in a folder, ``**`` spans folders, and a wildcard matches a
    hidden name only when the pattern's part starts with ``.``."""
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(
            _matches(parts[i:], rest)
            for i in range(len(parts) + 1)
            if not any(p.startswith(".") for p in parts[:i])
        )
    if not parts:
        return False
    name = parts[0]
    if name.startswith(".") and not head.startswith("."):
        return False
    return fnmatchcase(name, head) and _matches(parts[1:], rest)
