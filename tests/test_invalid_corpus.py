"""The corpus of invalid specs: every diagnostic code, at its exact line and column.

Each case under tests/cases/invalid/ is validated as a project of its own, in a fresh
folder, and the set of (file, code, line, column) of its errors must be exactly the set
it expects:

* a single file ``<name>.yaml`` starts with comment lines ``# expect: E306 13:38`` (one per
  error), optionally ``# options: --no-data`` / ``# options: --strict`` and
  ``# data: data/sessions.csv`` (copied from tests/cases/invalid/data/ to the same
  relative path beside the spec);
* a folder ``<name>/`` is a whole project plus ``expect.txt`` with lines
  ``<relative/file.yaml>:<line>:<col> <CODE>`` and optionally ``options: --no-data``.

Warnings are ignored unless a case runs with ``--strict`` (which makes them errors).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpispec.cli import app
from kpispec.codes import REGISTRY
from kpispec.diagnostics import Diagnostic, Loc
from kpispec.spec.load import Loaded, load

ROOT = Path(__file__).resolve().parents[1]
CASES = Path(__file__).resolve().parent / "cases" / "invalid"
DATA = CASES / "data"
DOCS = ROOT / "docs" / "diagnostics.md"

_EXPECT = re.compile(r"#\s*expect:\s*([EW]\d{3})\s+(\d+):(\d+)\s*$")
_OPTIONS = re.compile(r"#\s*options:(.*)$")
_DATA = re.compile(r"#\s*data:(.*)$")
_FOLDER_EXPECT = re.compile(r"^(\S+):(\d+):(\d+)\s+([EW]\d{3})$")
_DOC_SECTION = re.compile(r"^###\s+([EWD]\d{3}):\s*(.+?)\s*$", re.M)
_KNOWN_OPTIONS = {"--no-data", "--strict"}

#: Codes the source can emit but no spec file can reach, and why.
UNREACHABLE = {
    "E208": "the generic schema fallback: every validator the two schemas use (type, const, "
    "enum, pattern, format, minLength, minimum/maximum, minItems, uniqueItems, minProperties, "
    "required, additionalProperties, oneOf/anyOf/not) has its own diagnostic",
}

#: Codes about the command line, not about spec files (an invalid --as-of, --period, ...,
#: or the settings `kpispec comment` needs: tests/test_comment.py).
COMMAND_LINE = {"E001", "E002", "E003", "E004", "E005", "E006", "E008", "E009", "E010"}

#: Codes about a saved results document, not a spec file (tests/test_layering.py).
RESULTS_DOCUMENT = {"E007"}

#: Codes covered by the generated cases below (a dangling symlink, a file over 2 MiB).
GENERATED = {"E100", "E101"}

#: Cases that expect the position (or the set of errors) the tool *should* report; each
#: reason says what it reports instead. Remove the entry when the tool is fixed.
XFAIL: dict[str, str] = {}

#: Cases whose diagnostics include one without a line (so the located test fails too).
WITHOUT_LINE: set[str] = set()

Located = tuple[str, str, int, int]  # (file relative to the project, code, line, col)


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    expected: frozenset[Located]
    options: frozenset[str]
    data: tuple[str, ...] = ()

    @property
    def codes(self) -> set[str]:
        return {code for _, code, _, _ in self.expected}


def _read_file_case(path: Path) -> Case:
    text = path.read_bytes().decode("utf-8", "replace")
    expected: set[Located] = set()
    options: set[str] = set()
    data: list[str] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if m := _EXPECT.match(line):
            expected.add((path.name, m.group(1), int(m.group(2)), int(m.group(3))))
        elif m := _OPTIONS.match(line):
            options.update(m.group(1).split())
        elif m := _DATA.match(line):
            data.extend(m.group(1).split())
    return Case(path.stem, path, frozenset(expected), frozenset(options), tuple(data))


def _read_folder_case(path: Path) -> Case:
    expected: set[Located] = set()
    options: set[str] = set()
    for line in (path / "expect.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("options:"):
            options.update(line.removeprefix("options:").split())
            continue
        m = _FOLDER_EXPECT.match(line)
        assert m, f"{path.name}/expect.txt: cannot read {line!r}"
        expected.add((m.group(1), m.group(4), int(m.group(2)), int(m.group(3))))
    return Case(path.name, path, frozenset(expected), frozenset(options))


def _cases() -> list[Case]:
    found = []
    for path in sorted(CASES.iterdir()):
        if path.is_dir() and (path / "expect.txt").is_file():
            found.append(_read_folder_case(path))
        elif path.is_file() and path.suffix == ".yaml":
            found.append(_read_file_case(path))
    return found


ALL = _cases()


def _params(xfail: set[str] | dict[str, str]) -> list[object]:
    params = []
    for case in ALL:
        marks = []
        if case.name in xfail:
            marks.append(pytest.mark.xfail(strict=True, reason=XFAIL[case.name]))
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


def _lay_out(case: Case, folder: Path) -> Path:
    """Copy the case into ``folder`` as a project of its own; return the project root."""
    root = folder / "project"
    if case.path.is_dir():
        shutil.copytree(case.path, root, ignore=shutil.ignore_patterns("expect.txt"))
    else:
        root.mkdir()
        shutil.copyfile(case.path, root / case.path.name)
        for name in case.data:
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(CASES / name, target)
    return root


def _run(case: Case, folder: Path) -> tuple[Loaded, Path]:
    root = _lay_out(case, folder)
    loaded = load(root, data="--no-data" not in case.options, strict="--strict" in case.options)
    return loaded, root


def _relative(file: str, root: Path) -> str:
    path = Path(file)
    if not path.is_absolute():
        path = Path.cwd() / path
    try:  # os.path.abspath keeps the name of a link, as kpispec does
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(root)).as_posix()
    except ValueError:
        return file


def _located(d: Diagnostic, root: Path) -> Located:
    return (_relative(d.loc.file, root), d.code, d.loc.line, d.loc.col)


def _show(found: set[Located]) -> list[str]:
    return [f"{f}:{line}:{col} {code}" for f, code, line, col in sorted(found)]


# ---------------------------------------------------------------- the corpus


def test_the_corpus_is_well_formed() -> None:
    assert len(ALL) >= 45
    for case in ALL:
        assert case.expected, f"{case.name}: no expectation"
        assert case.options <= _KNOWN_OPTIONS, f"{case.name}: unknown options {case.options}"
        for name in case.data:
            assert (CASES / name).is_file(), f"{case.name}: no data file {name}"
            assert (CASES / name).resolve().is_relative_to(DATA), f"{case.name}: {name}"
    assert set(XFAIL) <= {c.name for c in ALL}
    assert set(WITHOUT_LINE) <= set(XFAIL)


@pytest.mark.parametrize("case", _params(XFAIL))
def test_invalid_case(case: Case, tmp_path: Path) -> None:
    loaded, root = _run(case, tmp_path)
    found = {_located(d, root) for d in loaded.diagnostics if d.is_error}
    assert _show(found) == _show(set(case.expected))
    assert not loaded.ok


@pytest.mark.parametrize("case", _params(WITHOUT_LINE))
def test_diagnostics_have_a_message_and_a_line(case: Case, tmp_path: Path) -> None:
    loaded, _ = _run(case, tmp_path)
    assert loaded.diagnostics
    for d in loaded.diagnostics:
        assert d.message.strip(), d
        assert d.loc.line >= 1, d


# ---------------------------------------------------------------- generated cases


def test_unreadable_file_is_e100(tmp_path: Path) -> None:
    os.symlink(tmp_path / "gone" / "kpis.yaml", tmp_path / "x.yaml")
    loaded = load(tmp_path)
    assert [d.code for d in loaded.diagnostics] == ["E100"]
    assert loaded.diagnostics[0].message.strip()
    assert not loaded.ok


def test_unreadable_file_is_named_as_found(tmp_path: Path) -> None:
    os.symlink(tmp_path / "gone" / "kpis.yaml", tmp_path / "x.yaml")
    loaded = load(tmp_path)
    assert [_relative(d.loc.file, tmp_path) for d in loaded.diagnostics] == ["x.yaml"]


def test_file_too_large_is_e101(tmp_path: Path) -> None:
    head = "kpispec: 1\nscorecard:\n  id: web\n  title: Web engagement\nkpis: []\n"
    padding = "# " + "x" * 78 + "\n"
    big = tmp_path / "web.yaml"
    big.write_text(head + padding * (2 * 1024 * 1024 // len(padding) + 10), encoding="utf-8")
    assert big.stat().st_size > 2 * 1024 * 1024
    loaded = load(tmp_path)
    assert [(_relative(d.loc.file, tmp_path), d.code) for d in loaded.diagnostics] == [
        ("web.yaml", "E101")
    ]
    assert loaded.diagnostics[0].message.strip()


# ---------------------------------------------------------------- coverage


def _documented() -> dict[str, str]:
    """Each code's section of docs/diagnostics.md (``### E306: unknown column``): its title."""
    sections = _DOC_SECTION.findall(DOCS.read_text(encoding="utf-8"))
    codes = [code for code, _ in sections]
    assert len(codes) == len(set(codes)), "a code has two sections in docs/diagnostics.md"
    return dict(sections)


def _documented_codes() -> set[str]:
    return set(_documented())


def test_the_corpus_covers_every_documented_code() -> None:
    covered = {code for case in ALL for code in case.codes} | GENERATED
    # data errors (D1xx) come from evaluation: tests/test_cli_eval.py and test_sql_sources.py;
    # D111 from posting a comment: tests/test_comment.py
    spec_codes = {c for c in _documented_codes() if not c.startswith("D")}
    missing = spec_codes - covered - set(UNREACHABLE) - COMMAND_LINE - RESULTS_DOCUMENT
    assert not missing, f"no invalid case for: {sorted(missing)}"


def test_every_registered_code_is_documented_under_its_title() -> None:
    documented = _documented()
    undocumented = set(REGISTRY) - set(documented)
    assert not undocumented, f"not in docs/diagnostics.md: {sorted(undocumented)}"
    unregistered = set(documented) - set(REGISTRY)
    assert not unregistered, f"documented but not in kpispec.codes: {sorted(unregistered)}"
    titles = {c: (REGISTRY[c].title, t) for c, t in documented.items() if REGISTRY[c].title != t}
    assert not titles, f"titles differ between kpispec.codes and the docs: {titles}"


def test_a_diagnostic_needs_a_registered_code() -> None:
    assert Diagnostic("E306", "unknown column", Loc("a.yaml", 1, 1)).code == "E306"
    with pytest.raises(ValueError, match="E999"):
        Diagnostic("E999", "no such code", Loc("a.yaml", 1, 1))


def test_unreachable_codes_still_exist() -> None:
    assert set(UNREACHABLE) | COMMAND_LINE <= set(REGISTRY)
    covered = {code for case in ALL for code in case.codes}
    assert not set(UNREACHABLE) & covered


# ---------------------------------------------------------------- the command line


def _case(name: str) -> Case:
    return next(c for c in ALL if c.name == name)


CLI_CASES = {
    "unknown_source_typo": [
        "unknown_source_typo.yaml:15:13: error[E401]: unknown source `session`",
    ],
    "formula_syntax_folded_block": [
        "formula_syntax_folded_block.yaml:19:30: error[E300]: "
        "syntax error in formula: expected a value, got 'and'",
    ],
    "duplicate_ids_across_files": [
        "specs/web.yaml:7:9: error[E400]: source id `sessions` is already used at "
        "specs/sales.yaml:7:9",
        "specs/web.yaml:11:9: error[E400]: KPI id `conversion_rate` is already used at "
        "specs/sales.yaml:11:9",
    ],
}


@pytest.mark.parametrize("name", list(CLI_CASES))
def test_cli_validate_prints_each_error(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = _case(name)
    root = _lay_out(case, tmp_path)
    monkeypatch.chdir(root)
    args = ["validate", ".", *sorted(case.options)]

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stdout.splitlines() if "error[" in line]
    assert errors == CLI_CASES[name]
    assert "invalid:" in result.stderr

    as_json = CliRunner().invoke(app, [*args, "--format", "json"])
    assert as_json.exit_code == 2
    doc = json.loads(as_json.stdout)
    assert doc["valid"] is False
    json_errors = [
        f"{d['file']}:{d['line']}:{d['column']}: error[{d['code']}]: {d['message']}"
        for d in doc["diagnostics"]
        if d["severity"] == "error"
    ]
    assert json_errors == CLI_CASES[name]
    assert doc["errors"] == len(CLI_CASES[name])


def test_cli_shows_the_source_line_and_a_caret_inside_a_folded_formula(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = _case("formula_syntax_folded_block")
    monkeypatch.chdir(_lay_out(case, tmp_path))
    result = CliRunner().invoke(app, ["validate", "."])
    lines = result.stdout.splitlines()
    at = lines.index(
        "formula_syntax_folded_block.yaml:19:30: error[E300]: "
        "syntax error in formula: expected a value, got 'and'"
    )
    source = "                             and (churned_at is null or churned_at >= period_start))"
    assert lines[at + 1 : at + 4] == ["    |", f" 19 | {source}", "    | " + " " * 29 + "^^^"]
