"""`aidc plan STACK --diagram FILE`: the datacenter as Mermaid, derived from plan and spec."""

from __future__ import annotations

import re

from aidc.cli import main
from aidc.diagram import datacenter
from components.catalog import catalog


def test_prod_diagram_names_network_cluster_and_pools(planned):
    p = planned("prod")
    text = datacenter(p.plan, p.spec, catalog())
    assert text.startswith("flowchart TB")
    assert "VPC 10.40.0.0/16" in text
    assert "6 subnets (3 private, 3 public) in 3 AZs" in text and "3 NAT gateways" in text
    assert f"EKS aidc-prod · Kubernetes {p.spec.kubernetes_version} · private API" in text
    # 16 p5.48xlarge × 8 H100 = 128 GPUs on 32 EFA interfaces per node.
    assert "up to 128 × NVIDIA H100" in text and "EFA 32 interfaces · 3200 Gbps" in text
    assert "up to 24 × NVIDIA L40S" in text  # 6 × g6e.12xlarge × 4
    assert "n_aidc_network_Network --> n_aidc_cluster_Cluster" in text
    # The pools sit in the component that builds them (found by their names), not twice.
    pools = text.split('subgraph n_aidc_gpu_pool_GpuNodePool', 1)[1].split("end", 1)[0]
    assert "train-h100 (training)" in pools and "node group aidc-prod-train-h100" not in text


def test_every_node_id_is_unique_and_labels_are_quoted(planned):
    p = planned("prod")
    text = datacenter(p.plan, p.spec, catalog())
    ids = re.findall(r"^\s+(n_[A-Za-z0-9_]+)\[", text, re.M)
    assert len(ids) == len(set(ids)) > 8


def test_diagram_counts_what_it_does_not_summarise(planned):
    p = planned("dev")
    text = datacenter(p.plan, p.spec, catalog())
    assert re.search(r'\d+ more: RolePolicyAttachment ×\d', text)


def test_existing_cluster_is_drawn(planned):
    p = planned("onprem")
    text = datacenter(p.plan, p.spec, catalog())
    assert "existing Kubernetes cluster · 1.33" in text and "n_existing --> n_aidc_nvidia_NvidiaStack" in text
    # The pool's declared fabric (tcp by default), not the shape's reference InfiniBand cabling.
    assert "tcp · 8 × 400 Gbps<br/>the site's servers" in text


def test_cli_writes_the_diagram_page(capsys, tmp_path):
    target = tmp_path / "d.md"
    assert main(["plan", "prod", "--diagram", str(target)]) == 0
    page = target.read_text()
    assert page.startswith("# Datacenter: stack prod") and "```mermaid\nflowchart TB" in page
    assert f"diagram written to {target}" in capsys.readouterr().out
