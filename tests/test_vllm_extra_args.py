"""`services[].extraArgs`: more `vllm serve` arguments, appended as given, never one that aidc
sets from another key (the stack's memory fit and parallelism checks would be bypassed)."""

from __future__ import annotations

import pytest

from components.inference.pods import vllm_args
from components.spec import load_spec
from components.spec.inference import VLLM_FLAGS
from tests.conftest import spec_problems as problems
from tests.test_inference_spec import cfg, svc


def test_extra_args_are_appended():
    spec = load_spec(cfg(services=[svc(extraArgs=["--enable-prefix-caching", "--max-num-batched-tokens", "8192"])]))
    assert vllm_args(spec.inference.services[0])[-3:] == ["--enable-prefix-caching", "--max-num-batched-tokens",
                                                         "8192"]


@pytest.mark.parametrize("arg,key", [("--max-model-len=4096", "maxModelLen"), ("--kv-cache-dtype", "kvCacheDtype"),
                                     ("--tensor-parallel-size", "tensorParallel")])
def test_a_flag_aidc_sets_names_the_key_to_use(arg, key):
    found = problems(cfg(services=[svc(extraArgs=[arg, "2"])]))
    assert found["aidc:inference.services[0].extraArgs[0]"] == f"{arg.split('=')[0]} is set by aidc from {key}; " \
                                                              "set that instead"


def test_shape_of_the_arguments():
    found = problems(cfg(services=[svc(extraArgs=["8192", "--chat-template='x'"])]))
    assert found["aidc:inference.services[0].extraArgs[0]"].startswith("'8192': the arguments begin with a flag")
    assert "no quote (')" in found["aidc:inference.services[0].extraArgs[1]"]
    found = problems(cfg(services=[svc(engine="triton", extraArgs=["--x"])]))
    assert found["aidc:inference.services[0].extraArgs"].startswith("extra arguments are for the vllm engine")


@pytest.mark.parametrize("over", [
    {}, {"maxModelLen": 8192, "maxNumSeqs": 16, "kvCacheDtype": "fp8", "precision": "fp16"},
    {"precision": "fp8", "model": {"hub": {"id": "a/b", "revision": "abcdef1"}, "paramsB": 8, "servedName": "x"}},
])
def test_every_flag_aidc_passes_is_one_extra_args_may_not_repeat(over):
    flags = {a for a in vllm_args(load_spec(cfg(services=[svc(**over)])).inference.services[0]) if a.startswith("--")}
    assert flags <= set(VLLM_FLAGS), flags - set(VLLM_FLAGS)
