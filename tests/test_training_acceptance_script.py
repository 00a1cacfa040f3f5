"""The NCCL acceptance job judges its own run: execute its shell verdict on a recorded log."""

import re
import shutil
import subprocess

import pytest
import yaml

from components.training.jobs import JobRequest, render_job
from tests.conftest import ROOT

LOG = ROOT / "tests" / "fixtures" / "verify" / "nccl-all-reduce-2x-p5.log"


def launcher_script(planned) -> tuple[str, str]:
    spec = planned("prod").spec
    job = render_job(spec, JobRequest("prod", "train-h100", "platform", 2, template="nccl-tests"))
    mpijob = next(d for d in yaml.safe_load_all(job) if d and d["kind"] == "MPIJob")
    container = mpijob["spec"]["mpiReplicaSpecs"]["Launcher"]["template"]["spec"]["containers"][0]
    floor = next(e["value"] for e in container["env"] if e["name"] == "MIN_BUSBW")
    return container["args"][0], floor


@pytest.mark.skipif(shutil.which("awk") is None or shutil.which("bash") is None, reason="needs bash and awk")
@pytest.mark.parametrize("floor,passes", [(None, True), ("600", False)])
def test_verdict_on_a_recorded_run(planned, tmp_path, floor, passes):
    script, catalog_floor = launcher_script(planned)
    assert float(catalog_floor) == 350  # the p5 floor from the catalog
    assert "--tag-output" not in script  # tagged lines would hide the size column from awk
    # Replace mpirun with the recorded output, as rank 0 prints it (untagged).
    log = "\n".join(re.sub(r"^\[\d+,\d+\]<stdout>:", "", line) for line in LOG.read_text().splitlines())
    (tmp_path / "run.log").write_text(log + "\n")
    body = script.split("| tee /tmp/nccl.log", 1)[1].replace("/tmp/nccl.log", str(tmp_path / "run.log"))
    env = {"PATH": "/usr/bin:/bin", "MIN_BUSBW": floor or catalog_floor}
    out = subprocess.run(["bash", "-o", "pipefail", "-c", body], env=env, capture_output=True, text=True, timeout=30)
    assert "best out-of-place busbw at >= 1 GiB: 489.4 GB/s" in out.stdout
    assert (out.returncode == 0) is passes
