"""Compile the results document into a static site and Markdown scorecards.

The site is rendered into a temporary folder beside the target and swapped into place in
one step (an exchange rename), under a lock, so a reader never sees half a site or none.
``build`` refuses to write into a folder that holds anything but a previous kpispec build
(it reads that build's manifest), and deletes nothing else.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import tempfile
from collections import defaultdict
from pathlib import Path, PurePosixPath
from typing import Any

from kpispec.diagnostics import Diagnostic, Loc
from kpispec.escaping import markdown_text
from kpispec.outputs import (
    LOCK_WAIT,
    OutputError,
    cannot_write,
    confine_output,
    exchange,
    kind,
    locked,
    refuse_project_folder,
)
from kpispec.report import svg
from kpispec.report.i18n import language, words
from kpispec.report.sparkline import sparkline
from kpispec.report.views import kpi_view, page_names, sort_key
from kpispec.results import iter_kpis, summarize
from kpispec.spec.schema import data_dir

MANIFEST = ".kpispec-site.json"
Doc = dict[str, Any]


class BuildError(OutputError):
    """The output folder cannot be used (exit status 2: a usage error)."""


def _environment(templates: Path | None) -> Any:
    from jinja2 import (
        ChoiceLoader,
        Environment,
        FileSystemLoader,
        StrictUndefined,
        select_autoescape,
    )

    loaders = [FileSystemLoader(str(templates))] if templates else []
    loaders.append(FileSystemLoader(str(data_dir("templates"))))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["spark"] = sparkline
    env.filters["md_cell"] = lambda text: markdown_text(str(text))
    return env


def _pages(doc: Doc) -> tuple[dict[str, tuple[str, dict[str, Any]]], dict[str, list[Doc]]]:
    """Every page (its path in the site, the template and its context), and the KPI views
    of each scorecard (computed once, for the pages and the Markdown scorecards)."""
    project = doc["project"]
    locale = project["locale"]
    views = []
    by_card: dict[str, list[Doc]] = {}
    for card, kpi in iter_kpis(doc):
        view = kpi_view(card, kpi, card["locale"])
        views.append(view)
        by_card.setdefault(card["id"], []).append(view)
    views.sort(key=sort_key)
    owners: dict[str, list[Doc]] = defaultdict(list)
    tags: dict[str, list[Doc]] = defaultdict(list)
    statuses: dict[str, list[Doc]] = defaultdict(list)
    for view in views:
        if view["owner"]:
            owners[view["owner"]].append(view)
        for tag in view["tags"]:
            tags[tag["text"]].append(view)
        statuses[view["status"]["key"]].append(view)
    owner_pages, tag_pages = page_names(owners), page_names(tags)  # distinct, also when
    for view in views:  # two names share a slug (`Kari N`, `kari-n`)
        if view["owner"]:
            view["owner_slug"] = owner_pages[view["owner"]]
        for tag in view["tags"]:
            tag["slug"] = tag_pages[tag["text"]]
    common = {
        "project": project,
        "as_of": doc["as_of"],
        "generator": doc["generator"],
        "owners": sorted((name, owner_pages[name], len(v)) for name, v in owners.items()),
        "tags": sorted((name, tag_pages[name], len(v)) for name, v in tags.items()),
        "statuses": [
            (s, len(statuses.get(s, [])))
            for s in ("missed", "at_risk", "no_data", "met", "no_target")
        ],
    }
    pages: dict[str, tuple[str, dict[str, Any]]] = {}
    site_kpis = {view["id"] for view in views}

    def page(path: str, template: str, locale: str, **context: Any) -> None:
        depth = path.count("/")
        pages[path] = (
            template,
            {
                **common,
                **context,
                "root": "../" * depth,
                "w": words(locale),
                "lang": language(locale),
            },
        )

    page(
        "index.html",
        "index.html",
        locale,
        summary=doc["summary"],
        cards=doc["scorecards"],
        views=views,
        description_html=_md(project["description"]),
    )
    for card in doc["scorecards"]:
        groups: dict[str, list[Doc]] = {}
        for view in by_card.get(card["id"], []):
            groups.setdefault(view["kpi"]["group"] or "", []).append(view)
        page(
            f"scorecard/{card['id']}.html",
            "scorecard.html",
            card["locale"],
            card=card,
            groups=list(groups.items()),
            description_html=_md(card["description"]),
        )
        for view in by_card.get(card["id"], []):
            page(
                f"kpi/{view['id']}.html",
                "kpi.html",
                card["locale"],
                card=card,
                v=view,
                site_kpis=site_kpis,
            )
    for name, items in owners.items():
        page(
            f"owner/{owner_pages[name]}.html",
            "list.html",
            locale,
            title=name,
            kind="owner",
            views=items,
        )
    for name, items in tags.items():
        page(
            f"tag/{tag_pages[name]}.html", "list.html", locale, title=name, kind="tag", views=items
        )
    for status in ("missed", "at_risk", "no_data", "met", "no_target"):  # every count links a page
        page(
            f"status/{status}.html",
            "list.html",
            locale,
            title=words(locale)[status],
            kind="status",
            views=statuses.get(status, []),
        )
    return pages, by_card


def _md(text: str | None) -> str:
    from kpispec.report.views import markdown

    return markdown(text)


def _badges(doc: Doc) -> dict[str, str]:
    out = {}
    for card in doc["scorecards"]:
        summary = card["summary"]
        worst = next((s for s in ("missed", "at_risk", "no_data") if summary[s]), "met")
        text = (
            f"{summary['met']}/{summary['kpis']} met"
            if worst == "met"
            else f"{summary[worst]} {worst.replace('_', ' ')}"
        )
        out[f"badges/{card['id']}.svg"] = svg.badge(card["id"], text, worst)
        for kpi in card["kpis"]:
            out[f"badges/{card['id']}/{kpi['id']}.svg"] = svg.badge(
                kpi["id"], kpi["status"].replace("_", " "), kpi["status"]
            )
    return out


def render(doc: Doc, *, templates: Path | None = None) -> dict[str, str]:
    """Every file of the site and the Markdown scorecards, by relative path."""
    env = _environment(templates)
    files: dict[str, str] = {}
    pages, by_card = _pages(doc)
    for path, (template, context) in pages.items():
        files[path] = env.get_template(template).render(context)
    files["assets/style.css"] = env.get_template("style.css").render()
    files["assets/enhance.js"] = env.get_template("enhance.js").render()
    files["assets/icon.svg"] = env.get_template("icon.svg").render()
    files.update(_badges(doc))
    for card in doc["scorecards"]:
        views = by_card.get(card["id"], [])
        files[f"markdown/{card['id']}.md"] = env.get_template("scorecard.md").render(
            card=card, views=views, w=words(card["locale"]), as_of=doc["as_of"]
        )
    files["markdown/README.md"] = env.get_template("summary.md").render(
        doc=doc,
        cards=doc["scorecards"],
        w=words(doc["project"]["locale"]),
        summary=summarize(k for _, k in iter_kpis(doc)),
    )
    return files


#: Beside the output ``site``: ``.site.kpispec-new-XXXX`` is a build being written (after
#: the swap, the previous build being removed); ``.site.kpispec-old-XXXX`` is the previous
#: build moved aside where the file system cannot swap two folders in one step.
STAGING, RETIRED = "kpispec-new-", "kpispec-old-"


def _manifest(folder: Path) -> set[str] | None:
    """The files a kpispec build wrote into ``folder``, from its manifest; None without one."""
    path = folder / MANIFEST
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return set(files)


def _strangers(folder: Path, known: set[str]) -> list[tuple[str, str]]:
    """Every entry below ``folder`` that kpispec did not write, as (relative path, kind).

    Ours are the regular files the manifest lists, the manifest, and the folders holding
    them. Anything else is the user's: files, symlinks, named pipes, sockets, devices, and
    folders (reported when empty; a folder with content is reported by its content).
    """
    ancestors = {str(parent) for name in known for parent in PurePosixPath(name).parents}
    found: list[tuple[str, str]] = []

    def unreadable(error: OSError) -> None:
        found.append((Path(error.filename).relative_to(folder).as_posix(), "unreadable folder"))

    for current, dirs, names in os.walk(folder, onerror=unreadable):
        base = Path(current)
        for name in [*dirs, *names]:
            path = base / name
            rel = path.relative_to(folder).as_posix()
            try:
                mode = os.lstat(path).st_mode
            except FileNotFoundError:
                continue
            if stat.S_ISDIR(mode):
                if rel not in ancestors and not any(os.scandir(path)):
                    found.append((rel, "folder"))
            elif stat.S_ISREG(mode):
                if rel not in known and rel != MANIFEST:
                    found.append((rel, "file"))
            else:
                found.append((rel, kind(mode)))
    return sorted(found, key=lambda entry: (entry[1] != "file", entry[0]))


def _check_target(out: Path, shown: Path | None = None) -> None:
    """Refuse an output that is not a folder, or a folder holding anything but a previous
    kpispec build (E002, E003)."""
    shown = shown or out
    try:
        mode = os.stat(out).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise cannot_write(shown, exc) from None
    if not stat.S_ISDIR(mode):
        raise BuildError(
            [
                Diagnostic(
                    "E002",
                    f"{shown} is a {kind(mode)}, not a folder",
                    Loc(str(shown)),
                    "name a folder for the site",
                )
            ]
        )
    strangers = _strangers(out, _manifest(out) or set())
    if strangers:
        rel, what = strangers[0]
        example = rel if what == "file" else f"the {what} {rel}"
        more = f", and {len(strangers) - 1} more" if len(strangers) > 1 else ""
        raise BuildError(
            [
                Diagnostic(
                    "E003",
                    f"{shown} holds files that are not from a kpispec build (e.g. {example}{more})",
                    Loc(str(shown)),
                    "build into an empty folder, or a folder a previous `kpispec build` wrote; "
                    "kpispec never deletes files it did not write",
                )
            ]
        )


def _remove_build(folder: Path) -> None:
    """Delete a build kpispec wrote: only the regular files its manifest lists, then the
    folders left empty. Symlinks are never followed; anything else stays."""
    known = _manifest(folder) or set()
    for current, dirs, names in os.walk(folder, topdown=False):
        base = Path(current)
        for name in names:
            path = base / name
            rel = path.relative_to(folder).as_posix()
            if rel in known and stat.S_ISREG(os.lstat(path).st_mode):
                path.unlink()
        for name in dirs:
            with contextlib.suppress(OSError):  # not empty, or a symlink: not ours to remove
                (base / name).rmdir()
    with contextlib.suppress(OSError):
        (folder / MANIFEST).unlink(missing_ok=True)  # last: until now the folder says whose
        folder.rmdir()


def _recover(out: Path) -> None:
    """Clean up after builds that were killed while writing beside ``out``.

    Runs under the lock, so no other build is writing. A previous build moved aside and
    never replaced goes back into place; other builds are removed, and a folder holding
    anything kpispec did not write is left alone.
    """
    prefix = f".{out.name}."
    for entry in sorted(out.parent.iterdir()):
        rest = entry.name[len(prefix) :] if entry.name.startswith(prefix) else ""
        if not rest.startswith((STAGING, RETIRED)) or not stat.S_ISDIR(os.lstat(entry).st_mode):
            continue
        known = _manifest(entry)
        if known is None:  # killed before its manifest was complete: empty, or just that
            if all(child.name == MANIFEST and child.is_file() for child in entry.iterdir()):
                with contextlib.suppress(OSError):
                    (entry / MANIFEST).unlink(missing_ok=True)
                    entry.rmdir()
            continue
        if _strangers(entry, known):
            continue
        if rest.startswith(RETIRED) and not os.path.lexists(out):
            os.rename(entry, out)
        else:
            _remove_build(entry)


def _write_build(folder: Path, files: dict[str, str]) -> None:
    manifest = {"generator": "kpispec", "files": sorted(files)}
    # the manifest first: a build killed while writing can then be recognised and removed
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    for rel, text in sorted(files.items()):
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    _permissions(folder)


def _swap_in(files: dict[str, str], out: Path) -> None:
    """Write the build beside ``out`` and put it in place in one step."""
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.{STAGING}", dir=out.parent))
    try:
        _write_build(staging, files)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # our own fresh folder, nobody else's
        raise
    try:
        if not os.path.lexists(out):
            os.rename(staging, out)
        elif not exchange(staging, out):
            # No exchange here (not Linux, or the file system lacks it): two renames. A kill
            # between them leaves no `out`; the next build puts the previous one back.
            prefix = f".{out.name}."
            retired = staging.with_name(prefix + RETIRED + staging.name[len(prefix + STAGING) :])
            os.rename(out, retired)
            try:
                os.rename(staging, out)
            except BaseException:
                os.rename(retired, out)
                raise
            _remove_build(retired)
    finally:
        # after an exchange it holds the previous build; after a failure, the new one
        if os.path.lexists(staging):
            _remove_build(staging)


def write_site(
    files: dict[str, str],
    out: Path,
    *,
    root: Path | None = None,
    allow_outside_root: bool = False,
    wait: float = LOCK_WAIT,
) -> None:
    """Write the site beside ``out`` and swap it into place (replacing a previous build).

    Readers of ``out`` see the previous build or the new one, never none or a part; two
    builds into one folder take turns (a lock beside it); a build killed at any point
    leaves the previous build in place (or, without an exchange rename, for the next
    build to put back).
    """
    refuse_project_folder(out, root)
    confine_output(out, root, allow_outside_root=allow_outside_root)
    _check_target(out)
    real = Path(os.path.realpath(out))
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        with locked(real, wait=wait):
            _recover(real)
            _check_target(real, out)  # again, now that no other build is writing
            _swap_in(files, real)
    except OSError as exc:
        raise cannot_write(out, exc) from None


def _permissions(folder: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    for path in [folder, *folder.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def build(
    doc: Doc,
    out: Path,
    *,
    templates: Path | None = None,
    root: Path | None = None,
    allow_outside_root: bool = False,
) -> list[str]:
    """Render and write the site; returns the relative paths written.

    ``root`` is the project root: an output inside it (or inside the current folder) must
    not lead outside through a symlink, and the output may not hold the project.
    """
    refuse_project_folder(out, root)  # before rendering: fail fast
    confine_output(out, root, allow_outside_root=allow_outside_root)
    _check_target(out)
    files = render(doc, templates=templates)
    write_site(files, out, root=root, allow_outside_root=allow_outside_root)
    return sorted(files)
