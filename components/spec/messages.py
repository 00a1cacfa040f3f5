"""Library errors in the spec's own words: every pydantic error becomes a Problem that names
the key's type, its bounds or allowed values, a pattern rule in words, and for an unknown key
the keys meant ("did you mean systemNodes?"). Never "Input should be", a class name or a regex."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from components.suggest import did_you_mean

from .base import PATTERN_WORDS, Problem, key_path

# A union reports each branch under a tag in the error location ("int", "tuple[str, ...]").
_BRANCH_WORDS = (("int", "a whole number"), ("float", "a number"), ("str", "text"), ("bool", "true or false"),
                 ("tuple[", "a list"), ("list[", "a list"), ("dict[", "a mapping"))
_SCALAR_TYPES = {"int", "float", "str", "bool"}


def is_branch(part: str | int) -> bool:
    return isinstance(part, str) and (part in _SCALAR_TYPES or "[" in part)


def shown(value: Any) -> str:
    """A value as the stack file spells it, short."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"


# ------------------------------------------------------------- the model a location points into

def _inner(annotation: Any) -> list[Any]:
    """The types an annotation may hold, unwrapped from Optional, Annotated and containers."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _inner(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for a in typing.get_args(annotation) if a is not type(None) for t in _inner(a)]
    return [annotation]


def _field(model: type[BaseModel], key: str) -> Any | None:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.annotation
    return None


def model_at(root: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The spec model whose keys the location `loc` (pydantic's, branch tags removed) names."""
    current: list[Any] = [root]
    for part in loc:
        nxt: list[Any] = []
        for t in current:
            origin = typing.get_origin(t)
            if isinstance(t, type) and issubclass(t, BaseModel) and isinstance(part, str):
                if (ann := _field(t, part)) is not None:
                    nxt += _inner(ann)
            elif origin in (tuple, list) and isinstance(part, int):
                nxt += _inner(typing.get_args(t)[0])
            elif origin is dict and isinstance(part, str):
                nxt += _inner(typing.get_args(t)[1])
        current = nxt
    models = [t for t in current if isinstance(t, type) and issubclass(t, BaseModel)]
    return models[0] if models else None


def keys_of(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


# ------------------------------------------------------------- one error in words

def _bound(e: dict) -> str:
    ctx = e.get("ctx") or {}
    words = {"greater_than_equal": ("at least", "ge"), "greater_than": ("above", "gt"),
             "less_than_equal": ("at most", "le"), "less_than": ("below", "lt")}
    say, key = words[e["type"]]
    limit = ctx.get(key)
    limit = f"{limit:g}" if isinstance(limit, float) else limit
    return f"{shown(e['input'])} is out of range: must be {say} {limit}"


def _expected(e: dict, root: type[BaseModel], loc: list[str | int]) -> str:
    kind, value = e["type"], e["input"]
    got = f", got {shown(value)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number{got}"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return f"expected a number{got}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false{got}"
    if kind == "string_type":
        if isinstance(value, int | float) and not isinstance(value, bool):
            # YAML reads 1.30 as the number 1.3: versions and ids must be quoted.
            return f"expected text, got the number {value!r}: put the value in quotes"
        return f"expected text{got}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list{got}"
    if kind == "dict_type":
        return f"expected a mapping of keys{got}"
    if kind in ("model_type", "model_attributes_type"):
        model = model_at(root, loc)
        keys = keys_of(model)[:4] if model else []
        such = f" ({', '.join(keys)}, ...)" if keys else ""
        return f"expected a mapping of keys{such}{got}"
    return ""


def message(e: dict, root: type[BaseModel], loc: list[str | int]) -> str:
    """The words for one pydantic error at `loc` (branch tags removed)."""
    kind, ctx = e["type"], e.get("ctx") or {}
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        model = model_at(root, loc[:-1])
        known = keys_of(model) if model else []
        return f"unknown key; {did_you_mean(str(loc[-1]), known, otherwise='known: ' + ', '.join(known))}"
    if kind == "literal_error":
        allowed = str(ctx.get("expected", "")).replace("'", "")
        return f"{shown(e['input'])} is not one of: {allowed}"
    if kind == "string_pattern_mismatch":
        words = PATTERN_WORDS.get(str(ctx.get("pattern")), "a value of the documented form")
        return f"expected {words}, got {shown(e['input'])}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return _bound(e)
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return "must not be empty" if n == 1 else f"must be at least {n} characters long"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters long"
    if kind in ("value_error", "assertion_error"):
        return str(e["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if said := _expected(e, root, loc):
        return said
    # A kind not met before: the library's words with its phrasing turned into ours.
    return str(e["msg"]).replace("Input should be", "expected").replace("String should", "must")


def _union(errors: list[dict], root: type[BaseModel], loc: list[str | int]) -> str:
    """One message for a key whose every union branch failed: what each branch would take."""
    values = [e for e in errors if e["type"] in ("value_error", "assertion_error")]
    if values:  # the value had the right shape; its own validator explains what is wrong
        return message(values[0], root, loc)
    tags: list[str] = []
    for e in errors:
        tag = next((p for p in e["loc"] if is_branch(p)), "")
        words = next((w for prefix, w in _BRANCH_WORDS if str(tag).startswith(prefix)), None)
        if words and words not in tags:
            tags.append(words)
    return f"expected {' or '.join(tags)}, got {shown(errors[0]['input'])}" if tags else message(errors[0], root, loc)


def translate(err: ValidationError, root: type[BaseModel], head: Any) -> Iterator[Problem]:
    """Every error of `err` (raised validating `root`) as a Problem; `head(loc)` names the
    first key of a location ('network' -> 'aidc:network')."""
    def at(loc: list[str | int]) -> str:
        return key_path([head(loc[0]), *loc[1:]]) if loc else head(None)

    unions: dict[tuple, list[dict]] = {}
    for e in err.errors():
        loc = list(e["loc"])
        cut = next((i for i, p in enumerate(loc) if is_branch(p)), None)
        if cut is None:
            yield Problem(at(loc), message(e, root, loc))
        else:
            unions.setdefault(tuple(loc[:cut]), []).append(e)
    for union_loc, errors in unions.items():
        # A branch whose errors lie deeper (a list item) had the value's shape: report those.
        deeper = [e for e in errors if len(e["loc"]) > len(union_loc) + 1]
        for e in deeper:
            loc = [p for p in e["loc"] if not is_branch(p)]
            yield Problem(at(loc), message(e, root, loc))
        if not deeper:
            yield Problem(at(list(union_loc)), _union(errors, root, list(union_loc)))
