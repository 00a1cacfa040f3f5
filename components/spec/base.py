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


# A Kubernetes name (RFC 1123 label): namespaces, cohorts.
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
# An absolute path inside a mounted file system or bucket.
ABSOLUTE_PATH = r"^/[A-Za-z0-9._/-]+$"


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
