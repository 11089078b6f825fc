"""The first day of a period, from its label: what a report needs of the period grammar.

Labels in a results document are already valid (the schema's ``period_label``), so this
reads them without judging them; the grammar itself lives with the engine's periods.
"""

from __future__ import annotations

from datetime import date


def label_start(label: str) -> str:
    """``2026-Q4`` -> ``2026-10-01``; ``2026-W41`` -> that ISO week's Monday (ISO text)."""
    year = int(label[:4])
    rest = label[5:]
    if not rest:
        day = date(year, 1, 1)
    elif rest.startswith("Q"):
        day = date(year, 3 * int(rest[1:]) - 2, 1)
    elif rest.startswith("W"):
        day = date.fromisocalendar(year, int(rest[1:]), 1)
    elif len(rest) == 2:
        day = date(year, int(rest), 1)
    else:
        day = date.fromisoformat(label)
    return day.isoformat()
