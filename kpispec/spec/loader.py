"""Read a YAML file into plain data while keeping the position of every node.

The plain data (dicts, lists, str, int, float, bool, None) is what the JSON Schema
validates; the positions let any later stage point at a line and column, down to a
character inside a formula, also inside folded (``>``) and literal (``|``) block scalars.

The YAML rules are deliberately those of YAML 1.2's core schema: only ``true``/``false``
are booleans (so a country code ``NO`` stays a string) and dates stay strings.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kpispec.diagnostics import Diagnostic, Loc, SpecError
from kpispec.files import printable_name

#: Files larger than this are refused (a spec file is text written by people).
MAX_FILE_BYTES = 2 * 1024 * 1024
#: Values built per file, counting each alias expansion: stops "billion laughs".
MAX_NODES = 250_000
MAX_DEPTH = 64

PathKey = tuple[str | int, ...]


class _Resolver(yaml.resolver.BaseResolver):
    """YAML 1.2 core-schema resolution: no yes/no/on/off booleans, no timestamps."""


_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_Resolver.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


if getattr(yaml, "__with_libyaml__", False):
    from yaml._yaml import CParser as _CParser

    class _Composer(_CParser, _Resolver):
        """libyaml's parser and composer, with our resolver."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _Resolver.__init__(self)

else:  # pragma: no cover - PyYAML built without libyaml

    class _Composer(  # type: ignore[no-redef]  # the pure-Python twin of the class above
        yaml.reader.Reader,
        yaml.scanner.Scanner,
        yaml.parser.Parser,
        yaml.composer.Composer,
        _Resolver,
    ):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            _Resolver.__init__(self)


_STR = "tag:yaml.org,2002:str"
_KNOWN_TAGS = {
    _STR,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:merge",
}


@dataclass(frozen=True, slots=True)
class Snippet:
    """A string value with the file position of each of its characters."""

    text: str
    file: str
    lines: tuple[int, ...]
    cols: tuple[int, ...]

    def loc(self, offset: int) -> Loc:
        if not self.lines:
            return Loc(self.file)
        i = min(max(offset, 0), len(self.lines) - 1)
        return Loc(self.file, self.lines[i], self.cols[i])

    def range_loc(self, start: int, end: int) -> Loc:
        """Where the characters ``start:end`` begin, spanning them when on one line."""
        begin, finish = self.loc(start), self.loc(max(start, end - 1))
        length = finish.col - begin.col + 1 if finish.line == begin.line else 1
        return Loc(begin.file, begin.line, begin.col, max(1, length))

    @staticmethod
    def detached(text: str, loc: Loc) -> Snippet:
        """A snippet without a file behind it: every offset maps to ``loc`` + offset."""
        n = len(text) + 1
        return Snippet(text, loc.file, (loc.line,) * n, tuple(loc.col + i for i in range(n)))


class LoadError(SpecError):
    """A file cannot be read or parsed as YAML; carries its one diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__([diagnostic])
        self.diagnostic = diagnostic


@dataclass
class Document:
    """One YAML file: its text, the plain data, and the node behind every path."""

    path: Path
    name: str  #: the file name diagnostics show
    text: str
    data: Any
    values: dict[PathKey, yaml.Node] = field(default_factory=dict)
    keys: dict[PathKey, yaml.Node] = field(default_factory=dict)
    _line_starts: list[int] | None = None

    def _position(self, index: int) -> tuple[int, int]:
        if self._line_starts is None:
            starts = [0]
            starts.extend(m.end() for m in re.finditer("\n", self.text))
            self._line_starts = starts
        line = bisect.bisect_right(self._line_starts, index) - 1
        return line + 1, index - self._line_starts[line] + 1

    def _nearest(self, path: PathKey) -> tuple[PathKey, yaml.Node | None]:
        while path and path not in self.values:
            path = path[:-1]
        return path, self.values.get(path)

    def loc(self, path: PathKey = ()) -> Loc:
        """Where the value at ``path`` starts (or its nearest existing parent)."""
        found, node = self._nearest(path)
        if node is None:
            return Loc(self.name, 1, 1)
        mark = node.start_mark
        return Loc(self.name, mark.line + 1, mark.column + 1, self.span(found))

    def key_loc(self, path: PathKey) -> Loc:
        """Where the key of the mapping entry at ``path`` starts, else the value."""
        node = self.keys.get(path)
        if node is None:
            return self.loc(path)
        mark = node.start_mark
        return Loc(self.name, mark.line + 1, mark.column + 1, len(str(node.value)))

    def span(self, path: PathKey) -> int:
        """Length of the value at ``path`` on its first line (for underlining)."""
        node = self.values.get(path)
        if node is None or not isinstance(node, yaml.ScalarNode):
            return 1
        start, end = node.start_mark, node.end_mark
        if end.line != start.line:
            return 1
        return max(1, end.column - start.column)

    def snippet(self, path: PathKey) -> Snippet:
        """The string at ``path`` with the file position of each character."""
        node = self.values.get(path)
        if not isinstance(node, yaml.ScalarNode) or not isinstance(node.value, str):
            return Snippet.detached(str(_get(self.data, path)), self.loc(path))
        value: str = node.value
        raw_end = node.end_mark.index
        r = node.start_mark.index
        if node.style in ("|", ">"):
            newline = self.text.find("\n", r, raw_end)
            r = raw_end if newline < 0 else newline + 1
        elif node.style in ('"', "'"):
            r += 1
        index: list[int] = []
        for ch in value:
            if ch.isspace():
                index.append(r)
                if r < raw_end and self.text[r] == ch:
                    r += 1
                continue
            j = self.text.find(ch, r, raw_end)
            if j < 0:
                index.append(r)
                continue
            index.append(j)
            r = j + 1
        # the end of the text is just after its last visible character, not past the
        # trailing newline of a block scalar
        visible = len(value.rstrip())
        end = index[visible - 1] + 1 if visible else r
        index[visible:] = [end] * (len(value) - visible)
        index.append(end)
        positions = [self._position(i) for i in index]
        return Snippet(
            value, self.name, tuple(p[0] for p in positions), tuple(p[1] for p in positions)
        )


def _get(data: Any, path: PathKey) -> Any:
    for part in path:
        data = data[part]
    return data


def display_name(path: Path, base: Path | None = None) -> str:
    """The path as diagnostics show it: relative to ``base`` (the cwd) when inside it."""
    base = Path(os.path.abspath(base or Path.cwd()))
    absolute = Path(os.path.abspath(path))  # a link keeps its own name
    try:
        shown = absolute.relative_to(base).as_posix()
    except ValueError:
        try:
            shown = absolute.relative_to(base.resolve()).as_posix()
        except ValueError:
            shown = path.as_posix()
    return printable_name(shown)


def read_text(path: Path, name: str) -> str:
    """Read a text file, refusing huge, binary and non-UTF-8 files with a clear error."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise too_large(size, name)
        raw = path.read_bytes()
    except OSError as exc:
        raise LoadError(
            Diagnostic(
                "E100",
                f"cannot read file: {exc.strerror or exc}",
                Loc(name),
                "check the path and its permissions",
            )
        ) from None
    return decode_text(raw, name)


def too_large(size: int, name: str) -> LoadError:
    return LoadError(
        Diagnostic(
            "E101",
            f"file is {size:,} bytes; spec files may be at most {MAX_FILE_BYTES:,} bytes",
            Loc(name),
            "split the scorecard into several files, or keep data out of specs",
        )
    )


def decode_text(raw: bytes, name: str) -> str:
    """The text of a spec file's bytes; binary and non-UTF-8 bytes are refused (E102)."""
    if b"\x00" in raw:
        at = raw.index(b"\x00")
        line = raw.count(b"\n", 0, at) + 1
        col = len(raw[raw.rfind(b"\n", 0, at) + 1 : at].decode("utf-8", "replace")) + 1
        raise LoadError(
            Diagnostic(
                "E102",
                "file is binary (it contains a NUL byte), not YAML text",
                Loc(name, line, col),
                "point kpispec at .yaml files only (see `specs:` in kpispec.yaml)",
            )
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        raise LoadError(
            Diagnostic(
                "E102",
                f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                Loc(name, line, col),
                "save the file as UTF-8",
            )
        ) from None
    return text.removeprefix("\ufeff")


def _syntax_error(exc: yaml.YAMLError, name: str, text: str) -> Diagnostic:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    if mark is not None and context_mark is not None and mark.index >= len(text.rstrip()):
        mark = context_mark  # the file ended early: point at what was left open
    loc = Loc(name, mark.line + 1, mark.column + 1) if mark is not None else Loc(name, 1, 1)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    hint = "check the indentation and quoting around this place"
    at = mark.index if mark is not None else -1
    if "\t" in problem or "tab" in problem or (0 <= at < len(text) and text[at] == "\t"):
        hint = "YAML indents with spaces, not tabs"
    elif "mapping values are not allowed" in problem:
        hint = "a value holding ': ' must be quoted, e.g. title: 'Goal: 5%'"
        deeper = _indented_too_deep(text, mark) if mark is not None else None
        if deeper is not None:
            loc, hint = Loc(name, loc.line, deeper[0], deeper[1]), deeper[2]
    elif "found undefined alias" in problem or "found unknown" in problem:
        hint = "define the anchor (&name) before using the alias (*name)"
    elif "could not find expected ':'" in problem:
        hint = "every entry of a mapping is `key: value`; check the previous lines"
    return Diagnostic("E103", message, loc, hint)


_KEY_LINE = re.compile(r"^( *)((?:- +)*)([^\s:#'\"\-][^:#]*?):(?: |$)")


def _indented_too_deep(text: str, mark: Any) -> tuple[int, int, str] | None:
    """For "mapping values are not allowed": a key indented deeper than the key above it.

    YAML then reads ``formula: x`` as more of the value above (``name: Visits``) and stops
    at its ``: ``. Returns the key's column, its length and a hint, or None when that is
    not the case.
    """
    lines = text.splitlines()
    if not 0 <= mark.line < len(lines):
        return None
    here = _KEY_LINE.match(lines[mark.line])
    if here is None or here.end(3) != mark.column:  # the colon YAML stopped at ends a key
        return None
    column = len(here.group(1)) + len(here.group(2))
    for number in range(mark.line - 1, -1, -1):
        above = lines[number]
        if not above.strip() or above.lstrip().startswith("#"):
            continue
        key = _KEY_LINE.match(above)
        if key is None or not above[key.end() :].strip():
            return None  # not `key: value` above: something else is wrong
        indent = len(key.group(1)) + len(key.group(2))
        if column <= indent:
            return None
        return (
            column + 1,
            len(here.group(3)),
            (
                f"`{here.group(3)}:` is indented deeper than `{key.group(3)}:` on line "
                f"{number + 1}, so YAML reads it as more of that value; indent it like "
                f"`{key.group(3)}:` ({indent} spaces), or quote the value above if it holds ': '"
            ),
        )
    return None


class _Builder:
    """Turns composed nodes into plain data, recording the node behind every path."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.count = 0
        self.entry: yaml.Node | None = None  #: the top-level key being built

    def error(self, code: str, message: str, node: yaml.Node, hint: str) -> LoadError:
        mark = node.start_mark
        return LoadError(
            Diagnostic(code, message, Loc(self.doc.name, mark.line + 1, mark.column + 1), hint)
        )

    def build(self, node: yaml.Node, path: PathKey, depth: int = 0) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.error(
                "E105",
                f"YAML aliases expand to more than {MAX_NODES:,} values",
                self.entry or node,
                "this entry's aliases multiply each other; use fewer or smaller anchors",
            )
        if depth > MAX_DEPTH:
            raise self.error(
                "E105",
                f"YAML nests more than {MAX_DEPTH} levels deep (or an alias refers to itself)",
                node,
                "flatten the structure; an anchor cannot contain an alias to itself",
            )
        self.doc.values.setdefault(path, node)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if node.tag not in _KNOWN_TAGS:
            raise self.unknown_tag(node)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, i), depth + 1) for i, child in enumerate(node.value)]
        assert isinstance(node, yaml.MappingNode)  # the only other kind of node
        return self.mapping(node, path, depth)

    def unknown_tag(self, node: yaml.Node) -> LoadError:
        return self.error(
            "E106",
            f"unsupported YAML tag {node.tag!r}",
            node,
            "spec files use plain YAML values; remove the tag",
        )

    def scalar(self, node: yaml.ScalarNode) -> Any:
        tag, value = node.tag, node.value
        if tag == _STR:
            return value
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return value.lower() == "true"
        if tag == "tag:yaml.org,2002:int":
            return self.integer(node)
        if tag == "tag:yaml.org,2002:float":
            low = value.lower()
            if low.endswith("inf"):
                return float("-inf") if low.startswith("-") else float("inf")
            if low == ".nan":
                return float("nan")
            try:
                return float(value)
            except ValueError:
                raise self.tagged_mismatch(node, "a number") from None
        raise self.unknown_tag(node)

    def integer(self, node: yaml.ScalarNode) -> int:
        """An integer that fits in 64 bits, read without Python's 4,300-digit limit."""
        text = node.value.strip().replace("_", "")
        sign = -1 if text.startswith("-") else 1
        body = text.lstrip("+-")
        base = 16 if body[:2] in ("0x", "0X") else 8 if body[:2] in ("0o", "0O") else 10
        digits = body[2:] if base != 10 else body
        if not digits:
            raise self.tagged_mismatch(node, "an integer")
        digits = digits.lstrip("0") or "0"
        if len(digits) > 25:  # beyond 64 bits in any of the bases; int() is never asked
            value = None
        else:
            try:
                value = sign * int(digits, base)
            except ValueError:
                raise self.tagged_mismatch(node, "an integer") from None
        if value is None or not -(2**63) <= value < 2**63:
            shown = node.value if len(node.value) <= 24 else f"{node.value[:24]}..."
            raise self.error(
                "E205",
                f"the integer {shown} is out of range: integers are at most 64 bits (±{2**63 - 1})",
                node,
                "write a smaller number, or a decimal such as 1.5e30",
            )
        return value

    def tagged_mismatch(self, node: yaml.ScalarNode, kind: str) -> LoadError:
        tag = node.tag.rsplit(":", 1)[-1]
        return self.error(
            "E106",
            f"the value {node.value[:40]!r} is tagged !!{tag} but is not {kind}",
            node,
            "remove the tag, or write the value it promises",
        )

    def mapping(self, node: yaml.MappingNode, path: PathKey, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        seen: dict[str, yaml.Node] = {}
        merged: list[yaml.MappingNode] = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged.extend(self.merge_sources(key_node, value_node))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.error(
                    "E107", "a mapping key must be a plain value", key_node, "use a string key"
                )
            key = str(key_node.value)
            if key in seen:
                first = seen[key].start_mark
                raise self.error(
                    "E104",
                    f"duplicate key {key!r} (first defined at line {first.line + 1})",
                    key_node,
                    "YAML keeps only one of them; remove or rename one",
                )
            seen[key] = key_node
            if depth == 0:
                self.entry = key_node
            self.doc.keys.setdefault((*path, key), key_node)
            result[key] = self.build(value_node, (*path, key), depth + 1)
        for source in merged:
            for key_node, value_node in source.value:
                key = str(key_node.value)
                if key not in result:
                    self.doc.keys.setdefault((*path, key), key_node)
                    result[key] = self.build(value_node, (*path, key), depth + 1)
        return result

    def merge_sources(self, key: yaml.Node, node: yaml.Node) -> Iterator[yaml.MappingNode]:
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for item in items:
            if not isinstance(item, yaml.MappingNode):
                raise self.error(
                    "E107",
                    "a merge key (<<) takes a mapping or a list of mappings",
                    key,
                    "merge an anchored mapping: <<: *defaults",
                )
            yield item


def load_document(path: Path, name: str | None = None, raw: bytes | None = None) -> Document:
    """Load one YAML file (or its ``raw`` bytes, read elsewhere, e.g. from a git revision).
    Raises :class:`LoadError` with a positioned diagnostic."""
    name = name or display_name(path)
    if raw is None:
        text = read_text(path, name)
    elif len(raw) > MAX_FILE_BYTES:
        raise too_large(len(raw), name)
    else:
        text = decode_text(raw, name)
    doc = Document(path=path, name=name, text=text, data=None)
    return parse_document(doc)


def load_string(text: str, name: str = "<string>") -> Document:
    return parse_document(Document(path=Path(name), name=name, text=text, data=None))


def parse_document(doc: Document) -> Document:
    loader = _Composer(doc.text)
    try:
        node = loader.get_single_node()
    except yaml.composer.ComposerError as exc:
        if "expected a single document" in str(exc):
            mark = exc.problem_mark
            raise LoadError(
                Diagnostic(
                    "E107",
                    "a spec file holds one YAML document, found a second one",
                    Loc(doc.name, mark.line + 1, mark.column + 1) if mark else Loc(doc.name),
                    "remove the `---` separator or split the file",
                )
            ) from None
        raise LoadError(_syntax_error(exc, doc.name, doc.text)) from None
    except yaml.YAMLError as exc:
        raise LoadError(_syntax_error(exc, doc.name, doc.text)) from None
    except RecursionError:
        raise LoadError(
            Diagnostic(
                "E105",
                "YAML nests too deeply",
                Loc(doc.name, 1, 1),
                f"spec files nest at most {MAX_DEPTH} levels deep",
            )
        ) from None
    finally:
        loader.dispose()
    if node is None:
        raise LoadError(
            Diagnostic(
                "E107",
                "file is empty",
                Loc(doc.name, 1, 1),
                "a spec file starts with `kpispec: 1`",
            )
        )
    doc.data = _Builder(doc).build(node, ())
    return doc
