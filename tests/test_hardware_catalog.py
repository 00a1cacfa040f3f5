"""Data lint of the Blackwell-era catalog entries (p6-b300, g7e, p5.4xlarge; B300, GB200, RTX PRO
6000) and today's open-model presets, and the EFA layout read per network card from the data."""

import json
import re

import pytest

from aidc.cli import main
from aidc.sizing.serve import Architecture
from components.catalog import catalog
from components.catalog.model import Instance
from components.formulas import memory
from components.gpu_pool.fabric import network_interfaces
from components.spec.pools import EfaInterface, efa_layout

CAT = catalog()
NEW_TYPES = ("p6-b300.48xlarge", "p5.4xlarge", "g7e.2xlarge", "g7e.4xlarge", "g7e.8xlarge",
             "g7e.12xlarge", "g7e.24xlarge", "g7e.48xlarge")
NEW_GPUS = ("B300", "GB200", "RTX-PRO-6000")
NEW_PRESETS = ("llama-3.3-70b", "llama-4-scout", "llama-4-maverick", "deepseek-r1", "qwen3-32b",
               "qwen3-235b-a22b", "gpt-oss-20b", "gpt-oss-120b")


def version(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v))


@pytest.mark.parametrize("name", NEW_TYPES)
def test_new_instance_type_is_whole_and_cross_referenced(name):
    inst = CAT.instance(name)
    gpu = CAT.gpus[inst.gpu]  # the GPU exists
    assert gpu.generation == "blackwell" or inst.gpu == "H100"
    assert set(inst.ami_families) <= set(CAT.recipe.amis)
    assert inst.price is not None and inst.price.on_demand_usd_per_hour > 0
    assert inst.price.source.url.startswith("https://") and inst.price.source.date.year >= 2026
    assert all(0 <= c < inst.network_cards for c in inst.efa_network_cards)
    assert len(inst.efa_network_cards) == inst.efa_interfaces
    # Every EFA type the plugin must schedule on has a chart floor, and the pin meets it.
    if inst.efa_interfaces:
        floors = [c for c in CAT.recipe.constraints
                  if c.when.get("family") == inst.family or c.when.get("instanceType") == name]
        assert floors, f"no EFA device plugin floor for {name}"
        pinned = CAT.recipe.charts["aws-efa-k8s-device-plugin"].version
        assert all(version(pinned) >= version(c.require["aws-efa-k8s-device-plugin"]) for c in floors)


@pytest.mark.parametrize("key", NEW_GPUS)
def test_new_gpu_has_memory_flops_power_and_a_dated_source(key):
    gpu = CAT.gpus[key]
    assert gpu.memory_gib > 0 and gpu.memory_bandwidth_gbps > 0 and gpu.board_power_w > 0
    assert {"bf16", "fp8", "fp4"} <= set(gpu.dense_tflops)
    assert gpu.dense_tflops["fp8"] == 2 * gpu.dense_tflops["bf16"]  # dense, not the sparse datasheet figure
    assert gpu.source.url.startswith("https://") and gpu.source.note


def test_new_shapes_match_the_sources_read():
    b300 = CAT.instance("p6-b300.48xlarge")
    assert (b300.gpu_count, b300.vcpu, b300.memory_gib, b300.network_cards, b300.efa_interfaces) == (8, 192, 4096, 17, 16)
    assert CAT.gpus["B300"].memory_gib == pytest.approx(275040 / 1024, abs=0.05)  # EC2's MiB per GPU
    g7e = CAT.instance("g7e.48xlarge")
    assert (g7e.gpu_count, g7e.network_cards, g7e.efa_interfaces, g7e.network_gbps) == (8, 4, 4, 1600)
    assert [CAT.instance(f"g7e.{s}").efa_interfaces for s in ("2xlarge", "4xlarge", "8xlarge", "12xlarge", "24xlarge")] \
        == [0, 0, 1, 1, 2]
    small = CAT.instance("p5.4xlarge")
    assert (small.gpu, small.gpu_count, small.efa_interfaces, small.price.on_demand_usd_per_hour) == ("H100", 1, 1, 6.88)
    assert CAT.instance("p6-b300.48xlarge").price.on_demand_usd_per_hour == 142.416
    assert CAT.extra["training"]["networkTopology"]["layers"]["p6-b300"] == 4


def test_vpc_cni_limits_of_the_new_types():
    limits = CAT.vpc_cni.limits
    assert limits["p6-b300.48xlarge"] == (4, 50)
    assert limits["p5.4xlarge"] == (4, 30)
    assert [limits[f"g7e.{s}"] for s in ("2xlarge", "12xlarge", "48xlarge")] == [(4, 64), (10, 64), (10, 64)]


def _legacy_layout(inst: Instance, provisioner: str) -> tuple[EfaInterface, ...]:
    """The layout aidc shipped before EFA cards came from data: card 0 first, one per card."""
    if inst.efa_interfaces == 0:
        return ()
    rest = "efa-only" if inst.efa_only and provisioner == "managed" else "efa"
    return (EfaInterface(0, 0, "efa"),) + tuple(EfaInterface(c, 1, rest) for c in range(1, inst.efa_interfaces))


@pytest.mark.parametrize("name", [n for n, i in CAT.instances.items() if i.efa_interfaces and not i.efa_cards])
@pytest.mark.parametrize("provisioner", ["managed", "karpenter"])
def test_layouts_without_efa_cards_are_unchanged(name, provisioner):
    inst = CAT.instance(name)
    if provisioner == "karpenter" and inst.efa_only:
        # aidc's EC2NodeClass lists the interfaces: efa-only at device 1 on every EFA card
        assert efa_layout(inst, provisioner) == tuple(
            EfaInterface(c, 1, "efa-only") for c in range(inst.efa_interfaces))
    else:
        assert efa_layout(inst, provisioner) == _legacy_layout(inst, provisioner)


def test_p6_b300_carries_efa_on_cards_1_to_16_and_an_ena_primary():
    inst = CAT.instance("p6-b300.48xlarge")
    layout = efa_layout(inst, "managed")
    assert [i.network_card for i in layout] == list(range(1, 17))
    assert {(i.device_index, i.interface_type) for i in layout} == {(1, "efa-only")}

    class Pool:
        efa_interfaces = layout

    nics = network_interfaces(Pool(), ["sg-cluster", "sg-efa"])
    assert len(nics) == 17
    assert nics[0] == {"network_card_index": 0, "device_index": 0, "delete_on_termination": "true",
                       "security_groups": ["sg-cluster", "sg-efa"]}  # plain ENA: no interface_type
    assert [n["network_card_index"] for n in nics[1:]] == list(range(1, 17))


def test_p5_launch_template_gets_no_extra_primary():
    layout = efa_layout(CAT.instance("p5.48xlarge"), "managed")

    class Pool:
        efa_interfaces = layout

    nics = network_interfaces(Pool(), ["sg"])
    assert len(nics) == 32 and nics[0]["interface_type"] == "efa"


def test_efa_cards_must_match_the_interface_count_and_the_cards():
    shape = CAT.instance("p6-b300.48xlarge").model_dump(by_alias=True)
    with pytest.raises(ValueError, match="efaCards"):
        Instance.model_validate({**shape, "efaCards": list(range(1, 16))})
    with pytest.raises(ValueError, match="efaCards"):
        Instance.model_validate({**shape, "efaCards": list(range(2, 18))})


def test_karpenter_efa_pool_on_p6_b300_lists_its_interfaces():
    from components.gpu_pool.karpenter import ec2_node_class
    from components.spec import load_spec
    spec = load_spec({"aws:region": "us-east-1", "aidc:environment": "dev",
                      "aidc:network": {"cidr": "10.40.0.0/16", "availabilityZones": 2},
                      "aidc:cluster": {"kubernetesVersion": "1.35"},
                      "aidc:gpuPools": [{"name": "b300", "instanceType": "p6-b300.48xlarge",
                                         "provisioner": "karpenter", "capacity": {"type": "onDemand"},
                                         "size": {"min": 0, "max": 2}, "efa": True}]})
    pool = spec.pools["b300"]
    assert pool.efa_devices == 16
    nics = ec2_node_class(pool, CAT, "1.35", role="r", subnet_ids=["s"], security_group_ids=["g"],
                          tags={})["spec"]["networkInterfaces"]
    assert nics[0] == {"networkCardIndex": 0, "deviceIndex": 0, "interfaceType": "interface"}
    assert [(n["networkCardIndex"], n["deviceIndex"], n["interfaceType"]) for n in nics[1:]] == [
        (c, 1, "efa-only") for c in range(1, 17)]


@pytest.mark.parametrize("key", NEW_PRESETS)
def test_new_preset_has_its_architecture_and_source(key):
    m = CAT.models[key]
    assert m.source.url.startswith("https://huggingface.co/") and m.source.url.endswith("/config.json")
    assert m.source.date.year >= 2026 and m.source.note
    assert m.training_seq_len <= m.max_context
    assert m.attention_heads % m.kv_heads == 0
    if m.moe:
        assert m.active_params < m.params / 4  # every new MoE activates a small share


def test_moe_and_precision_facts_of_the_new_presets():
    m = CAT.models
    assert (m["llama-4-scout"].experts, m["llama-4-maverick"].experts, m["qwen3-235b-a22b"].experts_per_token) == (16, 128, 8)
    assert (m["gpt-oss-120b"].experts, m["gpt-oss-20b"].experts, m["gpt-oss-120b"].experts_per_token) == (128, 32, 4)
    assert m["gpt-oss-120b"].native_precision == m["gpt-oss-20b"].native_precision == "mxfp4"
    assert memory.WEIGHT_BYTES["mxfp4"] == 4.25 / 8
    # 116.83B weights at 4.25 bits: ~62 GB, near the published ~60.8 GiB checkpoint.
    assert memory.weight_bytes(m["gpt-oss-120b"].params / 1e9, "mxfp4") / 2**30 == pytest.approx(57.8, abs=0.1)


def test_deepseek_r1_kv_per_token_is_the_mla_latent():
    arch = Architecture.of_preset(CAT.models["deepseek-r1"])
    attention = memory.Attention(arch.layers, arch.kv_heads, arch.head_dim, arch.kv_latent_dim)
    per_token = memory.attention_kv_bytes_per_token(attention, memory.KV_BYTES["bf16"])
    assert per_token == 61 * 576 * 2 == 70272  # ~69 KiB at bf16, not the 2 x 61 x 128 x 128 x 2 = 3.8 MiB of MHA
    assert CAT.models["deepseek-r1"].kv_latent_dim == CAT.models["deepseek-v3"].kv_latent_dim


def test_every_ec2_type_boots_amis_of_one_architecture():
    for name, inst in CAT.instances.items():
        arches = {CAT.recipe.amis[f].arch for f in inst.ami_families}
        assert len(arches) <= 1, name
    arm = CAT.recipe.amis["al2023-nvidia-arm64"]
    assert (arm.ami_type, arm.arch, arm.os) == ("AL2023_ARM_64_NVIDIA", "arm64", "al2023")
    assert arm.release_versions == CAT.recipe.amis["al2023-nvidia"].release_versions  # one AL2023 release


def test_karpenter_arch_requirement_follows_the_pools_ami():
    from components.gpu_pool.karpenter import node_pool
    from components.spec.gpu_pools import GpuPoolSpec
    from components.spec.pools import resolve_pool

    def arch(ami_family):
        spec = GpuPoolSpec.model_validate({"name": "pool", "instanceType": "g6e.12xlarge", "provisioner": "karpenter",
                                           "size": {"min": 0, "max": 1}, "amiFamily": ami_family})
        reqs = node_pool(resolve_pool(spec, CAT))["spec"]["template"]["spec"]["requirements"]
        return next(r["values"] for r in reqs if r["key"] == "kubernetes.io/arch")

    assert arch("al2023-nvidia") == ["amd64"]
    assert arch("al2023-nvidia-arm64") == ["arm64"]


def test_blackwell_mig_needs_a_gpu_operator_that_knows_its_profiles():
    floors = {c.id: c for c in CAT.recipe.constraints}
    assert floors["mig-b300"].when == {"gpu": "B300", "mig": "true"}
    assert floors["mig-b300"].require == {"gpu-operator": "v25.10.0"}
    assert version(CAT.recipe.charts["gpu-operator"].version) >= version("v25.10.0")


@pytest.mark.parametrize("key", NEW_PRESETS)
def test_size_serve_answers_for_every_new_preset(capsys, key):
    code = main(["size", "serve", "--preset", key, "--context", "8192", "--concurrency", "16",
                 "--instance-type", "p6-b300.48xlarge", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err  # 8 x B300 (2.1 TiB) holds each of them at its default precision
    plan = json.loads(out)
    assert plan["model"] == CAT.models[key].name
    assert plan["precision"] == (CAT.models[key].native_precision or "bf16")
    # The same models on one H100 either fit or say why not, with exit 2 and the types that would.
    code = main(["size", "serve", "--preset", key, "--context", "8192", "--concurrency", "16",
                 "--instance-type", "p5.4xlarge"])
    out, err = capsys.readouterr()
    assert code == 0 or (code == 2 and "does not fit" in err and "instance types that fit" in err), err
