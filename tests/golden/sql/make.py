"""Write the golden SQL text of the example project, one file per dialect.

    python tests/golden/sql/make.py

Only after a change that is meant to change the SQL kpispec writes; review the diff.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from test_sql_engines import DIALECTS, sql_text  # noqa: E402

for dialect in DIALECTS:
    (HERE / f"{dialect}.sql").write_text(sql_text(dialect), encoding="utf-8")
    print(f"wrote {dialect}.sql")
