"""Team namespaces: Pod Security, ResourceQuota arithmetic, default-deny networking with only
the allowances jobs need, and every core object valid against the Kubernetes schema (strict)."""


import kubernetes_validate
import pytest

from components.catalog import catalog
from components.spec import load_spec
from components.training.tenancy import ceilings, resource_quota_hard, tenancy_objects
from tests.conftest import SHIPPED

K8S = f"{catalog().recipe.default_kubernetes_version}.0"


def team_namespaces(plan):
    return {r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"]
            for r in plan.of_type("kubernetes:core/v1:Namespace") if "aidc.io/team" in r.inputs["metadata"]["labels"]}


def test_team_namespaces_are_restricted_unless_declared_baseline(planned):
    ps = planned("prod")
    spaces = team_namespaces(ps.plan)
    assert set(spaces) == {"research", "applied", "platform"}
    for name in ("research", "applied"):
        for mode in ("enforce", "audit", "warn"):
            assert spaces[name][f"pod-security.kubernetes.io/{mode}"] == "restricted"
    # The acceptance team runs the MPI launcher's sshd as root: baseline, still warned at restricted.
    assert spaces["platform"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert spaces["platform"]["pod-security.kubernetes.io/warn"] == "restricted"
    # Operator namespaces of the training platform stay restricted too (no chart of theirs is privileged),
    # except Kubeflow Trainer's: its runtime installer Job runs as root (chart 2.3.0), so baseline.
    ops = {r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"]
           for r in ps.plan.of_type("kubernetes:core/v1:Namespace")}
    for ns in ("kueue-system", "jobset-system", "kuberay-system"):
        assert ops[ns]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert ops["kubeflow-system"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert ops["kubeflow-system"]["pod-security.kubernetes.io/warn"] == "restricted"


def test_quota_ceilings_are_nominal_plus_borrowing_capped_at_the_pool(planned):
    spec = planned("prod").spec
    tr, pools = spec.training, spec.pools
    # research: 80 + 40 borrowable GPUs; 1728 + 864 vCPUs; 18000 + 9000 GiB.
    assert ceilings(tr.team("research"), pools) == {"gpus": 120, "cpu": 2592, "memory_gib": 27000}
    # platform borrows without a limit: the whole pool (128 GPUs of 16 p5.48xlarge).
    assert ceilings(tr.team("platform"), pools) == {"gpus": 128, "cpu": 3072, "memory_gib": 32768}
    hard = resource_quota_hard(tr.team("research"), pools)
    assert hard == {"services.loadbalancers": "0", "services.nodeports": "0", "persistentvolumeclaims": "20",
                    "requests.cpu": "2592", "requests.memory": "27000Gi", "requests.nvidia.com/gpu": "120"}
    # Without a cohort nothing is borrowed: the nominal quota is the ceiling.
    dev = planned("dev").spec
    assert ceilings(dev.training.team("research"), dev.pools) == {"gpus": 2, "cpu": 8, "memory_gib": 32}


def test_networking_is_default_deny_plus_namespace_dns_and_pod_identity(planned):
    spec = planned("prod").spec
    objs = {(o["kind"], o["metadata"]["name"]): o for o in tenancy_objects(spec.training.team("research"),
                                                                             spec.pools)}
    deny = objs[("NetworkPolicy", "default-deny")]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    same = objs[("NetworkPolicy", "allow-same-namespace")]["spec"]
    assert same["ingress"] == [{"from": [{"podSelector": {}}]}] and same["egress"] == [{"to": [{"podSelector": {}}]}]
    dns = objs[("NetworkPolicy", "allow-dns")]["spec"]["egress"][0]
    assert dns["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
    assert {(p["protocol"], p["port"]) for p in dns["ports"]} == {("UDP", 53), ("TCP", 53)}
    pia = objs[("NetworkPolicy", "allow-pod-identity")]["spec"]["egress"][0]
    assert pia["to"] == [{"ipBlock": {"cidr": "169.254.170.23/32"}}]
    # research opens HTTPS egress (egressCidrs); applied does not.
    assert objs[("NetworkPolicy", "allow-https-egress")]["spec"]["egress"][0]["ports"] == [{"protocol": "TCP", "port": 443}]
    applied = {(o["kind"], o["metadata"]["name"]) for o in tenancy_objects(spec.training.team("applied"),
                                                                           spec.pools)}
    assert ("NetworkPolicy", "allow-https-egress") not in applied
    sa = objs[("ServiceAccount", "training")]
    assert sa["automountServiceAccountToken"] is False
    assert objs[("LimitRange", "research")]["spec"]["limits"][0]["defaultRequest"] == {"cpu": "500m", "memory": "1Gi"}


@pytest.mark.parametrize("stack", SHIPPED)
def test_tenancy_objects_validate_strictly(stack, planned):
    spec = planned(stack).spec
    for team in spec.training.teams:
        for obj in tenancy_objects(team, spec.pools):
            kubernetes_validate.validate(obj, K8S, strict=True)
            assert obj["metadata"]["namespace"] == team.name


@pytest.mark.parametrize("stack", SHIPPED)
def test_every_team_namespace_has_its_guardrails_in_the_plan(stack, plan_of):
    plan = plan_of(stack)
    spaces = team_namespaces(plan)
    by_kind: dict[str, set] = {}
    for r in plan.resources:
        meta = r.inputs.get("metadata") or {}
        if meta.get("namespace") in spaces:
            by_kind.setdefault(r.type.rsplit(":", 1)[-1], set()).add(meta["namespace"])
    for kind in ("ResourceQuota", "LimitRange", "NetworkPolicy", "ServiceAccount"):
        assert by_kind.get(kind) == set(spaces), kind


def test_egress_cidrs_are_validated():
    from components.spec import SpecError
    with pytest.raises(SpecError) as exc:
        load_spec({"aws:region": "us-east-1", "aidc:environment": "dev",
                   "aidc:training": {"teams": [{"name": "a", "egressCidrs": ["10.0.0.1/8"]}]}})
    assert exc.value.problems[0].path == "aidc:training.teams[0].egressCidrs[0]"
    spec = load_spec({"aws:region": "us-east-1", "aidc:environment": "dev",
                      "aidc:training": {"teams": [{"name": "a", "egressCidrs": ["10.0.0.0/8"]}]}})
    assert spec.training.team("a").egress_cidrs == ("10.0.0.0/8",)


def test_team_service_accounts_are_bound_to_their_storage_role(plan_of):
    plan = plan_of("prod")
    assocs = {r.inputs["namespace"]: r for r in plan.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
              if "TrainingPlatform" in r.urn}
    assert set(assocs) == {"research", "applied", "platform"}
    for team, a in assocs.items():
        assert a.inputs["serviceAccount"] == "training"
        assert a.inputs["roleArn"].endswith(f"aidc-prod-training-{team}-storage")
    # An existing cluster has no IAM: no role, no association.
    assert not plan_of("onprem").of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")


def test_team_storage_policy_reads_shared_data_and_writes_only_its_own_prefix():
    import json

    from components.training.tenancy import team_storage_policy
    doc = json.loads(team_storage_policy("research", "arn:d", "arn:c", "arn:m", "arn:k"))
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert by_sid["WriteOwnCheckpoints"]["Resource"] == ["arn:c/research/*"]
    assert by_sid["ReadObjects"]["Resource"] == ["arn:d/*", "arn:m/*", "arn:c/research/*"]
    assert by_sid["ListOwnCheckpoints"]["Condition"] == {"StringLike": {"s3:prefix": ["research/", "research/*"]}}
    assert by_sid["ListSharedBuckets"]["Resource"] == ["arn:d", "arn:m"]
    # No statement reaches the whole checkpoints bucket's objects.
    assert not [r for s in doc["Statement"] for r in s["Resource"] if r == "arn:c/*"]
    actions = {a for s in doc["Statement"] for a in s["Action"]}
    assert not any(a.startswith("s3:Delete") for a in actions) and "s3:*" not in actions
    assert by_sid["BucketKey"]["Resource"] == ["arn:k"]


def test_prod_each_team_role_writes_only_its_own_checkpoint_prefix(plan_of):
    import json

    plan = plan_of("prod")
    bucket = [r for r in plan.of_type("aws:s3/bucket:Bucket") if r.name.endswith("-checkpoints")][0]
    writes = {}
    for pol in plan.of_type("aws:iam/rolePolicy:RolePolicy"):
        if "-storage" not in pol.name or "training" not in pol.name:
            continue
        doc = json.loads(pol.inputs["policy"])
        writes[pol.name] = [r for s in doc["Statement"] if "s3:PutObject" in s["Action"] for r in s["Resource"]]
    assert len(writes) == 3, sorted(writes)
    for name, resources in writes.items():
        team = next(t for t in ("research", "applied", "platform") if f"-{t}-" in name)
        (only_prefix,) = resources
        assert only_prefix == f"arn:aws:s3:::{bucket.name}/{team}/*", (name, resources)


def test_storage_claims_land_in_the_team_namespaces(plan_of):
    plan = plan_of("prod")
    claims = {(r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"])
              for r in plan.of_type("kubernetes:core/v1:PersistentVolumeClaim")}
    assert {("research", "shared-lustre"), ("research", "models"), ("platform", "shared-lustre")} <= claims
    ns = {r.inputs["metadata"]["name"]: r for r in plan.of_type("kubernetes:core/v1:Namespace")}
    # The team namespace is made once, by the training platform, with its team label.
    assert ns["research"].inputs["metadata"]["labels"]["aidc.io/team"] == "research"
    assert "TrainingPlatform" in ns["research"].urn


def test_volcano_namespace_is_baseline_because_its_containers_add_dac_override(plan_of):
    """Volcano 1.15.1's containers add DAC_OVERRIDE (chart custom.default_csc), which `restricted`
    rejects: its namespace enforces baseline and still warns at restricted."""
    labels = {r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"]
              for r in plan_of("onprem").of_type("kubernetes:core/v1:Namespace")}
    assert labels["volcano-system"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["volcano-system"]["pod-security.kubernetes.io/warn"] == "restricted"
    assert labels["kueue-system"]["pod-security.kubernetes.io/enforce"] == "restricted"
