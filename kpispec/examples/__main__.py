"""Regenerate the sample data of the example project: ``python -m kpispec.examples [OUT]``."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

DOMAINS = ("web", "shop", "email", "social", "cx")


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "specs" / "data"
    out.mkdir(parents=True, exist_ok=True)
    for name in DOMAINS:
        module = importlib.import_module(f"kpispec.examples.{name}")
        for path in module.generate(out):
            size = path.stat().st_size
            print(f"{path}  {size / 1024:,.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
