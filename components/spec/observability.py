"""`aidc:observability`: Prometheus, Alertmanager and Grafana (kube-prometheus-stack), the GPU
and serving alert thresholds, and the dashboards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import Field, model_validator

from .base import DNS_LABEL, Model, Problem, rule

_DURATION = rule(r"^[1-9]\d*(h|d|w|y)$", "a Prometheus duration: a whole number and h, d, w or y (15d, 8w)")


class Alerts(Model):
    # A pool whose GPUs all stayed under `idleUtilizationPercent` this long is paying for nothing.
    idle_gpu_hours: float = Field(default=4, gt=0, le=168)
    idle_utilization_percent: float = Field(default=5, gt=0, lt=100)
    # GPU core temperature (Celsius) that warns before the hardware slows itself down.
    gpu_temperature_celsius: int = Field(default=85, ge=60, le=100)
    # Share of requests answered with a 5xx, as a fraction.
    error_rate: float = Field(default=0.05, gt=0, lt=1)
    # p95 of the time a request waits in the server's queue before it starts (seconds).
    queue_time_p95_seconds: float = Field(default=5, gt=0)
    # p95 of the end-to-end request latency (seconds).
    latency_p95_seconds: float = Field(default=30, gt=0)


Severity = Literal["critical", "warning", "info"]
# A Secrets Manager secret by name (what the console shows) or by ARN.
_SECRET_REF = rule(r"^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+|[A-Za-z0-9/_+=.@-]{1,512})$",
                   "a Secrets Manager secret: its ARN, or its name (up to 512 letters, digits or /_+=.@-)")


class Receiver(Model):
    """Where alerts of the listed severities go. slack, pagerduty and webhook read their key
    (Slack webhook URL, PagerDuty Events v2 routing key, webhook URL) from the Secrets Manager
    secret `secret`, synced by External Secrets and mounted into Alertmanager as a file. sns
    publishes to `topicArn` with Alertmanager's own Pod Identity role (no secret)."""

    name: str = Field(pattern=DNS_LABEL)
    type: Literal["slack", "pagerduty", "webhook", "sns"]
    secret: str | None = Field(default=None, pattern=_SECRET_REF)
    topic_arn: str | None = Field(default=None, pattern=rule(
        r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$",
        "an SNS topic ARN: arn:aws:sns:<region>:<12-digit account>:<topic name>"))
    severities: tuple[Severity, ...] = Field(default=("critical", "warning"), min_length=1)

    @model_validator(mode="after")
    def _credentials(self) -> "Receiver":
        if self.type == "sns":
            if self.topic_arn is None:
                raise ValueError("topicArn: required for an sns receiver")
            if self.secret is not None:
                raise ValueError("secret: an sns receiver publishes with Alertmanager's role; give topicArn only")
        else:
            if self.secret is None:
                raise ValueError(f"secret: required for a {self.type} receiver (the Secrets Manager secret "
                                 "holding its URL or key)")
            if self.topic_arn is not None:
                raise ValueError(f"topicArn: only for sns receivers, not {self.type}")
        return self


class Alerting(Model):
    receivers: tuple[Receiver, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> "Alerting":
        names = [r.name for r in self.receivers]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"receiver names must be unique: {', '.join(dup)}")
        return self

    @property
    def secret_refs(self) -> tuple[str, ...]:
        return tuple(sorted({r.secret for r in self.receivers if r.secret}))


class ObservabilitySpec(Model):
    enabled: bool = True
    # install: aidc installs kube-prometheus-stack; existing: the site runs the Prometheus
    # Operator (an existing cluster only), and aidc adds only its own objects there: rules,
    # ServiceMonitors and dashboards, in `namespace`, labelled so the site's Prometheus selects them.
    prometheus: Literal["install", "existing"] = "install"
    # existing: the namespace of the site's monitoring stack (its Grafana's dashboard sidecar
    # must watch it) and the labels its Prometheus selects rules and ServiceMonitors by.
    namespace: str | None = Field(default=None, pattern=DNS_LABEL)
    selector_labels: dict[str, str] = {}
    # existing: the in-cluster address of the site's Prometheus, which model-server autoscaling queries.
    prometheus_url: str | None = Field(default=None, pattern=rule(
        r"^https?://[^\s/]+(:\d+)?(/\S*)?$", "an http(s) URL such as http://prometheus.monitoring:9090"))
    # How long Prometheus keeps samples (Prometheus duration: 15d, 8w, ...).
    retention: str = Field(default="15d", pattern=_DURATION)
    # Size of the Prometheus volume (GiB); must hold `retention` of samples.
    storage_gib: int = Field(default=50, alias="storageGiB", ge=10, le=16384)
    # StorageClass of the Prometheus and Grafana volumes; None creates an encrypted gp3 class.
    storage_class: str | None = Field(default=None, pattern=rule(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
                                                                       "a StorageClass name: lowercase letters, digits, '.' or '-'"))
    dashboards: bool = True
    alerts: Alerts = Alerts()
    alerting: Alerting = Alerting()


def retention_days(retention: str) -> float:
    n, unit = int(retention[:-1]), retention[-1]
    return n * {"h": 1 / 24, "d": 1, "w": 7, "y": 365}[unit]


def problems(obs: ObservabilitySpec, path: str = "aidc:observability", *,
             existing_cluster: bool = False) -> Iterator[Problem]:
    if obs.prometheus == "existing" and not existing_cluster:
        yield Problem(f"{path}.prometheus", "existing is for a cluster aidc did not build (aidc:cluster.existing)")
    if obs.prometheus == "existing" and obs.enabled and obs.namespace is None:
        yield Problem(f"{path}.namespace", "required with prometheus: existing: the namespace of the site's "
                                           "monitoring stack, where aidc puts its rules, ServiceMonitors and dashboards")
    if obs.prometheus == "existing" and obs.alerting.receivers:
        yield Problem(f"{path}.alerting.receivers", "only with prometheus: install: the site's Alertmanager is "
                                                    "configured by the site, not by aidc")
    if obs.prometheus == "install":
        for value, key in ((obs.namespace, "namespace"), (obs.selector_labels or None, "selectorLabels"),
                           (obs.prometheus_url, "prometheusUrl")):
            if value is not None:
                yield Problem(f"{path}.{key}", "only with prometheus: existing (the stack aidc installs has its "
                                               "catalog namespace, address and selectors)")
    # Prometheus needs roughly 1-2 bytes per sample; a GPU cluster with DCGM at 30 s scrapes
    # writes about 1 GiB a day per 50 nodes. Anything under 1 GiB/day of retention is a
    # volume that fills before the retention is reached.
    days = retention_days(obs.retention)
    if obs.enabled and obs.storage_gib < days:
        yield Problem(f"{path}.storageGiB", f"{obs.storage_gib} GiB cannot hold {obs.retention} of samples: "
                                            f"give at least {int(days) + 1} GiB (1 GiB per day) or a shorter retention")
