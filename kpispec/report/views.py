"""What the pages show, computed from the results: formatted values, statuses, changes
coloured by direction, charts. Templates only lay these typed views out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from html import escape
from itertools import pairwise
from typing import Any

from kpispec.escaping import is_local, safe_href
from kpispec.formatting import (
    format_change,
    format_number,
    format_percent_change,
    format_value,
    kpi_bound,
    kpi_owner,
    kpi_value,
)
from kpispec.periods import parse_label
from kpispec.report import svg
from kpispec.report.i18n import language, period_text, words
from kpispec.results import (
    STATUS_ORDER,
    Breakdown,
    Change,
    Kpi,
    Link,
    Member,
    Scorecard,
    Status,
)
from kpispec.results import Target as TargetSpec


@dataclass(frozen=True, slots=True)
class StatusView:
    key: Status
    word: str
    shape: str


@dataclass(frozen=True, slots=True)
class ChangeView:
    text: str
    tone: str  #: good, bad, flat or none
    arrow: str
    period: str
    value: str


@dataclass(frozen=True, slots=True)
class LinkView:
    href: str | None  #: None for a link no page may carry
    text: str


@dataclass(slots=True)
class TagView:
    text: str
    slug: str  #: the tag's page, made distinct by the site (:func:`page_names`)


@dataclass(frozen=True, slots=True)
class PointView:
    label: str
    period: str
    value: str
    bound: str
    status: StatusView
    change: str


@dataclass(frozen=True, slots=True)
class MemberRow:
    member: str
    value: str
    spark: str


@dataclass(frozen=True, slots=True)
class BreakdownView:
    dimension: str
    members: list[MemberRow]
    note: str | None


@dataclass(frozen=True, slots=True)
class TargetView:
    """A target's SMART fields as text in the reader's locale."""

    min: str | None
    max: str | None
    tolerance: str | None
    gate: str
    why: str | None
    baseline: str | None
    change: str | None
    start: str  #: ``from:``
    by: str
    line: int


@dataclass(slots=True)
class KpiView:
    """Everything a tile, a table row and a KPI page show of one KPI."""

    card: Scorecard
    kpi: Kpi
    id: str
    name: str
    href: str
    value: str
    target: str
    status: StatusView
    period: str
    previous: ChangeView
    year_ago: ChangeView
    owner: str
    owner_slug: str | None
    tags: list[TagView]
    links: list[LinkView]
    description: str
    sparkline: str
    bullet: str
    chart: str
    points: list[PointView]
    series_first: str
    series_last: str
    breakdowns: list[BreakdownView]
    stale: bool
    no_data: bool
    targets: list[TargetView]
    lang: str
    grain: str
    unit: str
    window: str
    deadline: str


_LETTERS: dict[str, str | int | None] = {
    "æ": "ae",
    "ø": "o",
    "å": "a",
    "ä": "a",
    "ö": "o",
    "ü": "u",
}
_ASCII = str.maketrans({**_LETTERS, "ß": "ss"})


def slug(text: str) -> str:
    """A file name for an owner or a tag: lower case, letters, digits and dashes.

    A name with no Latin letter or digit (Cyrillic, Greek, ...) gets a name derived from a
    hash of it, so that two such names never share a page.
    """
    ascii_text = text.lower().translate(_ASCII)
    result = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if result:
        return result
    return "x-" + _digest(text)[:10]


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


_HASHED = re.compile(r"-[0-9a-f]{6,}$")


def page_names(names: Iterable[str]) -> dict[str, str]:
    """A distinct page name for each owner (or tag) name, the same on every build.

    A name gets its :func:`slug` when no other name has that slug; names that share one
    (``Kari N``, ``kari-n``) each get the slug plus ten hex digits of a hash of the name
    (``kari-n-3f0c9a1b2e``), and so does a name whose slug already ends like a hash, so
    that no plain page name can take a hashed one's place. Should two hashed names still
    meet, they get the whole hash.
    """
    by_slug: dict[str, list[str]] = {}
    for name in sorted(set(names)):
        by_slug.setdefault(slug(name), []).append(name)
    out: dict[str, str] = {}
    for page, group in by_slug.items():
        for name in group:
            own_hash = page == "x-" + _digest(name)[:10]  # a name without Latin letters
            if len(group) == 1 and (own_hash or not _HASHED.search(page)):
                out[name] = page
            else:
                out[name] = f"{'x' if own_hash else page}-{_digest(name)[:10]}"
    seen: dict[str, list[str]] = {}
    for name, page in out.items():
        seen.setdefault(page, []).append(name)
    for page, group in seen.items():
        if len(group) > 1:
            for name in group:
                out[name] = f"{page[:-10]}{_digest(name)}"
    return out


@cache
def _markdown() -> Any:
    from markdown_it import MarkdownIt
    from markdown_it.renderer import RendererHTML
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict

    class SafeMarkdown(MarkdownIt):
        def validateLink(self, url: str) -> bool:
            """Links follow the site's allow-list (http, https, mailto, relative).

            markdown-it passes the destination decoded (entities) and normalized, and
            leaves a link it refuses as plain text."""
            return safe_href(url) is not None

    md = SafeMarkdown("commonmark", {"html": False})  # raw HTML is shown as text

    def image(
        renderer: RendererHTML,
        tokens: Sequence[Token],
        idx: int,
        options: OptionsDict,
        env: EnvType,
    ) -> str:
        """An image from another host would be a request the site promises not to make
        (a tracking pixel): it becomes a link to the image, its alt text the link text."""
        token = tokens[idx]
        src = str(token.attrGet("src") or "")
        if is_local(src):
            return renderer.image(tokens, idx, options, env)
        alt = renderer.renderInlineAsText(token.children or [], options, env)
        return f'<a href="{escape(src)}" rel="noopener">{escape(alt or src)}</a>'

    md.add_render_rule("image", image)
    return md


def markdown(text: str | None) -> str:
    """A description rendered as HTML, safely: no raw HTML, links only to allowed schemes,
    images only from the site itself."""
    return _markdown().render(text) if text else ""


def link_view(link: Link) -> LinkView:
    """A link of a KPI as a page shows it: ``href`` is None for a link no page may carry
    (validation refuses those; a results document may come from elsewhere)."""
    return LinkView(safe_href(link.url), link.title or link.url)


def change_view(kpi: Kpi, change: Change, locale: str) -> ChangeView:
    """A change against another period, with a class saying whether it is good news."""
    delta = change.change
    if delta is None:
        tone = "none"
    elif delta == 0:
        tone = "flat"
    else:
        better = delta > 0 if kpi.higher_is_better else delta < 0
        tone = "good" if better else "bad"
    pct = change.change_pct
    text = format_change(delta, kpi.unit, locale, kpi.decimals, kpi.currency)
    if pct is not None and kpi.unit != "percent":
        text += f" ({format_percent_change(pct, locale)})"
    return ChangeView(
        text=text,
        tone=tone,
        arrow="▲" if (delta or 0) > 0 else "▼" if (delta or 0) < 0 else "",
        period=period_text(change.period, _start_of(kpi, change.period), locale),
        value=kpi_value(kpi, change.value, locale),
    )


def _start_of(kpi: Kpi, label: str) -> str:
    for point in kpi.series:
        if point.period == label:
            return point.start
    return parse_label(label).start.isoformat()


def status_view(status: Status, locale: str) -> StatusView:
    return StatusView(status, words(locale)[status], svg.STATUS_SHAPE[status])


def kpi_view(card: Scorecard, kpi: Kpi, locale: str) -> KpiView:
    """Everything a tile, a table row and a KPI page show of one KPI."""
    w = words(locale)
    series = kpi.series
    values = [p.value for p in series]
    lows = [p.bound.min if p.bound else None for p in series]
    highs = [p.bound.max if p.bound else None for p in series]
    bound = kpi.bound
    value = kpi_value(kpi, kpi.value, locale)
    target = kpi_bound(kpi, kpi.bound, locale)
    name = kpi.name
    first, last = series[0], series[-1]
    changes = ["–"]  # change against the period before, in the table
    for prev, now in pairwise(values):
        changes.append(
            format_change(now - prev, kpi.unit, locale, kpi.decimals, kpi.currency)
            if now is not None and prev is not None
            else "–"
        )
    points = [
        PointView(
            label=period_text(p.period, p.start, locale),
            period=p.period,
            value=kpi_value(kpi, p.value, locale),
            bound=kpi_bound(kpi, p.bound, locale),
            status=status_view(p.status, locale),
            change=change,
        )
        for p, change in zip(series, changes, strict=True)
    ]
    owner = kpi_owner(kpi)
    return KpiView(
        card=card,
        kpi=kpi,
        id=kpi.id,
        name=name,
        href=f"kpi/{kpi.id}.html",
        value=value,
        target=target,
        status=status_view(kpi.status, locale),
        period=period_text(kpi.period.label, kpi.period.start, locale),
        previous=change_view(kpi, kpi.previous, locale),
        year_ago=change_view(kpi, kpi.year_ago, locale),
        owner=owner,
        owner_slug=slug(owner) if kpi.owner else None,
        tags=[TagView(t, slug(t)) for t in kpi.tags],
        links=[link_view(link) for link in kpi.links],
        description=markdown(kpi.description),
        sparkline=svg.sparkline(
            values,
            [lo if lo is not None else hi for lo, hi in zip(lows, highs, strict=True)],
            f"{name}: {w['history']}",
        ),
        bullet=svg.bullet(
            kpi.value,
            bound.min if bound else None,
            bound.max if bound else None,
            bound.at_risk_min if bound else None,
            bound.at_risk_max if bound else None,
            kpi.status,
            w["bullet"].format(name=name, value=value, bound=target or w["no_target"]),
        ),
        chart=svg.series_chart(
            [p.label for p in points],
            values,
            lows,
            highs,
            [p.bound.at_risk_min if p.bound else None for p in series],
            [p.bound.at_risk_max if p.bound else None for p in series],
            w["chart" if len(series) != 1 else "chart_one"].format(
                name=name, n=len(series), first=points[0].label, last=points[-1].label
            ),
            [f"{p.label}: {p.value}" for p in points],
            lambda v, d: format_number(v, locale, d),
        ),
        points=points,
        series_first=first.period,
        series_last=last.period,
        breakdowns=[breakdown_view(kpi, b, locale) for b in kpi.breakdowns],
        stale=kpi.stale,
        no_data=kpi.value is None,
        targets=[target_view(kpi, t, locale) for t in kpi.targets],
        lang=language(locale),
        grain=w.get(f"grain_{kpi.grain}", kpi.grain),
        unit=w.get(f"unit_{kpi.unit}", kpi.unit),
        window=w.get(f"window_{kpi.window}", kpi.window),
        deadline=format_day(kpi.deadline, locale),
    )


#: A breakdown on the site shows at most this many members; the JSON and CSV have all.
MAX_MEMBERS = 50
#: Units whose values add up, so that the members left out can be shown as one sum.
ADDITIVE_UNITS = ("count", "currency")


def breakdown_view(kpi: Kpi, breakdown: Breakdown, locale: str) -> BreakdownView:
    """One breakdown table: every member, or the ``MAX_MEMBERS`` largest and one "other" row.

    A dimension may have hundreds of thousands of members (a customer id); one row each
    would make a page of a hundred megabytes. The members left out are summed when the
    KPI's unit adds up (counts, amounts); a sum of rates would mean nothing, so for
    other units the row only says how many there are.
    """
    w = words(locale)
    dimension = breakdown.dimension
    members = list(breakdown.members)
    rest: list[Member] = []
    if len(members) > MAX_MEMBERS:
        ranked = sorted(members, key=lambda m: (m.value is None, -(m.value or 0.0)))
        members, rest = ranked[:MAX_MEMBERS], ranked[MAX_MEMBERS:]

    def row(name: str, value: float | None, series: list[float | None]) -> MemberRow:
        return MemberRow(
            member=name,
            value=kpi_value(kpi, value, locale),
            spark=svg.sparkline(series, [], f"{dimension} {name}: {w['history']}"),
        )

    rows = [
        row(
            m.member if m.member is not None else "∅",
            m.value,
            [p.value for p in m.series],
        )
        for m in members
    ]
    note = None
    if rest:
        other = w["other_members"].format(n=f"{len(rest):,}")
        if kpi.unit in ADDITIVE_UNITS:
            series = [
                _sum(p.value for p in points)
                for points in zip(*(m.series for m in rest), strict=True)
            ]
            rows.append(row(other, _sum(m.value for m in rest), series))
        else:
            rows.append(MemberRow(other, "", ""))
        note = w["members_capped"].format(shown=MAX_MEMBERS, total=f"{len(members) + len(rest):,}")
    return BreakdownView(dimension, rows, note)


def _sum(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def format_day(iso: str | None, locale: str) -> str:
    """A date in the reader's locale: ``Dec 31, 2026``, ``31. des. 2026``."""
    if not iso:
        return ""
    from babel.dates import format_date

    return format_date(date.fromisoformat(iso), "medium", locale=locale.replace("-", "_"))


def target_view(kpi: Kpi, target: TargetSpec, locale: str) -> TargetView:
    """A target's SMART fields in the reader's locale."""

    def num(value: float | None) -> str | None:
        return None if value is None else kpi_value(kpi, value, locale)

    baseline: str | None
    if isinstance(target.baseline, str):
        baseline = period_text(target.baseline, _start_of(kpi, target.baseline), locale)
    else:
        baseline = num(target.baseline)
    change = target.change
    if change is not None and not change.endswith("%"):
        change = format_change(float(change), kpi.unit, locale, kpi.decimals, kpi.currency)
    elif change is not None:
        change = format_percent_change(float(change.rstrip("%")), locale)
    tolerance = target.tolerance
    if tolerance is not None and not tolerance.endswith("%"):
        tolerance = num(float(tolerance))
    elif tolerance is not None:
        tolerance = format_value(
            float(tolerance.rstrip("%").lstrip("+")), "percent", locale, decimals=None
        )
    w = words(locale)
    return TargetView(
        min=num(target.min),
        max=num(target.max),
        tolerance=tolerance,
        gate=w.get(f"gate_{target.gate}", str(target.gate)),
        why=target.why,
        baseline=baseline,
        change=change,
        start=format_day(target.start, locale),
        by=format_day(target.by, locale),
        line=target.line,
    )


def sort_key(view: KpiView) -> tuple[int, str, str]:
    return (STATUS_ORDER[view.status.key], view.card.id, view.id)
