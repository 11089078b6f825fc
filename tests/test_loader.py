"""YAML with positions: values, core-schema rules, and character positions in scalars."""

from __future__ import annotations

import pytest

from kpispec.spec.loader import LoadError, load_string

TEXT = """\
plain: 100 * sum(clicks)
quoted: "a \\"b\\" c"
folded: >
  100 * count(*)
    / sum(x)
literal: |
  first line
    second(y)
country: NO
date: 2026-10-01
flag: yes
truth: true
number: 0x1f
base: &base {min: 1, why: loyal customers}
target:
  <<: *base
  min: 3
"""


def test_values_follow_yaml_core_schema() -> None:
    data = load_string(TEXT, "x.yaml").data
    assert data["country"] == "NO"  # not False
    assert data["date"] == "2026-10-01"  # stays a string
    assert data["flag"] == "yes"
    assert data["truth"] is True
    assert data["number"] == 31
    assert data["target"] == {"min": 3, "why": "loyal customers"}


@pytest.mark.parametrize(
    ("key", "needle", "line", "col"),
    [
        ("plain", "sum", 1, 14),
        ("quoted", "b", 2, 14),
        ("folded", "count", 4, 9),
        ("folded", "/", 5, 5),
        ("folded", "x", 5, 11),
        ("literal", "second", 8, 5),
        ("literal", "y", 8, 12),
    ],
)
def test_character_positions(key: str, needle: str, line: int, col: int) -> None:
    doc = load_string(TEXT, "x.yaml")
    snippet = doc.snippet((key,))
    loc = snippet.loc(snippet.text.index(needle))
    assert (loc.line, loc.col) == (line, col)
    # the file's own line at that column really holds the needle
    assert TEXT.splitlines()[line - 1][col - 1 :].startswith(needle)


def test_key_and_value_positions() -> None:
    doc = load_string(TEXT, "x.yaml")
    assert (doc.key_loc(("target", "min")).line, doc.key_loc(("target", "min")).col) == (17, 3)
    assert (doc.loc(("target", "why")).line, doc.loc(("target", "why")).col) == (14, 27)


@pytest.mark.parametrize(
    ("text", "code", "line", "col"),
    [
        ("a: 1\nb: 2\na: 3\n", "E104", 3, 1),
        ("a: [1,\n", "E103", 2, 1),
        ("a:\n\tb: 1\n", "E103", 2, 1),
        ("a: !!python/object:os.system x\n", "E106", 1, 4),
        ("a: 1\n---\nb: 2\n", "E107", 2, 1),
        ("", "E107", 1, 1),
        ("a: &a [*a]\n", "E105", 1, 4),
        ("a: *nowhere\n", "E103", 1, 4),
        ("? [a]\n: 1\n", "E107", 1, 3),
    ],
)
def test_load_errors(text: str, code: str, line: int, col: int) -> None:
    with pytest.raises(LoadError) as err:
        load_string(text, "bad.yaml")
    d = err.value.diagnostic
    assert (d.code, d.loc.line, d.loc.col) == (code, line, col)
    assert d.hint


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
    with pytest.raises(LoadError) as err:
        load_string("\n".join(lines) + "\n", "bomb.yaml")
    assert err.value.diagnostic.code == "E105"


def test_tab_gets_a_hint() -> None:
    with pytest.raises(LoadError) as err:
        load_string("a:\n\tb: 1\n", "tab.yaml")
    assert "tabs" in (err.value.diagnostic.hint or "")
