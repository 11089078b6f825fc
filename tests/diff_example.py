"""The `kpispec diff` example of docs/cli.md and docs/ci.md, made from the example project.

A throwaway repository holds a copy of specs/ committed on `main` (with fixed dates, so
the commit id is the same on every machine); the working tree then changes one target
(the return rate may be up to 13 % instead of 10 %) and one formula (revenue net of
returns). The docs show what `kpispec diff` prints for it; tests/test_diff_docs.py checks
that they still do, and ``python tests/diff_example.py`` writes the docs again.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-22"
ENV = {
    "GIT_AUTHOR_NAME": "Kari Nordmann",
    "GIT_AUTHOR_EMAIL": "kari@example.com",
    "GIT_COMMITTER_NAME": "Kari Nordmann",
    "GIT_COMMITTER_EMAIL": "kari@example.com",
    "GIT_AUTHOR_DATE": "2026-11-20T09:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-11-20T09:00:00+00:00",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
#: The edits of the working tree: (file, text before, text after).
EDITS = [
    (
        "specs/scorecards/ecommerce.yaml",
        "formula: coalesce(sum(amount) filter (where status = 'completed'), 0)",
        "formula: coalesce(sum(amount) filter (where status = 'completed' and not returned), 0)",
    ),
    (
        "specs/scorecards/ecommerce.yaml",
        "      max: 10\n      tolerance: 1\n",
        "      max: 13\n      tolerance: 1\n",
    ),
]
#: The commands the docs show, by the name of their block.
COMMANDS = {
    "diff-text": ["diff", "specs", "--base", "main", "--as-of", AS_OF, "--periods", "1"],
    "diff-markdown": [
        "diff", "specs", "--base", "main", "--as-of", AS_OF, "--periods", "1",
        "--format", "markdown",
    ],
    "diff-github": [
        "diff", "specs", "--base", "main", "--as-of", AS_OF, "--periods", "1", "--format", "github",
    ],
}  # fmt: skip
PAGES = {"diff-text": "docs/cli.md", "diff-github": "docs/cli.md", "diff-markdown": "docs/ci.md"}


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, env={**os.environ, **ENV}
    )


def make(folder: Path) -> Path:
    """The example repository, with the edits in its working tree."""
    repo = folder / "shop-kpis"
    shutil.copytree(ROOT / "specs", repo / "specs")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "KPIs")
    for name, old, new in EDITS:
        path = repo / name
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, old
        path.write_text(text.replace(old, new), encoding="utf-8")
    return repo


def run(repo: Path, name: str) -> str:
    """What the command prints, as the docs show it: the command line first."""
    args = COMMANDS[name]
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    done = subprocess.run(
        [sys.executable, "-m", "kpispec", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**env, **ENV, "COLUMNS": "100", "GITHUB_STEP_SUMMARY": ""},
        check=True,
    )
    if name == "diff-markdown":
        return done.stdout
    return f"$ kpispec {' '.join(args)}\n{done.stdout}"


def block(page: str, name: str) -> re.Match[str]:
    """The fenced block after ``<!-- output: NAME -->`` in a page."""
    pattern = re.compile(rf"<!-- output: {name} -->\n```\w*\n(.*?)^```\n", re.S | re.M)
    found = pattern.search(page)
    assert found is not None, f"no <!-- output: {name} --> block"
    return found


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        repo = make(Path(folder))
        for name, page_name in PAGES.items():
            page = ROOT / page_name
            text = page.read_text(encoding="utf-8")
            found = block(text, name)
            output = run(repo, name)
            text = text[: found.start(1)] + output + text[found.end(1) :]
            page.write_text(text, encoding="utf-8")
            print(f"wrote {name} into {page_name}")


if __name__ == "__main__":
    main()
