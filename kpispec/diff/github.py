"""``diff --format github``: annotations on the changed spec lines of the head.

A status flip for the worse is a ``::warning`` on the line of the KPI's target; every
other change is a ``::notice`` on the line it changed (a field, the KPI, its target).
GitHub shows ten annotations of each kind per step: ten are written, the rest summed up.
"""

from __future__ import annotations

from kpispec.diagnostics import github_command
from kpispec.diff import describe as d
from kpispec.diff.model import Category, Diff, FieldChange, Kind, KpiChange

MAX_PER_KIND = 10


def _impact_words(kpi: KpiChange) -> str:
    last = kpi.impact[-1] if kpi.impact else None
    if last is None:
        return ""
    fmt = kpi.format
    if not last.moved:
        return f" Value {last.period}: {d.value(fmt, last.head)} (unchanged)."
    return (
        f" Value {last.period}: {d.value(fmt, last.base)} → {d.value(fmt, last.head)} "
        f"({d.difference(fmt, last)}, {d.relative(fmt, last)})."
    )


Annotation = tuple[str, str]  #: (kind, the workflow command)


def _note(
    kind: str, message: str, title: str, file: str | None = None, line: int = 0
) -> Annotation:
    return kind, github_command(kind, message, file=file, line=line, title=title)


def _changed(field: FieldChange) -> str:
    return f"{field.field}: {field.base or '(none)'} → {field.head or '(none)'}"


def _annotations(diff: Diff, root: str) -> list[Annotation]:
    out: list[Annotation] = []
    for kpi in diff.kpis:
        file = f"{root}{kpi.file}"
        fmt = kpi.format
        for flip in kpi.flips:
            message = (
                f"{kpi.name} {flip.period}: {d.flip_words(flip)}; value "
                f"{d.pair(d.value(fmt, flip.base_value), d.value(fmt, flip.head_value))}, target "
                f"{d.pair(d.bound(fmt, flip.base_bound), d.bound(fmt, flip.head_bound))}"
            )
            title = f"KPI {kpi.name}: {d.flip_words(flip)} in {flip.period}"
            kind = "warning" if d.worse(flip) else "notice"
            out.append(_note(kind, message, title, file, kpi.target_line or kpi.line))
        if kpi.kind is Kind.REMOVED:
            message = f"{kpi.name} ({kpi.id}) is removed from scorecard {kpi.scorecard}"
            out.append(_note("notice", message, f"KPI {kpi.name} removed"))
            continue
        if kpi.kind is Kind.ADDED:
            side = kpi.head
            value = (
                f": {d.value(fmt, side.value)} in {side.period} ({side.status.words})"
                if side
                else ""
            )
            message = f"new KPI {kpi.name} ({kpi.id}){value}"
            out.append(_note("notice", message, f"KPI {kpi.name} added", file, kpi.line))
            continue
        for field in kpi.fields:
            message = _changed(field) + "."
            if field.category is not Category.METADATA:
                message += _impact_words(kpi)  # what the change does to the value
            title = f"KPI {kpi.name}: {field.field} changed"
            out.append(_note("notice", message, title, file, field.line or kpi.line))
        if kpi.because:
            message = f"changed because {'; '.join(kpi.because)}." + _impact_words(kpi)
            out.append(
                _note("notice", message, f"KPI {kpi.name} changed indirectly", file, kpi.line)
            )
    for source in diff.sources:  # on the changed lines of the source itself
        readers = f" (read by {', '.join(source.kpis)})" if source.kpis else ""
        for field in source.fields:
            title = f"Source {source.id}: {field.field} changed"
            line = field.line or source.line
            out.append(
                _note(
                    "notice", _changed(field) + readers + ".", title, f"{root}{source.file}", line
                )
            )
    for field in diff.project:
        where = f"{root}{diff.project_file}" if diff.project_file else None
        title = f"Project setting {field.field} changed"
        out.append(_note("notice", _changed(field) + ".", title, where, field.line or 0))
    return out


def render(diff: Diff, root: str = "") -> str:
    annotations = _annotations(diff, root)
    lines = []
    for kind in ("warning", "notice"):
        items = [text for k, text in annotations if k == kind]
        lines.extend(items[:MAX_PER_KIND])
        if len(items) > MAX_PER_KIND:
            rest = len(items) - MAX_PER_KIND
            lines.append(
                github_command(
                    kind,
                    f"and {rest} more change{'' if rest == 1 else 's'} (kpispec diff lists them all)",
                )
            )
    return "\n".join(lines) + ("\n" if lines else "")
