""""Did you mean": the one way aidc answers a name it does not know (an instance type, a pool,
a stack, a preset, a rule). A leaf module: the standard library only.

    unknown GPU pool 'train-a100'; did you mean train-h100?
    unknown stack 'qa'; known: dev, onprem, prod, staging
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["close_names", "did_you_mean", "unknown"]

# difflib's default: 'p5.48xlarg' finds p5.48xlarge, 'qa' finds nothing among dev/prod/staging.
CUTOFF = 0.6
MAX_SUGGESTIONS = 3


def close_names(name: str, known: Iterable[str]) -> list[str]:
    """The known names closest to `name`, best first, at most three. Case is ignored when
    comparing ('h100' finds H100) but the names come back as they are spelled."""
    spelled: dict[str, list[str]] = {}
    for k in sorted(set(known)):
        spelled.setdefault(k.lower(), []).append(k)
    if name.lower() in spelled:  # only the case differs: that is the one meant
        return spelled[name.lower()][:MAX_SUGGESTIONS]
    # As difflib.get_close_matches, but equal scores rank by name (it ranks them by reverse name).
    matcher = difflib.SequenceMatcher(b=name.lower())
    scored = []
    for candidate in spelled:
        matcher.set_seq1(candidate)
        if matcher.real_quick_ratio() >= CUTOFF and matcher.quick_ratio() >= CUTOFF:
            ratio = matcher.ratio()
            if ratio >= CUTOFF:
                scored.append((-ratio, candidate))
    hits = [candidate for _, candidate in sorted(scored)[:MAX_SUGGESTIONS]]
    return [k for hit in hits for k in spelled[hit]][:MAX_SUGGESTIONS]


def did_you_mean(name: str, known: Iterable[str], *, empty: str = "known: none",
                 otherwise: str | None = None) -> str:
    """The hint after an unknown name: 'did you mean a, b?' when some known names are close;
    else `otherwise` when given (for a list too long to print), else 'known: <all, sorted>';
    `empty` when nothing is known at all."""
    known = sorted(set(known))
    if not known:
        return empty
    close = close_names(name, known)
    if close:
        return f"did you mean {', '.join(close)}?"
    return otherwise if otherwise is not None else f"known: {', '.join(known)}"


def unknown(what: str, name: str, known: Iterable[str], *, empty: str = "known: none") -> str:
    """"unknown <what> '<name>'; <hint>": the whole message for a name that is not known."""
    return f"unknown {what} {name!r}; {did_you_mean(name, known, empty=empty)}"
