"""Model-server manifests: schema-valid core objects, GPUs = tensor parallel with requests ==
limits, probes for slow loads, disruption budgets, autoscaler bounds, a restricted security
context; and the same in the planned shipped stacks."""

import copy

import kubernetes_validate
import pytest

from components.catalog import catalog
from components.inference.objects import service_objects
from components.inference.pods import POOL_LABEL, NodeShare, startup_seconds
from components.secrets import secret_arn_patterns
from components.spec import ServiceSpec
from tests.test_inference_spec import svc

K8S = f"{catalog().recipe.default_kubernetes_version}.0"
PROM = "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
VLLM = catalog().image("vllm")


def objects_of(env="prod", kserve=False, **over):
    """The manifests of one service on a g6e.12xlarge pool (the spec is validated on its own
    here; cross-section checks are in test_inference_spec.py)."""
    s = ServiceSpec.model_validate(svc(**over))
    inst = catalog().instance("g6e.12xlarge")
    share = NodeShare(inst.vcpu / inst.gpu_count, inst.memory_gib / inst.gpu_count)
    return s, service_objects(s, "inference", image=catalog().image(s.engine), share=share, prometheus_url=PROM,
                              kserve=kserve)


def kind(objs, k):
    found = [o for o in objs if o["kind"] == k]
    assert len(found) == 1, [o["kind"] for o in objs]
    return found[0]


def validate(obj):
    kubernetes_validate.validate(copy.deepcopy(obj), K8S, strict=True)


CASES = {
    "vllm-tp1": {},
    "vllm-tp4-fp8": {"tensorParallel": 4, "precision": "fp8",
                     "model": {"bucket": "llama-3.1-70b", "paramsB": 70}},
    "triton": {"engine": "triton", "model": {"lustre": "/models/repo", "paramsB": 8}},
    "lb": {"expose": {"type": "loadBalancer",
                      "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"}},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_core_objects_validate_strictly(case):
    _, objs = objects_of(**CASES[case])
    assert objs.core
    for obj in objs.core:
        validate(obj)


@pytest.mark.parametrize("tp", [1, 2, 4])
def test_gpus_per_replica_are_the_tensor_parallel_degree(tp):
    _, objs = objects_of(tensorParallel=tp)
    res = kind(objs.core, "Deployment")["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert res["requests"]["nvidia.com/gpu"] == res["limits"]["nvidia.com/gpu"] == str(tp)
    # g6e.12xlarge: 48 vCPU, 384 GiB for 4 GPUs -> three quarters of a GPU's share per GPU.
    assert res["requests"]["cpu"] == str(int(12 * tp * 0.75))
    assert res["requests"]["memory"] == res["limits"]["memory"] == f"{int(96 * tp * 0.75)}Gi"


def test_pod_lands_on_its_pool_and_tolerates_the_gpu_taint():
    _, objs = objects_of()
    pod = kind(objs.core, "Deployment")["spec"]["template"]["spec"]
    term = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
    assert term["matchExpressions"] == [{"key": POOL_LABEL, "operator": "In", "values": ["infer-l40s"]}]
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]


def test_probes_wait_for_a_slow_model_load():
    s, objs = objects_of(tensorParallel=4, precision="fp8", model={"hub": {"id": "a/b"}, "paramsB": 70})
    c = kind(objs.core, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    start = c["startupProbe"]
    # fp8 is quantized on load from the 16-bit checkpoint: 300 s + 130 GiB x 20 s/GiB from a
    # hub, rounded up to the minute.
    assert startup_seconds(s) == 2940
    assert start["failureThreshold"] * start["periodSeconds"] == 2940
    cache = [v for v in kind(objs.core, "Deployment")["spec"]["template"]["spec"]["volumes"] if v["name"] == "cache"]
    assert cache[0]["emptyDir"]["sizeLimit"] == f"{int(70e9 * 2 / 2**30 * 1.1) + 20}Gi"  # the download fits
    assert start["httpGet"] == {"path": "/health", "port": "http"}
    assert c["readinessProbe"]["failureThreshold"] == 3
    assert c["livenessProbe"]["failureThreshold"] * c["livenessProbe"]["periodSeconds"] >= 60


def test_termination_drains_after_the_endpoint_is_gone():
    _, objs = objects_of()
    pod = kind(objs.core, "Deployment")["spec"]["template"]["spec"]
    pre = pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pre == 20 and pod["terminationGracePeriodSeconds"] == 200


def test_rollout_never_takes_capacity_away():
    _, objs = objects_of()
    strategy = kind(objs.core, "Deployment")["spec"]["strategy"]
    assert strategy == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}


@pytest.mark.parametrize("mn,budget", [(1, {"maxUnavailable": 1}), (2, {"minAvailable": 1}),
                                       (4, {"minAvailable": 3})])
def test_disruption_budget_keeps_all_but_one(mn, budget):
    _, objs = objects_of(minReplicas=mn, maxReplicas=6)
    pdb = kind(objs.core, "PodDisruptionBudget")["spec"]
    assert {k: v for k, v in pdb.items() if k in ("minAvailable", "maxUnavailable")} == budget
    assert pdb["selector"]["matchLabels"]["app.kubernetes.io/name"] == "llama"


def test_security_context_is_restricted():
    _, objs = objects_of()
    pod = kind(objs.core, "Deployment")["spec"]["template"]["spec"]
    sc = pod["containers"][0]["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True
    assert sc["runAsNonRoot"] is True and sc["capabilities"] == {"drop": ["ALL"]}
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    mounts = {m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert {"/cache", "/tmp", "/dev/shm"} <= mounts  # the engine's writable places


def test_image_is_the_catalog_pin():
    _, objs = objects_of()
    assert kind(objs.core, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"] == VLLM
    assert VLLM.rsplit(":", 1)[1] not in ("", "latest")


def test_autoscaler_follows_the_queue_between_min_and_max():
    _, objs = objects_of(minReplicas=2, maxReplicas=6, scaling={"target": 3})
    so = kind(objs.keda, "ScaledObject")["spec"]
    assert (so["minReplicaCount"], so["maxReplicaCount"]) == (2, 6)
    assert so["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "llama"}
    trig = so["triggers"][0]
    assert trig["type"] == "prometheus" and trig["metadata"]["threshold"] == "3"
    assert trig["metadata"]["query"] == 'sum(vllm:num_requests_waiting{namespace="inference",service="llama"})'


def test_fixed_replicas_have_no_autoscaler():
    _, objs = objects_of(minReplicas=2, maxReplicas=2)
    assert objs.keda == []


def test_dev_scale_to_zero_wakes_on_a_schedule():
    _, objs = objects_of("dev", minReplicas=0, maxReplicas=1)
    triggers = kind(objs.keda, "ScaledObject")["spec"]["triggers"]
    assert [t["type"] for t in triggers] == ["prometheus", "cron"]
    assert triggers[1]["metadata"]["desiredReplicas"] == "1"


def test_vllm_arguments_from_parallelism_and_precision():
    _, objs = objects_of(tensorParallel=4, precision="fp8", model={"bucket": "llama-3.1-70b/", "paramsB": 70})
    c = kind(objs.core, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert c["command"] == ["vllm", "serve"]
    args = c["args"]
    assert args[0] == "/models/llama-3.1-70b"
    assert args[args.index("--tensor-parallel-size") + 1] == "4"
    assert args[args.index("--quantization") + 1] == "fp8"
    assert {"name": "HF_HUB_OFFLINE", "value": "1"} in c["env"]
    claim = [v for v in kind(objs.core, "Deployment")["spec"]["template"]["spec"]["volumes"] if v["name"] == "models"]
    assert claim == [{"name": "models", "persistentVolumeClaim": {"claimName": "models", "readOnly": True}}]


def test_hub_token_comes_from_secrets_manager_through_external_secrets():
    _, objs = objects_of(model={"hub": {"id": "meta-llama/Llama-3.1-8B-Instruct", "tokenSecret": "aidc/prod/hf"},
                                "paramsB": 8})
    es = kind(objs.secrets, "ExternalSecret")["spec"]
    assert es["data"] == [{"secretKey": "token", "remoteRef": {"key": "aidc/prod/hf"}}]
    pod = kind(objs.core, "Deployment")["spec"]["template"]["spec"]
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    # A file, never an environment variable: no env entry reads a Secret.
    assert not [e for e in env.values() if "secretKeyRef" in e.get("valueFrom", {})]
    assert "HF_TOKEN" not in env
    assert env["HF_TOKEN_PATH"]["value"] == "/var/run/secrets/huggingface/token"
    vol = [v for v in pod["volumes"] if v["name"] == "hub-token"][0]
    assert vol["secret"] == {"secretName": "llama-hub-token", "defaultMode": 0o440,
                             "items": [{"key": "token", "path": "token"}]}
    mount = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "hub-token"][0]
    assert mount == {"name": "hub-token", "mountPath": "/var/run/secrets/huggingface", "readOnly": True}
    validate(kind(objs.core, "Deployment"))


def test_pods_run_as_a_uid_above_the_host_range():
    _, objs = objects_of()
    pod = kind(objs.core, "Deployment")["spec"]["template"]["spec"]
    ctx = pod["containers"][0]["securityContext"]
    # login.defs UID_MAX 60000 on AL2023: no host account can share the UID.
    assert pod["securityContext"]["runAsUser"] == ctx["runAsUser"] == 65532
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"] == 65532


def test_multi_replica_servers_spread_over_nodes_as_their_budget_assumes():
    _, objs = objects_of(minReplicas=3, maxReplicas=5)
    dep = kind(objs.core, "Deployment")
    pdb = kind(objs.core, "PodDisruptionBudget")["spec"]
    (host,) = dep["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert host == {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
                    "labelSelector": {"matchLabels": pdb["selector"]["matchLabels"]}, "minDomains": 3}
    # One node lost = one replica lost = what the budget lets go.
    assert pdb["minAvailable"] == 3 - 1
    validate(dep)


def test_spread_over_zones_only_where_the_pool_spans_them():
    s = ServiceSpec.model_validate(svc(minReplicas=2, maxReplicas=4))
    inst = catalog().instance("g6e.12xlarge")
    share = NodeShare(inst.vcpu / inst.gpu_count, inst.memory_gib / inst.gpu_count)
    objs = service_objects(s, "inference", image=VLLM, share=share, prometheus_url=PROM, zones=True)
    keys = [(c["topologyKey"], c["whenUnsatisfiable"])
            for c in kind(objs.core, "Deployment")["spec"]["template"]["spec"]["topologySpreadConstraints"]]
    assert keys == [("kubernetes.io/hostname", "DoNotSchedule"), ("topology.kubernetes.io/zone", "ScheduleAnyway")]


def test_a_single_replica_server_has_no_spread():
    _, objs = objects_of(minReplicas=1, maxReplicas=1)
    assert "topologySpreadConstraints" not in kind(objs.core, "Deployment")["spec"]["template"]["spec"]


def test_secret_policy_names_only_the_listed_secrets():
    arns = secret_arn_patterns(["aidc/hf", "arn:aws:secretsmanager:us-east-1:1:secret:x-AbCdEf"], "aws",
                               "us-east-1", "123456789012")
    assert set(arns) == {"arn:aws:secretsmanager:us-east-1:1:secret:x-AbCdEf",
                         "arn:aws:secretsmanager:us-east-1:123456789012:secret:aidc/hf-??????"}


def test_triton_probes_and_metrics_port():
    _, objs = objects_of(engine="triton", model={"lustre": "/models/repo", "paramsB": 8})
    c = kind(objs.core, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == catalog().image("triton")
    assert c["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert "--model-repository=/fsx/models/repo" in c["args"]
    assert kind(objs.monitoring, "ServiceMonitor")["spec"]["endpoints"][0]["port"] == "metrics"


def test_kserve_mode_wraps_the_same_pod():
    _, objs = objects_of(kserve=True)
    isvc = kind(objs.kserve, "InferenceService")
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"
    pred = isvc["spec"]["predictor"]
    assert (pred["minReplicas"], pred["maxReplicas"]) == (2, 4)
    assert pred["containers"][0]["name"] == "kserve-container"
    assert pred["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert [o["kind"] for o in objs.core] == ["PodDisruptionBudget"]  # KServe makes the Deployment and Service
    assert kind(objs.keda, "ScaledObject")["spec"]["scaleTargetRef"]["name"] == "llama-predictor"


def test_multi_node_runs_as_a_leader_worker_set():
    _, objs = objects_of(tensorParallel=4, multiNode={"nodes": 2},
                         model={"hub": {"id": "meta-llama/Llama-3.1-405B-Instruct"}, "paramsB": 405},
                         precision="int4", minReplicas=1, maxReplicas=2)
    lws = kind(objs.lws, "LeaderWorkerSet")["spec"]
    tmpl = lws["leaderWorkerTemplate"]
    assert tmpl["size"] == 2
    leader = tmpl["leaderTemplate"]["spec"]["containers"][0]
    assert "--pipeline-parallel-size 2" in leader["args"][0] and "ray start --head" in leader["args"][0]
    assert "startupProbe" in leader
    assert tmpl["workerTemplate"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "4"
    assert kind(objs.keda, "ScaledObject")["spec"]["scaleTargetRef"]["kind"] == "LeaderWorkerSet"
    for obj in objs.core:
        validate(obj)


def test_gateway_exposure_terminates_tls():
    _, objs = objects_of(expose={"type": "gateway", "gatewayClassName": "aws-alb", "host": "llm.example.com",
                                 "tlsSecretName": "llm-tls"})
    gw = kind(objs.gateway, "Gateway")["spec"]["listeners"][0]
    assert gw["protocol"] == "HTTPS" and gw["tls"]["certificateRefs"] == [{"kind": "Secret", "name": "llm-tls"}]
    assert kind(objs.gateway, "HTTPRoute")["spec"]["hostnames"] == ["llm.example.com"]


@pytest.mark.parametrize("public,scheme", [(False, "internal"), (True, "internet-facing")])
def test_load_balancer_is_internal_unless_public(public, scheme):
    _, objs = objects_of(expose={"type": "loadBalancer", "public": public,
                                 "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"})
    lb = [o for o in objs.core if o["kind"] == "Service" and o["spec"]["type"] == "LoadBalancer"][0]
    assert lb["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-scheme"] == scheme
    assert lb["spec"]["ports"][0]["port"] == 443


# --- the shipped stacks -----------------------------------------------------------------

@pytest.mark.parametrize("stack,services", [("prod", {"llama-8b", "llama-70b"}), ("staging", {"llama-8b"}),
                                            ("dev", {"qwen-1-5b"})])
def test_shipped_stacks_serve_models_with_autoscaler_and_budget(plan_of, stack, services):
    plan = plan_of(stack)
    by_kind: dict[str, dict[str, dict]] = {}
    for r in plan.resources:
        if "aidc:inference:InferenceService" in r.urn:
            kind_ = r.type.rsplit(":", 1)[-1]
            if r.inputs.get("metadata"):
                by_kind.setdefault(kind_, {})[r.inputs["metadata"]["name"]] = r.inputs
    assert set(by_kind["Deployment"]) == services
    assert set(by_kind["ScaledObject"]) == services
    assert set(by_kind["PodDisruptionBudget"]) == services
    for name, dep in by_kind["Deployment"].items():
        for c in dep["spec"]["template"]["spec"]["containers"]:
            assert c["image"] == VLLM
            assert c["resources"]["requests"]["nvidia.com/gpu"] == c["resources"]["limits"]["nvidia.com/gpu"]
        so = by_kind["ScaledObject"][name]["spec"]
        assert so["minReplicaCount"] < so["maxReplicaCount"]


def test_prod_70b_uses_all_four_gpus_of_a_node(plan_of):
    deps = [r for r in plan_of("prod").resources if r.type == "kubernetes:apps/v1:Deployment"
            and r.inputs["metadata"]["name"] == "llama-70b"]
    c = deps[0].inputs["spec"]["template"]["spec"]["containers"][0]
    assert c["resources"]["limits"]["nvidia.com/gpu"] == "4"
    assert c["args"][c["args"].index("--tensor-parallel-size") + 1] == "4"


def test_prod_installs_only_the_operators_its_services_use(plan_of):
    plan = plan_of("prod")
    releases = {r.inputs["chart"]: r for r in plan.resources if r.type == "kubernetes:helm.sh/v3:Release"
                and "aidc:inference:Inference" in r.urn}
    assert set(releases) == {"keda", "external-secrets"}  # no KServe, no LeaderWorkerSet in prod
    for chart, rel in releases.items():
        assert rel.inputs["version"] == catalog().chart(chart).version
    by_kind = {}
    for r in plan.resources:
        if "aidc:inference:InferenceService" in r.urn:
            by_kind.setdefault(r.type.rsplit(":", 1)[-1], []).append(r)
    for so in by_kind["ScaledObject"]:
        assert releases["keda"].urn in so.dependencies
    for es in by_kind["ExternalSecret"]:
        store = [r for r in plan.resources if r.type.endswith("SecretStore")
                 and r.inputs["metadata"]["namespace"] == es.inputs["metadata"]["namespace"]][0]
        assert store.urn in es.dependencies
        assert releases["external-secrets"].urn in store.dependencies
    # The pods that read a hub token wait for its ExternalSecret.
    for dep in by_kind["Deployment"]:
        if not any(v["name"] == "hub-token" for v in dep.inputs["spec"]["template"]["spec"]["volumes"]):
            continue
        assert any(d.endswith("externalsecret-inference-" + dep.inputs["metadata"]["name"] + "-hub-token")
                   for d in dep.dependencies)


def test_prod_secret_reader_role_is_scoped_to_the_named_secret(plan_of):
    import json

    plan = plan_of("prod")
    (policy,) = [r for r in plan.resources if r.type == "aws:iam/rolePolicy:RolePolicy"
                 and "aidc:inference:Inference" in r.urn]
    doc = json.loads(policy.inputs["policy"])
    (stmt,) = doc["Statement"]
    assert stmt["Action"] == ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    # The hub token and, through the same operator, Alertmanager's receiver keys; nothing else.
    assert stmt["Resource"] == [f"arn:aws:secretsmanager:us-east-1:123456789012:secret:aidc/prod/{n}-??????"
                                for n in ("hf-token", "pagerduty-routing-key", "slack-gpu-ops-webhook")]
    (assoc,) = [r for r in plan.resources if r.type == "aws:eks/podIdentityAssociation:PodIdentityAssociation"
                and "aidc:inference:Inference" in r.urn]
    assert (assoc.inputs["namespace"], assoc.inputs["serviceAccount"]) == ("external-secrets", "external-secrets")


def test_prod_bucket_model_uses_the_storage_namespace_and_claim(plan_of):
    plan = plan_of("prod")
    namespaces = [r for r in plan.resources if r.type == "kubernetes:core/v1:Namespace"
                  and r.inputs["metadata"]["name"] == "inference"]
    assert len(namespaces) == 1 and "aidc:storage:SharedStorage" in namespaces[0].urn
    (dep,) = [r for r in plan.resources if r.type == "kubernetes:apps/v1:Deployment"
              and r.inputs["metadata"]["name"] == "llama-8b"]
    pod = dep.inputs["spec"]["template"]["spec"]
    assert {"name": "models", "persistentVolumeClaim": {"claimName": "models", "readOnly": True}} in pod["volumes"]
    assert pod["containers"][0]["args"][0] == "/models/meta-llama/Llama-3.1-8B-Instruct"
    assert namespaces[0].urn in dep.dependencies
    assert any(d.endswith("persistentvolumeclaim-inference-models") for d in dep.dependencies)
