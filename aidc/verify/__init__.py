"""`aidc verify`: checks that a live cluster matches the stack that built it.

One module per area (gpu, nvidia, storage, training, inference), each with `applies(spec)`
and `checks(spec, catalog, kube, pools)`. An area whose spec section is absent in this build
or empty in the stack contributes no checks. Every name shared with the components that
create the checked objects lives in `names.py`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import gpu, health, inference, nvidia, site, snapshot, storage, training
from .kube import NOT_INSTALLED, OTHER_VERSION, Kube, KubeError
from .result import Check, CheckResult

FAMILIES = (gpu, health, nvidia, site, storage, training, inference)

__all__ = ["FAMILIES", "Check", "CheckResult", "Kube", "KubeError", "build_checks", "run_checks", "snapshot"]


def build_checks(spec: Any, cat: Any, kube: Kube, pools: list[Any] | None = None) -> list[Check]:
    """Checks for the stack; `pools` narrows the GPU pool checks to some pools (default all)."""
    all_pools = list(getattr(spec, "gpu_pools", ()))
    found: list[Check] = []
    for family in FAMILIES:
        if family.applies(spec):
            chosen = pools if (family in (gpu, health, site) and pools is not None) else all_pools
            found.extend(family.checks(spec, cat, kube, chosen))
    return found


def run_check(check: Check) -> CheckResult:
    try:
        out = check.run()
        return CheckResult(check.id, check.area, check.title, out.status, out.reason)
    except KubeError as err:
        # These two say what they are themselves.
        reason = str(err) if err.kind in (NOT_INSTALLED, OTHER_VERSION) else f"{err.kind}: {err}"
        return CheckResult(check.id, check.area, check.title, "fail", reason)
    except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others' results
        return CheckResult(check.id, check.area, check.title, "fail",
                           f"check could not evaluate the answer ({type(exc).__name__}: {exc})")


def run_checks(checks: Iterable[Check]) -> list[CheckResult]:
    return [run_check(c) for c in checks]
