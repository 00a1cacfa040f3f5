"""Property trees: flatten to paths, compare, and show values the way a reviewer reads them."""

from __future__ import annotations

import json
import re
from typing import Any

from aidc.plan import SECRET, UNKNOWN

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()  # absent on one side
SHOW_LIMIT = 60
_INDEX = re.compile(r"\[\d+\]")


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{'a': {'b': [1]}} -> {'a.b[0]': 1}; empty objects and lists stay leaves."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k in sorted(value):
            key = str(k)
            step = f'["{key}"]' if ("." in key or "[" in key or not key) else (f".{key}" if prefix else key)
            out.update(flatten(value[k], prefix + step))
        return out
    if isinstance(value, list) and value:
        out = {}
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value} if prefix else {}  # an empty top level has no leaves


def changed(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(path, old, new) for every leaf that differs, sorted by path; absent leaves are MISSING."""
    a, b = flatten(old), flatten(new)
    out = []
    for path in sorted(set(a) | set(b)):
        va, vb = a.get(path, MISSING), b.get(path, MISSING)
        if va is MISSING or vb is MISSING or not _same(va, vb):
            out.append((path, va, vb))
    return out


def _same(a: Any, b: Any) -> bool:
    # Offline plans carry whole numbers as ints, real previews sometimes as floats.
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) \
            and not isinstance(b, bool):
        return float(a) == float(b)
    return type(a) is type(b) and a == b


def generic(path: str) -> str:
    """'spec.containers[2].image' -> 'spec.containers[*].image' (rules name any element)."""
    return _INDEX.sub("[*]", path)


def under(path: str, rule: str) -> bool:
    """Does a change at `path` touch the property `rule`? True at, below, or above it
    (an enclosing object that appears or disappears changes everything inside)."""
    p, r = generic(path), rule
    return p == r or p.startswith((r + ".", r + "[")) or r.startswith((p + ".", p + "["))


def show(value: Any, limit: int = SHOW_LIMIT) -> str:
    """A value for a table cell: secrets hidden, unknowns named, long values shortened."""
    if value is MISSING:
        return "(none)"
    if value == SECRET:
        return SECRET
    if value == UNKNOWN:
        return "(known after apply)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))
    text = " ".join(text.split())  # no newlines in one table cell
    return text if len(text) <= limit else text[: limit - 1] + "…"


def show_pair(old: Any, new: Any, limit: int = SHOW_LIMIT) -> tuple[str, str]:
    """Both sides of a change; two long strings that share a start are shown from where they
    differ, so the cell shows the change and not the same shortened prefix twice."""
    if isinstance(old, str) and isinstance(new, str) and SECRET not in (old, new) \
            and max(len(old), len(new)) > limit:
        a, b = " ".join(old.split()), " ".join(new.split())
        common = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
        start = max(0, common - 12)
        if start > 0:
            return show("…" + a[start:], limit), show("…" + b[start:], limit)
    if SECRET in (old, new) and UNKNOWN not in (old, new):  # one side secret: hide both, the
        return SECRET, SECRET  # other may be derived from it (an unknown side reveals nothing)
    return show(old, limit), show(new, limit)


def smaller(old: Any, new: Any) -> bool:
    """new < old for numbers and x.y[.z] version strings; False when they cannot be compared."""
    if isinstance(old, (int, float)) and isinstance(new, (int, float)):
        return new < old
    if isinstance(old, str) and isinstance(new, str):
        try:
            return tuple(int(x) for x in new.split(".")) < tuple(int(x) for x in old.split("."))
        except ValueError:
            return False
    return False
