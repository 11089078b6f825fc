"""What the commands produce, as values: a validation, a gate run, a test run, and their text.

:mod:`kpispec.api` returns these; the command line only prints them and maps them to exit
statuses, and Python callers get the same results and the same words.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kpispec.diagnostics import Diagnostic, format_text
from kpispec.escaping import one_line

if TYPE_CHECKING:
    from kpispec.diff.model import Diff
    from kpispec.engine.spectests import Outcome
    from kpispec.gate.verdict import Verdict
    from kpispec.results import Results
    from kpispec.spec.load import Loaded

#: The formats of ``kpispec check``.
CHECK_FORMATS = ("text", "json", "junit", "github", "markdown")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


@dataclass(frozen=True)
class Validation:
    """The diagnostics of one or more paths, each once, and what was checked."""

    diagnostics: list[Diagnostic]
    sources: dict[str, str]  #: file name -> text, to show source lines
    kpis: int  #: the KPIs of the scorecards named
    scorecards: int

    @property
    def errors(self) -> int:
        return sum(d.is_error for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return len(self.diagnostics) - self.errors

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def summary(self) -> str:
        """``valid: 12 KPIs in 2 scorecards (1 warning)`` or ``invalid: 2 errors, 1 warning``."""
        errors, warnings = self.errors, self.warnings
        if errors:
            also = f", {_plural(warnings, 'warning')}" if warnings else ""
            return f"invalid: {_plural(errors, 'error')}{also}"
        note = f" ({_plural(warnings, 'warning')})" if warnings else ""
        return (
            f"valid: {_plural(self.kpis, 'KPI')} in {_plural(self.scorecards, 'scorecard')}{note}"
        )


def spec_prefix(root: Path) -> str:
    """The project root as CI tools want spec paths: relative to the workspace (or cwd)."""
    base = os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
    relative = os.path.relpath(os.path.realpath(root), os.path.realpath(base))
    return "" if relative == "." else relative.replace(os.sep, "/") + "/"


@dataclass(frozen=True)
class GateRun:
    """What ``kpispec check`` found: the results, the verdict, and every format of it."""

    results: Results
    verdict: Verdict
    prefix: str  #: the project root relative to the CI workspace, for file names

    @property
    def passed(self) -> bool:
        return self.verdict.passed

    def render(self, format: str) -> str:
        """The verdict in one of :data:`CHECK_FORMATS`."""
        from kpispec.gate import github, junit, markdown, text
        from kpispec.results import to_json

        formats: dict[str, Callable[[], str]] = {
            "text": lambda: text.render(self.verdict, self.prefix),
            "json": lambda: to_json(self.results, verdict=self.verdict.to_json()),
            "junit": lambda: junit.render(self.verdict, self.prefix),
            "github": lambda: github.render(self.verdict, self.prefix),
            "markdown": lambda: markdown.render(self.verdict, self.results),
        }
        return formats[format]()

    def append_step_summary(self) -> str | None:
        """Append the Markdown summary to ``$GITHUB_STEP_SUMMARY`` if set; a warning if not possible."""
        return append_step_summary(lambda: self.render("markdown"))


def append_step_summary(markdown: Callable[[], str]) -> str | None:
    """Append Markdown to ``$GITHUB_STEP_SUMMARY`` when it is set (rendered only then);
    a warning when it cannot be written."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if not summary:
        return None
    try:  # appended, never overwritten: other steps write there too
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(markdown() + "\n")
    except OSError as exc:
        return f"warning: cannot append to GITHUB_STEP_SUMMARY: {exc.strerror or exc}"
    return None


#: The formats of ``kpispec diff``.
DIFF_FORMATS = ("text", "markdown", "github", "json")
#: What ``kpispec diff --fail-on`` can name.
DIFF_FAILURES = ("flip", "definition", "target")


@dataclass(frozen=True)
class DiffRun:
    """What ``kpispec diff`` found, and every format of it."""

    diff: Diff
    prefix: str  #: the project root relative to the CI workspace, for file names
    head: Loaded | None = None  #: the project at the head, whose files an output must spare

    def failed(self, fail_on: list[str]) -> list[str]:
        """The kinds of change named in ``fail_on`` that the diff holds."""
        h = self.diff.headline
        found = {
            "flip": h.flips > 0,
            "definition": h.changed + h.indirect + h.added + h.removed > 0,
            "target": h.targets > 0,
        }
        return [kind for kind in fail_on if found[kind]]

    def render(self, format: str, width: int = 120) -> str:
        """The diff in one of :data:`DIFF_FORMATS` (``text`` as plain text of ``width``)."""
        from kpispec.diff import codec, github, markdown

        if format == "text":
            import io

            from rich.console import Console

            from kpispec.diff import text

            buffer = io.StringIO()
            text.render(self.diff, Console(file=buffer, width=width, color_system=None))
            return buffer.getvalue()
        formats: dict[str, Callable[[], str]] = {
            "markdown": lambda: markdown.render(self.diff),
            "github": lambda: github.render(self.diff, self.prefix),
            "json": lambda: codec.to_json(self.diff),
        }
        return formats[format]()


@dataclass(frozen=True)
class TestRun:
    """The outcomes of the spec tests, each test once, with the files to show lines from."""

    __test__ = False  # not a pytest test class, despite its name

    outcomes: list[Outcome]
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return sum(not o.passed for o in self.outcomes)

    @property
    def passed(self) -> bool:
        return self.failed == 0

    def lines(self) -> list[str]:
        """``PASS file:line:col: name (kpi)`` per test, why a test failed, and the totals."""
        out = []
        for outcome in self.outcomes:
            verdict = "PASS" if outcome.passed else "FAIL"
            test = outcome.test
            out.append(f"{verdict} " + one_line(f"{outcome.loc}: {test.name} ({test.kpi})"))
            if not outcome.passed:
                out.append(f"     {one_line(outcome.message)}")
                for d in outcome.diagnostics:
                    out.append("     " + format_text(d, self.sources).replace("\n", "\n     "))
        out.append(f"{len(self.outcomes) - self.failed} passed, {self.failed} failed")
        return out
