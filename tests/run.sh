#!/usr/bin/env bash
# Install kpispec with its test dependencies into .venv and run the whole test suite:
# lint, format check, type check (mypy --strict) and pytest. Extra arguments go to pytest.
# System packages the tests need (a PostgreSQL server) come from tests/setup-system.sh,
# which installs only what is missing, and only as root.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/setup-system.sh

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy --strict kpispec
.venv/bin/python -m pytest -n 2 "$@"
