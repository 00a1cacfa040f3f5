"""`aidc:storage`: defaults per environment, and each bad input as one problem at its key."""

import pytest

from components.spec import load_spec
from components.spec.storage import bucket_name_problem, lustre_zone_index
from tests.conftest import spec_problems as problems

POOL = {"name": "train", "instanceType": "p5.48xlarge", "capacity": {"type": "onDemand"},
        "size": {"min": 2, "max": 2}, "efa": True}


def cfg(env="prod", storage=None, **aidc):
    out = {"aws:region": "us-east-1", "aidc:environment": env}
    if storage is not None:
        out["aidc:storage"] = storage
    out.update({f"aidc:{k}": v for k, v in aidc.items()})
    return out



@pytest.mark.parametrize("env,days", [("dev", 0), ("staging", 7), ("prod", 30)])
def test_backup_retention_defaults_per_environment(env, days):
    spec = load_spec(cfg(env, {"lustre": {"throughputGBps": 1}}))
    assert spec.storage.lustre.backup_retention_days == days


def test_stack_value_beats_backup_default():
    spec = load_spec(cfg("prod", {"lustre": {"throughputGBps": 1, "backupRetentionDays": 90}}))
    assert spec.storage.lustre.backup_retention_days == 90


def test_no_storage_section_means_no_storage():
    assert load_spec(cfg("prod")).storage is None


def test_buckets_only_storage_gets_no_lustre_defaults():
    spec = load_spec(cfg("prod", {"buckets": {"checkpoints": {"noncurrentVersionExpiryDays": 14}}}))
    assert spec.storage.lustre is None
    assert spec.storage.buckets.checkpoints.noncurrent_version_expiry_days == 14


def test_keys_are_the_documented_camel_case():
    spec = load_spec(cfg("dev", {"lustre": {"capacityGiB": 2400, "throughputPerTiB": 250, "checkpointGiB": 10},
                                 "buckets": {"datasets": {"name": "acme-datasets", "expectedGiB": 100}}}))
    ls = spec.storage.lustre
    assert (ls.capacity_gib, ls.throughput_per_tib, ls.checkpoint_gib) == (2400, 250, 10)
    assert spec.storage.buckets.datasets.expected_gib == 100


@pytest.mark.parametrize("lustre,path,words", [
    ({"throughputGBps": 500}, "aidc:storage.lustre.throughputGBps", "gives 98.44 GB/s"),
    ({"capacityGiB": 3000, "throughputPerTiB": 500}, "aidc:storage.lustre.capacityGiB", "nearest above: 4800"),
    ({"capacityGiB": 1200}, "aidc:storage.lustre.throughputPerTiB", "both capacityGiB and throughputPerTiB"),
    ({"capacityGiB": 1200, "throughputPerTiB": 300}, "aidc:storage.lustre.throughputPerTiB", "not one of"),
    ({"maxWriteSeconds": 120}, "aidc:storage.lustre.checkpointGiB", "needs the checkpoint size"),
    ({"checkpointGiB": 500}, "aidc:storage.lustre.maxWriteSeconds", "longest acceptable write time"),
    ({"throughputGBps": 1, "capacityGiB": 1200, "throughputPerTiB": 125}, "aidc:storage.lustre.throughputGBps",
     "not both"),
    ({}, "aidc:storage.lustre", "give one requirement"),
    ({"throughputGBps": 1, "metadataIops": 5000}, "aidc:storage.lustre.metadataIops", "multiple of 12000"),
    ({"throughputGBps": 1, "backupRetentionDays": 91}, "aidc:storage.lustre.backupRetentionDays", "90"),
    ({"throughputGBps": 1, "checkpointsPath": "/datasets/ckpt"}, "aidc:storage.lustre.checkpointsPath", "overlap"),
    ({"throughputGBps": -1}, "aidc:storage.lustre.throughputGBps", "must be above 0"),
    ({"throughputGBps": 1, "capcityGiB": 1200}, "aidc:storage.lustre.capcityGiB", "unknown key"),
])
def test_bad_lustre_requirement(lustre, path, words):
    found = problems(cfg("prod", {"lustre": lustre}))
    assert words in found[path], found


@pytest.mark.parametrize("name,words", [
    ("My_Bucket", "lowercase"),
    ("ab", "3 to 63"),
    ("a" * 64, "3 to 63"),
    ("192.168.1.1", "IP address"),
    ("xn--bucket", "reserved"),
    ("data-s3alias", "reserved"),
    ("team..data", "adjacent periods"),
    ("team.data", "HTTPS"),
    ("-data", "beginning and ending"),
])
def test_bad_bucket_names(name, words):
    found = problems(cfg("prod", {"buckets": {"checkpoints": {"name": name}}}))
    assert words in found["aidc:storage.buckets.checkpoints.name"]
    assert bucket_name_problem("acme-ml-checkpoints-prod") is None


def test_two_buckets_with_one_name():
    found = problems(cfg("prod", {"buckets": {"datasets": {"name": "acme-ml"}, "models": {"name": "acme-ml"}}}))
    assert "already the datasets bucket" in found["aidc:storage.buckets.models.name"]


def test_bad_namespace_and_expiry():
    found = problems(cfg("prod", {"lustre": {"throughputGBps": 1}, "namespaces": ["Training"],
                                  "buckets": {"checkpoints": {"noncurrentVersionExpiryDays": 0}}}))
    assert "not a valid namespace name" in found["aidc:storage.namespaces[0]"]
    assert "must be at least 1" in found["aidc:storage.buckets.checkpoints.noncurrentVersionExpiryDays"]


def test_existing_cluster_needs_existing_storage():
    existing_cluster = {"existing": {"kubeconfig": "apiVersion: v1"}, "kubernetesVersion": "1.33"}
    found = problems(cfg("staging", {"lustre": {"throughputGBps": 1}}, cluster=existing_cluster))
    assert "required with an existing cluster" in found["aidc:storage.existing"]
    ok = load_spec(cfg("staging", {"existing": {"nfs": {"server": "10.0.0.5", "path": "/export/ml"}},
                                   "namespaces": ["training"]}, cluster=existing_cluster))
    assert ok.storage.lustre is None  # no Lustre defaults leak into existing storage


@pytest.mark.parametrize("storage,path,words", [
    ({"existing": {}, "namespaces": ["t"]}, "aidc:storage.existing", "exactly one of"),
    ({"existing": {"storageClass": "cephfs", "nfs": {"server": "s", "path": "/x"}}, "namespaces": ["t"]},
     "aidc:storage.existing", "exactly one of"),
    ({"existing": {"storageClass": "cephfs"}}, "aidc:storage.namespaces", "list the namespaces"),
    ({"existing": {"storageClass": "cephfs"}, "namespaces": ["t"], "lustre": {"throughputGBps": 1}},
     "aidc:storage.lustre", "remove one"),
    ({"existing": {"storageClass": "cephfs"}, "namespaces": ["t"], "modelNamespaces": ["i"]},
     "aidc:storage.modelNamespaces", "only with AWS storage"),
    ({"existing": {"nfs": {"server": "s", "path": "export"}}, "namespaces": ["t"]},
     "aidc:storage.existing.nfs.path", "expected an absolute path"),
])
def test_bad_existing_storage(storage, path, words):
    found = problems(cfg("staging", storage, cluster={"existing": {"kubeconfig": "k"}, "kubernetesVersion": "1.33"}))
    assert words in found[path], found


def test_existing_storage_class_is_a_dns_subdomain():
    cluster = {"existing": {"kubeconfig": "k"}, "kubernetesVersion": "1.33"}
    ok = load_spec(cfg("staging", {"existing": {"storageClass": "cephfs.rook.io"}, "namespaces": ["t"]}, cluster=cluster))
    assert ok.storage.existing.storage_class == "cephfs.rook.io"
    found = problems(cfg("staging", {"existing": {"storageClass": "CephFS"}, "namespaces": ["t"]}, cluster=cluster))
    assert "aidc:storage.existing.storageClass" in found


def test_lustre_follows_the_training_pool_zone():
    named = {"cidr": "10.40.0.0/16", "availabilityZones": ["us-east-1a", "us-east-1b", "us-east-1c"]}
    lustre = {"lustre": {"throughputGBps": 1}}
    spec = load_spec(cfg("prod", lustre, network=named, gpuPools=[{**POOL, "availabilityZone": "us-east-1c"}]))
    assert lustre_zone_index(spec) == 2
    # A zone count: the region's first zones by name, as the GPU pools resolve it.
    spec = load_spec(cfg("prod", lustre, gpuPools=[{**POOL, "availabilityZone": "us-east-1b"}]))
    assert lustre_zone_index(spec) == 1
    # The first *training* pool decides; an unpinned single-zone pool, or none, is zone 0.
    infer = {**POOL, "name": "infer", "purpose": "inference", "availabilityZone": "us-east-1c"}
    spec = load_spec(cfg("prod", lustre, gpuPools=[infer, {**POOL, "availabilityZone": "us-east-1b"}]))
    assert lustre_zone_index(spec) == 1
    assert lustre_zone_index(load_spec(cfg("prod", lustre, gpuPools=[POOL]))) == 0
    assert lustre_zone_index(load_spec(cfg("prod", lustre))) == 0
    # A zone the network does not cover is one problem, at the pool's key.
    found = problems(cfg("prod", lustre, network=named, gpuPools=[{**POOL, "availabilityZone": "us-east-1d"}]))
    assert "us-east-1d" in found["aidc:gpuPools[0].availabilityZone"]
    assert not [p for p in found if p.startswith("aidc:storage")]


def test_every_storage_problem_at_once():
    found = problems(cfg("prod", {"lustre": {"capacityGiB": 1000, "throughputPerTiB": 125},
                                  "buckets": {"models": {"name": "Models"}}}))
    assert set(found) == {"aidc:storage.lustre.capacityGiB", "aidc:storage.buckets.models.name"}
