"""The stages stay in their lanes: reports and the gate read only the typed results.

Rendering a saved results document, and every ``check`` format from it, loads no module of
the spec language, the formula front end or the engine, nor PyYAML or Polars: each is run
in a fresh interpreter and its ``sys.modules`` inspected.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import kpispec
from kpispec.results import ResultsError, Status, from_dict, from_json, to_dict, to_json

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-22"
#: Modules a reader of saved results must not load.
FORBIDDEN = ("kpispec.spec", "kpispec.formula", "kpispec.engine", "yaml", "polars", "duckdb")

PROBE = """
import json, sys
FORBIDDEN = {forbidden!r}
{body}
loaded = sorted(m for m in sys.modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))
print(json.dumps({{"out": out, "loaded": loaded}}))
"""


def _probe(body: str) -> dict[str, object]:
    code = PROBE.format(forbidden=FORBIDDEN, body=body)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("layering") / "results.json"
    path.write_text(to_json(kpispec.evaluate(ROOT / "specs", as_of=AS_OF)), encoding="utf-8")
    return path


def test_rendering_a_saved_document_loads_neither_spec_nor_engine(
    saved: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    got = _probe(f"import kpispec\nout = len(kpispec.render({str(saved)!r}, {str(site)!r}))")
    assert got["loaded"] == []
    assert isinstance(got["out"], int) and got["out"] > 50
    assert (site / "index.html").is_file()


def test_check_formats_from_a_saved_document_load_neither_spec_nor_engine(saved: Path) -> None:
    body = f"""
import io
from rich.console import Console
from kpispec.gate import github, junit, markdown, text
from kpispec.gate.verdict import judge
from kpispec.report.tables import print_table, to_csv
from kpispec.results import from_json, to_json
results = from_json(open({str(saved)!r}, encoding="utf-8").read())
verdict = judge(results)
buffer = io.StringIO()
print_table(results, Console(file=buffer, width=120, color_system=None))
out = [text.render(verdict, "specs/"), junit.render(verdict), github.render(verdict),
       markdown.render(verdict, results), to_csv(results), buffer.getvalue(),
       to_json(results, verdict=verdict.to_json())]
"""
    got = _probe(body)
    assert got["loaded"] == []
    outputs = got["out"]
    assert isinstance(outputs, list)
    golden = ROOT / "tests" / "golden" / "example"
    check_text = (golden / "check.text").read_text(encoding="utf-8").split("\n", 1)[1]
    assert outputs[0] == check_text  # the same verdict as `kpispec check` on the specs
    assert outputs[3].startswith("## KPI scorecard check")
    assert outputs[4] == (golden / "eval.csv").read_text(encoding="utf-8").split("\n", 1)[1]
    assert outputs[6] == (golden / "check.json").read_text(encoding="utf-8").split("\n", 1)[1]


def test_a_saved_document_reads_back_to_the_same_results_and_bytes(saved: Path) -> None:
    text = saved.read_text(encoding="utf-8")
    results = from_json(text)
    assert to_json(results) == text
    assert from_dict(json.loads(text)) == results
    assert from_json(to_json(results)) == results
    statuses = {p.status for _, kpi in results.kpis() for p in (kpi, *kpi.series)}
    assert {Status.MET, Status.AT_RISK, Status.MISSED, Status.NO_DATA} <= statuses
    assert all(isinstance(p.status, Status) for _, k in results.kpis() for p in k.series)


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda d: d["scorecards"][0]["kpis"][0].update(status="ok"), "kpis/0/status"),
        (lambda d: d.update(kpispec_results=2), "kpispec_results"),
        (lambda d: d["scorecards"][0]["kpis"][0].pop("series"), "kpis/0"),
        (lambda d: d.update(extra=1), "(top)"),
    ],
)
def test_a_document_off_the_schema_is_e007(saved: Path, edit: object, where: str) -> None:
    doc = json.loads(saved.read_text(encoding="utf-8"))
    edit(doc)  # type: ignore[operator]  # the parametrized editors
    with pytest.raises(ResultsError) as caught:
        from_dict(doc, where="results.json")
    [d] = caught.value.diagnostics
    assert (d.code, str(d.loc)) == ("E007", "results.json")
    assert where in d.message


def test_text_that_is_not_json_is_e007() -> None:
    with pytest.raises(ResultsError) as caught:
        from_json("{not json")
    assert caught.value.diagnostics[0].code == "E007"


def test_render_accepts_the_model_a_path_json_text_and_data(saved: Path, tmp_path: Path) -> None:
    text = saved.read_text(encoding="utf-8")
    results = from_json(text)
    built = {}
    for name, doc in [
        ("model", results),
        ("path", saved),
        ("text", text),
        ("data", to_dict(results)),
    ]:
        out = tmp_path / name
        kpispec.render(doc, out)
        built[name] = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*.html")}
    assert built["model"] and all(files == built["model"] for files in built.values())


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


#: package -> the kpispec packages it must never import (lower stages know nothing of upper
#: ones; the gate and the reports are siblings that share only modules below them).
FORBIDDEN = {
    "formula": ("kpispec.spec", "kpispec.engine", "kpispec.report", "kpispec.gate"),
    "spec": ("kpispec.engine", "kpispec.report", "kpispec.gate", "kpispec.results"),
    "results": ("kpispec.spec", "kpispec.formula", "kpispec.engine", "kpispec.report"),
    "gate": ("kpispec.spec", "kpispec.formula", "kpispec.engine", "kpispec.report"),
    "report": ("kpispec.spec", "kpispec.formula", "kpispec.engine", "kpispec.gate"),
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_package_imports_a_stage_above_or_beside_it(package: str) -> None:
    """Read from the source (every import, lazy ones and type-only ones included)."""
    import ast

    found = []
    for path in sorted((ROOT / "kpispec" / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                if name.startswith(FORBIDDEN[package]):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert found == []
