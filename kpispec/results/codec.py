"""The results model as JSON, and back: the only place the document's shape is spelled.

:func:`to_json` writes ``schemas/results.schema.json`` (``kpispec_results: 1``)
deterministically: fixed key order, shortest round-trip floats, a final newline, and no
raw line separator inside a string. :func:`from_json` reads a saved document, validated
against the schema, into the model; writing it again gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any, cast

from kpispec.diagnostics import Diagnostic, KpispecError, Loc
from kpispec.results.model import (
    VERSION,
    Bound,
    Breakdown,
    Change,
    Gate,
    Kpi,
    Link,
    Member,
    MemberPoint,
    Owner,
    Period,
    Point,
    ProjectInfo,
    Results,
    Scorecard,
    Source,
    Status,
    Summary,
    Target,
)

SCHEMA = "results.schema.json"
#: A JSON value as the standard library reads and writes it.
Json = dict[str, object]


class ResultsError(KpispecError):
    """A document that is not a results document kpispec can read (exit status 2)."""

    exit_code = 2


# ------------------------------------------------------------------------- model -> JSON


def _owner(owner: Owner | None) -> Json | None:
    if owner is None:
        return None
    return {"name": owner.name, "email": owner.email, "team": owner.team}


def _bound(bound: Bound | None) -> Json | None:
    if bound is None:
        return None
    return {
        "min": bound.min,
        "max": bound.max,
        "at_risk_min": bound.at_risk_min,
        "at_risk_max": bound.at_risk_max,
    }


def _change(change: Change) -> Json:
    return {
        "period": change.period,
        "value": change.value,
        "change": change.change,
        "change_pct": change.change_pct,
    }


def _target(t: Target) -> Json:
    return {
        "min": t.min,
        "max": t.max,
        "tolerance": t.tolerance,
        "gate": str(t.gate),
        "why": t.why,
        "baseline": t.baseline,
        "change": t.change,
        "from": t.start,
        "by": t.by,
        "line": t.line,
    }


def _source(s: Source | None) -> Json | None:
    if s is None:
        return None
    return {
        "id": s.id,
        "title": s.title,
        "description": s.description,
        "path": s.path,
        "sql": s.sql,
        "table": s.table,
        "connection": s.connection,
        "engine": s.engine,
        "time": s.time,
        "filter": s.filter,
        "fresh_within": s.fresh_within,
    }


def _summary(s: Summary) -> Json:
    return {
        "kpis": s.kpis,
        "met": s.met,
        "at_risk": s.at_risk,
        "missed": s.missed,
        "no_data": s.no_data,
        "no_target": s.no_target,
        "stale": s.stale,
    }


def _point(p: Point) -> Json:
    return {
        "period": p.period,
        "start": p.start,
        "end": p.end,
        "value": p.value,
        "status": str(p.status),
        "bound": _bound(p.bound),
    }


def _breakdown(b: Breakdown) -> Json:
    members = [
        {
            "member": m.member,
            "value": m.value,
            "series": [{"period": p.period, "value": p.value} for p in m.series],
        }
        for m in b.members
    ]
    return {"dimension": b.dimension, "members": members}


def _kpi(k: Kpi) -> Json:
    return {
        "id": k.id,
        "name": k.name,
        "description": k.description,
        "owner": _owner(k.owner),
        "group": k.group,
        "tags": list(k.tags),
        "links": [{"url": link.url, "title": link.title} for link in k.links],
        "unit": k.unit,
        "currency": k.currency,
        "decimals": k.decimals,
        "direction": k.direction,
        "grain": k.grain,
        "window": k.window,
        "time": k.time,
        "dimensions": list(k.dimensions),
        "source": _source(k.source),
        "formula": k.formula,
        "filter": k.filter,
        "depends_on": list(k.depends_on),
        "file": k.file,
        "line": k.line,
        "targets": [_target(t) for t in k.targets],
        "period": {"label": k.period.label, "start": k.period.start, "end": k.period.end},
        "value": k.value,
        "status": str(k.status),
        "bound": _bound(k.bound),
        "gate": str(k.gate) if k.gate is not None else None,
        "deadline": k.deadline,
        "why": k.why,
        "target_line": k.target_line,
        "previous": _change(k.previous),
        "year_ago": _change(k.year_ago),
        "stale": k.stale,
        "newest": k.newest,
        "series": [_point(p) for p in k.series],
        "breakdowns": [_breakdown(b) for b in k.breakdowns],
    }


def _scorecard(c: Scorecard) -> Json:
    return {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "owner": _owner(c.owner),
        "grain": c.grain,
        "locale": c.locale,
        "currency": c.currency,
        "tags": list(c.tags),
        "file": c.file,
        "line": c.line,
        "summary": _summary(c.summary),
        "kpis": [_kpi(k) for k in c.kpis],
    }


def to_dict(results: Results) -> Json:
    """The results document as plain JSON data, keys in the schema's order."""
    p = results.project
    return {
        "kpispec_results": results.version,
        "generator": results.generator,
        "as_of": results.as_of,
        "project": {
            "title": p.title,
            "description": p.description,
            "locale": p.locale,
            "currency": p.currency,
            "timezone": p.timezone,
            "history": p.history,
        },
        "summary": _summary(results.summary),
        "scorecards": [_scorecard(c) for c in results.scorecards],
    }


def dumps(data: Mapping[str, object]) -> str:
    """Deterministic JSON text of plain data (:func:`to_json` for a model)."""
    from kpispec.escaping import json_lines

    return json_lines(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)) + "\n"


def to_json(results: Results, **extra: object) -> str:
    """The results document as JSON text; ``extra`` keys (``verdict``) are appended."""
    return dumps({**to_dict(results), **extra})


# ------------------------------------------------------------------------- JSON -> model
# The readers take ``Any``: the schema has vouched for every key and type before they run.


def _owner_in(o: Any) -> Owner | None:
    return None if o is None else Owner(o["name"], o["email"], o["team"])


def _bound_in(b: Any) -> Bound | None:
    if b is None:
        return None
    return Bound(b["min"], b["max"], b["at_risk_min"], b["at_risk_max"])


def _change_in(c: Any) -> Change:
    return Change(c["period"], c["value"], c["change"], c["change_pct"])


def _summary_in(s: Any) -> Summary:
    return Summary(
        s["kpis"], s["met"], s["at_risk"], s["missed"], s["no_data"], s["no_target"], s["stale"]
    )


def _target_in(t: Any) -> Target:
    return Target(
        t["min"],
        t["max"],
        t["tolerance"],
        Gate(t["gate"]),
        t["why"],
        t["baseline"],
        t["change"],
        t["from"],
        t["by"],
        t["line"],
    )


def _source_in(s: Any) -> Source | None:
    if s is None:
        return None
    return Source(
        s["id"],
        s["title"],
        s["description"],
        s["path"],
        s["sql"],
        s["connection"],
        s["time"],
        s["filter"],
        s["fresh_within"],
        s["table"],
        s["engine"],
    )


def _kpi_in(k: Any) -> Kpi:
    period = k["period"]
    return Kpi(
        id=k["id"],
        name=k["name"],
        description=k["description"],
        owner=_owner_in(k["owner"]),
        group=k["group"],
        tags=tuple(k["tags"]),
        links=tuple(Link(link["url"], link["title"]) for link in k["links"]),
        unit=k["unit"],
        currency=k["currency"],
        decimals=k["decimals"],
        direction=k["direction"],
        grain=k["grain"],
        window=k["window"],
        time=k["time"],
        dimensions=tuple(k["dimensions"]),
        source=_source_in(k["source"]),
        formula=k["formula"],
        filter=k["filter"],
        depends_on=tuple(k["depends_on"]),
        file=k["file"],
        line=k["line"],
        targets=tuple(_target_in(t) for t in k["targets"]),
        period=Period(period["label"], period["start"], period["end"]),
        value=k["value"],
        status=Status(k["status"]),
        bound=_bound_in(k["bound"]),
        gate=Gate(k["gate"]) if k["gate"] is not None else None,
        deadline=k["deadline"],
        why=k["why"],
        target_line=k["target_line"],
        previous=_change_in(k["previous"]),
        year_ago=_change_in(k["year_ago"]),
        stale=k["stale"],
        newest=k["newest"],
        series=tuple(
            Point(
                p["period"],
                p["start"],
                p["end"],
                p["value"],
                Status(p["status"]),
                _bound_in(p["bound"]),
            )
            for p in k["series"]
        ),
        breakdowns=tuple(
            Breakdown(
                b["dimension"],
                tuple(
                    Member(
                        m["member"],
                        m["value"],
                        tuple(MemberPoint(p["period"], p["value"]) for p in m["series"]),
                    )
                    for m in b["members"]
                ),
            )
            for b in k["breakdowns"]
        ),
    )


def _scorecard_in(c: Any) -> Scorecard:
    return Scorecard(
        c["id"],
        c["title"],
        c["description"],
        _owner_in(c["owner"]),
        c["grain"],
        c["locale"],
        c["currency"],
        tuple(c["tags"]),
        c["file"],
        c["line"],
        _summary_in(c["summary"]),
        tuple(_kpi_in(k) for k in c["kpis"]),
    )


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    from kpispec.files import data_dir

    schema = json.loads((data_dir("schemas") / SCHEMA).read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _invalid(message: str, where: str) -> ResultsError:
    return ResultsError(
        [
            Diagnostic(
                "E007",
                f"not a kpispec results document: {message}",
                Loc(where),
                f"pass the output of `kpispec eval --format json`, version {VERSION}, unchanged",
            )
        ]
    )


def from_dict(data: Mapping[str, object], *, where: str = "<results>") -> Results:
    """A results document (plain JSON data) as the model; raises ResultsError (E007)
    when it does not follow the schema. Extra top-level keys (``verdict``) are ignored."""
    if not isinstance(data, Mapping):
        raise _invalid("not a JSON object", where)
    doc = {k: v for k, v in data.items() if k != "verdict"}  # written by `check --json`
    error = next(iter(sorted(_validator().iter_errors(doc), key=lambda e: list(e.path))), None)
    if error is not None:
        place = "/".join(str(part) for part in error.absolute_path)
        from kpispec.escaping import one_line

        raise _invalid(one_line(f"{place or '(top)'}: {error.message}")[:300], where)
    d = cast(Any, doc)
    p = d["project"]
    return Results(
        generator=d["generator"],
        as_of=d["as_of"],
        project=ProjectInfo(
            p["title"], p["description"], p["locale"], p["currency"], p["timezone"], p["history"]
        ),
        summary=_summary_in(d["summary"]),
        scorecards=tuple(_scorecard_in(c) for c in d["scorecards"]),
        version=d["kpispec_results"],
    )


def from_json(text: str | bytes, *, where: str = "<results>") -> Results:
    """A saved results document (JSON text) as the model (:func:`from_dict`)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _invalid(f"not JSON ({exc})", where) from None
    return from_dict(data, where=where)
