#!/usr/bin/env bash
# Install the system packages the test suite needs (Debian/Ubuntu), only those missing.
#
# Each needed package is one line of NEEDED below: "package|check", where check is a
# shell command that succeeds when the package's files are already there. Nothing is
# installed when every check passes, so running this twice is cheap. To need another
# package (chromium, say), add a line:
#   "chromium|command -v chromium"
#
# Not root, no apt-get, or an install that fails: a clear message, exit 0, and the tests
# that need the missing program fail loudly (they are never skipped).
set -euo pipefail

NEEDED=(
  # A real PostgreSQL server for tests/test_sql_sources.py (tests/pg.py starts it).
  "postgresql|compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null"
  # A real headless browser for tests/test_site_browser.py (driven by Playwright, which
  # must never download a browser of its own).
  "chromium|test -x /usr/bin/chromium"
  # A Java runtime for Spark in local mode (tests/test_sql_engines.py; pyspark itself comes
  # from the package index with the test extra): the distribution's default JDK, 17 or later.
  "default-jdk-headless|command -v java"
)

missing=()
for entry in "${NEEDED[@]}"; do
  package="${entry%%|*}"
  check="${entry#*|}"
  if ! bash -c "$check" >/dev/null 2>&1; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

say() { echo "setup-system: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  say "not root: NOT installing missing system packages: ${missing[*]}"
  say "install them yourself (sudo apt-get install ${missing[*]}); tests that need them will fail"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  say "no apt-get: NOT installing missing system packages: ${missing[*]}"
  say "install them with your system's package manager; tests that need them will fail"
  exit 0
fi

say "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# The package lists may be absent or stale on a fresh machine: refresh them first.
if apt-get update -q >"$log" 2>&1 &&
  apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
  say "installed: ${missing[*]}"
else
  cat "$log" >&2
  say "FAILED to install: ${missing[*]} (output above); tests that need them will fail"
fi
exit 0
