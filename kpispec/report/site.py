"""Write the static site and Markdown scorecards (rendered by :mod:`kpispec.report.pages`).

The site is rendered into a temporary folder beside the target and swapped into place in
one step (an exchange rename), under a lock, so a reader never sees half a site or none.
``build`` refuses to write into a folder that holds anything but a previous kpispec build
(it reads that build's manifest), and deletes nothing else.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import tempfile
from pathlib import Path, PurePosixPath

from kpispec.diagnostics import Diagnostic, Loc
from kpispec.outputs import (
    LOCK_WAIT,
    OutputError,
    cannot_write,
    confine_output,
    exchange,
    kind,
    locked,
    refuse_project_folder,
)
from kpispec.report.pages import render
from kpispec.results import Results

MANIFEST = ".kpispec-site.json"


class BuildError(OutputError):
    """The output folder cannot be used (exit status 2: a usage error)."""


#: Beside the output ``site``: ``.site.kpispec-new-XXXX`` is a build being written (after
#: the swap, the previous build being removed); ``.site.kpispec-old-XXXX`` is the previous
#: build moved aside where the file system cannot swap two folders in one step.
STAGING, RETIRED = "kpispec-new-", "kpispec-old-"


def _manifest(folder: Path) -> set[str] | None:
    """The files a kpispec build wrote into ``folder``, from its manifest; None without one."""
    path = folder / MANIFEST
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return set(files)


def _strangers(folder: Path, known: set[str]) -> list[tuple[str, str]]:
    """Every entry below ``folder`` that kpispec did not write, as (relative path, kind).

    Ours are the regular files the manifest lists, the manifest, and the folders holding
    them. Anything else is the user's: files, symlinks, named pipes, sockets, devices, and
    folders (reported when empty; a folder with content is reported by its content).
    """
    ancestors = {str(parent) for name in known for parent in PurePosixPath(name).parents}
    found: list[tuple[str, str]] = []

    def unreadable(error: OSError) -> None:
        found.append((Path(error.filename).relative_to(folder).as_posix(), "unreadable folder"))

    for current, dirs, names in os.walk(folder, onerror=unreadable):
        base = Path(current)
        for name in [*dirs, *names]:
            path = base / name
            rel = path.relative_to(folder).as_posix()
            try:
                mode = os.lstat(path).st_mode
            except FileNotFoundError:
                continue
            if stat.S_ISDIR(mode):
                if rel not in ancestors and not any(os.scandir(path)):
                    found.append((rel, "folder"))
            elif stat.S_ISREG(mode):
                if rel not in known and rel != MANIFEST:
                    found.append((rel, "file"))
            else:
                found.append((rel, kind(mode)))
    return sorted(found, key=lambda entry: (entry[1] != "file", entry[0]))


def _check_target(out: Path, shown: Path | None = None) -> None:
    """Refuse an output that is not a folder, or a folder holding anything but a previous
    kpispec build (E002, E003)."""
    shown = shown or out
    try:
        mode = os.stat(out).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise cannot_write(shown, exc) from None
    if not stat.S_ISDIR(mode):
        raise BuildError(
            [
                Diagnostic(
                    "E002",
                    f"{shown} is a {kind(mode)}, not a folder",
                    Loc(str(shown)),
                    "name a folder for the site",
                )
            ]
        )
    strangers = _strangers(out, _manifest(out) or set())
    if strangers:
        rel, what = strangers[0]
        example = rel if what == "file" else f"the {what} {rel}"
        more = f", and {len(strangers) - 1} more" if len(strangers) > 1 else ""
        raise BuildError(
            [
                Diagnostic(
                    "E003",
                    f"{shown} holds files that are not from a kpispec build (e.g. {example}{more})",
                    Loc(str(shown)),
                    "build into an empty folder, or a folder a previous `kpispec build` wrote; "
                    "kpispec never deletes files it did not write",
                )
            ]
        )


def _remove_build(folder: Path) -> None:
    """Delete a build kpispec wrote: only the regular files its manifest lists, then the
    folders left empty. Symlinks are never followed; anything else stays."""
    known = _manifest(folder) or set()
    for current, dirs, names in os.walk(folder, topdown=False):
        base = Path(current)
        for name in names:
            path = base / name
            rel = path.relative_to(folder).as_posix()
            if rel in known and stat.S_ISREG(os.lstat(path).st_mode):
                path.unlink()
        for name in dirs:
            with contextlib.suppress(OSError):  # not empty, or a symlink: not ours to remove
                (base / name).rmdir()
    with contextlib.suppress(OSError):
        (folder / MANIFEST).unlink(missing_ok=True)  # last: until now the folder says whose
        folder.rmdir()


def _recover(out: Path) -> None:
    """Clean up after builds that were killed while writing beside ``out``.

    Runs under the lock, so no other build is writing. A previous build moved aside and
    never replaced goes back into place; other builds are removed, and a folder holding
    anything kpispec did not write is left alone.
    """
    prefix = f".{out.name}."
    for entry in sorted(out.parent.iterdir()):
        rest = entry.name[len(prefix) :] if entry.name.startswith(prefix) else ""
        if not rest.startswith((STAGING, RETIRED)) or not stat.S_ISDIR(os.lstat(entry).st_mode):
            continue
        known = _manifest(entry)
        if known is None:  # killed before its manifest was complete: empty, or just that
            if all(child.name == MANIFEST and child.is_file() for child in entry.iterdir()):
                with contextlib.suppress(OSError):
                    (entry / MANIFEST).unlink(missing_ok=True)
                    entry.rmdir()
            continue
        if _strangers(entry, known):
            continue
        if rest.startswith(RETIRED) and not os.path.lexists(out):
            os.rename(entry, out)
        else:
            _remove_build(entry)


def _write_build(folder: Path, files: dict[str, str]) -> None:
    manifest = {"generator": "kpispec", "files": sorted(files)}
    # the manifest first: a build killed while writing can then be recognised and removed
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    made: set[Path] = set()
    for rel, text in sorted(files.items()):
        path = folder / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_text(text, encoding="utf-8")
    _permissions(folder)


def _swap_in(files: dict[str, str], out: Path) -> None:
    """Write the build beside ``out`` and put it in place in one step."""
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.{STAGING}", dir=out.parent))
    try:
        _write_build(staging, files)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # our own fresh folder, nobody else's
        raise
    try:
        if not os.path.lexists(out):
            os.rename(staging, out)
        elif not exchange(staging, out):
            # No exchange here (not Linux, or the file system lacks it): two renames. A kill
            # between them leaves no `out`; the next build puts the previous one back.
            prefix = f".{out.name}."
            retired = staging.with_name(prefix + RETIRED + staging.name[len(prefix + STAGING) :])
            os.rename(out, retired)
            try:
                os.rename(staging, out)
            except BaseException:
                os.rename(retired, out)
                raise
            _remove_build(retired)
    finally:
        # after an exchange it holds the previous build; after a failure, the new one
        if os.path.lexists(staging):
            _remove_build(staging)


def write_site(
    files: dict[str, str],
    out: Path,
    *,
    root: Path | None = None,
    allow_outside_root: bool = False,
    wait: float = LOCK_WAIT,
) -> None:
    """Write the site beside ``out`` and swap it into place (replacing a previous build).

    Readers of ``out`` see the previous build or the new one, never none or a part; two
    builds into one folder take turns (a lock beside it); a build killed at any point
    leaves the previous build in place (or, without an exchange rename, for the next
    build to put back).
    """
    refuse_project_folder(out, root)
    confine_output(out, root, allow_outside_root=allow_outside_root)
    _check_target(out)
    real = Path(os.path.realpath(out))
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        with locked(real, wait=wait):
            _recover(real)
            _check_target(real, out)  # again, now that no other build is writing
            _swap_in(files, real)
    except OSError as exc:
        raise cannot_write(out, exc) from None


def _permissions(folder: Path) -> None:
    """The staging folder as a folder made with the user's umask (``mkdtemp`` makes it
    private); what is written inside it was created with the umask already."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)


def build(
    results: Results,
    out: Path,
    *,
    templates: Path | None = None,
    root: Path | None = None,
    allow_outside_root: bool = False,
) -> list[str]:
    """Render and write the site; returns the relative paths written.

    ``root`` is the project root: an output inside it (or inside the current folder) must
    not lead outside through a symlink, and the output may not hold the project.
    """
    refuse_project_folder(out, root)  # before rendering: fail fast
    confine_output(out, root, allow_outside_root=allow_outside_root)
    _check_target(out)
    files = render(results, templates=templates)
    write_site(files, out, root=root, allow_outside_root=allow_outside_root)
    return sorted(files)
