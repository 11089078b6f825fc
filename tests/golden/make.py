"""Write the golden outputs of the example project (specs/, as of 2026-11-22) into a folder.

    python tests/golden/make.py tests/golden/example

tests/test_golden.py writes the same outputs into a temporary folder and compares them with
tests/golden/example byte for byte, so a refactoring that changes any output fails. Run this
only when an output is meant to change, and say in the commit which change and why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-11-22"

#: name of the golden file -> kpispec arguments (run in the repository root).
COMMANDS: dict[str, list[str]] = {
    "eval.json": ["eval", "specs", "--as-of", AS_OF, "--format", "json"],
    "eval.csv": ["eval", "specs", "--as-of", AS_OF, "--format", "csv"],
    "eval.txt": ["eval", "specs", "--as-of", AS_OF],
    **{
        f"check.{fmt}": ["check", "specs", "--as-of", AS_OF, "--format", fmt]
        for fmt in ("text", "json", "junit", "github", "markdown")
    },
}


def run(args: list[str]) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "KPISPEC_"))}
    env.update(NO_COLOR="1", COLUMNS="160", TERM="dumb")
    done = subprocess.run(
        [sys.executable, "-m", "kpispec", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout


def make(folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, args in COMMANDS.items():
        status, out = run(args)
        (folder / name).write_text(f"exit {status}\n{out}", encoding="utf-8")
    status, _ = run(["build", "specs", "--as-of", AS_OF, "-o", str(folder / "site")])
    assert status == 0, "kpispec build failed"
    (folder / "site" / ".kpispec-site.json").unlink()  # the manifest: lists the files, no output


if __name__ == "__main__":
    make(Path(sys.argv[1]))
