"""`aidc verify --run-acceptance`: the NCCL acceptance job is created on the fake API server,
waited for, its nccl-tests output parsed and judged against the catalog floor, and whatever
was created is deleted — also when the run times out or a create is denied."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import aidc.verify.acceptance as acceptance
from aidc.cli import main
from aidc.verify import nccl
from tests.fake_kube import FakeKube, fixture, forbidden, item_list, write_kubeconfig
from tests.verify_cluster import STACK, healthy

NCCL_LOG = fixture("nccl-all-reduce-2x-p5.log")
NS = "research"
MPIJOBS = f"/apis/kubeflow.org/v2beta1/namespaces/{NS}/mpijobs"
JOBS = f"/apis/batch/v1/namespaces/{NS}/jobs"


# -- nccl-tests output ------------------------------------------------------------------------
def test_parse_realistic_all_reduce_output():
    result = nccl.parse(NCCL_LOG)
    assert len(result.rows) == 32  # 8 B .. 16 GiB, factor 2
    assert result.rows[0].size == 8 and result.rows[-1].size == 17179869184
    assert result.avg_busbw == pytest.approx(162.1216)
    assert result.max_busbw == pytest.approx(489.40)
    assert result.large_busbw == pytest.approx(489.40)  # best out-of-place value at >= 1 GiB
    assert result.rows[-5].busbw == pytest.approx(482.91)  # 1 GiB row, out-of-place column (not in-place 484.68)
    assert result.errors == 0 and result.out_of_bounds == 0


def test_untagged_output_parses_the_same():
    plain = re.sub(r"^\[1,\d+\]<stdout>:", "", NCCL_LOG, flags=re.MULTILINE)
    assert "<stdout>" not in plain
    assert nccl.parse(plain) == nccl.parse(NCCL_LOG)


def test_verdict_against_the_floor():
    result = nccl.parse(NCCL_LOG)
    ok, reason = nccl.verdict(result, 350)
    assert ok and reason.endswith(">= floor 350 GB/s")
    ok, reason = nccl.verdict(result, 500)
    assert not ok and "489.4 GB/s at large messages" in reason and "below the catalog floor 500 GB/s" in reason


def test_wrong_results_fail_whatever_the_bandwidth():
    broken = NCCL_LOG.replace("# Out of bounds values : 0 OK", "# Out of bounds values : 3 FAILED")
    ok, reason = nccl.verdict(nccl.parse(broken), 350)
    assert not ok and reason.startswith("3 wrong results")


def test_not_nccl_output():
    with pytest.raises(nccl.NcclOutputError):
        nccl.parse("mpirun: error while loading shared libraries: libnccl.so.2\n")


# -- the run on a fake cluster ------------------------------------------------------------------
def mpijob(nodes: int) -> list[dict]:
    """Stand-in for the training platform's acceptance template: an MPIJob of nccl-tests."""
    worker = {"containers": [{"name": "worker", "image": "public.ecr.aws/hpc-cloud/nccl-tests:cuda13.0.2-efa1.48.0"
                                                         "-ofiv1.19.0-ncclv2.30.4-1-testsv2.18.3",
                              "resources": {"limits": {"nvidia.com/gpu": 8, "vpc.amazonaws.com/efa": 32},
                                            "requests": {"nvidia.com/gpu": 8, "vpc.amazonaws.com/efa": 32}}}],
              "nodeSelector": {"aidc.io/pool": "train-h100"},
              "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]}
    launcher = {"containers": [{"name": "launcher", "image": worker["containers"][0]["image"],
                                "command": ["mpirun", "-np", str(8 * nodes), "-x", "FI_PROVIDER=efa",
                                            "/opt/nccl-tests/build/all_reduce_perf", "-b", "8", "-e", "16G",
                                            "-f", "2", "-g", "1", "-c", "1", "-n", "20"]}]}
    return [{"apiVersion": "kubeflow.org/v2beta1", "kind": "MPIJob",
             "metadata": {"name": "nccl-tests-train-h100", "namespace": NS, "labels": {"kueue.x-k8s.io/queue-name": NS}},
             "spec": {"slotsPerWorker": 8, "runPolicy": {"cleanPodPolicy": "Running"},
                      "mpiReplicaSpecs": {"Launcher": {"replicas": 1, "template": {"spec": launcher}},
                                          "Worker": {"replicas": nodes, "template": {"spec": worker}}}}}]


def _pod(name: str, labels: dict) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS, "labels": labels},
            "spec": {"containers": [{"name": "c", "image": "x"}]}, "status": {"phase": "Succeeded"}}


def acceptance_routes(states: list[str]) -> dict:
    """The healthy cluster plus an MPIJob that reports `states` in turn, then stays at the last."""
    routes = healthy()
    seen = {"n": 0}

    def create(body):
        return 201, {**body, "metadata": {**body["metadata"], "uid": "7f0e1d2c-3b4a-4596-8877-665544332211"}}

    def get(_body):
        state = states[min(seen["n"], len(states) - 1)]
        seen["n"] += 1
        if state == "drop":
            return None
        conds = [] if state == "Running" else [{"type": state, "status": "True", "reason": f"MPIJob{state}",
                                                "message": f"MPIJob {NS}/nccl-tests-train-h100 {state.lower()}"}]
        conds.insert(0, {"type": "Running", "status": "False" if conds else "True", "reason": "MPIJobRunning"})
        return 200, {**mpijob(2)[0], "status": {"conditions": conds}}

    job_labels = {"training.kubeflow.org/job-name": "nccl-tests-train-h100", "training.kubeflow.org/operator-name":
                  "mpijob-controller"}
    pods = [_pod("nccl-tests-train-h100-launcher-x7k2p", {**job_labels, "training.kubeflow.org/job-role": "launcher"}),
            _pod("nccl-tests-train-h100-worker-0", {**job_labels, "training.kubeflow.org/job-role": "worker"}),
            _pod("nccl-tests-train-h100-worker-1", {**job_labels, "training.kubeflow.org/job-role": "worker"}),
            _pod("train-llama-0", {"training.kubeflow.org/job-name": "train-llama"})]
    routes.update({
        ("POST", MPIJOBS): create,
        ("GET", f"{MPIJOBS}/nccl-tests-train-h100"): get,
        ("DELETE", f"{MPIJOBS}/nccl-tests-train-h100"): (200, {"kind": "Status", "apiVersion": "v1", "status": "Success"}),
        ("GET", f"/api/v1/namespaces/{NS}/pods"): (200, item_list("Pod", pods)),
        ("GET", f"/api/v1/namespaces/{NS}/pods/nccl-tests-train-h100-launcher-x7k2p/log"): (200, NCCL_LOG),
        ("GET", f"/api/v1/namespaces/{NS}/pods/nccl-tests-train-h100-worker-0/log"): (200, "Server listening on :: port 2222.\n"),
        ("GET", f"/api/v1/namespaces/{NS}/pods/nccl-tests-train-h100-worker-1/log"): (200, "Server listening on :: port 2222.\n"),
    })
    return routes


@pytest.fixture
def fast_poll(monkeypatch):
    monkeypatch.setattr(acceptance, "POLL_SECONDS", 0.02)


def run(tmp_path: Path, fake: FakeKube, capsys, *extra: str) -> tuple[int, dict]:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", fake.url)
    code = main(["verify", STACK, "--kubeconfig", str(kubeconfig), "--json", "--run-acceptance", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_acceptance_run_passes_and_cleans_up(tmp_path, capsys, monkeypatch, fast_poll):
    monkeypatch.setattr(acceptance, "render_acceptance_job", lambda spec, stack, pool, team, nodes: mpijob(nodes))
    with FakeKube(acceptance_routes(["Running", "Running", "Succeeded"])) as fake:
        code, doc = run(tmp_path, fake, capsys, "--pool", "train-h100", "--timeout", "30")
    check = doc["checks"][-1]
    assert code == 0, check
    assert check["id"] == "acceptance/train-h100"
    assert check["status"] == "pass"
    assert check["reason"] == ("busbw 489.4 GB/s at large messages (max 489.4, avg 162.1; out-of-place) "
                               ">= floor 350 GB/s")
    created = [b for m, p, b in fake.requests if m == "POST"]
    assert len(created) == 1 and created[0]["spec"]["mpiReplicaSpecs"]["Worker"]["replicas"] == 2
    assert fake.seen("GET", f"{MPIJOBS}/nccl-tests-train-h100") == 3  # polled until Succeeded
    assert fake.seen("DELETE", f"{MPIJOBS}/nccl-tests-train-h100") == 1
    assert fake.seen("GET", f"/api/v1/namespaces/{NS}/pods/train-llama-0/log") == 0  # not ours
    assert {m for m, _, _ in fake.requests} == {"GET", "POST", "DELETE"}


def test_a_network_blip_while_waiting_is_survived(tmp_path, capsys, monkeypatch, fast_poll):
    monkeypatch.setattr(acceptance, "render_acceptance_job", lambda spec, stack, pool, team, nodes: mpijob(nodes))
    with FakeKube(acceptance_routes(["Running", "drop", "Succeeded"])) as fake:
        code, doc = run(tmp_path, fake, capsys, "--pool", "train-h100", "--timeout", "30")
    assert code == 0, doc["checks"][-1]
    assert fake.seen("GET", f"{MPIJOBS}/nccl-tests-train-h100") == 3
    assert fake.seen("DELETE", f"{MPIJOBS}/nccl-tests-train-h100") == 1


def test_acceptance_failed_job_below_floor(tmp_path, capsys, monkeypatch, fast_poll):
    monkeypatch.setattr(acceptance, "render_acceptance_job", lambda spec, stack, pool, team, nodes: mpijob(nodes))
    slow = NCCL_LOG.replace("489.40", "301.20").replace("483.39", "300.10").replace("479.85", "299.00") \
        .replace("480.73", "298.00").replace("482.91", "297.00")
    routes = acceptance_routes(["Succeeded"])
    routes[("GET", f"/api/v1/namespaces/{NS}/pods/nccl-tests-train-h100-launcher-x7k2p/log")] = (200, slow)
    with FakeKube(routes) as fake:
        code, doc = run(tmp_path, fake, capsys, "--pool", "train-h100")
    check = doc["checks"][-1]
    assert code == 1
    assert check["status"] == "fail"
    assert "busbw 301.2 GB/s at large messages" in check["reason"]
    assert "below the catalog floor 350 GB/s" in check["reason"]
    assert fake.seen("DELETE", f"{MPIJOBS}/nccl-tests-train-h100") == 1


def test_acceptance_timeout_still_deletes(tmp_path, capsys, monkeypatch, fast_poll):
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "nccl-tests-train-h100", "namespace": NS},
           "spec": {"template": {"spec": {"restartPolicy": "Never",
                                          "containers": [{"name": "nccl", "image": "x"}]}}}}
    monkeypatch.setattr(acceptance, "render_acceptance_job", lambda spec, stack, pool, team, nodes: [job])
    routes = healthy()
    routes.update({
        ("POST", JOBS): (201, job),
        ("GET", f"{JOBS}/nccl-tests-train-h100/status"): (200, {**job, "status": {"active": 2}}),
        ("GET", f"/api/v1/namespaces/{NS}/pods"): (200, item_list("Pod", [])),
        ("DELETE", f"{JOBS}/nccl-tests-train-h100"): (200, {"kind": "Status", "apiVersion": "v1", "status": "Success"}),
    })
    with FakeKube(routes) as fake:
        code, doc = run(tmp_path, fake, capsys, "--timeout", "0.2")
    check = doc["checks"][-1]
    assert code == 1
    assert check["reason"] == "Job research/nccl-tests-train-h100 not finished after 0.2 s"
    assert fake.seen("DELETE", f"{JOBS}/nccl-tests-train-h100") == 1
    deleted = [q for m, p, q in fake.queries if m == "DELETE"]
    assert deleted == ["propagationPolicy=Background"]  # its pods go too


def test_denied_create_deletes_what_was_created(tmp_path, capsys, monkeypatch, fast_poll):
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "nccl-tests-train-h100-hostfile",
                                                                          "namespace": NS}, "data": {"hosts": ""}}
    monkeypatch.setattr(acceptance, "render_acceptance_job", lambda spec, stack, pool, team, nodes: [config_map, *mpijob(nodes)])
    routes = acceptance_routes(["Succeeded"])
    routes[("POST", f"/api/v1/namespaces/{NS}/configmaps")] = (201, config_map)
    routes[("POST", MPIJOBS)] = forbidden("create", "mpijobs", "kubeflow.org", NS)
    routes[("DELETE", f"/api/v1/namespaces/{NS}/configmaps/nccl-tests-train-h100-hostfile")] = (200, {"status": "Success"})
    with FakeKube(routes) as fake:
        code, doc = run(tmp_path, fake, capsys)
    check = doc["checks"][-1]
    assert code == 1
    assert check["reason"].startswith("create MPIJob research/nccl-tests-train-h100: RBAC denies it (403 Forbidden)")
    assert fake.seen("DELETE", f"/api/v1/namespaces/{NS}/configmaps/nccl-tests-train-h100-hostfile") == 1
    assert fake.seen("DELETE", f"{MPIJOBS}/nccl-tests-train-h100") == 0  # never created, nothing to delete


def test_acceptance_that_cannot_render_is_bad_input_before_any_request(tmp_path, capsys):
    """Without the training template (or without a team that may run it) nothing is sent."""
    with FakeKube(healthy()) as fake:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", fake.url)
        code = main(["verify", STACK, "--kubeconfig", str(kubeconfig), "--run-acceptance"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("aidc: --run-acceptance") and "Traceback" not in err
    assert fake.requests == []


def test_progress_line_while_waiting(tmp_path):
    """On a terminal the wait shows elapsed time on one rewritten stderr line, cleared at the end."""
    import io

    from aidc.verify.kube import Kube, load_client
    from components.catalog import catalog

    pool = type("Pool", (), {"name": "train-h100", "instance_type": "p5.48xlarge"})()
    with FakeKube(acceptance_routes(["Running", "Running", "Succeeded"])) as fake:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", fake.url)
        kube = Kube(load_client(str(kubeconfig), 2.0), 2.0)
        out = io.StringIO()
        result = acceptance.run_acceptance(catalog(), kube, pool, mpijob(2), 2, 30, progress=out, poll=0.01)
    assert result.status == "pass"
    shown = out.getvalue()
    assert shown.count("acceptance MPIJob research/nccl-tests-train-h100: running") == 2
    assert "(timeout 30 s)" in shown
    assert shown.endswith("\r\033[K")
