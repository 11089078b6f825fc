"""`kpispec build` and `kpispec serve`: the static scorecard site, end to end.

Every build here is of a tiny project written into a temporary folder and evaluated as of
2026-11-22, so that the judged period is October 2026 (``history: 4``: July to October).
Every value, status, group and link expected below is worked out by hand from the data
next to it, never read back from the results document. Pages are parsed with
BeautifulSoup; text is compared with no-break spaces read as spaces (Babel writes
``40,0 %`` with U+00A0, as typography wants).

The contract (docs/cli.md, `kpispec build` and `serve`; docs/results.md):
index, scorecard, KPI, owner, tag and status pages, badges and Markdown scorecards; every
link relative and resolving to a file of the site; text escaped; status as a word and a
shape; locale formatting; byte-identical rebuilds; a folder holding a user's file is
refused (exit 2); `--templates` overrides by name; `serve` rebuilds on a change.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup, Tag
from helpers import evaluate_doc, line_of, write_files

import kpispec

ROOT = Path(__file__).resolve().parents[1]
KPISPEC = Path(sys.executable).parent / "kpispec"  # the venv's console script
AS_OF = "2026-11-22"  # the judged period: October 2026
EVIL = "<script>alert(1)</script>"
SHAPES = {"met": "●", "at_risk": "▲", "missed": "■", "no_data": "○", "no_target": "◆"}

# ------------------------------------------------------------------ the project

PROJECT = """\
kpispec: 1
title: Tiny site
description: Our **tiny** project
timezone: UTC
history: 4
"""

SESSIONS = f"""\
started_at,pages,converted,channel
2025-10-15 10:00:00,2,true,search
2025-10-20 10:00:00,2,true,
2026-09-10 10:00:00,3,true,search
2026-09-20 10:00:00,3,false,email
2026-10-05 10:00:00,2,true,ads
2026-10-12 10:00:00,4,true,{EVIL}
2026-10-25 10:00:00,3,false,search
"""
# By hand (history: Jul, Aug, Sep, Oct 2026; a year ago: Oct 2025):
#                          Oct 2025   Jul   Aug   Sep          Oct 2026
# count(*)                 2          0     0     2            3
# 100 * share(converted)   100        –     –     1/2 = 50     2/3 = 66.67
# avg(pages)               2          –     –     3            (2+4+3)/3 = 3
# max(pages)               2          –     –     3            4
# 100 * share(pages <= 2)  100        –     –     0            1/3 = 33.33
# channel members of conversion_rate, sorted by code point ('<' before 'a'), the empty
# channel (null) last, in October:
#   <script>...: 1/1 = 100 %   ads: 1/1 = 100 %   email: no row -> –   search: 0/1 = 0 %
#   null (a session of October 2025 without a channel): no row -> –

TICKETS = """\
opened_at,minutes
2026-09-03 09:00:00,20
2026-09-14 09:00:00,40
"""
# The newest ticket is of 2026-09-14, older than `fresh_within: 2 days` at 2026-11-22:
# tickets_open is stale. October has no ticket: count(*) = 0 <= 10, met.

ORDERS = """\
ordered_at,paid,amount
2026-09-05 12:00:00,true,100
2026-09-15 12:00:00,false,200
2026-09-25 12:00:00,true,300
2026-10-02 12:00:00,true,1000
2026-10-09 12:00:00,false,34.5
2026-10-16 12:00:00,true,200
2026-10-23 12:00:00,false,0
2026-10-30 12:00:00,false,0
"""
# October: 5 orders (September 3: +2, +66.7 %), 2 paid -> 40 %, amount 1 234.50, and
# 1 234.50 / 5 = 246.90 per order.

WEB = f"""\
kpispec: 1
scorecard:
  id: web
  title: Web
  description: How **visitors** use the shop.
  owner: Kari Nordmann
sources:
  - id: sessions
    path: data/sessions.csv
    time: started_at
    columns: {{started_at: datetime, pages: integer, converted: boolean, channel: string}}
  - id: tickets
    path: data/tickets.csv
    time: opened_at
    fresh_within: 2 days
kpis:
  - id: visits
    name: Visits
    group: Traffic
    tags: [growth]
    source: sessions
    formula: count(*)
    unit: count
    target: {{min: 2, by: 2026-12-31, why: Grow traffic}}
  - id: conversion_rate
    name: Conversion rate
    description: |
      Share of sessions that **end in a purchase**. See [the funnel docs](https://docs.example.com/funnel).
      <b>raw</b> {EVIL} [bad](javascript:alert(1))
    group: Conversion
    tags: [growth, funnel]
    links:
      - {{title: Funnel dashboard, url: "https://bi.example.com/d/funnel"}}
    source: sessions
    formula: 100 * share(converted)
    unit: percent
    dimensions: [channel]
    target: {{min: 60, tolerance: 10%, by: 2026-12-31, why: More buyers}}
  - id: pages_per_session
    name: Pages | session
    group: Traffic
    source: sessions
    formula: avg(pages)
    decimals: 1
    direction: lower_is_better
    target: {{max: 2.5, tolerance: 1, by: 2026-12-31, why: Faster answers}}
  - id: evil
    name: "{EVIL}"
    owner: {{name: Ola Nordmann, email: ola@example.com}}
    source: sessions
    formula: max(pages)
  - id: short_visits
    name: Short visits
    group: Conversion
    source: sessions
    formula: 100 * share(pages <= 2)
    unit: percent
    decimals: 1
    direction: lower_is_better
    target: {{max: 20, by: 2026-12-31, why: Keep them reading}}
  - id: tv_pages
    name: TV pages
    source: sessions
    filter: channel = 'tv'
    formula: avg(pages)
    target: {{min: 1, by: 2026-12-31, why: TV works}}
  - id: tickets_open
    name: Tickets
    group: Support
    source: tickets
    formula: count(*)
    unit: count
    target: {{max: 10, by: 2026-12-31, why: Calm support}}
"""

NB = """\
kpispec: 1
scorecard:
  id: salg
  title: Salg
  owner: Bjørn Ås
  locale: nb
  currency: NOK
sources:
  - id: orders
    path: data/orders.csv
    time: ordered_at
    columns: {ordered_at: datetime, paid: boolean, amount: number}
kpis:
  - id: paid_share
    name: Betalt andel
    source: orders
    formula: 100 * share(paid)
    unit: percent
    decimals: 1
    target: {min: 50, by: 2026-12-31, why: Betalte ordrer}
  - id: orders
    name: Ordrer
    source: orders
    formula: count(*)
    unit: count
    target: {min: 3, by: 2026-12-31, why: Flere ordrer}
  - id: revenue_nb
    name: Omsetning
    source: orders
    formula: sum(amount)
    unit: currency
    target: {min: 1000, by: 2026-12-31, why: Mer salg}
"""

DA = """\
kpispec: 1
scorecard:
  id: salg_dk
  title: Salg DK
  owner: Søren Kierkegaard
  locale: da
  currency: DKK
kpis:
  - id: paid_share_dk
    name: Betalt andel DK
    source: orders
    formula: 100 * share(paid)
    unit: percent
    decimals: 1
    target: {min: 50, by: 2026-12-31, why: Betalte ordrer}
  - id: orders_dk
    name: Ordrer DK
    source: orders
    formula: count(*)
    unit: count
    target: {min: 3, by: 2026-12-31, why: Flere ordrer}
  - id: avg_order_dk
    name: Gennemsnitlig ordre
    formula: revenue_nb / orders_dk
    unit: currency
    target: {min: 100, by: 2026-12-31, why: Større kurv}
"""

FILES = {
    "kpispec.yaml": PROJECT,
    "web.yaml": WEB,
    "nb.yaml": NB,
    "da.yaml": DA,
    "data/sessions.csv": SESSIONS,
    "data/tickets.csv": TICKETS,
    "data/orders.csv": ORDERS,
}

# Every KPI as the index shows it: scorecard, name, value, bound, status (by hand above).
# Statuses: visits 3 >= 2 met; conversion 66.7 >= 60 met; pages 3.0 > 2.5 but within the
# tolerance (3.5) at risk; evil has no target; short visits 33.3 > 20 missed; TV pages has
# no row in October (no data); tickets 0 <= 10 met; paid share 40 < 50 missed (twice);
# 5 orders >= 3 met (twice); 1 234.50 >= 1 000 met; 246.90 >= 100 met.
KPIS = {
    "visits": ("web", "Visits", "3", "≥ 2", "met"),
    "conversion_rate": ("web", "Conversion rate", "66.7%", "≥ 60.0%", "met"),
    "pages_per_session": ("web", "Pages | session", "3.0", "≤ 2.5", "at_risk"),
    "evil": ("web", EVIL, "4", "", "no_target"),
    "short_visits": ("web", "Short visits", "33.3%", "≤ 20.0%", "missed"),
    "tv_pages": ("web", "TV pages", "–", "≥ 1", "no_data"),
    "tickets_open": ("web", "Tickets", "0", "≤ 10", "met"),
    "paid_share": ("salg", "Betalt andel", "40,0 %", "≥ 50,0 %", "missed"),
    "orders": ("salg", "Ordrer", "5", "≥ 3", "met"),
    "revenue_nb": ("salg", "Omsetning", "1 234,50 kr", "≥ 1 000,00 kr", "met"),
    "paid_share_dk": ("salg_dk", "Betalt andel DK", "40,0 %", "≥ 50,0 %", "missed"),
    "orders_dk": ("salg_dk", "Ordrer DK", "5", "≥ 3", "met"),
    "avg_order_dk": ("salg_dk", "Gennemsnitlig ordre", "246,90 kr.", "≥ 100,00 kr.", "met"),
}
CARDS = {"web": "Web", "salg": "Salg", "salg_dk": "Salg DK"}
WORDS = {
    "en": {
        "met": "met",
        "at_risk": "at risk",
        "missed": "missed",
        "no_data": "no data",
        "no_target": "no target",
    },
    "nb": {"met": "nådd", "missed": "ikke nådd"},
    "da": {"met": "nået", "missed": "ikke nået"},
}
CARD_LANG = {"web": "en", "salg": "nb", "salg_dk": "da"}
COUNTS = {"missed": 3, "at_risk": 1, "no_data": 1, "met": 7, "no_target": 1}


# ------------------------------------------------------------------ helpers


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_kpispec(*args: str | Path, cwd: Path | None = None, timeout: float = 120) -> Run:
    result = subprocess.run(
        [str(KPISPEC), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return Run(result.returncode, result.stdout, result.stderr)


def build(project: Path, out: Path, *extra: str | Path) -> Run:
    return run_kpispec("build", project, "-o", out, "--as-of", AS_OF, *extra)


def write_project(folder: Path, files: dict[str, str] | None = None) -> Path:
    return write_files(folder, files or FILES)


def norm(text: str) -> str:
    """Whitespace collapsed, no-break spaces (U+00A0, U+202F) read as spaces."""
    return " ".join(text.replace("\xa0", " ").replace("\u202f", " ").split())


def page(site: Path, rel: str) -> BeautifulSoup:
    return BeautifulSoup((site / rel).read_text(encoding="utf-8"), "html.parser")


def text_of(node: Tag) -> str:
    return norm(node.get_text())


def status_of(node: Tag) -> tuple[str, str, str]:
    """(status key, shape, word) of the first `.status` element in ``node``."""
    span = node if "status" in (node.get("class") or []) else node.select_one(".status")
    assert span is not None, node
    key = next(c for c in span["class"] if c != "status")
    shape = span.select_one(".shape")
    assert shape is not None and shape.get("aria-hidden") == "true", span
    word = norm(span.get_text().replace(shape.get_text(), ""))
    return key, shape.get_text(), word


def html_pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))


def all_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def links_of(soup: BeautifulSoup) -> list[tuple[str, str, str]]:
    """(tag, attribute, value) of every URL-valued attribute of a page."""
    found = []
    for node in soup.find_all(True):
        for attr in ("href", "src", "action", "srcset", "poster", "data", "xlink:href"):
            if node.has_attr(attr) and not (node.name == "data" and attr == "value"):
                found.append((node.name, attr, str(node[attr])))
    return found


def broken_links(site: Path, allowed: set[str]) -> list[str]:
    """Every href/src of every page that is absolute (and not allowed) or resolves to no file."""
    problems = []
    for rel in html_pages(site):
        soup = page(site, rel)
        for tag, attr, url in links_of(soup):
            parts = urlsplit(url)
            if parts.scheme or parts.netloc or url.startswith("/"):
                if url not in allowed:
                    problems.append(f"{rel}: <{tag} {attr}={url!r}> is not a relative link")
                continue
            if not parts.path:  # "#anchor" on the same page
                continue
            target = PurePosixPath(rel).parent / unquote(parts.path)
            resolved = (site / target).resolve()
            if not resolved.is_relative_to(site.resolve()):
                problems.append(f"{rel}: {url!r} leaves the site")
            elif not resolved.is_file():
                problems.append(f"{rel}: {url!r} -> {target} does not exist")
    return problems


def table_rows(soup: BeautifulSoup, selector: str = "table.kpis") -> list[Tag]:
    table = soup.select_one(selector)
    assert table is not None, selector
    return table.select("tbody tr")


def kpi_ids_in_table(soup: BeautifulSoup) -> list[str]:
    ids = []
    for row in table_rows(soup):
        href = row.select_one("td a")["href"]
        ids.append(PurePosixPath(href).stem)
    return ids


def md_cells(line: str) -> list[str]:
    """The cells of a Markdown table row; `\\|` is an escaped bar inside a cell."""
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [c.strip().replace("\\|", "|") for c in cells]


def md_inline_text(cell: str) -> str:
    """What a reader sees of a cell: rendered as Markdown (markdown-it-py), tags removed."""
    import html

    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark").renderInline(cell)
    assert "<" not in rendered.replace("&lt;", ""), rendered  # no markup came of it
    return html.unescape(rendered)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tiny project, built once with the command line."""
    base = tmp_path_factory.mktemp("tiny")
    project = write_project(base / "project")
    site = base / "out" / "site"
    result = build(project, site)
    assert result.code == 0, result.err
    assert f"to {site}" in result.err
    return {"project": project, "site": site, "base": base}


@pytest.fixture(scope="module")
def site(tiny: dict[str, Path]) -> Path:
    return tiny["site"]


# ------------------------------------------------------------------ the files


def test_build_writes_every_page_badge_and_markdown_scorecard(site: Path) -> None:
    files = set(all_files(site))
    expected = {
        "index.html",
        "assets/style.css",
        "assets/enhance.js",
        "assets/icon.svg",
        "markdown/README.md",
        *(f"scorecard/{c}.html" for c in CARDS),
        *(f"badges/{c}.svg" for c in CARDS),
        *(f"markdown/{c}.md" for c in CARDS),
        *(f"kpi/{k}.html" for k in KPIS),
        *(f"badges/{card}/{k}.svg" for k, (card, *_) in KPIS.items()),
        *(f"status/{s}.html" for s in COUNTS),
        "owner/kari-nordmann.html",
        "owner/ola-nordmann.html",
        "owner/bjorn-as.html",
        "owner/soren-kierkegaard.html",
        "tag/growth.html",
        "tag/funnel.html",
    }
    assert expected <= files, sorted(expected - files)
    # kpispec's own manifest is the only file beyond those
    assert files - expected == {".kpispec-site.json"}, sorted(files - expected)


def test_render_api_writes_the_same_site_as_the_command_line(
    tiny: dict[str, Path], tmp_path: Path
) -> None:
    doc = evaluate_doc(tiny["project"], as_of=AS_OF)
    written = kpispec.render(doc, tmp_path / "api")
    assert written == sorted(written)
    assert set(written) == set(all_files(tmp_path / "api")) - {".kpispec-site.json"}
    assert all_files(tmp_path / "api") == all_files(tiny["site"])


# ------------------------------------------------------------------ the index


def test_index_shows_the_status_counts(site: Path) -> None:
    soup = page(site, "index.html")
    counts = {}
    for link in soup.select(".counts a.count"):
        key = next(c for c in link["class"] if c != "count")
        counts[key] = int(link.strong.get_text())
        assert SHAPES[key] in link.get_text(), link  # a shape ...
        assert WORDS["en"][key] in text_of(link), link  # ... and a word, not colour alone
        assert link["href"] == f"status/{key}.html"
    assert counts == COUNTS
    assert sum(counts.values()) == len(KPIS)


def test_index_lists_every_scorecard(site: Path) -> None:
    soup = page(site, "index.html")
    items = soup.select("ul.cards li")
    listed = {item.a["href"]: text_of(item.a) for item in items}
    assert listed == {f"scorecard/{c}.html": title for c, title in CARDS.items()}
    web = next(i for i in items if i.a["href"] == "scorecard/web.html")
    # Web: 7 KPIs, 3 met (visits, conversion, tickets), 1 at risk, 1 missed
    assert "7 KPIs: 3 met, 1 at risk, 1 missed" in text_of(web)
    assert web.img["src"] == "badges/web.svg"


def test_index_table_has_every_kpi_with_value_bound_and_status(site: Path) -> None:
    soup = page(site, "index.html")
    rows = table_rows(soup)
    assert len(rows) == len(KPIS)
    seen = {}
    for row in rows:
        cells = row.find_all("td")
        kpi_id = PurePosixPath(cells[0].a["href"]).stem
        card, name, value, bound, status = KPIS[kpi_id]
        assert cells[0].a["href"] == f"kpi/{kpi_id}.html"
        assert text_of(cells[0]) == name
        assert cells[1].a["href"] == f"scorecard/{card}.html"
        assert text_of(cells[1]) == CARDS[card]
        assert text_of(cells[3]) == value
        assert text_of(cells[4]) == bound
        key, shape, word = status_of(cells[5])
        assert key == status
        assert shape == SHAPES[status]
        lang = CARD_LANG[card]
        assert word == WORDS[lang].get(status, WORDS["en"][status])
        seen[kpi_id] = True
    assert set(seen) == set(KPIS)
    # sorted by status: missed, at risk, no data, met, no target
    order = ["missed", "at_risk", "no_data", "met", "no_target"]
    statuses = [order.index(KPIS[k][4]) for k in kpi_ids_in_table(soup)]
    assert statuses == sorted(statuses)


def test_index_period_is_the_judged_month_in_each_scorecards_locale(site: Path) -> None:
    soup = page(site, "index.html")
    for row in table_rows(soup):
        cells = row.find_all("td")
        card = KPIS[PurePosixPath(cells[0].a["href"]).stem][0]
        assert (
            text_of(cells[2])
            == {"en": "Oct 2026", "nb": "okt. 2026", "da": "okt. 2026"}[CARD_LANG[card]]
        )


def test_index_filter_links_to_owner_tag_and_status_pages(site: Path) -> None:
    soup = page(site, "index.html")
    nav = soup.select_one("nav.filters")
    links = {a["href"]: text_of(a) for a in nav.find_all("a")}
    assert links == {
        "status/missed.html": "missed (3)",
        "status/at_risk.html": "at risk (1)",
        "status/no_data.html": "no data (1)",
        "status/met.html": "met (7)",
        "status/no_target.html": "no target (1)",
        "owner/bjorn-as.html": "Bjørn Ås (3)",
        "owner/kari-nordmann.html": "Kari Nordmann (6)",
        "owner/ola-nordmann.html": "Ola Nordmann (1)",
        "owner/soren-kierkegaard.html": "Søren Kierkegaard (3)",
        "tag/growth.html": "growth (2)",
        "tag/funnel.html": "funnel (1)",
    }


def test_index_renders_the_project_description_as_markdown(site: Path) -> None:
    soup = page(site, "index.html")
    main = soup.main
    assert "**" not in main.get_text()
    strong = main.find("strong", string="tiny")
    assert strong is not None


# ------------------------------------------------------------------ links


def allowed_urls() -> set[str]:
    """The only absolute URLs a page may hold: the KPI's own `links`, the links its author
    wrote in a Markdown description, and the owner's e-mail address."""
    return {
        "https://bi.example.com/d/funnel",
        "https://docs.example.com/funnel",
        "mailto:ola@example.com",
    }


# visits: 3 sessions in October >= 2, met; pages: avg 3 < 5, missed
TWO_KPIS = {
    "kpispec.yaml": "kpispec: 1\ntimezone: UTC\nhistory: 2\n",
    "data/sessions.csv": SESSIONS,
    "web.yaml": """\
kpispec: 1
scorecard: {id: web, owner: growth}
sources:
  - {id: sessions, path: data/sessions.csv, time: started_at}
kpis:
  - {id: visits, source: sessions, formula: count(*), target: {min: 2}}
  - {id: pages, source: sessions, formula: avg(pages), target: {min: 5}}
""",
}


def test_every_href_and_src_of_every_page_resolves_to_a_file_of_the_site(site: Path) -> None:
    assert len(html_pages(site)) == 1 + 3 + 13 + 4 + 2 + 5
    assert broken_links(site, allowed_urls()) == []


def test_absolute_urls_are_only_the_kpis_own_links(site: Path) -> None:
    external = set()
    for rel in html_pages(site):
        for _, _, url in links_of(page(site, rel)):
            if urlsplit(url).scheme:
                external.add((rel, url))
    assert external == {
        ("kpi/conversion_rate.html", "https://bi.example.com/d/funnel"),
        ("kpi/conversion_rate.html", "https://docs.example.com/funnel"),
        ("kpi/evil.html", "mailto:ola@example.com"),
    }


def test_stylesheet_and_script_load_nothing_from_outside(site: Path) -> None:
    css = (site / "assets/style.css").read_text(encoding="utf-8")
    js = (site / "assets/enhance.js").read_text(encoding="utf-8")
    assert "url(" not in css and "@import" not in css
    assert not re.search(r"https?://", css + js)
    assert not re.search(r"\b(fetch|XMLHttpRequest|import\()", js)


def test_a_status_without_kpis_still_shows_its_count(tmp_path: Path) -> None:
    """Only a met and a missed KPI: the counts still show all five statuses, and every
    link but those of the empty statuses (the xfail test below) resolves."""
    project = write_project(tmp_path / "p", TWO_KPIS)
    result = build(project, tmp_path / "site")
    assert result.code == 0, result.err
    soup = page(tmp_path / "site", "index.html")
    counts = {a["href"]: int(a.strong.get_text()) for a in soup.select(".counts a.count")}
    assert counts == {
        "status/missed.html": 1,
        "status/at_risk.html": 0,
        "status/no_data.html": 0,
        "status/met.html": 1,
        "status/no_target.html": 0,
    }
    problems = broken_links(tmp_path / "site", set())
    assert [p for p in problems if "status/" not in p] == []


def test_status_counts_of_zero_link_to_existing_pages(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", TWO_KPIS)
    assert build(project, tmp_path / "site").code == 0
    assert broken_links(tmp_path / "site", set()) == []


def test_links_resolve_when_only_one_scorecard_is_built(
    tiny: dict[str, Path], tmp_path: Path
) -> None:
    result = build(tiny["project"], tmp_path / "site", "--scorecard", "salg_dk")
    assert result.code == 0, result.err
    assert not (tmp_path / "site/kpi/revenue_nb.html").exists()
    problems = broken_links(tmp_path / "site", set())
    # (the status counts of zero have their own test above)
    assert [p for p in problems if not p.startswith("index.html: 'status/")] == []


# ------------------------------------------------------------------ owner, tag and status pages


@pytest.mark.parametrize(
    ("rel", "title", "expected"),
    [
        (
            "owner/kari-nordmann.html",
            "Kari Nordmann",
            {"visits", "conversion_rate", "pages_per_session"}
            | {"short_visits", "tv_pages", "tickets_open"},
        ),
        ("owner/ola-nordmann.html", "Ola Nordmann", {"evil"}),
        ("owner/bjorn-as.html", "Bjørn Ås", {"paid_share", "orders", "revenue_nb"}),
        (
            "owner/soren-kierkegaard.html",
            "Søren Kierkegaard",
            {"paid_share_dk", "orders_dk", "avg_order_dk"},
        ),
        ("tag/growth.html", "growth", {"visits", "conversion_rate"}),
        ("tag/funnel.html", "funnel", {"conversion_rate"}),
        ("status/missed.html", "missed", {"short_visits", "paid_share", "paid_share_dk"}),
        ("status/at_risk.html", "at risk", {"pages_per_session"}),
        ("status/no_data.html", "no data", {"tv_pages"}),
        ("status/no_target.html", "no target", {"evil"}),
        (
            "status/met.html",
            "met",
            {"visits", "conversion_rate", "tickets_open", "orders", "revenue_nb"}
            | {"orders_dk", "avg_order_dk"},
        ),
    ],
)
def test_owner_tag_and_status_pages_list_the_right_kpis(
    site: Path, rel: str, title: str, expected: set[str]
) -> None:
    soup = page(site, rel)
    assert text_of(soup.h1) == title
    ids = kpi_ids_in_table(soup)
    assert len(ids) == len(set(ids))
    assert set(ids) == expected
    for row in table_rows(soup):  # links from one folder down
        assert row.select_one("td a")["href"].startswith("../kpi/")


def test_owners_with_non_latin_names_get_their_own_pages(tmp_path: Path) -> None:
    files = {
        "kpispec.yaml": "kpispec: 1\ntimezone: UTC\nhistory: 2\n",
        "data/sessions.csv": SESSIONS,
        "web.yaml": """\
kpispec: 1
scorecard: {id: web}
sources:
  - {id: sessions, path: data/sessions.csv, time: started_at}
kpis:
  - {id: visits, owner: Иван Петров, source: sessions, formula: count(*)}
  - {id: pages, owner: Мария Иванова, source: sessions, formula: avg(pages)}
""",
    }
    project = write_project(tmp_path / "p", files)
    assert build(project, tmp_path / "site").code == 0
    site = tmp_path / "site"
    owners = {
        text_of(a): a["href"]
        for a in page(site, "index.html").select("nav.filters a")
        if a["href"].startswith("owner/")
    }
    assert set(owners) == {"Иван Петров (1)", "Мария Иванова (1)"}
    assert kpi_ids_in_table(page(site, owners["Иван Петров (1)"])) == ["visits"]
    assert kpi_ids_in_table(page(site, owners["Мария Иванова (1)"])) == ["pages"]


# ------------------------------------------------------------------ scorecard pages


def test_scorecard_page_groups_tiles_by_group(site: Path) -> None:
    soup = page(site, "scorecard/web.html")
    groups = [
        (text_of(section.h2), [tile["id"] for tile in section.select("article.tile")])
        for section in soup.select("section.group")
    ]
    # In spec order; KPIs without a group under "Other", where the first of them stood.
    assert groups == [
        ("Traffic", ["visits", "pages_per_session"]),
        ("Conversion", ["conversion_rate", "short_visits"]),
        ("Other", ["evil", "tv_pages"]),
        ("Support", ["tickets_open"]),
    ]


def test_scorecard_tiles_show_value_status_word_and_shape(site: Path) -> None:
    for card in CARDS:
        soup = page(site, f"scorecard/{card}.html")
        tiles = soup.select("article.tile")
        assert {t["id"] for t in tiles} == {k for k, v in KPIS.items() if v[0] == card}
        for tile in tiles:
            _, name, value, bound, status = KPIS[tile["id"]]
            assert text_of(tile.h3) == name
            assert tile.h3.a["href"] == f"../kpi/{tile['id']}.html"
            assert text_of(tile.select_one(".value data")) == value
            key, shape, word = status_of(tile)
            assert (key, shape) == (status, SHAPES[status])
            lang = CARD_LANG[card]
            assert word == WORDS[lang].get(status, WORDS["en"][status])
            assert status in tile["class"]
            if bound:
                assert bound in text_of(tile.select_one(".target"))
            assert tile.select_one(".bulletwrap svg") is not None
            assert tile.select_one(".sparkwrap svg") is not None


def test_scorecard_description_renders_markdown(site: Path) -> None:
    soup = page(site, "scorecard/web.html")
    description = soup.select_one(".description")
    assert text_of(description) == "How visitors use the shop."
    assert text_of(description.strong) == "visitors"


def test_changes_are_coloured_by_direction_and_also_carry_an_arrow_and_a_sign(
    site: Path,
) -> None:
    soup = page(site, "scorecard/web.html")
    # visits 2 -> 3 (higher is better): good; short visits 0 -> 33.3 % (lower is better): bad
    visits = soup.select_one("#visits .changes .change")
    assert "good" in visits["class"] and "▲" in visits.get_text()
    assert text_of(visits).startswith("▲ +1 (+50.0%)")
    short = soup.select_one("#short_visits .changes .change")
    assert "bad" in short["class"] and "▲" in short.get_text()
    assert "+33.3 pp" in text_of(short)


# ------------------------------------------------------------------ KPI pages


def test_kpi_page_shows_value_bound_status_history_breakdowns_and_definition(
    site: Path,
) -> None:
    soup = page(site, "kpi/conversion_rate.html")
    assert text_of(soup.h1) == "Conversion rate"
    headline = soup.select_one(".headline")
    assert text_of(headline.select_one(".value")) == "66.7%"
    assert status_of(headline) == ("met", "●", "met")
    main = text_of(soup.main)
    assert "Target: ≥ 60.0%" in main
    assert "By Dec 31, 2026" in main
    # the history, newest first: Oct 66.7 met, Sep 50 missed (below 54), Jul/Aug no data
    rows = [
        (*(text_of(r.find_all("td")[i]) for i in (0, 1, 3)), *status_of(r))
        for r in table_rows(soup, "table.series")
    ]
    assert rows == [
        ("Oct 2026", "66.7%", "≥ 60.0%", "met", "●", "met"),
        ("Sep 2026", "50.0%", "≥ 60.0%", "missed", "■", "missed"),
        ("Aug 2026", "–", "≥ 60.0%", "no_data", "○", "no data"),
        ("Jul 2026", "–", "≥ 60.0%", "no_data", "○", "no data"),
    ]
    # the breakdown by channel, members sorted by code point
    assert [text_of(h) for h in soup.select("h3")] == ["channel"]
    members = [
        (text_of(r.find_all("td")[0]), text_of(r.find_all("td")[1]))
        for r in table_rows(soup, "table.breakdown")
    ]
    assert members == [
        (EVIL, "100.0%"),
        ("ads", "100.0%"),
        ("email", "–"),
        ("search", "0.0%"),
        ("∅", "–"),
    ]
    # the definition
    definition = soup.select_one("dl.definition")
    terms = {text_of(dt): text_of(dt.find_next_sibling("dd")) for dt in definition.find_all("dt")}
    assert terms["Formula"] == "100 * share(converted)"
    assert terms["Source"] == "sessions: data/sessions.csv"
    assert terms["Spec"] == f"web.yaml:{line_of(WEB, '- id: conversion_rate')}"
    assert "More buyers" in terms["Target"]
    assert terms["Owner"] == "Kari Nordmann"
    assert terms["Links"] == "Funnel dashboard"
    link = definition.find("a", string="Funnel dashboard")
    assert link["href"] == "https://bi.example.com/d/funnel"


def test_kpi_page_chart_has_a_text_alternative(site: Path) -> None:
    soup = page(site, "kpi/conversion_rate.html")
    chart = soup.select_one("figure svg.chart")
    label = "Conversion rate: 4 periods from Jul 2026 to Oct 2026"
    assert chart["role"] == "img"
    assert chart["aria-label"] == label
    assert text_of(chart.find("title")) == label
    # one point per known value, each with its own title
    assert [text_of(t) for t in chart.select("circle > title")] == [
        "Sep 2026: 50.0%",
        "Oct 2026: 66.7%",
    ]


def test_kpi_page_of_a_kpi_built_from_other_kpis_links_them(site: Path) -> None:
    soup = page(site, "kpi/avg_order_dk.html")
    assert text_of(soup.select_one(".headline .value")) == "246,90 kr."
    definition = soup.select_one("dl.definition")
    assert {a["href"] for a in definition.find_all("a") if "kpi" not in a["href"]} >= {
        "revenue_nb.html",
        "orders_dk.html",
    }


def test_every_status_shows_a_word_and_a_shape_never_colour_alone(site: Path) -> None:
    for rel in html_pages(site):
        for span in page(site, rel).select("span.status"):
            key, shape, word = status_of(span)
            assert shape == SHAPES[key], (rel, span)
            assert word, (rel, span)


# ------------------------------------------------------------------ stale and no data


def test_stale_and_no_data_are_said_in_words_on_tiles_and_kpi_pages(site: Path) -> None:
    card = page(site, "scorecard/web.html")
    stale = card.select_one("#tickets_open .stale")
    assert "stale data" in text_of(stale)
    assert stale["title"] == "The newest data is older than the source allows"
    tv = card.select_one("#tv_pages")
    assert status_of(tv) == ("no_data", "○", "no data")
    assert text_of(tv.select_one(".value data")) == "–"
    assert "No value for this period" in text_of(tv)
    assert card.select_one("#visits .stale") is None

    kpi = page(site, "kpi/tickets_open.html")
    assert "stale data" in text_of(kpi.select_one(".headline"))
    kpi = page(site, "kpi/tv_pages.html")
    assert text_of(kpi.select_one(".headline .value")) == "–"
    assert "No value for this period" in text_of(kpi.main)


def test_stale_is_said_in_words_in_the_kpi_table(site: Path) -> None:
    soup = page(site, "index.html")
    row = next(r for r in table_rows(soup) if "tickets_open" in r.select_one("td a")["href"])
    stale = row.select_one(".stale")
    assert stale is not None
    assert "stale" in text_of(stale) or "stale" in stale.get("title", "")


# ------------------------------------------------------------------ locales


def test_norwegian_scorecard_formats_numbers_and_says_its_words_in_norwegian(
    site: Path,
) -> None:
    soup = page(site, "scorecard/salg.html")
    assert soup.html["lang"] == "nb"
    tiles = {t["id"]: t for t in soup.select("article.tile")}
    assert text_of(tiles["paid_share"].select_one(".value data")) == "40,0 %"
    assert status_of(tiles["paid_share"])[2] == "ikke nådd"
    assert status_of(tiles["orders"])[2] == "nådd"
    assert text_of(tiles["revenue_nb"].select_one(".value data")) == "1 234,50 kr"
    assert "okt. 2026" in text_of(tiles["orders"].select_one(".period"))
    assert "Mål: ≥ 50,0 %" in text_of(tiles["paid_share"])
    # 3 -> 5 orders: +2, +66,7 % in the Norwegian percent format
    assert "+2 (+66,7 %)" in text_of(tiles["orders"].select_one(".changes"))
    assert "Annet" in [text_of(h) for h in soup.select("section.group h2")]

    kpi = page(site, "kpi/orders.html")
    assert kpi.html["lang"] == "nb"
    assert [text_of(h) for h in kpi.select("h2")][:2] == ["Historikk", "Definisjon"]
    rows = [
        [text_of(td) for td in r.find_all("td")[:4]] + [status_of(r)[2]]
        for r in table_rows(kpi, "table.series")
    ]
    assert rows == [
        ["okt. 2026", "5", "+2", "≥ 3", "nådd"],
        ["sep. 2026", "3", "+3", "≥ 3", "nådd"],
        ["aug. 2026", "0", "±0", "≥ 3", "ikke nådd"],
        ["juli 2026", "0", "–", "≥ 3", "ikke nådd"],
    ]


def test_danish_scorecard_formats_numbers_and_says_its_words_in_danish(site: Path) -> None:
    soup = page(site, "scorecard/salg_dk.html")
    assert soup.html["lang"] == "da"
    tiles = {t["id"]: t for t in soup.select("article.tile")}
    assert text_of(tiles["paid_share_dk"].select_one(".value data")) == "40,0 %"
    assert status_of(tiles["paid_share_dk"])[2] == "ikke nået"
    assert status_of(tiles["orders_dk"])[2] == "nået"
    assert text_of(tiles["avg_order_dk"].select_one(".value data")) == "246,90 kr."
    assert "Mål: ≥ 100,00 kr." in text_of(tiles["avg_order_dk"])
    kpi = page(site, "kpi/paid_share_dk.html")
    assert kpi.html["lang"] == "da"
    assert "Historik" in [text_of(h) for h in kpi.select("h2")]
    assert status_of(kpi.select_one(".headline")) == ("missed", "■", "ikke nået")


def test_english_pages_say_english(site: Path) -> None:
    for rel in ("index.html", "scorecard/web.html", "kpi/visits.html", "status/met.html"):
        assert page(site, rel).html["lang"] == "en"


def test_chart_axis_ticks_are_plain_numbers(site: Path) -> None:
    for rel in html_pages(site):
        if not rel.startswith("kpi/"):
            continue
        for tick in page(site, rel).select("svg.chart text.tick"):
            assert not re.search(r"\de[-+]?\d", tick.get_text()), (rel, tick.get_text())


# ------------------------------------------------------------------ SVG


def test_every_inline_svg_has_a_title_and_an_aria_label(site: Path) -> None:
    count = 0
    for rel in html_pages(site):
        for svg in page(site, rel).find_all("svg"):
            count += 1
            assert svg.get("role") == "img", (rel, str(svg)[:200])
            label = svg.get("aria-label", "")
            assert label.strip(), (rel, str(svg)[:200])
            title = svg.find("title", recursive=False)
            assert title is not None and title.get_text() == label, (rel, str(svg)[:200])
    assert count > 13 * 2


def test_the_null_members_sparkline_is_not_labelled_none(site: Path) -> None:
    soup = page(site, "kpi/conversion_rate.html")
    last = table_rows(soup, "table.breakdown")[-1]
    assert text_of(last.find("td")) == "∅"
    label = last.find("svg")["aria-label"]
    assert "None" not in label


def test_badges_are_valid_svg(site: Path) -> None:
    badges = sorted((site / "badges").rglob("*.svg"))
    assert len(badges) == len(CARDS) + len(KPIS)
    for path in badges:
        root = ET.fromstring(path.read_bytes())  # well-formed XML
        assert root.tag == "{http://www.w3.org/2000/svg}svg", path
        assert root.get("role") == "img"
        title = root.find("{http://www.w3.org/2000/svg}title")
        assert title is not None and title.text == root.get("aria-label")
    text = lambda rel: ET.fromstring((site / rel).read_bytes()).get("aria-label")  # noqa: E731
    assert text("badges/web/visits.svg") == "visits: met"
    assert text("badges/web/pages_per_session.svg") == "pages_per_session: at risk"
    assert text("badges/web.svg") == "web: 1 missed"  # the worst status of the scorecard
    assert text("badges/salg.svg") == "salg: 1 missed"


# ------------------------------------------------------------------ escaping


def test_a_script_in_names_descriptions_and_members_is_text_never_a_script(site: Path) -> None:
    shown = {}
    for rel in html_pages(site):
        soup = page(site, rel)
        scripts = soup.find_all("script")
        assert len(scripts) == 1, rel
        assert scripts[0].get("src", "").endswith("assets/enhance.js")
        assert scripts[0].get_text() == ""
        for node in soup.find_all(True):
            for attr, value in node.attrs.items():
                assert not attr.lower().startswith("on"), (rel, node.name, attr)
                if isinstance(value, str):
                    assert not value.strip().lower().startswith("javascript:"), (rel, value)
        shown[rel] = EVIL in soup.get_text()
    assert shown["index.html"]  # the KPI name
    assert shown["scorecard/web.html"]
    assert shown["kpi/evil.html"]
    assert shown["kpi/conversion_rate.html"]  # the description and the channel member
    assert shown["owner/ola-nordmann.html"]
    assert text_of(page(site, "kpi/evil.html").h1) == EVIL
    assert page(site, "kpi/evil.html").title.get_text().startswith(EVIL)


def test_markdown_description_renders_but_raw_html_is_text(site: Path) -> None:
    soup = page(site, "kpi/conversion_rate.html")
    description = soup.select_one(".description")
    assert text_of(description.strong) == "end in a purchase"
    link = description.find("a", string="the funnel docs")
    assert link["href"] == "https://docs.example.com/funnel"
    assert description.find("b") is None and description.find("script") is None
    assert "<b>raw</b>" in description.get_text()
    assert EVIL in description.get_text()
    # a javascript: link is not made a link
    assert all(not a["href"].startswith("javascript") for a in description.find_all("a"))


# ------------------------------------------------------------------ Markdown scorecards


def test_markdown_scorecard_has_a_row_per_kpi_with_value_and_status(site: Path) -> None:
    for card in CARDS:
        text = (site / f"markdown/{card}.md").read_text(encoding="utf-8")
        lines = [line for line in text.splitlines() if line.startswith("|")]
        header, rule, *rows = lines
        assert len(md_cells(header)) == len(md_cells(rule)) == 8
        expected = {k: v for k, v in KPIS.items() if v[0] == card}
        assert len(rows) == len(expected)
        # a name reads back as written once a Markdown renderer has read its cell
        by_name = {md_inline_text(md_cells(row)[0]): md_cells(row) for row in rows}
        for _, name, value, bound, status in expected.values():
            cells = by_name[name]
            assert len(cells) == 8, cells
            assert norm(cells[2]) == value
            assert norm(cells[3]) == bound
            lang = CARD_LANG[card]
            assert norm(cells[4]).startswith(
                f"{SHAPES[status]} {WORDS[lang].get(status, WORDS['en'][status])}"
            )
    web = (site / "markdown/web.md").read_text(encoding="utf-8")
    assert "| Pages \\| session |" in web  # a bar in a name does not split the row
    assert "⧗ stale data" in web


def test_markdown_summary_has_a_row_per_scorecard(site: Path) -> None:
    text = (site / "markdown/README.md").read_text(encoding="utf-8")
    assert "13 KPIs: 7 met, 1 at risk, 3 missed, 1 no data, 1 no target" in text
    rows = [line for line in text.splitlines() if line.startswith("| [")]
    cells = {md_cells(r)[0]: md_cells(r)[1:] for r in rows}
    assert cells == {
        "[Salg DK](salg_dk.md)": ["3", "2", "0", "1", "0"],
        "[Salg](salg.md)": ["3", "2", "0", "1", "0"],
        "[Web](web.md)": ["7", "3", "1", "1", "1"],
    }
    for card in CARDS:
        assert (site / "markdown" / f"{card}.md").is_file()


# ------------------------------------------------------------------ determinism


def test_two_builds_of_the_same_inputs_are_byte_identical(
    tiny: dict[str, Path], tmp_path: Path
) -> None:
    assert build(tiny["project"], tmp_path / "a").code == 0
    assert build(tiny["project"], tmp_path / "b").code == 0
    first, second = all_files(tmp_path / "a"), all_files(tmp_path / "b")
    assert first.keys() == second.keys()
    different = [rel for rel in first if first[rel] != second[rel]]
    assert different == []
    assert first == all_files(tiny["site"])


# ------------------------------------------------------------------ the output folder


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(folder).as_posix(): (
            p.read_bytes() if p.is_file() else b"",
            p.stat().st_mtime_ns,
        )
        for p in sorted([folder, *folder.rglob("*")])
    }


def test_build_refuses_a_folder_holding_a_users_file(tiny: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "mine"
    (out / "notes").mkdir(parents=True)
    (out / "notes" / "todo.txt").write_text("my own notes\n", encoding="utf-8")
    before = snapshot(out)
    result = build(tiny["project"], out)
    assert result.code == 2
    assert "notes/todo.txt" in result.err + result.out
    assert "E003" in result.err + result.out
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no staging left behind


def test_build_refuses_a_previous_build_with_a_users_file_added(
    tiny: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "site"
    assert build(tiny["project"], out).code == 0
    (out / "kpi" / "extra.html").write_text("<p>mine</p>\n", encoding="utf-8")
    before = snapshot(out)
    result = build(tiny["project"], out)
    assert result.code == 2
    assert "kpi/extra.html" in result.err + result.out
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_render_api_refuses_a_folder_holding_a_users_file(
    tiny: dict[str, Path], tmp_path: Path
) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "index.html").write_text("mine\n", encoding="utf-8")
    doc = evaluate_doc(tiny["project"], as_of=AS_OF)
    with pytest.raises(kpispec.KpispecError) as info:
        kpispec.render(doc, tmp_path / "out")
    assert "index.html" in str(info.value.diagnostics[0].message)
    assert (tmp_path / "out" / "index.html").read_text(encoding="utf-8") == "mine\n"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["index.html"]


def test_building_twice_into_one_folder_replaces_the_previous_build(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project")
    parent = tmp_path / "public"
    parent.mkdir()
    out = parent / "site"
    assert build(project, out).code == 0
    assert (out / "kpi/tv_pages.html").is_file()
    # rename a KPI and drop another
    web = WEB.replace("name: Visits", "name: Visitors").replace(
        "  - id: tv_pages\n    name: TV pages\n    source: sessions\n"
        "    filter: channel = 'tv'\n    formula: avg(pages)\n"
        "    target: {min: 1, by: 2026-12-31, why: TV works}\n",
        "",
    )
    assert web.count("tv_pages") == 0
    (project / "web.yaml").write_text(web, encoding="utf-8")
    result = build(project, out)
    assert result.code == 0, result.err
    assert not (out / "kpi/tv_pages.html").exists()
    assert not (out / "status/no_data.html").exists() or "tv_pages" not in (
        out / "status/no_data.html"
    ).read_text(encoding="utf-8")
    assert text_of(page(out, "kpi/visits.html").h1) == "Visitors"
    assert "Visitors" in text_of(page(out, "index.html").select_one("table.kpis"))
    manifest = json.loads((out / ".kpispec-site.json").read_text(encoding="utf-8"))
    assert set(manifest["files"]) == set(all_files(out)) - {".kpispec-site.json"}
    assert [p.name for p in parent.iterdir()] == ["site"]  # no temporary folder beside it
    # and a third time, unchanged inputs: identical
    before = all_files(out)
    assert build(project, out).code == 0
    assert all_files(out) == before
    assert [p.name for p in parent.iterdir()] == ["site"]


# ------------------------------------------------------------------ --templates


def test_templates_override_base_html_by_name(tiny: dict[str, Path], tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    base = (ROOT / "templates" / "base.html").read_text(encoding="utf-8")
    assert "<body>\n" in base
    custom = base.replace("<body>\n", '<body>\n<p class="house-banner">House style</p>\n')
    (templates / "base.html").write_text(custom, encoding="utf-8")
    result = build(tiny["project"], tmp_path / "site", "--templates", templates)
    assert result.code == 0, result.err
    site, default = tmp_path / "site", tiny["site"]
    for rel in html_pages(site):
        banner = page(site, rel).select_one("p.house-banner")
        assert banner is not None and banner.get_text() == "House style", rel
    # the other templates are the defaults
    for rel in ("assets/style.css", "assets/enhance.js", "markdown/web.md", "badges/web.svg"):
        assert (site / rel).read_bytes() == (default / rel).read_bytes(), rel
    mine = page(site, "scorecard/web.html")
    mine.select_one("p.house-banner").decompose()
    theirs = page(default, "scorecard/web.html")
    assert str(mine.main) == str(theirs.main)


def test_templates_override_style_css_by_name(tiny: dict[str, Path], tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "style.css").write_text("body { color: rebeccapurple; }\n", encoding="utf-8")
    result = build(tiny["project"], tmp_path / "site", "--templates", templates)
    assert result.code == 0, result.err
    site, default = tmp_path / "site", tiny["site"]
    assert (site / "assets/style.css").read_text(encoding="utf-8") == (
        "body { color: rebeccapurple; }\n"
    )
    for rel in html_pages(default):
        assert (site / rel).read_bytes() == (default / rel).read_bytes(), rel


def test_templates_must_be_a_folder(tiny: dict[str, Path], tmp_path: Path) -> None:
    result = build(tiny["project"], tmp_path / "site", "--templates", tmp_path / "nope")
    assert result.code == 2
    assert "nope" in result.err
    assert not (tmp_path / "site").exists()


# ------------------------------------------------------------------ serve


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def poll(url: str, want: str, seconds: float) -> str | None:
    """The page once it contains ``want``, or None after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            status, body = fetch(url)
            if status == 200 and want in body:
                return body
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.25)
    return None


@contextmanager
def serving(project: Path, out: Path, log_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """`kpispec serve PROJECT -o OUT` on a free port of 127.0.0.1; ended on leaving."""
    port = free_port()
    with log_path.open("w", encoding="utf-8") as log:
        server = subprocess.Popen(
            [
                str(KPISPEC),
                "serve",
                str(project),
                "-o",
                str(out),
                "--port",
                str(port),
                "--as-of",
                AS_OF,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield f"http://127.0.0.1:{port}/", server
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)


def test_serve_serves_the_site_and_rebuilds_when_a_spec_changes(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project")
    out = tmp_path / "public" / "site"
    log = tmp_path / "serve.log"
    with serving(project, out, log) as (url, server):
        body = poll(url, "Conversion rate", 60)  # the first build imports Polars
        assert body is not None, log.read_text(encoding="utf-8")
        soup = BeautifulSoup(body, "html.parser")
        assert {KPIS[k][1] for k in kpi_ids_in_table(soup)} == {v[1] for v in KPIS.values()}
        status, css = fetch(url + "assets/style.css")
        assert status == 200 and "--met" in css
        assert fetch(url + "kpi/visits.html")[0] == 200
        assert (out / "index.html").is_file()

        web = project / "web.yaml"
        web.write_text(WEB.replace("name: Visits", "name: Visitors renamed"), encoding="utf-8")
        body = poll(url, "Visitors renamed", 15)
        assert body is not None, log.read_text(encoding="utf-8")
        assert "Visitors renamed" in (out / "index.html").read_text(encoding="utf-8")
        assert server.poll() is None
        # the new site is visible once swapped in; the old one and the lock go right after
        deadline = time.monotonic() + 10
        while len(list(out.parent.iterdir())) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [p.name for p in out.parent.iterdir()] == ["site"]


def test_serve_keeps_the_last_good_site_when_a_spec_breaks(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project")
    log = tmp_path / "serve.log"
    with serving(project, tmp_path / "site", log) as (url, server):
        assert poll(url, "Conversion rate", 60) is not None, log.read_text(encoding="utf-8")
        broken = WEB.replace("    formula: count(*)\n    unit: count\n", "    formula: count(\n")
        assert broken != WEB
        (project / "web.yaml").write_text(broken, encoding="utf-8")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and "web.yaml" not in log.read_text(encoding="utf-8"):
            time.sleep(0.25)
        assert "web.yaml" in log.read_text(encoding="utf-8")  # its diagnostics are printed
        status, body = fetch(url)
        assert status == 200 and "Conversion rate" in body  # the last good site
        assert server.poll() is None


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_the_site_is_written_with_the_users_umask(tmp_path: Path, umask: int) -> None:
    """Files 0o666 and folders 0o777, less the umask, the site's own folder included (it is
    written in a private staging folder first)."""
    import os
    import stat

    doc = kpispec.evaluate(ROOT / "specs", as_of="2026-11-22")
    before = os.umask(umask)
    try:
        kpispec.render(doc, tmp_path / "site")
    finally:
        os.umask(before)
    paths = [tmp_path / "site", *(tmp_path / "site").rglob("*")]
    assert len(paths) > 50
    for path in paths:
        want = (0o777 if path.is_dir() else 0o666) & ~umask
        assert stat.S_IMODE(path.stat().st_mode) == want, path
