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


def test_the_formula_front_end_and_a_csv_validate_import_no_polars(tmp_path: Path) -> None:
    """formula/ knows no engine; validating a CSV project types its columns without Polars."""
    (tmp_path / "s.csv").write_text("at,n,name\n2026-01-05,1,anna\n", encoding="utf-8")
    (tmp_path / "kpispec.yaml").write_text("kpispec: 1\n", encoding="utf-8")
    (tmp_path / "s.yaml").write_text(
        "kpispec: 1\nscorecard: {id: t, title: T}\n"
        "sources:\n  - {id: s, path: s.csv, time: at}\n"
        "kpis:\n  - {id: k, source: s, formula: 'sum(name)'}\n",
        encoding="utf-8",
    )
    code = (
        "import pkgutil, runpy, sys, importlib\n"
        "import kpispec.formula as f\n"
        "for m in pkgutil.iter_modules(f.__path__): importlib.import_module(f'kpispec.formula.{m.name}')\n"
        "front = 'polars' in sys.modules\n"
        f"sys.argv = ['kpispec', 'validate', {str(tmp_path)!r}]\n"
        "try:\n    runpy.run_module('kpispec', run_name='__main__')\n"
        "except SystemExit as exc:\n    status = exc.code\n"
        "print(front, 'polars' in sys.modules, status, file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "error[E314]" in out.stdout  # the type check ran, on kinds from the CSV
    assert out.stderr.split()[-3:] == ["False", "False", "2"]
