"""Environment references and secrets in connection URLs: one rule for the checker and the engine.

A connection URL may name environment variables as ``${NAME}``; they are resolved just
before connecting (kpispec.engine.sources) and are never secrets in the specs. A password
written out in a URL is one (E405).
"""

from __future__ import annotations

import re

#: One ``${NAME}`` reference: letters, digits and ``_``, not starting with a digit.
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

_PASSWORD_KEYS = ("password", "passwd", "pwd")
_KEYWORD_PASSWORD = re.compile(
    r"(?:^|[\s&?;=])(password|passwd|pwd)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&;]*)", re.IGNORECASE
)


def malformed_reference(url: str) -> bool:
    """Whether a ``${`` is left once every well-formed reference is taken out."""
    return "${" in ENV_REFERENCE.sub("", url)


def _literal(value: str) -> bool:
    """A secret written out, as opposed to nothing or one ${ENV} reference."""
    value = value.strip().strip("'\"")
    return bool(value) and not ENV_REFERENCE.fullmatch(value)


def literal_password(url: str) -> str | None:
    """Where a connection URL spells a password out, or None.

    However it is written: in the user-info part (``user:secret@host``), as a query
    parameter whose name is ``password`` once percent-decoded (libpq decodes
    ``pass%77ord``), or as a ``password=`` keyword of a libpq connection string, also
    nested inside another percent-encoded value. ``${ENV}`` references are not secrets.
    """
    from urllib.parse import unquote

    if "://" in url:
        rest = url.split("://", 1)[1]
        head = rest.split("/", 1)[0]  # libpq reads credentials up to the first `/`
        if "@" in head:
            userinfo = head.rsplit("@", 1)[0]
            if ":" in userinfo and _literal(userinfo.split(":", 1)[1]):
                return "after `user:` in the part before `@`"
        if "?" in rest:
            for param in rest.split("?", 1)[1].split("&"):
                key, _, value = param.partition("=")
                name = unquote(key).strip()
                if name.lower() in _PASSWORD_KEYS and _literal(unquote(value)):
                    also = "" if key == name else f", which the driver decodes to `{name}`"
                    return f"query parameter `{key}`{also}"
    decoded = url
    for _ in range(3):  # a value may itself be a percent-encoded connection string
        match = _KEYWORD_PASSWORD.search(decoded)
        if match and _literal(match.group(2)):
            return f"`{match.group(1)}=`"
        decoded = unquote(decoded)
    return None
