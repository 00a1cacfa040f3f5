"""A check and its outcome: pass, fail or skipped, always with a reason a person can act on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Status = Literal["pass", "fail", "skipped"]


@dataclass(frozen=True)
class Outcome:
    status: Status
    reason: str


def passed(reason: str) -> Outcome:
    return Outcome("pass", reason)


def failed(reason: str) -> Outcome:
    return Outcome("fail", reason)


def skipped(reason: str) -> Outcome:
    return Outcome("skipped", reason)


@dataclass(frozen=True)
class Check:
    """One question asked of the cluster. `run` reads the cluster and returns an Outcome; it
    may raise `KubeError` (unreachable, 401, 403, ...), which the runner reports for this
    check alone."""

    id: str  # stable, e.g. "gpu-pool/train-h100/gpus"
    area: str  # gpu-pools | nvidia | storage | training | inference | acceptance
    title: str
    run: Callable[[], Outcome]


@dataclass(frozen=True)
class CheckResult:
    id: str
    area: str
    title: str
    status: Status
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "area": self.area, "title": self.title, "status": self.status, "reason": self.reason}
