"""The stages stay in their lanes: reports render a saved results document without the engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import kpispec
from kpispec.results import dumps

ROOT = Path(__file__).resolve().parents[1]


def test_rendering_a_saved_document_imports_no_polars(tmp_path: Path) -> None:
    doc = kpispec.evaluate(ROOT / "specs", as_of="2026-11-22")
    saved = tmp_path / "results.json"
    saved.write_text(dumps(doc), encoding="utf-8")
    code = (
        "import json, sys\n"
        "import kpispec\n"
        f"files = kpispec.render(json.load(open({str(saved)!r})), {str(tmp_path / 'site')!r})\n"
        "print(len(files), 'polars' in sys.modules, 'duckdb' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    count, polars, duckdb = out.stdout.split()
    assert int(count) > 50
    assert (polars, duckdb) == ("False", "False")
    assert (tmp_path / "site" / "index.html").is_file()
