"""Components under plain Pulumi mocks, with every Output.apply assertion guarded."""

import pulumi
import pytest

from aidc.engine.mocks import OfflineMocks, RecordingMonitor
from components.spec import load_spec


@pytest.fixture
def mocked():
    mocks = OfflineMocks("us-east-1")
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project="aidc", stack="unit", preview=False, monitor=monitor)
    return monitor


@pulumi.runtime.test
def test_network_outputs_resolve(mocked, applied):
    from components.network.resources import Network

    spec = load_spec({"aws:region": "us-east-1", "aidc:environment": "dev",
                      "aidc:network": {"cidr": "10.9.0.0/16", "availabilityZones": 2}})
    net = Network("unit", spec.network, "us-east-1", spec.resource_tags())

    @applied
    def check_zones(zones):
        assert zones == ["us-east-1a", "us-east-1b"]

    @applied
    def check_cidr(cidr):
        assert cidr == "10.9.0.0/16"

    return pulumi.Output.all(net.zone_names.apply(check_zones), net.vpc.cidr_block.apply(check_cidr))


def test_the_guard_catches_callbacks_that_never_ran():
    from tests.conftest import ApplyGuard

    guard = ApplyGuard()
    guard(lambda v: None)
    assert guard.pending  # never called: the fixture's teardown would fail the test
