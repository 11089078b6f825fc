"""The hostile corpus: specs and command lines written by an attacker or a careless user.

Each case is a folder under tests/hostile/ holding ``case.toml`` and the files of the
case (usually a ``project/`` folder). The folder is copied to a fresh temporary place
``<tmp>/case/``; beside it ``<tmp>/outside/`` holds ``secret.txt`` (a line that must never
appear in any output), ``keep/`` (a folder with a file) and ``data.csv`` (a valid CSV), none
of which may be read or changed. ``case.toml`` says:

    description = "what the attacker tries"
    class = "confinement" | "escaping" | "data-loss" | "internal" | "real-data"
    argv = ["eval", "project"]          # kpispec's arguments; run as `python -m kpispec`
    cwd = "."                           # relative to the case copy (default ".")
    exit = 2                            # the expected exit status
    contains = ["E410"]                 # substrings of stdout + stderr
    not_contains = ["root:x:0"]         # substrings that must not appear
    forbidden_lines = ["^::error file=evil"]  # regexes no output line may match
    symlinks = { "project/data/p.csv" = "{outside}/secret.txt" }  # made before the run
    fifos = ["project/site/pipe"]       # named pipes made before the run
    dirs = ["project/site/empty"]       # empty folders made before the run
    preserved = ["project/site/empty"]  # paths that must still exist (same kind) after
    absent = ["project/out.json"]       # paths that must not exist after
    files_contain = { "project/out.json" = ["text"] }   # written files hold these
    files_lack = { "project/site" = ["OUTSIDE-SECRET"] } # a file, or every file below a folder
    env = { "PGPASSWORD" = "x" }         # extra environment variables

``{outside}`` and ``{case}`` in argv, symlink targets and env are replaced by those folders.
Whatever the case, the run must not print a traceback or an internal error, must not
print the outside secret, and must leave ``outside/`` exactly as it was.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

HOSTILE = Path(__file__).resolve().parent / "hostile"
SECRET = "OUTSIDE-SECRET-5f1c"
CASES = sorted(p.name for p in HOSTILE.iterdir() if (p / "case.toml").is_file())
CLASSES = {"confinement", "escaping", "data-loss", "internal", "real-data"}


def _snapshot(folder: Path) -> dict[str, tuple[str, bytes | str]]:
    """Every entry below ``folder`` with its kind and content (or link target)."""
    seen: dict[str, tuple[str, bytes | str]] = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.is_symlink():
            seen[rel] = ("link", os.readlink(path))
        elif path.is_dir():
            seen[rel] = ("dir", "")
        elif path.is_file():
            seen[rel] = ("file", path.read_bytes())
        else:
            seen[rel] = ("other", stat.filemode(path.lstat().st_mode))
    return seen


def _kind(path: Path) -> str:
    if path.is_symlink():
        return "link"
    mode = path.lstat().st_mode
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "file"


def _files_below(path: Path) -> list[Path]:
    if path.is_dir() and not path.is_symlink():
        return [p for p in path.rglob("*") if p.is_file() and not p.is_symlink()]
    return [path]


def _expand(value: str, subst: dict[str, str]) -> str:
    for key, real in subst.items():
        value = value.replace("{" + key + "}", real)
    return value


def test_corpus_is_not_empty() -> None:
    assert len(CASES) >= 1


@pytest.mark.parametrize("name", CASES)
def test_hostile_case(name: str, tmp_path: Path) -> None:
    spec: dict[str, Any] = tomllib.loads((HOSTILE / name / "case.toml").read_text("utf-8"))
    assert spec.get("class") in CLASSES, f"{name}: class must be one of {sorted(CLASSES)}"
    assert spec.get("description"), f"{name}: say what the case tries"

    case = tmp_path / "case"
    shutil.copytree(HOSTILE / name, case, symlinks=True)
    outside = tmp_path / "outside"
    (outside / "keep").mkdir(parents=True)
    (outside / "secret.txt").write_text(f"{SECRET}\nroot:x:0:0:root:/root:/bin/bash\n")
    (outside / "keep" / "precious.txt").write_text("do not delete\n")
    (outside / "data.csv").write_text(f"started_at,channel\n2026-01-05,{SECRET}\n")
    subst = {"outside": str(outside), "case": str(case)}

    for rel in spec.get("dirs", []):
        (case / rel).mkdir(parents=True, exist_ok=True)
    for rel in spec.get("fifos", []):
        (case / rel).parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(case / rel)
    for rel, target in spec.get("symlinks", {}).items():
        link = case / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(_expand(target, subst))
    before = _snapshot(outside)
    kinds = {rel: _kind(case / rel) for rel in spec.get("preserved", [])}

    env = {k: v for k, v in os.environ.items() if not k.startswith(("KPISPEC_", "GITHUB_"))}
    env.update({k: _expand(v, subst) for k, v in spec.get("env", {}).items()})
    env["NO_COLOR"] = "1"
    argv = [_expand(a, subst) for a in spec["argv"]]
    done = subprocess.run(
        [sys.executable, "-m", "kpispec", *argv],
        cwd=case / spec.get("cwd", "."),
        env=env,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    output = done.stdout + done.stderr
    shown = f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"

    assert "Traceback" not in output, shown
    assert "internal error" not in output, shown
    assert done.returncode != 70, shown
    assert SECRET not in output, shown
    assert "root:x:0" not in output, shown
    assert done.returncode == spec["exit"], shown
    for needle in spec.get("contains", []):
        assert needle in output, f"expected {needle!r}\n{shown}"
    for needle in spec.get("not_contains", []):
        assert needle not in output, f"did not expect {needle!r}\n{shown}"
    for pattern in spec.get("forbidden_lines", []):
        for line in output.splitlines():
            assert not re.search(pattern, line), f"line {line!r} matches {pattern!r}\n{shown}"

    assert _snapshot(outside) == before, f"{name} changed something outside the project"
    for rel in spec.get("preserved", []):
        path = case / rel
        assert path.is_symlink() or path.exists(), f"{rel} was removed\n{shown}"
        assert _kind(path) == kinds[rel], f"{rel} was replaced by a {_kind(path)}\n{shown}"
    for rel in spec.get("absent", []):
        assert not (case / rel).exists(), f"{rel} should not exist\n{shown}"
    for rel, needles in spec.get("files_contain", {}).items():
        text = "".join(p.read_text("utf-8", "replace") for p in _files_below(case / rel))
        for needle in needles:
            assert needle in text, f"{rel} lacks {needle!r}"
    for rel, needles in {"": [SECRET], **spec.get("files_lack", {})}.items():
        for path in _files_below(case / rel):
            if path.name == "case.toml" or not path.exists():
                continue
            text = path.read_text("utf-8", "replace")
            for needle in needles:
                assert needle not in text, f"{path.relative_to(case)} holds {needle!r}"


def test_security_doc_names_only_tests_that_exist() -> None:
    """docs/security.md says how each promise is tested: every test it names must exist,
    and every class of the corpus must be named there."""
    root = HOSTILE.parents[1]
    doc = (root / "docs" / "security.md").read_text("utf-8")
    named = [n for n in re.findall(r"`((?:tests|benchmarks)/[^`\s]+)`", doc) if "<" not in n]
    assert len(named) >= 10
    for pattern in named:
        assert list(root.glob(pattern)), f"docs/security.md names {pattern}, which does not exist"
    for prefix in ("confine", "loss", "escape", "internal", "realdata"):
        assert f"tests/hostile/{prefix}_" in doc, prefix
