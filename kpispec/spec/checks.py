"""Semantic checks of a whole project, and the analysed formulas the engine plans from.

The schema has already checked the shape of every file; this stage checks what a schema
cannot: ids unique across files, references that resolve, formulas that parse and mean
something, consistent targets, and (when allowed to read data) columns that exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from kpispec.confine import database_file, has_magic, outside_root
from kpispec.diagnostics import Diagnostic, Diagnostics, Loc, Severity
from kpispec.escaping import link_problem
from kpispec.files import is_file
from kpispec.formula.analysis import FormulaInfo, Level, analyze
from kpispec.formula.parser import parse
from kpispec.formula.tokens import FormulaSyntaxError
from kpispec.spec.columns import KnownColumns, matching_files, read_columns, source_format
from kpispec.spec.formula_types import type_errors
from kpispec.spec.loader import Snippet, display_name
from kpispec.spec.model import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_PERIODS,
    Kpi,
    Project,
    Source,
    SpecTest,
    Target,
)
from kpispec.spec.suggest import did_you_mean

#: Currencies suggested for a mistyped code (suggesting every ISO code gives odd guesses).
COMMON_CURRENCIES = ("EUR", "USD", "GBP", "NOK", "DKK", "SEK", "ISK", "CHF", "PLN", "CZK", "HUF",
                     "JPY", "CNY", "INR", "AUD", "CAD", "NZD", "BRL", "MXN", "ZAR", "SGD", "HKD")  # fmt: skip
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PERIOD = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-\d{2})?|-Q[1-4]|-W(0[1-9]|[1-4]\d|5[0-3]))?$")
_GRAIN_OF_LABEL = [
    (re.compile(r"^\d{4}$"), "year"),
    (re.compile(r"^\d{4}-Q[1-4]$"), "quarter"),
    (re.compile(r"^\d{4}-\d{2}$"), "month"),
    (re.compile(r"^\d{4}-W\d{2}$"), "week"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "day"),
]


def _fixed_parts(pattern: str) -> list[str]:
    """The leading components of a path or glob that hold no wildcard."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts:
        if has_magic(part):
            break
        fixed.append(part)
    return fixed


_PASSWORD_KEYS = ("password", "passwd", "pwd")
_KEYWORD_PASSWORD = re.compile(
    r"(?:^|[\s&?;=])(password|passwd|pwd)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&;]*)", re.IGNORECASE
)


def _literal(value: str) -> bool:
    """A secret written out, as opposed to nothing or one ${ENV} reference."""
    value = value.strip().strip("'\"")
    return bool(value) and not _ENV.fullmatch(value)


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


#: The longest rolling window, per unit: 100 years.
MAX_WINDOW = {"day": 36_525, "week": 5_218, "month": 1_200}


def _period_in_calendar(label: str) -> bool:
    """Whether a well-formed period label names a real period in the supported years."""
    from kpispec.engine.periods import parse_user_label  # a calendar, no Polars

    try:
        parse_user_label(label)
    except ValueError:
        return False
    return True


def label_grain(label: str) -> str | None:
    """The grain a period label is written in: ``2026-09`` is a month."""
    return next((grain for pattern, grain in _GRAIN_OF_LABEL if pattern.match(label)), None)


@dataclass
class CheckedKpi:
    kpi: Kpi
    formula: FormulaInfo | None = None  #: None when the formula did not parse
    filter: FormulaInfo | None = None
    dimensions: list[str] = field(default_factory=list)  #: the breakdowns, derived ones included

    @property
    def depends(self) -> list[str]:
        return self.formula.kpi_ids if self.formula else []


@dataclass
class CheckedProject:
    project: Project
    kpis: dict[str, CheckedKpi]
    source_filters: dict[str, FormulaInfo]
    columns: dict[str, KnownColumns]
    diagnostics: list[Diagnostic]
    order: list[str]  #: KPI ids, every KPI after the KPIs it references

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def _report_formula(out: Diagnostics, snippet: Snippet, info: FormulaInfo) -> None:
    for p in info.problems:
        _add_at(out, p.code, p.message, snippet, p.start, p.end, p.hint)


def _add_at(
    out: Diagnostics,
    code: str,
    message: str,
    snippet: Snippet,
    start: int,
    end: int,
    hint: str | None,
) -> None:
    begin, finish = snippet.loc(start), snippet.loc(max(start, end - 1))
    length = finish.col - begin.col + 1 if finish.line == begin.line else 1
    out.add(code, message, begin, hint, length=length)


def parse_snippet(out: Diagnostics, snippet: Snippet) -> object | None:
    if not snippet.text.strip():
        return None  # an empty formula is reported by the schema
    try:
        return parse(snippet.text)
    except FormulaSyntaxError as exc:
        _add_at(
            out,
            "E300",
            f"syntax error in formula: {exc.message}",
            snippet,
            exc.start,
            exc.end,
            exc.hint,
        )
        return None


@cache
def _timezones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


@cache
def _currencies() -> frozenset[str]:
    from babel.numbers import list_currencies

    return frozenset(list_currencies())


@cache
def _locale_ok(name: str) -> bool:
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(name.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return False
    return True


class _Checker:
    def __init__(self, project: Project, *, data: bool, allow_outside_root: bool) -> None:
        self.project = project
        self.data = data
        self.allow_outside_root = allow_outside_root
        self.out = Diagnostics()
        self.sources: dict[str, Source] = {}
        self.kpis: dict[str, Kpi] = {}
        self.columns: dict[str, KnownColumns] = {}  #: read from the data, plus declared ones
        self.file_columns: dict[str, KnownColumns] = {}  #: read from the data only
        self.checked: dict[str, CheckedKpi] = {}
        self.source_filters: dict[str, FormulaInfo] = {}

    # ---------------------------------------------------------------- driver

    def run(self) -> CheckedProject:
        self.unique_ids()
        self.settings()
        for source in self.project.all_sources():
            self.source(source)
        for kpi in self.project.all_kpis():
            if self.kpis.get(kpi.id) is kpi:
                self.kpi(kpi)
        order = self.cycles()
        for kpi_id in order:
            self.derived(self.checked[kpi_id])
        self.out.items.extend(
            type_errors(self.project, self.checked, self.source_filters, self.file_columns)
        )
        for kpi in self.project.all_kpis():
            for target in kpi.targets:
                self.target(kpi, target)
            self.milestones(kpi)
        self.tests()
        self.lint()
        return CheckedProject(
            self.project,
            self.checked,
            self.source_filters,
            self.columns,
            sorted(self.out.items, key=Diagnostic.sort_key),
            order,
        )

    def unique_ids(self) -> None:
        cards: dict[str, Loc] = {}
        for card in self.project.scorecards:
            if card.id in cards:
                self.out.add(
                    "E400",
                    f"scorecard id `{card.id}` is already used at {cards[card.id]}",
                    card.loc,
                    "scorecard ids are unique in the project; rename one",
                )
            cards.setdefault(card.id, card.loc)
        for source in self.project.all_sources():
            first = self.sources.setdefault(source.id, source)
            if first is not source:
                self.out.add(
                    "E400",
                    f"source id `{source.id}` is already used at {first.locs.get('id', first.loc)}",
                    source.locs.get("id", source.loc),
                    "source ids are unique across the project; rename one, or share one source "
                    "through `sources:` in kpispec.yaml",
                )
        for kpi in self.project.all_kpis():
            first_kpi = self.kpis.setdefault(kpi.id, kpi)
            if first_kpi is not kpi:
                self.out.add(
                    "E400",
                    f"KPI id `{kpi.id}` is already used at {first_kpi.locs.get('id', first_kpi.loc)}",
                    kpi.locs.get("id", kpi.loc),
                    "KPI ids are unique across the project (other KPIs reference them); rename one",
                )

    def settings(self) -> None:
        """Locales, currencies and time zones, where a file sets them."""
        project = self.project
        at = project.locs
        if "locale" in at:
            self.locale(project.locale, at["locale"])
        if "currency" in at:
            self.currency(project.currency, at["currency"])
        if "timezone" in at:
            self.timezone(project.timezone, at["timezone"])
        for card in project.scorecards:
            if "locale" in card.locs:
                self.locale(card.locale, card.locs["locale"])
            if "currency" in card.locs:
                self.currency(card.currency, card.locs["currency"])
        for kpi in project.all_kpis():
            if "currency" in kpi.locs and kpi.currency:
                self.currency(kpi.currency, kpi.locs["currency"])
        for conn in project.connections.values():
            self.connection_url(conn.url, conn.loc)

    def timezone(self, name: str, loc: Loc) -> None:
        if name not in _timezones():
            self.out.add(
                "E406",
                f"unknown time zone {name!r}",
                loc,
                did_you_mean(name, _timezones()) or "use an IANA name such as Europe/Oslo",
            )

    def locale(self, name: str, loc: Loc) -> None:
        if not _locale_ok(name):
            self.out.add(
                "E407", f"unknown locale {name!r}", loc, "use a locale such as en, nb, da, sv or de"
            )

    def currency(self, code: str, loc: Loc) -> None:
        if not re.fullmatch(r"[A-Z]{3}", code):
            return  # not the form of a code at all: the schema reports it
        if code not in _currencies():
            self.out.add(
                "E408",
                f"unknown currency code {code!r}",
                loc,
                did_you_mean(code, COMMON_CURRENCIES)
                or "use an ISO 4217 code such as EUR, NOK or DKK",
            )

    def connection_url(self, url: str, loc: Loc) -> None:
        bare = _ENV.sub("", url)
        if "${" in bare:
            self.out.add(
                "E405",
                "malformed ${...} reference in the connection URL",
                loc,
                "write environment variables as ${NAME}, letters, digits and _ only",
            )
        where = literal_password(url)
        if where is not None:
            self.out.add(
                "E405",
                f"the connection URL holds a literal password ({where})",
                loc,
                "specs live in git: put the password (or the whole URL) in an environment "
                "variable and write ${WAREHOUSE_URL}",
            )
        if "${" not in url and not self.allow_outside_root:
            # a ${...} URL is judged when it is resolved, just before connecting
            database = database_file(url, self.project.root)
            if database is not None:
                refused = outside_root(
                    "the database file of the connection", [database], self.project.root, loc
                )
                if refused is not None:
                    self.out.items.append(refused)

    # ---------------------------------------------------------------- sources

    def source(self, source: Source) -> None:
        where = source.locs
        if source.timezone is not None and source.timezone not in _timezones():
            self.out.add(
                "E406",
                f"unknown time zone {source.timezone!r}",
                where.get("timezone", source.loc),
                did_you_mean(source.timezone, _timezones())
                or "use an IANA name such as Europe/Oslo",
            )
        if source.sql is not None:
            if source.connection is not None and source.connection not in self.project.connections:
                known = list(self.project.connections)
                self.out.add(
                    "E402",
                    f"unknown connection `{source.connection}`",
                    where.get("connection", source.loc),
                    did_you_mean(source.connection, known)
                    or (
                        f"connections: {', '.join(known)}"
                        if known
                        else "define it under `connections:` in kpispec.yaml"
                    ),
                )
        elif source.path is not None:
            self.source_path(source)
        if source.filter is not None:
            tree = parse_snippet(self.out, source.filter)
            if tree is not None:
                info = analyze(tree, Level.FILTER, columns=self.known(source))  # type: ignore[arg-type]
                _report_formula(self.out, source.filter, info)
                self.unknown_columns(info, source, source.filter)
                self.source_filters[source.id] = info
        known = self.file_columns.get(source.id)
        for column in source.columns:
            if known is not None and column not in known.names:
                self.out.add(
                    "E306",
                    f"declared column `{column}` is not in source `{source.id}` (read from {known.how})",
                    source.column_locs.get(column, where.get("columns", source.loc)),
                    did_you_mean(column, known.names)
                    or f"columns: {', '.join(sorted(known.names))}",
                )
        if source.time is not None:
            self.column_exists(source.time, source, where.get("time", source.loc), "time column")

    def source_path(self, source: Source) -> None:
        loc = source.locs.get("path", source.loc)
        assert source.path is not None
        if "\x00" in source.path:  # no file system takes it; os.path would raise
            self.out.add(
                "E204",
                "a path cannot hold a NUL character",
                loc,
                "remove the \\0 from the path",
            )
            return
        if source_format(source) is None:
            self.out.add(
                "E412",
                f"cannot tell the format of {source.path!r} from its extension",
                loc,
                "add `format:` (csv, parquet, ndjson or json) or use a known extension",
            )
        root = self.project.root
        what = f"source path {source.path!r}"
        if not self.allow_outside_root:
            # the folder the path (or the glob's fixed start) names, judged before any data
            # is read; then every file it matches, where a symlink may lead elsewhere
            fixed = Path(*_fixed_parts(source.path)) if source.path else Path()
            refused = outside_root(what, [source.file.parent / fixed], root, loc)
            if refused is not None:
                self.out.items.append(refused)
                return
        if not self.data:
            return
        files = matching_files(source, None if self.allow_outside_root else root)
        if not self.allow_outside_root:
            refused = outside_root(what, files, root, loc)
            if refused is not None:
                self.out.items.append(refused)
                return
        if not files:
            self.out.add(
                "E411",
                f"no file matches {source.path!r} (relative to {display_name(source.file.parent)}/)",
                loc,
                "paths are relative to the spec file that names them; check the name, or run with "
                "--no-data to check the specs alone",
            )
            return
        known = read_columns(source, files)
        if known is not None:
            self.file_columns[source.id] = known
            self.columns[source.id] = KnownColumns(
                known.names | frozenset(source.columns), known.how
            )

    def known(self, source: Source | None) -> frozenset[str] | None:
        """The columns a source is known to have (to tell a bare column from a KPI)."""
        if source is None:
            return None
        known = self.columns.get(source.id)
        if known is not None:
            return known.names
        return frozenset(source.columns) or None

    def column_exists(
        self, name: str, source: Source, loc: Loc, what: str, length: int = 1
    ) -> None:
        known = self.columns.get(source.id)
        if known is None or name in known.names:
            return
        self.out.add(
            "E306",
            f"unknown {what} `{name}`: source `{source.id}` has no such column (read from {known.how})",
            loc,
            did_you_mean(name, known.names) or f"columns: {', '.join(sorted(known.names))}",
            length=length,
        )

    def unknown_columns(self, info: FormulaInfo, source: Source, snippet: Snippet) -> None:
        known = self.columns.get(source.id)
        if known is None:
            return
        for name in info.columns:
            if name.name not in known.names:
                _add_at(
                    self.out,
                    "E306",
                    f"unknown column `{name.name}` in source `{source.id}` (read from {known.how})",
                    snippet,
                    name.start,
                    name.end,
                    did_you_mean(name.name, known.names)
                    or f"columns: {', '.join(sorted(known.names))}",
                )

    # ---------------------------------------------------------------- KPIs

    def kpi(self, kpi: Kpi) -> None:
        checked = CheckedKpi(kpi, dimensions=list(kpi.dimensions))
        self.checked[kpi.id] = checked
        self.links(kpi)
        source = None
        if kpi.source is not None:
            source = self.sources.get(kpi.source)
            if source is None:
                self.out.add(
                    "E401",
                    f"unknown source `{kpi.source}`",
                    kpi.locs.get("source", kpi.loc),
                    did_you_mean(kpi.source, self.sources) or self.sources_hint(),
                )
        window = kpi.window
        if window.kind == "rolling" and window.count > MAX_WINDOW[window.unit]:
            self.out.add(
                "E205",
                f"a window of {window.count:,} {window.unit}s is too long",
                kpi.locs.get("window", kpi.loc),
                f"windows reach back at most 100 years ({MAX_WINDOW[window.unit]:,} "
                f"{window.unit}s); for every row before the period, write window: all",
            )
        tree = parse_snippet(self.out, kpi.formula)
        if tree is not None:
            info = analyze(tree, Level.KPI, kpi_ids=self.kpis, columns=self.known(source))  # type: ignore[arg-type]
            _report_formula(self.out, kpi.formula, info)
            checked.formula = info
            if info.aggregates and kpi.source is None:
                first = info.aggregates[0]
                _add_at(
                    self.out,
                    "E310",
                    f"`{first.name}` aggregates rows, but KPI `{kpi.id}` names no source",
                    kpi.formula,
                    first.start,
                    first.name_end,
                    f"add `source:` ({self.sources_hint()})",
                )
            if source is not None:
                self.unknown_columns(info, source, kpi.formula)
                self.time_functions(kpi, source, info)
        if kpi.filter is not None:
            ftree = parse_snippet(self.out, kpi.filter)
            if ftree is not None:
                finfo = analyze(ftree, Level.FILTER, columns=self.known(source))  # type: ignore[arg-type]
                _report_formula(self.out, kpi.filter, finfo)
                checked.filter = finfo
                if source is not None:
                    self.unknown_columns(finfo, source, kpi.filter)
                elif kpi.source is None:
                    self.out.add(
                        "E310",
                        f"KPI `{kpi.id}` has a row filter but no source",
                        kpi.locs.get("filter", kpi.loc),
                        "a filter applies to the rows of the KPI's source; add `source:` or remove the filter",
                    )
        if source is not None:
            if kpi.time is not None:
                self.column_exists(kpi.time, source, kpi.locs.get("time", kpi.loc), "time column")
            for dim, loc in zip(kpi.dimensions, self.dimension_locs(kpi), strict=True):
                self.column_exists(dim, source, loc, "dimension")

    def links(self, kpi: Kpi) -> None:
        """Links may be http, https, mailto or relative; a `javascript:` link runs code."""
        for link in kpi.links:
            problem = link_problem(link.url)
            if problem is None:
                continue
            scheme = problem.startswith("uses")
            self.out.add(
                "E420",
                f"link `{link.url}` is not allowed: it {problem}",
                link.loc or kpi.loc,
                "a link may be http://, https://, mailto: or relative (docs/funnel.html); "
                "javascript:, data: and other schemes could run code in a reader's browser"
                if scheme
                else "write the address without control characters or space around it "
                "(percent-encode a character the address needs, e.g. %20 for a space)",
            )

    def dimension_locs(self, kpi: Kpi) -> list[Loc]:
        locs = kpi.dimension_locs
        if len(locs) == len(kpi.dimensions):
            return locs
        return [kpi.locs.get("dimensions", kpi.loc)] * len(kpi.dimensions)

    def time_functions(self, kpi: Kpi, source: Source, info: FormulaInfo) -> None:
        time = kpi.time if kpi.time_set else source.time
        if time is not None:
            return
        for call in info.aggregates:
            if call.name in ("first", "last"):
                _add_at(
                    self.out,
                    "E309",
                    f"`{call.name}` orders rows by the time column, but KPI `{kpi.id}` has none",
                    kpi.formula,
                    call.start,
                    call.name_end,
                    "give the source (or the KPI) a `time:` column",
                )

    def sources_hint(self) -> str:
        names = list(self.sources)
        return f"sources: {', '.join(names)}" if names else "define a source under `sources:`"

    def cycles(self) -> list[str]:
        """KPI ids in dependency order; every cycle is reported once, in full."""
        order: list[str] = []
        state: dict[str, int] = {}  # 1 visiting, 2 done
        stack: list[str] = []
        reported: set[frozenset[str]] = set()

        def visit(kpi_id: str) -> None:
            state[kpi_id] = 1
            stack.append(kpi_id)
            for dep in self.checked[kpi_id].depends:
                if dep not in self.checked:
                    continue
                if state.get(dep) == 1:
                    cycle = [*stack[stack.index(dep) :], dep]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        self.cycle_error(cycle)
                elif state.get(dep) is None:
                    visit(dep)
            stack.pop()
            state[kpi_id] = 2
            order.append(kpi_id)

        for kpi_id in self.checked:
            if kpi_id not in state:
                visit(kpi_id)
        return order

    def cycle_error(self, cycle: list[str]) -> None:
        first = self.checked[cycle[0]]
        ref = next(n for n in first.formula.kpi_refs if n.name == cycle[1])  # type: ignore[union-attr]
        _add_at(
            self.out,
            "E308",
            f"KPI references form a cycle: {' -> '.join(cycle)}",
            first.kpi.formula,
            ref.start,
            ref.end,
            "a KPI cannot depend on itself; compute one of them from the data instead",
        )

    def derived(self, checked: CheckedKpi) -> None:
        """Dimensions and grains of KPIs built from other KPIs."""
        deps = [self.checked[d] for d in checked.depends if d in self.checked]
        if not deps:
            return
        kpi = checked.kpi
        for dep in deps:
            if dep.kpi.grain != kpi.grain:
                ref = next(n for n in checked.formula.kpi_refs if n.name == dep.kpi.id)  # type: ignore[union-attr]
                _add_at(
                    self.out,
                    "E313",
                    f"KPI `{kpi.id}` (grain {kpi.grain}) references `{dep.kpi.id}` (grain {dep.kpi.grain})",
                    kpi.formula,
                    ref.start,
                    ref.end,
                    "a KPI built from other KPIs needs their grain; set the same `grain:` on both",
                )
        shared = set(deps[0].dimensions)
        for dep in deps[1:]:
            shared &= set(dep.dimensions)
        if kpi.dimensions:
            for dim, loc in zip(kpi.dimensions, self.dimension_locs(kpi), strict=True):
                if dim not in shared:
                    self.out.add(
                        "E403",
                        f"dimension `{dim}` of KPI `{kpi.id}` is not a dimension of every KPI it references",
                        loc,
                        f"the KPIs it references share: {', '.join(sorted(shared)) or 'no dimension'}",
                    )
        else:
            order = [d for dep in deps for d in dep.dimensions]
            checked.dimensions = [d for d in dict.fromkeys(order) if d in shared]

    # ---------------------------------------------------------------- targets

    def target(self, kpi: Kpi, target: Target) -> None:
        at = target.locs
        has_bound = target.min is not None or target.max is not None
        if target.min is not None and target.max is not None and target.min > target.max:
            self.out.add(
                "E500",
                f"target min {target.min:g} is greater than max {target.max:g}",
                at.get("min", target.loc),
                "min is the lower bound and max the upper bound of the range",
            )
        if target.change is not None and target.baseline is None:
            self.out.add(
                "E501",
                "`change` needs a `baseline` to change from",
                at.get("change", target.loc),
                "add baseline: 12.5, or baseline: {period: 2026-09} to compute it from the data",
            )
        if target.change is not None and has_bound:
            self.out.add(
                "E507",
                "a target has either a bound (`min`/`max`) or a `change`, not both",
                at.get("change", target.loc),
                "use min/max for a fixed bound, change+baseline for a relative one",
            )
        if not has_bound and target.change is None:
            self.out.add(
                "E504",
                "the target has no bound",
                target.loc,
                "give `min`, `max`, or `change` with a `baseline`",
            )
        if target.start is not None and target.by is not None and target.start >= target.by:
            self.out.add(
                "E503",
                f"`from` ({target.start}) must be before `by` ({target.by})",
                at.get("from", target.loc),
                "the glide path runs from `from` to the deadline `by`",
            )
        if target.start is not None and target.baseline is None:
            self.out.add(
                "E501",
                "`from` starts a glide path, which needs a `baseline`",
                at.get("from", target.loc),
                "add baseline: (a number or {period: ...}) to glide from",
            )
        if isinstance(target.baseline, str):
            grain = label_grain(target.baseline)
            if grain is None or not _PERIOD.match(target.baseline):
                self.out.add(
                    "E506",
                    f"invalid baseline period {target.baseline!r}",
                    at.get("baseline", target.loc),
                    "write a period label: 2026, 2026-Q3, 2026-09, 2026-W41 or 2026-10-05",
                )
            elif grain != kpi.grain:
                self.out.add(
                    "E506",
                    f"baseline period {target.baseline!r} is a {grain}, but KPI `{kpi.id}` is evaluated per {kpi.grain}",
                    at.get("baseline", target.loc),
                    f"name a {kpi.grain} period, e.g. {_example_label(str(kpi.grain))}",
                )
            elif not _period_in_calendar(target.baseline):
                self.out.add(
                    "E506",
                    f"baseline period {target.baseline!r} is not a date of the calendar "
                    f"(years {FIRST_YEAR} to {LAST_YEAR})",
                    at.get("baseline", target.loc),
                    f"name a {kpi.grain} period, e.g. {_example_label(str(kpi.grain))}",
                )
            elif target.by is not None:
                self.baseline_span(kpi, target, target.baseline, target.by)

    def baseline_span(self, kpi: Kpi, target: Target, baseline: str, by: date) -> None:
        """The periods from a baseline to the deadline are computed together: bound them."""
        from kpispec.engine.periods import parse_label, period_index  # a calendar, no Polars

        first = parse_label(baseline)
        count = period_index(first.grain, by) - first.index + 1
        if count > MAX_PERIODS:
            self.out.add(
                "E508",
                f"from the baseline period {baseline} to the deadline {by} are {count:,} "
                f"{first.grain}s; kpispec computes at most {MAX_PERIODS:,} periods of a grain "
                "at once",
                target.locs.get("baseline", target.loc),
                "choose a later baseline period",
            )

    def milestones(self, kpi: Kpi) -> None:
        if len(kpi.targets) < 2:
            return
        previous: Target | None = None
        for target in kpi.targets:
            if previous is not None and previous.by and target.by and target.by <= previous.by:
                self.out.add(
                    "E502",
                    f"milestones must be in order of `by`: {target.by} is not after {previous.by}",
                    target.locs.get("by", target.loc),
                    "list the milestones from the earliest deadline to the latest",
                )
            previous = target

    # ---------------------------------------------------------------- tests

    def tests(self) -> None:
        for card in self.project.scorecards:
            for test in card.tests:
                kpi = self.kpis.get(test.kpi)
                if kpi is None:
                    self.out.add(
                        "E414",
                        f"test {test.name!r} names unknown KPI `{test.kpi}`",
                        test.locs.get("kpi", test.loc),
                        did_you_mean(test.kpi, self.kpis) or "name a KPI id of the project",
                    )
                    continue
                needed = self.sources_read(kpi.id)
                for source_id, rows in test.rows.items():
                    if source_id not in needed:
                        self.out.add(
                            "E414",
                            f"test {test.name!r} gives rows for `{source_id}`, which KPI `{kpi.id}` does not read",
                            test.row_key_locs.get(source_id, test.locs.get("rows", test.loc)),
                            f"KPI `{kpi.id}` reads: {', '.join(sorted(needed)) or 'no source'}",
                        )
                    elif isinstance(rows, str):
                        self.test_rows_file(test, source_id, rows)
                if test.period is not None:
                    grain = label_grain(test.period)
                    if grain is not None and grain != kpi.grain:
                        self.out.add(
                            "E506",
                            f"test period {test.period!r} is a {grain}, but KPI `{kpi.id}` is evaluated per {kpi.grain}",
                            test.locs.get("period", test.loc),
                            f"name a {kpi.grain} period, e.g. {_example_label(str(kpi.grain))}",
                        )
                    elif grain is not None and not _period_in_calendar(test.period):
                        self.out.add(
                            "E506",
                            f"test period {test.period!r} is not a date of the calendar "
                            f"(years {FIRST_YEAR} to {LAST_YEAR})",
                            test.locs.get("period", test.loc),
                            f"name a {kpi.grain} period, e.g. {_example_label(str(kpi.grain))}",
                        )

    def test_rows_file(self, test: SpecTest, source_id: str, rows: str) -> None:
        """A test's CSV of rows: inside the project (E410), and there (E415)."""
        loc = test.row_value_locs.get(source_id, test.locs.get("rows", test.loc))
        path = test.file.parent / rows
        if not self.allow_outside_root:
            refused = outside_root(f"test data file {rows!r}", [path], self.project.root, loc)
            if refused is not None:
                self.out.items.append(refused)
                return
        if self.data and not is_file(path):
            self.out.add(
                "E415",
                f"test data file {rows!r} does not exist",
                loc,
                "paths are relative to the spec file; put the CSV beside it",
            )

    def sources_read(self, kpi_id: str, seen: set[str] | None = None) -> set[str]:
        seen = seen if seen is not None else set()
        if kpi_id in seen or kpi_id not in self.checked:
            return set()
        seen.add(kpi_id)
        checked = self.checked[kpi_id]
        found = {checked.kpi.source} if checked.kpi.source else set()
        for dep in checked.depends:
            found |= self.sources_read(dep, seen)
        return found

    # ---------------------------------------------------------------- SMART lint

    def lint(self) -> None:
        for kpi in self.project.all_kpis():
            if kpi.owner is None:
                self.warn(
                    "W600",
                    f"KPI `{kpi.id}` has no owner",
                    kpi.locs.get("id", kpi.loc),
                    "a KPI nobody owns is a KPI nobody acts on: add `owner:` to it or to the scorecard",
                )
            if not kpi.targets:
                self.warn(
                    "W601",
                    f"KPI `{kpi.id}` has no target",
                    kpi.locs.get("id", kpi.loc),
                    "SMART: give it a `target:` with a bound (min/max), a deadline (by) and a reason (why)",
                )
                continue
            final = kpi.targets[-1]
            if final.by is None and "by" not in final.locs:  # an invalid `by` is an error already
                self.warn(
                    "W602",
                    f"the target of KPI `{kpi.id}` has no deadline",
                    final.loc,
                    "SMART targets are time-bound: add `by: YYYY-MM-DD`",
                )
            if not any(t.why for t in kpi.targets):
                self.warn(
                    "W603",
                    f"the target of KPI `{kpi.id}` does not say why",
                    final.loc,
                    "SMART targets are relevant: add `why:` naming the objective it serves",
                )

    def warn(self, code: str, message: str, loc: Loc, hint: str) -> None:
        self.out.add(code, message, loc, hint, severity=Severity.WARNING)


def _example_label(grain: str) -> str:
    return {
        "day": "2026-10-05",
        "week": "2026-W41",
        "month": "2026-09",
        "quarter": "2026-Q3",
        "year": "2026",
    }[grain]


def check_project(
    project: Project, *, data: bool = True, allow_outside_root: bool = False
) -> CheckedProject:
    """Run every semantic check. Never raises for problems in the specs."""
    return _Checker(project, data=data, allow_outside_root=allow_outside_root).run()
