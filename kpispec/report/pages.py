"""Render the results into every file of the site and the Markdown scorecards (Jinja2).

Templates receive the typed results (:mod:`kpispec.results`) and the views computed from
them (:mod:`kpispec.report.views`); they only lay those out.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from kpispec.escaping import markdown_text
from kpispec.files import data_dir
from kpispec.report import svg
from kpispec.report.i18n import language, words
from kpispec.report.views import KpiView, kpi_view, markdown, page_names, sort_key
from kpispec.results import ATTENTION, STATUS_ORDER, Results, Status, summarize
from kpispec.sparkline import sparkline

if TYPE_CHECKING:
    from jinja2 import Environment

#: A template's context (Jinja takes any value).
Context = dict[str, object]
#: The status pages and counts, the worst first.
STATUS_PAGES = sorted(Status, key=STATUS_ORDER.__getitem__)


def _environment(templates: Path | None) -> Environment:
    from jinja2 import (
        BaseLoader,
        ChoiceLoader,
        Environment,
        FileSystemLoader,
        StrictUndefined,
        select_autoescape,
    )

    loaders: list[BaseLoader] = [FileSystemLoader(str(templates))] if templates else []
    loaders.append(FileSystemLoader(str(data_dir("templates"))))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["spark"] = sparkline
    env.filters["md_cell"] = lambda text: markdown_text(str(text))
    return env


def _pages(results: Results) -> tuple[dict[str, tuple[str, Context]], dict[str, list[KpiView]]]:
    """Every page (its path in the site, the template and its context), and the KPI views
    of each scorecard (computed once, for the pages and the Markdown scorecards)."""
    project = results.project
    locale = project.locale
    views = []
    by_card: dict[str, list[KpiView]] = {}
    for card, kpi in results.kpis():
        view = kpi_view(card, kpi, card.locale)
        views.append(view)
        by_card.setdefault(card.id, []).append(view)
    views.sort(key=sort_key)
    owners: dict[str, list[KpiView]] = defaultdict(list)
    tags: dict[str, list[KpiView]] = defaultdict(list)
    statuses: dict[Status, list[KpiView]] = defaultdict(list)
    for view in views:
        if view.owner:
            owners[view.owner].append(view)
        for tag in view.tags:
            tags[tag.text].append(view)
        statuses[view.status.key].append(view)
    owner_pages, tag_pages = page_names(owners), page_names(tags)  # distinct, also when
    for view in views:  # two names share a slug (`Kari N`, `kari-n`)
        if view.owner:
            view.owner_slug = owner_pages[view.owner]
        for tag in view.tags:
            tag.slug = tag_pages[tag.text]
    common: Context = {
        "project": project,
        "as_of": results.as_of,
        "generator": results.generator,
        "owners": sorted((name, owner_pages[name], len(v)) for name, v in owners.items()),
        "tags": sorted((name, tag_pages[name], len(v)) for name, v in tags.items()),
        "statuses": [(s, len(statuses.get(s, []))) for s in STATUS_PAGES],
        "shapes": svg.STATUS_SHAPE,
    }
    pages: dict[str, tuple[str, Context]] = {}
    site_kpis = {view.id for view in views}

    def page(path: str, template: str, locale: str, **context: object) -> None:
        depth = path.count("/")
        pages[path] = (
            template,
            {
                **common,
                **context,
                "root": "../" * depth,
                "w": words(locale),
                "lang": language(locale),
            },
        )

    page(
        "index.html",
        "index.html",
        locale,
        summary=results.summary,
        cards=results.scorecards,
        views=views,
        description_html=markdown(project.description),
    )
    for card in results.scorecards:
        groups: dict[str, list[KpiView]] = {}
        for view in by_card.get(card.id, []):
            groups.setdefault(view.kpi.group or "", []).append(view)
        page(
            f"scorecard/{card.id}.html",
            "scorecard.html",
            card.locale,
            card=card,
            groups=list(groups.items()),
            description_html=markdown(card.description),
        )
        for view in by_card.get(card.id, []):
            page(
                f"kpi/{view.id}.html",
                "kpi.html",
                card.locale,
                card=card,
                v=view,
                site_kpis=site_kpis,
            )
    for name, items in owners.items():
        page(
            f"owner/{owner_pages[name]}.html",
            "list.html",
            locale,
            title=name,
            kind="owner",
            views=items,
        )
    for name, items in tags.items():
        page(
            f"tag/{tag_pages[name]}.html", "list.html", locale, title=name, kind="tag", views=items
        )
    for status in STATUS_PAGES:  # every count links a page
        page(
            f"status/{status}.html",
            "list.html",
            locale,
            title=words(locale)[status],
            kind="status",
            views=statuses.get(status, []),
        )
    return pages, by_card


def _badges(results: Results) -> dict[str, str]:
    out = {}
    for card in results.scorecards:
        summary = card.summary
        worst = next((s for s in ATTENTION if summary.count(s)), Status.MET)
        text = (
            f"{summary.met}/{summary.kpis} met"
            if worst is Status.MET
            else f"{summary.count(worst)} {worst.words}"
        )
        out[f"badges/{card.id}.svg"] = svg.badge(card.id, text, worst)
        for kpi in card.kpis:
            out[f"badges/{card.id}/{kpi.id}.svg"] = svg.badge(kpi.id, kpi.status.words, kpi.status)
    return out


def render(results: Results, *, templates: Path | None = None) -> dict[str, str]:
    """Every file of the site and the Markdown scorecards, by relative path."""
    env = _environment(templates)
    files: dict[str, str] = {}
    pages, by_card = _pages(results)
    for path, (template, context) in pages.items():
        files[path] = env.get_template(template).render(context)
    files["assets/style.css"] = env.get_template("style.css").render()
    files["assets/enhance.js"] = env.get_template("enhance.js").render()
    files["assets/icon.svg"] = env.get_template("icon.svg").render()
    files.update(_badges(results))
    for card in results.scorecards:
        views = by_card.get(card.id, [])
        files[f"markdown/{card.id}.md"] = env.get_template("scorecard.md").render(
            card=card, views=views, w=words(card.locale), as_of=results.as_of
        )
    files["markdown/README.md"] = env.get_template("summary.md").render(
        doc=results,
        cards=results.scorecards,
        w=words(results.project.locale),
        summary=summarize(k for _, k in results.kpis()),
    )
    return files
