"""The serving options the shipped stacks do not use (KServe, Triton, LeaderWorkerSet, load
balancer, gateway), planned end to end from a stack file derived from prod."""

from pathlib import Path

import pytest
import yaml

from aidc.engine import plan_stack
from aidc.serving import server_lines
from components.catalog import catalog

ROOT = Path(__file__).resolve().parent.parent
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/abc"


def plan_with(tmp_path: Path, name: str, inference: dict, **storage_extra):
    doc = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())
    doc["config"]["aidc:inference"] = inference
    doc["config"]["aidc:storage"].update(storage_extra)
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return plan_stack(str(path), ROOT).plan


def of_kind(plan, kind):
    return [r for r in plan.resources if r.type.startswith("kubernetes:") and r.type.rsplit(":", 1)[-1] == kind
            and "aidc:inference" in r.urn]


@pytest.fixture(scope="module")
def kserve_plan(tmp_path_factory):
    return plan_with(tmp_path_factory.mktemp("kserve"), "kserve", {"kserve": True, "services": [
        {"name": "llama-8b", "model": {"bucket": "llama", "paramsB": 8}, "pool": "infer-l40s",
         "minReplicas": 2, "maxReplicas": 4, "expose": {"type": "loadBalancer", "certificateArn": CERT}},
        {"name": "tr", "engine": "triton", "model": {"lustre": "/models/repo", "paramsB": 8}, "pool": "infer-l40s",
         "minReplicas": 2, "maxReplicas": 2}]}, namespaces=["training", "inference"])


def test_kserve_installs_its_charts_in_order(kserve_plan):
    rel = {r.inputs["chart"].rsplit("/", 1)[-1]: r for r in of_kind(kserve_plan, "Release")}
    assert {"cert-manager", "kserve-crd", "kserve-resources", "keda"} <= set(rel)
    assert rel["kserve-resources"].inputs["version"] == catalog().chart("kserve").version
    assert rel["kserve-crd"].urn in rel["kserve-resources"].dependencies
    assert rel["cert-manager"].urn in rel["kserve-crd"].dependencies
    assert rel["cert-manager"].inputs["values"] == {"crds": {"enabled": True}}
    assert rel["kserve-resources"].inputs["values"] == {"kserve": {"controller": {"deploymentMode": "Standard"}}}
    for isvc in of_kind(kserve_plan, "InferenceService"):
        assert rel["kserve-resources"].urn in isvc.dependencies
    assert of_kind(kserve_plan, "Deployment") == []  # KServe creates the Deployments


def test_kserve_load_balancer_is_internal_tls(kserve_plan):
    (lb,) = [r for r in of_kind(kserve_plan, "Service") if r.inputs["spec"]["type"] == "LoadBalancer"]
    ann = lb.inputs["metadata"]["annotations"]
    assert ann["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internal"
    assert ann["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"] == CERT
    assert lb.inputs["spec"]["selector"] == {"serving.kserve.io/inferenceservice": "llama-8b"}


def test_triton_with_fixed_replicas_has_no_autoscaler(kserve_plan):
    lines = {line.split()[0]: line for line in server_lines(kserve_plan)}
    assert "fixed 2 replicas" in lines["tr"] and "KEDA 2..4" in lines["llama-8b"]


def test_multi_node_leader_worker_set_behind_a_gateway(tmp_path):
    plan = plan_with(tmp_path, "lws", {"services": [{
        "name": "llama-405b", "pool": "infer-l40s", "tensorParallel": 4, "precision": "int4",
        "multiNode": {"nodes": 2}, "minReplicas": 1, "maxReplicas": 2,
        "model": {"hub": {"id": "meta-llama/Llama-3.1-405B-Instruct", "tokenSecret": "aidc/prod/hf-token"},
                  "paramsB": 405},
        "expose": {"type": "gateway", "gatewayClassName": "eg", "host": "llm.example.com",
                   "tlsSecretName": "llm-tls"}}]})
    (lws,) = of_kind(plan, "LeaderWorkerSet")
    rel = {r.inputs["chart"].rsplit("/", 1)[-1]: r for r in of_kind(plan, "Release")}
    assert rel["lws"].urn in lws.dependencies
    # LWS 0.10.0 sets no seccomp profile: without this `restricted` rejects the controller.
    assert rel["lws"].inputs["values"]["podSecurityContext"] == {"runAsNonRoot": True,
                                                                 "seccompProfile": {"type": "RuntimeDefault"}}
    assert lws.inputs["spec"]["leaderWorkerTemplate"]["size"] == 2
    (so,) = of_kind(plan, "ScaledObject")
    assert so.inputs["spec"]["scaleTargetRef"]["kind"] == "LeaderWorkerSet"
    assert {r.type.rsplit(":", 1)[-1] for r in plan.resources if "gateway.networking" in r.type} == \
        {"Gateway", "HTTPRoute"}
    (line,) = server_lines(plan)
    assert "8 (2 nodes) GPU/replica" in line
