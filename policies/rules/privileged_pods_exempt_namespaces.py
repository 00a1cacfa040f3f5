from functools import cache
from pathlib import Path

from components.catalog import CatalogError
from components.yamlfile import YamlFileError
from components.yamlfile import load as load_yaml
from policies.rule import Rule, containers, get, is_kubernetes_workload, items, namespace_of, pod_specs, truthy

DATA = Path(__file__).resolve().parent.parent / "data" / "privileged-namespaces.yaml"
NAMESPACE = "kubernetes:core/v1:Namespace"


@cache
def exempt_namespaces() -> dict[str, str]:
    """namespace -> why it may run privileged pods (policies/data/privileged-namespaces.yaml)."""
    try:
        entries = load_yaml(DATA)
    except YamlFileError as exc:
        raise CatalogError(str(exc)) from None  # shipped data: a broken file is aidc's bug
    return {e["namespace"]: e["reason"] for e in entries}


def _host_access(spec) -> list[str]:
    found = [k for k in ("hostNetwork", "hostPID", "hostIPC") if truthy(spec.get(k))]
    found += [f"hostPath volume {v.get('name')}" for v in items(spec.get("volumes")) if v.get("hostPath") is not None]
    for c in containers(spec):
        sc = c.get("securityContext") or {}
        if truthy(sc.get("privileged")):
            found.append(f"privileged container {c.get('name')}")
        if [cap for cap in items(get(sc, "capabilities.add")) if str(cap) in ("SYS_ADMIN", "ALL", "NET_ADMIN")]:
            found.append(f"container {c.get('name')} adds host-level capabilities")
    return found


def check(rtype, props, ctx):
    allowed = {**exempt_namespaces(), **{n: "policy config" for n in ctx.params["extraNamespaces"]}}
    if rtype == NAMESPACE:
        name = get(props, "metadata.name")
        if get(props, "metadata.labels", {}).get("pod-security.kubernetes.io/enforce") == "privileged" \
                and name not in allowed:
            yield f"namespace {name} enforces the privileged Pod Security level but is not exempted"
        return
    ns = namespace_of(props)
    if not is_kubernetes_workload(rtype) or ns in allowed:
        return
    for path, spec in pod_specs(props):
        for what in _host_access(spec):
            yield f"{what} at {path} in namespace {ns}, which is not exempted for host access"


RULE = Rule(
    name="privileged-pods-exempt-namespaces-only",
    description="Privileged, host-network/PID/IPC and hostPath pods run only in namespaces exempted as data "
                "(namespace plus reason), such as the GPU Operator's and the EFA plugin's.",
    severity="high", enforcement="mandatory",
    remediation="Drop the host access from the pod (securityContext.privileged, hostNetwork, hostPath), or, for a "
                "node agent that needs it, add its namespace with a reason to policies/data/privileged-namespaces.yaml.",
    check=check, params={"extraNamespaces": []},
)
