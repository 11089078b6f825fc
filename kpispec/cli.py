"""The command line: each command a few lines that call the stages.

Only this module turns problems into exit statuses (docs/cli.md):
0 success, 1 a gated target missed or a spec test failed, 2 invalid specs or usage,
3 a data or source error, 70 an internal error (a bug: please report it).
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kpispec import __version__
from kpispec.files import is_dir

if TYPE_CHECKING:
    from kpispec.diagnostics import Diagnostic, KpispecError
    from kpispec.spec.load import Loaded

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_DATA, EXIT_INTERNAL = 0, 1, 2, 3, 70

app = typer.Typer(
    name="kpispec",
    help="KPIs as code: validate, evaluate, gate and publish KPI specs written in YAML.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class DiagnosticFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kpispec {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """KPIs as code: validate, evaluate, gate and publish KPI specs written in YAML."""


PathArg = Annotated[
    Path,
    typer.Argument(
        help="A project folder (with kpispec.yaml) or a single spec file.", show_default=True
    ),
]
NoData = Annotated[
    bool, typer.Option("--no-data", help="Check the specs alone; read no data file.")
]
AllowOutside = Annotated[
    bool,
    typer.Option(
        "--allow-outside-root",
        help="Let specs read files outside the project root (also through symlinks).",
    ),
]


def _usage_error(message: str, hint: str | None = None) -> typer.Exit:
    """A problem with the command line itself: E001, printed as every diagnostic is."""
    from kpispec.diagnostics import Diagnostic, Loc, SpecError

    return _failed(SpecError([Diagnostic("E001", message, Loc("<command line>"), hint)]))


def _failed(exc: KpispecError) -> typer.Exit:
    """Print the diagnostics an error carries; exit with its status."""
    from kpispec.diagnostics import format_text

    for d in exc.diagnostics:
        typer.echo(format_text(d, exc.sources), err=True)
    return typer.Exit(exc.exit_code)


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Project folders or spec files (default: the current folder).", show_default=False
        ),
    ] = None,
    format: Annotated[
        DiagnosticFormat, typer.Option("--format", "-f", help="Output format of the diagnostics.")
    ] = DiagnosticFormat.text,
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")] = False,
    no_data: NoData = False,
    allow_outside_root: AllowOutside = False,
) -> None:
    """Check specs against the JSON Schema and the language's rules."""
    from kpispec import api
    from kpispec.diagnostics import KpispecError, format_github, format_json, format_text

    try:
        result = api.validate(
            paths or [Path(".")], data=not no_data, allow_outside_root=allow_outside_root,
            strict=strict,
        )  # fmt: skip
    except KpispecError as exc:
        raise _failed(exc) from None
    if format is DiagnosticFormat.json:
        typer.echo(format_json(result.diagnostics))
    elif format is DiagnosticFormat.github:
        for d in result.diagnostics:
            typer.echo(format_github(d))
    else:
        for d in result.diagnostics:
            typer.echo(format_text(d, result.sources) + "\n")
        typer.echo(result.summary(), err=True)
    raise typer.Exit(EXIT_OK if result.ok else EXIT_INVALID)


AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="Evaluate as of this date (YYYY-MM-DD); default today.", show_default=False
    ),
]
PeriodOpt = Annotated[
    str | None,
    typer.Option(
        "--period",
        help="The period to judge, e.g. 2026-10; default the last complete one.",
        show_default=False,
    ),
]
ScorecardOpt = Annotated[
    list[str] | None,
    typer.Option("--scorecard", help="Only this scorecard (repeatable).", show_default=False),
]


class Engine(StrEnum):
    polars = "polars"
    duckdb = "duckdb"
    spark = "spark"


EngineOpt = Annotated[
    Engine | None,
    typer.Option(
        "--engine",
        help="Who evaluates file sources: polars, duckdb or spark (default: the project's "
        "`engine:`, else polars). Sources on a connection run in their database.",
        show_default=False,
    ),
]


def _with_engine(loaded: Loaded, engine: Engine | None) -> Loaded:
    if engine is not None:
        loaded.checked.project.engine = engine.value
    return loaded


class EvalFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _print_diagnostics(
    diagnostics: list[Diagnostic], sources: dict[str, str] | None = None
) -> None:
    from kpispec.diagnostics import format_text

    for d in diagnostics:
        typer.echo(format_text(d, sources) + "\n", err=True)


def _load_or_exit(path: Path, allow_outside_root: bool) -> Loaded:
    """The checked project; invalid specs print their diagnostics and exit 2.

    A data file that does not exist is left to evaluation, which reports it as a data
    error (exit 3); a column the data does not have is a mistake in the specs (exit 2).
    """
    from kpispec import api
    from kpispec.diagnostics import KpispecError, SpecError
    from kpispec.spec.load import existing

    try:
        existing(path)
    except KpispecError as exc:
        raise _failed(exc) from None
    try:
        return api.load(path, allow_outside_root=allow_outside_root)
    except SpecError as exc:
        _print_diagnostics(exc.diagnostics, exc.sources)
        typer.echo("invalid specs: run `kpispec validate` for details", err=True)
        raise typer.Exit(EXIT_INVALID) from None


@app.command("eval")
def eval_(
    path: PathArg = Path("."),
    format: Annotated[
        EvalFormat,
        typer.Option("--format", "-f", help="table, json (the results document) or csv."),
    ] = EvalFormat.table,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file (atomically) instead of standard output."
        ),
    ] = None,
    as_of: AsOf = None,
    period: PeriodOpt = None,
    scorecard: ScorecardOpt = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Print the query plan of each source instead.")
    ] = False,
    engine: EngineOpt = None,
    allow_outside_root: AllowOutside = False,
) -> None:
    """Evaluate every KPI per period: a table, the results document (json), or csv."""
    from kpispec import api

    loaded = _with_engine(_load_or_exit(path, allow_outside_root), engine)
    if explain:
        typer.echo(api.explain(loaded, as_of=as_of, period=period, scorecards=scorecard))
        return
    doc = api.evaluate(loaded, as_of=as_of, period=period, scorecards=scorecard)
    if format is EvalFormat.table:
        import io

        from rich.console import Console

        from kpispec.report.tables import print_table

        if output is None:
            print_table(doc, Console())
            return
        buffer = io.StringIO()
        print_table(doc, Console(file=buffer, width=120, color_system=None))
        text = buffer.getvalue()
    elif format is EvalFormat.csv:
        from kpispec.report.tables import to_csv

        text = to_csv(doc)
    else:
        from kpispec.results import to_json

        text = to_json(doc)
    if output is None:
        typer.echo(text, nl=False)
    else:
        _write_output(output, text, loaded, allow_outside_root)


class SqlDialect(StrEnum):
    duckdb = "duckdb"
    postgres = "postgres"
    spark = "spark"
    bigquery = "bigquery"
    snowflake = "snowflake"
    trino = "trino"


@app.command("sql")
def sql_(
    path: PathArg = Path("."),
    dialect: Annotated[
        SqlDialect,
        typer.Option("--dialect", help="duckdb, postgres, spark, bigquery, snowflake or trino."),
    ] = SqlDialect.duckdb,
    kpi: Annotated[
        list[str] | None,
        typer.Option(
            "--kpi", help="Only this KPI and those it references (repeatable).", show_default=False
        ),
    ] = None,
    as_of: AsOf = None,
    period: PeriodOpt = None,
    scorecard: ScorecardOpt = None,
    allow_outside_root: AllowOutside = False,
) -> None:
    """Print the aggregate query of each source in an SQL dialect; nothing is run."""
    from kpispec import api

    loaded = _load_or_exit(path, allow_outside_root)
    typer.echo(
        api.sql(loaded, dialect.value, as_of=as_of, period=period, scorecards=scorecard, kpis=kpi),
        nl=False,
    )


def _write_output(
    output: Path,
    text: str,
    loaded: Loaded,
    allow_outside_root: bool,
    option: str = "-o",
) -> None:
    """Write an output file without losing anything (kpispec/outputs.py): atomically for a
    regular file, through a device or named pipe as a shell's ``>`` does; a symlink out of
    the project (E410) and a spec or data file the run read (E006) are refused."""
    from kpispec.outputs import write_file
    from kpispec.spec.columns import matching_files

    project = loaded.checked.project
    sources = project.all_sources()
    inputs = [
        *([project.file] if project.file else []),
        *(card.file for card in project.scorecards),
        *(source.file for source in sources),
        *(file for source in sources for file in matching_files(source)),
    ]
    write_file(
        output,
        text,
        root=project.root,
        allow_outside_root=allow_outside_root,
        option=option,
        inputs=inputs,
    )


class CheckFormat(StrEnum):
    text = "text"
    json = "json"
    junit = "junit"
    github = "github"
    markdown = "markdown"


def _spec_prefix(root: Path) -> str:
    """The project root as CI tools want spec paths: relative to the workspace (or cwd)."""
    import os

    base = os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
    relative = os.path.relpath(os.path.realpath(root), os.path.realpath(base))
    return "" if relative == "." else relative.replace(os.sep, "/") + "/"


@app.command()
def check(
    path: PathArg = Path("."),
    format: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="text, json, junit, github or markdown.")
    ] = CheckFormat.text,
    fail_on: Annotated[
        str,
        typer.Option(
            "--fail-on", help="Fail on gated targets that are: missed, at_risk, or never."
        ),
    ] = "missed",
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Also write a JUnit XML report here.")
    ] = None,
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="Also write a Markdown summary here.")
    ] = None,
    json_file: Annotated[
        Path | None,
        typer.Option("--json", help="Also write the results document with the verdict here."),
    ] = None,
    as_of: AsOf = None,
    period: PeriodOpt = None,
    scorecard: ScorecardOpt = None,
    engine: EngineOpt = None,
    allow_outside_root: AllowOutside = False,
) -> None:
    """The CI gate: evaluate, judge every target, and fail when a gated target is missed."""
    from kpispec import api

    api.parse_fail_on(fail_on)  # a wrong --fail-on is reported before anything is read
    loaded = _with_engine(_load_or_exit(path, allow_outside_root), engine)
    run = api.check(loaded, fail_on=fail_on, as_of=as_of, period=period, scorecards=scorecard)
    for file, kind, option in (
        (junit, CheckFormat.junit, "--junit"),
        (markdown, CheckFormat.markdown, "--markdown"),
        (json_file, CheckFormat.json, "--json"),
    ):
        if file is not None:
            _write_output(file, run.render(kind), loaded, allow_outside_root, option)
    typer.echo(run.render(format), nl=False)
    warning = run.append_step_summary()
    if warning is not None:
        typer.echo(warning, err=True)
    raise typer.Exit(EXIT_OK if run.passed else EXIT_FAILED)


class DiffFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    github = "github"
    json = "json"


@app.command()
def diff(
    path: PathArg = Path("."),
    base: Annotated[
        str,
        typer.Option(
            "--base",
            help="The git revision to compare with: a branch, a tag or a commit.",
            show_default=False,
        ),
    ] = "",
    head: Annotated[
        str | None,
        typer.Option(
            "--head",
            help="The revision to compare (default: the working tree).",
            show_default=False,
        ),
    ] = None,
    format: Annotated[
        DiffFormat, typer.Option("--format", "-f", help="text, markdown, github or json.")
    ] = DiffFormat.text,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file (atomically) instead of standard output."
        ),
    ] = None,
    markdown: Annotated[
        Path | None,
        typer.Option("--markdown", help="Also write the Markdown report (a PR comment) here."),
    ] = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the JSON document here.")
    ] = None,
    periods: Annotated[
        int,
        typer.Option("--periods", help="Compare this many periods before the evaluated one too."),
    ] = 2,
    fail_on: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 when the diff holds this: flip, definition or target (repeatable).",
            show_default=False,
        ),
    ] = None,
    as_of: AsOf = None,
    period: PeriodOpt = None,
    engine: EngineOpt = None,
    allow_outside_root: AllowOutside = False,
) -> None:
    """What a change of the specs does: definitions, targets, values and status flips."""
    from kpispec import api
    from kpispec.diagnostics import KpispecError
    from kpispec.diff.run import InvalidRevision
    from kpispec.runs import DIFF_FAILURES

    if not base:
        raise _usage_error("--base is missing", "name the revision to compare with: --base main")
    kinds = [k.strip() for item in fail_on or [] for k in item.split(",") if k.strip()]
    for kind in kinds:
        if kind not in DIFF_FAILURES:
            raise _usage_error(
                f"--fail-on cannot be {kind!r}", "write --fail-on flip, definition or target"
            )
    try:
        run = api.diff(
            path, base=base, head=head, as_of=as_of, period=period, periods=periods,
            engine=engine.value if engine else None, allow_outside_root=allow_outside_root,
        )  # fmt: skip
    except InvalidRevision as exc:
        _print_diagnostics(exc.diagnostics, exc.sources)
        typer.echo(
            f"invalid specs at the {exc.side} revision ({exc.revision.label}): "
            "fix them, then run kpispec diff again",
            err=True,
        )
        raise typer.Exit(EXIT_INVALID) from None
    except KpispecError as exc:
        raise _failed(exc) from None
    written = [(markdown, "markdown", "--markdown"), (json_file, "json", "--json")]
    if output is not None:
        written.append((output, format.value, "-o"))
    for file, kind, option in written:
        if file is not None:
            if run.head is None:  # no project at the head: no spec of it to spare
                from kpispec.outputs import write_file
                from kpispec.spec.project import find_layout

                root = find_layout(path).root
                write_file(file, run.render(kind), root=root,
                           allow_outside_root=allow_outside_root, option=option)  # fmt: skip
            else:
                _write_output(file, run.render(kind), run.head, allow_outside_root, option)
    if output is None:
        if format is DiffFormat.text:
            from rich.console import Console

            from kpispec.diff import text

            text.render(run.diff, Console())
        else:
            typer.echo(run.render(format.value), nl=False)
    from kpispec.runs import append_step_summary

    warning = append_step_summary(lambda: run.render("markdown"))
    if warning is not None:
        typer.echo(warning, err=True)
    failed = run.failed(kinds)
    if failed:
        typer.echo(
            f"kpispec diff: the change holds {', '.join(failed)} changes (--fail-on)", err=True
        )
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)


@app.command()
def build(
    path: PathArg = Path("."),
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The folder to write the site into.")
    ] = Path("site"),
    templates: Annotated[
        Path | None,
        typer.Option(
            "--templates", help="A folder of templates that override the built-in ones by name."
        ),
    ] = None,
    as_of: AsOf = None,
    period: PeriodOpt = None,
    scorecard: ScorecardOpt = None,
    engine: EngineOpt = None,
    allow_outside_root: AllowOutside = False,
) -> None:
    """Compile the static scorecard site (HTML) and Markdown scorecards into a folder."""
    from kpispec import api

    if templates is not None and not is_dir(templates):
        raise _usage_error(
            f"--templates {templates} is not a folder", "name a folder of .html/.md templates"
        )
    loaded = _with_engine(_load_or_exit(path, allow_outside_root), engine)
    files = api.publish(
        loaded, output, templates=templates, as_of=as_of, period=period, scorecards=scorecard,
        allow_outside_root=allow_outside_root,
    )  # fmt: skip
    from kpispec.escaping import one_line

    shown = one_line(str(output))
    typer.echo(f"wrote {len(files)} files to {shown}/ (open {shown}/index.html)", err=True)


@app.command()
def serve(
    path: PathArg = Path("."),
    port: Annotated[int, typer.Option("--port", help="The port on 127.0.0.1.")] = 8000,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Build here instead of a temporary folder."),
    ] = None,
    templates: Annotated[
        Path | None, typer.Option("--templates", help="Templates that override the built-in ones.")
    ] = None,
    as_of: AsOf = None,
    allow_outside_root: AllowOutside = False,
) -> None:
    """Serve the site on 127.0.0.1 and rebuild it when a spec or data file changes."""
    import shutil
    import signal
    import tempfile

    from kpispec import api
    from kpispec.diagnostics import KpispecError
    from kpispec.report.serve import serve as run_server

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM ends serve as Ctrl-C does: cleaned up

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    scratch: Path | None = None
    if output is None:
        scratch = Path(tempfile.mkdtemp(prefix="kpispec-site-"))
        output = scratch / "site"
    site = output
    try:
        loaded = _load_or_exit(path, allow_outside_root)

        def publish(project: Loaded | Path) -> None:
            api.publish(
                project, site, templates=templates, as_of=as_of,
                allow_outside_root=allow_outside_root,
            )  # fmt: skip

        def rebuild() -> None:
            try:
                publish(path)
                typer.echo("rebuilt", err=True)
            except KpispecError as exc:  # keep serving the last good site
                _print_diagnostics(exc.diagnostics, exc.sources)
            except Exception as exc:  # a bug: say so, and keep serving the last good site
                from kpispec.escaping import one_line as _one_line

                typer.echo(
                    f"internal error: {type(exc).__name__}: {_one_line(str(exc))}\n"
                    "This is a bug in kpispec; please report it with the command you ran.",
                    err=True,
                )

        publish(loaded)
        project = loaded.checked.project
        watch = [project.root, *(s.file.parent for s in project.all_sources())]
        try:
            run_server(
                site, watch, rebuild, port=port, ready=lambda text: typer.echo(text, err=True)
            )
        except OSError as exc:
            raise _usage_error(
                f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}", "choose another --port"
            ) from None
    finally:
        if scratch is not None:  # our own temporary folder: nothing of the user's is in it
            shutil.rmtree(scratch, ignore_errors=True)


@app.command("test")
def test_(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Project folders or spec files (default: the current folder).", show_default=False
        ),
    ] = None,
    scorecard: ScorecardOpt = None,
    as_of: AsOf = None,
    allow_outside_root: AllowOutside = False,
) -> None:
    """Run the tests that spec files carry for their own formulas."""
    from kpispec import api

    loaded = [_load_or_exit(path, allow_outside_root) for path in paths or [Path(".")]]
    run = api.test(loaded, as_of=as_of, scorecards=scorecard)
    for line in run.lines():
        typer.echo(line)
    raise typer.Exit(EXIT_OK if run.passed else EXIT_FAILED)


@app.command()
def schema(
    project: Annotated[
        bool,
        typer.Option("--project", help="Print the schema of kpispec.yaml instead of spec files."),
    ] = False,
) -> None:
    """Print the JSON Schema of spec files (or of the project file)."""
    from kpispec.spec.schema import PROJECT_SCHEMA, SPEC_SCHEMA, schema_text

    typer.echo(schema_text(PROJECT_SCHEMA if project else SPEC_SCHEMA), nl=False)


class CommentPlatform(StrEnum):
    github = "github"
    gitlab = "gitlab"


@app.command()
def comment(
    body_file: Annotated[
        Path,
        typer.Argument(
            help="The Markdown file to post (`-` reads standard input).", show_default=False
        ),
    ],
    platform: Annotated[
        CommentPlatform | None,
        typer.Option(
            "--platform",
            help="github or gitlab (default: gitlab when GITLAB_CI is set, else github).",
            show_default=False,
        ),
    ] = None,
    pr: Annotated[
        int | None,
        typer.Option(
            "--pr",
            help="The pull request's (merge request's) number; default: the CI event's.",
            show_default=False,
        ),
    ] = None,
    marker: Annotated[
        str,
        typer.Option("--marker", help="Names the comment, so that each run updates the same one."),
    ] = "diff",
) -> None:
    """Post a Markdown report as one pull-request (merge-request) comment, updated on reruns."""
    from kpispec.comment import post_comment, read_body
    from kpispec.diagnostics import KpispecError

    try:
        posted = post_comment(
            read_body(body_file),
            platform=None if platform is None else platform.value,
            number=pr,
            marker=marker,
        )
    except KpispecError as exc:
        raise _failed(exc) from None
    typer.echo(posted.summary(), err=True)


def main() -> None:
    """The console script: runs the app and keeps tracebacks away from users."""
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except BaseException as exc:  # a bug (or a panic in a library): never a traceback
        if isinstance(exc, GeneratorExit):
            raise
        from kpispec.diagnostics import KpispecError

        if isinstance(exc, KpispecError):
            from kpispec.diagnostics import format_text

            for d in exc.diagnostics:
                typer.echo(format_text(d), err=True)
            sys.exit(exc.exit_code)
        from kpispec.escaping import one_line

        typer.echo(
            f"internal error: {type(exc).__name__}: {one_line(str(exc))}\n"
            "This is a bug in kpispec; please report it with the command you ran.",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
