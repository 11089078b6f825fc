"""The results document: everything a report needs, and the one hand-off to every output.

It conforms to ``schemas/results.schema.json`` (``kpispec_results: 1``). Reports read this
document only, never a spec or a data file. The same inputs and as-of date give the same
document, byte for byte (:func:`dumps`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpispec import __version__
from kpispec.engine.targets import STATUSES, Bound, bound_for, judge, resolve
from kpispec.periods import Period, year_earlier
from kpispec.spec.checks import CheckedKpi, CheckedProject
from kpispec.spec.loader import display_name
from kpispec.spec.model import Owner, Project, Scorecard, Source, Target

if TYPE_CHECKING:  # reports read a document without importing the engine (nor Polars)
    from kpispec.engine.evaluate import Evaluation

VERSION = 1
Doc = dict[str, Any]


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def _owner(owner: Owner | None) -> Doc | None:
    if owner is None:
        return None
    return {"name": owner.name, "email": owner.email, "team": owner.team}


def _target(target: Target) -> Doc:
    tol = target.tolerance
    return {
        "min": target.min,
        "max": target.max,
        "tolerance": str(tol) if tol is not None else None,
        "gate": str(target.gate),
        "why": target.why,
        "baseline": target.baseline,
        "change": str(target.change) if target.change is not None else None,
        "from": target.start.isoformat() if target.start else None,
        "by": target.by.isoformat() if target.by else None,
        "line": target.loc.line,
    }


def _source(source: Source | None) -> Doc | None:
    if source is None:
        return None
    return {
        "id": source.id,
        "title": source.title,
        "description": source.description,
        "path": source.path,
        "sql": source.sql,
        "connection": source.connection,
        "time": source.time,
        "filter": source.filter.text if source.filter else None,
        "fresh_within": str(source.fresh_within) if source.fresh_within else None,
    }


def _bound(bound: Bound | None) -> Doc | None:
    if bound is None:
        return None
    return {
        "min": _number(bound.min),
        "max": _number(bound.max),
        "at_risk_min": _number(bound.min - bound.min_band) if bound.min is not None else None,
        "at_risk_max": _number(bound.max + bound.max_band) if bound.max is not None else None,
    }


def _change(value: float | None, other: float | None, period: Period) -> Doc:
    change = value - other if value is not None and other is not None else None
    pct = change / abs(other) * 100 if change is not None and other not in (None, 0.0) else None
    return {
        "period": period.label,
        "value": other,
        "change": _number(change),
        "change_pct": _number(pct),
    }


def _relative(path: Path, project: Project) -> str:
    return display_name(path, project.root)


class _Builder:
    def __init__(self, checked: CheckedProject, evaluation: Evaluation) -> None:
        self.checked = checked
        self.project = checked.project
        self.evaluation = evaluation

    def split(self, kpi_id: str) -> dict[str | None, dict[str | None, dict[int, float | None]]]:
        """The KPI's values read once: dimension (None for the total) -> member -> period."""
        frame = self.evaluation.values[kpi_id]
        out: dict[str | None, dict[str | None, dict[int, float | None]]] = {}
        from kpispec.engine.evaluate import VALUE

        columns = (frame[c].to_list() for c in ("__dimension", "__member", "__p", VALUE))
        for dim, member, p, v in zip(*columns, strict=True):
            out.setdefault(dim, {}).setdefault(member, {})[int(p)] = _number(v)
        return out

    def totals(self, kpi_id: str) -> dict[int, float | None]:
        return self.split(kpi_id).get(None, {}).get(None, {})

    def kpi(self, checked: CheckedKpi) -> Doc:
        kpi = checked.kpi
        project = self.project
        grain = str(kpi.grain)
        period = self.evaluation.evaluated[grain]
        totals = self.totals(kpi.id)

        first = self.evaluation.first.get(kpi.id)

        def value_of(p: Period) -> float | None:
            return totals.get(p.index)

        def compared(p: Period) -> float | None:
            """A period compared with: before the source's first row, it has no data."""
            return None if first is not None and p.index < first else value_of(p)

        finals = resolve(kpi, compared)
        history = [period.shift(-i) for i in reversed(range(project.history))]
        series = []
        for p in history:
            bound = bound_for(p, finals) if finals is not None else None
            value = value_of(p)
            series.append(
                {
                    "period": p.label,
                    "start": p.start.isoformat(),
                    "end": p.end.isoformat(),
                    "value": value,
                    "status": judge(value, bound) if kpi.targets else "no_target",
                    "bound": _bound(bound),
                }
            )
        bound = bound_for(period, finals) if finals is not None else None
        value = value_of(period)
        status = judge(value, bound) if kpi.targets else "no_target"
        source = project.source(kpi.source) if kpi.source else None
        target = bound.target if bound is not None else (kpi.targets[-1] if kpi.targets else None)
        return {
            "id": kpi.id,
            "name": kpi.name,
            "description": kpi.description,
            "owner": _owner(kpi.owner),
            "group": kpi.group,
            "tags": list(kpi.tags),
            "links": [{"url": link.url, "title": link.title} for link in kpi.links],
            "unit": str(kpi.unit),
            "currency": kpi.currency,
            "decimals": kpi.decimals,
            "direction": str(kpi.direction),
            "grain": grain,
            "window": str(kpi.window),
            "time": (kpi.time if kpi.time_set else (source.time if source else None)),
            "dimensions": list(checked.dimensions),
            "source": _source(source),
            "formula": kpi.formula.text.strip(),
            "filter": kpi.filter.text.strip() if kpi.filter else None,
            "depends_on": list(checked.depends),
            "file": _relative(kpi.file, project),
            "line": kpi.loc.line,
            "targets": [_target(t) for t in kpi.targets],
            "period": {
                "label": period.label,
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
            },
            "value": value,
            "status": status,
            "bound": _bound(bound),
            "gate": str(target.gate) if target else None,
            "deadline": target.by.isoformat() if target and target.by else None,
            "why": target.why if target else None,
            "target_line": target.loc.line if target else None,
            "previous": _change(value, compared(period.shift(-1)), period.shift(-1)),
            "year_ago": _change(value, compared(year_earlier(period)), year_earlier(period)),
            "stale": False,
            "newest": None,
            "series": series,
            "breakdowns": self.breakdowns(checked, history, period),
        }

    def breakdowns(self, checked: CheckedKpi, history: list[Period], period: Period) -> list[Doc]:
        by_dimension = self.split(checked.kpi.id)
        wanted = {p.index for p in history}
        out = []
        for dim in checked.dimensions:
            members = by_dimension.get(dim, {})
            entries = []
            for member in sorted(members, key=lambda m: (m is None, m or "")):
                by_period = members[member]
                if checked.depends and all(by_period.get(p.index) is None for p in history):
                    continue  # a member only some inputs have, without a value (ROAS of "direct")
                entries.append(
                    {
                        "member": member,
                        "value": by_period.get(period.index),
                        "series": [
                            {"period": p.label, "value": by_period.get(p.index)}
                            for p in history
                            if p.index in wanted
                        ],
                    }
                )
            out.append({"dimension": dim, "members": entries})
        return out

    def scorecard(self, card: Scorecard, ids: set[str]) -> Doc:
        kpis = [self.kpi(self.checked.kpis[k.id]) for k in card.kpis if k.id in ids]
        return {
            "id": card.id,
            "title": card.title,
            "description": card.description,
            "owner": _owner(card.owner),
            "grain": str(card.grain),
            "locale": card.locale,
            "currency": card.currency,
            "tags": list(card.tags),
            "file": _relative(card.file, self.project),
            "line": card.loc.line,
            "summary": summarize(kpis),
            "kpis": kpis,
        }


def summarize(kpis: Iterable[Doc]) -> Doc:
    counts = dict.fromkeys(STATUSES, 0)
    total = stale = 0
    for kpi in kpis:
        counts[kpi["status"]] += 1
        total += 1
        stale += bool(kpi.get("stale"))
    return {"kpis": total, **counts, "stale": stale}


def build(
    checked: CheckedProject,
    evaluation: Evaluation,
    *,
    scorecards: list[str] | None = None,
    kpi_ids: Iterable[str] | None = None,
) -> Doc:
    """The results document for the evaluated KPIs (by default every KPI of the project)."""
    project = checked.project
    builder = _Builder(checked, evaluation)
    ids = set(kpi_ids) if kpi_ids is not None else set(evaluation.values)
    ids &= set(evaluation.values)
    cards = [
        builder.scorecard(card, ids)
        for card in project.scorecards
        if (scorecards is None or card.id in scorecards) and any(k.id in ids for k in card.kpis)
    ]
    by_id = {kpi["id"]: kpi for _, kpi in iter_kpis({"scorecards": cards})}
    for kpi in by_id.values():
        newest = evaluation.newest.get(kpi["source"]["id"]) if kpi["source"] else None
        if newest is not None:
            kpi["newest"], kpi["stale"] = newest
    stale = {k for k, kpi in by_id.items() if kpi["stale"]}
    for kpi_id in checked.order:  # a KPI built from stale KPIs is stale too
        if kpi_id in by_id and any(d in stale for d in by_id[kpi_id]["depends_on"]):
            by_id[kpi_id]["stale"] = True
            stale.add(kpi_id)
    for card in cards:
        card["summary"] = summarize(card["kpis"])
    return {
        "kpispec_results": VERSION,
        "generator": f"kpispec {__version__}",
        "as_of": evaluation.as_of.isoformat(),
        "project": {
            "title": project.title,
            "description": project.description,
            "locale": project.locale,
            "currency": project.currency,
            "timezone": project.timezone,
            "history": project.history,
        },
        "summary": summarize(k for card in cards for k in card["kpis"]),
        "scorecards": cards,
    }


def dumps(doc: Doc) -> str:
    """Deterministic JSON: fixed key order, shortest round-trip floats, a final newline;
    no raw line separator inside a string (:func:`~kpispec.escaping.json_lines`)."""
    from kpispec.escaping import json_lines

    return json_lines(json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)) + "\n"


def iter_kpis(doc: Doc) -> Iterable[tuple[Doc, Doc]]:
    for card in doc["scorecards"]:
        for kpi in card["kpis"]:
            yield card, kpi
