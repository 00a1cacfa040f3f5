"""`aidc:inference` and `aidc:observability`: memory fit, parallelism, replicas, pools,
exposure and secrets, each bad input reported with its key path."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.catalog import catalog
from components.formulas.memory import KV_SHARE_WITHOUT_ARCHITECTURE, RUNTIME_SHARE
from components.spec import Spec, load_spec
from components.spec.inference import ServiceSpec, memory_fit, weights_gib
from tests.conftest import spec_problems as problems

POOLS = [{"name": "infer-l40s", "instanceType": "g6e.12xlarge", "provisioner": "karpenter",
          "size": {"min": 0, "max": 4}, "purpose": "inference"}]


def cfg(env="prod", services=(), **extra):
    out = {"aws:region": "us-east-1", "aidc:environment": env, "aidc:gpuPools": POOLS,
           "aidc:inference": {"services": list(services)}}
    out.update({f"aidc:{k}": v for k, v in extra.items()})
    return out


def svc(**over):
    base = {"name": "llama", "model": {"hub": {"id": "meta-llama/Llama-3.1-8B-Instruct"}, "paramsB": 8},
            "pool": "infer-l40s", "minReplicas": 2, "maxReplicas": 4}
    base.update(over)
    return base



def test_shipped_service_parses_with_defaults():
    spec = load_spec(cfg(services=[svc()]))
    s = spec.inference.services[0]
    assert (s.engine, s.precision, s.tensor_parallel, s.expose.type, s.scaling.metric) == \
        ("vllm", "bf16", 1, "clusterIP", "waiting")
    assert spec.inference.kserve is False
    assert spec.observability.retention == "30d" and spec.observability.storage_gib == 200  # prod defaults


@pytest.mark.parametrize("env,retention,gib", [("dev", "7d", 20), ("staging", "15d", 50), ("prod", "30d", 200)])
def test_observability_defaults_per_environment(env, retention, gib):
    obs = load_spec(cfg(env)).observability
    assert (obs.enabled, obs.retention, obs.storage_gib, obs.dashboards) == (True, retention, gib, True)


def test_tensor_parallel_above_the_gpus_of_a_node():
    found = problems(cfg(services=[svc(tensorParallel=8)]))
    assert "8 is above the 4 GPUs of a g6e.12xlarge node" in found["aidc:inference.services[0].tensorParallel"]


def test_tensor_parallel_must_be_a_power_of_two():
    found = problems(cfg(services=[svc(tensorParallel=3)]))
    assert "power of two" in found["aidc:inference.services[0].tensorParallel"]


def test_model_that_does_not_fit_the_pool_gpu_memory():
    # 70B at bf16 = 130.4 GiB of weights + 13.0 GiB KV floor (10%, no architecture) + runtime
    # 2 x 44 x 8% = 7.0: 150.5 GiB; two L40S give 2 x 44 x 0.9 = 79.2. Four give 158.4 >= 157.5.
    found = problems(cfg(services=[svc(model={"hub": {"id": "meta-llama/Llama-3.1-70B-Instruct"}, "paramsB": 70},
                                       tensorParallel=2)]))
    msg = found["aidc:inference.services[0].model.paramsB"]
    assert msg == ("70B parameters at bf16 need 150.5 GiB (weights 130.4 + KV 13.0 as 10% of the weights + "
                   "runtime 7.0) but 2 x NVIDIA L40S give 79.2 GiB at gpuMemoryUtilization 0.9; use tensorParallel 4 "
                   "or a lower precision (model.architecture and maxModelLen would count "
                   "the KV cache exactly)")


def test_same_model_fits_at_fp8_on_four_gpus():
    spec = load_spec(cfg(services=[svc(model={"hub": {"id": "meta-llama/Llama-3.1-70B-Instruct"}, "paramsB": 70},
                                       tensorParallel=4, precision="fp8")]))
    fit = memory_fit(spec.inference.services[0], catalog().gpus["L40S"].memory_gib)
    # 65.2 weights + 6.5 KV floor + 4 x 3.52 runtime = 85.8 GiB of 4 x 44 x 0.9 = 158.4.
    assert (round(fit.need_gib, 1), round(fit.budget_gib, 1), fit.fits) == (85.8, 158.4, True)


def test_exact_kv_cache_when_the_stack_describes_the_model():
    # Llama 3.1 70B at fp8 on one H100-class 80 GiB GPU: 65.7 weights + 6.4 runtime leave
    # 72 - 72.1 < 0 for KV; on two, 144 - 65.7 - 12.8 = 65.5 GiB hold 26 sequences of 8192
    # tokens at 2.5 GiB each, not 27.
    model = {"hub": {"id": "meta-llama/Llama-3.1-70B-Instruct"}, "paramsB": 70.553706496,
             "architecture": {"layers": 80, "kvHeads": 8, "headDim": 128}}
    s = ServiceSpec.model_validate(svc(model=model, tensorParallel=2, precision="fp8", maxModelLen=8192,
                                       maxNumSeqs=26))
    fit = memory_fit(s, 80)
    assert fit.kv_exact and fit.kv_gib == pytest.approx(26 * 2.5) and fit.fits
    assert not memory_fit(s.model_copy(update={"max_num_seqs": 27}), 80).fits
    # fp8 KV halves the cache: 52 sequences fit.
    assert memory_fit(s.model_copy(update={"max_num_seqs": 52, "kv_cache_dtype": "fp8"}), 80).fits


def test_kv_that_does_not_fit_names_the_sequences():
    pools = [{"name": "infer-h100", "instanceType": "p5.48xlarge", "provisioner": "managed",
              "capacity": {"type": "onDemand"}, "size": {"min": 1, "max": 1}, "purpose": "inference"}]
    model = {"hub": {"id": "meta-llama/Llama-3.1-70B-Instruct"}, "paramsB": 70.553706496,
             "architecture": {"layers": 80, "kvHeads": 8, "headDim": 128}}
    config = cfg(services=[svc(model=model, pool="infer-h100", tensorParallel=2, precision="fp8",
                               maxModelLen=8192, maxNumSeqs=27, minReplicas=1, maxReplicas=1)])
    config["aidc:gpuPools"] = pools
    msg = problems(config)["aidc:inference.services[0].model.paramsB"]
    assert "need 146.0 GiB (weights 65.7 + KV 67.5 for 27 x 8192 tokens + runtime 12.8)" in msg
    assert msg.endswith("use tensorParallel 4, a lower precision, fewer maxNumSeqs "
                        "or a shorter maxModelLen")


def test_min_above_max_replicas():
    found = problems(cfg(services=[svc(minReplicas=5, maxReplicas=3)]))
    assert found["aidc:inference.services[0].minReplicas"] == "5 is above maxReplicas 3"


def test_unknown_pool():
    found = problems(cfg(services=[svc(pool="infer-h100")]))
    assert found["aidc:inference.services[0].pool"] == \
        "no GPU pool named 'infer-h100' in aidc:gpuPools (pools: infer-l40s)"


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_scale_to_zero_only_in_dev(env):
    found = problems(cfg(env, services=[svc(minReplicas=0)]))
    assert "scale to zero is allowed only in dev" in found["aidc:inference.services[0].minReplicas"]


def test_scale_to_zero_in_dev_is_fine():
    assert load_spec(cfg("dev", services=[svc(minReplicas=0, maxReplicas=1)])).inference.services[0].min_replicas == 0


def test_replicas_beyond_the_pool():
    found = problems(cfg(services=[svc(tensorParallel=4, minReplicas=5, maxReplicas=5)]))
    assert "exceed pool infer-l40s's 16 GPUs" in found["aidc:inference.services[0].minReplicas"]


def test_model_source_needs_exactly_one_kind():
    found = problems(cfg(services=[svc(model={"bucket": "llama", "lustre": "/models/llama", "paramsB": 8})]))
    assert found["aidc:inference.services[0].model"] == "give exactly one of bucket, lustre, hub"


def test_a_token_in_place_of_a_secret_reference_is_refused():
    token = "hf_" + "a" * 34
    found = problems(cfg(services=[svc(model={"hub": {"id": "a/b", "tokenSecret": token}, "paramsB": 1})]))
    assert "looks like a token" in found["aidc:inference.services[0].model.hub.tokenSecret"]


def test_public_exposure_needs_a_load_balancer_or_gateway_with_tls():
    found = problems(cfg(services=[svc(expose={"public": True}),
                                   svc(name="b", expose={"type": "loadBalancer"}),
                                   svc(name="c", expose={"type": "gateway"})]))
    assert "cannot be public" in found["aidc:inference.services[0].expose.public"]
    assert "ACM certificate" in found["aidc:inference.services[1].expose.certificateArn"]
    for key in ("gatewayClassName", "host", "tlsSecretName"):
        assert found[f"aidc:inference.services[2].expose.{key}"] == "required for a gateway"


def test_autoscaling_needs_observability():
    found = problems(cfg(services=[svc()], observability={"enabled": False}))
    assert "enable aidc:observability" in found["aidc:inference.services[0].maxReplicas"]


def test_fp8_needs_a_gpu_that_has_it():
    pools = [{"name": "a100", "instanceType": "p4d.24xlarge", "size": {"min": 1, "max": 2}}]
    config = cfg(services=[svc(pool="a100", precision="fp8")])
    config["aidc:gpuPools"] = pools
    found = problems(config)
    assert "no FP8 support" in found["aidc:inference.services[0].precision"]


def test_duplicate_service_names():
    found = problems(cfg(services=[svc(), svc()]))
    assert "unique: llama" in found["aidc:inference"]


def test_observability_volume_too_small_for_retention():
    found = problems(cfg(observability={"retention": "90d", "storageGiB": 50}))
    assert "cannot hold 90d" in found["aidc:observability.storageGiB"]


def test_every_problem_at_once():
    found = problems(cfg("staging", services=[svc(tensorParallel=8, minReplicas=0), svc(name="x", pool="nope")]))
    assert {"aidc:inference.services[0].tensorParallel", "aidc:inference.services[0].minReplicas",
            "aidc:inference.services[1].pool"} <= set(found)


@given(params=st.floats(0.5, 500), tp=st.sampled_from([1, 2, 4, 8]),
       precision=st.sampled_from(["bf16", "fp16", "fp8", "int8", "int4"]))
def test_memory_fit_without_architecture_is_weights_plus_floor_plus_runtime(params, tp, precision):
    s = ServiceSpec.model_validate(svc(model={"hub": {"id": "a/b"}, "paramsB": params}, tensorParallel=tp,
                                       precision=precision))
    fit = memory_fit(s, 44)
    assert not fit.kv_exact
    assert fit.need_gib == pytest.approx(weights_gib(s) * (1 + KV_SHARE_WITHOUT_ARCHITECTURE) + tp * 44 * RUNTIME_SHARE)
    assert fit.budget_gib == pytest.approx(tp * 44 * 0.90)
    # Halving the bytes per parameter halves weights and KV floor; the runtime stays.
    if precision == "bf16":
        half = ServiceSpec.model_validate({**s.model_dump(by_alias=True), "precision": "fp8"})
        assert memory_fit(half, 44).need_gib - fit.runtime_gib == pytest.approx((fit.need_gib - fit.runtime_gib) / 2)


needs_storage = pytest.mark.skipif("storage" not in Spec.model_fields,
                                   reason="aidc:storage arrives with the storage branch")


@needs_storage
def test_bucket_model_needs_the_models_claim_in_its_namespace():
    bucket = {"bucket": "llama-3.1-8b", "paramsB": 8}
    found = problems(cfg(services=[svc(model=bucket)]))
    assert found["aidc:inference.services[0].model.bucket"] == \
        "needs aidc:storage (the models bucket or the Lustre file system)"
    found = problems(cfg(services=[svc(model=bucket)], storage={"modelNamespaces": ["other"]}))
    assert "add it to aidc:storage.modelNamespaces" in found["aidc:inference.services[0].model.bucket"]


def test_time_sliced_gpus_limit_the_memory_a_server_takes():
    pools = [{"name": "dev-l4", "instanceType": "g6.xlarge", "provisioner": "karpenter",
              "capacity": {"type": "spot"}, "size": {"min": 0, "max": 2}, "timeSlicing": {"replicas": 4}}]
    config = cfg("dev", services=[svc(pool="dev-l4", model={"hub": {"id": "a/b"}, "paramsB": 1.5})])
    config["aidc:gpuPools"] = pools
    found = problems(config)
    assert "time-slices each GPU between 4 pods" in found["aidc:inference.services[0].gpuMemoryUtilization"]
    config["aidc:inference"]["services"][0]["gpuMemoryUtilization"] = 0.25
    assert load_spec(config).inference.services[0].gpu_memory_utilization == 0.25


def team(gpus):
    return {"operators": {"kueue": True}, "teams": [{"name": "research", "quotas": [
        {"pool": "infer-l40s", "gpus": gpus, "cpu": 8, "memoryGiB": 64}]}]}


def test_serving_and_training_quotas_must_share_a_pool_within_its_gpus():
    # infer-l40s holds 4 x 4 = 16 GPUs; two replicas of a 1-GPU server keep 2 of them.
    assert load_spec(cfg(services=[svc()], training=team(14)))
    found = problems(cfg(services=[svc()], training=team(15)))
    assert found == {"aidc:inference.services[0].minReplicas":
                     "model servers keep 2 GPUs of pool infer-l40s and training quotas promise 15: 17 in all, "
                     "more than its 16 (lower the quotas or the replicas, or raise size.max)"}
