"""Plan-level checks of the shipped stacks: the prod training pool wired to its Capacity Block
with all of its EFA interfaces, the NVIDIA stack pinned, elastic pools on Karpenter."""

import yaml

from aidc.engine.mocks import _digest
from components.catalog import catalog
from tests.conftest import only

CAT = catalog()
LT = "aws:ec2/launchTemplate:LaunchTemplate"
NG = "aws:eks/nodeGroup:NodeGroup"
PG = "aws:ec2/placementGroup:PlacementGroup"
RELEASE = "kubernetes:helm.sh/v3:Release"


def releases(plan):
    return {r.inputs["name"]: r for r in plan.of_type(RELEASE)}


def test_prod_training_pool_on_its_capacity_block_with_every_efa_interface(plan_of, planned):
    plan = plan_of("prod")
    spec = planned("prod").spec
    train = spec.pool("train-h100")
    lt = only(plan.of_type(LT), "train-h100-lt")
    nics = lt.inputs["networkInterfaces"]
    assert len(nics) == 32 == CAT.instance("p5.48xlarge").efa_interfaces
    assert sorted(n["networkCardIndex"] for n in nics) == list(range(32))
    assert nics[0]["deviceIndex"] == 0 and nics[0]["interfaceType"] == "efa"
    assert all(n["deviceIndex"] == 1 for n in nics[1:])
    efa_sg = only(plan.of_type("aws:ec2/securityGroup:SecurityGroup"), "train-h100-efa")
    assert efa_sg.inputs["ingress"][0]["self"] is True and efa_sg.inputs["ingress"][0]["protocol"] == "-1"
    assert efa_sg.inputs["egress"][0]["self"] is True
    assert all(len(n["securityGroups"]) == 2 for n in nics)
    assert lt.inputs["instanceMarketOptions"] == {"marketType": "capacity-block"}
    assert lt.inputs["capacityReservationSpecification"] == {
        "capacityReservationTarget": {"capacityReservationId": train.capacity.reservation_id}}
    assert "placement" not in lt.inputs  # a Capacity Block brings its own placement
    assert not [r for r in plan.of_type(PG) if "train-h100" in r.name]
    assert lt.inputs["metadataOptions"]["httpTokens"] == "required"
    assert lt.inputs["blockDeviceMappings"][0]["ebs"] == {
        "volumeSize": 200, "volumeType": "gp3", "encrypted": "true", "deleteOnTermination": "true"}
    assert lt.inputs["userData"]  # NVMe RAID0 through nodeadm

    ng = only(plan.of_type(NG), "train-h100-ng")
    ami = CAT.recipe.amis["al2023-nvidia"]
    assert ng.inputs["capacityType"] == "CAPACITY_BLOCK"
    assert ng.inputs["amiType"] == ami.ami_type
    assert ng.inputs["releaseVersion"] == ami.release_versions[spec.kubernetes_version]
    assert ng.inputs["instanceTypes"] == ["p5.48xlarge"]
    assert ng.inputs["scalingConfig"] == {"minSize": 16, "maxSize": 16, "desiredSize": 16}
    assert len(ng.inputs["subnetIds"]) == 1  # one zone, one subnet
    assert ng.inputs["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert ng.inputs["labels"]["aidc.io/pool"] == "train-h100"
    assert ng.inputs["updateConfig"]["updateStrategy"] == "MINIMAL"
    assert plan.component_of(ng).startswith("aidc:gpu_pool:GpuNodePool")


def test_prod_subnet_is_the_pools_zone(plan_of):
    plan = plan_of("prod")
    ng = only(plan.of_type(NG), "train-h100-ng")
    subnet = only(plan.of_type("aws:ec2/subnet:Subnet"), "private-0")
    assert subnet.inputs["availabilityZone"] == "us-east-1a"
    # The offline engine ids a subnet by a digest of its type and name (aidc/engine/mocks.py).
    assert ng.inputs["subnetIds"] == [f"subnet-{_digest(subnet.type, subnet.name)}"]


def test_prod_nvidia_stack_pinned_in_privileged_namespaces(plan_of):
    plan = plan_of("prod")
    rel = releases(plan)
    for key in ("gpu-operator", "node-feature-discovery", "aws-efa-k8s-device-plugin", "karpenter"):
        assert rel[key].inputs["version"] == CAT.chart(key).version, key
        assert rel[key].inputs["namespace"] == CAT.chart(key).namespace
    assert "network-operator" not in rel
    op = rel["gpu-operator"].inputs["values"]
    assert op["driver"]["enabled"] is False and op["toolkit"]["enabled"] is False
    assert op["dcgmExporter"]["enabled"] is True
    # Observability's ServiceMonitor scrapes the exporter; the operator's own (chart default) is off.
    assert op["dcgmExporter"]["serviceMonitor"] == {"enabled": False}
    efa = rel["aws-efa-k8s-device-plugin"].inputs["values"]
    assert efa["supportedInstanceLabels"]["values"] == ["p5.48xlarge"]
    levels = {r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
              for r in plan.of_type("kubernetes:core/v1:Namespace")}
    for key in ("gpu-operator", "node-feature-discovery", "aws-efa-k8s-device-plugin", "karpenter"):
        chart = CAT.chart(key)
        assert levels[chart.namespace] == ("privileged" if chart.privileged else "restricted")


def test_prod_inference_pool_on_karpenter(plan_of):
    plan = plan_of("prod")
    np = only(plan.of_type("kubernetes:karpenter.sh/v1:NodePool"), "infer-l40s")
    nc = only(plan.of_type("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"), "infer-l40s")
    assert np.inputs["spec"]["disruption"]["consolidationPolicy"] == "WhenEmptyOrUnderutilized"
    assert len(nc.inputs["spec"]["subnetSelectorTerms"]) == 3  # no zone pinned: all private subnets
    assert not [r for r in plan.of_type(NG) if "infer-l40s" in r.name]
    queue = only(plan.of_type("aws:sqs/queue:Queue"))
    assert queue.inputs["sqsManagedSseEnabled"] is True
    assert len(plan.of_type("aws:cloudwatch/eventRule:EventRule")) == 4
    karpenter = releases(plan)["karpenter"]
    assert karpenter.inputs["values"]["settings"]["interruptionQueue"] == queue.inputs["name"]
    assert only(plan.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation"),
                "karpenter-controller").inputs["serviceAccount"] == "karpenter"


def test_staging_efa_pool_gets_a_cluster_placement_group(plan_of):
    plan = plan_of("staging")
    pg = only(plan.of_type(PG), "stage-l40s-pg")
    assert pg.inputs["strategy"] == "cluster"
    lt = only(plan.of_type(LT), "stage-l40s-lt")
    assert lt.inputs["placement"]["groupName"]
    assert len(lt.inputs["networkInterfaces"]) == CAT.instance("g6e.12xlarge").efa_interfaces
    assert only(plan.of_type(NG), "stage-l40s-ng").inputs["capacityType"] == "ON_DEMAND"


def test_dev_pool_is_spot_time_sliced_and_scales_to_zero(plan_of, planned):
    plan = plan_of("dev")
    np = only(plan.of_type("kubernetes:karpenter.sh/v1:NodePool"), "dev-l4")
    reqs = {r["key"]: r["values"] for r in np.inputs["spec"]["template"]["spec"]["requirements"]}
    assert reqs["karpenter.sh/capacity-type"] == ["spot"]
    assert np.inputs["spec"]["template"]["metadata"]["labels"]["nvidia.com/device-plugin.config"] == "dev-l4"
    assert not plan.of_type(NG) or all("dev-l4" not in r.name for r in plan.of_type(NG))
    op = releases(plan)["gpu-operator"].inputs["values"]
    data = yaml.safe_load(op["devicePlugin"]["config"]["data"]["dev-l4"])
    assert data["sharing"]["timeSlicing"]["resources"][0]["replicas"] == 4
    assert planned("dev").spec.pool("dev-l4").size.min == 0


def test_onprem_installs_drivers_and_no_aws(plan_of):
    plan = plan_of("onprem")
    assert not [r for r in plan.resources if r.type.startswith("aws:")]
    op = releases(plan)["gpu-operator"].inputs["values"]
    assert op["driver"]["enabled"] is True and op["toolkit"]["enabled"] is True
    assert "aws-efa-k8s-device-plugin" not in releases(plan)
