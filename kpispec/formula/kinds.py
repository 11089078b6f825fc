"""The kinds of value a formula computes with (the type system of the language)."""

from __future__ import annotations

from enum import Enum


class Kind(Enum):
    """What a value is. Every numeric type is ``NUMBER``: the engine computes in floats."""

    NUMBER = "number"
    TEXT = "text"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    DURATION = "duration"
    NULL = "null"  #: the literal null, or a column without values: fits anywhere
    UNKNOWN = "unknown"  #: not known before the data is read (a SQL source): fits anywhere

    def __str__(self) -> str:
        return self.value


#: Kinds that fit any rule: nothing can be said against them before the data is read.
ANY = frozenset({Kind.NULL, Kind.UNKNOWN})
TEMPORAL = frozenset({Kind.DATE, Kind.TIMESTAMP})
