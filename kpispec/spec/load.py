"""Load a project from disk: find it, read every file, validate, build and check.

This is the front end of the compiler. It never raises for a problem in the specs: every
problem becomes a diagnostic, every file is checked even when another one is broken.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from kpispec.codes import DATA_CODES
from kpispec.confine import outside_root
from kpispec.diagnostics import Diagnostic, Loc, Severity, SpecError
from kpispec.files import exists
from kpispec.spec.build import build_project, build_scorecard
from kpispec.spec.checks import CheckedProject, check_project
from kpispec.spec.loader import Document, LoadError, decode_text, display_name, load_document
from kpispec.spec.project import find_layout, spec_files
from kpispec.spec.schema import PROJECT_SCHEMA, SPEC_SCHEMA, validate_document
from kpispec.spec.tree import SpecTree


@dataclass
class Loaded:
    """A checked project and everything needed to report on it."""

    checked: CheckedProject
    diagnostics: list[Diagnostic]  #: the ones for the files the user asked about
    sources: dict[str, str]  #: file name -> text, to show source lines in messages
    selected: list[str] | None = None  #: scorecard ids of the files named, None for all

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    @property
    def spec_errors(self) -> list[Diagnostic]:
        """Errors in the specs themselves; a missing data file is left to evaluation."""
        return [d for d in self.diagnostics if d.is_error and d.code not in DATA_CODES]


def existing(path: Path | str) -> Path:
    """The path a user named, if it exists; else SpecError E100 (exit status 2).

    Every command and API function that takes a project path checks it here, once.
    """
    path = Path(path)
    if not exists(path):
        raise SpecError(
            [
                Diagnostic(
                    "E100",
                    f"no such file or folder: {path}",
                    Loc(str(path)),
                    "name a project folder or a spec file",
                )
            ]
        )
    return path


def load(
    path: Path | str,
    *,
    data: bool = True,
    allow_outside_root: bool = False,
    strict: bool = False,
    tree: SpecTree | None = None,
) -> Loaded:
    """Load the project of ``path``; with ``tree``, its spec files as ``tree`` holds them
    (a git revision) while data files are still read from the working tree."""
    path = existing(path)
    layout = find_layout(path) if tree is None else tree.layout()
    diagnostics: list[Diagnostic] = []
    texts: dict[str, str] = {}

    def read(file: Path, schema_name: str) -> Document | None:
        if tree is None and not allow_outside_root:
            refused = outside_root(
                "spec file",
                [file],
                layout.root,
                Loc(display_name(file)),
                "spec files must be inside the project root: replace the symlink by the file "
                "itself, or pass --allow-outside-root if you trust these specs",
            )
            if refused is not None:  # never read, so its lines never reach a message
                diagnostics.append(refused)
                return None
        try:
            if tree is None:
                doc = load_document(file, display_name(file))
            else:
                raw = tree.read(file)
                with suppress(LoadError):  # its lines, for a message if it does not parse
                    texts[tree.name(file)] = decode_text(raw, tree.name(file))
                doc = load_document(file, tree.name(file), raw=raw)
        except LoadError as exc:
            diagnostics.append(exc.diagnostic)
            return None
        texts[doc.name] = doc.text
        if not isinstance(doc.data, dict):
            diagnostics.append(
                Diagnostic(
                    "E107",
                    "the file must be a mapping of keys to values",
                    doc.loc(),
                    "a spec file starts with `kpispec: 1`",
                )
            )
            return None
        diagnostics.extend(validate_document(doc, schema_name))
        return doc

    project_doc = read(layout.project_file, PROJECT_SCHEMA) if layout.project_file else None
    project = build_project(layout.root, project_doc)
    project.allow_outside_root = allow_outside_root
    files = (
        spec_files(layout, project.specs)
        if tree is None
        else tree.spec_files(layout, project.specs)
    )
    chosen = layout.selection
    if (
        chosen is not None
        and chosen.is_file()
        and chosen not in files
        and chosen != layout.project_file
    ):
        files.append(chosen)  # a spec file named on the command line is always checked
    if not files:
        if project.specs:
            message = f"no spec files match `specs:` ({', '.join(project.specs)})"
            where = project.locs.get("specs", Loc(project.name, 1, 1))
        else:
            message = "no spec files found below the project root"
            shown = layout.project_file or layout.root
            where = Loc(display_name(shown) if tree is None else tree.name(shown))
        diagnostics.append(
            Diagnostic(
                "E413",
                message,
                where,
                'globs are relative to the folder of kpispec.yaml, e.g. specs: ["scorecards/*.yaml"]',
            )
        )
    for file in files:
        doc = read(file, SPEC_SCHEMA)
        if doc is not None:
            card = build_scorecard(doc, project)
            if card is not None:
                project.scorecards.append(card)
    checked = check_project(project, data=data, allow_outside_root=allow_outside_root)
    diagnostics.extend(checked.diagnostics)
    if strict:
        diagnostics = [d.as_error() if d.severity is Severity.WARNING else d for d in diagnostics]
    selected = None
    if layout.selection is not None:
        chosen = layout.selection
        inside = [f for f in files if f == chosen or f.is_relative_to(chosen)]
        selected = [c.id for c in project.scorecards if c.file.resolve() in inside]
        keep = {display_name(f) for f in inside}
        if layout.project_file is not None:
            keep.add(display_name(layout.project_file))
        diagnostics = [d for d in diagnostics if d.loc.file in keep]
    diagnostics.sort(key=Diagnostic.sort_key)
    checked.diagnostics = diagnostics
    return Loaded(checked, diagnostics, texts, selected)
