"""Which aggregates decompose into partial aggregates, and how partials roll up.

A partial is computed per bucket of time and member of every dimension; coarser groupings
(the total, one dimension), longer periods and windows are combined from partials, never
from rows again:

========== ==================== =========================================
aggregate  partials             finish
========== ==================== =========================================
count(*)   rows                 rows (0 over no rows)
count(x)   count                count (0 over no rows)
sum(x)     sum, count           sum if count > 0, else null
avg(x)     sum, count           sum / count if count > 0
share(x)   sum, count           sum / count if count > 0 (x boolean)
min, max   min / max            min / max
stddev(x)  sum, count, m2       sqrt(m2 / (count - 1)) if count > 1
========== ==================== =========================================

``rows``, ``count`` and ``sum`` roll up by summing, ``min``/``max`` by min/max, and ``m2``
(the sum of squared deviations from the bucket's mean) by the parallel formula of Chan et
al.: the parts' m2 plus each part's count times its mean's squared distance from the
whole's mean, which stays exact where a sum of squares would cancel. ``count(distinct)``,
``median``, ``percentile``, ``first`` and ``last`` do not decompose: they read rows.
"""

from __future__ import annotations

from enum import StrEnum

from kpispec.formula.nodes import Call


class Op(StrEnum):
    ROWS = "rows"  #: rows kept
    COUNT = "count"  #: non-null values kept
    SUM = "sum"  #: sum of the values kept, as numbers
    MIN = "min"
    MAX = "max"
    M2 = "m2"  #: sum of squared deviations from the mean of the values kept


#: aggregate function -> the partials it is finished from, in the order its finish reads them
DECOMPOSED: dict[str, tuple[Op, ...]] = {
    "sum": (Op.SUM, Op.COUNT),
    "avg": (Op.SUM, Op.COUNT),
    "share": (Op.SUM, Op.COUNT),
    "min": (Op.MIN,),
    "max": (Op.MAX,),
    "stddev": (Op.SUM, Op.COUNT, Op.M2),
}

#: partials whose value over no rows is 0 (the others are null)
ZERO_WHEN_EMPTY = frozenset({Op.ROWS, Op.COUNT})

#: partials read from the argument as a number (the others keep its type)
NUMERIC = frozenset({Op.SUM, Op.M2})


def partials_of(call: Call) -> tuple[Op, ...] | None:
    """The partials an aggregate call is finished from, or None if it reads rows."""
    if call.name == "count":
        if call.distinct:
            return None
        return (Op.ROWS,) if call.star else (Op.COUNT,)
    return DECOMPOSED.get(call.name)
