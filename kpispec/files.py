"""File tests that answer instead of raising.

``Path.is_file()`` and ``Path.exists()`` raise for some errors, e.g. a name longer than the
file system allows (``ENAMETOOLONG``) or a folder that may not be searched (``EACCES``).
A spec can name any path, so every test of a path the user wrote goes through these.
"""

from __future__ import annotations

from pathlib import Path


def is_file(path: Path) -> bool:
    """Whether ``path`` is a regular file (following links); False when it cannot be told."""
    try:
        return path.is_file()
    except (OSError, ValueError):  # ValueError: a NUL byte in the name
        return False


def is_dir(path: Path) -> bool:
    """Whether ``path`` is a folder (following links); False when it cannot be told."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def exists(path: Path) -> bool:
    """Whether ``path`` exists (following links); False when it cannot be told."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def printable_name(name: str) -> str:
    """A file name as valid Unicode: bytes that are not UTF-8 become U+FFFD.

    Python keeps such bytes as lone surrogates (``\\udcff``), which no UTF-8 output
    (JSON, HTML, a terminal) can hold.
    """
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def data_dir(name: str) -> Path:
    """A folder shipped with kpispec: ``schemas`` or ``templates``.

    An installed wheel carries them inside the package (``kpispec/_data``); a source
    checkout has them at the top of the repository.
    """
    from importlib import resources

    packaged = resources.files("kpispec") / "_data" / name
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[1] / name
