"""The one way aidc reads a YAML file (stack files, the catalog, spec defaults, policy data).

The safe subset of YAML, parsed by libyaml when PyYAML was built with it (several times faster
than the pure-Python parser), and a key given twice in one mapping is an error: plain YAML keeps
the second value silently, so half of a setting would vanish without a word.

A leaf module: PyYAML and the standard library only, below the catalog in the layer order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["StrictLoader", "YamlFileError", "load", "loads"]

_MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlFileError(ValueError):
    """A YAML file that cannot be read or parsed: which file, which line (1-based; None when
    the file could not be read at all) and why. Callers turn it into their own error type."""

    def __init__(self, path: str, line: int | None, reason: str):
        self.path, self.line, self.reason = path, line, reason
        super().__init__(f"{path}, line {line}: {reason}" if line else f"{path}: {reason}")


class StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader, refusing a duplicated mapping key. libyaml only parses; construction
    is Python either way, so the check costs one dict lookup per key."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            first_line: dict[Any, int] = {}
            for key_node, _ in node.value:
                # `<<: *anchor` merges keys that the mapping may then override on purpose.
                if key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=deep)  # memoised: the base class reuses it
                try:
                    line = first_line.get(key)
                except TypeError:
                    continue  # an unhashable key: the base class reports it with its mark
                if line is not None:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key!r} appears twice (first on line {line})", key_node.start_mark)
                first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _reason(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    if problem and context:
        return f"{problem} ({context})"
    return str(problem or context or exc)


def loads(text: str, path: str | Path = "<string>") -> Any:
    """Parse YAML text; `path` names the file in the error."""
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        raise YamlFileError(str(path), mark.line + 1 if mark else None, _reason(exc)) from None


def load(path: str | Path) -> Any:
    """Read and parse a YAML file (None when it is empty)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlFileError(str(path), None, f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    return loads(text, path)
