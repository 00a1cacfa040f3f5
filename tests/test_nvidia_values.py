"""Helm values of the NVIDIA stack per AMI family, pinned by golden files.

Regenerate after an intended change with:
    AIDC_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_nvidia_values.py
and review the diff of tests/golden/nvidia/."""

import os
from pathlib import Path

import pytest
import yaml

from components.catalog import catalog
from components.nvidia.values import efa_plugin_values, gpu_operator_values, network_operator_values, nfd_values
from components.spec import GpuPoolSpec

GOLDEN = Path(__file__).parent / "golden" / "nvidia"
CAT = catalog()


def check_golden(name: str, values: dict) -> None:
    path = GOLDEN / f"{name}.yaml"
    text = yaml.safe_dump(values, sort_keys=True, default_flow_style=False)
    if os.environ.get("AIDC_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with AIDC_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from {path}"


def pool(**kw):
    return GpuPoolSpec.model_validate({"name": "train", "instanceType": "p5.48xlarge", "efa": True, **kw})


@pytest.mark.parametrize("family", ["al2023-nvidia", "bottlerocket-nvidia"])
def test_gpu_operator_values_per_ami_family(family):
    ami = CAT.recipe.amis[family]
    values = gpu_operator_values(ami, [pool(amiFamily=family)], existing_cluster=False)
    # Both EKS accelerated images ship the driver and toolkit: the operator must not install a second.
    assert values["driver"]["enabled"] is False and values["toolkit"]["enabled"] is False
    assert values["dcgmExporter"]["enabled"] is True
    assert values["nfd"]["enabled"] is False  # the separately pinned NFD chart serves it
    # Bottlerocket brings its own device plugin; AL2023 relies on the operator's.
    assert values["devicePlugin"]["enabled"] is (family == "al2023-nvidia")
    assert values["daemonsets"]["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists",
                                                    "effect": "NoSchedule"}]
    check_golden(f"gpu-operator-{family}", values)


def test_gpu_operator_values_on_prem_install_the_driver():
    values = gpu_operator_values(None, [], existing_cluster=True)
    assert values["driver"]["enabled"] is True and values["toolkit"]["enabled"] is True
    assert values["driver"]["upgradePolicy"] == {"autoUpgrade": False}
    check_golden("gpu-operator-existing-onprem", values)


def test_gpu_operator_values_standard_ami_needs_the_driver():
    values = gpu_operator_values(CAT.recipe.amis["al2023-standard"], [pool()], existing_cluster=False)
    assert values["driver"]["enabled"] is True and values["toolkit"]["enabled"] is True


def test_gpu_operator_time_slicing_for_dev():
    sliced = GpuPoolSpec.model_validate({"name": "dev-l4", "instanceType": "g6.xlarge",
                                         "timeSlicing": {"replicas": 4}})
    values = gpu_operator_values(CAT.recipe.amis["al2023-nvidia"], [sliced], existing_cluster=False)
    config = values["devicePlugin"]["config"]
    assert config["create"] is True and config["name"] == "aidc-device-plugin-config"
    sharing = yaml.safe_load(config["data"]["dev-l4"])["sharing"]["timeSlicing"]
    assert sharing["resources"] == [{"name": "nvidia.com/gpu", "replicas": 4}]
    assert values["mig"]["strategy"] == "none" and values["migManager"]["enabled"] is False
    check_golden("gpu-operator-al2023-nvidia-time-slicing", values)


def test_mixed_families_keep_the_operator_device_plugin():
    amis = [CAT.recipe.amis["al2023-nvidia"], CAT.recipe.amis["bottlerocket-nvidia"]]
    assert gpu_operator_values(amis, [pool()], existing_cluster=False)["devicePlugin"]["enabled"] is True


def test_gpu_operator_mig():
    values = gpu_operator_values(CAT.recipe.amis["al2023-nvidia"],
                                 [pool(mig={"strategy": "mixed", "config": "all-balanced"})], existing_cluster=False)
    assert values["mig"] == {"strategy": "mixed"} and values["migManager"] == {"enabled": True}
    assert "config" not in values["devicePlugin"]


def test_efa_plugin_only_on_efa_nodes():
    values = efa_plugin_values(["p5.48xlarge", "p5.48xlarge", "p4d.24xlarge"])
    assert values["supportedInstanceLabels"] == {"keys": ["node.kubernetes.io/instance-type"],
                                                 "values": ["p4d.24xlarge", "p5.48xlarge"]}
    assert values["nodeSelector"] == {"aidc.io/efa": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in values["tolerations"]
    check_golden("aws-efa-k8s-device-plugin", values)


def test_nfd_and_network_operator_values():
    nfd = nfd_values()
    assert "0302" in nfd["worker"]["config"]["sources"]["pci"]["deviceClassWhitelist"]
    check_golden("node-feature-discovery", nfd)
    net = network_operator_values()
    assert net["nfd"]["enabled"] is False
    check_golden("network-operator", net)


def test_namespaces_privileged_only_where_the_catalog_says():
    for key in ("gpu-operator", "node-feature-discovery", "aws-efa-k8s-device-plugin", "network-operator"):
        assert CAT.chart(key).privileged, key
    assert not CAT.chart("karpenter").privileged


def test_gpu_operator_keys_match_chart_v26_7_0():
    """Chart v26.7.0 dropped operator.defaultRuntime (the operator detects the runtime) and
    turned the exporter's own ServiceMonitor on; aidc's Observability brings its own, so the
    operator's must be off or every GPU series is scraped twice."""
    ami = CAT.recipe.amis["al2023-nvidia"]
    values = gpu_operator_values(ami, [pool()], existing_cluster=False, dcgm_metrics="aidc-dcgm-metrics",
                                 own_service_monitor=True)
    assert "operator" not in values
    assert values["dcgmExporter"]["serviceMonitor"] == {"enabled": False}
    assert values["dcgmExporter"]["config"] == {"name": "aidc-dcgm-metrics"}
    # Without aidc's monitoring the chart's default (a ServiceMonitor for the site's Prometheus) stays.
    assert "serviceMonitor" not in gpu_operator_values(ami, [pool()], existing_cluster=False)["dcgmExporter"]


def test_network_operator_keeps_the_charts_control_plane_toleration():
    tolerations = network_operator_values()["operator"]["tolerations"]
    assert {"key": "node-role.kubernetes.io/control-plane", "operator": "Equal", "value": "",
            "effect": "NoSchedule"} in tolerations
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in tolerations
