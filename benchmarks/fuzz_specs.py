"""Mutation fuzzer: hostile variants of the example specs through the whole pipeline.

Each input is one scorecard of ``specs/`` (or the project file), mutated: bytes flipped,
inserted or cut; lines deleted, repeated, swapped or re-indented; YAML values replaced by
number extremes, unicode oddities, values spliced from the other example specs, deep
nesting or long formula chains; and an as-of date or period that is odd now and then.
It is run in process through the Python API, as a program embedding kpispec would:
``kpispec.load``, ``kpispec.evaluate``, ``kpispec.render`` and the spec tests.

The oracle: only :class:`kpispec.KpispecError` (and its subclasses) may escape. Anything
else is counted by where it was raised, and the first example of each kind is saved under
``--save`` with the as-of date and period it ran with. Run it niced, in one process:

    nice .venv/bin/python benchmarks/fuzz_specs.py --inputs 100000 --seed 1

Input ``i`` is generated from ``seed + i`` alone, so ``--start i --inputs 1`` replays it.
Before each input its number is written to ``--save``/current.txt: if a native library
aborts the process, that file names the input that did it.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
AS_OF = "2026-11-22"

NUMBERS: list[Any] = [
    0, -1, 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63), 2**64, 10**40, 1e28, 1e300,
    1.7976931348623157e308, -1e308, 5e-324, 0.1, -0.0, float("inf"), float("-inf"),
    float("nan"), 99999999999999, True, False, None,
]  # fmt: skip
TEXTS: list[str] = [
    "", " ", "\t", "\n", "\r", "\r\n", "::error file=x::boom", "\x00", "\x1b[31m", "\u202e",
    "\u2028", "\ufeff", "e\u0301", "😀", "𝔘𝔫𝔦", "日本語", "'", '"', "\\", "${HOME}", "%0A",
    "<script>alert(1)</script>", "javascript:alert(1)", "../" * 8 + "etc/passwd", "/dev/zero",
    "a" * 300, "9" * 5000, "1e999", "-1e999", ".inf", "NaN", "0x" + "f" * 40, "0o777",
    "2026-02-30", "0001-01-01", "9999-12-31", "2026-W53", "2026-Q5", "10000-01", "99999999999999 days",
    "1 month", "0 days", "-1 days", "100%", "+1e308%", "-100%", "!!int abc", "*", "**/*.csv",
    "data/*.parquet", "sum(x", "count(*) filter (where", "((((((((((x))))))))))",
]  # fmt: skip
FORMULA_PARTS = [
    "sum(", "count(*)", "count(distinct ", "share(", "avg(", "min(", "max(", "first(", "last(",
    "percentile(", "median(", "stddev(", "round(", "abs(", "coalesce(", "nullif(", "least(",
    "date_diff('day', ", ")", "(", ", ", " + ", " - ", " * ", " / ", " and ", " or ", " not ",
    " in (", " between ", " like ", " is null", " is not null", " filter (where ", "case when ",
    " then ", " else ", " end", "'x'", "1", "0", "1e308", "9223372036854775807", "0.5",
    "period_start", "period_end", "period_days", " = ", " < ", " >= ", " <> ", "null", "true",
]  # fmt: skip
AS_OFS = [AS_OF] * 20 + [
    "0001-01-01", "0999-12-31", "1000-01-01", "1970-01-01", "2026-02-29", "2026-13-01",
    "9000-12-31", "9001-01-01", "9999-12-31", "", "yesterday", "2026-11-22T00:00",
]  # fmt: skip
PERIODS: list[str | None] = [None] * 20 + [
    "2026", "2026-Q3", "2026-10", "2026-W41", "2026-10-05", "9999-12-31", "0001-01",
    "2026-W53", "2026-00", "10000", "2026-Q0", "x",
]  # fmt: skip


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class Timeout(BaseException):
    """One input ran longer than ``--timeout`` seconds."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Timeout


# ---------------------------------------------------------------- mutations


def _leaves(value: Any, out: list[Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            out.append(k)
            _leaves(v, out)
    elif isinstance(value, list):
        for v in value:
            _leaves(v, out)
    else:
        out.append(value)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.extend(_paths(v, (*prefix, i)))
    return found


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def _set(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    _get(value, path[:-1])[path[-1]] = new
    return value


def _nested(depth: int, leaf: Any, rng: random.Random) -> Any:
    for _ in range(depth):
        leaf = [leaf] if rng.random() < 0.5 else {"k": leaf}
    return leaf


def _formula(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.3:
        n = rng.choice([2, 10, 200, 250, 256, 257, 300, 1000, 3000])
        term = rng.choice(["sum(revenue)", "count(*)", "1", "x", "share(converted)"])
        op = rng.choice([" + ", " * ", " - ", " / ", " and ", " or "])
        return op.join([term] * n)
    if kind < 0.5:
        n = rng.choice([10, 62, 63, 64, 65, 100, 200, 1000])
        inner = rng.choice(["sum(revenue)", "x", "count(*)"])
        wrap = rng.choice([("(", ")"), ("abs(", ")"), ("-", ""), ("not ", ""), ("round(", ", 2)")])
        return wrap[0] * n + inner + wrap[1] * n
    return "".join(rng.choice(FORMULA_PARTS) for _ in range(rng.randint(1, 16)))


def mutate_value(data: Any, pool: list[Any], rng: random.Random) -> Any:
    """Replace, delete, duplicate or deepen one node of a parsed spec."""
    paths = _paths(data)
    path = rng.choice(paths)
    choice = rng.random()
    if choice < 0.25:
        new: Any = rng.choice(NUMBERS)
    elif choice < 0.45:
        new = rng.choice(TEXTS)
    elif choice < 0.65:
        new = rng.choice(pool)
    elif choice < 0.75:
        new = _formula(rng)
    elif choice < 0.8:
        new = _nested(rng.choice([5, 60, 63, 64, 65, 200]), rng.choice(pool), rng)
    elif choice < 0.85:
        new = [rng.choice(pool) for _ in range(rng.randint(0, 5))]
    elif choice < 0.9:
        new = {rng.choice([str(p) for p in pool if p is not None] or ["k"]): rng.choice(pool)}
    else:  # delete the node
        if path and isinstance(_get(data, path[:-1]), dict | list):
            parent = _get(data, path[:-1])
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif path[-1] < len(parent):
                parent.pop(path[-1])
            return data
        new = None
    try:
        return _set(data, path, new)
    except (TypeError, KeyError, IndexError):
        return data


def mutate_text(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    choice = rng.random()
    i = rng.randrange(len(lines)) if lines else 0
    if choice < 0.2 and lines:
        del lines[i]
    elif choice < 0.35 and lines:
        lines.insert(i, lines[rng.randrange(len(lines))])
    elif choice < 0.5 and len(lines) > 1:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif choice < 0.65 and lines:
        lines[i] = (
            (" " * rng.choice([1, 2, 4]) + lines[i]) if rng.random() < 0.5 else lines[i].lstrip()
        )
    elif choice < 0.8 and lines:  # a value on the line replaced by a hostile one
        head, sep, _ = lines[i].partition(": ")
        if sep:
            lines[i] = head + sep + rng.choice([*TEXTS, *map(repr, NUMBERS[:12])])
    else:  # characters
        chars = list(text)
        for _ in range(rng.randint(1, 8)):
            pos = rng.randrange(len(chars) + 1)
            op = rng.random()
            if op < 0.4 and pos < len(chars):
                del chars[pos]
            elif op < 0.7:
                chars.insert(pos, rng.choice(":-[]{}#&*!|>'\"%@`,?\t\n \\\x00\u00e9\u202e"))
            elif pos < len(chars):
                chars[pos] = chr(rng.randrange(32, 0x2FFF))
        return "".join(chars)
    return "\n".join(lines)


def mutate(text: str, pool: list[Any], rng: random.Random) -> tuple[str | bytes, str]:
    """One mutated file (text, or bytes that need not be UTF-8) and what was done."""
    choice = rng.random()
    if choice < 0.45:
        try:
            data = yaml.load(text, Loader=_LOADER)
        except yaml.YAMLError:
            data = None
        if data is not None:
            for _ in range(rng.randint(1, 4)):
                data = mutate_value(data, pool, rng)
            try:
                return yaml.safe_dump(
                    data, allow_unicode=True, sort_keys=False, width=10**6
                ), "value"
            except (yaml.YAMLError, RecursionError, ValueError):
                return text, "value"
    if choice < 0.9:
        for _ in range(rng.randint(1, 3)):
            text = mutate_text(text, rng)
        return text, "text"
    raw = bytearray(text.encode("utf-8", "surrogatepass"))
    for _ in range(rng.randint(1, 6)):
        if raw:
            raw[rng.randrange(len(raw))] = rng.randrange(256)
    return bytes(raw), "bytes"


# ---------------------------------------------------------------- the pipeline


def run_one(spec: Path, as_of: str, period: str | None, out: Path) -> None:
    """What an embedding program does; only KpispecError may come out."""
    import kpispec
    from kpispec.api import parse_as_of
    from kpispec.engine.spectests import run_tests

    loaded = kpispec.load(spec)
    doc = kpispec.evaluate(loaded, as_of=as_of, period=period)
    kpispec.render(doc, out)
    run_tests(loaded.checked, as_of=parse_as_of(as_of), scorecards=loaded.selected)


def where(exc: BaseException) -> str:
    """The innermost frame of kpispec that the exception passed, as ``file:line``."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/kpispec/" in f.filename and "/benchmarks/" not in f.filename]
    frame = (ours or frames or [None])[-1]
    if frame is None:
        return "?"
    return f"{Path(frame.filename).relative_to(ROOT) if frame.filename.startswith(str(ROOT)) else frame.filename}:{frame.lineno}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=int, default=0, help="the first input's number")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per input")
    parser.add_argument("--memory", type=int, default=6, help="GiB of address space")
    parser.add_argument("--save", type=Path, default=ROOT / "benchmarks" / ".fuzz")
    parser.add_argument("--report", type=int, default=1000, help="print progress every N")
    args = parser.parse_args(argv)

    from kpispec.diagnostics import KpispecError

    limit = args.memory * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGALRM, _alarm)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a summary, as on Ctrl-C
    sys.setrecursionlimit(1000)  # the interpreter's default, as in a user's program
    args.save.mkdir(parents=True, exist_ok=True)

    work = Path(tempfile.mkdtemp(prefix="kpispec-fuzz-"))
    corpus = Corpus.of_examples()
    project = corpus.project(work / "p")
    for name in corpus.originals:  # sanity: every example evaluates, renders, passes its tests
        corpus.write(project, name, None)
        try:
            run_one(project / "scorecards" / name, AS_OF, None, work / "site")
        except KpispecError:
            corpus.needs_others.add(name)
            corpus.write(project, name, None)
            run_one(project / "scorecards" / name, AS_OF, None, work / "site")

    uncaught: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    started = time.monotonic()
    try:
        for n in range(args.start, args.start + args.inputs):
            rng = random.Random(args.seed * 1_000_003 + n)
            fuzzed = corpus.input(project, rng)
            content, kind, where_to = fuzzed.content, fuzzed.kind, fuzzed.file
            as_of, period = fuzzed.as_of, fuzzed.period
            kinds[kind] += 1
            (args.save / "current.txt").write_text(f"{n}\n")
            signal.setitimer(signal.ITIMER_REAL, args.timeout)
            try:
                run_one(fuzzed.spec, as_of, period, work / "site")
                outcomes["ok"] += 1
            except KpispecError:
                outcomes["diagnostics"] += 1
            except Timeout:
                outcomes["timeout"] += 1
                _save(args.save, "timeout", n, where_to, content, as_of, period, "timeout")
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # the oracle: nothing else may escape
                key = f"{type(exc).__name__} at {where(exc)}"
                if key not in uncaught:
                    _save(args.save, key, n, where_to, content, as_of, period,
                          "".join(traceback.format_exception(exc)))  # fmt: skip
                uncaught[key] += 1
                outcomes["uncaught"] += 1
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            done = n - args.start + 1
            if done % args.report == 0:
                rate = done / (time.monotonic() - started)
                print(
                    f"{done:>7} inputs, {outcomes['uncaught']} uncaught, {dict(outcomes)}, {rate:.1f}/s",
                    flush=True,
                )
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: stop, and say how far it got
        interrupted = True
    else:
        interrupted = False
    finally:
        shutil.rmtree(work, ignore_errors=True)
    total = sum(outcomes.values())
    summary = {
        "inputs": total,
        "interrupted": interrupted,
        "seed": args.seed,
        "start": args.start,
        "seconds": round(time.monotonic() - started, 1),
        "outcomes": dict(outcomes),
        "mutations": dict(kinds),
        "uncaught": dict(uncaught.most_common()),
    }
    print(json.dumps(summary, indent=2))
    (args.save / f"summary-{args.seed}-{args.start}.json").write_text(json.dumps(summary, indent=2))
    return 1 if uncaught or outcomes["timeout"] else 0


@dataclass
class Input:
    spec: Path  #: the scorecard to load (its project is loaded with it)
    file: Path  #: the file that was mutated: the scorecard or kpispec.yaml
    content: str | bytes
    kind: str
    as_of: str
    period: str | None


@dataclass
class Corpus:
    """The example specs, and the values found in them (to splice into others)."""

    originals: dict[str, str]  #: scorecard file name -> text
    project_text: str
    pool: list[Any]
    #: Scorecards that need others beside them (for their sources or KPIs); the rest are
    #: fuzzed alone, which loads six times faster.
    needs_others: set[str] = field(default_factory=set)

    @classmethod
    def of_examples(cls) -> Corpus:
        originals = {p.name: p.read_text("utf-8") for p in sorted(SPECS.glob("scorecards/*.yaml"))}
        project_text = (SPECS / "kpispec.yaml").read_text("utf-8")
        pool: list[Any] = []
        for text in [*originals.values(), project_text]:
            _leaves(yaml.safe_load(text), pool)
        return cls(originals, project_text, list({repr(p): p for p in pool}.values()))

    def project(self, folder: Path) -> Path:
        """A copy of the example project's data under ``folder`` (a link would leave the root)."""
        (folder / "scorecards").mkdir(parents=True)
        shutil.copytree(SPECS / "data", folder / "data")
        return folder

    def write(
        self, project: Path, name: str, content: str | bytes | None, *, project_file: bool = False
    ) -> Path:
        """Every example scorecard, with ``name`` (or kpispec.yaml) replaced by ``content``.

        The other scorecards stay: they define sources that ``name`` uses."""
        for old in (project / "scorecards").iterdir():
            old.unlink()
        others = self.originals if name in self.needs_others else {name: self.originals[name]}
        for other, text in others.items():
            (project / "scorecards" / other).write_text(text, "utf-8")
        (project / "kpispec.yaml").write_text(self.project_text, "utf-8")
        target = project / "kpispec.yaml" if project_file else project / "scorecards" / name
        if content is not None:
            data = (
                content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
            )
            target.write_bytes(data)
        return target

    def input(self, project: Path, rng: random.Random) -> Input:
        """One mutated input, written into ``project``."""
        name = rng.choice(list(self.originals))
        project_file = rng.random() < 0.08
        base = self.project_text if project_file else self.originals[name]
        content, kind = mutate(base, self.pool, rng)
        file = self.write(project, name, content, project_file=project_file)
        return Input(
            project / "scorecards" / name,
            file,
            content,
            kind,
            rng.choice(AS_OFS),
            rng.choice(PERIODS),
        )


def _save(
    folder: Path, key: str, n: int, file: Path, content: str | bytes, as_of: str,
    period: str | None, details: str,
) -> None:  # fmt: skip
    safe = "".join(c if c.isalnum() else "_" for c in key)[:80]
    case = folder / f"{safe}-{n}"
    case.mkdir(parents=True, exist_ok=True)
    data = content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
    (case / file.name).write_bytes(data)
    (case / "how.txt").write_text(f"input {n}\nas_of {as_of}\nperiod {period}\n\n{details}\n")


if __name__ == "__main__":
    raise SystemExit(main())
