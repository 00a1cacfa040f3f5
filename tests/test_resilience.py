"""Day-2 resilience: repair configured per pool type in the plans, the node monitoring agent
installed, Karpenter's node repair on, Kueue's requeue bounded, the pytorch job resuming from
the newest complete checkpoint and restarting the gang on node loss, and the failure sizing
checked by hand against the formula."""

import json
import math
import os

import pytest
import yaml

from aidc.cli import main
from aidc.sizing.resilience import daly_interval, goodput, mtbi_hours, plan_resilience, young_interval
from components.catalog import catalog
from components.gpu_pool.repair import MAX_UNHEALTHY_PERCENT, mng_repair_config
from components.training.jobs import JobRequest, render_job
from components.training.queues import REQUEUE_LIMIT, manager_config

CAT = catalog()
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"


def test_the_node_monitoring_agent_is_pinned_for_every_kubernetes_version_with_a_source():
    for minor, kv in CAT.recipe.kubernetes_versions.items():
        addon = kv.addons["eks-node-monitoring-agent"]
        assert addon.version == "v1.7.0-eksbuild.1", minor
        assert addon.source is not None and "eks-node-monitoring-agent/blob/v1.7.0/" in addon.source.url


def test_prod_installs_the_agent_and_repairs_its_managed_gpu_pool(plan_of):
    plan = plan_of("prod")
    agent = [r for r in plan.resources if r.type == "aws:eks/addon:Addon"
             and r.inputs["addonName"] == "eks-node-monitoring-agent"]
    assert [r.inputs["addonVersion"] for r in agent] == ["v1.7.0-eksbuild.1"]
    groups = {r.inputs["nodeGroupName"]: r for r in plan.resources if r.type == NODE_GROUP
              if "nodeGroupName" in r.inputs}
    train = groups["aidc-prod-train-h100"]
    assert train.inputs["capacityType"] == "CAPACITY_BLOCK"
    # A training gang restarts on any lost node: all unhealthy nodes are repaired in one go,
    # and repair stops when more than a fifth of the pool is unhealthy at once.
    assert train.inputs["nodeRepairConfig"] == {"enabled": True, "maxParallelNodesRepairedPercentage": 100,
                                                "maxUnhealthyNodeThresholdPercentage": 20}


def test_prod_karpenter_pools_have_node_repair_on(plan_of):
    plan = plan_of("prod")
    release = next(r for r in plan.resources if r.type == "kubernetes:helm.sh/v3:Release"
                   and r.inputs.get("name") == "karpenter")
    gates = release.inputs["values"]["settings"]["featureGates"]
    assert gates["nodeRepair"] is True
    pools = [r for r in plan.resources if r.inputs.get("kind") == "NodePool"]
    assert [p.inputs["metadata"]["name"] for p in pools] == ["infer-l40s"]


def test_existing_cluster_gets_no_add_on_and_no_node_group(plan_of):
    plan = plan_of("onprem")
    assert not [r for r in plan.resources if r.type in ("aws:eks/addon:Addon", NODE_GROUP)]


def test_inference_pools_are_repaired_one_node_at_a_time(planned):
    spec = planned("staging").spec
    for pool in spec.pools.values():
        cfg = mng_repair_config(pool)
        assert cfg["enabled"] is True and cfg["max_unhealthy_node_threshold_percentage"] == MAX_UNHEALTHY_PERCENT
        if pool.purpose == "training":
            assert cfg["max_parallel_nodes_repaired_percentage"] == 100
            assert "max_parallel_nodes_repaired_count" not in cfg  # the two conflict in the EKS API
        else:
            assert cfg["max_parallel_nodes_repaired_count"] == 1
            assert "max_parallel_nodes_repaired_percentage" not in cfg


def test_kueue_requeues_with_backoff_and_gives_up(planned):
    wfpr = manager_config(planned("prod").spec.training)["waitForPodsReady"]
    assert wfpr["requeuingStrategy"] == {"timestamp": "Eviction", "backoffBaseSeconds": 60,
                                         "backoffMaxSeconds": 3600, "backoffLimitCount": REQUEUE_LIMIT}
    assert REQUEUE_LIMIT == 8


def _job(spec, **kw):
    objs = [d for d in yaml.safe_load_all(render_job(spec, JobRequest("prod", "train-h100", "research", 4, **kw)))
            if d]
    return objs[0], objs[-1]


def test_the_job_restarts_the_whole_gang_on_node_loss_a_bounded_number_of_times(planned):
    _, js = _job(planned("prod").spec, max_restarts=5)
    fp = js["spec"]["failurePolicy"]
    assert fp["maxRestarts"] == 5 and fp["restartStrategy"] == "BlockingRecreate"
    assert fp["rules"] == [
        {"name": "NodeLost", "action": "RestartJobSet", "onJobFailureReasons": ["PodFailurePolicy"]},
        {"name": "RankFailed", "action": "RestartJobSet", "onJobFailureReasons": ["BackoffLimitExceeded"]}]
    job = js["spec"]["replicatedJobs"][0]["template"]["spec"]
    assert job["backoffLimit"] == 0
    assert job["podFailurePolicy"] == {"rules": [{"action": "FailJob", "onPodConditions": [{"type": "DisruptionTarget"}]}]}
    env = {e["name"]: e.get("value") for e in job["template"]["spec"]["containers"][0]["env"]}
    assert env["AIDC_CHECKPOINT_DIR"] == "/lustre/checkpoints/research/pytorch-train-h100"


def test_max_restarts_out_of_range_exits_2(capsys):
    code = main(["job", "render", "prod", "--pool", "train-h100", "--team", "research", "--nodes", "2",
                 "--max-restarts", "-1"])
    assert code == 2 and "--max-restarts" in capsys.readouterr().err


def _resume_module(spec):
    cm, _ = _job(spec)
    ns: dict = {}
    exec(compile(cm["data"]["resume.py"], "resume.py", "exec"), ns)  # noqa: S102 - the rendered script itself
    return ns


def test_the_rendered_job_resumes_from_the_newest_complete_checkpoint(planned, tmp_path):
    resume = _resume_module(planned("prod").spec)
    root = tmp_path / "checkpoints" / "research" / "job"
    assert resume["latest_checkpoint"](str(root)) is None  # no directory yet: start at step 0
    # A recorded directory: two complete checkpoints, a newer one a node died writing (no
    # marker), a marker still in its temporary name, and a stray file.
    for step in (100, 200):
        path = resume["checkpoint_dir"](str(root), step)
        (tmp_path / path / "rank-00000").write_text("x")
        resume["mark_complete"](path, step)
    torn = resume["checkpoint_dir"](str(root), 300)
    (tmp_path / torn / "rank-00000").write_text("x")
    half = resume["checkpoint_dir"](str(root), 400)
    (tmp_path / half / "COMPLETE.tmp").write_text("400\n")
    (root / "notes.txt").write_text("")
    newest = resume["latest_checkpoint"](str(root))
    assert os.path.basename(newest) == "step-000000200"
    assert resume["step_of"](os.path.basename(newest)) == 200
    assert (root / "step-000000200" / "COMPLETE").read_text() == "200\n"
    # Completing 300 later moves the resume point there; ordering is numeric, not textual.
    resume["mark_complete"](torn, 300)
    assert resume["latest_checkpoint"](str(root)).endswith("step-000000300")
    assert resume["step_of"]("step-1000") == 1000 and resume["step_of"]("step-x") is None


def test_train_script_resumes_through_the_convention(planned):
    cm, _ = _job(planned("prod").spec)
    train = cm["data"]["train.py"]
    assert "latest_checkpoint(root)" in train and "mark_complete(path, step)" in train
    assert train.index("dist.barrier()") < train.index("mark_complete(path, step)")


# -- sizing, by hand ------------------------------------------------------------------------

def test_failure_rate_is_the_llama3_count():
    rate = CAT.failures.rates[CAT.failures.default]
    assert (rate.interruptions, rate.gpus, rate.days) == (419, 16384, 54)
    assert rate.per_gpu_hour == pytest.approx(419 / (16384 * 54 * 24))


def test_young_daly_by_hand():
    # delta = 300 s, M = 10,000 s: Young sqrt(2 * 300 * 10000) = 2449.49 s; Daly adds
    # x = 300 / 20000 = 0.015: 2449.49 * (1 + 0.040825 + 0.0016667) - 300 = 2253.57 s.
    assert young_interval(300, 10_000) == pytest.approx(2449.49, abs=0.01)
    assert daly_interval(300, 10_000) == pytest.approx(2253.57, abs=0.01)
    assert daly_interval(25_000, 10_000) == 10_000  # delta >= 2M: checkpoint once per M
    # goodput: 2253.57 / 2553.57 * (1 - (600 + 1276.785) / 10000) = 0.88252 * 0.81232
    assert goodput(2253.57, 300, 600, 10_000) == pytest.approx(0.71689, abs=1e-4)
    assert goodput(100, 10, 20_000, 10_000) == 0.0
    assert mtbi_hours(1e-5, 1000) == pytest.approx(100.0)


def test_llama_405b_on_16k_h100_by_hand():
    # 16,384 GPUs at 419 / (16,384 x 54 x 24) per GPU-hour: one interruption every
    # 54 x 24 / 419 = 3.0931 h = 11,135.1 s. With a 269 s write and 20 + 269/60 min to restart:
    r = plan_resilience(CAT, 16384, 77.5 * 24, 269.0)
    m = 54 * 24 / 419 * 3600
    assert r.mtbi_hours == pytest.approx(3.0931, abs=1e-4)
    tau = math.sqrt(2 * 269 * m) * (1 + math.sqrt(269 / (2 * m)) / 3 + 269 / (2 * m) / 9) - 269
    assert r.interval_seconds == pytest.approx(tau) and 2265 < tau < 2275  # ~38 minutes
    g = tau / (tau + 269) * (1 - (20 * 60 + 269 + (tau + 269) / 2) / m)
    assert r.goodput == pytest.approx(g) and 0.67 < g < 0.68
    assert r.wall_hours == pytest.approx(77.5 * 24 / g)
    assert r.interruptions == pytest.approx(77.5 * 24 / g / (m / 3600))
    assert 800 < r.interruptions < 1000  # same order as Meta's 419 in 54 days: a longer run
    assert r.lost_gpu_hours == pytest.approx((77.5 * 24 / g - 77.5 * 24) * 16384)
    faster = plan_resilience(CAT, 16384, 77.5 * 24, 269.0, restart_minutes=2)
    assert faster.goodput > r.goodput and faster.interval_seconds == pytest.approx(r.interval_seconds)


def test_size_train_prints_interruptions_and_interval(capsys):
    args = ["size", "train", "--preset", "llama-3.1-405b", "--tokens", "15.6e12", "--instance-type", "p5.48xlarge",
            "--gpus", "16384"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "expected interruptions" in out and "checkpoint every" in out and "goodput" in out
    assert main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    res = doc["resilience"]
    # Whatever the run's failure-free days, the interruptions follow from them by the formula,
    # at Meta's rate: one every 54 x 24 / 419 h.
    assert res["hoursBetweenInterruptions"] == pytest.approx(54 * 24 / 419, abs=1e-3)
    assert res["wallDays"] == pytest.approx(doc["days"] / res["goodput"], rel=1e-3)
    assert res["expectedInterruptions"] == pytest.approx(res["wallDays"] * 24 / (54 * 24 / 419), rel=1e-3)
    assert 419 / 2 < res["expectedInterruptions"] < 419 * 5  # the order of Meta's count
    assert 2000 < res["checkpointIntervalSeconds"] < 2500
    assert main([*args, "--failures-per-gpu-hour", "0"]) == 2
    assert "--failures-per-gpu-hour" in capsys.readouterr().err


# -- the acceptance gate ---------------------------------------------------------------------

REPAIRED = ("ip-10-40-12-34.ec2.internal", "ip-10-40-12-35.ec2.internal")


def _pod_spec(obj):
    if obj["kind"] == "JobSet":
        return obj["spec"]["replicatedJobs"][0]["template"]["spec"]["template"]["spec"]
    return obj["spec"]["mpiReplicaSpecs"]["Worker"]["template"]["spec"]


def test_acceptance_runs_on_the_named_nodes_and_says_how_to_open_the_gate(planned):
    import kubernetes_validate

    text = render_job(planned("prod").spec, JobRequest("prod", "train-h100", "platform", 2, template="nccl-tests",
                                                       on_nodes=REPAIRED))
    assert f"kubectl label node {' '.join(REPAIRED)} aidc.io/nccl-accepted=true --overwrite" in text
    mpijob = [d for d in yaml.safe_load_all(text) if d][-1]
    spec = _pod_spec(mpijob)
    term = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert term == [{"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In",
                                           "values": list(REPAIRED)}]}]
    anti = spec["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
    assert anti["topologyKey"] == "kubernetes.io/hostname"  # one worker per named node
    worker_labels = mpijob["spec"]["mpiReplicaSpecs"]["Worker"]["template"]["metadata"]["labels"]
    assert anti["labelSelector"]["matchLabels"] == {"aidc.io/job": "nccl-tests-train-h100"}
    assert worker_labels["aidc.io/job"] == "nccl-tests-train-h100"  # the workers repel each other
    kubernetes_validate.validate({"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "w"},
                                  "template": {"spec": spec}}, CAT.recipe.default_kubernetes_version + ".0",
                                 strict=True)


def test_accepted_only_jobs_land_only_on_accepted_nodes(planned):
    spec = planned("prod").spec
    _, gated = _job(spec, accepted_only=True)
    term = _pod_spec(gated)["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["nodeSelectorTerms"] == [{"matchExpressions": [
        {"key": "aidc.io/nccl-accepted", "operator": "In", "values": ["true"]}]}]
    _, open_ = _job(spec)
    assert "affinity" not in _pod_spec(open_)


@pytest.mark.parametrize("args, flag", [
    (["--nodes", "3", "--template", "nccl-tests", "--on-node", REPAIRED[0], "--on-node", REPAIRED[1]], "--on-node"),
    (["--nodes", "2", "--template", "nccl-tests", "--on-node", REPAIRED[0], "--on-node", REPAIRED[0]], "--on-node"),
    (["--nodes", "2", "--template", "nccl-tests", "--on-node", "Bad_Name", "--on-node", REPAIRED[0]], "--on-node"),
    (["--nodes", "2", "--on-node", REPAIRED[0], "--on-node", REPAIRED[1]], "--on-node"),
    (["--nodes", "2", "--template", "nccl-tests", "--accepted-only"], "--accepted-only"),
])
def test_gate_options_misused_exit_2(capsys, args, flag):
    code = main(["job", "render", "prod", "--pool", "train-h100", "--team", "platform", *args])
    assert code == 2 and flag in capsys.readouterr().err
