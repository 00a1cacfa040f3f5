from policies.rule import Rule, get, truthy

SCHEME = "service.beta.kubernetes.io/aws-load-balancer-scheme"
LEGACY_INTERNAL = "service.beta.kubernetes.io/aws-load-balancer-internal"
TYPES = ("kubernetes:core/v1:Service", "kubernetes:networking.k8s.io/v1:Ingress", "aws:lb/loadBalancer:LoadBalancer")


def check(rtype, props, ctx):
    if ctx.params["allowPublic"]:
        return
    annotations = get(props, "metadata.annotations") or {}
    if rtype == "kubernetes:core/v1:Service":
        if get(props, "spec.type") != "LoadBalancer":
            return
        if annotations.get(SCHEME) == "internal" or truthy(annotations.get(LEGACY_INTERNAL)):
            return
        yield "Service of type LoadBalancer is internet-facing; annotate it with " f"{SCHEME}: internal"
    elif rtype == "kubernetes:networking.k8s.io/v1:Ingress":
        if annotations.get("alb.ingress.kubernetes.io/scheme") == "internet-facing":
            yield "Ingress creates an internet-facing ALB (alb.ingress.kubernetes.io/scheme)"
    elif not truthy(props.get("internal")):
        yield "load balancer is internet-facing (internal is not true)"


RULE = Rule(
    name="no-public-load-balancers",
    description="Load balancers are internal unless the environment allows public ones.",
    severity="high", enforcement="mandatory",
    remediation="Make the load balancer internal (Service annotation service.beta.kubernetes.io/"
                "aws-load-balancer-scheme: internal, ALB scheme internal, internal: true), or set "
                "allowPublic: true for this rule in policies/config/<env>.json after review.",
    check=check, types=TYPES, params={"allowPublic": False},
)
