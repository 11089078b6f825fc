"""``kpispec diff``: load a project at two revisions, evaluate what changed, compare.

Both revisions are evaluated on the same data (the working tree's files, the same
databases) and the same ``as_of``, so the differences are those of the specs alone.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from kpispec.diagnostics import Diagnostic, SpecError
from kpispec.diff.compare import assemble, changes
from kpispec.diff.git import WORKING_TREE, GitTree, Revision, resolve, top_level
from kpispec.diff.model import Diff
from kpispec.results import Results
from kpispec.spec.load import Loaded, existing, load
from kpispec.spec.project import find_layout


class InvalidRevision(SpecError):
    """Invalid specs at one side of the diff; ``side`` and ``revision`` say which."""

    def __init__(
        self,
        side: str,
        revision: Revision,
        diagnostics: list[Diagnostic],
        sources: dict[str, str],
    ) -> None:
        super().__init__(diagnostics, sources)
        self.side = side
        self.revision = revision


def _load(
    path: Path, side: str, revision: Revision, repo: Path, root: Path, allow_outside_root: bool
) -> Loaded | None:
    """The project at ``revision`` (None: it has no spec file there)."""
    tree = None
    if revision.commit is not None:
        tree = GitTree(repo, revision, root)
        if tree.empty(project_file=find_layout(path).project_file is not None):
            return None
    loaded = load(root, allow_outside_root=allow_outside_root, tree=tree)
    if loaded.spec_errors:
        raise InvalidRevision(side, revision, loaded.spec_errors, loaded.sources)
    return loaded


def _evaluate(
    loaded: Loaded | None, ids: list[str], as_of: date, period: str | None, engine: str | None
) -> Results | None:
    if loaded is None or not ids:
        return None
    from kpispec.engine.evaluate import evaluate
    from kpispec.engine.results import build
    from kpispec.options import parse_period

    checked = loaded.checked
    evaluation = evaluate(
        checked, as_of=as_of, period=parse_period(period), kpi_ids=ids, engine=engine
    )
    return build(checked, evaluation, kpi_ids=ids)


def diff(
    path: Path | str,
    base: str,
    head: str | None = None,
    *,
    as_of: date,
    period: str | None = None,
    periods: int = 2,
    engine: str | None = None,
    allow_outside_root: bool = False,
) -> tuple[Diff, Loaded | None]:
    """What the specs of ``head`` (default the working tree) change against ``base``, and
    the project loaded at the head (None if it has none).

    Raises SpecError (E008, E009, or :class:`InvalidRevision`) and DataError.
    """
    path = existing(Path(path))
    root = find_layout(path).root
    repo = top_level(root)
    base_rev = resolve(repo, base)
    head_rev = resolve(repo, head) if head is not None else Revision(WORKING_TREE)
    base_loaded = _load(path, "base", base_rev, repo, root, allow_outside_root)
    head_loaded = _load(path, "head", head_rev, repo, root, allow_outside_root)
    base_checked = base_loaded.checked if base_loaded else None
    head_checked = head_loaded.checked if head_loaded else None
    planned = changes(base_checked, head_checked)
    base_results = _evaluate(base_loaded, planned.evaluate_base, as_of, period, engine)
    head_results = _evaluate(head_loaded, planned.evaluate_head, as_of, period, engine)
    compared = assemble(
        base_rev, head_rev, as_of.isoformat(), periods, planned,
        base_checked, head_checked, base_results, head_results,
    )  # fmt: skip
    return compared, head_loaded
