"""`kpispec comment`: one pull-request (merge-request) comment, created once, then updated.

Every run is `python -m kpispec comment ...` in a subprocess against a real HTTP server on
127.0.0.1 that imitates the GitHub and GitLab endpoints: it keeps the comments in memory
and records every request it gets (method, path, headers, JSON body). The tests assert on
those requests and on the comments the server holds afterwards.

Exit statuses (docs/cli.md): 0 posted, 2 a missing setting (E010) or an unreadable body
file (E100), 3 the API refused or could not be reached (D111).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from kpispec.comment import CUT_NOTE, fit, is_ours, with_marker

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "ghs_s3cretT0kenValue"
MARKER = "<!-- kpispec:diff -->"
LIMIT = 65_536


# ------------------------------------------------------------------ the fake API


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  #: names in lower case
    body: Any


@dataclass
class Api:
    """The state of the fake API: comments per thread, and every request it got."""

    port: int = 0
    threads: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    #: Comments per page of a listing, whatever per_page asks for.
    page_size: int = 100
    #: Answer every request with this status and JSON body instead.
    refuse: tuple[int, dict[str, Any]] | None = None
    #: The methods :attr:`refuse` applies to.
    refused_methods: frozenset[str] = frozenset({"GET", "POST", "PATCH", "PUT"})
    #: Answer every request with a redirect to this URL instead.
    redirect: str | None = None
    #: The host part of the next-page links (default: this server).
    next_host: str | None = None
    next_id: int = 1000

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def comments(self, thread: str) -> list[dict[str, Any]]:
        return self.threads.setdefault(thread, [])

    def seed(self, thread: str, body: str, author: str = "alice") -> int:
        self.next_id += 1
        self.comments(thread).append({"id": self.next_id, "body": body, "author": author})
        return self.next_id

    def writes(self) -> list[Seen]:
        return [r for r in self.requests if r.method != "GET"]


def _handler(api: Api) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self, status: int, data: object, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(data).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            seen = Seen(
                self.command,
                parts.path,
                parse_qs(parts.query),
                {k.lower(): v for k, v in self.headers.items()},
                json.loads(raw) if raw else None,
            )
            api.requests.append(seen)
            if api.redirect is not None:
                self.send_response(301)
                self.send_header("Location", api.redirect)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if api.refuse is not None and self.command in api.refused_methods:
                self._answer(*api.refuse)
                return
            segments = parts.path.strip("/").split("/")
            if segments[:1] == ["repos"]:
                self._github(seen, segments[1:])
            elif segments[:3] == ["api", "v4", "projects"]:
                self._gitlab(seen, segments[3:])
            else:
                self._answer(404, {"message": "Not Found"})

        def _page(self, seen: Seen, thread: str, style: str) -> None:
            comments = api.comments(thread)
            page = int(seen.query.get("page", ["1"])[0])
            size = api.page_size
            chunk = comments[(page - 1) * size : page * size]
            headers: dict[str, str] = {}
            if page * size < len(comments):
                if style == "link":
                    host = api.next_host or api.url
                    headers["Link"] = (
                        f'<{host}{seen.path}?per_page={size}&page={page + 1}>; rel="next", '
                        f'<{host}{seen.path}?per_page={size}&page=99>; rel="last"'
                    )
                else:
                    headers["X-Next-Page"] = str(page + 1)
            elif style == "x-next-page":
                headers["X-Next-Page"] = ""
            self._answer(200, [self._shown(c, thread) for c in chunk], headers)

        def _shown(self, comment: dict[str, Any], thread: str) -> dict[str, Any]:
            shown = {"id": comment["id"], "body": comment["body"]}
            if thread.startswith("github"):
                shown["user"] = {"login": comment["author"]}
                shown["html_url"] = f"https://github.example/{thread}#issuecomment-{comment['id']}"
            else:
                shown["author"] = {"username": comment["author"]}
            return shown

        def _create(self, seen: Seen, thread: str) -> None:
            api.next_id += 1
            comment = {"id": api.next_id, "body": seen.body["body"], "author": "kpispec-bot"}
            api.comments(thread).append(comment)
            self._answer(201, self._shown(comment, thread))

        def _update(self, seen: Seen, comment_id: int, platform: str) -> None:
            for thread, comments in api.threads.items():
                for comment in comments:
                    if comment["id"] == comment_id and thread.startswith(platform):
                        comment["body"] = seen.body["body"]
                        self._answer(200, self._shown(comment, thread))
                        return
            self._answer(404, {"message": "Not Found"})

        def _github(self, seen: Seen, segments: list[str]) -> None:
            match segments:
                case [owner, repo, "issues", "comments", comment_id] if self.command == "PATCH":
                    self._update(seen, int(comment_id), "github")
                case [owner, repo, "issues", number, "comments"]:
                    thread = f"github/{owner}/{repo}/{number}"
                    if self.command == "GET":
                        self._page(seen, thread, "link")
                    elif self.command == "POST":
                        self._create(seen, thread)
                    else:
                        self._answer(405, {"message": "Method Not Allowed"})
                case _:
                    self._answer(404, {"message": "Not Found"})

        def _gitlab(self, seen: Seen, segments: list[str]) -> None:
            match segments:
                case [project, "merge_requests", iid, "notes"]:
                    thread = f"gitlab/{project}/{iid}"
                    if self.command == "GET":
                        self._page(seen, thread, "x-next-page")
                    elif self.command == "POST":
                        self._create(seen, thread)
                    else:
                        self._answer(405, {"message": "405 Method Not Allowed"})
                case [project, "merge_requests", iid, "notes", note_id] if self.command == "PUT":
                    self._update(seen, int(note_id), "gitlab")
                case _:
                    self._answer(404, {"message": "404 Not found"})

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

    return Handler


def _serve() -> Iterator[Api]:
    api = Api()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    api.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def api() -> Iterator[Api]:
    yield from _serve()


@pytest.fixture
def elsewhere() -> Iterator[Api]:
    """A second server: another host, as far as URLs go (another port)."""
    yield from _serve()


# ------------------------------------------------------------------ running the CLI


@dataclass
class Run:
    code: int
    out: str
    err: str


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without CI variables (the suite may itself run in CI)."""
    prefixes = ("GITHUB_", "GITLAB_", "CI_", "GH_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    for name in (
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ):
        env.pop(name, None)  # the fake API is on 127.0.0.1
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.update(extra)
    return env


def github_env(api: Api, **extra: str) -> dict[str, str]:
    return {
        "GITHUB_API_URL": api.url,
        "GITHUB_REPOSITORY": "acme/kpis",
        "GITHUB_TOKEN": TOKEN,
        **extra,
    }


def gitlab_env(api: Api, **extra: str) -> dict[str, str]:
    return {
        "GITLAB_CI": "true",
        "CI_API_V4_URL": f"{api.url}/api/v4",
        "CI_PROJECT_ID": "4242",
        "CI_MERGE_REQUEST_IID": "3",
        "GITLAB_TOKEN": "glpat-s3cretGitLabT0ken",
        **extra,
    }


def comment(*args: str, cwd: Path, env: dict[str, str], stdin: str | None = None) -> Run:
    result = subprocess.run(
        [sys.executable, "-m", "kpispec", "comment", *args],
        cwd=cwd,
        env=clean_env(**env),
        input=stdin.encode("utf-8") if stdin is not None else None,
        capture_output=True,
        timeout=120,
    )
    out, err = result.stdout.decode("utf-8"), result.stderr.decode("utf-8")
    assert "Traceback" not in err, err
    return Run(result.returncode, out, err)


def body_file(tmp_path: Path, text: str, name: str = "report.md") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return str(path)


GITHUB_THREAD = "github/acme/kpis/7"
GITHUB_LIST = "/repos/acme/kpis/issues/7/comments"


# ------------------------------------------------------------------ GitHub


def test_the_first_run_creates_the_comment_and_the_second_updates_it(
    api: Api, tmp_path: Path
) -> None:
    first = comment(
        body_file(tmp_path, "## KPI diff\n\nno change\n"),
        "--pr",
        "7",
        cwd=tmp_path,
        env=github_env(api),
    )
    assert first.code == 0, first.err
    assert [(r.method, r.path) for r in api.requests] == [
        ("GET", GITHUB_LIST),
        ("POST", GITHUB_LIST),
    ]
    assert api.requests[0].query == {"per_page": ["100"]}
    assert api.requests[1].body == {"body": f"{MARKER}\n## KPI diff\n\nno change\n"}
    [created] = api.comments(GITHUB_THREAD)
    assert created["body"] == f"{MARKER}\n## KPI diff\n\nno change\n"
    assert first.out == ""
    assert first.err == (
        f"created comment {created['id']} on pull request #7 "
        f"(https://github.example/{GITHUB_THREAD}#issuecomment-{created['id']})\n"
    )

    api.requests.clear()
    second = comment(
        body_file(tmp_path, "## KPI diff\n\n1 KPI changed\n"),
        "--pr",
        "7",
        cwd=tmp_path,
        env=github_env(api),
    )
    assert second.code == 0, second.err
    assert [(r.method, r.path) for r in api.requests] == [
        ("GET", GITHUB_LIST),
        ("PATCH", f"/repos/acme/kpis/issues/comments/{created['id']}"),
    ]
    assert api.requests[1].body == {"body": f"{MARKER}\n## KPI diff\n\n1 KPI changed\n"}
    assert api.comments(GITHUB_THREAD) == [
        {
            "id": created["id"],
            "body": f"{MARKER}\n## KPI diff\n\n1 KPI changed\n",
            "author": "kpispec-bot",
        }
    ]
    assert second.err.startswith(f"updated comment {created['id']} on pull request #7 ")


def test_every_request_carries_the_token_and_githubs_headers(api: Api, tmp_path: Path) -> None:
    run = comment(body_file(tmp_path, "report\n"), "--pr", "7", cwd=tmp_path, env=github_env(api))
    assert run.code == 0, run.err
    assert len(api.requests) == 2
    for seen in api.requests:
        assert seen.headers["authorization"] == f"Bearer {TOKEN}"
        assert seen.headers["accept"] == "application/vnd.github+json"
        assert seen.headers["x-github-api-version"] == "2022-11-28"
        assert seen.headers["user-agent"] == "kpispec"
        assert seen.headers["content-type"] == "application/json"
        assert "private-token" not in seen.headers
    assert TOKEN not in run.out + run.err


def test_gh_token_is_used_when_github_token_is_not_set(api: Api, tmp_path: Path) -> None:
    env = github_env(api)
    del env["GITHUB_TOKEN"]
    run = comment(
        body_file(tmp_path, "x\n"), "--pr", "7", cwd=tmp_path, env={**env, "GH_TOKEN": "gho_other"}
    )
    assert run.code == 0, run.err
    assert {r.headers["authorization"] for r in api.requests} == {"Bearer gho_other"}


def test_comments_of_others_are_left_alone(api: Api, tmp_path: Path) -> None:
    others = {
        api.seed(GITHUB_THREAD, "Looks good to me"): "Looks good to me",
        # the marker, but not as the first line: not ours
        api.seed(GITHUB_THREAD, f"quoting the bot:\n{MARKER}\nold report"): (
            f"quoting the bot:\n{MARKER}\nold report"
        ),
        # another marker
        api.seed(
            GITHUB_THREAD, "<!-- kpispec:weekly -->\nweekly"
        ): "<!-- kpispec:weekly -->\nweekly",
        api.seed(GITHUB_THREAD, f"{MARKER}-not\nnearly"): f"{MARKER}-not\nnearly",
    }
    run = comment(body_file(tmp_path, "report\n"), "--pr", "7", cwd=tmp_path, env=github_env(api))
    assert run.code == 0, run.err
    assert [r.method for r in api.writes()] == ["POST"]
    comments = api.comments(GITHUB_THREAD)
    assert {c["id"]: c["body"] for c in comments[:4]} == others
    assert comments[4]["body"] == f"{MARKER}\nreport\n"
    assert len(comments) == 5


def test_our_comment_is_found_on_the_second_page(api: Api, tmp_path: Path) -> None:
    api.page_size = 2
    api.seed(GITHUB_THREAD, "first")
    api.seed(GITHUB_THREAD, "second")
    ours = api.seed(GITHUB_THREAD, f"{MARKER}\nold report", author="kpispec-bot")
    api.seed(GITHUB_THREAD, "fourth")
    later = api.seed(GITHUB_THREAD, f"{MARKER}\na later copy", author="kpispec-bot")
    run = comment(
        body_file(tmp_path, "new report\n"), "--pr", "7", cwd=tmp_path, env=github_env(api)
    )
    assert run.code == 0, run.err
    gets = [r for r in api.requests if r.method == "GET"]
    assert [(r.path, r.query.get("page")) for r in gets[:2]] == [
        (GITHUB_LIST, None),
        (GITHUB_LIST, ["2"]),
    ]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in gets)
    assert [(r.method, r.path) for r in api.writes()] == [
        ("PATCH", f"/repos/acme/kpis/issues/comments/{ours}")
    ]
    bodies = {c["id"]: c["body"] for c in api.comments(GITHUB_THREAD)}
    assert bodies[ours] == f"{MARKER}\nnew report\n"
    assert bodies[later] == f"{MARKER}\na later copy"  # the oldest is updated, none deleted
    assert len(bodies) == 5


def test_a_next_page_on_another_host_is_not_fetched(
    api: Api, elsewhere: Api, tmp_path: Path
) -> None:
    api.page_size = 1
    api.next_host = elsewhere.url
    api.seed(GITHUB_THREAD, "first")
    api.seed(GITHUB_THREAD, f"{MARKER}\nold")
    run = comment(body_file(tmp_path, "new\n"), "--pr", "7", cwd=tmp_path, env=github_env(api))
    assert run.code == 3
    assert "error[D111]" in run.err and "another host" in run.err
    assert elsewhere.requests == []
    assert api.writes() == []
    assert TOKEN not in run.out + run.err


def test_a_redirect_is_not_followed(api: Api, elsewhere: Api, tmp_path: Path) -> None:
    api.redirect = f"{elsewhere.url}{GITHUB_LIST}"
    run = comment(body_file(tmp_path, "new\n"), "--pr", "7", cwd=tmp_path, env=github_env(api))
    assert run.code == 3
    assert "error[D111]" in run.err and "301" in run.err
    assert [r.method for r in api.requests] == ["GET"]
    assert elsewhere.requests == []
    assert TOKEN not in run.out + run.err


def test_the_marker_is_not_doubled(api: Api, tmp_path: Path) -> None:
    text = f"{MARKER}\n## KPI diff\n"
    run = comment(body_file(tmp_path, text), "--pr", "7", cwd=tmp_path, env=github_env(api))
    assert run.code == 0, run.err
    [post] = api.writes()
    assert post.body == {"body": text}
    assert api.comments(GITHUB_THREAD)[0]["body"] == text


def test_another_marker_names_another_comment(api: Api, tmp_path: Path) -> None:
    diff = api.seed(GITHUB_THREAD, f"{MARKER}\nthe diff")
    run = comment(
        body_file(tmp_path, "weekly\n"),
        "--pr",
        "7",
        "--marker",
        "weekly",
        cwd=tmp_path,
        env=github_env(api),
    )
    assert run.code == 0, run.err
    [post] = api.writes()
    assert (post.method, post.body) == ("POST", {"body": "<!-- kpispec:weekly -->\nweekly\n"})
    assert api.comments(GITHUB_THREAD)[0] == {
        "id": diff,
        "body": f"{MARKER}\nthe diff",
        "author": "alice",
    }


def test_a_marker_that_would_break_the_html_comment_is_refused(api: Api, tmp_path: Path) -> None:
    run = comment(
        body_file(tmp_path, "x\n"),
        "--pr",
        "7",
        "--marker",
        "a -->b",
        cwd=tmp_path,
        env=github_env(api),
    )
    assert run.code == 2
    assert "error[E001]" in run.err and "--marker" in run.err
    assert api.requests == []


def test_an_overlong_body_is_cut_at_a_line_boundary(api: Api, tmp_path: Path) -> None:
    rows = [f"| kpi_{i:05d} | {i * 7 % 1000:>4} | met |\n" for i in range(4000)]
    assert {len(row) for row in rows} == {27}
    head = "## KPI diff\n\n"
    text = head + "".join(rows)
    assert len(text) > 100_000
    run = comment(body_file(tmp_path, text), "--pr", "7", cwd=tmp_path, env=github_env(api))
    assert run.code == 0, run.err
    [post] = api.writes()
    posted = post.body["body"]
    # the marker line, the head, as many whole rows as leave room for "\n" + note + "\n"
    room = LIMIT - len(f"{MARKER}\n") - len(head) - len(f"\n{CUT_NOTE}\n")
    kept = room // 27
    assert kept == 2_422  # (65,536 - 22 - 13 - 90) // 27
    assert posted == f"{MARKER}\n{head}{''.join(rows[:kept])}\n{CUT_NOTE}\n"
    assert len(posted) <= LIMIT < len(posted) + 27


def test_a_body_exactly_at_the_limit_is_whole(api: Api, tmp_path: Path) -> None:
    text = "x" * (LIMIT - len(MARKER) - 2) + "\n"
    assert len(f"{MARKER}\n{text}") == LIMIT
    run = comment(body_file(tmp_path, text), "--pr", "7", cwd=tmp_path, env=github_env(api))
    assert run.code == 0, run.err
    [post] = api.writes()
    assert post.body == {"body": f"{MARKER}\n{text}"}


def test_the_pull_request_number_comes_from_the_event_file(api: Api, tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "opened", "pull_request": {"number": 42}}))
    run = comment(
        body_file(tmp_path, "x\n"), cwd=tmp_path, env=github_env(api, GITHUB_EVENT_PATH=str(event))
    )
    assert run.code == 0, run.err
    assert [(r.method, r.path) for r in api.requests] == [
        ("GET", "/repos/acme/kpis/issues/42/comments"),
        ("POST", "/repos/acme/kpis/issues/42/comments"),
    ]
    assert "on pull request #42" in run.err

    event.write_text(json.dumps({"number": 9}))
    api.requests.clear()
    run = comment(
        body_file(tmp_path, "x\n"), cwd=tmp_path, env=github_env(api, GITHUB_EVENT_PATH=str(event))
    )
    assert run.code == 0, run.err
    assert api.writes()[0].path == "/repos/acme/kpis/issues/9/comments"

    api.requests.clear()
    run = comment(
        body_file(tmp_path, "x\n"),
        "--pr",
        "5",
        cwd=tmp_path,
        env=github_env(api, GITHUB_EVENT_PATH=str(event)),
    )
    assert run.code == 0, run.err
    assert api.writes()[0].path == "/repos/acme/kpis/issues/5/comments"  # --pr wins


def test_an_event_without_a_pull_request_is_e010(api: Api, tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"ref": "refs/heads/main", "after": "abc123"}))
    run = comment(
        body_file(tmp_path, "x\n"),
        cwd=tmp_path,
        env=github_env(api, GITHUB_EVENT_PATH=str(event), GITHUB_EVENT_NAME="push"),
    )
    assert run.code == 2
    assert run.err.startswith("<environment>: error[E010]: no pull request number: a push event")
    assert "--pr" in run.err
    assert api.requests == []


@pytest.mark.parametrize(
    ("remove", "named"),
    [
        ("GITHUB_TOKEN", "GITHUB_TOKEN or GH_TOKEN is not set"),
        ("GITHUB_REPOSITORY", "GITHUB_REPOSITORY is not set"),
    ],
)
def test_a_missing_setting_is_e010(api: Api, tmp_path: Path, remove: str, named: str) -> None:
    env = github_env(api)
    del env[remove]
    run = comment(body_file(tmp_path, "x\n"), "--pr", "7", cwd=tmp_path, env=env)
    assert run.code == 2
    assert run.err.startswith("<environment>: error[E010]: ")
    assert named in run.err
    assert "= hint: " in run.err
    assert api.requests == []


def test_without_a_pull_request_number_it_says_how_to_give_one(api: Api, tmp_path: Path) -> None:
    run = comment(body_file(tmp_path, "x\n"), cwd=tmp_path, env=github_env(api))
    assert run.code == 2
    assert "error[E010]: no pull request number" in run.err
    assert "pass --pr N" in run.err
    assert api.requests == []


def test_a_refusal_is_d111_with_the_apis_message(api: Api, tmp_path: Path) -> None:
    api.refuse = (
        403,
        {
            "message": "Resource not accessible by integration",
            "documentation_url": "https://docs.github.com/rest",
        },
    )
    run = comment(body_file(tmp_path, "x\n"), "--pr", "7", cwd=tmp_path, env=github_env(api))
    assert run.code == 3
    assert run.out == ""
    header, *rest = run.err.splitlines()
    assert header == (
        f"{api.url}{GITHUB_LIST}: error[D111]: cannot list the comments: GitHub answered "
        "403 Forbidden: Resource not accessible by integration"
    )
    assert "pull-requests: write" in rest[0]
    assert TOKEN not in run.out + run.err
    assert [r.method for r in api.requests] == ["GET"]


def test_the_token_is_masked_in_what_the_api_says(api: Api, tmp_path: Path) -> None:
    api.refuse = (401, {"message": f"Bad credentials: {TOKEN} has expired"})
    run = comment(body_file(tmp_path, "x\n"), "--pr", "7", cwd=tmp_path, env=github_env(api))
    assert run.code == 3
    assert "GitHub answered 401 Unauthorized: Bad credentials: *** has expired" in run.err
    assert TOKEN not in run.out + run.err


def test_a_refused_create_names_what_failed(api: Api, tmp_path: Path) -> None:
    api.refuse = (422, {"message": {"body": ["is too long"]}})
    api.refused_methods = frozenset({"POST"})
    run = comment(body_file(tmp_path, "x\n"), "--pr", "7", cwd=tmp_path, env=github_env(api))
    assert run.code == 3
    assert run.err.splitlines()[0] == (
        f"{api.url}{GITHUB_LIST}: error[D111]: cannot create the comment: GitHub answered "
        '422 Unprocessable Entity: {"body": ["is too long"]}'
    )
    assert [r.method for r in api.requests] == ["GET", "POST"]
    assert api.comments(GITHUB_THREAD) == []


def test_an_unreachable_api_is_d111(tmp_path: Path) -> None:
    env = {
        "GITHUB_API_URL": "http://127.0.0.1:1",
        "GITHUB_REPOSITORY": "acme/kpis",
        "GITHUB_TOKEN": TOKEN,
    }
    run = comment(body_file(tmp_path, "x\n"), "--pr", "7", cwd=tmp_path, env=env)
    assert run.code == 3
    assert "error[D111]: cannot list the comments: 127.0.0.1:1 cannot be reached" in run.err
    assert len(run.err.splitlines()) == 2  # the diagnostic and its hint
    assert TOKEN not in run.err


def test_the_body_can_come_from_standard_input(api: Api, tmp_path: Path) -> None:
    run = comment("-", "--pr", "7", cwd=tmp_path, env=github_env(api), stdin="from stdin\n")
    assert run.code == 0, run.err
    assert api.writes()[0].body == {"body": f"{MARKER}\nfrom stdin\n"}


def test_a_missing_body_file_is_e100(api: Api, tmp_path: Path) -> None:
    run = comment("nowhere.md", "--pr", "7", cwd=tmp_path, env=github_env(api))
    assert run.code == 2
    assert run.err.startswith("nowhere.md: error[E100]: cannot read nowhere.md: ")
    assert api.requests == []


def test_a_body_file_that_is_not_utf8_is_e102(api: Api, tmp_path: Path) -> None:
    (tmp_path / "report.md").write_bytes(b"## Tromso\n\nTroms\xf8\n")
    run = comment("report.md", "--pr", "7", cwd=tmp_path, env=github_env(api))
    assert run.code == 2
    assert run.err.startswith("report.md:3:6: error[E102]: file is not valid UTF-8 (byte 0xf8)")
    assert api.requests == []


# ------------------------------------------------------------------ GitLab

GITLAB_NOTES = "/api/v4/projects/4242/merge_requests/3/notes"


def test_gitlab_creates_the_note_then_updates_it_with_put(api: Api, tmp_path: Path) -> None:
    api.seed("gitlab/4242/3", "a reviewer's note")
    first = comment(body_file(tmp_path, "## KPI diff\n"), cwd=tmp_path, env=gitlab_env(api))
    assert first.code == 0, first.err
    assert [(r.method, r.path) for r in api.requests] == [
        ("GET", GITLAB_NOTES),
        ("POST", GITLAB_NOTES),
    ]
    assert api.requests[0].query == {"per_page": ["100"], "sort": ["asc"]}
    assert api.requests[1].body == {"body": f"{MARKER}\n## KPI diff\n"}
    for seen in api.requests:
        assert seen.headers["private-token"] == "glpat-s3cretGitLabT0ken"
        assert "authorization" not in seen.headers
        assert seen.headers["content-type"] == "application/json"
    note = api.comments("gitlab/4242/3")[1]
    assert first.err == f"created comment {note['id']} on merge request !3\n"

    api.requests.clear()
    second = comment(body_file(tmp_path, "## KPI diff, again\n"), cwd=tmp_path, env=gitlab_env(api))
    assert second.code == 0, second.err
    assert [(r.method, r.path) for r in api.requests] == [
        ("GET", GITLAB_NOTES),
        ("PUT", f"{GITLAB_NOTES}/{note['id']}"),
    ]
    assert api.requests[1].body == {"body": f"{MARKER}\n## KPI diff, again\n"}
    assert [n["body"] for n in api.comments("gitlab/4242/3")] == [
        "a reviewer's note",
        f"{MARKER}\n## KPI diff, again\n",
    ]
    assert second.err == f"updated comment {note['id']} on merge request !3\n"
    assert "glpat" not in first.err + second.err


def test_gitlab_pages_follow_x_next_page(api: Api, tmp_path: Path) -> None:
    api.page_size = 1
    api.seed("gitlab/4242/3", "first")
    api.seed("gitlab/4242/3", "second")
    ours = api.seed("gitlab/4242/3", f"{MARKER}\nold")
    run = comment(
        body_file(tmp_path, "new\n"),
        "--platform",
        "gitlab",
        cwd=tmp_path,
        env={k: v for k, v in gitlab_env(api).items() if k != "GITLAB_CI"},
    )
    assert run.code == 0, run.err
    gets = [r for r in api.requests if r.method == "GET"]
    assert [r.query.get("page") for r in gets] == [None, ["2"], ["3"]]
    assert all(r.query["sort"] == ["asc"] for r in gets)
    assert [(r.method, r.path) for r in api.writes()] == [("PUT", f"{GITLAB_NOTES}/{ours}")]


def test_gitlab_without_a_token_says_job_tokens_cannot_write(api: Api, tmp_path: Path) -> None:
    env = gitlab_env(api)
    del env["GITLAB_TOKEN"]
    run = comment(body_file(tmp_path, "x\n"), cwd=tmp_path, env={**env, "CI_JOB_TOKEN": "job"})
    assert run.code == 2
    assert "error[E010]: no token: GITLAB_TOKEN is not set" in run.err
    assert "CI_JOB_TOKEN cannot write" in run.err
    assert api.requests == []


def test_gitlab_outside_a_merge_request_pipeline_is_e010(api: Api, tmp_path: Path) -> None:
    env = gitlab_env(api)
    del env["CI_MERGE_REQUEST_IID"]
    run = comment(body_file(tmp_path, "x\n"), cwd=tmp_path, env=env)
    assert run.code == 2
    assert "error[E010]: no merge request number" in run.err
    assert api.requests == []
    run = comment(body_file(tmp_path, "x\n"), "--pr", "11", cwd=tmp_path, env=env)
    assert run.code == 0, run.err
    assert api.writes()[0].path == "/api/v4/projects/4242/merge_requests/11/notes"


def test_gitlab_refusal_shows_its_message(api: Api, tmp_path: Path) -> None:
    api.refuse = (403, {"message": "403 Forbidden"})
    run = comment(body_file(tmp_path, "x\n"), cwd=tmp_path, env=gitlab_env(api))
    assert run.code == 3
    assert (
        "error[D111]: cannot list the comments: GitLab answered 403 Forbidden: 403 Forbidden"
        in run.err
    )
    assert "`api` scope" in run.err
    assert "glpat" not in run.err


def test_a_gitlab_project_path_is_url_encoded(api: Api, tmp_path: Path) -> None:
    run = comment(
        body_file(tmp_path, "x\n"), cwd=tmp_path, env=gitlab_env(api, CI_PROJECT_ID="group/kpis")
    )
    assert run.code == 0, run.err
    # the server decodes nothing: the path arrives as sent
    assert api.requests[0].path == "/api/v4/projects/group%2Fkpis/merge_requests/3/notes"


# ------------------------------------------------------------------ the body, in process


def test_fit_closes_an_open_code_fence_before_the_note() -> None:
    text = with_marker("## Plan\n\n```text\n" + "a line of the plan\n" * 10_000 + "```\n")
    cut = fit(text, 1_000)
    assert len(cut) <= 1_000
    assert cut.endswith(f"a line of the plan\n```\n\n{CUT_NOTE}\n")
    assert cut.startswith(f"{MARKER}\n## Plan\n\n```text\n")


def test_fit_closes_open_details() -> None:
    text = "<details><summary>all KPIs</summary>\n\n" + "| a | b |\n" * 1_000 + "</details>\n"
    cut = fit(text, 500)
    assert len(cut) <= 500
    assert cut.endswith(f"| a | b |\n</details>\n\n{CUT_NOTE}\n")


def test_fit_keeps_a_short_body_as_it_is() -> None:
    assert fit("short\n", 10) == "short\n"
    assert fit("exactly10!", 10) == "exactly10!"


def test_ours_means_the_marker_as_the_whole_first_line() -> None:
    assert is_ours(f"{MARKER}\nreport")
    assert is_ours(f"{MARKER}\r\nedited in the browser")
    assert is_ours(MARKER)
    assert not is_ours(f" {MARKER}\nreport")
    assert not is_ours(f"{MARKER} and more\nreport")
    assert not is_ours(f"report\n{MARKER}")
    assert with_marker(f"{MARKER}\r\nkept") == f"{MARKER}\r\nkept"
    assert with_marker("") == f"{MARKER}\n"


# ------------------------------------------------------------------ the action's diff mode


def _action_step(step_id_or_name: str) -> dict[str, Any]:
    import yaml

    doc = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    for step in doc["runs"]["steps"]:
        if step_id_or_name in (step.get("id"), step.get("name")):
            return dict(step)
    raise AssertionError(step_id_or_name)


def _run_step(step: dict[str, Any], cwd: Path, values: dict[str, str], env: dict[str, str]) -> Run:
    """A run step of action.yml run by bash as the runner would: each env value is one
    expression, looked up in ``values`` (inputs, github context, step outputs)."""
    import re

    import yaml

    doc = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    inputs = {name: str(spec.get("default", "")) for name, spec in doc["inputs"].items()}
    full = {f"inputs.{k}": v for k, v in inputs.items()} | values
    step_env = {}
    for name, expression in step.get("env", {}).items():
        match = re.fullmatch(r"\$\{\{\s*([\w.-]+)\s*\}\}", str(expression))
        assert match, expression
        step_env[name] = full.get(match.group(1), "")
    bin_dir = str(Path(sys.executable).parent)
    result = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd,
        env=clean_env(**env, **step_env, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}"),
        capture_output=True,
        timeout=120,
    )
    return Run(result.returncode, result.stdout.decode(), result.stderr.decode())


def test_the_actions_diff_mode_comments_once_then_updates(api: Api, tmp_path: Path) -> None:
    from test_diff import AS_OF, commit, edit, git, make_repo

    repo = make_repo(tmp_path)
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "feature")
    edit(repo, "scorecards/shop.yaml", "min: 100", "min: 70")
    commit(repo, "lower the revenue target")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}), encoding="utf-8")
    summary = tmp_path / "summary.md"
    outputs = tmp_path / "outputs.txt"
    values = {
        "inputs.mode": "diff",
        "inputs.as-of": AS_OF,
        "inputs.periods": "0",
        "inputs.token": TOKEN,
        "github.event.pull_request.base.sha": base,
        "github.event_name": "pull_request",
    }
    env = {
        **github_env(api),
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
        "RUNNER_TEMP": str(tmp_path),
    }
    env.pop("GITHUB_TOKEN")  # the action passes the token input to the step itself

    def run_both() -> tuple[Run, Run]:
        outputs.write_text("", encoding="utf-8")
        diffed = _run_step(_action_step("diff"), repo, values, env)
        body = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if line)
        posted = _run_step(
            _action_step("Comment on the pull request"),
            repo,
            {**values, "steps.diff.outputs.body": body["body"]},
            env,
        )
        return diffed, posted

    diffed, posted = run_both()
    assert diffed.code == 0, diffed.err
    assert "title=KPI Revenue%3A missed → met in 2026-10" in diffed.out
    assert posted.code == 0, posted.err
    assert posted.err.startswith("created comment ")
    (created,) = api.comments(GITHUB_THREAD)
    assert created["body"].startswith("<!-- kpispec:diff -->\n## KPI diff: ")
    assert "❌ missed → ✅ met" in created["body"]
    assert created["body"] in summary.read_text(encoding="utf-8")
    assert [r.headers["authorization"] for r in api.writes()] == [f"Bearer {TOKEN}"]

    edit(repo, "scorecards/shop.yaml", "min: 70", "min: 60")
    commit(repo, "lower it more")
    diffed, posted = run_both()
    assert diffed.code == 0 and posted.code == 0, (diffed.err, posted.err)
    assert posted.err.startswith(f"updated comment {created['id']} ")
    (updated,) = api.comments(GITHUB_THREAD)
    assert "≥ 60" in updated["body"]
    assert [r.method for r in api.writes()] == ["POST", "PATCH"]

    # check mode leaves both steps idle; a mode that is neither fails the check step
    idle = _run_step(_action_step("diff"), repo, {**values, "inputs.mode": "check"}, env)
    assert idle.code == 0 and idle.out == ""
    wrong = _run_step(_action_step("check"), repo, {**values, "inputs.mode": "dif"}, env)
    assert wrong.code == 2 and "must be check or diff" in wrong.out
