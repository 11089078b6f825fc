"""The published JSON Schemas, and their errors as positioned diagnostics."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from functools import cache
from typing import Any

from kpispec.diagnostics import Diagnostic, Loc
from kpispec.files import data_dir
from kpispec.spec.loader import Document
from kpispec.suggest import did_you_mean

SPEC_SCHEMA = "kpispec.schema.json"
PROJECT_SCHEMA = "project.schema.json"
BASE_URI = "https://kpispec.dev/schemas/"


def schema_text(name: str) -> str:
    return (data_dir("schemas") / name).read_text(encoding="utf-8")


@cache
def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text(name))
    return loaded


@cache
def defined_pattern(name: str) -> re.Pattern[str]:
    """The ``pattern`` of ``$defs/<name>`` in the spec schema.

    A check of a value the schema has a pattern for skips a value that does not match it:
    the schema has reported that one already (E204).
    """
    return re.compile(str(schema(SPEC_SCHEMA)["$defs"][name]["pattern"]))


@cache
def _validator(name: str) -> Any:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    registry: Registry = Registry().with_resources(
        (BASE_URI + n, Resource.from_contents(schema(n))) for n in (SPEC_SCHEMA, PROJECT_SCHEMA)
    )
    return Draft202012Validator(
        schema(name), registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


#: Friendly descriptions of what a string must look like, by property name.
_FORMATS = {
    "id": "an id: a lowercase letter, then lowercase letters, digits or _ (e.g. conversion_rate)",
    "kpi": "a KPI id",
    "source": "a source id",
    "connection": "a connection id",
    "by": "a date written YYYY-MM-DD",
    "from": "a date written YYYY-MM-DD",
    "period": "a period label: 2026, 2026-Q3, 2026-09, 2026-W41 or 2026-10-05",
    "currency": "an ISO 4217 currency code in capitals, e.g. EUR, NOK, DKK",
    "locale": "a locale such as en, nb, da, sv, de or en_GB",
    "timezone": "an IANA time zone such as Europe/Oslo or UTC",
    "window": "period, all, or a rolling window such as 7 days, 4 weeks or 3 months",
    "fresh_within": "a duration such as 2 days, 6 hours or 1 week",
    "tolerance": "a number or a percentage such as 5%",
    "change": "a relative change such as +10% or -5%, or an absolute number such as 0.5",
    "email": "an e-mail address",
    "url": "a URL",
}

_TYPE_NAMES = {
    "object": "a mapping (key: value)",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "null",
}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _last_key(path: tuple[Any, ...]) -> str | None:
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return None


def _where(path: tuple[Any, ...]) -> str:
    """A readable name for the object at ``path``: "kpi", "source", "target"."""
    key = _last_key(path)
    names = {
        "kpis": "KPI",
        "sources": "source",
        "tests": "test",
        "targets": "milestone",
        "target": "target",
        "scorecard": "scorecard",
        "owner": "owner",
        "baseline": "baseline",
        "connections": "connection",
        "links": "link",
    }
    if key in names:
        return names[key]
    if path and isinstance(path[-1], str) and len(path) >= 2 and path[-2] == "connections":
        return "connection"
    return "the file" if not path else f"`{key}`" if key else "value"


#: "Did you mean" hints for at most this many unknown keys of one file: a file with
#: thousands of unknown keys holds no typos but something else, and each hint costs.
MAX_SUGGESTIONS = 100


def validate_document(doc: Document, schema_name: str) -> list[Diagnostic]:
    """Every schema problem of ``doc``, one diagnostic each, in file order."""
    validator = _validator(schema_name)
    out: list[Diagnostic] = []
    dedented: dict[Loc, list[str]] = {}
    budget = [MAX_SUGGESTIONS]
    for error in validator.iter_errors(doc.data):
        out.extend(_diagnose(doc, error, schema_name, dedented, budget))
    for i, d in enumerate(out):  # an empty block whose keys were written beside it
        if d.code == "E202" and d.loc in dedented:
            keys = ", ".join(f"`{k}`" for k in dedented[d.loc])
            block = _last_key(_path_at(doc, d.loc)) or "it"
            out[i] = replace(
                d,
                hint=f"the keys below it ({keys}) are at its own level: indent them under "
                f"`{block}:` by two more spaces",
            )
    unique = {(d.loc, d.code, d.message): d for d in out}
    return sorted(unique.values(), key=Diagnostic.sort_key)


def _path_at(doc: Document, loc: Loc) -> tuple[Any, ...]:
    return next((path for path in doc.values if doc.loc(path) == loc), ())


def _keys_of(subschema: Any, root: dict[str, Any], depth: int = 0) -> set[str]:
    """The keys a (sub)schema allows, through ``$ref`` and ``oneOf``/``anyOf``/``allOf``."""
    if depth > 8 or not isinstance(subschema, dict):
        return set()
    names = set(subschema.get("properties", {}))
    ref = subschema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        node: Any = root
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        names |= _keys_of(node, root, depth + 1)
    for combinator in ("oneOf", "anyOf", "allOf"):
        for branch in subschema.get(combinator, []):
            names |= _keys_of(branch, root, depth + 1)
    return names


def _empty_blocks(
    doc: Document,
    path: tuple[Any, ...],
    mapping: dict[str, Any],
    properties: dict[str, Any],
    root: dict[str, Any],
) -> list[tuple[int, str, set[str]]]:
    """The known keys of ``mapping`` with nothing under them (``target:``): their line,
    name and the keys they allow, for :func:`_block_above`."""
    return [
        (doc.key_loc((*path, name)).line, name, _keys_of(properties[name], root))
        for name in properties
        if name in mapping and mapping[name] is None
    ]


def _block_above(
    doc: Document, path: tuple[Any, ...], key: str, blocks: list[tuple[int, str, set[str]]]
) -> str | None:
    """For an unknown ``key``: the nearest empty block above it that allows ``key``.

    ``target:`` with nothing under it and ``min: 3`` below at the same indentation: the
    writer meant ``min`` to be a key of the target.
    """
    if not blocks:
        return None
    line = doc.key_loc((*path, key)).line
    above = [(at, name) for at, name, keys in blocks if at < line and key in keys]
    return max(above)[1] if above else None


def _diagnose(
    doc: Document,
    error: Any,
    schema_name: str,
    dedented: dict[Loc, list[str]],
    budget: list[int],
) -> Iterator[Diagnostic]:
    """``budget`` counts down the "did you mean" hints still to compute for ``doc``."""
    path = tuple(error.absolute_path)
    kind = error.validator
    value = error.instance
    key = _last_key(path)
    loc = doc.loc(path)
    span = loc.length

    if kind == "additionalProperties" and isinstance(value, dict):
        properties = error.schema.get("properties", {})
        allowed = list(properties)
        blocks = _empty_blocks(doc, path, value, properties, schema(schema_name))
        for unknown in value:
            if unknown in allowed:
                continue
            hint = did_you_mean(unknown, allowed) if budget[0] > 0 else None
            budget[0] -= 1
            block = _block_above(doc, path, unknown, blocks)
            if block is not None:
                dedented.setdefault(doc.loc((*path, block)), []).append(unknown)
                hint = (
                    f"`{unknown}` is a key of `{block}:` (line "
                    f"{doc.key_loc((*path, block)).line}), written at its level: indent it "
                    f"under `{block}:` by two more spaces"
                )
            yield Diagnostic(
                "E200",
                f"unknown key `{unknown}` in "
                + (
                    _where(path)
                    if path
                    else "kpispec.yaml"
                    if schema_name == PROJECT_SCHEMA
                    else "the spec file"
                ),
                doc.key_loc((*path, unknown)),
                hint or f"allowed keys: {', '.join(allowed)}",
                length=len(unknown),
            )
        return
    if kind == "required":
        for name in error.validator_value:
            if isinstance(value, dict) and name not in value:
                hint = _REQUIRED_HINTS.get(name, f"add `{name}:`")
                if "links" in path:
                    hint = "a link is a URL, or {title: ..., url: https://...}"
                yield Diagnostic(
                    "E201", f"missing required key `{name}` in {_where(path)}", loc, hint
                )
        return
    if kind == "const" and path == ("kpispec",):
        yield Diagnostic(
            "E206",
            f"unsupported language version {_show(value)}",
            loc,
            "this kpispec reads version 1: write `kpispec: 1`",
            length=span,
        )
        return
    if kind in ("type", "const"):
        expected = error.validator_value
        types: list[str] = expected if isinstance(expected, list) else [expected]
        wanted = (
            " or ".join(_TYPE_NAMES.get(t, t) for t in types) if kind == "type" else _show(expected)
        )
        yield Diagnostic(
            "E202",
            f"`{key or 'value'}` must be {wanted}, got {_type_name(value)} ({_show(value)})",
            loc,
            _type_hint(key, value),
            length=span,
        )
        return
    if kind == "enum":
        options = [str(o) for o in error.validator_value]
        hint = did_you_mean(str(value), options) or _SYNONYMS.get(str(value).lower())
        yield Diagnostic(
            "E203",
            f"`{key}` cannot be {_show(value)}; expected one of: {', '.join(options)}",
            loc,
            hint,
            length=span,
        )
        return
    if kind in ("pattern", "format", "minLength"):
        what = _FORMATS.get(key or "")
        if kind == "minLength":
            message = f"`{key}` cannot be empty"
        else:
            message = f"invalid {key or 'value'} {_show(value)}" + (
                f": expected {what}" if what else ""
            )
        yield Diagnostic("E204", message, loc, _pattern_hint(key, value), length=span)
        return
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems",
                "uniqueItems", "minProperties"):  # fmt: skip
        yield Diagnostic(
            "E205", f"`{key or 'value'}`: {_range_message(error)}", loc, None, length=span
        )
        return
    if kind in ("oneOf", "anyOf", "not"):
        yield from _alternatives(doc, error, schema_name, dedented)
        return
    yield Diagnostic("E208", f"{_where(path)}: {error.message}", loc, None, length=span)


#: Words people write for an allowed value.
_SYNONYMS = {
    "down": "write lower_is_better",
    "lower": "write lower_is_better",
    "decrease": "write lower_is_better",
    "up": "write higher_is_better",
    "higher": "write higher_is_better",
    "increase": "write higher_is_better",
    "monthly": "write month",
    "weekly": "write week",
    "daily": "write day",
    "quarterly": "write quarter",
    "yearly": "write year",
    "annual": "write year",
    "%": "write percent",
    "pct": "write percent",
    "money": "write currency",
    "error": "write fail",
    "warning": "write warn",
}

_REQUIRED_HINTS = {
    "kpispec": "start the file with `kpispec: 1`",
    "scorecard": "add `scorecard: {id: ..., title: ...}`",
    "kpis": "add `kpis:` with at least one KPI, or an empty list `kpis: []`",
    "id": "give it an id: a lowercase letter, then letters, digits or _",
    "formula": "add `formula:`, e.g. formula: 100 * sum(clicks) / sum(impressions)",
    "by": "every milestone needs a deadline, e.g. by: 2026-12-31",
    "expect": "add `expect:` with the value the KPI must give on the rows",
    "url": "add `url: ${ENV_VAR}` and set the variable where kpispec runs",
}


def _type_hint(key: str | None, value: Any) -> str | None:
    if key in ("by", "from") and isinstance(value, int):
        return "write the date as YYYY-MM-DD"
    if key == "formula" and not isinstance(value, str):
        return "a formula is text; quote it if YAML reads it as something else"
    if isinstance(value, dict | str) and key in ("dimensions", "tags"):
        item = value if isinstance(value, str) else "a"
        return f"write `{key}` as a list: [{item}]"
    return None


def _pattern_hint(key: str | None, value: Any) -> str | None:
    if key in ("id", "kpi", "source", "connection") and isinstance(value, str):
        fixed = "".join(c if c.isalnum() else "_" for c in value.strip().lower()).strip("_")
        if fixed and fixed[0].isalpha():
            return f"try `{fixed}`"
    if key == "currency" and isinstance(value, str) and len(value) == 3:
        return f"try `{value.upper()}`"
    if key in ("by", "from"):
        return "dates are written YYYY-MM-DD, e.g. 2026-12-31"
    return None


def _range_message(error: Any) -> str:
    kind, limit, value = error.validator, error.validator_value, error.instance
    if kind == "minimum":
        return f"{_show(value)} is below the minimum {limit}"
    if kind == "maximum":
        return f"{_show(value)} is above the maximum {limit}"
    if kind == "minItems":
        return f"needs at least {limit} item{'s' if limit != 1 else ''}"
    if kind == "uniqueItems":
        return "lists the same item twice"
    if kind == "minProperties":
        return "cannot be empty"
    return str(error.message)


def _alternatives(
    doc: Document, error: Any, schema_name: str, dedented: dict[Loc, list[str]]
) -> Iterator[Diagnostic]:
    """oneOf/anyOf/not: say which combination is wrong, in the language's terms."""
    path = tuple(error.absolute_path)
    value = error.instance
    loc = doc.loc(path)
    spec_defs = schema(SPEC_SCHEMA)["$defs"]
    if error.schema is spec_defs.get("source") and isinstance(value, dict):
        has = {k for k in ("path", "sql", "table", "connection") if k in value}
        if len(has & {"path", "sql", "table"}) > 1:
            kinds = " and ".join(f"`{k}`" for k in ("path", "sql", "table") if k in has)
            message, hint = (
                f"a source has one of `path`, `sql` or `table`, not {kinds}",
                ("remove all but one of them"),
            )
        elif has & {"sql", "table"} and "connection" not in has:
            key = "sql" if "sql" in has else "table"
            message, hint = (
                f"an `{key}` source needs a `connection`",
                "name a connection of kpispec.yaml",
            )
        elif "path" in has and "connection" in has:
            message, hint = (
                "`connection` goes with `sql` or `table`, not with `path`",
                "remove `connection`",
            )
        elif not has & {"path", "sql", "table"}:
            message = "a source needs `path` (a file or glob), `sql` (a query) or `table`"
            hint = "e.g. path: data/sessions.csv"
        else:
            yield from _best_branch(doc, error, schema_name, dedented)
            return
        yield Diagnostic("E207", message, loc, hint)
        return
    if (
        error.validator == "not"
        and isinstance(value, dict)
        and "target" in value
        and "targets" in value
    ):
        yield Diagnostic(
            "E207",
            "a KPI has either `target` or `targets` (milestones), not both",
            doc.key_loc((*path, "targets")),
            "move the single target into the `targets` list",
        )
        return
    yield from _best_branch(doc, error, schema_name, dedented)


def _best_branch(
    doc: Document, error: Any, schema_name: str, dedented: dict[Loc, list[str]]
) -> Iterator[Diagnostic]:
    from jsonschema.exceptions import best_match

    value = error.instance
    context = list(error.context or ())
    # prefer the branch whose type fits the value: its errors are the useful ones
    fitting = [e for e in context if e.validator != "type"]
    best = best_match(fitting or context) if context else None
    if best is None:
        path = tuple(error.absolute_path)
        yield Diagnostic(
            "E207",
            f"{_where(path)}: {_show(value)} is not allowed here",
            doc.loc(path),
            None,
        )
        return
    if best.validator == "type" and not fitting:
        path = tuple(error.absolute_path)
        wanted = sorted(
            {str(t) for e in context if e.validator == "type" for t in _as_list(e.validator_value)}
        )
        key = _last_key(path)
        yield Diagnostic(
            "E202",
            f"`{key or 'value'}` must be {' or '.join(_TYPE_NAMES.get(t, t) for t in wanted)}, "
            f"got {_type_name(value)} ({_show(value)})",
            doc.loc(path),
            _type_hint(key, value),
            length=doc.span(path),
        )
        return
    yield from _diagnose(doc, best, schema_name, dedented, [MAX_SUGGESTIONS])


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
