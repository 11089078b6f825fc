"""Sources: connections (E402), paths and the files they match (E204, E410-E412), columns.

With data allowed, the files a path matches are found and their columns read (a CSV
header, a Parquet schema), so that later passes can check the columns formulas name.
"""

from __future__ import annotations

from pathlib import Path

from kpispec.confine import has_magic, nul_in_path, outside_root
from kpispec.spec.checks.context import Context
from kpispec.spec.checks.formulas import source_filter
from kpispec.spec.checks.settings import check_timezone
from kpispec.spec.columns import KnownColumns, matching_files, read_columns, source_format
from kpispec.spec.loader import display_name
from kpispec.spec.model import Source
from kpispec.suggest import did_you_mean


def _fixed_parts(pattern: str) -> list[str]:
    """The leading components of a path or glob that hold no wildcard."""
    fixed = []
    for part in Path(pattern).parts:
        if has_magic(part):
            break
        fixed.append(part)
    return fixed


def check_sources(ctx: Context) -> None:
    for source in ctx.project.all_sources():
        check_source(ctx, source)


def check_source(ctx: Context, source: Source) -> None:
    where = source.locs
    if source.timezone is not None:
        check_timezone(ctx, source.timezone, where.get("timezone", source.loc))
    if source.sql is not None or source.table is not None:
        connection(ctx, source)
    elif source.path is not None:
        source_path(ctx, source)
    if not source.joins:  # one that joins: once its joined columns are known (joins.py)
        source_filter(ctx, source)
    known = ctx.file_columns.get(source.id)
    for column in source.columns:
        if known is not None and column not in known.names:
            ctx.out.add(
                "E306",
                f"declared column `{column}` is not in source `{source.id}` (read from {known.how})",
                source.column_locs.get(column, where.get("columns", source.loc)),
                did_you_mean(column, known.names) or f"columns: {', '.join(sorted(known.names))}",
            )
    if source.time is not None:
        ctx.column_exists(source.time, source, where.get("time", source.loc), "time column")


def connection(ctx: Context, source: Source) -> None:
    if source.connection is None or source.connection in ctx.project.connections:
        return
    known = list(ctx.project.connections)
    ctx.out.add(
        "E402",
        f"unknown connection `{source.connection}`",
        source.locs.get("connection", source.loc),
        did_you_mean(source.connection, known)
        or (
            f"connections: {', '.join(known)}"
            if known
            else "define it under `connections:` in kpispec.yaml"
        ),
    )


def source_path(ctx: Context, source: Source) -> None:
    loc = source.locs.get("path", source.loc)
    assert source.path is not None
    if "\x00" in source.path:  # no file system takes it; os.path would raise
        ctx.out.items.append(nul_in_path(loc))
        return
    if source_format(source) is None:
        ctx.out.add(
            "E412",
            f"cannot tell the format of {source.path!r} from its extension",
            loc,
            "add `format:` (csv, parquet, ndjson or json) or use a known extension",
        )
    root = ctx.project.root
    what = f"source path {source.path!r}"
    if not ctx.allow_outside_root:
        # the folder the path (or the glob's fixed start) names, judged before any data
        # is read; then every file it matches, where a symlink may lead elsewhere
        fixed = Path(*_fixed_parts(source.path)) if source.path else Path()
        refused = outside_root(what, [source.file.parent / fixed], root, loc)
        if refused is not None:
            ctx.out.items.append(refused)
            return
    if not ctx.data:
        return
    files = matching_files(source, None if ctx.allow_outside_root else root)
    if not ctx.allow_outside_root:
        refused = outside_root(what, files, root, loc)
        if refused is not None:
            ctx.out.items.append(refused)
            return
    if not files:
        ctx.out.add(
            "E411",
            f"no file matches {source.path!r} (relative to {display_name(source.file.parent)}/)",
            loc,
            "paths are relative to the spec file that names them; check the name, or run with "
            "--no-data to check the specs alone",
        )
        return
    known = read_columns(source, files)
    if known is not None:
        ctx.file_columns[source.id] = known
        ctx.columns[source.id] = KnownColumns(known.names | frozenset(source.columns), known.how)
