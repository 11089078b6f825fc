"""The Python API: everything the command line does, callable from Python.

    import kpispec
    report = kpispec.validate("specs")                  # diagnostics, never raises for specs
    loaded = kpispec.load("specs")                      # the checked project
    results = kpispec.evaluate(loaded, as_of="2026-11-22")  # the typed results
    gate = kpispec.check(loaded, as_of="2026-11-22")    # the CI verdict, in every format
    tests = kpispec.test(loaded)                        # the spec tests' outcomes
    kpispec.render(results, "site")      # or a saved document: a path, JSON text or data

Problems raise :class:`kpispec.SpecError` (invalid specs) or :class:`kpispec.DataError`
(a source cannot be read), each carrying its diagnostics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from kpispec.diagnostics import DataError, Diagnostic, Loc, SpecError
from kpispec.options import chosen_kpis, chosen_scorecards, parse_as_of, parse_fail_on, parse_period
from kpispec.runs import DiffRun, GateRun, TestRun, Validation, spec_prefix

if TYPE_CHECKING:  # imported on use: rendering a saved document needs no spec nor engine
    from kpispec.results import Results
    from kpispec.spec.load import Loaded


def load(
    path: str | Path,
    *,
    data: bool = True,
    allow_outside_root: bool = False,
    strict: bool = False,
) -> Loaded:
    """Load and check a project (a folder or a spec file). Raises SpecError if invalid."""
    from kpispec.spec.load import load as _load

    loaded = _load(path, data=data, allow_outside_root=allow_outside_root, strict=strict)
    if loaded.spec_errors:
        raise SpecError(loaded.spec_errors, loaded.sources)
    return loaded


def validate(
    paths: str | Path | Sequence[str | Path] = ".",
    *,
    data: bool = True,
    allow_outside_root: bool = False,
    strict: bool = False,
) -> Validation:
    """Check one or more paths (as a pre-commit hook passes the changed files).

    Raises SpecError (E100) if a path does not exist, before any is read; problems in the
    specs are the validation's diagnostics, each once however many paths share a project.
    """
    from kpispec.spec.load import existing
    from kpispec.spec.load import load as _load

    named = [paths] if isinstance(paths, str | Path) else list(paths)
    checked = [existing(path) for path in named]
    diagnostics: list[Diagnostic] = []
    seen: set[Diagnostic] = set()  # a set: thousands of diagnostics must not take quadratic time
    sources: dict[str, str] = {}
    counted: dict[tuple[Path, str], int] = {}  # the named files' scorecards -> their KPIs
    for path in checked:
        loaded = _load(path, data=data, allow_outside_root=allow_outside_root, strict=strict)
        for d in loaded.diagnostics:
            if d not in seen:
                seen.add(d)
                diagnostics.append(d)
        sources.update(loaded.sources)
        for card in loaded.checked.project.scorecards:
            if loaded.selected is None or card.id in loaded.selected:
                counted[(card.file.resolve(), card.id)] = len(card.kpis)
    return Validation(diagnostics, sources, sum(counted.values()), len(counted))


def evaluate(
    project: Loaded | str | Path,
    *,
    as_of: str | date | None = None,
    period: str | None = None,
    scorecards: list[str] | None = None,
    allow_outside_root: bool = False,
    engine: str | None = None,
) -> Results:
    """Evaluate every KPI (of the chosen scorecards) and return the typed results
    (:func:`kpispec.results.to_json` writes them as the results document); ``engine``
    (polars, duckdb or spark; default the project's ``engine:``) evaluates file sources."""
    from kpispec.engine.evaluate import evaluate as run
    from kpispec.engine.results import build

    loaded = _loaded(project, allow_outside_root)
    checked = loaded.checked
    chosen = chosen_scorecards(loaded, scorecards)
    ids = _kpi_ids(loaded, chosen)
    evaluation = run(
        checked, as_of=parse_as_of(as_of), period=parse_period(period), kpi_ids=ids, engine=engine
    )
    return build(checked, evaluation, scorecards=chosen, kpi_ids=ids)


def check(
    project: Loaded | str | Path,
    *,
    fail_on: str = "missed",
    as_of: str | date | None = None,
    period: str | None = None,
    scorecards: list[str] | None = None,
    allow_outside_root: bool = False,
) -> GateRun:
    """The CI gate: evaluate, judge every gated target (``fail_on``: missed, at_risk, never)."""
    from kpispec.gate.verdict import judge

    line = parse_fail_on(fail_on)
    loaded = _loaded(project, allow_outside_root)
    results = evaluate(loaded, as_of=as_of, period=period, scorecards=scorecards)
    return GateRun(results, judge(results, line), spec_prefix(loaded.checked.project.root))


def test(
    projects: Loaded | str | Path | Sequence[Loaded | str | Path] = ".",
    *,
    as_of: str | date | None = None,
    scorecards: list[str] | None = None,
    allow_outside_root: bool = False,
) -> TestRun:
    """Run the tests spec files carry for their own formulas; each test once over all paths."""
    from kpispec.engine.spectests import Outcome, run_tests
    from kpispec.spec.load import Loaded

    named = [projects] if isinstance(projects, Loaded | str | Path) else list(projects)
    outcomes: list[Outcome] = []
    sources: dict[str, str] = {}
    for project in named:
        loaded = _loaded(project, allow_outside_root)
        chosen = chosen_scorecards(loaded, scorecards)
        sources.update(loaded.sources)
        for outcome in run_tests(loaded.checked, as_of=parse_as_of(as_of), scorecards=chosen):
            if not any(o.test is outcome.test or o.loc == outcome.loc for o in outcomes):
                outcomes.append(outcome)  # two paths of one project name a test once
    return TestRun(outcomes, sources)


def publish(
    project: Loaded | str | Path,
    output: str | Path,
    *,
    templates: str | Path | None = None,
    as_of: str | date | None = None,
    period: str | None = None,
    scorecards: list[str] | None = None,
    allow_outside_root: bool = False,
) -> list[str]:
    """Load, evaluate and render the site in one call (``kpispec build`` and ``serve``)."""
    loaded = _loaded(project, allow_outside_root)
    results = evaluate(loaded, as_of=as_of, period=period, scorecards=scorecards)
    root = loaded.checked.project.root
    return render(
        results, output, templates=templates, root=root, allow_outside_root=allow_outside_root
    )


def _loaded(project: Loaded | str | Path, allow_outside_root: bool) -> Loaded:
    from kpispec.spec.load import Loaded

    if isinstance(project, Loaded):
        return project
    return load(project, allow_outside_root=allow_outside_root)


def _kpi_ids(loaded: Loaded, chosen: list[str] | None) -> list[str]:
    """The KPIs of the chosen scorecards (the engine adds the KPIs they reference)."""
    return [
        k.id
        for card in loaded.checked.project.scorecards
        if chosen is None or card.id in chosen
        for k in card.kpis
    ]


def _results(doc: Results | Mapping[str, object] | str | Path) -> Results:
    """The typed results from a model, a saved document's path, its JSON text or data."""
    from kpispec.results import Results, from_dict, from_json

    if isinstance(doc, Results):
        return doc
    if isinstance(doc, Mapping):
        return from_dict(doc)
    if isinstance(doc, str) and doc.lstrip().startswith("{"):
        return from_json(doc)
    path = Path(doc)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise SpecError(
            [
                Diagnostic(
                    "E100",
                    f"cannot read {path}: {exc.strerror or exc}",
                    Loc(str(path)),
                    "name a results document written by `kpispec eval --format json`",
                )
            ]
        ) from None
    return from_json(text, where=str(path))


def render(
    doc: Results | Mapping[str, object] | str | Path,
    output: str | Path,
    *,
    templates: str | Path | None = None,
    root: str | Path | None = None,
    allow_outside_root: bool = False,
) -> list[str]:
    """Write the static site and the Markdown scorecards of the results into ``output``.

    ``doc`` is the typed results of :func:`evaluate`, or a saved results document: its
    path, its JSON text or its data (validated against the schema; E007 if it is not one).

    Refuses (raising an error) to write into a folder that holds anything but a previous
    kpispec build, into ``/`` or a folder holding the project ``root``, and through a
    symlink that leads out of the project root or the current folder (unless
    ``allow_outside_root``); returns the relative paths written.
    """
    from kpispec.report.site import build

    try:
        return build(
            _results(doc),
            Path(output),
            templates=Path(templates) if templates else None,
            root=Path(root) if root is not None else None,
            allow_outside_root=allow_outside_root,
        )
    except OSError as exc:  # a name too long, a read-only folder, a full disk
        from kpispec.outputs import cannot_write

        raise cannot_write(Path(output), exc) from None


def explain(
    project: Loaded,
    *,
    as_of: str | date | None = None,
    period: str | None = None,
    scorecards: list[str] | None = None,
) -> str:
    """The plan of every source, as text: the logical plan (partials, groupings, windows)
    and then the Polars plan of each of its queries, for the KPIs of the chosen scorecards
    (by default all) and the KPIs they reference, as ``evaluate`` runs them."""
    from kpispec.engine.evaluate import engine_for
    from kpispec.engine.evaluate import evaluate as run
    from kpispec.escaping import one_line

    ids = _kpi_ids(project, chosen_scorecards(project, scorecards))
    evaluation = run(
        project.checked, as_of=parse_as_of(as_of), period=parse_period(period), kpi_ids=ids
    )
    from kpispec.engine.sql.run import describe

    parts = []
    in_sql = {id(r.lowered): r for r in evaluation.sql}
    for plan in evaluation.plans:
        in_db = in_sql.get(id(plan))
        if in_db is not None:  # aggregated by an SQL engine: its queries
            engine = in_db.target.dialect.name
            parts.append(f"# source `{plan.opened.source.id}` ({engine} engine)")
            parts.append("## logical plan")
            parts.extend(f"  {one_line(line)}" for line in plan.plan.describe())
            parts.append("## SQL")
            parts.extend(describe(in_db))
            continue
        kpis = sum(len(g.kpis) for g in plan.plan.groups)
        queries = plan.queries()
        parts.append(
            f"# source `{plan.opened.source.id}`: {kpis} KPI{'' if kpis == 1 else 's'} in "
            f"{len(queries)} quer{'y' if len(queries) == 1 else 'ies'}"
        )
        parts.append("## logical plan")
        parts.extend(f"  {one_line(line)}" for line in plan.plan.describe())
        for number, query in enumerate(queries):
            parts.append(
                f"## Polars plan {number + 1} of {len(queries)} ({engine_for(plan)} engine)"
            )
            # Polars prints names from the data (a CSV header) raw, line breaks included:
            # each line of its plan gets a gutter, so that every line printed starts with ours.
            parts.extend(f"| {one_line(line)}" for line in query.explain().split("\n"))
    return "\n".join(parts)


def diff(
    path: str | Path = ".",
    *,
    base: str,
    head: str | None = None,
    as_of: str | date | None = None,
    period: str | None = None,
    periods: int = 2,
    engine: str | None = None,
    allow_outside_root: bool = False,
) -> DiffRun:
    """What the specs at ``head`` (a git revision; default the working tree) change against
    ``base``: definitions, targets, values and statuses of the evaluated period and the
    ``periods`` before it, both revisions evaluated on the same data and ``as_of``.

    Raises SpecError: E008 (not a git repository), E009 (unknown revision), and
    :class:`kpispec.diff.run.InvalidRevision` (invalid specs at one revision); DataError.
    """
    from kpispec.diff.run import diff as run
    from kpispec.spec.load import existing
    from kpispec.spec.project import find_layout

    if periods < 0:
        raise SpecError(
            [
                Diagnostic(
                    "E001",
                    f"--periods cannot be {periods}",
                    Loc("<command line>"),
                    "write --periods 0 for the evaluated period alone, or more to go back",
                )
            ]
        )
    parse_period(period)  # a wrong --period is reported before git is asked anything
    day = parse_as_of(as_of)
    root = find_layout(existing(path)).root
    compared, loaded = run(
        path, base, head, as_of=day, period=period, periods=periods, engine=engine,
        allow_outside_root=allow_outside_root,
    )  # fmt: skip
    return DiffRun(compared, spec_prefix(root), loaded)


def sql(
    project: Loaded,
    dialect: str,
    *,
    as_of: str | date | None = None,
    period: str | None = None,
    scorecards: list[str] | None = None,
    kpis: list[str] | None = None,
) -> str:
    """The aggregate queries of every source, written in ``dialect`` (duckdb, postgres,
    spark, bigquery, snowflake or trino), for review or to run elsewhere; nothing is run.
    ``kpis`` narrows them to those KPIs (and the KPIs they reference)."""
    from kpispec.engine.sql.run import describe, written

    ids = _kpi_ids(project, chosen_scorecards(project, scorecards))
    if kpis:
        ids = chosen_kpis(project, kpis)
    skipped: list[str] = []
    runs = written(
        project.checked, dialect, as_of=parse_as_of(as_of), period=parse_period(period),
        kpi_ids=ids, skipped=skipped,
    )  # fmt: skip
    parts = ["\n".join(describe(run)) for run in runs]
    parts.extend(
        f"-- source `{source_id}`: it joins a source held elsewhere (files and a database, "
        "or two connections), so Polars joins and aggregates it; no SQL is written"
        for source_id in skipped
    )
    return "\n\n".join(parts) + "\n"


__all__ = [
    "DataError",
    "DiffRun",
    "GateRun",
    "SpecError",
    "TestRun",
    "Validation",
    "check",
    "chosen_scorecards",
    "diff",
    "evaluate",
    "explain",
    "load",
    "parse_as_of",
    "parse_fail_on",
    "parse_period",
    "publish",
    "render",
    "sql",
    "test",
    "validate",
]
