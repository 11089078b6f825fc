"""The registry of diagnostic codes: each code once, with its title, severity and exit class.

Every diagnostic kpispec emits names a code registered here (a :class:`Diagnostic` with
an unregistered code is a bug and fails as one). docs/diagnostics.md has one section per
code, titled as here; tests/test_invalid_corpus.py checks both directions.

Codes are grouped by the hundreds: E0xx the command line, E1xx loading and YAML, E2xx the
schema, E3xx formulas, E4xx references and the project, E5xx targets, W6xx the SMART lint
(warnings), D1xx data and sources (found when evaluating).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitClass(IntEnum):
    """The exit status a code's error leads to."""

    OK = 0  #: warnings: the specs stay valid (errors under ``--strict``)
    INVALID = 2  #: invalid specs or usage
    DATA = 3  #: a source could not be read or evaluated


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    title: str

    @property
    def is_warning(self) -> bool:
        return self.code.startswith("W")

    @property
    def exit_class(self) -> ExitClass:
        if self.is_warning:
            return ExitClass.OK
        return (
            ExitClass.DATA
            if self.code.startswith("D") or self.code in DATA_CODES
            else ExitClass.INVALID
        )

    def __str__(self) -> str:
        return self.code


#: Every registered code, by its name.
REGISTRY: dict[str, Code] = {}

#: Validation codes about the data rather than the specs: evaluation reports them as data
#: errors (exit status 3) in its own terms.
DATA_CODES = frozenset({"E411"})


def _code(code: str, title: str) -> str:
    assert code not in REGISTRY, f"{code} is registered twice"
    REGISTRY[code] = Code(code, title)
    return code


def is_registered(code: str) -> bool:
    return code in REGISTRY


E001 = _code("E001", "invalid command-line option")
E002 = _code("E002", "the output is the wrong kind")
E003 = _code("E003", "the output folder holds other files")
E004 = _code("E004", "the output folder would hold the project")
E005 = _code("E005", "the output cannot be written")
E006 = _code("E006", "the output would overwrite an input")
E007 = _code("E007", "not a results document")
E008 = _code("E008", "not a git repository")
E009 = _code("E009", "unknown git revision")
E010 = _code("E010", "cannot post the comment")
E100 = _code("E100", "cannot read file")
E101 = _code("E101", "file too large")
E102 = _code("E102", "binary or not UTF-8")
E103 = _code("E103", "invalid YAML")
E104 = _code("E104", "duplicate key")
E105 = _code("E105", "aliases expand too far")
E106 = _code("E106", "unsupported YAML tag")
E107 = _code("E107", "not a single YAML mapping")
E200 = _code("E200", "unknown key")
E201 = _code("E201", "missing required key")
E202 = _code("E202", "wrong type")
E203 = _code("E203", "value not allowed")
E204 = _code("E204", "badly formed value")
E205 = _code("E205", "number or list out of range")
E206 = _code("E206", "unsupported language version")
E207 = _code("E207", "keys that do not go together")
E208 = _code("E208", "other schema error")
E300 = _code("E300", "formula syntax error")
E301 = _code("E301", "unknown function")
E302 = _code("E302", "wrong arguments")
E303 = _code("E303", "column outside an aggregate")
E304 = _code("E304", "aggregate inside an aggregate")
E305 = _code("E305", "aggregate in a row filter")
E306 = _code("E306", "unknown column")
E307 = _code("E307", "unknown KPI")
E308 = _code("E308", "cycle of KPI references")
E309 = _code("E309", "invalid argument value")
E310 = _code("E310", "aggregate or filter without a source")
E312 = _code("E312", "filter on a non-aggregate")
E313 = _code("E313", "grain mismatch")
E314 = _code("E314", "type error in a formula")
E400 = _code("E400", "duplicate id")
E401 = _code("E401", "unknown source")
E402 = _code("E402", "unknown connection")
E403 = _code("E403", "dimension not shared")
E405 = _code("E405", "credentials in a connection URL")
E406 = _code("E406", "unknown time zone")
E407 = _code("E407", "unknown locale")
E408 = _code("E408", "unknown currency")
E410 = _code("E410", "a file outside the project")
E411 = _code("E411", "no file matches the path")
E412 = _code("E412", "unknown file format")
E413 = _code("E413", "no spec files")
E414 = _code("E414", "test of an unknown KPI or source")
E415 = _code("E415", "missing test data file")
E416 = _code("E416", "cycle of source joins")
E420 = _code("E420", "link not allowed")
E500 = _code("E500", "min greater than max")
E501 = _code("E501", "change or glide path without a baseline")
E502 = _code("E502", "milestones out of order")
E503 = _code("E503", "`from` not before `by`")
E504 = _code("E504", "target without a bound")
E506 = _code("E506", "period of the wrong grain")
E507 = _code("E507", "bound and change together")
E508 = _code("E508", "too many periods to compute")
W600 = _code("W600", "KPI without owner")
W601 = _code("W601", "KPI without target")
W602 = _code("W602", "target without deadline")
W603 = _code("W603", "target without why")
D101 = _code("D101", "no data file")
D102 = _code("D102", "a file that cannot be read")
D103 = _code("D103", "a value that does not parse")
D104 = _code("D104", "a missing column")
D105 = _code("D105", "a type error")
D106 = _code("D106", "cannot connect to the database")
D107 = _code("D107", "the query failed")
D108 = _code("D108", "an environment variable is not set")
D109 = _code("D109", "a query that does more than read")
D110 = _code("D110", "what an SQL engine cannot read or compute exactly")
D111 = _code("D111", "the API refused or could not be reached")
D112 = _code("D112", "a joined source's key is not unique")
