"""Compile the results document into a static site and Markdown scorecards.

The site is rendered into a temporary folder beside the target and moved into place, so a
reader never sees half a site. ``build`` refuses to write into a folder that holds anything
but a previous kpispec build (it reads that build's manifest), and deletes nothing else.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from kpispec.diagnostics import Diagnostic, KpispecError, Loc
from kpispec.escaping import markdown_text
from kpispec.report import svg
from kpispec.report.i18n import language, words
from kpispec.report.sparkline import sparkline
from kpispec.report.views import kpi_view, page_names, sort_key
from kpispec.results import iter_kpis, summarize
from kpispec.spec.schema import data_dir

MANIFEST = ".kpispec-site.json"
Doc = dict[str, Any]


class BuildError(KpispecError):
    """The output folder cannot be used (exit status 2: a usage error)."""


def _environment(templates: Path | None) -> Any:
    from jinja2 import (
        ChoiceLoader,
        Environment,
        FileSystemLoader,
        StrictUndefined,
        select_autoescape,
    )

    loaders = [FileSystemLoader(str(templates))] if templates else []
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


def _pages(doc: Doc) -> tuple[dict[str, tuple[str, dict[str, Any]]], dict[str, list[Doc]]]:
    """Every page (its path in the site, the template and its context), and the KPI views
    of each scorecard (computed once, for the pages and the Markdown scorecards)."""
    project = doc["project"]
    locale = project["locale"]
    views = []
    by_card: dict[str, list[Doc]] = {}
    for card, kpi in iter_kpis(doc):
        view = kpi_view(card, kpi, card["locale"])
        views.append(view)
        by_card.setdefault(card["id"], []).append(view)
    views.sort(key=sort_key)
    owners: dict[str, list[Doc]] = defaultdict(list)
    tags: dict[str, list[Doc]] = defaultdict(list)
    statuses: dict[str, list[Doc]] = defaultdict(list)
    for view in views:
        if view["owner"]:
            owners[view["owner"]].append(view)
        for tag in view["tags"]:
            tags[tag["text"]].append(view)
        statuses[view["status"]["key"]].append(view)
    owner_pages, tag_pages = page_names(owners), page_names(tags)  # distinct, also when
    for view in views:  # two names share a slug (`Kari N`, `kari-n`)
        if view["owner"]:
            view["owner_slug"] = owner_pages[view["owner"]]
        for tag in view["tags"]:
            tag["slug"] = tag_pages[tag["text"]]
    common = {
        "project": project,
        "as_of": doc["as_of"],
        "generator": doc["generator"],
        "owners": sorted((name, owner_pages[name], len(v)) for name, v in owners.items()),
        "tags": sorted((name, tag_pages[name], len(v)) for name, v in tags.items()),
        "statuses": [
            (s, len(statuses.get(s, [])))
            for s in ("missed", "at_risk", "no_data", "met", "no_target")
        ],
    }
    pages: dict[str, tuple[str, dict[str, Any]]] = {}
    site_kpis = {view["id"] for view in views}

    def page(path: str, template: str, locale: str, **context: Any) -> None:
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
        summary=doc["summary"],
        cards=doc["scorecards"],
        views=views,
        description_html=_md(project["description"]),
    )
    for card in doc["scorecards"]:
        groups: dict[str, list[Doc]] = {}
        for view in by_card.get(card["id"], []):
            groups.setdefault(view["kpi"]["group"] or "", []).append(view)
        page(
            f"scorecard/{card['id']}.html",
            "scorecard.html",
            card["locale"],
            card=card,
            groups=list(groups.items()),
            description_html=_md(card["description"]),
        )
        for view in by_card.get(card["id"], []):
            page(
                f"kpi/{view['id']}.html",
                "kpi.html",
                card["locale"],
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
    for status in ("missed", "at_risk", "no_data", "met", "no_target"):  # every count links a page
        page(
            f"status/{status}.html",
            "list.html",
            locale,
            title=words(locale)[status],
            kind="status",
            views=statuses.get(status, []),
        )
    return pages, by_card


def _md(text: str | None) -> str:
    from kpispec.report.views import markdown

    return markdown(text)


def _badges(doc: Doc) -> dict[str, str]:
    out = {}
    for card in doc["scorecards"]:
        summary = card["summary"]
        worst = next((s for s in ("missed", "at_risk", "no_data") if summary[s]), "met")
        text = (
            f"{summary['met']}/{summary['kpis']} met"
            if worst == "met"
            else f"{summary[worst]} {worst.replace('_', ' ')}"
        )
        out[f"badges/{card['id']}.svg"] = svg.badge(card["id"], text, worst)
        for kpi in card["kpis"]:
            out[f"badges/{card['id']}/{kpi['id']}.svg"] = svg.badge(
                kpi["id"], kpi["status"].replace("_", " "), kpi["status"]
            )
    return out


def render(doc: Doc, *, templates: Path | None = None) -> dict[str, str]:
    """Every file of the site and the Markdown scorecards, by relative path."""
    env = _environment(templates)
    files: dict[str, str] = {}
    pages, by_card = _pages(doc)
    for path, (template, context) in pages.items():
        files[path] = env.get_template(template).render(context)
    files["assets/style.css"] = env.get_template("style.css").render()
    files["assets/enhance.js"] = env.get_template("enhance.js").render()
    files["assets/icon.svg"] = env.get_template("icon.svg").render()
    files.update(_badges(doc))
    for card in doc["scorecards"]:
        views = by_card.get(card["id"], [])
        files[f"markdown/{card['id']}.md"] = env.get_template("scorecard.md").render(
            card=card, views=views, w=words(card["locale"]), as_of=doc["as_of"]
        )
    files["markdown/README.md"] = env.get_template("summary.md").render(
        doc=doc,
        cards=doc["scorecards"],
        w=words(doc["project"]["locale"]),
        summary=summarize(k for _, k in iter_kpis(doc)),
    )
    return files


def _check_target(out: Path) -> list[str]:
    """The files of a previous build in ``out``; refuse a folder holding anything else."""
    if not out.exists():
        return []
    if not out.is_dir():
        raise BuildError(
            [
                Diagnostic(
                    "E002",
                    f"{out} is a file, not a folder",
                    Loc(str(out)),
                    "name a folder for the site",
                )
            ]
        )
    present = sorted(
        p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() or p.is_symlink()
    )
    if not present:
        return []
    manifest = out / MANIFEST
    known: set[str] = set()
    if manifest.is_file():
        try:
            known = set(json.loads(manifest.read_text(encoding="utf-8"))["files"]) | {MANIFEST}
        except (ValueError, KeyError, TypeError):
            known = set()
    strangers = [p for p in present if p not in known]
    if strangers:
        raise BuildError(
            [
                Diagnostic(
                    "E003",
                    f"{out} holds files that are not from a kpispec build (e.g. {strangers[0]})",
                    Loc(str(out)),
                    "build into an empty folder, or a folder a previous `kpispec build` wrote; "
                    "kpispec never deletes files it did not write",
                )
            ]
        )
    return present


def write_site(files: dict[str, str], out: Path) -> None:
    """Write the site beside ``out`` and move it into place (replacing a previous build)."""
    _check_target(out)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for rel, text in sorted(files.items()):
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        manifest = {"generator": "kpispec", "files": sorted(files)}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        _permissions(staging)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            old.rmdir()
            os.replace(out, old)
            os.replace(staging, out)
            shutil.rmtree(old)  # the previous build: every file in it was checked to be ours
        else:
            os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _permissions(folder: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    for path in [folder, *folder.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def build(doc: Doc, out: Path, *, templates: Path | None = None) -> list[str]:
    """Render and write the site; returns the relative paths written."""
    _check_target(out)  # before rendering: fail fast
    files = render(doc, templates=templates)
    write_site(files, out)
    return sorted(files)
