"""The plan document: Pulumi's PreviewDigest shape, deterministic to the byte."""

import json

from aidc.engine import plan_stack
from aidc.plan import dumps, parse_plan
from tests.conftest import ROOT

STEP_KEYS = {"op", "urn", "newState"}


def test_shape_is_pulumi_preview_json(planned):
    doc = planned("prod").document
    assert set(doc) == {"config", "changeSummary", "steps"}
    assert doc["changeSummary"] == {"create": len(doc["steps"])}
    for step in doc["steps"]:
        assert set(step) == STEP_KEYS and step["op"] == "create"
        st = step["newState"]
        assert st["urn"] == step["urn"] and st["urn"].startswith("urn:pulumi:prod::aidc::")
        assert isinstance(st["inputs"], dict) and isinstance(st["custom"], bool)
        if st["custom"] and not st["type"].startswith("pulumi:providers:"):
            assert "::" in st["provider"]  # provider reference: URN::id


def test_urns_carry_the_full_parent_type_chain(planned):
    urns = [s["urn"] for s in planned("prod").document["steps"]]
    assert "urn:pulumi:prod::aidc::aidc:datacenter:AiDatacenter$aidc:network:Network$aws:ec2/vpc:Vpc::aidc-prod-vpc" in urns
    assert "urn:pulumi:prod::aidc::pulumi:pulumi:Stack::aidc-prod" in urns


def test_dependencies_come_first(planned):
    seen = set()
    for step in planned("prod").document["steps"]:
        st = step["newState"]
        for dep in st.get("dependencies", []) + [st.get("parent", "")]:
            assert not dep or dep in seen, f"{st['urn']} listed before {dep}"
        seen.add(st["urn"])


def test_same_stack_gives_the_same_bytes(planned):
    again = plan_stack("prod", ROOT)
    assert dumps(again.document) == dumps(planned("prod").document)


def test_secrets_never_appear(planned):
    text = dumps(planned("onprem").document)
    assert "offline-placeholder" not in text
    assert json.loads(text)["config"]["aidc:cluster"]["existing"]["kubeconfig"] == "[secret]"
    assert '"kubeconfig": "[secret]"' in dumps(planned("prod").document)


def test_whole_numbers_are_integers(planned):
    doc = planned("prod").document
    ng = next(s["newState"] for s in doc["steps"] if s["newState"]["type"] == "aws:eks/nodeGroup:NodeGroup")
    assert isinstance(ng["inputs"]["scalingConfig"]["minSize"], int)


def test_parse_plan_reads_component_of_each_resource(plan_of):
    plan = plan_of("prod")
    vpc = plan.of_type("aws:ec2/vpc:Vpc")[0]
    assert plan.component_of(vpc) == "aidc:network:Network"
    assert plan.stack == "prod"
    assert parse_plan(json.loads(dumps(planned_doc := plan_stack("dev", ROOT).document))).stack == "dev"
    assert planned_doc["config"]["aidc:environment"] == "dev"
