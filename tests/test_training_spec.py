"""aidc:training validation: quota arithmetic against what the pools can ever hold, unknown
pools, duplicate teams, borrowing without a cohort, operator dependencies. Each problem names
its key path."""

from hypothesis import given, settings
from hypothesis import strategies as st

from components.spec import load_spec
from tests.conftest import spec_problems as problems

# 16 x p5.48xlarge: 128 GPUs, 3072 vCPUs, 32768 GiB.
H100 = {"name": "train-h100", "instanceType": "p5.48xlarge", "capacity": {"type": "capacityBlock",
        "reservationId": "cr-0abc1234def567890"}, "size": {"min": 16, "max": 16}, "efa": True,
        "availabilityZone": "us-east-1a"}
L4 = {"name": "dev-l4", "instanceType": "g6.xlarge", "provisioner": "karpenter", "size": {"min": 0, "max": 2}}


def cfg(training, pools=(H100,), env="prod"):
    return {"aws:region": "us-east-1", "aidc:environment": env, "aidc:gpuPools": list(pools),
            "aidc:training": training}


def quota(pool="train-h100", gpus=8, cpu=96, mem=1024, **extra):
    return {"pool": pool, "gpus": gpus, "cpu": cpu, "memoryGiB": mem, **extra}



def test_pool_capacity_comes_from_the_pool_model():
    spec = load_spec(cfg({"teams": []}))
    # 16 x p5.48xlarge: 8 GPUs, 192 vCPUs and 2048 GiB each.
    assert spec.pools["train-h100"].max_resources == {"gpus": 128, "cpu": 3072, "memory_gib": 32768}


def test_quotas_that_fit_are_accepted_and_defaults_hold():
    spec = load_spec(cfg({"teams": [{"name": "a", "cohort": "c", "quotas": [quota(gpus=64)]},
                                    {"name": "b", "cohort": "c", "quotas": [quota(gpus=64)]}]}))
    tr = spec.training
    assert tr.operators.kueue and tr.operators.jobset and not tr.operators.mpi
    assert tr.team("a").pod_security == "restricted"
    assert tr.team("b").preemption.reclaim_within_cohort == "Any"


def test_gpu_overcommit_names_the_quota_that_crosses_capacity():
    found = problems(cfg({"teams": [{"name": "a", "quotas": [quota(gpus=80)]},
                                    {"name": "b", "quotas": [quota(gpus=40)]},
                                    {"name": "c", "quotas": [quota(gpus=16)]}]}))
    assert set(found) == {"aidc:training.teams[2].quotas[0].gpus"}
    msg = found["aidc:training.teams[2].quotas[0].gpus"]
    assert "136 GPUs" in msg and "128" in msg and "size.max 16 x p5.48xlarge" in msg


def test_cpu_and_memory_overcommit_are_errors_too():
    found = problems(cfg({"teams": [{"name": "a", "quotas": [quota(cpu=3000, mem=30000)]},
                                    {"name": "b", "quotas": [quota(cpu=100, mem=3000)]}]}))
    assert "3100 vCPUs" in found["aidc:training.teams[1].quotas[0].cpu"]
    assert "33000 GiB" in found["aidc:training.teams[1].quotas[0].memoryGiB"]


def test_borrowing_beyond_the_pool_and_without_a_cohort():
    found = problems(cfg({"teams": [
        {"name": "a", "cohort": "c", "quotas": [quota(gpus=100, borrowingLimit={"gpus": 40})]},
        {"name": "b", "quotas": [quota(gpus=8, borrowingLimit={"gpus": 8})]}]}))
    assert "140" in found["aidc:training.teams[0].quotas[0].borrowingLimit.gpus"]
    assert "cohort" in found["aidc:training.teams[1].quotas[0].borrowingLimit"]


def test_unknown_pool_duplicate_team_and_duplicate_pool():
    found = problems(cfg({"teams": [
        {"name": "a", "quotas": [quota(pool="train-a100"), quota(), quota()]},
        {"name": "a"}]}))
    assert "unknown GPU pool 'train-a100'" in found["aidc:training.teams[0].quotas[0].pool"]
    assert "train-h100" in found["aidc:training.teams[0].quotas[0].pool"]  # lists the known pools
    assert "quotas[1]" in found["aidc:training.teams[0].quotas[2].pool"]
    assert "teams[0]" in found["aidc:training.teams[1].name"]


def test_operator_dependencies_and_schedulers():
    found = problems(cfg({"operators": {"kueue": False, "jobset": False, "trainer": True},
                          "teams": [{"name": "a"}, {"name": "b", "scheduler": "volcano", "cohort": "x"},
                                    {"name": "kube-system"}]}))
    assert "jobset" in found["aidc:training.operators.trainer"]
    assert "kueue is off" in found["aidc:training.teams[0].scheduler"]
    assert "volcano is off" in found["aidc:training.teams[1].scheduler"]
    assert "Kueue" in found["aidc:training.teams[1].cohort"]
    assert "system" in found["aidc:training.teams[2].name"]


def test_shape_errors_have_key_paths():
    found = problems(cfg({"teams": [{"name": "Research", "quotas": [{"pool": "train-h100", "gpus": -1}]}],
                          "operators": {"slurm": True}}))
    assert "aidc:training.teams[0].name" in found
    assert "aidc:training.teams[0].quotas[0].gpus" in found
    assert "aidc:training.teams[0].quotas[0].cpu" in found  # required
    assert found["aidc:training.operators.slurm"] == "unknown key; known: kueue, jobset, trainer, kuberay, mpi, volcano"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=128), min_size=1, max_size=5))
def test_gpu_quota_sum_is_an_error_exactly_when_it_exceeds_the_pool(gpus):
    teams = [{"name": f"t{i}", "quotas": [quota(gpus=g, cpu=0, mem=0)]} for i, g in enumerate(gpus)]
    config = cfg({"teams": teams})
    if sum(gpus) <= 128:
        load_spec(config)
    else:
        found = problems(config)
        crossing = next(i for i in range(len(gpus)) if sum(gpus[: i + 1]) > 128)
        assert set(found) == {f"aidc:training.teams[{crossing}].quotas[0].gpus"}
