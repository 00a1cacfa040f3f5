"""Rendered job templates: they parse, their core objects (and the pod templates inside the
custom ones) validate against the Kubernetes schema (strict), custom resources carry their
required fields, and the EFA devices and NCCL environment appear exactly when the pool has EFA."""

import json

import kubernetes_validate
import pytest
import yaml

from aidc.cli import main
from components.catalog import catalog
from components.spec import load_spec
from components.training.jobs import JobError, JobRequest, check, fabric_env, render_job
from tests.conftest import SHIPPED

CAT = catalog()
K8S = f"{CAT.recipe.default_kubernetes_version}.0"
CORE_KINDS = {"ConfigMap", "Job", "Pod", "PodTemplate"}


def docs(text):
    return [d for d in yaml.safe_load_all(text) if d]


def pod_templates(obj):
    """The pod templates inside a JobSet or MPIJob, each wrapped as a core PodTemplate."""
    if obj["kind"] == "JobSet":
        tmpls = [rj["template"]["spec"]["template"] for rj in obj["spec"]["replicatedJobs"]]
    else:
        tmpls = [r["template"] for r in obj["spec"]["mpiReplicaSpecs"].values()]
    return [{"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": obj["metadata"]["name"]}, "template": t}
            for t in tmpls]


def validate_all(objs):
    for obj in objs:
        if obj["kind"] in CORE_KINDS:
            kubernetes_validate.validate(obj, K8S, strict=True)
        elif obj["kind"] == "JobSet":
            # JobSet v1alpha2 requires replicatedJobs[].name and .template (a batch/v1 JobTemplateSpec).
            for rj in obj["spec"]["replicatedJobs"]:
                assert rj["name"] and "template" in rj
                job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": rj["name"]}, **rj["template"]}
                kubernetes_validate.validate(job, K8S, strict=True)
        elif obj["kind"] == "MPIJob":
            # MPIJob v2beta1 requires mpiReplicaSpecs; each replica spec carries a pod template.
            assert set(obj["spec"]["mpiReplicaSpecs"]) == {"Launcher", "Worker"}
            for t in pod_templates(obj):
                kubernetes_validate.validate(t, K8S, strict=True)
        else:
            raise AssertionError(f"unexpected kind {obj['kind']}")


def jobs_of(stack, planned):
    """Every (template, pool, team) a shipped stack can run, at 2 nodes (or the pool's max)."""
    spec = planned(stack).spec
    for team in spec.training.teams:
        for q in team.quotas:
            for template in ("pytorch", "nccl-tests"):
                req = JobRequest(stack, q.pool, team.name, min(2, spec.pool(q.pool).size.max), template)
                try:
                    check(spec, req)
                except JobError:
                    continue
                yield spec, req


@pytest.mark.parametrize("stack", SHIPPED)
def test_rendered_jobs_parse_and_validate(stack, planned):
    rendered = 0
    for spec, req in jobs_of(stack, planned):
        objs = docs(render_job(spec, req))
        validate_all(objs)
        main_obj = objs[-1]
        assert main_obj["metadata"]["namespace"] == req.team
        assert main_obj["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == req.team
        rendered += 1
    if planned(stack).spec.gpu_pools:
        assert rendered, f"no job rendered for {stack}"


@pytest.mark.parametrize("stack", SHIPPED)
def test_efa_and_nccl_env_present_exactly_when_the_pool_has_efa(stack, planned):
    for spec, req in jobs_of(stack, planned):
        pool = spec.pool(req.pool)
        inst = CAT.instances[pool.instance_type]
        obj = docs(render_job(spec, req))[-1]
        for t in pod_templates(obj):
            for c in t["template"]["spec"]["containers"]:
                names = {e["name"] for e in c.get("env", [])}
                has_fabric_env = any(n.startswith(("FI_", "NCCL_")) for n in names)
                res = c.get("resources", {})
                gpu = res.get("limits", {}).get("nvidia.com/gpu")
                if gpu is None:
                    # The MPI launcher: no GPUs, but it exports the fabric env to every rank.
                    assert has_fabric_env is pool.efa
                    continue
                assert gpu == str(inst.gpu_count)
                efa = res["limits"].get("vpc.amazonaws.com/efa")
                if req.template == "pytorch":
                    assert has_fabric_env is pool.efa
                if pool.efa:
                    assert efa == str(inst.efa_interfaces) == res["requests"]["vpc.amazonaws.com/efa"]
                else:
                    assert efa is None and "vpc.amazonaws.com/efa" not in res.get("requests", {})


def test_prod_research_job_runs_on_the_fabric_as_configured(planned):
    spec = planned("prod").spec
    objs = docs(render_job(spec, JobRequest("prod", "train-h100", "research", 4)))
    js = objs[-1]
    assert js["kind"] == "JobSet" and js["apiVersion"] == "jobset.x-k8s.io/v1alpha2"
    job = js["spec"]["replicatedJobs"][0]["template"]["spec"]
    assert job["parallelism"] == job["completions"] == 4 and job["completionMode"] == "Indexed"
    pod = job["template"]
    assert pod["metadata"]["annotations"]["kueue.x-k8s.io/podset-preferred-topology"] == \
        "topology.k8s.aws/network-node-layer-3"
    ps = pod["spec"]
    assert ps["nodeSelector"] == {"aidc.io/pool": "train-h100"}
    assert ps["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    c = ps["containers"][0]
    assert c["image"] == CAT.image("pytorch")
    assert "--nproc-per-node=8" in c["args"] and "--nnodes=4" in c["args"]
    assert c["resources"]["limits"]["vpc.amazonaws.com/efa"] == "32"  # every EFA interface of a p5.48xlarge
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env["FI_PROVIDER"] == "efa" and env["FI_EFA_USE_DEVICE_RDMA"] == "1" and env["FI_EFA_FORK_SAFE"] == "1"
    assert env["NCCL_SOCKET_IFNAME"] == "^lo,docker,veth"
    shm = next(v for v in ps["volumes"] if v["name"] == "dshm")
    assert shm["emptyDir"]["medium"] == "Memory"
    # Restricted Pod Security: non-root, no privilege escalation, all capabilities dropped.
    assert ps["securityContext"]["runAsNonRoot"] is True
    # Above the host's login range (UID_MAX 60000): no host account shares the UID.
    assert ps["securityContext"]["runAsUser"] == ps["securityContext"]["fsGroup"] == 65532
    assert ps["automountServiceAccountToken"] is False
    assert c["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]}}


def test_rdma_env_only_where_the_catalog_says_gpudirect_rdma():
    assert {e["name"] for e in fabric_env(CAT.instances["p5.48xlarge"], True)} >= {"FI_EFA_USE_DEVICE_RDMA"}
    g6e = {e["name"] for e in fabric_env(CAT.instances["g6e.12xlarge"], True)}
    assert "FI_PROVIDER" in g6e and "FI_EFA_USE_DEVICE_RDMA" not in g6e
    assert fabric_env(CAT.instances["p5.48xlarge"], False) == []


def test_storage_mounts_follow_the_storage_namespaces():
    spec = load_spec({"aws:region": "us-east-1", "aidc:environment": "dev",
                      "aidc:gpuPools": [{"name": "l4", "instanceType": "g6.xlarge", "size": {"max": 2}}],
                      "aidc:training": {"teams": [{"name": "research", "quotas": [
                          {"pool": "l4", "gpus": 2, "cpu": 8, "memoryGiB": 32}]}]}})
    pod = docs(render_job(spec, JobRequest("dev", "l4", "research", 1)))[-1]
    vols = {v["name"] for v in pod["spec"]["replicatedJobs"][0]["template"]["spec"]["template"]["spec"]["volumes"]}
    assert vols == {"dshm", "tmp", "entrypoint"}  # no aidc:storage here: nothing to mount


def test_nccl_acceptance_job_carries_the_catalog_threshold(planned):
    spec = planned("prod").spec
    text = render_job(spec, JobRequest("prod", "train-h100", "platform", 2, "nccl-tests"))
    mpi = docs(text)[-1]
    floor = CAT.instances["p5.48xlarge"].nccl_min_busbw_gbps
    assert mpi["metadata"]["annotations"]["aidc.io/nccl-min-busbw-gbps"] == str(floor)
    assert f"bus bandwidth >= {floor} GB/s" in text
    launcher = mpi["spec"]["mpiReplicaSpecs"]["Launcher"]["template"]["spec"]["containers"][0]
    assert launcher["image"] == CAT.image("nccl-tests")
    assert "-np 16 -N 8" in launcher["args"][0] and "all_reduce_perf" in launcher["args"][0]
    assert {"name": "MIN_BUSBW", "value": str(floor)} in launcher["env"]
    assert mpi["spec"]["mpiReplicaSpecs"]["Worker"]["replicas"] == 2
    assert mpi["spec"]["slotsPerWorker"] == 8


def effective_restart_policy(replica: dict) -> str:
    """The restart policy mpi-operator v0.8.0 gives a replica's pods: the replica-level field,
    defaulted (pkg/apis/kubeflow/v2beta1/default.go: OnFailure for the launcher, Never for
    workers), copied over the pod template's (pkg/controller/mpi_job_controller.go
    setRestartPolicy; ExitCode becomes Never on the pod)."""
    policy = replica.get("restartPolicy", "")
    return "Never" if policy in ("Never", "ExitCode") else policy or "OnFailure"


def test_nccl_launcher_never_restarts_in_place(planned):
    spec = planned("prod").spec
    mpi = docs(render_job(spec, JobRequest("prod", "train-h100", "platform", 2, "nccl-tests")))[-1]
    launcher = mpi["spec"]["mpiReplicaSpecs"]["Launcher"]
    assert launcher["restartPolicy"] == "Never"
    assert effective_restart_policy(launcher) == "Never"
    # A pod-template policy is overwritten (and draws a warning event): keep it off the template.
    assert "restartPolicy" not in launcher["template"]["spec"]
    assert mpi["spec"]["runPolicy"]["backoffLimit"] == 0


@pytest.mark.parametrize("args,field", [
    (["--pool", "nope", "--team", "research", "--nodes", "4"], "--pool"),
    (["--pool", "train-h100", "--team", "nobody", "--nodes", "4"], "--team"),
    (["--pool", "train-h100", "--team", "research", "--nodes", "17"], "--nodes"),
    (["--pool", "train-h100", "--team", "research", "--nodes", "16"], "--nodes"),  # 128 GPUs > 120 admissible
    (["--pool", "infer-l40s", "--team", "research", "--nodes", "1"], "--pool"),  # no quota there
    (["--pool", "train-h100", "--team", "research", "--nodes", "2", "--template", "nccl-tests"], "--team"),
    (["--pool", "train-h100", "--team", "platform", "--nodes", "1", "--template", "nccl-tests"], "--nodes"),
])
def test_bad_requests_exit_2_naming_the_option(args, field, capsys):
    assert main(["job", "render", "prod", *args, "--json"]) == 2
    err = json.loads(capsys.readouterr().err)
    assert [p["path"] for p in err["problems"]] == [field]


def test_unknown_template_exits_2(capsys):
    assert main(["job", "render", "prod", "--pool", "train-h100", "--team", "research", "--nodes", "4",
                 "--template", "tensorflow"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_cli_prints_applyable_yaml(capsys):
    assert main(["job", "render", "prod", "--pool", "train-h100", "--team", "research", "--nodes", "4"]) == 0
    objs = docs(capsys.readouterr().out)
    assert [o["kind"] for o in objs] == ["ConfigMap", "JobSet"]
    assert main(["job", "render", "dev", "--pool", "dev-l4", "--team", "research", "--nodes", "2", "--json"]) == 0
    objs = json.loads(capsys.readouterr().out)
    env = objs[1]["spec"]["replicatedJobs"][0]["template"]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert not any(e["name"].startswith(("FI_", "NCCL_")) for e in env)  # g6.xlarge: no EFA


def test_prod_jobs_mount_lustre_and_models_where_storage_serves_the_team(planned):
    spec = planned("prod").spec

    def mounts(team, template="pytorch", nodes=2):
        obj = docs(render_job(spec, JobRequest("prod", "train-h100", team, nodes, template)))[-1]
        pod = pod_templates(obj)[-1]["template"]["spec"]
        return {m["mountPath"]: m.get("readOnly", False) for m in pod["containers"][0]["volumeMounts"]}

    assert mounts("research") == {"/dev/shm": False, "/tmp": False, "/opt/aidc": True, "/lustre": False,
                                  "/models": True}
    assert mounts("platform") == {"/dev/shm": False, "/tmp": False, "/opt/aidc": True, "/lustre": False}
