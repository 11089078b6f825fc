"""The fields of a KPI, a source and a project, normalised so that equal means the same.

Each field is a pair: the text a report shows (as written, on one line) and the key it is
compared by. Keys come from the typed model, not from the YAML, so a change of whitespace,
quoting, key order or YAML style (flow or block, ``>`` or ``|``) is no change; a formula
or filter is compared by its AST (:func:`kpispec.formula.canonical.canonical`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kpispec.diff.model import Category
from kpispec.escaping import one_line
from kpispec.formula.canonical import canonical
from kpispec.spec.loader import Snippet
from kpispec.spec.model import Amount, Kpi, Owner, Project, Source, Target


@dataclass(frozen=True, slots=True)
class Field:
    shown: str | None
    key: object
    line: int | None
    category: Category


Fields = dict[str, Field]

#: The fields of a KPI that decide its values (its unit, direction and owner do not): a
#: change of one of them changes the KPIs built on it too.
VALUE_FIELDS = frozenset({"formula", "filter", "source", "time", "window", "grain", "dimensions"})


def _text(value: object) -> str | None:
    if value is None:
        return None
    return one_line(str(value))


def _formula(snippet: Snippet | None) -> tuple[str | None, object]:
    if snippet is None:
        return None, None
    return one_line(" ".join(snippet.text.split())), canonical(snippet.text)


def _owner(owner: Owner | None) -> str | None:
    if owner is None:
        return None
    parts = [owner.name or owner.team or owner.email or ""]
    if owner.email and owner.email != parts[0]:
        parts.append(f"<{owner.email}>")
    if owner.team and owner.team != parts[0]:
        parts.append(f"({owner.team})")
    return one_line(" ".join(parts))


def _line(locs: Mapping[str, object], key: str, default: int) -> int:
    loc = locs.get(key)
    line = getattr(loc, "line", None)
    return line if isinstance(line, int) and line > 0 else default


def kpi_fields(kpi: Kpi, project: Project) -> Fields:
    """Every field of a KPI's definition and presentation (targets apart)."""
    source = project.source(kpi.source) if kpi.source else None
    at: Callable[[str], int] = lambda key: _line(kpi.locs, key, kpi.loc.line)  # noqa: E731
    out: Fields = {}

    def put(name: str, shown: str | None, key: object, category: Category, yaml_key: str) -> None:
        out[name] = Field(shown, key, at(yaml_key), category)

    definition, metadata = Category.DEFINITION, Category.METADATA
    shown, key = _formula(kpi.formula)
    put("formula", shown, key, definition, "formula")
    shown, key = _formula(kpi.filter)
    put("filter", shown, key, definition, "filter")
    put("source", kpi.source, kpi.source, definition, "source")
    time = kpi.time_column(source)
    put("time", time, time, definition, "time")
    put("window", str(kpi.window), kpi.window, definition, "window")
    put("grain", str(kpi.grain), kpi.grain, definition, "grain")
    put("history", str(kpi.history), kpi.history, metadata, "history")
    dims = tuple(kpi.dimensions)
    put("dimensions", ", ".join(dims) or None, dims, definition, "dimensions")
    put("unit", str(kpi.unit), kpi.unit, definition, "unit")
    put("direction", str(kpi.direction), kpi.direction, definition, "direction")
    put("owner", _owner(kpi.owner), kpi.owner, definition, "owner")
    put("name", _text(kpi.name), kpi.name, metadata, "name")
    description = " ".join(kpi.description.split()) if kpi.description else None
    put("description", _text(description), description, metadata, "description")
    put("group", _text(kpi.group), kpi.group, metadata, "group")
    tags = tuple(kpi.tags)
    put("tags", _text(", ".join(tags)) or None, tags, metadata, "tags")
    links = tuple((link.url, link.title) for link in kpi.links)
    put("links", _text(", ".join(url for url, _ in links)) or None, links, metadata, "links")
    put("decimals", _text(kpi.decimals), kpi.decimals, metadata, "decimals")
    put("currency", _text(kpi.currency), kpi.currency, metadata, "currency")
    put("scorecard", _text(kpi.scorecard), kpi.scorecard, metadata, "id")
    return out


#: A target's fields in the order a report lists them: (name, YAML key, reader).
_TARGET: tuple[tuple[str, str, Callable[[Target], object]], ...] = (
    ("min", "min", lambda t: t.min),
    ("max", "max", lambda t: t.max),
    ("tolerance", "tolerance", lambda t: t.tolerance),
    ("baseline", "baseline", lambda t: t.baseline),
    ("change", "change", lambda t: t.change),
    ("from", "from", lambda t: t.start),
    ("by", "by", lambda t: t.by),
    ("gate", "gate", lambda t: t.gate),
    ("why", "why", lambda t: t.why),
)


def _number(value: object) -> str | None:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, Amount) and value.relative:
        return f"{Amount(value.value)}%"  # a tolerance of 5%: no sign, as it is written
    return _text(value)


def target_fields(kpi: Kpi) -> Fields:
    """The fields of each target: ``target.min`` for one target, ``milestone 2.by`` for
    the second of several (milestones are compared in order of their deadline)."""
    out: Fields = {}
    single = len(kpi.targets) <= 1
    for number, target in enumerate(kpi.targets, start=1):
        prefix = "target" if single else f"milestone {number}"
        for name, yaml_key, read in _TARGET:
            value = read(target)
            out[f"{prefix}.{name}"] = Field(
                _number(value),
                value,
                _line(target.locs, yaml_key, target.loc.line),
                Category.TARGET,
            )
    return out


def _resolved(source: Source, project: Project) -> str | None:
    """A source's path as the engine reads it: relative to the folder of the file that
    defines the source, here written relative to the project root."""
    if source.path is None:
        return None
    joined = os.path.normpath(os.path.join(os.path.abspath(source.file.parent), source.path))
    return os.path.relpath(joined, os.path.abspath(project.root)).replace(os.sep, "/")


def _sql_key(sql: str | None) -> object:
    """SQL compared token by token: layout and the case of keywords do not count, the
    text of a string literal does."""
    if sql is None:
        return None
    try:
        from sqlglot import TokenType
        from sqlglot.tokens import Tokenizer

        tokens = Tokenizer().tokenize(sql)
    except Exception:  # not SQL that sqlglot reads: compared as written
        return sql.strip()
    literal = (TokenType.STRING, TokenType.IDENTIFIER)
    return tuple(
        (t.token_type.name, t.text if t.token_type in literal else t.text.upper()) for t in tokens
    )


def source_fields(source: Source, project: Project) -> Fields:
    """A source's fields that decide which rows its KPIs read, and how (title and
    description are its presentation)."""
    at: Callable[[str], int] = lambda key: _line(source.locs, key, source.loc.line)  # noqa: E731
    out: Fields = {}
    definition, metadata = Category.DEFINITION, Category.METADATA

    def put(name: str, shown: str | None, key: object, category: Category = definition) -> None:
        out[name] = Field(shown, key, at(name), category)

    put("path", _text(source.path), _resolved(source, project))
    sql = " ".join(source.sql.split()) if source.sql else None
    put("sql", _text(sql), _sql_key(source.sql))
    put("table", _text(source.table), source.table)
    connection = project.connections.get(source.connection) if source.connection else None
    url = connection.url if connection is not None else None
    put("connection", _text(source.connection), (source.connection, url))
    put("evaluate", source.evaluate if source.connection else None, source.evaluate)
    put("format", _text(source.format), source.format)
    put("time", _text(source.time), source.time)
    zone = source.timezone or project.timezone
    put("timezone", _text(zone), zone)
    shown, key = _formula(source.filter)
    put("filter", shown, key)
    columns = tuple(sorted((name, str(kind)) for name, kind in source.columns.items()))
    put("columns", _text(", ".join(f"{n}: {k}" for n, k in columns)) or None, columns)
    joins = tuple((j.source, j.on) for j in source.joins)
    shown_joins = "; ".join(
        f"{j.source} on " + ", ".join(m if m == t else f"{m} = {t}" for m, t in j.on)
        for j in source.joins
    )
    put("joins", _text(shown_joins) or None, joins)
    put("fresh_within", _text(source.fresh_within), source.fresh_within, metadata)
    put("title", _text(source.title), source.title, metadata)
    description = " ".join(source.description.split()) if source.description else None
    put("description", _text(description), description, metadata)
    return out


def project_fields(project: Project) -> Fields:
    """The project settings a diff reports: the time zone decides every period."""
    at: Callable[[str], int] = lambda key: _line(project.locs, key, 1)  # noqa: E731
    metadata = Category.METADATA
    return {
        "timezone": Field(project.timezone, project.timezone, at("timezone"), Category.DEFINITION),
        "title": Field(_text(project.title), project.title, at("title"), metadata),
        "locale": Field(project.locale, project.locale, at("locale"), metadata),
        "currency": Field(project.currency, project.currency, at("currency"), metadata),
        "history": Field(str(project.history), project.history, at("history"), metadata),
        "engine": Field(project.engine, project.engine, at("engine"), metadata),
    }


def changed(base: Fields, head: Fields) -> list[tuple[str, Field | None, Field | None]]:
    """The fields whose keys differ, in the head's order then the base's."""
    names = [*head, *(n for n in base if n not in head)]
    out = []
    for name in names:
        b, h = base.get(name), head.get(name)
        if (b.key if b else None) != (h.key if h else None):
            out.append((name, b, h))
    return out
