"""Alert routing from `aidc:observability.alerting.receivers`: Alertmanager's config (routes by
severity, inhibition, keys read from mounted files), the Secrets synced from Secrets Manager,
bad receivers named by key path, and alert rules only for what the stack runs."""

import json
from pathlib import Path

import pytest
import yaml

from aidc.engine import plan_stack
from components.observability.alerting import alertmanager_config, mounted_secrets
from components.observability.rules import prometheus_rules
from components.spec.observability import Alerts, ObservabilitySpec
from tests.conftest import spec_problems
from tests.test_inference_spec import cfg

ROOT = Path(__file__).resolve().parent.parent


def receivers(*items):
    return ObservabilitySpec.model_validate({"alerting": {"receivers": list(items)}}).alerting.receivers


def test_pagerduty_receiver_reads_its_routing_key_from_the_mounted_secret():
    (pd,) = receivers({"name": "oncall", "type": "pagerduty", "secret": "aidc/prod/pd", "severities": ["critical"]})
    conf = alertmanager_config([pd], "us-east-1")
    assert {"name": "oncall", "pagerduty_configs": [
        {"routing_key_file": "/etc/alertmanager/secrets/alertmanager-oncall/routing-key", "send_resolved": True}]} \
        in conf["receivers"]
    route = [r for r in conf["route"]["routes"] if r["receiver"] == "oncall"][0]
    assert route == {"receiver": "oncall", "matchers": ['severity =~ "critical"'], "continue": True}
    assert mounted_secrets([pd]) == ["alertmanager-oncall"]


def test_each_type_names_its_upstream_key():
    rs = receivers({"name": "s", "type": "slack", "secret": "a/slack"},
                   {"name": "w", "type": "webhook", "secret": "a/hook", "severities": ["info"]},
                   {"name": "t", "type": "sns", "topicArn": "arn:aws:sns:us-east-1:123456789012:gpu-alerts"})
    conf = {r["name"]: r for r in alertmanager_config(rs, "us-east-1")["receivers"]}
    assert conf["s"]["slack_configs"][0]["api_url_file"] == "/etc/alertmanager/secrets/alertmanager-s/api-url"
    assert conf["w"]["webhook_configs"][0]["url_file"] == "/etc/alertmanager/secrets/alertmanager-w/url"
    assert conf["t"]["sns_configs"][0] == {"topic_arn": "arn:aws:sns:us-east-1:123456789012:gpu-alerts",
                                           "sigv4": {"region": "us-east-1"}, "send_resolved": True}
    assert mounted_secrets(rs) == ["alertmanager-s", "alertmanager-w"]  # sns needs no secret


def test_criticals_inhibit_warnings_about_the_same_thing():
    conf = alertmanager_config([], "us-east-1")
    first = conf["inhibit_rules"][0]
    assert first["source_matchers"] == ['severity = "critical"']
    assert first["target_matchers"] == ['severity =~ "warning|info"']
    assert first["equal"] == ["namespace", "service", "node", "gpu"]
    # The Watchdog heartbeat never reaches a receiver.
    assert conf["route"]["routes"][0] == {"receiver": "null", "matchers": ['alertname = "Watchdog"']}


@pytest.mark.parametrize("receiver,path,needle", [
    ({"name": "x", "type": "pagerduty"}, "aidc:observability.alerting.receivers[0]", "secret: required"),
    ({"name": "x", "type": "sns", "secret": "a/b"}, "aidc:observability.alerting.receivers[0]", "topicArn"),
    ({"name": "x", "type": "email", "secret": "a"}, "aidc:observability.alerting.receivers[0].type", ""),
    ({"name": "x", "type": "slack", "secret": "a", "severities": ["page"]},
     "aidc:observability.alerting.receivers[0].severities[0]", ""),
])
def test_bad_receivers_are_named_by_key_path(receiver, path, needle):
    problems = spec_problems(cfg(observability={"alerting": {"receivers": [receiver]}}))
    assert path in problems, problems
    assert needle in problems[path]


def test_receivers_need_the_alertmanager_aidc_installs():
    problems = spec_problems(cfg(observability={"prometheus": "existing", "namespace": "monitoring", "alerting": {
        "receivers": [{"name": "x", "type": "pagerduty", "secret": "a/b"}]}}))
    assert "site's Alertmanager" in problems["aidc:observability.alerting.receivers"]


def test_rules_only_for_what_the_stack_runs():
    gpu_only = prometheus_rules(Alerts(), {"p5.48xlarge": 8}, None, "monitoring")
    names = [r["alert"] for o in gpu_only for g in o["spec"]["groups"] for r in g["rules"]]
    assert names and not [n for n in names if n.startswith("Inference")]
    assert prometheus_rules(Alerts(), {}, None, "monitoring") == []


def test_prod_pagerduty_receiver_reaches_alertmanager(plan_of):
    plan = plan_of("prod")
    release = [r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.name.endswith("kube-prometheus-stack")][0]
    am = release.inputs["values"]["alertmanager"]
    pd = [r for r in am["config"]["receivers"] if "pagerduty_configs" in r][0]
    path = pd["pagerduty_configs"][0]["routing_key_file"]
    secret = path.split("/")[4]
    assert secret in am["alertmanagerSpec"]["secrets"]
    synced = {r.inputs["spec"]["target"]["name"]: r for r in plan.of_type("kubernetes:external-secrets.io/v1:ExternalSecret")}
    es = synced[secret]
    assert es.inputs["metadata"]["namespace"] == "monitoring"
    assert es.inputs["spec"]["data"] == [{"secretKey": path.rsplit("/", 1)[1],
                                          "remoteRef": {"key": "aidc/prod/pagerduty-routing-key"}}]
    # External Secrets' role may read that secret.
    eso = [r for r in plan.of_type("aws:iam/rolePolicy:RolePolicy") if r.name.endswith("-external-secrets")][0]
    resources = json.loads(eso.inputs["policy"])["Statement"][0]["Resource"]
    assert any(":secret:aidc/prod/pagerduty-routing-key-" in r for r in resources)


def test_a_stack_without_model_servers_has_no_inference_alerts(tmp_path):
    """prod without its model servers (and with a training-only receiver setup): no serving
    rules, GPU rules kept, and External Secrets installed for the receivers by observability."""
    doc = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())
    doc["config"]["aidc:inference"] = {"services": []}
    doc["config"]["aidc:storage"]["modelNamespaces"] = ["research", "applied"]
    topic = "arn:aws:sns:us-east-1:123456789012:gpu-alerts"
    doc["config"]["aidc:observability"]["alerting"]["receivers"].append(
        {"name": "audit", "type": "sns", "topicArn": topic, "severities": ["critical"]})
    path = tmp_path / "Pulumi.trainonly.yaml"
    path.write_text(yaml.safe_dump(doc))
    plan = plan_stack(str(path), ROOT).plan
    names = [x["alert"] for r in plan.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
             for g in r.inputs["spec"]["groups"] for x in g["rules"] if "alert" in x]
    assert "GpuXidCritical" in names
    assert not [n for n in names if n.startswith("Inference")], names
    eso = [r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.name.endswith("-external-secrets")]
    assert len(eso) == 1 and "aidc:observability:Observability" in eso[0].urn
    # The sns receiver: Alertmanager's own role may publish to that topic and nothing else.
    pol = [r for r in plan.of_type("aws:iam/rolePolicy:RolePolicy") if r.name.endswith("-alertmanager")][0]
    assert json.loads(pol.inputs["policy"])["Statement"] == [
        {"Effect": "Allow", "Action": ["sns:Publish"], "Resource": [topic]}]
    assoc = [r for r in plan.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
             if r.name.endswith("-alertmanager")][0]
    assert (assoc.inputs["namespace"], assoc.inputs["serviceAccount"]) == (
        "monitoring", "kube-prometheus-stack-alertmanager")


def test_prod_has_inference_alerts(plan_of):
    names = [x["alert"] for r in plan_of("prod").of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
             for g in r.inputs["spec"]["groups"] for x in g["rules"] if "alert" in x]
    assert {"InferenceServiceDown", "InferenceErrorRateHigh"} <= set(names)
