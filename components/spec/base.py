"""Shared pieces of the typed spec: the model base class, problems and their key paths."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Model(BaseModel):
    """Every spec object: camelCase keys as in the stack file, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )


# Every pattern a key must match, with the words that say it: a message names the rule in
# words ("2-32 lowercase letters, ...") and never shows the regex.
PATTERN_WORDS: dict[str, str] = {}


def rule(pattern: str, words: str) -> str:
    """`Field(pattern=rule(regex, words))`: the regex for pydantic, the words for messages.
    `words` completes "expected ...", e.g. "a Kubernetes name: ..."."""
    PATTERN_WORDS[pattern] = words
    return pattern


# A Kubernetes name (RFC 1123 label): namespaces, cohorts.
DNS_LABEL = rule(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
                 "a Kubernetes name: 1-63 lowercase letters, digits or '-', beginning and ending with a letter or digit")
# An absolute path inside a mounted file system or bucket.
ABSOLUTE_PATH = rule(r"^/[A-Za-z0-9._/-]+$", "an absolute path: '/' then letters, digits, '.', '_', '-' or '/'")


def _cidr(value: str) -> str:
    return str(ipaddress.IPv4Network(value))  # ValueError names the bad range (or its host bits)


# An IPv4 CIDR written as text ("10.0.0.0/16"), normalised. Text only: pydantic would read
# `true` or `5` as an address (0.0.0.1/32) if the type were IPv4Network itself.
Cidr = Annotated[str, AfterValidator(_cidr)]


def key_path(loc: Sequence[str | int]) -> str:
    """('aidc:gpuPools', 1, 'capacity') -> 'aidc:gpuPools[1].capacity'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a stack file: where, and why."""

    path: str
    message: str
    file: str = ""

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        return f"{where}{self.path}: {self.message}"


class SpecError(Exception):
    """The stack configuration is invalid. Carries every problem found, not just the first."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))

    def in_file(self, file: str) -> "SpecError":
        return SpecError(Problem(p.path, p.message, file) for p in self.problems)


@dataclass(frozen=True)
class Unparsed:
    """What failed to parse when the rest of a stack is checked anyway: a reference to it is
    not reported again (its definition already was)."""

    pools: frozenset[str] = frozenset()  # names the file gives GPU pools whose definition failed
    all_pools: bool = False  # aidc:gpuPools failed as a whole
    sections: frozenset[str] = frozenset()  # top-level keys ("storage") that failed as a whole

    def pool(self, name: str) -> bool:
        return self.all_pools or name in self.pools

NOTHING_UNPARSED = Unparsed()
