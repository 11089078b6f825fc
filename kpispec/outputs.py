"""Where kpispec writes on the user's behalf, and how it writes without losing anything.

Outputs are named on the command line (``eval -o``, ``check --junit/--markdown/--json``,
``build -o``, ``serve -o``). The command line is trusted, but the checkout it runs in may
not be: a pull request can commit ``site`` or ``results.json`` as a symlink to a folder or
file elsewhere on the machine. So an output named inside the project root or the current
folder must really stay inside it (:func:`confine_output`, E410, lifted by
``--allow-outside-root``); an output named outside both (``-o /tmp/site``, ``-o /dev/null``)
is the user's explicit choice.

Files are written like a shell's ``>`` for anything that is not a regular file (a device
such as ``/dev/null``, a named pipe), and atomically (a temporary file in the same folder,
then one rename) for a regular file, so that a device is never replaced by a file and a
reader never sees half a file. Folders are swapped in by :func:`exchange` under
:func:`locked` (see kpispec/report/site.py).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

from kpispec.confine import Escape, escape, real_root
from kpispec.diagnostics import Diagnostic, KpispecError, Loc

#: How long a build waits for another build writing into the same folder.
LOCK_WAIT = 60.0

OUTSIDE_HINT = (
    "remove the symlink or name another output, or pass --allow-outside-root if you trust "
    "this checkout"
)


class OutputError(KpispecError):
    """An output cannot be written where it was named (exit status 2: a usage error)."""


def _error(code: str, message: str, path: Path, hint: str) -> OutputError:
    return OutputError([Diagnostic(code, message, Loc(str(path)), hint)])


def _inside(path: Path, base: Path) -> bool:
    return path.is_relative_to(Path(os.path.abspath(base))) or path.is_relative_to(real_root(base))


def output_escape(path: Path, root: Path | None) -> tuple[Escape, Path] | None:
    """Why the output ``path`` must be refused (and the folder it leaves), or None.

    The bases are the project root (when known) and the current folder. An output whose
    real location is inside a base is fine. One named inside a base whose real location is
    elsewhere went through a symlink of the checkout: refused. One named outside every base
    is the user's choice, unless a ``..`` in it climbed out of a symlinked folder (then the
    name does not say where it leads).
    """
    try:
        cwd: Path | None = Path.cwd()
    except OSError:  # the current folder was deleted: only the root counts
        cwd = None
    bases = [b for b in (root, cwd) if b is not None]
    if not bases:
        return None
    absolute = Path(os.path.abspath(path))
    real = Path(os.path.realpath(path))
    if any(real.is_relative_to(real_root(base)) for base in bases):
        return None
    for base in bases:
        if _inside(absolute, base):
            found = escape(path, base)
            if found is not None:
                return found, base
    if ".." in Path(path).parts and Path(os.path.realpath(absolute)) != real:
        return Escape(absolute, real, None, None), bases[0]
    return None


def confine_output(
    path: Path, root: Path | None, *, allow_outside_root: bool, option: str = "-o"
) -> None:
    """Raise E410 for an output that a symlink of the checkout leads out of the project."""
    if allow_outside_root:
        return
    found = output_escape(path, root)
    if found is None:
        return
    escaped, base = found
    where = "the project root" if root is not None and base == root else "the current folder"
    how = (
        f"through the symlink {escaped.link} -> {escaped.link_target}"
        if escaped.link is not None
        else f"to {escaped.real}"
    )
    raise _error(
        "E410",
        f"output {option} {path} leads outside {where} {real_root(base)} {how}",
        path,
        OUTSIDE_HINT,
    )


def refuse_project_folder(out: Path, root: Path | None, option: str = "-o") -> None:
    """E004 for an output folder that is ``/``, the project root or a folder above it:
    building there would put the site over the project."""
    real = Path(os.path.realpath(out))
    if real == Path(real.anchor):
        raise _error(
            "E004",
            f"{option} {out} is the top of the file system",
            out,
            "name a folder of its own for the site, e.g. -o site",
        )
    if root is not None and real_root(root).is_relative_to(real):
        raise _error(
            "E004",
            f"{option} {out} holds the project itself (the project root is {root})",
            out,
            "name a folder of its own for the site, e.g. -o site",
        )


def kind(mode: int) -> str:
    """What a file system entry is, in words, for messages."""
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISFIFO(mode):
        return "named pipe"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device"


def writes_through(path: Path) -> bool:
    """Whether writing ``path`` writes into what is there (a device, a named pipe, a
    socket, or a symlink to one) instead of replacing it with a new file."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace the regular file ``path`` so that readers see the old content or the new one.

    A new file gets the permissions of an ordinary new file (not mkstemp's 0600); a file
    that exists keeps its own, as a shell's ``>`` would.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_file(
    path: Path,
    data: str | bytes,
    *,
    root: Path | None = None,
    allow_outside_root: bool = False,
    option: str = "-o",
    inputs: Iterable[Path] = (),
) -> None:
    """Write an output file named on the command line, losing nothing.

    A device, named pipe or socket (or a symlink to one) is written through, as a shell's
    ``>`` does; a regular file is replaced atomically; a symlink to a regular file replaces
    the file it points at and stays a symlink. Raises :class:`OutputError` (E410 for a
    symlink out of the project, E002 for a folder, E006 for one of ``inputs`` (the spec
    and data files the run read), E005 when the system refuses).
    """
    confine_output(path, root, allow_outside_root=allow_outside_root, option=option)
    real = os.path.realpath(path)
    for source in inputs:
        if os.path.realpath(source) == real:
            raise _error(
                "E006",
                f"{option} {path} would overwrite {source}, which this run reads",
                path,
                "name a new file for the output, e.g. -o results.json",
            )
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        try:
            mode: int | None = os.stat(path).st_mode
        except FileNotFoundError:
            mode = None
        if mode is not None and stat.S_ISDIR(mode):
            raise _error(
                "E002",
                f"{option} {path} is a folder, not a file",
                path,
                "name a file to write, e.g. -o results.json",
            )
        if mode is not None and not stat.S_ISREG(mode):
            # no O_CREAT: if the device went away, fail rather than create a file there
            fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_NOCTTY | os.O_CLOEXEC)
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
            return
        write_atomic(Path(os.path.realpath(path)), payload)
    except OSError as exc:
        raise _error(
            "E005",
            f"cannot write {option} {path}: {exc.strerror or exc}",
            path,
            "check the folder and its permissions",
        ) from None


def cannot_write(out: Path, exc: OSError, option: str = "-o") -> OutputError:
    """E005 for an output the system refuses to write (permissions, a full disk, ...)."""
    return _error(
        "E005",
        f"cannot write {option} {out}: {exc.strerror or exc}",
        out,
        "check the folder and its permissions",
    )


def lock_path(target: Path) -> Path:
    """The lock file beside the output ``target`` (removed again when the lock is let go)."""
    return target.with_name(f".{target.name}.kpispec-lock")


@contextmanager
def locked(target: Path, *, wait: float = LOCK_WAIT) -> Iterator[None]:
    """Hold an exclusive lock on the output ``target`` (a folder or file path).

    The lock is an ``flock`` on a file beside ``target``; a second writer waits for the
    first (up to ``wait`` seconds, then E005). The holder deletes the lock file when it lets
    go, and a waiter that then holds a lock on a deleted file tries again, so no lock file
    stays behind and two writers never both hold the lock.
    """
    try:
        import fcntl
    except ImportError:  # no flock (Windows): builds into one folder are not serialised
        yield
        return
    path = lock_path(target)
    deadline = time.monotonic() + wait
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise _error(
                            "E005",
                            f"another kpispec build is writing {target}; waited {wait:g} s",
                            target,
                            f"let the other build finish; if none is running, delete {path}",
                        ) from None
                    time.sleep(0.02)
            try:
                current = os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                current = False
        except BaseException:
            os.close(fd)
            raise
        if current:
            break
        os.close(fd)  # the holder before us deleted this file: lock the new one
    try:
        yield
    finally:
        try:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        finally:
            os.close(fd)


def _renameat2() -> Callable[[int, bytes, int, bytes, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # a C library without it (old glibc, some musl)
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    function.argtypes += [ctypes.c_uint]
    function.restype = ctypes.c_int
    return cast(Callable[[int, bytes, int, bytes, int], int], function)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def exchange(a: Path, b: Path) -> bool:
    """Swap the two existing paths ``a`` and ``b`` in one step; False where the system
    cannot (not Linux, or a file system without ``RENAME_EXCHANGE``)."""
    function = _renameat2()
    if function is None:
        return False
    import ctypes

    if function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))
