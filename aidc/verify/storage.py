"""Storage: every claim the stack creates is Bound, so pods that mount it can start."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import names
from .kube import Kube
from .result import Check, Outcome, failed, passed

AREA = "storage"


def applies(spec: Any) -> bool:
    return getattr(spec, "storage", None) is not None


def _claim(kube: Kube, namespace: str, claim: str) -> Outcome:
    pvc = kube.pvc(namespace, claim)
    if pvc is None:
        return failed(f"PersistentVolumeClaim {namespace}/{claim} not found")
    phase = (pvc.status.phase if pvc.status else None) or "<none>"
    if phase != "Bound":
        volume = pvc.spec.volume_name if pvc.spec else None
        hint = f" (waiting for volume {volume})" if volume else ""
        return failed(f"PersistentVolumeClaim {namespace}/{claim} is {phase}{hint}")
    return passed(f"{namespace}/{claim} Bound to {pvc.spec.volume_name}")


def checks(spec: Any, cat: Any, kube: Kube, pools: list[Any]) -> Iterator[Check]:
    for namespace, claim in names.storage_claims(spec.storage):
        yield Check(f"storage/{namespace}/{claim}", AREA, f"PVC {claim} Bound in {namespace}",
                    lambda ns=namespace, c=claim: _claim(kube, ns, c))
