"""No data loss, ever: what the hostile corpus (tests/hostile/loss_*) cannot express.

Named pipes with a reader, sockets, ``/dev/null`` itself, two builds at once, builds
killed with SIGKILL at random points, ``serve`` read from while it rebuilds, and ``serve``
stopped with Ctrl-C. The promises (docs/cli.md): ``build`` deletes only files its manifest
lists; the site is swapped in in one step under a lock, so a reader (or a killed build)
always finds a complete site; ``-o FILE`` writes through anything that is not a regular
file and replaces a regular file atomically.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import evaluate_doc, write_files

import kpispec
from kpispec import outputs
from kpispec.report import site as site_module

KPISPEC = Path(sys.executable).parent / "kpispec"
AS_OF = "2026-02-01"  # the judged period: January 2026, two sessions (counted by hand)

PROJECT = {
    "kpispec.yaml": "kpispec: 1\ntitle: Loss\ntimezone: UTC\n",
    "web.yaml": """\
kpispec: 1
scorecard:
  id: web
  title: Web
  owner: growth
sources:
  - id: sessions
    path: data/sessions.csv
    time: started_at
kpis:
  - id: visitors
    name: Visitors
    source: sessions
    formula: count(*)
""",
    "data/sessions.csv": "started_at,channel\n2026-01-05,search\n2026-01-06,ads\n",
}


def project(folder: Path) -> Path:
    return write_files(folder, PROJECT)


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(KPISPEC), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    return done


def visitors_in_january(doc_text: str) -> float:
    doc = json.loads(doc_text)
    kpi = doc["scorecards"][0]["kpis"][0]
    value: float = next(p["value"] for p in kpi["series"] if p["period"] == "2026-01")
    return value


def litter(folder: Path, keep: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != keep)


def complete_site(out: Path) -> set[str]:
    """The first lines of every file the manifest lists (all present, else a KeyError)."""
    files = json.loads((out / site_module.MANIFEST).read_text(encoding="utf-8"))["files"]
    return {(out / name).read_text(encoding="utf-8").splitlines()[0] for name in files}


# ------------------------------------------------------------------ build keeps what is not its own


def test_build_refuses_a_folder_holding_a_socket_and_keeps_it(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    out = root / "site"
    out.mkdir()
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(out / "s"))
        done = run("build", root, "-o", out, "--as-of", AS_OF)
        assert done.returncode == 2, done.stderr
        assert "E003" in done.stderr and "the socket s" in done.stderr
        assert stat.S_ISSOCK(os.lstat(out / "s").st_mode)
        assert sorted(p.name for p in out.iterdir()) == ["s"]
        assert litter(root, "site") == ["data", "kpispec.yaml", "web.yaml"]
    finally:
        sock.close()


def test_a_previous_build_with_a_users_empty_folder_added_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    out = root / "site"
    assert run("build", root, "-o", out, "--as-of", AS_OF).returncode == 0
    (out / "kpi" / "mine").mkdir()
    done = run("build", root, "-o", out, "--as-of", AS_OF)
    assert done.returncode == 2 and "the folder kpi/mine" in done.stderr
    assert (out / "kpi" / "mine").is_dir()


# ------------------------------------------------------------------ -o FILE


def test_eval_writes_through_a_named_pipe(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    pipe = root / "results.json"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    done = run("eval", root, "-f", "json", "-o", pipe, "--as-of", AS_OF)
    reader.join(30)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)  # still a pipe, not a file
    assert visitors_in_january(received[0].decode("utf-8")) == 2
    assert litter(root, "results.json") == ["data", "kpispec.yaml", "web.yaml"]


def test_check_junit_writes_through_a_named_pipe(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    pipe = tmp_path / "junit.xml"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    done = run("check", root, "--junit", pipe, "--as-of", AS_OF)
    reader.join(30)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)
    assert received[0].startswith(b"<?xml") and b"visitors" in received[0]


def test_eval_to_dev_null_keeps_the_character_device(tmp_path: Path) -> None:
    before = os.lstat("/dev/null")
    assert stat.S_ISCHR(before.st_mode)
    # the guard first: only run the command when the rule says /dev/null is written
    # through, so that a broken rule fails here instead of replacing the machine's /dev/null
    assert outputs.writes_through(Path("/dev/null"))
    root = project(tmp_path / "p")
    commands: list[list[str | Path]] = [
        ["eval", root, "-o", "/dev/null"],
        ["check", root, "--json", "/dev/null"],
    ]
    for args in commands:
        done = run(*args, "--as-of", AS_OF)
        assert done.returncode == 0, done.stderr
        after = os.lstat("/dev/null")
        assert stat.S_ISCHR(after.st_mode)
        assert (after.st_rdev, after.st_ino) == (before.st_rdev, before.st_ino)


def test_a_symlink_inside_the_project_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    (root / "reports").mkdir()
    target = root / "reports" / "latest.json"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o600)  # a private file stays private when replaced
    (root / "results.json").symlink_to("reports/latest.json")
    done = run("eval", ".", "-f", "json", "-o", "results.json", "--as-of", AS_OF, cwd=root)
    assert done.returncode == 0, done.stderr
    assert os.readlink(root / "results.json") == "reports/latest.json"
    assert visitors_in_january(target.read_text(encoding="utf-8")) == 2
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in (root / "reports").iterdir()) == ["latest.json"]


def test_an_existing_files_permissions_survive_the_atomic_replace(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    out = tmp_path / "out.csv"
    out.write_text("mine\n", encoding="utf-8")
    out.chmod(0o640)
    assert run("eval", root, "-f", "csv", "-o", out, "--as-of", AS_OF).returncode == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert "web,visitors,2026-01,,,2.0," in out.read_text(encoding="utf-8")


def test_render_api_refuses_a_symlink_out_of_the_project(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "site").symlink_to(outside)
    doc = evaluate_doc(root, as_of=AS_OF)
    with pytest.raises(kpispec.KpispecError) as info:
        kpispec.render(doc, root / "site", root=root)
    assert info.value.diagnostics[0].code == "E410"
    assert list(outside.iterdir()) == []
    written = kpispec.render(doc, root / "site", root=root, allow_outside_root=True)
    assert (outside / "index.html").is_file() and "index.html" in written
    assert (root / "site").is_symlink()


# ------------------------------------------------------------------ the swap, the lock, kills

LOOP = """\
import sys
from pathlib import Path
from kpispec.report.site import write_site
out, tag, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for i in range(rounds):
    files = {f"p{j}.html": f"{tag} {i}\\n" * 40 for j in range(25)}
    files["deep/er/x.html"] = f"{tag} {i}\\n"
    write_site(files, out)
"""


def test_two_builds_into_one_folder_take_turns(tmp_path: Path) -> None:
    out = tmp_path / "public" / "site"
    loop = tmp_path / "loop.py"
    loop.write_text(LOOP, encoding="utf-8")
    writers = [
        subprocess.Popen([sys.executable, str(loop), str(out), tag, "40"], stderr=subprocess.PIPE)
        for tag in ("A", "B")
    ]
    seen: set[str] = set()
    looks = misses = 0
    while any(w.poll() is None for w in writers):  # a reader meanwhile: the site is there
        looks += 1
        try:
            os.stat(out / "p0.html")  # a tight loop: two renames in a row are caught here
            if looks % 500 == 0:
                seen |= complete_site(out)
        except FileNotFoundError:
            misses += bool(seen)
    assert misses == 0, f"{misses} of {looks} looks found no site between two builds"
    for writer in writers:
        assert writer.wait() == 0, writer.stderr.read() if writer.stderr else ""
    assert complete_site(out) in ({"A 39"}, {"B 39"})
    assert {line[0] for line in seen} == {"A", "B"}  # they did interleave
    assert litter(out.parent, "site") == []


def test_two_cli_builds_at_once_both_succeed(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    out = root / "site"
    args = [str(KPISPEC), "build", str(root), "-o", str(out), "--as-of", AS_OF]
    both = [subprocess.Popen(args, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for proc in both:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "internal error" not in err
    assert (out / "kpi" / "visitors.html").is_file()
    assert litter(root, "site") == ["data", "kpispec.yaml", "web.yaml"]


def test_a_build_waits_for_the_lock_and_gives_up_with_a_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "site"
    site_module.write_site({"index.html": "first\n"}, out)
    with outputs.locked(out):
        with pytest.raises(outputs.OutputError) as info:
            site_module.write_site({"index.html": "second\n"}, out, wait=0.3)
        assert info.value.diagnostics[0].code == "E005"
        assert "another kpispec build is writing" in info.value.diagnostics[0].message
        # a build in another process waits while the lock is held ...
        waiter = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from kpispec.report.site import write_site;"
                " write_site({'index.html': 'third\\n'}, Path(sys.argv[1]))",
                str(out),
            ]
        )
        time.sleep(1.5)
        assert waiter.poll() is None
        assert (out / "index.html").read_text(encoding="utf-8") == "first\n"
    assert waiter.wait(timeout=60) == 0  # ... and goes on once it is let go
    assert (out / "index.html").read_text(encoding="utf-8") == "third\n"
    assert litter(tmp_path, "site") == []


def test_a_build_killed_at_any_point_leaves_the_previous_site(tmp_path: Path) -> None:
    out = tmp_path / "public" / "site"
    loop = tmp_path / "loop.py"
    loop.write_text(LOOP, encoding="utf-8")
    site_module.write_site({"p0.html": "start\n"}, out)
    rng = random.Random(20261201)
    for attempt in range(12):
        writer = subprocess.Popen([sys.executable, str(loop), str(out), f"K{attempt}", "10000"])
        time.sleep(0.4 + rng.random())  # past the imports, somewhere in a build
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        lines = complete_site(out)  # a whole site is in place, every file of one build
        assert len(lines) == 1, (attempt, lines)
        # what a kill leaves beside it (a lock file, one build folder) is ours and temporary
        assert all(name.startswith(".site.kpispec-") for name in litter(out.parent, "site"))
    site_module.write_site({"index.html": "after\n"}, out)  # the next build cleans up
    assert litter(out.parent, "site") == [] and complete_site(out) == {"after"}


KILL_BETWEEN_RENAMES = """\
import os, signal, sys
from pathlib import Path
from kpispec import outputs
from kpispec.report import site
site.exchange = lambda a, b: False   # a file system without RENAME_EXCHANGE
renames = []
real_rename = os.rename
def rename(a, b):
    renames.append((a, b))
    if len(renames) == 2:            # the new build is about to take the old one's place
        os.kill(os.getpid(), signal.SIGKILL)
    real_rename(a, b)
os.rename = rename
site.write_site({"index.html": "new\\n"}, Path(sys.argv[1]))
"""


def test_without_an_exchange_rename_the_next_build_puts_the_previous_site_back(
    tmp_path: Path,
) -> None:
    out = tmp_path / "public" / "site"
    site_module.write_site({"index.html": "old\n", "a/b.html": "old\n"}, out)
    script = tmp_path / "kill.py"
    script.write_text(KILL_BETWEEN_RENAMES, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), str(out)], timeout=60)
    assert done.returncode == -signal.SIGKILL
    assert not out.exists()  # the documented window of the fallback
    site_module._recover(out)  # what the next build does first, under the lock
    assert complete_site(out) == {"old"}
    site_module.write_site({"index.html": "next\n"}, out)
    assert complete_site(out) == {"next"} and litter(out.parent, "site") == []


def test_without_an_exchange_rename_a_build_still_replaces_the_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(site_module, "exchange", lambda a, b: False)
    out = tmp_path / "site"
    site_module.write_site({"index.html": "one\n", "x/y.html": "one\n"}, out)
    site_module.write_site({"index.html": "two\n"}, out)
    assert complete_site(out) == {"two"} and not (out / "x").exists()
    assert litter(tmp_path, "site") == []


def test_a_swap_the_system_refuses_keeps_the_previous_site_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "public" / "site"
    site_module.write_site({"index.html": "old\n"}, out)

    def refuse(a: Path, b: Path) -> bool:
        raise OSError(18, "Invalid cross-device link", str(b))

    monkeypatch.setattr(site_module, "exchange", refuse)
    with pytest.raises(outputs.OutputError) as info:
        site_module.write_site({"index.html": "new\n"}, out)
    assert info.value.diagnostics[0].code == "E005"
    assert "Invalid cross-device link" in info.value.diagnostics[0].message
    assert complete_site(out) == {"old"} and litter(out.parent, "site") == []


def test_the_exchange_rename_swaps_two_folders(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "from-a").touch()
    assert outputs.exchange(tmp_path / "a", tmp_path / "b")  # Linux on ext4/tmpfs/btrfs/xfs
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["from-a"]
    assert list((tmp_path / "a").iterdir()) == []


# ------------------------------------------------------------------ serve


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, ""


@contextmanager
def serving(
    args: list[str], env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    server = subprocess.Popen(
        [str(KPISPEC), "serve", *args, "--port", str(port), "--as-of", AS_OF],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if get(url)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        yield url, server
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)  # as Ctrl-C: serve cleans up and ends
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)


def test_serve_answers_200_while_it_rebuilds(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    out = tmp_path / "public" / "site"
    statuses: list[int] = []
    stop = threading.Event()
    with serving([str(root), "-o", str(out)]) as (url, server):
        assert get(url)[0] == 200

        def hammer() -> None:
            while not stop.is_set():
                for page in ("", "index.html", "kpi/visitors.html", "assets/style.css"):
                    statuses.append(get(url + page)[0])

        misses: list[int] = []

        def look() -> None:  # as a reader on the disk: the site is always there
            misses.append(0)
            while not stop.is_set():
                if not (out / "index.html").exists():
                    misses[0] += 1

        threads = [threading.Thread(target=hammer, daemon=True) for _ in range(2)]
        threads.append(threading.Thread(target=look, daemon=True))
        for thread in threads:
            thread.start()
        for n in range(1, 5):
            web = root / "web.yaml"
            web.write_text(PROJECT["web.yaml"].replace("Visitors", f"Visitors {n}"), "utf-8")
            deadline = time.monotonic() + 30
            while f"Visitors {n}" not in get(url)[1]:
                assert time.monotonic() < deadline, f"no rebuild {n}"
                time.sleep(0.05)
        time.sleep(2.5)  # two watch intervals: a rebuild the last change started ends
        stop.set()
        for thread in threads:
            thread.join(10)
        assert server.poll() is None
    assert len(statuses) > 100
    assert set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    assert misses == [0]
    assert litter(out.parent, "site") == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_serve_leaves_no_temporary_folder_behind(tmp_path: Path, signum: int) -> None:
    root = project(tmp_path / "p")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    with serving([str(root)], env) as (url, server):
        assert get(url + "kpi/visitors.html")[0] == 200
        assert [p.name.startswith("kpispec-site-") for p in scratch.iterdir()] == [True]
        server.send_signal(signum)
        server.wait(timeout=30)
        output = server.stdout.read() if server.stdout else ""
    assert "Traceback" not in output and "internal error" not in output, output
    assert list(scratch.iterdir()) == []
