"""A throwaway PostgreSQL server for the tests: a real server, never a mock.

    with running_server() as pg:
        pg.url        # postgresql://USER:PASSWORD@127.0.0.1:PORT/DBNAME
        pg.connect()  # a psycopg connection to that database, as that user

:func:`running_server` makes a new cluster in a temporary folder (``initdb``, as the
``postgres`` system user when run as root, since initdb refuses to run as root), starts
it on 127.0.0.1 on a free port with its unix socket inside the folder, waits until it
accepts connections (``pg_isready``), creates a database and a login role with a
password (password authentication over TCP, so a wrong password is refused), and stops
the server and deletes the folder afterwards, also when the tests fail. Every process
(each pytest-xdist worker) starts its own server on its own port, so nothing is shared.

The server binaries come from Debian's ``postgresql`` package (tests/setup-system.sh
installs it) or from ``$KPISPEC_TEST_PG_BIN`` (a folder holding initdb and pg_ctl).
When they are missing, :class:`PostgresUnavailable` says so: the tests fail, never skip.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SYSTEM_USER = "postgres"  #: who runs the server when we are root
SUPERUSER = "postgres"  #: the cluster's superuser (trusted on the unix socket only)
START_TIMEOUT = 60  #: seconds


class PostgresUnavailable(RuntimeError):
    """The server cannot be started here; the message says why and what to do."""


def find_bindir() -> Path:
    """The folder with initdb, pg_ctl and pg_isready: $KPISPEC_TEST_PG_BIN, Debian's, PATH."""
    override = os.environ.get("KPISPEC_TEST_PG_BIN")
    if override:
        if not (Path(override) / "initdb").is_file():
            raise PostgresUnavailable(f"KPISPEC_TEST_PG_BIN={override} has no initdb")
        return Path(override)

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", Path(path).parents[1].name))

    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    if debian:
        return Path(debian[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb, no "
        "initdb on PATH): run `bash tests/setup-system.sh` as root (it installs Debian's "
        "postgresql package), or set KPISPEC_TEST_PG_BIN to a folder holding initdb"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tempdir_base() -> str:
    """A folder every user can enter, so the postgres user reaches the cluster's folder."""
    base = Path(tempfile.gettempdir()).resolve()
    for folder in (base, *base.parents):
        if not os.stat(folder).st_mode & 0o001:
            return "/tmp"
    return str(base)


@dataclass
class PostgresServer:
    """One running cluster with one database and one password-protected login role."""

    bindir: Path
    base: Path  #: the temporary folder: data/, sock/, server.log
    port: int = 0
    host: str = "127.0.0.1"
    dbname: str = "kpispec_test"
    user: str = "kpispec_test"
    password: str = field(default_factory=lambda: "pw-" + secrets.token_hex(12))
    startup_seconds: float = 0.0  #: from initdb to a ready database
    _as_user: list[str] = field(default_factory=list)
    _owner: tuple[int, int] | None = None
    _running: bool = False

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def sockdir(self) -> Path:
        return self.base / "sock"

    @property
    def log(self) -> Path:
        return self.base / "server.log"

    @property
    def url(self) -> str:
        return self.url_with(password=self.password)

    def url_with(self, *, password: str | None = None, dbname: str | None = None) -> str:
        """The URL of the database, with another password or database name if given."""
        secret = self.password if password is None else password
        return f"postgresql://{self.user}:{secret}@{self.host}:{self.port}/{dbname or self.dbname}"

    def connect(self, **kwargs: Any) -> Any:
        """A psycopg connection to the test database as the test role, over TCP."""
        import psycopg

        return psycopg.connect(self.url, connect_timeout=10, **kwargs)

    def admin_connect(self, dbname: str = "postgres") -> Any:
        """A superuser connection over the unix socket (trust authentication)."""
        import psycopg

        return psycopg.connect(
            host=str(self.sockdir),
            port=self.port,
            user=SUPERUSER,
            dbname=dbname,
            autocommit=True,
            connect_timeout=10,
        )

    # --- running the server's programs -------------------------------------------------

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [*self._as_user, str(self.bindir / program), *args]
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        env.pop("PGDATA", None)
        done = subprocess.run(
            cmd,
            cwd=self.base,  # the postgres user may not be allowed into the caller's folder
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT * 2,
        )
        if check and done.returncode != 0:
            raise PostgresUnavailable(
                f"`{program} {' '.join(args)}` failed (exit {done.returncode}):\n"
                f"{done.stdout}{done.stderr}{self._log_tail()}"
            )
        return done

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return "\nserver log (last lines):\n" + "\n".join(text)

    def _mkdir(self, path: Path) -> None:
        path.mkdir(mode=0o700, exist_ok=True)
        if self._owner is not None:
            os.chown(path, *self._owner)

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        began = time.monotonic()
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam(SYSTEM_USER)
            except KeyError:
                raise PostgresUnavailable(
                    f"running as root, but there is no `{SYSTEM_USER}` system user to run "
                    "the server as (Debian's postgresql package creates it)"
                ) from None
            self._owner = (account.pw_uid, account.pw_gid)
            runuser = shutil.which("runuser") or "/usr/sbin/runuser"
            self._as_user = [runuser, "-u", SYSTEM_USER, "--"]
            os.chown(self.base, *self._owner)
        self._mkdir(self.sockdir)
        self._run(
            "initdb",
            "--pgdata",
            str(self.data),
            "--username",
            SUPERUSER,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        self._running = True  # from here on, stop() stops whatever pg_ctl may have started
        for attempt in range(5):
            self.port = free_port()
            options = " ".join(
                [
                    f"-p {self.port}",
                    f"-k {self.sockdir}",
                    "-c listen_addresses=127.0.0.1",
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                    "-c max_connections=20",
                ]
            )
            done = self._run(
                "pg_ctl",
                "--pgdata",
                str(self.data),
                "--log",
                str(self.log),
                "--wait",
                f"--timeout={START_TIMEOUT}",
                "-o",
                options,
                "start",
                check=False,
            )
            if done.returncode == 0:
                break
            # Another process took the port between free_port() and the bind: try another.
            if attempt == 4 or "already in use" not in self._log_tail():
                raise PostgresUnavailable(
                    f"pg_ctl start failed (exit {done.returncode}):\n"
                    f"{done.stdout}{done.stderr}{self._log_tail()}"
                )
        self._wait_ready()
        self._create_database()
        self.startup_seconds = time.monotonic() - began

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            done = self._run(
                "pg_isready",
                "--host",
                self.host,
                "--port",
                str(self.port),
                "--timeout=2",
                check=False,
            )
            if done.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise PostgresUnavailable(
                    f"the server on port {self.port} is not ready after {START_TIMEOUT} s: "
                    f"{done.stdout}{done.stderr}{self._log_tail()}"
                )
            time.sleep(0.1)

    def _create_database(self) -> None:
        from psycopg import sql

        with self.admin_connect() as conn:
            conn.execute(
                sql.SQL("create role {} login password {}").format(
                    sql.Identifier(self.user), sql.Literal(self.password)
                )
            )
            conn.execute(
                sql.SQL("create database {} owner {}").format(
                    sql.Identifier(self.dbname), sql.Identifier(self.user)
                )
            )

    def stop(self) -> None:
        """Stop the server (immediately: its data is thrown away) and delete the folder."""
        if self._running:
            self._running = False
            done = self._run(
                "pg_ctl",
                "--pgdata",
                str(self.data),
                "--mode=immediate",
                "--wait",
                "stop",
                check=False,
            )
            if done.returncode != 0:
                self._kill_postmaster()
        shutil.rmtree(self.base, ignore_errors=True)

    def _kill_postmaster(self) -> None:
        """pg_ctl could not stop it: signal the server we started, by its own pid."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((self.data / "postmaster.pid").read_text().splitlines()[0])
            os.kill(pid, signal.SIGQUIT)
            for _ in range(50):
                os.kill(pid, 0)  # raises (suppressed) once the server is gone
                time.sleep(0.1)
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def running_server() -> Iterator[PostgresServer]:
    """A started server; stopped and deleted on exit, whatever happens in between."""
    bindir = find_bindir()
    base = Path(tempfile.mkdtemp(prefix="kpispec-pg-", dir=_tempdir_base()))
    server = PostgresServer(bindir=bindir, base=base)
    atexit.register(server.stop)  # in case the process ends without leaving the block
    try:
        server.start()
        yield server
    finally:
        server.stop()
        atexit.unregister(server.stop)
