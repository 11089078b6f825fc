"""“Did you mean” hints."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, options: Iterable[str]) -> str | None:
    """The option most like ``word``, if any is close enough to be a likely typo."""
    candidates = list(dict.fromkeys(options))
    lowered = {c.lower(): c for c in candidates}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return lowered[word.lower()]
    match = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    if match:
        return match[0]
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    if match:
        return lowered[match[0]]
    # a word that starts another (nps -> nps_score) is a likely slip too
    starts = [c for c in candidates if len(word) >= 3 and c.lower().startswith(word.lower())]
    return starts[0] if len(starts) == 1 else None


def did_you_mean(word: str, options: Iterable[str]) -> str | None:
    match = closest(word, options)
    return f"did you mean `{match}`?" if match else None
