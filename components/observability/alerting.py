"""Alertmanager's routing from `aidc:observability.alerting`: one receiver per entry, routes
by severity, warnings inhibited by a critical alert about the same thing, and the receivers'
keys read from files (Secrets Manager -> External Secrets -> a Secret Alertmanager mounts).

Upstream, at the versions aidc pins:
- config keys: prometheus/alertmanager v0.34.0 (the image kube-prometheus-stack 88.5.3 runs,
  values.yaml alertmanager.alertmanagerSpec.image.tag): config/config.go (Route: receiver,
  group_by, matchers, continue, routes; Receiver: pagerduty_configs, slack_configs,
  webhook_configs, sns_configs), config/common/inhibitrule.go (source_matchers,
  target_matchers, equal), notify/pagerduty/config.go (routing_key_file),
  config/notifiers.go (SlackConfig.api_url_file; SNSConfig topic_arn, sigv4),
  notify/webhook/config.go (url_file). SNS signs with aws-sdk-go-v2's default credential
  chain (go.mod), which reads EKS Pod Identity credentials.
- where Secrets are mounted: prometheus-community/helm-charts kube-prometheus-stack-88.5.3,
  charts/kube-prometheus-stack/values.yaml, alertmanager.alertmanagerSpec.secrets ("mounted
  into /etc/alertmanager/secrets/"), and the chart's own defaults for the Watchdog route
  and the InfoInhibitor rules, kept here because a list in values replaces the chart's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from components.spec.observability import Receiver

SECRETS_DIR = "/etc/alertmanager/secrets"
NULL = "null"
# The file each kind of receiver reads, and the config key that names it.
KEY_FILE = {"slack": ("api-url", "api_url_file"), "pagerduty": ("routing-key", "routing_key_file"),
            "webhook": ("url", "url_file")}
CONFIGS = {"slack": "slack_configs", "pagerduty": "pagerduty_configs", "webhook": "webhook_configs",
           "sns": "sns_configs"}
# A critical alert silences warnings about the same thing: same namespace and service (a
# model server), same node and GPU (hardware). A label missing on both sides counts as equal.
INHIBIT_EQUAL = ["namespace", "service", "node", "gpu"]


def secret_name(r: "Receiver") -> str:
    """The Kubernetes Secret (monitoring namespace) holding one receiver's key."""
    return f"alertmanager-{r.name}"


def key_path(r: "Receiver") -> str:
    key, _ = KEY_FILE[r.type]
    return f"{SECRETS_DIR}/{secret_name(r)}/{key}"


def receiver(r: "Receiver", region: str) -> dict[str, Any]:
    if r.type == "sns":
        cfg: dict[str, Any] = {"topic_arn": r.topic_arn, "sigv4": {"region": region}}
    else:
        cfg = {KEY_FILE[r.type][1]: key_path(r)}
    return {"name": r.name, CONFIGS[r.type]: [{**cfg, "send_resolved": True}]}


def _matcher_values(values: Sequence[str]) -> str:
    return "|".join(values)


def alertmanager_config(receivers: Sequence["Receiver"], region: str) -> dict[str, Any]:
    """The `alertmanager.config` value. With no receivers, alerts still route to `null` (the
    chart's default) but inhibition is in place."""
    routes: list[dict[str, Any]] = [{"receiver": NULL, "matchers": ['alertname = "Watchdog"']}]
    routes += [{"receiver": r.name, "matchers": [f'severity =~ "{_matcher_values(r.severities)}"'], "continue": True}
               for r in receivers]
    return {
        "route": {"receiver": NULL, "group_by": ["alertname", *INHIBIT_EQUAL], "routes": routes},
        "receivers": [{"name": NULL}, *(receiver(r, region) for r in receivers)],
        "inhibit_rules": [
            {"source_matchers": ['severity = "critical"'], "target_matchers": ['severity =~ "warning|info"'],
             "equal": list(INHIBIT_EQUAL)},
            {"source_matchers": ['severity = "warning"'], "target_matchers": ['severity = "info"'],
             "equal": list(INHIBIT_EQUAL)},
            # The chart's InfoInhibitor pair (see the module docstring).
            {"source_matchers": ['alertname = "InfoInhibitor"'], "target_matchers": ['severity = "info"'],
             "equal": ["namespace"]},
            {"target_matchers": ['alertname = "InfoInhibitor"']},
        ],
    }


def mounted_secrets(receivers: Sequence["Receiver"]) -> list[str]:
    """`alertmanagerSpec.secrets`: the Secrets the operator mounts into Alertmanager."""
    return sorted(secret_name(r) for r in receivers if r.type in KEY_FILE)


def sns_publish_policy(topic_arns: Sequence[str]) -> dict[str, Any]:
    """What Alertmanager's role may do: publish to exactly the stack's topics."""
    return {"Effect": "Allow", "Action": ["sns:Publish"], "Resource": sorted(set(topic_arns))}
