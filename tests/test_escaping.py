"""Nothing a spec or the data says becomes markup, Markdown structure or a CI command.

A project whose names (a scorecard title, a KPI name, an owner, a tag, a YAML key, a CSV
header, a dimension member, a test name and a spec file name) carry line breaks of every
kind, terminal escapes, Rich and Markdown markup and ``::error`` workflow commands is run
through every command and format as a user would (``python -m kpispec``), and each output
is judged by an independent reader: Python's own line splitting, the csv module,
xml.etree, markdown-it-py with GitHub's tables, and BeautifulSoup for the site.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from helpers import evaluate_doc, write_files

import kpispec
from kpispec.escaping import json_lines, link_problem, markdown_text, one_line, xml_text

AS_OF = "2026-02-01"  # judges January 2026
EVIL = "::error file=evil.yaml,line=1::pwned"
#: Every character some reader takes as the end of a line: the GitHub runner (CR, LF),
#: cmark-gfm (CR, LF), Python's str.splitlines (all of them), terminals (VT, FF, NEL).
BREAKS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
_LINES = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def physical_lines(text: str) -> list[str]:
    return _LINES.split(text)


# ------------------------------------------------------------------ the helpers alone


@pytest.mark.parametrize("brk", BREAKS)
def test_one_line_leaves_one_line(brk: str) -> None:
    flat = one_line(f"Visitors{brk}{EVIL}")
    assert len(physical_lines(flat)) == 1
    assert flat.startswith("Visitors\\")


def test_one_line_spells_what_it_escaped() -> None:
    assert one_line("a\nb\rc\td") == "a\\nb\\rc\\td"
    assert one_line("x\x1b[2Jy") == "x\\x1b[2Jy"  # a terminal escape cannot clear the screen
    assert one_line("a\u2028b\x85c") == "a\\u2028b\\x85c"
    assert one_line("bad\udcffname") == "bad\\xffname"  # a byte of a non-UTF-8 file name
    assert one_line("right\u202eleft") == "right\\u202eleft"  # no bidirectional reordering
    assert one_line("Kari Nordmann, ≥ 3.3%") == "Kari Nordmann, ≥ 3.3%"


def test_markdown_text_is_literal() -> None:
    assert markdown_text("a | b") == "a \\| b"
    assert markdown_text("*x* _y_ `z`") == "\\*x\\* \\_y\\_ \\`z\\`"
    assert markdown_text("![p](https://t.example/p.gif)") == "\\!\\[p\\](https://t.example/p.gif)"
    assert markdown_text("<b>&amp;") == "&lt;b&gt;&amp;amp;"
    assert markdown_text("Title #") == "Title \\#"
    assert markdown_text("a\rb") == "a\\\\rb"


def test_json_lines_escapes_what_json_dumps_leaves_raw() -> None:
    value = {"name": "a\u2028b\x85c\u2029d\x7fe\udcff"}
    text = json_lines(json.dumps(value, ensure_ascii=False))
    assert text == '{"name": "a\\u2028b\\u0085c\\u2029d\\u007fe\\udcff"}'
    assert json.loads(text) == value


def test_xml_text_drops_what_xml_cannot_hold() -> None:
    assert xml_text("a\x00b\x07c\x1bd\tf\ng\udcff") == "a\ufffdb\ufffdc\ufffdd\tf\ng\ufffd"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "\x01javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "&#106;avascript:alert(1)",
        "&#x6A;avascript:alert(1)",
        "javascript&colon;alert(1)",
        "%6Aavascript:alert(1)",
        "ｊａｖａｓｃｒｉｐｔ:alert(1)",
        "java\u200bscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "ftp://example.com/x",
        "tel:+4712345678",
    ],
)
def test_links_that_are_refused(url: str) -> None:
    assert link_problem(url) is not None


@pytest.mark.parametrize(
    "url",
    [
        "https://bi.example.com/d/1?a=1&copy=2",
        "http://example.com",
        "mailto:kari@example.com",
        "docs/funnel.html",
        "/wiki/funnel",
        "#notes",
        "//cdn.example.com/x",
    ],
)
def test_links_that_are_allowed(url: str) -> None:
    assert link_problem(url) is None


# ------------------------------------------------------------------ a hostile project

HEADER = "chan\n::error file=evil.yaml::header"  # a CSV header is data
MEMBER = "web\r\n::error file=evil.yaml::member"
TITLE = "Web\r::error file=evil.yaml::title # [x](https://evil.example) |"
NAME = "Visitors\u2028::error file=evil.yaml::name | *x* <b>"
OWNER = "[bold red]Kari[/]\x1b[2J\x85::error file=evil.yaml::owner"
SPEC_FILE = "web\x07\x1b.yaml"  # a spec file whose name holds control characters


def _spec() -> str:
    def q(text: str) -> str:
        return json.dumps(text)  # a YAML double-quoted scalar with JSON's escapes

    return f"""kpispec: 1
scorecard:
  id: web
  title: {q(TITLE)}
  owner: {q(OWNER)}
sources:
  - id: s
    path: data/s.csv
    time: started_at
kpis:
  - id: visitors
    name: {q(NAME)}
    source: s
    formula: count(*)
    dimensions: [{q(HEADER)}]
    target: {{min: 100, by: 2026-12-31, why: growth}}
    description: |
      A pixel ![pixel](https://tracker.example/p.gif?u=1), ![also](//tracker.example/q.gif),
      a chart ![chart](img/chart.png), [js](javascript:alert(1)),
      [entity](&#106;avascript:alert(1)), [ftp](ftp://example.com/x),
      <img src="https://tracker.example/raw.gif"> <javascript:alert(2)>,
      and [the wiki](https://wiki.example.com/visitors).
    links:
      - https://bi.example.com/d/visitors
      - {{title: Funnel, url: "docs/funnel.html"}}
  - id: kari_one
    source: s
    formula: count(*)
    owner: Kari N
    tags: [Growth]
  - id: kari_two
    source: s
    formula: count(*)
    owner: kari-n
    tags: [growth]
tests:
  - name: {q("counts rows" + chr(10) + EVIL)}
    kpi: visitors
    rows:
      s:
        - {{started_at: 2026-01-05, {q(HEADER)}: a}}
    expect: 2
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile") / "project"
    csv_text = io.StringIO()
    writer = csv.writer(csv_text, lineterminator="\n")
    writer.writerows(
        [
            ["started_at", HEADER],
            ["2026-01-05", MEMBER],
            ["2026-01-06", "mail"],
            ["2026-01-07", "mail"],
        ]
    )
    write_files(
        root,
        {
            "kpispec.yaml": f"kpispec: 1\ntitle: {json.dumps(TITLE)}\ntimezone: UTC\n",
            SPEC_FILE: _spec(),
            "data/s.csv": csv_text.getvalue(),
        },
    )
    return root


def run(project: Path, *args: str) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "kpispec", *args],
        cwd=project,
        capture_output=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "COLUMNS": "200"},
    )
    out = (done.stdout + done.stderr).decode("utf-8")
    assert "Traceback" not in out and "internal error" not in out, out
    return done.returncode, out


COMMANDS = {
    "validate text": (["validate", "."], 0),
    "validate github": (["validate", ".", "--format", "github"], 0),
    "validate json": (["validate", ".", "--format", "json"], 0),
    "eval json": (["eval", ".", "--as-of", AS_OF, "--format", "json"], 0),
    "check json": (["check", ".", "--as-of", AS_OF, "--format", "json"], 1),
    "eval table": (["eval", ".", "--as-of", AS_OF], 0),
    "eval csv": (["eval", ".", "--as-of", AS_OF, "--format", "csv"], 0),
    "eval explain": (["eval", ".", "--as-of", AS_OF, "--explain"], 0),
    "check text": (["check", ".", "--as-of", AS_OF], 1),
    "check github": (["check", ".", "--as-of", AS_OF, "--format", "github"], 1),
    "check markdown": (["check", ".", "--as-of", AS_OF, "--format", "markdown"], 1),
    "test": (["test", ".", "--as-of", AS_OF], 1),
}


@pytest.mark.parametrize("command", COMMANDS)
def test_no_line_is_the_specs_own(project: Path, command: str) -> None:
    """No physical line (by any reader's count) starts with a workflow command, and no
    terminal escape or raw control character is printed."""
    argv, status = COMMANDS[command]
    code, out = run(project, *argv)
    assert code == status, out
    for line in physical_lines(out):
        assert "\x1b" not in line and "\x07" not in line, line
        if "github" not in command:
            assert not re.match(r"\s*::", line), line
        elif line:  # one command a line, its properties escaped
            head = line.split("::")[1]
            assert re.fullmatch(r"(error|warning) [a-z]+=[^:,]*(,[a-z]+=[^:,]*)*", head), line


def test_json_keeps_the_names_exactly(project: Path) -> None:
    _, out = run(project, "eval", ".", "--as-of", AS_OF, "--format", "json")
    card = json.loads(out)["scorecards"][0]
    assert card["title"] == TITLE and card["kpis"][0]["name"] == NAME
    assert card["owner"]["name"] == OWNER


def test_the_eval_table_shows_markup_as_text(project: Path) -> None:
    _, out = run(project, "eval", ".", "--as-of", AS_OF)
    assert "[bold red]Kari[/]" in out  # Rich did not read it as markup
    assert "Visitors\\u2028::error" in out


def test_csv_stays_one_row_a_line(project: Path) -> None:
    _, out = run(project, "eval", ".", "--as-of", AS_OF, "--format", "csv")
    lines = physical_lines(out.rstrip("\n"))
    rows = list(csv.reader(io.StringIO(out)))
    assert len(rows) == len(lines)  # no field spans two lines
    assert all(len(row) == 7 for row in rows)
    members = {(row[3], row[4]) for row in rows[1:] if row[3]}
    flat_header = "chan\\n::error file=evil.yaml::header"
    assert members == {
        (flat_header, "web\\r\\n::error file=evil.yaml::member"),
        (flat_header, "mail"),
    }


def test_github_messages_carry_the_name_escaped(project: Path) -> None:
    _, out = run(project, "check", ".", "--as-of", AS_OF, "--format", "github")
    (line,) = [x for x in out.splitlines() if "visitors" in x.lower()]
    assert line.startswith("::error file=web\\x07\\x1b.yaml,line=")
    assert "title=KPI Visitors\\u2028%3A%3Aerror file=evil.yaml%3A%3Aname | *x* <b> missed" in line


def test_junit_is_well_formed_xml(project: Path) -> None:
    code, out = run(project, "check", ".", "--as-of", AS_OF, "--format", "junit")
    assert code == 1
    tree = ET.fromstring(out.split("\n", 1)[1])  # parses: no control character is left
    files = {case.get("file") for case in tree.iter("testcase")}
    assert files == {"web\ufffd\ufffd.yaml"}
    (failure,) = tree.iter("failure")
    assert failure.text is not None and failure.text.endswith("web\ufffd\ufffd.yaml:16")


def _markdown_tables(text: str, links: frozenset[str] = frozenset()) -> list[list[list[str]]]:
    """The tables of a Markdown document as GitHub reads them (GFM tables); a cell may
    hold text and code, and links only to ``links``."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    tables: list[list[list[str]]] = []
    row: list[str] = []
    for i, token in enumerate(tokens):
        if token.type == "table_open":
            tables.append([])
        elif token.type == "tr_open":
            row = []
        elif token.type in ("th_open", "td_open"):
            inline = tokens[i + 1]
            for c in inline.children or []:  # no other link, no image, emphasis or HTML
                assert c.type in ("text", "code_inline", "link_open", "link_close"), c
                assert c.type != "link_open" or c.attrGet("href") in links, c
            row.append(inline.content)
        elif token.type == "tr_close":
            tables[-1].append(row)
    return tables


def test_check_markdown_is_one_table_row_per_kpi(project: Path) -> None:
    _, out = run(project, "check", ".", "--as-of", AS_OF, "--format", "markdown")
    tables = _markdown_tables(out)
    rows = [row for table in tables for row in table[1:]]
    assert len(rows) == 3 and all(len(row) == 10 for row in rows)
    assert out.count("\r") == 0


@pytest.fixture(scope="module")
def site(project: Path) -> Path:
    code, out = run(project, "build", ".", "-o", "site", "--as-of", AS_OF)
    assert code == 0, out
    return project / "site"


def test_markdown_scorecards_hold_their_structure(site: Path) -> None:
    text = (site / "markdown" / "web.md").read_text(encoding="utf-8")
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    heading = tokens[1]
    assert tokens[0].type == "heading_open" and heading.children is not None
    assert [c.type for c in heading.children] == ["text"]  # no link in the title
    assert heading.children[0].content == (
        "Web\\r::error file=evil.yaml::title # [x](https://evil.example) |"
    )
    (table,) = _markdown_tables(text)
    assert len(table) == 4 and all(len(row) == 8 for row in table)
    readme = (site / "markdown" / "README.md").read_text(encoding="utf-8")
    (summary,) = _markdown_tables(readme, links=frozenset({"web.md"}))
    assert len(summary) == 2 and len(summary[1]) == 6


def test_the_site_links_nowhere_it_may_not(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert pages
    for page in pages:
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for tag in soup.find_all(href=True):
            href = str(tag["href"])
            assert link_problem(href) is None, (page, href)
            assert not href.lower().lstrip().startswith(("javascript:", "data:", "vbscript:"))
        for tag in soup.find_all(src=True):  # no request to another host
            src = str(tag["src"])
            assert not re.match(r"[a-z][a-z0-9+.-]*:|//", src, re.I), (page, src)
    kpi = BeautifulSoup((site / "kpi" / "visitors.html").read_text("utf-8"), "html.parser")
    description = kpi.find("div", class_="description")
    assert description is not None
    assert [img["src"] for img in description.find_all("img")] == ["img/chart.png"]
    links = {a.get_text(): a["href"] for a in description.find_all("a")}
    assert links == {
        "pixel": "https://tracker.example/p.gif?u=1",
        "also": "//tracker.example/q.gif",
        "the wiki": "https://wiki.example.com/visitors",
    }
    assert "<img" in description.get_text()  # raw HTML is shown as text


def test_owners_sharing_a_page_name_get_a_page_each(site: Path) -> None:
    def digest(name: str) -> str:
        return hashlib.sha1(name.encode()).hexdigest()[:10]

    owners = {
        "Kari N": site / "owner" / f"kari-n-{digest('Kari N')}.html",
        "kari-n": site / "owner" / f"kari-n-{digest('kari-n')}.html",
    }
    for name, page in owners.items():
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        assert soup.find("h1") is not None and soup.find("h1").get_text(strip=True) == name
        listed = {a["href"].rsplit("/", 1)[-1] for a in soup.select("a[href*='kpi/']")}
        assert listed == {"kari_one.html" if name == "Kari N" else "kari_two.html"}
    tags = sorted(p.name for p in (site / "tag").iterdir())
    assert tags == sorted([f"growth-{digest('Growth')}.html", f"growth-{digest('growth')}.html"])
    index = BeautifulSoup((site / "index.html").read_text("utf-8"), "html.parser")
    hrefs = {a["href"] for a in index.select("a[href^='owner/']")}
    assert {f"owner/{p.name}" for p in owners.values()} <= hrefs


def test_rendering_a_foreign_document_drops_bad_links(project: Path, tmp_path: Path) -> None:
    """A results document from elsewhere is not validated: the renderer still emits no
    disallowed href (the link's title is shown as text)."""
    doc = evaluate_doc(project, as_of=AS_OF)
    kpi = doc["scorecards"][0]["kpis"][0]
    kpi["links"] = [
        {"url": "JaVaScRiPt:alert(1)", "title": "click"},
        {"url": " data:text/html,x", "title": None},
        {"url": "https://ok.example/", "title": "ok"},
    ]
    kpispec.render(doc, tmp_path / "site")
    soup = BeautifulSoup((tmp_path / "site/kpi/visitors.html").read_text("utf-8"), "html.parser")
    hrefs = [str(a["href"]) for a in soup.find_all("a", href=True)]
    assert "https://ok.example/" in hrefs
    assert all(link_problem(href) is None for href in hrefs), hrefs
    assert "click" in soup.get_text() and "data:text/html,x" in soup.get_text()
