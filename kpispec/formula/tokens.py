"""The formula lexer: SQL-expression text to tokens with character offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from kpispec.diagnostics import FormulaProblem


class T(Enum):
    NUMBER = "number"
    STRING = "string"
    IDENT = "name"
    QIDENT = "quoted name"
    KEYWORD = "keyword"
    OP = "operator"
    LPAREN = "'('"
    RPAREN = "')'"
    COMMA = "','"
    EOF = "end of formula"


KEYWORDS = frozenset(
    {
        "and", "or", "not", "in", "between", "is", "null", "like", "case", "when", "then",
        "else", "end", "true", "false", "distinct", "filter", "where",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Token:
    kind: T
    text: str  #: the token's text; keywords lower-cased, strings and quoted names unquoted
    start: int
    end: int

    def describe(self) -> str:
        if self.kind is T.EOF:
            return "the end of the formula"
        if self.kind in (T.KEYWORD, T.OP, T.LPAREN, T.RPAREN, T.COMMA):
            return f"'{self.text}'"
        if self.kind is T.STRING:
            return f"the string '{self.text}'"
        return f"{self.kind.value} '{self.text}'"


class FormulaSyntaxError(FormulaProblem):
    """A syntax problem at a character range of the formula, with an optional hint."""


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op><>|!=|<=|>=|[-+*/=<>])
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<comma>,)
  | (?P<quote>['"])
  """,
    re.VERBOSE,
)


def _quoted(text: str, start: int) -> tuple[str, int]:
    """Read a '...' or "..." token starting at ``start``; a doubled quote escapes it."""
    quote = text[start]
    i = start + 1
    parts: list[str] = []
    while True:
        j = text.find(quote, i)
        if j < 0:
            what = "string" if quote == "'" else "quoted name"
            raise FormulaSyntaxError(
                f"unterminated {what}: missing closing {quote}",
                start,
                len(text),
                f"close it with {quote}; write {quote}{quote} for a {quote} inside it",
            )
        parts.append(text[i:j])
        if text.startswith(quote * 2, j):
            parts.append(quote)
            i = j + 2
            continue
        return "".join(parts), j + 1


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            ch = text[pos]
            hint = None
            if ch == "%":
                hint = "write percentages as arithmetic, e.g. 100 * share(x); `unit: percent` adds the sign"
            elif ch in "`[":
                hint = 'quote odd column names with double quotes: "my column"'
            elif ch == ";":
                hint = "a formula is one expression, without ';'"
            raise FormulaSyntaxError(f"unexpected character {ch!r}", pos, pos + 1, hint)
        kind = m.lastgroup
        end = m.end()
        if kind == "ws":
            pos = end
            continue
        if kind == "quote":
            value, end = _quoted(text, pos)
            tokens.append(Token(T.STRING if text[pos] == "'" else T.QIDENT, value, pos, end))
        elif kind == "number":
            if end < len(text) and (text[end].isalpha() or text[end] == "_"):
                raise FormulaSyntaxError(
                    f"invalid number {text[pos : end + 1]!r}",
                    pos,
                    end + 1,
                    "names start with a letter; quote odd names with double quotes",
                )
            tokens.append(Token(T.NUMBER, m.group(), pos, end))
        elif kind == "ident":
            word = m.group()
            if word.lower() in KEYWORDS:
                tokens.append(Token(T.KEYWORD, word.lower(), pos, end))
            else:
                tokens.append(Token(T.IDENT, word, pos, end))
        elif kind == "op":
            tokens.append(Token(T.OP, m.group(), pos, end))
        elif kind == "lparen":
            tokens.append(Token(T.LPAREN, "(", pos, end))
        elif kind == "rparen":
            tokens.append(Token(T.RPAREN, ")", pos, end))
        else:
            tokens.append(Token(T.COMMA, ",", pos, end))
        pos = end
    tokens.append(Token(T.EOF, "", len(text), len(text)))
    return tokens
