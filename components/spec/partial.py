"""Checking the rest of a stack that has errors, without reporting what only follows from them.

A key whose value failed is set aside (its default stands in) and the stack is parsed again;
a GPU pool with any error is set aside whole, so that its facts never come from a stand-in
(a default size.max would make every quota on it look too large). The cross-field checks then
run on what parsed; a problem at or under a set-aside key, or at the key holding it, only
repeats the first one and is dropped, and a reference to a set-aside pool is no error."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from .base import Problem, Unparsed, key_path
from .messages import is_branch, model_at

POOLS = "gpuPools"
_ROUNDS = 6
STAND_IN = "(set aside)"  # each round sets aside at least one key; a stack file is only so deep


@dataclass
class Partial:
    spec: Any  # the model parsed from what remained; None when even that failed
    unparsed: Unparsed
    set_aside: list[str] = field(default_factory=list)  # key paths, in the file's numbering
    pool_index: list[int] = field(default_factory=list)  # parsed gpuPools[k] is the file's [pool_index[k]]

    def follow_ons(self, problems: Iterable[Problem]) -> Iterator[Problem]:
        """The problems of the partial spec, renumbered as in the file, without follow-ons."""
        for p in problems:
            path = self._renumber(p.path)
            if any(path == a or path.startswith((f"{a}.", f"{a}[")) or a.startswith((f"{path}.", f"{path}["))
                   for a in self.set_aside):
                continue
            yield Problem(path, p.message, p.file)

    def _renumber(self, path: str) -> str:
        prefix = f"aidc:{POOLS}["
        if not path.startswith(prefix):
            return path
        index, _, rest = path[len(prefix):].partition("]")
        if not index.isdigit() or int(index) >= len(self.pool_index):
            return path
        return f"{prefix}{self.pool_index[int(index)]}]{rest}"


def _container(data: Any, loc: list[str | int]) -> Any:
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def _stand_in(model: type[BaseModel], data: dict[str, Any], loc: list[str | int]) -> bool:
    """Put a stand-in at a required key of free text (no pattern: a kubeconfig) that was set
    aside, so that what holds it (aidc:cluster.existing) is still what the stack says."""
    parent_model = model_at(model, loc[:-1])
    info = next((f for n, f in (parent_model.model_fields.items() if parent_model else ())
                 if loc[-1] in (n, f.alias)), None)
    parent = _container(data, loc[:-1])
    if info is None or info.annotation is not str or not isinstance(parent, dict) \
            or any(getattr(m, "pattern", None) for m in info.metadata):
        return False
    parent[loc[-1]] = STAND_IN
    return True


def parse(model: type[BaseModel], data: dict[str, Any], head: Callable[[Any], str]) -> Partial:
    data = copy.deepcopy(data)
    pools = data.get(POOLS)
    index = list(range(len(pools))) if isinstance(pools, list) else []
    out = Partial(None, Unparsed(), pool_index=index)
    names: set[str] = set()
    sections: set[str] = set()
    all_pools = False
    for _ in range(_ROUNDS):
        try:
            out.spec = model.model_validate(data)
            break
        except ValidationError as err:
            drop_pools: set[int] = set()
            progress = False
            for e in err.errors():
                loc = list(e["loc"])
                cut = next((i for i, p in enumerate(loc) if is_branch(p)), len(loc))
                if e["type"] == "missing" and cut == len(loc) and _stand_in(model, data, loc):
                    progress = True  # a required free text set aside: a stand-in keeps its section
                    continue
                loc = loc[:cut] if e["type"] != "missing" else loc[:min(cut, len(loc) - 1)]
                if loc[:1] == [POOLS] and len(loc) > 1 and isinstance(loc[1], int):
                    drop_pools.add(loc[1])
                    continue
                # A list item cannot be set aside without renumbering its siblings: the list is.
                while loc and isinstance(loc[-1], int):
                    loc = loc[:-1]
                if not loc:
                    return out
                parent = _container(data, loc[:-1])
                if isinstance(parent, dict) and loc[-1] in parent:
                    del parent[loc[-1]]
                    progress = True
                    out.set_aside.append(key_path([head(loc[0]), *loc[1:]]))
                    if len(loc) == 1:
                        sections.add(str(loc[0]))
                        all_pools |= loc[0] == POOLS
            for i in sorted(drop_pools, reverse=True):
                item = data[POOLS][i]
                if isinstance(item, dict) and isinstance(item.get("name"), str):
                    names.add(item["name"])
                out.set_aside.append(f"aidc:{POOLS}[{out.pool_index[i]}]")
                del data[POOLS][i]
                del out.pool_index[i]
                progress = True
            if not progress:
                return out
    out.unparsed = Unparsed(frozenset(names), all_pools, frozenset(sections))
    return out
