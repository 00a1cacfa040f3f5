"""Golden files of what serving renders: kube-prometheus-stack values, the PrometheusRules and
every manifest of the prod model servers.

Regenerate after an intended change with:
    AIDC_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_serving_golden.py
and review the diff of tests/golden/serving/."""

import os
from pathlib import Path

import pytest
import yaml

from aidc.stackfile import read_stack
from components.catalog import catalog
from components.inference.objects import service_objects
from components.inference.resources import node_share
from components.observability.resources import gpus_per_instance
from components.observability.rules import prometheus_rules
from components.observability.values import chart_values, prometheus_url
from components.spec import load_spec

GOLDEN = Path(__file__).parent / "golden" / "serving"
ROOT = Path(__file__).resolve().parent.parent


def check_golden(name: str, docs: object) -> None:
    path = GOLDEN / f"{name}.yaml"
    text = yaml.safe_dump(docs, sort_keys=True, default_flow_style=False)
    if os.environ.get("AIDC_UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with AIDC_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from {path}"


def prod():
    return load_spec(read_stack("prod", ROOT).config)


def test_kube_prometheus_stack_values_prod():
    check_golden("kube-prometheus-stack-prod", chart_values(prod().observability, "aidc-gp3-encrypted"))


def test_prometheus_rules_prod():
    spec = prod()
    check_golden("prometheus-rules-prod", prometheus_rules(spec.observability.alerts, gpus_per_instance(spec),
                                                           spec.inference.namespace, "monitoring"))


@pytest.mark.parametrize("name", ["llama-8b", "llama-70b"])
def test_model_server_manifests_prod(name):
    spec = prod()
    svc = next(s for s in spec.inference.services if s.name == name)
    objs = service_objects(svc, spec.inference.namespace, image=catalog().image(svc.engine),
                           share=node_share(spec, svc.pool), prometheus_url=prometheus_url("monitoring"))
    check_golden(f"inference-{name}-prod", objs.all())
