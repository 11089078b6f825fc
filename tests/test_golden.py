"""Every output of the example project, byte for byte, as committed in tests/golden/example.

The results document, the eval table and CSV, check in every format and the whole site:
changing the code's structure must not change any of them (tests/golden/make.py says how
to update them when an output is meant to change).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"
EXPECTED = GOLDEN / "example"

spec = importlib.util.spec_from_file_location("golden_make", GOLDEN / "make.py")
assert spec is not None and spec.loader is not None
make = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make)


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("golden") / "example"
    make.make(folder)
    return folder


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_the_same_files(produced: Path) -> None:
    assert _files(produced) == _files(EXPECTED)
    assert len(_files(EXPECTED)) > 100  # the whole site, not an empty folder


@pytest.mark.parametrize("name", _files(EXPECTED))
def test_file_is_identical(produced: Path, name: str) -> None:
    got = (produced / name).read_bytes()
    want = (EXPECTED / name).read_bytes()
    assert got == want, f"{name} differs from tests/golden/example/{name}"
