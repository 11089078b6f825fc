"""`kpispec diff`: what a change of the specs does, in real throwaway git repositories.

Each test writes a small project, commits it as the base, edits the working tree (or
commits again) and runs `python -m kpispec diff` in a subprocess. The data is five orders,
so every value below is worked out by hand:

    day         amount  status     channel
    2026-09-10  50      done       web
    2026-09-20  30      cancelled  web
    2026-10-05  60      done       web
    2026-10-06  20      done       app
    2026-10-07  40      cancelled  app

As of 2026-11-15 the evaluated month is 2026-10; `--periods 1` compares 2026-09 too.
revenue (done orders) is 50 in September and 80 in October; all orders sum to 80 and
120; there are 2 and 3 orders; per_order = revenue / orders is 25 and 80/3.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from helpers import line_of, write_files

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-15"

ORDERS = """day,amount,status,channel
2026-09-10,50,done,web
2026-09-20,30,cancelled,web
2026-10-05,60,done,web
2026-10-06,20,done,app
2026-10-07,40,cancelled,app
"""

SHOP = """kpispec: 1
scorecard:
  id: shop
  title: Shop
sources:
  - id: orders
    path: ../data/orders.csv
    time: day
    columns: {day: date, amount: number, status: string, channel: string}
kpis:
  - id: revenue
    name: Revenue
    owner: {name: Kari Nordmann}
    source: orders
    formula: sum(amount) filter (where status = 'done')
    unit: number
    dimensions: [channel]
    target:
      min: 100
      by: 2026-12-31
  - id: orders
    name: Orders
    owner: {name: Ola}
    source: orders
    formula: count(*)
  - id: per_order
    name: Revenue per order
    formula: revenue / orders
"""

PROJECT = {
    "kpispec.yaml": 'kpispec: 1\ntitle: Shop\ntimezone: UTC\nspecs: ["scorecards/*.yaml"]\n',
    "scorecards/shop.yaml": SHOP,
    "data/orders.csv": ORDERS,
}

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
        check=True,
    )
    return done.stdout


def make_repo(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_files(repo, files or PROJECT)
    commit(repo, "base")
    return repo


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def edit(repo: Path, name: str, old: str, new: str) -> None:
    path = repo / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def diff(
    repo: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kpispec", "diff", *args, "--as-of", AS_OF],
        capture_output=True,
        text=True,
        cwd=repo,
        env={**os.environ, **GIT_ENV, "GITHUB_STEP_SUMMARY": "", "COLUMNS": "200", **(env or {})},
    )


def diff_json(repo: Path, *args: str) -> dict[str, object]:
    done = diff(repo, "--base", "main", "--format", "json", "--periods", "1", *args)
    assert done.returncode == 0, done.stderr
    data: dict[str, object] = json.loads(done.stdout)
    validator().validate(data)
    return data


def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((ROOT / "schemas" / "diff.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def kpi(data: dict[str, object], kpi_id: str) -> dict[str, object]:
    found = [k for k in data["kpis"] if k["id"] == kpi_id]  # type: ignore[attr-defined]
    assert len(found) == 1, [k["id"] for k in data["kpis"]]  # type: ignore[attr-defined]
    return found[0]  # type: ignore[no-any-return]


# ------------------------------------------------------------------ the cases


def test_a_formula_change_shows_its_value_impact_per_period(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "scorecards/shop.yaml", "formula: sum(amount) filter (where status = 'done')",
         "formula: sum(amount)")  # fmt: skip
    data = diff_json(repo)
    assert data["headline"] == {
        "changed": 1, "indirect": 1, "flips": 1, "targets": 0, "added": 0, "removed": 0,
        "moved": 2,
    }  # fmt: skip
    revenue = kpi(data, "revenue")
    assert revenue["kind"] == "changed"
    line = line_of((repo / "scorecards/shop.yaml").read_text(), "formula: sum(amount)")
    assert revenue["fields"] == [
        {
            "field": "formula",
            "category": "definition",
            "base": "sum(amount) filter (where status = 'done')",
            "head": "sum(amount)",
            "line": line,
        }
    ]
    sep, oct_ = revenue["impact"]  # type: ignore[misc]
    assert (sep["period"], sep["base"], sep["head"], sep["difference"]) == ("2026-09", 50, 80, 30)
    assert sep["relative"] == pytest.approx(60.0)
    assert (oct_["period"], oct_["base"], oct_["head"], oct_["difference"]) == (
        "2026-10", 80, 120, 40,
    )  # fmt: skip
    assert oct_["relative"] == pytest.approx(50.0)
    # October by channel: app 20 -> 60 (the cancelled 40 now counts), web 60 -> 60
    assert oct_["movers"] == [
        {"dimension": "channel", "member": "app", "base": 20, "head": 60, "difference": 40}
    ]
    # 80 missed the target of 100, 120 meets it: one flip, in October
    assert revenue["flips"] == [
        {
            "period": "2026-10", "base": "missed", "head": "met", "base_value": 80,
            "head_value": 120,
            # no tolerance: the at-risk band is empty, its edge the bound itself
            "base_bound": {"min": 100, "max": None, "at_risk_min": 100, "at_risk_max": None},
            "head_bound": {"min": 100, "max": None, "at_risk_min": 100, "at_risk_max": None},
        }
    ]  # fmt: skip
    per_order = kpi(data, "per_order")
    assert per_order["kind"] == "indirect"
    assert per_order["because"] == ["input revenue changed"]
    assert per_order["fields"] == []
    assert [(i["base"], i["head"]) for i in per_order["impact"]] == [  # type: ignore[attr-defined]
        (25, 40),
        (pytest.approx(80 / 3), 40),
    ]
    assert [k["id"] for k in data["kpis"]] == ["revenue", "per_order"]  # type: ignore[attr-defined]


def test_a_target_change_that_flips_missed_to_met(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "scorecards/shop.yaml", "min: 100", "min: 70")
    data = diff_json(repo)
    assert data["headline"] == {
        "changed": 0, "indirect": 0, "flips": 1, "targets": 1, "added": 0, "removed": 0,
        "moved": 0,
    }  # fmt: skip
    revenue = kpi(data, "revenue")
    line = line_of((repo / "scorecards/shop.yaml").read_text(), "min: 70")
    assert revenue["fields"] == [
        {"field": "target.min", "category": "target", "base": "100", "head": "70", "line": line}
    ]
    assert revenue["base"]["status"] == "missed"  # type: ignore[index]
    assert revenue["head"]["status"] == "met"  # type: ignore[index]
    assert revenue["head"]["bound"]["min"] == 70  # type: ignore[index]
    # September (50) misses both bounds: only October flips
    assert [(f["period"], f["base"], f["head"]) for f in revenue["flips"]] == [  # type: ignore[attr-defined]
        ("2026-10", "missed", "met")
    ]
    assert [i["difference"] for i in revenue["impact"]] == [0, 0]  # type: ignore[attr-defined]

    # the annotations, byte for byte: the flip on the target's line, the change on it too
    done = diff(repo, "--base", "main", "--format", "github", "--periods", "1")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"::notice file=scorecards/shop.yaml,line={line},title=KPI Revenue%3A missed → met in "
        "2026-10::Revenue 2026-10: missed → met; value 80, target ≥ 100 → ≥ 70\n"
        f"::notice file=scorecards/shop.yaml,line={line},title=KPI Revenue%3A target.min "
        "changed::target.min: 100 → 70. Value 2026-10: 80 (unchanged).\n"
    )

    # --fail-on: a flip and a target fail the job, a definition change there is none of
    assert diff(repo, "--base", "main", "--fail-on", "flip").returncode == 1
    assert diff(repo, "--base", "main", "--fail-on", "target").returncode == 1
    assert diff(repo, "--base", "main", "--fail-on", "definition").returncode == 0
    bad = diff(repo, "--base", "main", "--fail-on", "values")
    assert bad.returncode == 2 and "E001" in bad.stderr and "Traceback" not in bad.stderr


def test_a_flip_for_the_worse_is_a_warning_annotation(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "scorecards/shop.yaml", "min: 100", "min: 70")
    commit(repo, "lower the bar")
    edit(repo, "scorecards/shop.yaml", "min: 70", "min: 90")
    done = diff(repo, "--base", "main", "--format", "github", "--periods", "0")
    line = line_of((repo / "scorecards/shop.yaml").read_text(), "min: 90")
    assert done.stdout.splitlines()[0] == (
        f"::warning file=scorecards/shop.yaml,line={line},title=KPI Revenue%3A met → missed in "
        "2026-10::Revenue 2026-10: met → missed; value 80, target ≥ 70 → ≥ 90"
    )


def test_a_reformatted_spec_is_no_change(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    reformatted = """kpispec: 1
scorecard: {title: "Shop", id: shop}
sources:
- columns:
    status: string
    channel: string
    day: date
    amount: number
  time: "day"
  path: '../data/orders.csv'
  id: orders
kpis:
- name: "Revenue"
  id: revenue
  formula: >-
    SUM( "amount" )
    FILTER ( WHERE ( status = 'done' ) )
  source: orders
  owner:
    name: Kari Nordmann
  unit: number
  dimensions:
    - channel
  target: {by: 2026-12-31, min: 100.0}
- {id: orders, name: Orders, owner: {name: Ola}, source: orders, formula: "count( * )"}
- id: per_order
  name: Revenue per order
  formula: |
    (revenue) / orders
"""
    (repo / "scorecards/shop.yaml").write_text(reformatted, encoding="utf-8")
    data = diff_json(repo)
    assert data["kpis"] == [] and data["sources"] == [] and data["project"] == []
    done = diff(repo, "--base", "main", "--format", "markdown")
    assert done.returncode == 0
    assert "No change" in done.stdout
    assert "0 KPIs changed, 0 indirectly, 0 status flips" in done.stdout


def test_a_renamed_kpi_is_removed_and_added(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "scorecards/shop.yaml", "  - id: revenue\n    name: Revenue\n",
         "  - id: sales\n    name: Sales\n")  # fmt: skip
    edit(repo, "scorecards/shop.yaml", "formula: revenue / orders", "formula: sales / orders")
    data = diff_json(repo)
    kinds = {k["id"]: k["kind"] for k in data["kpis"]}  # type: ignore[attr-defined]
    assert kinds == {"sales": "added", "revenue": "removed", "per_order": "changed"}
    assert data["headline"]["added"] == 1 and data["headline"]["removed"] == 1  # type: ignore[index]
    removed, added = kpi(data, "revenue"), kpi(data, "sales")
    assert removed["owner"] == added["owner"] == "Kari Nordmann"
    assert removed["base"]["value"] == 80 and removed["head"] is None  # type: ignore[index]
    assert added["head"]["value"] == 80 and added["base"] is None  # type: ignore[index]
    per_order = kpi(data, "per_order")
    assert [f["field"] for f in per_order["fields"]] == ["formula"]  # type: ignore[attr-defined]
    # the same values by another name: the formula changed, the numbers did not
    assert [i["difference"] for i in per_order["impact"]] == [0, 0]  # type: ignore[attr-defined]


def test_a_derived_kpi_changes_with_its_input(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "scorecards/shop.yaml", "formula: count(*)",
         "formula: count(*) filter (where status = 'done')")  # fmt: skip
    data = diff_json(repo)
    orders = kpi(data, "orders")
    assert [(i["base"], i["head"]) for i in orders["impact"]] == [(2, 1), (3, 2)]  # type: ignore[attr-defined]
    per_order = kpi(data, "per_order")
    assert per_order["kind"] == "indirect"
    assert per_order["because"] == ["input orders changed"]
    # October: 80 / 3 -> 80 / 2; September: 50 / 2 -> 50 / 1
    impact = per_order["impact"]
    assert [(i["base"], i["head"]) for i in impact] == [  # type: ignore[attr-defined]
        (25, 50),
        (pytest.approx(80 / 3), 40),
    ]
    assert "revenue" not in [k["id"] for k in data["kpis"]]  # type: ignore[attr-defined]


def test_a_source_path_change_changes_its_kpis(tmp_path: Path) -> None:
    files = {**PROJECT, "data/orders_v2.csv": ORDERS.replace("2026-10-06,20", "2026-10-06,120")}
    repo = make_repo(tmp_path, files)
    edit(repo, "scorecards/shop.yaml", "path: ../data/orders.csv", "path: ../data/orders_v2.csv")
    data = diff_json(repo)
    assert data["sources"] == [
        {
            "id": "orders",
            "file": "scorecards/shop.yaml",
            "line": SHOP.splitlines().index("  - id: orders") + 1,
            "fields": [
                {
                    "field": "path",
                    "category": "definition",
                    "base": "../data/orders.csv",
                    "head": "../data/orders_v2.csv",
                    "line": line_of(SHOP, "path: ../data/orders.csv"),
                }
            ],
            "kpis": ["revenue", "orders"],
        }
    ]
    revenue = kpi(data, "revenue")
    assert revenue["kind"] == "indirect"
    assert revenue["because"] == ["source orders changed (path)"]
    assert revenue["impact"][-1]["base"] == 80 and revenue["impact"][-1]["head"] == 180  # type: ignore[index]
    assert [(f["base"], f["head"]) for f in revenue["flips"]] == [("missed", "met")]  # type: ignore[attr-defined]
    # the number of orders is the same in both files: orders is evaluated, and unchanged
    orders = kpi(data, "orders")
    assert orders["kind"] == "indirect" and [i["difference"] for i in orders["impact"]] == [0, 0]  # type: ignore[attr-defined]
    assert kpi(data, "per_order")["because"] == ["inputs revenue, orders changed"]


def test_invalid_specs_at_either_revision_exit_2_naming_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "scorecards/shop.yaml", "formula: count(*)", "formula: count(*")
    done = diff(repo, "--base", "main")
    assert done.returncode == 2, done.stderr
    assert "invalid specs at the head revision (working tree)" in done.stderr
    assert "scorecards/shop.yaml:" in done.stderr and "E300" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""

    sha = commit(repo, "broken")
    edit(repo, "scorecards/shop.yaml", "formula: count(*", "formula: count(*)")
    done = diff(repo, "--base", "HEAD")
    assert done.returncode == 2, done.stderr
    assert f"invalid specs at the base revision (HEAD ({sha[:7]}))" in done.stderr
    line = line_of(SHOP, "formula: count(*)")
    assert f"HEAD:scorecards/shop.yaml:{line}:" in done.stderr  # the file at that revision
    assert "count(*" in done.stderr  # the line as it is at the base


def test_base_equal_to_head_is_an_empty_diff(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    for args in (("--base", "main"), ("--base", "main", "--head", "HEAD")):
        done = diff(repo, *args, "--format", "json")
        assert done.returncode == 0, done.stderr
        data = json.loads(done.stdout)
        assert data["kpis"] == [] and data["headline"]["flips"] == 0
        assert data["base"]["commit"] == git(repo, "rev-parse", "HEAD").strip()


def test_two_commits_compare_without_the_working_tree(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    first = git(repo, "rev-parse", "HEAD").strip()
    edit(repo, "scorecards/shop.yaml", "min: 100", "min: 70")
    second = commit(repo, "lower")
    edit(repo, "scorecards/shop.yaml", "min: 70", "min: 10")  # not committed: not compared
    done = diff(repo, "--base", first, "--head", second, "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["base"]["label"] == first[:7]
    assert data["head"]["commit"] == second  # type: ignore[index]
    assert data["head"]["label"] == second[:7]  # type: ignore[index]
    fields = kpi(data, "revenue")["fields"]
    assert [(f["base"], f["head"]) for f in fields] == [("100", "70")]  # type: ignore[attr-defined]


def test_diff_touches_neither_the_work_tree_nor_the_index(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "scorecards/shop.yaml", "min: 100", "min: 70")
    git(repo, "add", "scorecards/shop.yaml")  # staged
    edit(repo, "kpispec.yaml", "title: Shop", "title: Shop KPIs")  # not staged
    index = (repo / ".git" / "index").read_bytes()
    status = git(repo, "status", "--porcelain")
    stat = (repo / ".git" / "index").stat().st_mtime_ns
    assert diff(repo, "--base", "main").returncode == 0
    assert (repo / ".git" / "index").read_bytes() == index
    assert (repo / ".git" / "index").stat().st_mtime_ns == stat
    assert git(repo, "status", "--porcelain") == status
    assert (repo / "scorecards/shop.yaml").read_text().count("min: 70") == 1


def test_a_project_added_by_the_change_is_all_added(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_files(repo, {"README.md": "hello\n"})
    commit(repo, "empty")
    write_files(repo, PROJECT)
    data = diff_json(repo)
    assert sorted(k["id"] for k in data["kpis"]) == ["orders", "per_order", "revenue"]  # type: ignore[attr-defined]
    assert data["headline"]["added"] == 3  # type: ignore[index]


def test_command_line_and_data_errors(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    done = diff(repo, "--base", "no-such-branch")
    assert done.returncode == 2 and "E009" in done.stderr and "no-such-branch" in done.stderr
    done = diff(repo)
    assert done.returncode == 2 and "--base" in done.stderr
    done = diff(repo, "--base", "--upload-pack=touch x")
    assert done.returncode == 2 and not (repo / "x").exists()
    outside = tmp_path / "plain"
    write_files(outside, PROJECT)
    done = diff(outside, "--base", "main")
    assert done.returncode == 2 and "E008" in done.stderr
    # a data file both revisions read is gone: a data error, exit 3
    (repo / "data/orders.csv").unlink()
    edit(repo, "scorecards/shop.yaml", "min: 100", "min: 70")
    done = diff(repo, "--base", "main")
    assert done.returncode == 3, done.stderr
    assert "orders.csv" in done.stderr and "Traceback" not in done.stderr


def test_the_text_format_and_outputs(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "scorecards/shop.yaml", "formula: sum(amount) filter (where status = 'done')",
         "formula: sum(amount)")  # fmt: skip
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    done = diff(
        repo, "--base", "main", "--markdown", "out/diff.md", "--json", "out/diff.json",
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.splitlines()[0].startswith("KPI diff: main (")
    assert "1 KPI changed, 1 indirectly, 1 status flip" in out
    assert "revenue: Revenue  definition" in out
    assert "per_order: Revenue per order  indirect" in out
    assert "changed because input revenue changed" in out
    markdown = (repo / "out/diff.md").read_text(encoding="utf-8")
    assert markdown.startswith("<!-- kpispec:diff -->\n## KPI diff: main (")
    assert summary.read_text(encoding="utf-8") == "earlier step\n" + markdown + "\n"
    validator().validate(json.loads((repo / "out/diff.json").read_text(encoding="utf-8")))
    # an output may not overwrite a spec file
    done = diff(repo, "--base", "main", "-o", "scorecards/shop.yaml")
    assert done.returncode == 2 and "E006" in done.stderr
    assert "formula: sum(amount)" in (repo / "scorecards/shop.yaml").read_text()


# ------------------------------------------------------------------ Markdown and JSON


def test_the_markdown_comment_fits_githubs_limit(tmp_path: Path) -> None:
    kpis = "".join(
        f"  - id: k{n}\n    name: KPI number {n} {'with a long name ' * 4}\n    source: orders\n"
        f"    formula: sum(amount)\n    dimensions: [channel]\n    target: {{min: 100}}\n"
        for n in range(400)
    )
    base = SHOP.split("kpis:\n")[0] + "kpis:\n" + kpis
    repo = make_repo(tmp_path, {**PROJECT, "scorecards/shop.yaml": base})
    (repo / "scorecards/shop.yaml").write_text(
        base.replace(
            "formula: sum(amount)\n", "formula: sum(amount) filter (where status = 'done')\n"
        ),
        encoding="utf-8",
    )
    done = diff(repo, "--base", "main", "--format", "markdown")
    assert done.returncode == 0, done.stderr
    body = done.stdout
    assert len(body) <= 65_536
    assert body.startswith("<!-- kpispec:diff -->\n## KPI diff:")
    assert "**400 KPIs changed, 0 indirectly, 400 status flips" in body
    assert body.count("<details>") == body.count("</details>")
    assert body.rstrip().endswith("`kpispec diff` shows the whole report._")
    # every row of a table is whole: it starts and ends with a pipe
    rows = [line for line in body.splitlines() if line.startswith("|")]
    assert rows and all(line.endswith("|") for line in rows)


def test_the_markdown_escapes_names(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "scorecards/shop.yaml", "name: Revenue\n", 'name: "Rev | <b>x</b> [a](http://e)"\n')
    edit(repo, "scorecards/shop.yaml", "min: 100", "min: 70")
    body = diff(repo, "--base", "main", "--format", "markdown").stdout
    assert "Rev \\| &lt;b&gt;x&lt;/b&gt; \\[a\\](http://e)" in body
    assert "<b>x</b>" not in body


def test_the_diff_schema_is_strict() -> None:
    """Every object of the schema lists all its properties as required and allows no other."""
    schema = json.loads((ROOT / "schemas" / "diff.schema.json").read_text(encoding="utf-8"))

    def objects(node: object) -> list[dict[str, object]]:
        found = []
        if isinstance(node, dict):
            if "properties" in node:
                found.append(node)
            for value in node.values():
                found.extend(objects(value))
        elif isinstance(node, list):
            for value in node:
                found.extend(objects(value))
        return found

    for obj in objects(schema):
        assert obj["additionalProperties"] is False
        assert sorted(obj["required"]) == sorted(obj["properties"])  # type: ignore[arg-type]


def test_an_owner_change_is_a_definition_change_that_moves_no_value(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "scorecards/shop.yaml", "owner: {name: Kari Nordmann}", "owner: {name: Per Hansen}")
    data = diff_json(repo)
    (revenue,) = data["kpis"]  # type: ignore[misc]
    assert revenue["id"] == "revenue"
    assert revenue["fields"][0]["field"] == "owner"
    assert (revenue["fields"][0]["base"], revenue["fields"][0]["head"]) == (
        "Kari Nordmann",
        "Per Hansen",
    )
    assert data["headline"]["changed"] == 1 and data["headline"]["moved"] == 0  # type: ignore[index]
    # per_order is built on revenue's values, which an owner does not change
    assert "per_order" not in [k["id"] for k in data["kpis"]]  # type: ignore[attr-defined]


def test_a_name_change_alone_is_metadata_and_evaluates_nothing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "scorecards/shop.yaml", "    name: Orders\n", "    name: Number of orders\n")
    data = diff_json(repo)
    (orders,) = data["kpis"]  # type: ignore[misc]
    assert orders["fields"] == [
        {
            "field": "name",
            "category": "metadata",
            "base": "Orders",
            "head": "Number of orders",
            "line": line_of(SHOP, "name: Orders"),
        }
    ]
    assert orders["base"] is None and orders["head"] is None and orders["impact"] == []
    assert data["headline"]["changed"] == 0  # type: ignore[index]
    assert diff(repo, "--base", "main", "--fail-on", "definition").returncode == 0


# ------------------------------------------------------------------ files and names from a pull request


def test_a_symlinked_spec_at_a_revision_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("kpispec: 1\nscorecard: {id: stolen, title: SECRET-TEXT}\n", encoding="utf-8")
    repo = make_repo(tmp_path)
    (repo / "scorecards" / "stolen.yaml").symlink_to(secret)
    commit(repo, "a symlink out of the project")
    (repo / "scorecards" / "stolen.yaml").unlink()
    done = diff(repo, "--base", "HEAD")
    assert done.returncode == 2, done.stderr
    assert "HEAD:scorecards/stolen.yaml" in done.stderr
    assert "symlink is not followed" in done.stderr
    assert "SECRET-TEXT" not in done.stderr + done.stdout


def test_a_data_path_out_of_the_project_at_the_base_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text(ORDERS, encoding="utf-8")
    repo = make_repo(tmp_path)
    edit(repo, "scorecards/shop.yaml", "path: ../data/orders.csv", f"path: {outside}")
    commit(repo, "read a file outside")
    edit(repo, "scorecards/shop.yaml", f"path: {outside}", "path: ../data/orders.csv")
    done = diff(repo, "--base", "HEAD")
    assert done.returncode == 2, done.stderr
    assert "E410" in done.stderr and "HEAD:scorecards/shop.yaml" in done.stderr


def test_names_cannot_write_workflow_commands_or_markup(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    evil = "Revenue\\n::error file=evil.yaml,line=1::pwned"
    edit(repo, "scorecards/shop.yaml", "    name: Revenue\n", f'    name: "{evil}"\n')
    commit(repo, "an evil name")
    edit(repo, "scorecards/shop.yaml", "min: 100", "min: 70")
    for format in ("text", "markdown", "github", "json"):
        done = diff(repo, "--base", "HEAD", "--format", format)
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert not any(line.lstrip().startswith("::error") for line in lines), format
        if format == "github":
            assert all(line.startswith("::notice ") for line in lines), lines
            assert "Revenue%0A::error file=evil.yaml" in done.stdout


# ------------------------------------------------------------------ edge cases


def test_a_grain_change_compares_each_revisions_evaluated_period(tmp_path: Path) -> None:
    gross = "  - {id: gross, name: Gross, source: orders, formula: count(*)}\n"
    repo = make_repo(tmp_path, {**PROJECT, "scorecards/shop.yaml": SHOP + gross})
    edit(repo, "scorecards/shop.yaml", "formula: count(*)}", "formula: count(*), grain: week}")
    data = diff_json(repo)
    orders = kpi(data, "gross")
    assert [f["field"] for f in orders["fields"]] == ["grain"]
    # no week is a month: nothing is compared period by period, nothing flips
    assert orders["impact"] == [] and orders["flips"] == []
    assert orders["base"]["period"] == "2026-10" and orders["base"]["value"] == 3  # type: ignore[index]
    assert orders["head"]["period"] == "2026-W45"  # type: ignore[index]
    text = diff(repo, "--base", "main").stdout
    assert "the values are the same" not in text


def test_a_path_is_compared_where_it_leads(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (repo / "scorecards" / "eu").mkdir()
    git(repo, "mv", "scorecards/shop.yaml", "scorecards/eu/shop.yaml")
    edit(repo, "kpispec.yaml", 'specs: ["scorecards/*.yaml"]', 'specs: ["scorecards/**/*.yaml"]')
    # the same text now names another file ...
    write_files(repo, {"scorecards/data/orders.csv": ORDERS.replace(",60,", ",600,")})
    data = diff_json(repo)
    (source,) = data["sources"]  # type: ignore[misc]
    assert [f["field"] for f in source["fields"]] == ["path"]
    assert kpi(data, "revenue")["impact"][-1]["head"] == 620  # type: ignore[index]
    # ... and another text the same file: no change of the source
    edit(repo, "scorecards/eu/shop.yaml", "path: ../data/orders.csv", "path: ../../data/orders.csv")
    data = diff_json(repo)
    assert data["sources"] == [] and data["headline"]["indirect"] == 0  # type: ignore[index]


def test_sql_is_compared_by_its_tokens(tmp_path: Path) -> None:
    import duckdb

    repo = make_repo(tmp_path)
    con = duckdb.connect(str(repo / "data" / "w.duckdb"))
    con.execute("create table t(day date, amount double, note varchar)")
    con.execute("insert into t values ('2026-10-05', 10, 'a b'), ('2026-10-06', 5, 'a  b')")
    con.close()
    edit(
        repo,
        "kpispec.yaml",
        "timezone: UTC\n",
        "timezone: UTC\nconnections:\n  wh: {url: 'duckdb:///data/w.duckdb'}\n",
    )
    write_files(
        repo,
        {
            "scorecards/sql.yaml": "kpispec: 1\nscorecard: {id: sq, title: SQ}\nsources:\n"
            "  - id: notes\n    connection: wh\n    sql: \"SELECT day, amount FROM t WHERE note = 'a b'\"\n"
            "    time: day\nkpis:\n  - {id: noted, source: notes, formula: sum(amount)}\n"
        },
    )
    commit(repo, "sql")
    # layout and keyword case are no change
    edit(
        repo,
        "scorecards/sql.yaml",
        "SELECT day, amount FROM t WHERE",
        "select day,  amount\\n from t where",
    )
    assert diff_json(repo, "--base", "HEAD")["sources"] == []
    # a string literal's text is
    edit(repo, "scorecards/sql.yaml", "note = 'a b'", "note = 'a  b'")
    data = diff_json(repo, "--base", "HEAD")
    assert [f["field"] for f in data["sources"][0]["fields"]] == ["sql"]  # type: ignore[index]
    assert kpi(data, "noted")["impact"][-1]["base"] == 10  # type: ignore[index]
    assert kpi(data, "noted")["impact"][-1]["head"] == 5  # type: ignore[index]


def test_a_member_that_goes_is_the_one_that_moved_most(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "scorecards/shop.yaml", "formula: sum(amount) filter (where status = 'done')",
         "formula: sum(amount) filter (where status = 'done' and channel <> 'web')")  # fmt: skip
    data = diff_json(repo)
    october = kpi(data, "revenue")["impact"][-1]  # type: ignore[index]
    # web (60) is gone from October; app (20) stays
    assert october["movers"] == [
        {"dimension": "channel", "member": "web", "base": 60, "head": None, "difference": None}
    ]


def test_a_repository_that_gains_its_first_project(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_files(repo, {"mkdocs.yml": "site_name: Docs\n"})  # YAML that is no spec
    commit(repo, "docs")
    write_files(repo, PROJECT)
    data = diff_json(repo)
    assert data["headline"]["added"] == 3  # type: ignore[index]


def test_specs_globs_with_dots_and_absolute_paths_match_at_a_revision(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    first = git(repo, "rev-parse", "HEAD").strip()
    for pattern in ("scorecards/../scorecards/*.yaml", f"{repo}/scorecards/*.yaml"):
        edit(repo, "kpispec.yaml", 'specs: ["scorecards/*.yaml"]', f'specs: ["{pattern}"]')
        commit(repo, pattern)
        edit(repo, "scorecards/shop.yaml", "min: 100", "min: 70")
        data = diff_json(repo, "--base", "HEAD")
        assert data["headline"]["targets"] == 1  # type: ignore[index]
        git(repo, "reset", "-q", "--hard", first)


def test_a_yaml_error_at_a_revision_shows_its_line(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "scorecards/shop.yaml", "  title: Shop\n", "  title: Shop\n\ttitle]: x\n")
    commit(repo, "broken")
    edit(repo, "scorecards/shop.yaml", "  title: Shop\n\ttitle]: x\n", "  title: Shop\n")
    done = diff(repo, "--base", "HEAD")
    assert done.returncode == 2 and "E103" in done.stderr, done.stderr
    assert "title]: x" in done.stderr  # the line as it is at HEAD, not in the working tree


def test_losing_the_value_is_a_flip_for_the_worse(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "scorecards/shop.yaml", "formula: sum(amount) filter (where status = 'done')",
         "formula: sum(amount) filter (where status = 'none')")  # fmt: skip
    done = diff(repo, "--base", "main", "--format", "github", "--periods", "0")
    assert done.stdout.startswith("::warning ") and "missed → no data" in done.stdout


def test_a_source_change_is_annotated_on_its_own_line(tmp_path: Path) -> None:
    files = {**PROJECT, "data/orders_v2.csv": ORDERS}
    repo = make_repo(tmp_path, files)
    edit(repo, "scorecards/shop.yaml", "path: ../data/orders.csv", "path: ../data/orders_v2.csv")
    edit(repo, "kpispec.yaml", "title: Shop\n", "title: Shop KPIs\n")
    done = diff(repo, "--base", "main", "--format", "github")
    line = line_of(SHOP, "path: ../data/orders.csv")
    assert (
        f"::notice file=scorecards/shop.yaml,line={line},title=Source orders%3A path changed::"
        "path: ../data/orders.csv → ../data/orders_v2.csv (read by revenue, orders)."
    ) in done.stdout.splitlines()
    assert (
        "::notice file=kpispec.yaml,line=2,title=Project setting title changed::"
        "title: Shop → Shop KPIs."
    ) in done.stdout.splitlines()


def test_the_markdown_summary_lines_are_html(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "scorecards/shop.yaml", "name: Revenue\n", 'name: "Rev <b>x</b> a_b"\n')
    edit(repo, "scorecards/shop.yaml", "min: 100", "min: 70")
    body = diff(repo, "--base", "main", "--format", "markdown").stdout
    assert (
        "<summary><b>Rev &lt;b&gt;x&lt;/b&gt; a_b</b> (revenue): definition, target</summary>"
        not in body
    )
    assert "<summary><b>Rev &lt;b&gt;x&lt;/b&gt; a_b</b> (revenue): target</summary>" in body
    assert "Defined in scorecards/shop.yaml, line" in body


def test_a_change_of_a_joined_source_changes_the_kpis_of_the_joining_one(tmp_path: Path) -> None:
    lookup = "channel,kind\nweb,online\napp,online\n"
    shop = SHOP.replace(
        "    columns: {day: date, amount: number, status: string, channel: string}\n",
        "    columns: {day: date, amount: number, status: string, channel: string}\n"
        "    joins: [{source: channels, on: channel}]\n"
        "  - {id: channels, path: ../data/channels.csv}\n",
    )
    files = {**PROJECT, "scorecards/shop.yaml": shop, "data/channels.csv": lookup,
             "data/channels_v2.csv": "channel,kind\nweb,online\napp,mobile\n"}  # fmt: skip
    repo = make_repo(tmp_path, files)
    edit(
        repo, "scorecards/shop.yaml", "path: ../data/channels.csv", "path: ../data/channels_v2.csv"
    )
    data = diff_json(repo)
    revenue = kpi(data, "revenue")
    assert revenue["kind"] == "indirect"
    assert revenue["because"] == ["source orders changed (joined source channels changed)"]
    # a change of the joins themselves is a change of the source
    edit(repo, "scorecards/shop.yaml", "    joins: [{source: channels, on: channel}]\n", "")
    data = diff_json(repo)
    (source,) = [s for s in data["sources"] if s["id"] == "orders"]  # type: ignore[attr-defined]
    assert [(f["field"], f["base"], f["head"]) for f in source["fields"]] == [
        ("joins", "channels on channel", None)
    ]


def test_a_project_removed_at_the_head_writes_its_report(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    git(repo, "rm", "-q", "-r", "scorecards", "kpispec.yaml")
    head = commit(repo, "no more KPIs")
    write_files(repo, PROJECT)  # the working tree still has them: PATH names the project
    done = diff(repo, "--base", "main~1", "--head", head, "-f", "json", "-o", "out/diff.json")
    assert done.returncode == 0, done.stderr
    data = json.loads((repo / "out" / "diff.json").read_text(encoding="utf-8"))
    assert sorted(k["id"] for k in data["kpis"]) == ["orders", "per_order", "revenue"]
    assert {k["kind"] for k in data["kpis"]} == {"removed"}
    outside = tmp_path / "elsewhere.json"
    (repo / "link.json").symlink_to(outside)
    done = diff(repo, "--base", "main~1", "--head", head, "-f", "json", "-o", "link.json")
    assert done.returncode == 2 and "E410" in done.stderr and not outside.exists()
