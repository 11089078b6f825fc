"""``kpispec serve``: build the site, serve it on 127.0.0.1, rebuild when a spec or data file changes."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path


def snapshot(paths: Iterable[Path]) -> dict[Path, float]:
    """The modification times of the files under ``paths``, hidden ones excluded (so is a
    build being written beside the site, ``.site.kpispec-new-*``, at any depth)."""
    seen: dict[Path, float] = {}
    for root in paths:
        files = [root] if root.is_file() else root.rglob("*")
        for path in files:
            below = path.relative_to(root).parts if path != root else ()
            if path.is_file() and not any(part.startswith(".") for part in below):
                try:
                    seen[path] = path.stat().st_mtime
                except OSError:
                    continue
    return seen


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(
    site: Path,
    watch: list[Path],
    rebuild: Callable[[], None],
    *,
    port: int = 8000,
    interval: float = 1.0,
    stop: threading.Event | None = None,
    ready: Callable[[str], None] = print,
) -> None:
    """Serve ``site`` until ``stop`` is set (or Ctrl-C), calling ``rebuild`` on changes."""
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stop = stop or threading.Event()
    ready(f"serving http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)")
    ignore = site.resolve()
    before = {p: t for p, t in snapshot(watch).items() if not p.resolve().is_relative_to(ignore)}
    try:
        while not stop.wait(interval):
            now = {
                p: t for p, t in snapshot(watch).items() if not p.resolve().is_relative_to(ignore)
            }
            if now != before:
                before = now
                rebuild()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
        time.sleep(0)
