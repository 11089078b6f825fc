"""Text from a spec or from the data, made safe for the place kpispec writes it to.

A name, title, key, file name or CSV header is untrusted: a spec may come from a pull request
and the data from anywhere. Each output has one rule, here:

* :func:`one_line`: every line kpispec prints (diagnostics, ``check``, ``eval``, ``test``,
  GitHub workflow commands) starts with kpispec's own text, so a line break or another
  control character inside a name is shown as an escape (``\\n``) and cannot start a line a
  CI runner would read as a command (``::error ...``) or move a terminal's cursor;
* :func:`markdown_text`: a name in a Markdown table cell or heading cannot add Markdown
  structure (emphasis, links, images, HTML, a new row);
* :func:`json_lines`: JSON whose every line by any reader's count is a line of JSON;
* :func:`xml_text`: text that XML 1.0 can hold (JUnit reports);
* :func:`link_problem` and :func:`safe_href`: the links a page may carry (http, https,
  mailto and relative ones).
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import unquote

#: Characters no printed line may carry raw: C0 and C1 controls (line feed, carriage return,
#: vertical tab, form feed, NEL, escape, ...), DEL, the Unicode line and paragraph
#: separators, the bidirectional controls (which reorder what a reader sees), and lone
#: surrogates (the bytes of a file name that is not UTF-8).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: str, *, keep: str = "") -> str:
    """``text`` on one line, every control character shown as an escape (``a\\nb``).

    ``keep`` names characters the caller escapes its own way (GitHub's workflow commands
    write a line feed as ``%0A``).
    """
    if keep:
        return _UNSAFE.sub(lambda m: m.group() if m.group() in keep else _escape_char(m), text)
    return _UNSAFE.sub(_escape_char, text)


#: ASCII punctuation that means something inline in CommonMark or GitHub's Markdown:
#: emphasis, code, links and images, raw HTML, entities, table pipes, strikethrough, math,
#: a heading's closing ``#`` and the escape character itself.
_MARKDOWN = re.compile(r"([\\`*_\[\]!|~#$])")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def markdown_text(text: str) -> str:
    """``text`` as literal Markdown inline text: one line, with its punctuation escaped
    (``&``, ``<`` and ``>`` as HTML entities, which every renderer reads as text).

    Fit for a table cell (``|`` is escaped too) and a heading; a line break, which would end
    a table row or a heading (cmark-gfm also ends a line at a lone carriage return), is shown
    as ``\\n``.
    """
    text = re.sub("[&<>]", lambda m: _ENTITIES[m.group()], one_line(text))
    return _MARKDOWN.sub(r"\\\1", text)


#: What ``json.dumps(..., ensure_ascii=False)`` leaves raw although some reader ends a
#: line there (NEL, U+2028, U+2029) or a terminal acts on it (C1 controls, DEL).
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def json_lines(text: str) -> str:
    """Serialized JSON with the line separators it left raw written as ``\\uXXXX``.

    Such characters only occur inside JSON strings, where the escape means the same.
    """
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """Text XML 1.0 can hold: the characters it forbids become U+FFFD."""
    return _XML_ILLEGAL.sub("\ufffd", text)


# ---------------------------------------------------------------- links

#: The schemes a link on the site may use; anything else (javascript:, data:, vbscript:,
#: file:, ...) could run code in the reader's browser or open something on their machine.
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
#: What a browser ignores in a URL (WHATWG URL standard): C0 controls and spaces around it,
#: and tabs and line breaks anywhere (``java\tscript:`` is ``javascript:``).
_BROWSER_STRIPS = re.compile("[\t\n\r]")
_EDGES = re.compile("^[\x00-\x20]+|[\x00-\x20]+$")
#: Controls and invisible characters a link has no business holding.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def _readings(url: str) -> list[str]:
    """The ways a browser, an HTML parser or a Markdown renderer may read ``url``."""
    out = []
    for text in (url, html.unescape(url), unquote(url), unquote(html.unescape(url))):
        for form in (text, unicodedata.normalize("NFKC", text)):
            out.append(_EDGES.sub("", _BROWSER_STRIPS.sub("", form)))
    return out


def url_scheme(url: str) -> str | None:
    """The scheme of ``url`` in lower case (``https``), or None for a relative link."""
    match = _SCHEME.match(url)
    return match.group(1).lower() if match else None


def link_problem(url: str) -> str | None:
    """Why ``url`` may not be a link on a page, or None when it may.

    Allowed: ``http:``, ``https:``, ``mailto:`` and relative links. The scheme is judged in
    every reading a browser could make of the text (case, surrounding or embedded control
    characters, HTML character references, percent-encoding, compatibility forms), so no
    spelling of ``javascript:`` passes.
    """
    if _CONTROL.search(url) or url != url.strip():
        return "holds a control character, or space around it"
    for reading in _readings(url):
        scheme = url_scheme(reading) or url_scheme(_CONTROL.sub("", reading))
        if scheme is not None and scheme not in ALLOWED_SCHEMES:
            return f"uses the scheme `{scheme}:`"
    return None


def safe_href(url: str | None) -> str | None:
    """``url`` if a page may link to it, else None (the link is then shown as text)."""
    if not url or link_problem(url) is not None:
        return None
    return url


def is_local(url: str) -> bool:
    """Whether ``url`` stays on the site: relative, without a scheme or a host (``//``)."""
    for reading in _readings(url):
        if url_scheme(reading) is not None or re.match(r"^[/\\]{2}", reading) or "\\" in reading:
            return False
    return True
