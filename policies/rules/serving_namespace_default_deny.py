from policies.rule import Rule, get, items, namespace_of

NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
# The label aidc (and the Kubernetes recommended labels) put on model-server pods.
COMPONENT = "app.kubernetes.io/component"
MODEL_SERVER = "model-server"
SERVING_KINDS = (":Deployment", ":LeaderWorkerSet", ":InferenceService", ":StatefulSet")


def _serves(res) -> bool:
    labels = get(res.inputs, "metadata.labels") or {}
    return res.type.startswith("kubernetes:") and res.type.endswith(SERVING_KINDS) and \
        labels.get(COMPONENT) == MODEL_SERVER


def _default_deny(props) -> bool:
    """podSelector {} (every pod), both directions, and no allowance in the policy itself."""
    spec = get(props, "spec") or {}
    selector = get(spec, "podSelector") or {}
    everyone = not get(selector, "matchLabels") and not items(get(selector, "matchExpressions"))
    types = {str(t) for t in items(get(spec, "policyTypes"))}
    return everyone and {"Ingress", "Egress"} <= types and not items(get(spec, "ingress")) \
        and not items(get(spec, "egress"))


def check(plan, ctx):
    fenced = {namespace_of(r.inputs) for r in plan.resources
              if r.type == NETPOL and r.op != "delete" and _default_deny(r.inputs)}
    for r in plan.resources:
        if r.op != "delete" and _serves(r) and namespace_of(r.inputs) not in fenced:
            yield r.urn, (f"model server in namespace {namespace_of(r.inputs)}, which has no default-deny "
                          "NetworkPolicy: any pod in the cluster can use its unauthenticated API")


RULE = Rule(
    name="serving-namespace-default-deny",
    description="Every namespace that runs model servers has a default-deny NetworkPolicy (all pods, ingress "
                "and egress), so only what a stack allows reaches the servers and they reach only what they need.",
    severity="critical", enforcement="mandatory", kind="stack",
    remediation="Serve models through aidc:inference (its namespace gets default-deny plus per-service "
                "allowances); list callers in aidc:inference.allowNamespaces / allowCidrs.",
    check=check,
)
