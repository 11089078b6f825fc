from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def write(tmp_path: Path):
    """Write files into a fresh project folder: write({"a.yaml": "..."}) -> folder."""

    from helpers import write_files

    def _write(files: dict[str, str | bytes]) -> Path:
        return write_files(tmp_path, files)

    return _write


@pytest.fixture(scope="session")
def warehouse():
    """A real PostgreSQL server for this process, to move projects' data into."""
    from pg import running_server
    from warehouse import Warehouse

    with running_server() as server:
        yield Warehouse(server)
