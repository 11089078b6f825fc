"""Post a Markdown report as one comment on a GitHub pull request or a GitLab merge request.

The first run creates the comment; every later run updates the same one, found again by a
hidden first line, ``<!-- kpispec:MARKER -->``. A comment is ours when its body starts with
that line; of several, the oldest is updated. Nothing is ever deleted.

Only the standard library speaks to the API: one request at a time, 30 seconds each, no
redirect followed (a redirect could carry the token to another host), and no page of a
listing fetched from another host than the API's. The token is sent in a header and never
printed. Missing settings are :class:`CommentSetupError` (E010, exit status 2); an API that
refuses or cannot be reached is :class:`CommentApiError` (D111, exit status 3).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kpispec.diagnostics import Diagnostic, KpispecError, Loc
from kpispec.escaping import one_line

Platform = Literal["github", "gitlab"]
Action = Literal["created", "updated"]

DEFAULT_MARKER = "diff"
#: The longest comment body each platform accepts, in characters.
LIMITS: dict[Platform, int] = {"github": 65_536, "gitlab": 1_000_000}
CUT_NOTE = (
    "_The report was cut to fit a comment; the job summary and `kpispec diff` show it whole._"
)
TIMEOUT = 30.0
PER_PAGE = 100
#: At most this many pages of comments are read (10,000 comments).
MAX_PAGES = 100
#: A marker is words joined by single ``.``, ``_``, ``-``, ``/`` or ``:`` (never ``--``,
#: which would end the HTML comment early in some readers).
_MARKER = re.compile(r"[A-Za-z0-9]+(?:[._/:-][A-Za-z0-9]+)*")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)$")
_LINK_NEXT = re.compile(r'<([^>]*)>\s*;[^,]*\brel="?next"?', re.I)


class CommentSetupError(KpispecError):
    """A setting the comment needs is missing or unusable (exit status 2)."""


class CommentApiError(KpispecError):
    """The API refused the request or could not be reached (exit status 3)."""

    exit_code = 3


@dataclass(frozen=True, slots=True)
class Posted:
    """What :func:`post_comment` did."""

    action: Action
    comment_id: int
    #: The comment's page, when the API returned one (GitHub does, GitLab does not).
    url: str | None
    platform: Platform
    #: The pull request's (GitHub) or merge request's (GitLab) number.
    number: int

    def summary(self) -> str:
        """``created comment 123 on pull request #7``, with the comment's address if known."""
        target = "pull request #" if self.platform == "github" else "merge request !"
        line = f"{self.action} comment {self.comment_id} on {target}{self.number}"
        return line + (f" ({one_line(self.url)})" if self.url else "")


# ---------------------------------------------------------------- the body


def marker_line(marker: str = DEFAULT_MARKER) -> str:
    """The hidden first line that finds the comment again: ``<!-- kpispec:diff -->``."""
    if not _MARKER.fullmatch(marker):
        raise CommentSetupError(
            [
                Diagnostic(
                    "E001",
                    f"invalid --marker '{one_line(marker)}'",
                    Loc("<command line>"),
                    "use letters and digits, joined by single . _ - / or :",
                )
            ]
        )
    return f"<!-- kpispec:{marker} -->"


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0].removesuffix("\r")


def is_ours(body: str, marker: str = DEFAULT_MARKER) -> bool:
    """Whether a comment's body starts with the marker line."""
    return _first_line(body) == marker_line(marker)


def with_marker(body: str, marker: str = DEFAULT_MARKER) -> str:
    """The body with the marker line first (once: a body that starts with it is kept)."""
    line = marker_line(marker)
    return body if _first_line(body) == line else f"{line}\n{body}"


def fit(body: str, limit: int) -> str:
    """The body within ``limit`` characters: whole, or cut after its last line that fits.

    A cut body ends with a blank line and :data:`CUT_NOTE`, after closing a code fence or a
    ``<details>`` block the cut left open, so that the note reads as a note.
    """
    if len(body) <= limit:
        return body
    kept: list[str] = []
    size = 0
    fence: tuple[str, int] | None = None  # the open fence's character and length
    details = 0
    for line in body.split("\n"):
        fence_after, details_after = _after(line, fence, details)
        tail = _tail(fence_after, details_after)
        if size + len(line) + 1 + len(tail) > limit:
            break
        kept.append(line)
        size += len(line) + 1
        fence, details = fence_after, details_after
    return "".join(f"{line}\n" for line in kept) + _tail(fence, details)


def _after(
    line: str, fence: tuple[str, int] | None, details: int
) -> tuple[tuple[str, int] | None, int]:
    """The open code fence and ``<details>`` depth after ``line``."""
    found = _FENCE.match(line.removesuffix("\r"))
    if fence is not None:
        closes = (
            found is not None
            and found.group(1)[0] == fence[0]
            and len(found.group(1)) >= fence[1]
            and not found.group(2).strip()
        )
        return (None if closes else fence), details
    if found is not None and not (found.group(1)[0] == "`" and "`" in found.group(2)):
        return (found.group(1)[0], len(found.group(1))), details
    lower = line.lower()
    opened = len(re.findall(r"<details\b", lower))
    return None, max(0, details + opened - lower.count("</details>"))


def _tail(fence: tuple[str, int] | None, details: int) -> str:
    closing = f"{fence[0] * fence[1]}\n" if fence is not None else ""
    return closing + "</details>\n" * details + f"\n{CUT_NOTE}\n"


def read_body(path: str | Path) -> str:
    """The text of a body file (``-``: standard input), UTF-8; else E100 or E102."""
    name = str(path)
    try:
        raw = sys.stdin.buffer.read() if name == "-" else Path(path).read_bytes()
    except OSError as exc:
        shown = "<stdin>" if name == "-" else name
        raise CommentSetupError(
            [
                Diagnostic(
                    "E100",
                    f"cannot read {one_line(shown)}: {exc.strerror or exc}",
                    Loc(shown),
                    "name the Markdown file to post (`-` reads standard input)",
                )
            ]
        ) from None
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        raise CommentSetupError(
            [
                Diagnostic(
                    "E102",
                    f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                    Loc("<stdin>" if name == "-" else name, line, col),
                    "save the file as UTF-8",
                )
            ]
        ) from None


# ---------------------------------------------------------------- where to post


@dataclass(frozen=True, slots=True)
class _Target:
    platform: Platform
    api: str  #: the API's base URL, without a trailing slash
    comments: str  #: the URL of the pull request's (merge request's) comments
    items: str  #: the URL that one comment's id is appended to
    number: int
    headers: dict[str, str]
    token: str


def _setup_error(message: str, hint: str) -> CommentSetupError:
    return CommentSetupError([Diagnostic("E010", message, Loc("<environment>"), hint)])


def _env(env: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    """The first of ``names`` set to something other than blanks: (name, value)."""
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return name, value
    return None


def _api_url(env: Mapping[str, str], name: str, default: str | None, hint: str) -> str:
    found = _env(env, name)
    if found is None:
        if default is None:
            raise _setup_error(f"{name} is not set", hint)
        return default
    url = found[1].rstrip("/")
    parts = urllib.parse.urlsplit(url)
    try:
        parts.port  # noqa: B018 (a port that is not a number raises)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        usable = False
    if not usable or parts.query or parts.fragment:
        raise _setup_error(f"{name} is not an http(s) URL: '{one_line(found[1])}'", hint)
    return url


def _token(env: Mapping[str, str], names: tuple[str, ...], hint: str) -> str:
    found = _env(env, *names)
    if found is None:
        raise _setup_error(f"no token: {' or '.join(names)} is not set", hint)
    name, token = found
    if not all(33 <= ord(c) < 127 for c in token):  # it goes into a header as it is
        raise _setup_error(
            f"{name} holds spaces or characters a token cannot have", "store the token alone"
        )
    return token


def _number(given: int | None, found: int | None, source: str, hint: str) -> int:
    number = given if given is not None else found
    if number is None:
        raise _setup_error(f"no {source}", hint)
    if number < 1:
        raise CommentSetupError(
            [
                Diagnostic(
                    "E001",
                    f"invalid --pr {number}",
                    Loc("<command line>"),
                    "give the number of the pull request (merge request), 1 or more",
                )
            ]
        )
    return number


def _event_number(env: Mapping[str, str]) -> tuple[int | None, str]:
    """The pull request's number in the GitHub event file, and what was missing if none."""
    found = _env(env, "GITHUB_EVENT_PATH")
    if found is None:
        return None, "pull request number: --pr is not given and GITHUB_EVENT_PATH is not set"
    path = found[1]
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not JSON"
        return None, (
            f"pull request number: cannot read the event file {one_line(path)} ({reason})"
        )
    if isinstance(event, dict):
        pull = event.get("pull_request")
        for value in (pull.get("number") if isinstance(pull, dict) else None, event.get("number")):
            if isinstance(value, int) and not isinstance(value, bool):
                return value, ""
    what = _env(env, "GITHUB_EVENT_NAME")
    event_name = f"a {one_line(what[1])} event" if what else "the event"
    return None, f"pull request number: {event_name} in GITHUB_EVENT_PATH names no pull request"


def _github(env: Mapping[str, str], number: int | None) -> _Target:
    api = _api_url(
        env, "GITHUB_API_URL", "https://api.github.com",
        "set GITHUB_API_URL to the API's URL, e.g. https://api.github.com",
    )  # fmt: skip
    repository = _env(env, "GITHUB_REPOSITORY")
    if repository is None:
        raise _setup_error(
            "GITHUB_REPOSITORY is not set",
            "set GITHUB_REPOSITORY=owner/name (GitHub Actions sets it)",
        )
    owner, _, name = repository[1].partition("/")
    if not owner or not name or "/" in name:
        raise _setup_error(
            f"GITHUB_REPOSITORY is not owner/name: '{one_line(repository[1])}'",
            "set GITHUB_REPOSITORY=owner/name (GitHub Actions sets it)",
        )
    found, missing = (None, "") if number is not None else _event_number(env)
    number = _number(
        number, found, missing,
        "pass --pr N, or run the job on `pull_request` events (GitHub Actions then sets "
        "GITHUB_EVENT_PATH)",
    )  # fmt: skip
    token = _token(
        env, ("GITHUB_TOKEN", "GH_TOKEN"),
        "set GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }} in the step's env, and give the job "
        "`permissions: pull-requests: write`",
    )  # fmt: skip
    repo = f"{api}/repos/{_quote(owner)}/{_quote(name)}"
    return _Target(
        "github",
        api,
        f"{repo}/issues/{number}/comments",
        f"{repo}/issues/comments",
        number,
        {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        },
        token,
    )


def _gitlab(env: Mapping[str, str], number: int | None) -> _Target:
    api = _api_url(
        env, "CI_API_V4_URL", None,
        "set CI_API_V4_URL to the API's URL, e.g. https://gitlab.com/api/v4 (GitLab CI sets it)",
    )  # fmt: skip
    project = _env(env, "CI_PROJECT_ID")
    if project is None:
        raise _setup_error(
            "CI_PROJECT_ID is not set",
            "set CI_PROJECT_ID to the project's id or path (GitLab CI sets it)",
        )
    found: int | None = None
    if number is None:
        iid = _env(env, "CI_MERGE_REQUEST_IID")
        if iid is not None and not iid[1].isdecimal():
            raise _setup_error(
                f"CI_MERGE_REQUEST_IID is not a number: '{one_line(iid[1])}'",
                "pass --pr N with the merge request's number",
            )
        found = int(iid[1]) if iid is not None else None
    number = _number(
        number, found,
        "merge request number: --pr is not given and CI_MERGE_REQUEST_IID is not set",
        "pass --pr N, or run the job in merge request pipelines "
        "(rules: - if: $CI_PIPELINE_SOURCE == \"merge_request_event\")",
    )  # fmt: skip
    token = _token(
        env, ("GITLAB_TOKEN",),
        "store a project access token with the `api` scope as a masked CI/CD variable "
        "GITLAB_TOKEN (CI_JOB_TOKEN cannot write comments)",
    )  # fmt: skip
    comments = f"{api}/projects/{_quote(project[1])}/merge_requests/{number}/notes"
    return _Target(
        "gitlab", api, comments, comments, number,
        {"PRIVATE-TOKEN": token, "Accept": "application/json"}, token,
    )  # fmt: skip


def _quote(part: str) -> str:
    return urllib.parse.quote(part, safe="")


# ---------------------------------------------------------------- HTTP


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuses every redirect: the request would carry the token elsewhere."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: object,
        code: int,
        msg: str,
        headers: object,
        newurl: str,
    ) -> None:
        return None  # urllib then raises the 3xx as an HTTPError


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass(frozen=True, slots=True)
class _Response:
    data: object
    headers: Mapping[str, str]


_DOING = {"GET": "list the comments", "POST": "create the comment"}


def _request(target: _Target, method: str, url: str, body: str | None = None) -> _Response:
    """One request to the API; any failure is a :class:`CommentApiError`."""
    doing = _DOING.get(method, "update the comment")
    payload = None if body is None else json.dumps({"body": body}).encode("utf-8")
    headers = {**target.headers, "User-Agent": "kpispec", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=payload, headers=headers, method=method)
    shown = url.split("?", 1)[0]
    try:
        with _OPENER.open(request, timeout=TIMEOUT) as response:
            raw = response.read()
            answer = dict(response.headers.items())
    except urllib.error.HTTPError as exc:
        with exc:
            text = _safe_read(exc)
        raise _api_error(target, doing, shown, exc.code, exc.reason, text) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        said = str(reason) or type(reason).__name__
        if isinstance(reason, OSError) and reason.strerror:
            said = reason.strerror
        if isinstance(reason, TimeoutError):
            said = f"no answer in {TIMEOUT:.0f} s"
        host = urllib.parse.urlsplit(url).netloc
        raise _api_failure(
            target, shown, f"cannot {doing}: {host} cannot be reached ({said})",
            "check the API's URL, and that the runner can reach it",
        ) from None  # fmt: skip
    try:
        data = json.loads(raw) if raw.strip() else None
    except ValueError:
        raise _api_failure(
            target, shown, f"cannot {doing}: the API's answer is not JSON",
            "check that the URL is the API's, not the web site's",
        ) from None  # fmt: skip
    return _Response(data, answer)


def _safe_read(exc: urllib.error.HTTPError) -> str:
    try:
        return exc.read().decode("utf-8", "replace")
    except (OSError, http.client.HTTPException, ValueError):
        return ""


def _api_message(text: str) -> str:
    """The API's own words: its ``message`` (GitHub, GitLab) or ``error`` field."""
    try:
        data = json.loads(text)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    for key in ("message", "error_description", "error"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
        if value:
            return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return ""


def _scrub(text: str, target: _Target) -> str:
    """One line, at most 300 characters, and never the token (one too short to be a real
    token is left, so as not to mask letters of the message)."""
    if len(target.token) >= 8:
        text = text.replace(target.token, "***")
    flat = one_line(text)
    return flat if len(flat) <= 300 else flat[:299] + "…"


def _api_error(
    target: _Target, doing: str, url: str, status: int, reason: object, text: str
) -> CommentApiError:
    site = "GitHub" if target.platform == "github" else "GitLab"
    message = _api_message(text)
    said = f": {message}" if message else ""
    head = f"cannot {doing}: {site} answered {status} {reason}"
    if 300 <= status < 400:
        hint = "the API's URL redirects; set it to the address the API answers at"
    elif status in (401, 403) and target.platform == "github":
        hint = (
            "the token may not write to the pull request: give the job "
            "`permissions: pull-requests: write` (a pull request from a fork gets a "
            "read-only token)"
        )
    elif status in (401, 403):
        hint = (
            "GITLAB_TOKEN needs the `api` scope and a role that may comment (Reporter is "
            "enough); CI_JOB_TOKEN cannot write comments"
        )
    elif status == 404:
        hint = (
            "check the repository and the pull request's number; a token that cannot see "
            "the repository gets 404 too"
            if target.platform == "github"
            else "check CI_PROJECT_ID and the merge request's number; a token that cannot "
            "see the project gets 404 too"
        )
    else:
        hint = "run the job again; if it goes on failing, check the platform's status page"
    return _api_failure(target, url, head + said, hint)


def _api_failure(target: _Target, url: str, message: str, hint: str) -> CommentApiError:
    return CommentApiError([Diagnostic("D111", _scrub(message, target), Loc(one_line(url)), hint)])


def _next_page(target: _Target, url: str, headers: Mapping[str, str]) -> str | None:
    """The next page of a listing, from ``Link: <...>; rel="next"`` or ``X-Next-Page``."""
    lower = {k.lower(): v for k, v in headers.items()}
    found = _LINK_NEXT.search(lower.get("link", ""))
    if found is not None:
        following = urllib.parse.urljoin(url, str(found.group(1)))
        if _origin(following) != _origin(target.api):  # the token goes only to the API
            raise _api_failure(
                target, url.split("?", 1)[0],
                "cannot list the comments: the next page is on another host "
                f"({one_line(urllib.parse.urlsplit(following).netloc)})",
                "set the API's URL to the address the API answers at",
            )  # fmt: skip
        return following
    page = lower.get("x-next-page", "").strip()
    if page.isdecimal():
        parts = urllib.parse.urlsplit(url)
        query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != "page"]
        query.append(("page", page))
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
    return None


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _find_ours(target: _Target, marker: str) -> int | None:
    """The id of the oldest comment of ours, reading the listing page by page."""
    sort = "" if target.platform == "github" else "&sort=asc"
    url: str | None = f"{target.comments}?per_page={PER_PAGE}{sort}"
    seen: set[str] = set()
    while url is not None and url not in seen and len(seen) < MAX_PAGES:
        seen.add(url)
        response = _request(target, "GET", url)
        if not isinstance(response.data, list):
            raise _api_failure(
                target, url.split("?", 1)[0],
                "cannot list the comments: the API's answer is not a list",
                "check that the URL is the API's",
            )  # fmt: skip
        for comment in response.data:
            if isinstance(comment, dict) and isinstance(comment.get("body"), str):
                comment_id = comment.get("id")
                if is_ours(comment["body"], marker) and isinstance(comment_id, int):
                    return comment_id
        url = _next_page(target, url, response.headers)
    return None


# ---------------------------------------------------------------- posting


def post_comment(
    body: str,
    *,
    platform: Platform | None = None,
    number: int | None = None,
    marker: str = DEFAULT_MARKER,
    env: Mapping[str, str] | None = None,
) -> Posted:
    """Create the comment of ``marker`` on the pull (merge) request, or update it.

    ``platform`` defaults to ``gitlab`` when ``GITLAB_CI`` is set, else ``github``;
    ``number`` to the one of the CI event; ``env`` to ``os.environ``. The body gets the
    marker line first and is cut to the platform's limit (:func:`fit`).
    """
    env = os.environ if env is None else env
    if platform is None:
        platform = "gitlab" if _env(env, "GITLAB_CI") else "github"
    marked = with_marker(body, marker)
    target = _gitlab(env, number) if platform == "gitlab" else _github(env, number)
    text = fit(marked, LIMITS[platform])
    found = _find_ours(target, marker)
    if found is None:
        response = _request(target, "POST", target.comments, text)
        action: Action = "created"
    else:
        method = "PATCH" if platform == "github" else "PUT"
        response = _request(target, method, f"{target.items}/{found}", text)
        action = "updated"
    data = response.data if isinstance(response.data, dict) else {}
    comment_id = data.get("id", found)
    if not isinstance(comment_id, int):
        raise _api_failure(
            target, target.comments, f"the comment was {action}, but the API's answer has no id",
            "check that the URL is the API's",
        )  # fmt: skip
    url = data.get("html_url")
    return Posted(
        action, comment_id, url if isinstance(url, str) else None, platform, target.number
    )
