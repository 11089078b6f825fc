"""The formula front end: parse trees, precedence, and syntax errors at exact offsets."""

from __future__ import annotations

import pytest

from kpispec.formula.analysis import Level, analyze
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
from kpispec.formula.parser import parse
from kpispec.formula.tokens import FormulaSyntaxError


def show(node: Node) -> str:
    """A fully parenthesised rendering, written here independently of the code."""
    match node:
        case Literal(value=None):
            return "null"
        case Literal(value=str() as v):
            return repr(v)
        case Literal(value=v):
            return str(v).lower() if isinstance(v, bool) else str(v)
        case Name(name=n, quoted=q):
            return f'"{n}"' if q else n
        case Unary(op=op, operand=o):
            return f"({op} {show(o)})"
        case Binary(op=op, left=a, right=b):
            return f"({show(a)} {op} {show(b)})"
        case InList(operand=o, items=items, negated=neg):
            return f"({show(o)} {'not in' if neg else 'in'} [{', '.join(map(show, items))}])"
        case Between(operand=o, low=lo, high=hi, negated=neg):
            return f"({show(o)} {'not between' if neg else 'between'} {show(lo)} {show(hi)})"
        case IsNull(operand=o, negated=neg):
            return f"({show(o)} is {'not null' if neg else 'null'})"
        case Like(operand=o, pattern=p, negated=neg):
            return f"({show(o)} {'not like' if neg else 'like'} {show(p)})"
        case Case(operand=o, whens=whens, default=d):
            parts = " ".join(f"when {show(c)} then {show(v)}" for c, v in whens)
            head = f"case {show(o)} " if o is not None else "case "
            tail = f" else {show(d)}" if d is not None else ""
            return f"{head}{parts}{tail} end"
        case Call(name=n, args=args, star=star, distinct=dist, filter=f):
            inner = "*" if star else ("distinct " if dist else "") + ", ".join(map(show, args))
            where = f" filter {show(f)}" if f is not None else ""
            return f"{n}({inner}){where}"
    raise AssertionError(node)


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("(1 + 2) * 3", "((1 + 2) * 3)"),
        ("8 / 4 / 2", "((8 / 4) / 2)"),
        ("-x * 2", "((- x) * 2)"),
        ("a or b and not c", "(a or (b and (not c)))"),
        ("not a = b", "(not (a = b))"),
        ("a != b", "(a <> b)"),
        ("x between 1 and 2 and y", "((x between 1 2) and y)"),
        ("x not in ('a', 'b')", "(x not in ['a', 'b'])"),
        ("x is not null or y is null", "((x is not null) or (y is null))"),
        ("name not like 'a%'", "(name not like 'a%')"),
        ('"odd name" + 1', '("odd name" + 1)'),
        ("'it''s'", '"it\'s"'),
        ("COUNT(*)", "count(*)"),
        ("count(distinct visitor_id)", "count(distinct visitor_id)"),
        ("sum(amount) filter (where completed)", "sum(amount) filter completed"),
        ("percentile(x, 0.95)", "percentile(x, 0.95)"),
        ("case when a > 1 then 'hi' else 'lo' end", "case when (a > 1) then 'hi' else 'lo' end"),
        ("case channel when 'email' then 1 end", "case channel when 'email' then 1 end"),
        ("1e3 + .5", "(1000.0 + 0.5)"),
        ("TRUE and False or NULL", "((true and false) or null)"),
    ],
)
def test_parse(text: str, tree: str) -> None:
    assert show(parse(text)) == tree


@pytest.mark.parametrize(
    ("text", "start", "message"),
    [
        ("sum(x", 5, "expected ')', got the end of the formula"),
        ("1 +", 3, "expected a value, got the end of the formula"),
        ("sum(clicks) sum(x)", 12, "unexpected name 'sum' after a complete expression"),
        ("sum(x))", 6, "unexpected ')' after a complete expression"),
        ("a < b < c", 6, "comparisons cannot be chained (< ... <)"),
        ("'open", 0, "unterminated string: missing closing '"),
        ('"open', 0, 'unterminated quoted name: missing closing "'),
        ("x % 2", 2, "unexpected character '%'"),
        ("x is 1", 5, "expected 'null', got number '1'"),
        ("x in 1", 5, "expected '(', got number '1'"),
        ("case when x then 1", 18, "expected 'end', got the end of the formula"),
        ("sum(x) filter where x", 14, "expected '(', got 'where'"),
        ("2x", 0, "invalid number '2x'"),
        ("", 0, "the formula is empty"),
    ],
)
def test_syntax_errors(text: str, start: int, message: str) -> None:
    with pytest.raises(FormulaSyntaxError) as err:
        parse(text)
    assert err.value.message == message
    assert err.value.start == start


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(FormulaSyntaxError, match="nests too deeply"):
        parse("(" * 500 + "1" + ")" * 500)
    with pytest.raises(FormulaSyntaxError, match="nests too deeply"):
        parse("-" * 500 + "1")


def codes(
    text: str, level: Level = Level.KPI, kpis: tuple[str, ...] = (), columns=None
) -> list[tuple[str, int]]:
    info = analyze(parse(text), level, kpi_ids=kpis, columns=columns)
    return [(p.code, p.start) for p in info.problems]


def test_levels() -> None:
    assert codes("100 * sum(clicks) / sum(impressions)") == []
    assert codes("clicks / 2", columns={"clicks"}) == [("E303", 0)]
    assert codes('"clicks" / 2') == [("E303", 0)]
    assert codes("sum(max(x))") == [("E304", 4)]
    assert codes("sum(x) > 1", Level.FILTER) == [("E305", 0)]
    assert codes("revenue / ad_spend", kpis=("revenue", "ad_spend")) == []
    assert codes("revenue / ad_spnd", kpis=("revenue", "ad_spend")) == [("E307", 10)]
    assert codes("count(*) / period_days") == []
    assert codes("sum(x) filter (where at >= period_start)") == []


def test_functions() -> None:
    assert codes("summ(x)") == [("E301", 0)]
    assert codes("sum(x, y)") == [("E302", 0)]
    assert codes("sum(*)") == [("E302", 0)]
    assert codes("sum(distinct x)") == [("E302", 0)]
    assert codes("percentile(x, 95)") == [("E309", 14)]
    assert codes("percentile(x, 0.95)") == []
    assert codes("avg(date_diff('week', a, b))") == [("E309", 14)]
    assert codes("avg(date_diff('HOUR', a, b))") == []
    assert codes("round(avg(x), 1.5)") == [("E309", 14)]
    assert codes("coalesce(sum(x), 0) filter (where y)") == [("E312", 20)]


def test_references_are_collected() -> None:
    info = analyze(parse("a + sum(x) filter (where y > 0) + b + a"), Level.KPI, kpi_ids=("a", "b"))
    assert info.kpi_ids == ["a", "b"]
    assert info.column_names == ["x", "y"]
    assert [c.name for c in info.aggregates] == ["sum"]
