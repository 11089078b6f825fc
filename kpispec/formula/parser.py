"""The formula parser: tokens to an AST, by recursive descent.

Precedence, lowest first: ``or``, ``and``, ``not``, comparisons (``= <> < <= > >=``,
``is [not] null``, ``[not] in``, ``[not] between``, ``[not] like``), ``+ -``, ``* /``,
unary ``- +``. Only the first syntax error is reported: after it, the rest of the
formula cannot be read with confidence.
"""

from __future__ import annotations

from kpispec.formula.nodes import (
    Between,
    Binary,
    Call,
    Case,
    InList,
    IsNull,
    Like,
    Literal,
    Name,
    Node,
    Unary,
)
from kpispec.formula.tokens import FormulaSyntaxError, T, Token, tokenize

_COMPARISONS = {"=", "<>", "!=", "<", "<=", ">", ">="}
#: How deeply parentheses, calls, `case`, `not` and signs may nest (docs/language.md 7.4).
MAX_DEPTH = 64
#: How deep the expression tree may be: each operator of a chain ``a + b + c`` is a level.
#: Bounds the recursion of every stage after the parser (analysis, compilation, Polars).
MAX_TREE_DEPTH = 256
#: The largest integer literal: integers are 64-bit, as in SQL's BIGINT.
MAX_INTEGER = 2**63 - 1


def parse(text: str) -> Node:
    """Parse a formula. Raises :class:`FormulaSyntaxError` with a character range."""
    if not text.strip():
        raise FormulaSyntaxError(
            "the formula is empty", 0, max(1, len(text)), "write an expression such as sum(revenue)"
        )
    node = _Parser(tokenize(text)).parse()
    _check_tree_depth(node)
    return node


def _check_tree_depth(root: Node) -> None:
    """Refuse a tree deeper than :data:`MAX_TREE_DEPTH`, measured without recursion."""
    stack: list[tuple[Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            raise FormulaSyntaxError(
                f"the formula is too deep: more than {MAX_TREE_DEPTH} operators or calls "
                "inside one another",
                node.start,
                node.end,
                "split it: compute parts as KPIs of their own and combine those, "
                "e.g. part_a + part_b",
            )
        # the first child last, so that it is looked at first: errors point at the left
        stack.extend((child, depth + 1) for child in reversed(list(node.children())))


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = -1  # the whole formula is level 0

    # -------------------------------------------------------------- helpers

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind is not T.EOF:
            self.i += 1
        return tok

    def at(self, kind: T, text: str | None = None) -> bool:
        tok = self.tok
        return tok.kind is kind and (text is None or tok.text == text)

    def at_keyword(self, *words: str) -> bool:
        return self.tok.kind is T.KEYWORD and self.tok.text in words

    def accept_keyword(self, word: str) -> Token | None:
        # the hottest helper (every level of the grammar asks for its keyword): inlined
        tok = self.tokens[self.i]
        if tok.kind is T.KEYWORD and tok.text == word:
            self.i += 1
            return tok
        return None

    def expect(self, kind: T, text: str | None = None, hint: str | None = None) -> Token:
        if self.at(kind, text):
            return self.advance()
        wanted = f"'{text}'" if text else kind.value
        raise self.error(f"expected {wanted}, got {self.tok.describe()}", hint)

    def error(
        self, message: str, hint: str | None = None, tok: Token | None = None
    ) -> FormulaSyntaxError:
        tok = tok or self.tok
        return FormulaSyntaxError(message, tok.start, max(tok.end, tok.start + 1), hint)

    # -------------------------------------------------------------- grammar

    def parse(self) -> Node:
        node = self.expression()
        if not self.at(T.EOF):
            tok = self.tok
            hint = None
            if tok.kind is T.RPAREN:
                hint = "this ')' has no matching '('"
            elif tok.kind in (T.IDENT, T.NUMBER, T.LPAREN, T.QIDENT, T.STRING):
                hint = "is an operator such as + or * missing between the two?"
            raise self.error(f"unexpected {tok.describe()} after a complete expression", hint)
        return node

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(
                "the formula nests too deeply", f"formulas nest at most {MAX_DEPTH} levels"
            )

    def expression(self) -> Node:
        self.enter()
        try:
            return self.disjunction()
        finally:
            self.depth -= 1

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.accept_keyword("or"):
            right = self.conjunction()
            node = Binary(node.start, right.end, "or", node, right)
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.accept_keyword("and"):
            right = self.negation()
            node = Binary(node.start, right.end, "and", node, right)
        return node

    def negation(self) -> Node:
        tok = self.accept_keyword("not")
        if tok is not None:
            self.enter()
            try:
                operand = self.negation()
            finally:
                self.depth -= 1
            return Unary(tok.start, operand.end, "not", operand)
        return self.comparison()

    def comparison(self) -> Node:
        left = self.additive()
        tok = self.tok
        if tok.kind is T.OP and tok.text in _COMPARISONS:
            self.advance()
            right = self.additive()
            op = "<>" if tok.text == "!=" else tok.text
            node: Node = Binary(left.start, right.end, op, left, right)
            nxt = self.tok
            if nxt.kind is T.OP and nxt.text in _COMPARISONS:
                raise self.error(
                    f"comparisons cannot be chained ({tok.text} ... {nxt.text})",
                    "combine them with `and`, e.g. a < b and b < c, or use between",
                )
            return node
        if self.accept_keyword("is"):
            negated = self.accept_keyword("not") is not None
            end = self.expect(
                T.KEYWORD, "null", "only `is null` and `is not null` are supported"
            ).end
            return IsNull(left.start, end, left, negated)
        negated = False
        if (
            self.at_keyword("not")
            and self.tokens[self.i + 1].kind is T.KEYWORD
            and self.tokens[self.i + 1].text in ("in", "between", "like")
        ):
            self.advance()
            negated = True
        if self.accept_keyword("in"):
            self.expect(T.LPAREN, hint="write the values in parentheses: x in ('a', 'b')")
            items = [self.expression()]
            while self.at(T.COMMA):
                self.advance()
                items.append(self.expression())
            end = self.expect(
                T.RPAREN, hint="separate values with ',' and close the list with ')'"
            ).end
            return InList(left.start, end, left, tuple(items), negated)
        if self.accept_keyword("between"):
            low = self.additive()
            self.expect(T.KEYWORD, "and", "write x between low and high")
            high = self.additive()
            return Between(left.start, high.end, left, low, high, negated)
        if self.accept_keyword("like"):
            pattern = self.additive()
            return Like(left.start, pattern.end, left, pattern, negated)
        if negated:  # pragma: no cover - guarded by the look-ahead above
            raise self.error("expected in, between or like after not")
        return left

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.tok.kind is T.OP and self.tok.text in ("+", "-"):
            op = self.advance().text
            right = self.multiplicative()
            node = Binary(node.start, right.end, op, node, right)
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while self.tok.kind is T.OP and self.tok.text in ("*", "/"):
            op = self.advance().text
            right = self.unary()
            node = Binary(node.start, right.end, op, node, right)
        return node

    def unary(self) -> Node:
        tok = self.tok
        if tok.kind is T.OP and tok.text in ("-", "+"):
            self.advance()
            self.enter()
            try:
                operand = self.unary()
            finally:
                self.depth -= 1
            return Unary(tok.start, operand.end, tok.text, operand)
        return self.primary()

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind is T.NUMBER:
            self.advance()
            return Literal(tok.start, tok.end, self.number(tok))
        if tok.kind is T.STRING:
            self.advance()
            return Literal(tok.start, tok.end, tok.text)
        if tok.kind is T.QIDENT:
            self.advance()
            if not tok.text:
                raise self.error("a quoted name cannot be empty", tok=tok)
            return Name(tok.start, tok.end, tok.text, quoted=True)
        if tok.kind is T.KEYWORD:
            if tok.text in ("true", "false"):
                self.advance()
                return Literal(tok.start, tok.end, tok.text == "true")
            if tok.text == "null":
                self.advance()
                return Literal(tok.start, tok.end, None)
            if tok.text == "case":
                return self.case()
            hint = None
            if tok.text in ("filter", "where", "distinct", "end", "when", "then", "else"):
                hint = f'`{tok.text}` is a keyword; quote a column of that name: "{tok.text}"'
            raise self.error(f"expected a value, got {tok.describe()}", hint)
        if tok.kind is T.LPAREN:
            self.advance()
            node = self.expression()
            self.expect(T.RPAREN, hint="every '(' needs a matching ')'")
            return node
        if tok.kind is T.IDENT:
            self.advance()
            if self.at(T.LPAREN):
                return self.call(tok)
            return Name(tok.start, tok.end, tok.text)
        hint = None
        if tok.kind is T.EOF:
            hint = "the formula ends too early"
        elif tok.kind is T.OP and tok.text == "*":
            hint = "`*` only stands alone inside count(*)"
        elif (
            tok.kind is T.OP
            and tok.text == "="
            and self.i > 0
            and self.tokens[self.i - 1].text == "="
        ):
            hint = "SQL compares with a single `=`: write a = b"
        raise self.error(f"expected a value, got {tok.describe()}", hint)

    def number(self, tok: Token) -> float | int:
        """The value of a number token; integers beyond 64 bits and infinite decimals are errors."""
        text = tok.text
        if any(c in text for c in ".eE"):
            value = float(text)
            if value in (float("inf"), float("-inf")):
                raise self.error(
                    f"the number {text} is too large (at most about 1.8e308)",
                    "write a smaller number",
                    tok,
                )
            return value
        digits = text.lstrip("0") or "0"
        if len(digits) > len(str(MAX_INTEGER)) or int(digits) > MAX_INTEGER:
            raise self.error(
                f"the integer {_shorten(text)} is too large: integers are at most "
                f"{MAX_INTEGER} (64 bits)",
                f"write it as a decimal, e.g. {digits[0]}.{digits[1:4] or '0'}e{len(digits) - 1}",
                tok,
            )
        return int(digits)

    def case(self) -> Node:
        start = self.advance().start
        operand = None if self.at_keyword("when") else self.expression()
        whens: list[tuple[Node, Node]] = []
        while self.accept_keyword("when"):
            condition = self.expression()
            self.expect(T.KEYWORD, "then", "write case when condition then value ... end")
            whens.append((condition, self.expression()))
        if not whens:
            raise self.error(
                f"expected 'when', got {self.tok.describe()}",
                "write case when condition then value ... end",
            )
        default = self.expression() if self.accept_keyword("else") else None
        end = self.expect(T.KEYWORD, "end", "close a case expression with `end`").end
        return Case(start, end, operand, tuple(whens), default)

    def call(self, name_tok: Token) -> Node:
        self.advance()  # (
        name = name_tok.text.lower()
        star = distinct = False
        args: list[Node] = []
        if self.at(T.OP, "*"):
            self.advance()
            star = True
        elif not self.at(T.RPAREN):
            distinct = self.accept_keyword("distinct") is not None
            args.append(self.expression())
            while self.at(T.COMMA):
                self.advance()
                args.append(self.expression())
        end = self.expect(
            T.RPAREN, hint="separate arguments with ',' and close the call with ')'"
        ).end
        filter_node = None
        filter_start = 0
        if self.at_keyword("filter"):
            filter_start = self.advance().start
            self.expect(T.LPAREN, hint="write filter (where condition)")
            self.expect(T.KEYWORD, "where", "write filter (where condition)")
            filter_node = self.expression()
            end = self.expect(T.RPAREN, hint="close the filter with ')'").end
        return Call(
            name_tok.start,
            end,
            name,
            tuple(args),
            name_tok.end,
            star,
            distinct,
            filter_node,
            filter_start,
        )


def _shorten(text: str, keep: int = 24) -> str:
    return text if len(text) <= keep else f"{text[:keep]}... ({len(text)} digits)"
