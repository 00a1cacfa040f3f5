"""The serving namespace is default-deny: only monitoring, allowed namespaces and load
balancers reach the servers; servers reach DNS, their own group and (hub models only) HTTPS
to public addresses. Pure planners, then the prod plan."""

import copy

import kubernetes_validate

from components.catalog import catalog
from components.inference.network import PRIVATE_RANGES, Sources, namespace_policies, service_policies
from components.inference.objects import pod_selector
from components.spec import ServiceSpec
from tests.test_inference_spec import svc

K8S = f"{catalog().recipe.default_kubernetes_version}.0"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def by_name(policies):
    return {p["metadata"]["name"]: p["spec"] for p in policies}


def test_namespace_default_deny_and_dns_only():
    pols = by_name(namespace_policies("inference"))
    assert pols["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    (dns,) = pols["allow-dns"]["egress"]
    assert dns["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    assert dns["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
    for p in namespace_policies("inference"):
        kubernetes_validate.validate(copy.deepcopy(p), K8S, strict=True)


def test_ingress_only_from_monitoring_allowed_namespaces_and_the_vpc_for_a_load_balancer():
    s = ServiceSpec.model_validate(svc(model={"bucket": "m/llama", "paramsB": 8},
                                       expose={"type": "loadBalancer",
                                               "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/x"}))
    src = Sources(monitoring="monitoring", namespaces=("apps",), load_balancer_cidr="10.40.0.0/16")
    pols = by_name(service_policies(s, "inference", pod_selector(s, False), src))
    assert set(pols) == {"llama-ingress"}  # a bucket model: no hub egress
    (rule,) = pols["llama-ingress"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8000}]
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "apps"}}},
                            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}},
                            {"ipBlock": {"cidr": "10.40.0.0/16"}}]
    # A cluster-internal service does not open to the VPC.
    internal = ServiceSpec.model_validate(svc(model={"bucket": "m/llama", "paramsB": 8}))
    (rule,) = by_name(service_policies(internal, "inference", pod_selector(internal, False), src))[
        "llama-ingress"]["ingress"]
    assert {"ipBlock": {"cidr": "10.40.0.0/16"}} not in rule["from"]


def test_hub_models_get_https_to_public_addresses_only():
    s = ServiceSpec.model_validate(svc())
    pols = by_name(service_policies(s, "inference", pod_selector(s, False), Sources(monitoring="monitoring")))
    (egress,) = pols["llama-hub"]["egress"]
    assert egress["ports"] == [{"protocol": "TCP", "port": 443}]
    assert egress["to"] == [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_RANGES)}}]
    assert "169.254.0.0/16" in PRIVATE_RANGES and "10.0.0.0/8" in PRIVATE_RANGES


def test_multi_node_groups_talk_among_themselves_only():
    s = ServiceSpec.model_validate(svc(tensorParallel=4, multiNode={"nodes": 2},
                                       model={"bucket": "m/llama", "paramsB": 8}))
    pols = by_name(service_policies(s, "inference", pod_selector(s, False), Sources(monitoring="monitoring")))
    group = pols["llama-group"]
    sel = {"matchLabels": {"app.kubernetes.io/name": "llama", "app.kubernetes.io/component": "model-server"}}
    assert group["podSelector"] == sel
    assert group["ingress"] == [{"from": [{"podSelector": sel}]}] and group["egress"] == [{"to": [{"podSelector": sel}]}]
    # Requests go to leaders only.
    assert pols["llama-ingress"]["podSelector"]["matchLabels"]["leaderworkerset.sigs.k8s.io/worker-index"] == "0"


def test_prod_serving_namespace_is_default_deny(plan_of):
    plan = plan_of("prod")
    pols = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in plan.of_type(NETPOL)
            if r.inputs["metadata"]["namespace"] == "inference"}
    assert pols["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert set(pols) == {"default-deny", "allow-dns", "llama-8b-ingress", "llama-70b-ingress", "llama-70b-hub"}
    # Only the hub model may leave the cluster.
    egress = [n for n, p in pols.items() if "Egress" in p["policyTypes"] and p.get("egress")]
    assert sorted(egress) == ["allow-dns", "llama-70b-hub"]


def test_prod_replicas_spread_over_nodes(plan_of):
    plan = plan_of("prod")
    for dep in plan.of_type("kubernetes:apps/v1:Deployment"):
        pod = dep.inputs["spec"]["template"]["spec"]
        host = [c for c in pod["topologySpreadConstraints"] if c["topologyKey"] == "kubernetes.io/hostname"][0]
        assert host["whenUnsatisfiable"] == "DoNotSchedule" and host["maxSkew"] == 1
        assert host["minDomains"] == dep.inputs["spec"]["replicas"] == 2
        assert host["labelSelector"]["matchLabels"] == dep.inputs["spec"]["selector"]["matchLabels"]
