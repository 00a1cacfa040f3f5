"""SharedStorage in the shipped stacks' plans: the file system, the buckets, the drivers,
identities and volumes, per environment."""

import json

import kubernetes_validate
import pytest

from aidc.engine import plan_stack
from components.catalog import catalog
from components.spec import load_spec
from components.storage.figures import storage_line
from components.storage.volumes import existing_volumes, lustre_volumes, models_volumes
from tests.conftest import ROOT, only

FS = "aws:fsx/lustreFileSystem:LustreFileSystem"
BUCKET = "aws:s3/bucket:Bucket"
KUBE_VERSION = "1.33.0"


def storage(plan):
    return [r for r in plan.resources if plan.component_of(r) == "aidc:storage:SharedStorage"]


def of(resources, typ):
    return [r for r in resources if r.type == typ]


@pytest.mark.parametrize("stack,capacity,tier,backups", [
    ("dev", 1200, 125, 0), ("staging", 1200, 250, 7), ("prod", 7200, 1000, 30)])
def test_lustre_per_environment(plan_of, stack, capacity, tier, backups):
    fs = only(of(storage(plan_of(stack)), FS)).inputs
    assert (fs["deploymentType"], fs["storageType"]) == ("PERSISTENT_2", "SSD")
    assert (fs["storageCapacity"], fs["perUnitStorageThroughput"]) == (capacity, tier)
    assert fs["dataCompressionType"] == "LZ4"
    assert fs["fileSystemTypeVersion"] == "2.15"
    assert fs["metadataConfiguration"] == {"mode": "AUTOMATIC"}
    assert fs["automaticBackupRetentionDays"] == backups
    assert fs.get("dailyAutomaticBackupStartTime") == ("03:00" if backups else None)
    assert fs["skipFinalBackup"] is (stack == "dev")
    assert fs["kmsKeyId"].startswith("arn:aws:kms:us-east-1:")


def test_lustre_uses_its_own_customer_managed_key(plan_of):
    res = storage(plan_of("prod"))
    fs = only(of(res, FS))
    key = only(of(res, "aws:kms/key:Key"), "-lustre")
    assert key.urn in fs.dependencies
    assert key.inputs["enableKeyRotation"] is True


@pytest.mark.parametrize("stack", ["prod", "staging", "dev"])
def test_lustre_sits_in_the_training_pool_subnet(plan_of, stack):
    # prod lists zone names (index 0 = us-east-1a); staging has a count (us-east-1a = 0); dev is unpinned.
    plan = plan_of(stack)
    fs = only(of(storage(plan), FS))
    rta = only(of(plan.resources, "aws:ec2/routeTableAssociation:RouteTableAssociation"), "-private-0-rta")
    assert fs.inputs["subnetIds"] == rta.inputs["subnetId"]


def test_pinned_zone_with_a_zone_count(tmp_path):
    # Zones by count (the region's first three, by name) and a pool pinned to the second.
    text = (ROOT / "stacks" / "Pulumi.staging.yaml").read_text().replace(
        "availabilityZone: us-east-1a", "availabilityZone: us-east-1b")
    path = tmp_path / "Pulumi.zoned.yaml"
    path.write_text(text)
    plan = plan_stack(str(path), ROOT).plan
    fs = only(of(storage(plan), FS))
    rta = only(of(plan.resources, "aws:ec2/routeTableAssociation:RouteTableAssociation"), "-private-1-rta")
    assert fs.inputs["subnetIds"] == rta.inputs["subnetId"]


def test_lustre_security_group_opens_lustre_ports_to_the_vpc_only(plan_of):
    sg = only(of(storage(plan_of("prod")), "aws:ec2/securityGroup:SecurityGroup")).inputs
    from_vpc = {(r["fromPort"], r["toPort"]) for r in sg["ingress"] if r.get("cidrBlocks") == ["10.40.0.0/16"]}
    assert from_vpc == {(988, 988), (1018, 1023)}
    assert all(r["protocol"] == "tcp" for r in sg["ingress"] + sg["egress"])
    assert all("0.0.0.0/0" not in r.get("cidrBlocks", []) for r in sg["ingress"] + sg["egress"])


@pytest.mark.parametrize("stack,expiry", [("dev", 3), ("staging", 7), ("prod", 30)])
def test_buckets_are_locked_down(plan_of, stack, expiry):
    res = storage(plan_of(stack))
    buckets = {r.name.rsplit("-", 1)[1]: r for r in of(res, BUCKET) if not r.name.endswith("-access-logs")}
    assert set(buckets) == {"datasets", "checkpoints", "models"}
    key = only(of(res, "aws:kms/key:Key"), "-buckets")
    for kind, bucket in buckets.items():
        name = bucket.name
        assert bucket.inputs["forceDestroy"] is False
        pab = only(of(res, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"), name).inputs
        assert all(pab[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                             "restrictPublicBuckets"))
        sse = only(of(res, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"),
                   name)
        rule = sse.inputs["rules"][0]
        assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
        assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"].startswith("arn:aws:kms:")
        assert key.urn in sse.dependencies
        assert rule["bucketKeyEnabled"] is True
        versioning = only(of(res, "aws:s3/bucketVersioning:BucketVersioning"), name).inputs
        assert versioning["versioningConfiguration"]["status"] == "Enabled"
        ownership = only(of(res, "aws:s3/bucketOwnershipControls:BucketOwnershipControls"), name).inputs
        assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"
        policy = json.loads(only(of(res, "aws:s3/bucketPolicy:BucketPolicy"), name).inputs["policy"])
        (deny,) = policy["Statement"]
        assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        arn = f"arn:aws:s3:::{name}"  # the offline engine's bucket name is the resource name
        assert deny["Resource"] == [arn, f"{arn}/*"]
        rules = {r["id"]: r for r in only(of(res, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"),
                                         name).inputs["rules"]}
        assert rules["abort-incomplete-uploads"]["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 7
        if kind == "checkpoints":
            assert rules["expire-old-checkpoint-versions"]["noncurrentVersionExpiration"]["noncurrentDays"] == expiry
        else:
            assert "expire-old-checkpoint-versions" not in rules  # datasets and models keep every version


@pytest.mark.parametrize("stack,days", [("dev", 90), ("prod", 365)])
def test_data_buckets_log_access_to_a_locked_down_bucket(plan_of, stack, days):
    res = storage(plan_of(stack))
    logs = only(of(res, BUCKET), "-access-logs")
    name = logs.name
    arn = f"arn:aws:s3:::{name}"
    targets = {r.name: r.inputs for r in of(res, "aws:s3/bucketLogging:BucketLogging")}
    assert {n.rsplit("-", 1)[1] for n in targets} == {"datasets", "checkpoints", "models"}
    for n, t in targets.items():
        # The mock engine gives the bucket id "<name>-<hash>".
        assert t["targetBucket"].startswith(f"{name}-") and t["targetPrefix"] == n.rsplit("-", 1)[1] + "/"
    pab = only(of(res, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"), name).inputs
    assert all(pab[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                         "restrictPublicBuckets"))
    policy = {s["Sid"]: s for s in json.loads(only(of(res, "aws:s3/bucketPolicy:BucketPolicy"), name).inputs["policy"])[
        "Statement"]}
    put = policy["S3ServerAccessLogsDelivery"]
    assert put["Principal"] == {"Service": "logging.s3.amazonaws.com"} and put["Action"] == "s3:PutObject"
    assert put["Resource"] == f"{arn}/*"
    assert put["Condition"]["ArnLike"]["aws:SourceArn"] == sorted(f"arn:aws:s3:::{stack_name}" for stack_name in
                                                                  (f"aidc-{stack}-{k}" for k in
                                                                   ("datasets", "checkpoints", "models")))
    assert put["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
    assert policy["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    (rule,) = only(of(res, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"), name).inputs["rules"]
    assert rule["expiration"] == {"days": days}
    sse = only(of(res, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"),
               name).inputs["rules"][0]
    assert sse["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    assert only(of(res, "aws:s3/bucketOwnershipControls:BucketOwnershipControls"), name).inputs["rule"] == {
        "objectOwnership": "BucketOwnerEnforced"}
    assert logs.protect is (stack == "prod")


def test_data_repository_associations(plan_of):
    res = storage(plan_of("prod"))
    dras = {r.name: r.inputs for r in of(res, "aws:fsx/dataRepositoryAssociation:DataRepositoryAssociation")}
    events = ["NEW", "CHANGED", "DELETED"]
    datasets = dras["aidc-prod-datasets"]
    assert datasets["dataRepositoryPath"] == "s3://aidc-prod-datasets/"
    assert datasets["fileSystemPath"] == "/datasets"
    assert datasets["s3"] == {"autoImportPolicy": {"events": events}, "autoExportPolicy": {"events": events}}
    assert datasets["batchImportMetaDataOnCreate"] is True
    checkpoints = dras["aidc-prod-checkpoints"]
    assert checkpoints["dataRepositoryPath"] == "s3://aidc-prod-checkpoints/"
    assert checkpoints["s3"] == {"autoExportPolicy": {"events": events}}
    assert all(d["deleteDataInFilesystem"] is False for d in dras.values())
    assert all(d["fileSystemId"] == datasets["fileSystemId"] for d in dras.values())


@pytest.mark.parametrize("stack,protected", [("prod", True), ("staging", False), ("dev", False)])
def test_what_holds_data_is_protected_in_prod(planned, plan_of, stack, protected):
    res = storage(plan_of(stack))
    holders = of(res, FS) + of(res, BUCKET) + of(res, "aws:kms/key:Key") + of(res, "kubernetes:core/v1:PersistentVolume")
    st = planned(stack).spec.storage
    # file system, 3 buckets and the access-log bucket, 2 keys, one volume per claim (dev mounts no models)
    assert len(holders) == 7 + len(st.namespaces) + len(st.model_namespaces)
    for r in holders:
        assert (r.protect, r.retain_on_delete) == (protected, protected), r.urn
        if r.type == "aws:kms/key:Key":
            assert r.inputs["deletionWindowInDays"] == 30


def test_iam_names_only_this_stacks_buckets_and_key(plan_of):
    res = storage(plan_of("prod"))
    policies = of(res, "aws:iam/rolePolicy:RolePolicy")
    assert len(policies) == 1  # the Mountpoint driver's; the FSx driver needs no AWS API for static volumes
    doc = json.loads(policies[0].inputs["policy"])
    resources = {r for s in doc["Statement"] for r in s["Resource"]}
    key_arns = {r for r in resources if r.startswith("arn:aws:kms:")}
    assert resources - key_arns == {"arn:aws:s3:::aidc-prod-models", "arn:aws:s3:::aidc-prod-models/*"}
    assert len(key_arns) == 1 and not any("*" in a for a in key_arns)
    actions = {a for s in doc["Statement"] for a in s["Action"]}
    assert actions == {"s3:ListBucket", "s3:GetObject", "kms:Decrypt"}
    # The buckets' key: the account administers it; FSx's role for this file system may use it
    # only through S3, only for the two linked buckets.
    key = json.loads(only(of(res, "aws:kms/key:Key"), "-buckets").inputs["policy"])
    fsx = next(s for s in key["Statement"] if s["Sid"] == "FsxDataRepositoryThroughS3")
    fs_id = of(res, "aws:fsx/dataRepositoryAssociation:DataRepositoryAssociation")[0].inputs["fileSystemId"]
    assert fsx["Condition"]["StringEquals"] == {
        "aws:PrincipalArn": "arn:aws:iam::123456789012:role/aws-service-role/s3.data-source.lustre.fsx.amazonaws.com/"
                            f"AWSServiceRoleForFSxS3Access_{fs_id}",
        "kms:CallerAccount": "123456789012", "kms:ViaService": "s3.us-east-1.amazonaws.com"}
    assert fsx["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"] == [
        "arn:aws:s3:::aidc-prod-datasets", "arn:aws:s3:::aidc-prod-datasets/*",
        "arn:aws:s3:::aidc-prod-checkpoints", "arn:aws:s3:::aidc-prod-checkpoints/*"]


def test_csi_drivers_are_pinned_add_ons(plan_of, planned):
    addons = {r.inputs["addonName"]: r.inputs for r in of(storage(plan_of("prod")), "aws:eks/addon:Addon")}
    pinned = catalog().recipe.kubernetes_versions[planned("prod").spec.kubernetes_version].addons
    assert set(addons) == {"aws-fsx-csi-driver", "aws-mountpoint-s3-csi-driver"}
    for name, inputs in addons.items():
        assert inputs["addonVersion"] == pinned[name].version
    (assoc,) = addons["aws-mountpoint-s3-csi-driver"]["podIdentityAssociations"]
    assert assoc["serviceAccount"] == "s3-csi-driver-sa"
    assert "podIdentityAssociations" not in addons["aws-fsx-csi-driver"]


def kube_objects(plan):
    return [{k: r.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}
            for r in storage(plan) if r.type in ("kubernetes:core/v1:PersistentVolume",
                                                 "kubernetes:core/v1:PersistentVolumeClaim")]


@pytest.mark.parametrize("stack", ["dev", "staging", "prod", "onprem"])
def test_volumes_validate_against_the_kubernetes_schema(planned, stack):
    objs = kube_objects(planned(stack).plan)
    assert objs
    # The floor aidc documents, and the stack's own version (the catalog's default on EKS).
    versions = {KUBE_VERSION, f"{planned(stack).spec.kubernetes_version}.0"}
    for obj in objs:
        for version in sorted(versions):
            kubernetes_validate.validate(obj, version, strict=True)


def test_pure_volume_builders_validate_for_every_source():
    objs = [*lustre_volumes("aidc-x", "training", 2400, "fs-0123456789abcdef0", "fs.example", "abcdefgh"),
            *models_volumes("aidc-x", "inference", "acme-models", "us-east-1"),
            *existing_volumes("aidc-x", "t", request_gib=100, storage_class="cephfs"),
            *existing_volumes("aidc-x", "t", request_gib=100, nfs=("10.0.0.5", "/export/ml")),
            *existing_volumes("aidc-x", "t", request_gib=100, lustre=("lustre.dc1", "ml"))]
    assert len(objs) == 9
    for obj in objs:
        kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)


def test_each_claim_binds_its_own_volume(plan_of):
    objs = kube_objects(plan_of("prod"))
    pvs = {o["metadata"]["name"]: o for o in objs if o["kind"] == "PersistentVolume"}
    pvcs = [o for o in objs if o["kind"] == "PersistentVolumeClaim"]
    # Lustre in every training team namespace; models for inference and two of the teams.
    assert {(c["metadata"]["namespace"], c["metadata"]["name"]) for c in pvcs} == {
        ("research", "shared-lustre"), ("applied", "shared-lustre"), ("platform", "shared-lustre"),
        ("inference", "models"), ("research", "models"), ("applied", "models")}
    for claim in pvcs:
        pv = pvs[claim["spec"]["volumeName"]]
        assert pv["spec"]["claimRef"] == {"namespace": claim["metadata"]["namespace"],
                                          "name": claim["metadata"]["name"]}
        assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
        assert claim["spec"]["storageClassName"] == pv["spec"]["storageClassName"] == ""
    lustre = pvs["aidc-prod-lustre-research"]["spec"]
    assert lustre["capacity"]["storage"] == "7200Gi"
    assert lustre["csi"]["driver"] == "fsx.csi.aws.com"
    assert lustre["csi"]["volumeAttributes"]["dnsname"].endswith(".fsx.us-east-1.amazonaws.com")
    models = pvs["aidc-prod-models-inference"]["spec"]
    assert models["accessModes"] == ["ReadOnlyMany"]
    assert "read-only" in models["mountOptions"]
    assert models["csi"]["volumeAttributes"]["bucketName"] == "aidc-prod-models"


def test_onprem_claims_the_existing_class_and_creates_nothing_on_aws(plan_of):
    plan = plan_of("onprem")
    assert not [r for r in plan.resources if r.type.startswith("aws:")]
    claims = [o for o in kube_objects(plan) if o["kind"] == "PersistentVolumeClaim"]
    assert {c["metadata"]["namespace"] for c in claims} == {"research", "vision", "inference"}  # teams + server
    for claim in claims:
        assert claim["spec"]["storageClassName"] == "cephfs"
        assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
        assert claim["spec"]["resources"]["requests"]["storage"] == "10240Gi"


def test_plan_line_reports_the_figures(planned):
    # the month as `aidc cost` counts it: 7200 GB x $0.60 + one full backup copy x $0.05
    assert storage_line(planned("prod").spec) == (
        "storage: Lustre 7200 GiB at 1000 MB/s/TiB = 7.03 GB/s; 913 GiB checkpoint in 139 s; "
        "$4,680/month in us-east-1 with backups; backups 30 days; buckets datasets, checkpoints, models")
    # a Region without a Lustre rate in the catalog is said to be unpriced, never priced elsewhere
    elsewhere = planned("prod").spec.model_copy(update={"region": "sa-east-1"})
    assert "not priced in sa-east-1" in storage_line(elsewhere)
    assert storage_line(planned("onprem").spec) == "storage: existing storageClass cephfs, 10240 GiB claims in research, vision, inference"
    assert storage_line(load_spec({"aws:region": "us-east-1", "aidc:environment": "dev"})) is None
