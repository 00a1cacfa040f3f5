"""Helm values of the serving operators' charts (keda, cert-manager, kserve, leaderworkerset;
external-secrets lives in components.secrets). Pure dicts, so tests pin exactly what each chart gets."""

from __future__ import annotations

from typing import Any


def keda_values() -> dict[str, Any]:
    """KEDA 2.20.2's own security contexts already meet `restricted`."""
    return {}


def cert_manager_values() -> dict[str, Any]:
    return {"crds": {"enabled": True}}


def kserve_values() -> dict[str, Any]:
    """Plain Deployments (no Knative): `Standard` is the mode formerly called RawDeployment."""
    return {"kserve": {"controller": {"deploymentMode": "Standard"}}}


def lws_values() -> dict[str, Any]:
    """LWS 0.10.0's pod sets runAsNonRoot but no seccomp profile, which `restricted` requires:
    without it the controller's pods are rejected in their namespace."""
    return {"podSecurityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}}
