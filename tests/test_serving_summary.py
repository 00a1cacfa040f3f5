"""`aidc plan` lists each model server with its GPUs, autoscaler and disruption budget, and
the alert rules, read from the plan document alone."""

import dataclasses

from aidc.serving import alert_names, server_lines, serving_summary


def test_prod_lists_each_model_server(plan_of):
    lines = server_lines(plan_of("prod"))
    assert len(lines) == 2
    by_name = {line.split()[0]: line for line in lines}
    assert "4 GPU/replica" in by_name["llama-70b"] and "KEDA 2..3" in by_name["llama-70b"]
    assert "1 GPU/replica" in by_name["llama-8b"] and "KEDA 2..6 on vllm:num_requests_waiting > 4/replica" \
        in by_name["llama-8b"]
    assert all("PDB minAvailable 1" in line for line in lines)


def test_dev_scale_to_zero_server(plan_of):
    (line,) = server_lines(plan_of("dev"))
    assert line.split()[0] == "qwen-1-5b" and "KEDA 0..1" in line and "PDB maxUnavailable 1" in line


def test_alerts_are_listed(plan_of):
    alerts = alert_names(plan_of("prod"))
    assert {"GpuXidCritical", "GpuPoolIdle", "InferenceErrorRateHigh"} <= set(alerts)
    assert serving_summary(plan_of("prod"))[0] == "model servers (2):"


def test_a_stack_without_servers_lists_only_alerts(plan_of):
    # Every shipped stack serves a model now (onprem on its own servers): drop the servers.
    plan = plan_of("onprem")
    assert serving_summary(plan)[0] == "model servers (1):"
    bare = dataclasses.replace(plan, resources=tuple(r for r in plan.resources if "aidc:inference:" not in r.urn))
    summary = serving_summary(bare)
    assert not any(line.startswith("model servers") for line in summary)
    assert summary[0].startswith("alerts (")
