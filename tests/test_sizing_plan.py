"""`aidc size serve --emit-stack` fragments plan as they are: added to the staging stack, the
offline engine plans the emitted pool and inference service without edits."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from aidc.cli import main
from aidc.engine import plan_stack
from aidc.stackfile import read_stack

from .conftest import ROOT


def _fragment(capsys, *argv: str) -> dict:
    assert main(["size", "serve", *argv, "--emit-stack"]) == 0
    return yaml.safe_load(capsys.readouterr().out)


@pytest.mark.parametrize("argv", [
    ("--preset", "deepseek-v3", "--precision", "fp8", "--context", "16384", "--concurrency", "8",
     "--instance-type", "p5en.48xlarge"),
    ("--preset", "llama-3.1-405b", "--precision", "fp8", "--context", "8192", "--concurrency", "4",
     "--instance-type", "p5.48xlarge"),
], ids=["deepseek-v3-mla", "llama-405b-fp8"])
def test_emitted_serving_fragment_plans_in_the_staging_stack(capsys, argv):
    frag = _fragment(capsys, *argv)
    (pool,) = frag["aidc:gpuPools"]
    (svc,) = frag["aidc:inference"]["services"]
    staging = read_stack("staging", ROOT)
    config = dict(staging.config)
    config["aidc:gpuPools"] = [*config["aidc:gpuPools"], pool]
    config["aidc:inference"] = {**config["aidc:inference"],
                                "services": [*config["aidc:inference"]["services"], svc]}
    planned = plan_stack(dataclasses.replace(staging, config=config), ROOT)
    urns = {r.urn.rsplit("::", 1)[1]: r for r in planned.plan.resources}
    assert f"aidc-staging-{pool['name']}-ng" in urns, "the emitted pool has no node group in the plan"
    deployment = urns[f"aidc-staging-{svc['name']}-deployment-inference-{svc['name']}"]
    # The served model's vLLM arguments carry the planned tensor parallelism and sequence count.
    (container,) = [c for c in deployment.inputs["spec"]["template"]["spec"]["containers"] if "args" in c]
    args = container["args"]
    assert args[args.index("--tensor-parallel-size") + 1] == str(svc["tensorParallel"])
    assert args[args.index("--max-model-len") + 1] == str(svc["maxModelLen"])
    assert args[args.index("--max-num-seqs") + 1] == str(svc["maxNumSeqs"])
    (service,) = [s for s in planned.spec.inference.services if s.name == svc["name"]]
    assert (service.tensor_parallel, service.max_num_seqs) == (svc["tensorParallel"], svc["maxNumSeqs"])
