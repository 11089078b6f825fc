"""The one type that carries every problem a user can see, and its output formats.

Every stage reports problems as :class:`Diagnostic` values (file, line, column, code,
severity, message, hint). Stages collect them and raise :class:`KpispecError` only when
they cannot go on; the CLI is the only place that turns them into exit codes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from kpispec.codes import REGISTRY
from kpispec.escaping import json_lines, one_line


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Loc:
    """A place in a file: 1-based line and column. ``line == 0`` means the whole file."""

    file: str
    line: int = 0
    col: int = 0
    #: How many characters the thing here spans on its line (for underlining).
    length: int = field(default=1, compare=False)

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    loc: Loc
    hint: str | None = None
    severity: Severity = Severity.ERROR
    #: Length of the underlined span in the source line (at least 1).
    length: int = 1

    def __post_init__(self) -> None:
        if self.code not in REGISTRY:  # a bug in kpispec, not in the specs
            raise ValueError(f"diagnostic code {self.code!r} is not in kpispec.codes")

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.loc.file, self.loc.line, self.loc.col, self.code)

    def as_error(self) -> Diagnostic:
        """The same diagnostic with error severity (``--strict``)."""
        return Diagnostic(self.code, self.message, self.loc, self.hint, Severity.ERROR, self.length)

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.loc.file,
            "line": self.loc.line,
            "column": self.loc.col,
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "hint": self.hint,
        }


class KpispecError(Exception):
    """The root of every error kpispec raises on purpose; carries diagnostics.

    ``exit_code`` is the documented status the CLI exits with: 2 for invalid specs or
    usage, 3 for data and source errors.
    """

    exit_code = 2

    def __init__(
        self, diagnostics: Sequence[Diagnostic], sources: dict[str, str] | None = None
    ) -> None:
        self.diagnostics = list(diagnostics)
        #: file name -> text of the files the diagnostics point into, to show their lines
        self.sources = sources or {}
        super().__init__("; ".join(f"{d.loc}: {d.message}" for d in self.diagnostics))


class FormulaProblem(KpispecError):
    """A problem at a character range of a formula's text, raised before the formula is
    placed in a file: the stage that knows the file (the checker, the planner) catches it
    and reports it at its line and column. Should one escape, it still carries a
    diagnostic, placed in the formula text alone."""

    code = "E300"

    def __init__(self, message: str, start: int, end: int, hint: str | None = None) -> None:
        self.message = message
        self.start = start
        self.end = max(end, start + 1)
        self.hint = hint
        at = Loc("<formula>", 1, start + 1, self.end - start)
        super().__init__([Diagnostic(self.code, message, at, hint, length=at.length)])


class SpecError(KpispecError):
    """The specs are invalid (exit status 2)."""


class DataError(KpispecError):
    """A source could not be read or evaluated (exit status 3)."""

    exit_code = 3


@dataclass
class Diagnostics:
    """A collector that stages append to; keeps the order of discovery."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(
        self,
        code: str,
        message: str,
        loc: Loc,
        hint: str | None = None,
        *,
        severity: Severity = Severity.ERROR,
        length: int | None = None,
    ) -> None:
        length = loc.length if length is None else length
        self.items.append(Diagnostic(code, message, loc, hint, severity, max(1, length)))

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


# ---------------------------------------------------------------- output formats


def _source_line(loc: Loc, sources: dict[str, str] | None) -> str | None:
    if loc.line <= 0:
        return None
    text = sources.get(loc.file) if sources is not None else None
    if text is None:
        try:
            text = Path(loc.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError, ValueError):
            return None
    lines = _lines(text)
    if loc.line > len(lines):
        return None
    return lines[loc.line - 1]


@lru_cache(maxsize=8)
def _lines(text: str) -> list[str]:
    """The lines of a file's text, split once for all of its diagnostics (not once each)."""
    return text.splitlines()


def format_text(d: Diagnostic, sources: dict[str, str] | None = None) -> str:
    """``path:line:col: error[E104]: message``, the source line with a caret, the hint.

    Every line starts with kpispec's own text: names inside the file name, the message and
    the hint are flattened (:func:`one_line`), and the source line shows its control
    characters as U+FFFD.
    """
    out = [f"{one_line(str(d.loc))}: {d.severity}[{d.code}]: {one_line(d.message)}"]
    line = _source_line(d.loc, sources)
    if line is not None:
        number = str(d.loc.line)
        gutter = " " * len(number)
        shown = "".join(c if c.isprintable() else "\ufffd" for c in line.expandtabs(1))
        col = max(1, d.loc.col)
        length = d.length if d.length > 1 else d.loc.length
        width = max(1, min(length, len(shown) - col + 1)) if len(shown) >= col else 1
        out.append(f" {gutter} |")
        out.append(f" {number} | {shown}")
        out.append(f" {gutter} | {' ' * (col - 1)}{'^' * width}")
    if d.hint:
        out.append(f"  = hint: {one_line(d.hint)}")
    return "\n".join(out)


def format_json(diagnostics: Sequence[Diagnostic]) -> str:
    errors = sum(d.is_error for d in diagnostics)
    doc = {
        "valid": errors == 0,
        "errors": errors,
        "warnings": len(diagnostics) - errors,
        "diagnostics": [d.to_json() for d in diagnostics],
    }
    return json_lines(json.dumps(doc, indent=2, ensure_ascii=False))


def escape_github_data(value: str) -> str:
    """Escape a workflow-command message as GitHub's toolkit does (``escapeData``).

    :func:`github_command` also escapes every other control character and line separator
    (U+2028, NEL, a vertical tab, ...) as :func:`one_line` does, so none reaches the runner.
    """
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_github_property(value: str) -> str:
    """Escape a workflow-command property as GitHub's toolkit does (``escapeProperty``)."""
    return escape_github_data(value).replace(":", "%3A").replace(",", "%2C")


def _flat(text: str) -> str:
    """One line but for CR and LF, which the workflow-command escaping writes as %0D, %0A."""
    return one_line(text, keep="\r\n")


def github_command(
    kind: str,
    message: str,
    *,
    file: str | None = None,
    line: int = 0,
    col: int = 0,
    title: str | None = None,
) -> str:
    """One ``::error``/``::warning``/``::notice`` workflow command, on one line."""
    props: list[str] = []
    if file:
        props.append(f"file={escape_github_property(_flat(file))}")
    if line > 0:
        props.append(f"line={line}")
    if col > 0:
        props.append(f"col={col}")
    if title:
        props.append(f"title={escape_github_property(_flat(title))}")
    head = f"::{kind} {','.join(props)}" if props else f"::{kind}"
    return f"{head}::{escape_github_data(_flat(message))}"


def format_github(d: Diagnostic) -> str:
    message = d.message + (f" (hint: {d.hint})" if d.hint else "")
    return github_command(
        "error" if d.is_error else "warning",
        message,
        file=d.loc.file,
        line=d.loc.line,
        col=d.loc.col,
        title=f"kpispec {d.code}",
    )
