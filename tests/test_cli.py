"""`aidc` as a user meets it: exit codes, errors with file and key path, no tracebacks."""

import json
import shutil

import pytest

from aidc.cli import main
from tests.conftest import ROOT


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_plan_prod_writes_the_document(capsys, tmp_path):
    target = tmp_path / "plan.json"
    code, out, err = run(capsys, "plan", "prod", "--json", str(target))
    assert code == 0, err
    doc = json.loads(target.read_text())
    assert doc["changeSummary"]["create"] == len(doc["steps"])
    assert "aidc:network:Network" in out and "aidc:cluster:Cluster" in out
    assert f"plan written to {target}" in out


def test_plan_json_to_stdout(capsys):
    code, out, _ = run(capsys, "plan", "dev", "--json", "-")
    assert code == 0 and json.loads(out)["steps"]


def test_unknown_stack_lists_the_stacks(capsys):
    code, _, err = run(capsys, "plan", "qa")
    assert code == 2
    assert "unknown stack 'qa'" in err and "dev, onprem, prod, staging" in err
    assert "Traceback" not in err


def bad_stack(tmp_path, text):
    path = tmp_path / "stacks" / "Pulumi.bad.yaml"
    path.parent.mkdir()
    path.write_text(text)
    return path


def test_bad_stack_file_lists_every_problem_with_file_and_key(capsys, tmp_path):
    path = bad_stack(tmp_path, """
config:
  aws:region: us-east-1
  aidc:environment: prod
  aidc:network: {cidr: 10.0.0.0/18, availabilityZones: 3, colour: blue}
  aidc:gpuPools:
    - {name: train, instanceType: p9.96xlarge}
""")
    code, _, err = run(capsys, "plan", str(path))
    assert code == 2
    assert f"{path}: aidc:network.colour: unknown key" in err
    assert f"{path}: aidc:gpuPools[0].instanceType: unknown GPU instance type 'p9.96xlarge'" in err
    assert "Traceback" not in err
    assert f"{path}: aidc:network.cidr: 10.0.0.0/18 holds" in err  # checked with the unknown key set aside
    assert "(3 problems)" in err


def test_cidr_too_small_after_the_unknown_keys_are_fixed(capsys, tmp_path):
    path = bad_stack(tmp_path, "config:\n  aws:region: us-east-1\n  aidc:environment: prod\n"
                               "  aidc:network: {cidr: 10.0.0.0/18, availabilityZones: 3}\n")
    code, _, err = run(capsys, "plan", str(path))
    assert code == 2 and "aidc:network.cidr: 10.0.0.0/18 holds 2 blocks of /19" in err


def test_yaml_syntax_error(capsys, tmp_path):
    path = bad_stack(tmp_path, "config:\n  aidc:environment: [prod\n")
    code, _, err = run(capsys, "plan", str(path))
    assert code == 2 and "not valid YAML" in err and "line" in err


def test_json_errors_for_machines(capsys, tmp_path):
    path = bad_stack(tmp_path, "config:\n  aidc:environment: prod\n")
    code, _, err = run(capsys, "plan", str(path), "--json", "-")
    assert code == 2
    problems = json.loads(err)["problems"]
    assert problems == [{"file": str(path), "path": "aws:region", "message": "required unless aidc:cluster.existing is set"}]


def test_usage_errors_exit_2(capsys):
    code, _, _ = run(capsys, "plan")
    assert code == 2


@pytest.mark.skipif(shutil.which("pulumi") is None, reason="the pulumi CLI is not installed")
@pytest.mark.cli
def test_pulumi_cli_accepts_the_project(tmp_path):
    import subprocess

    out = subprocess.run(["pulumi", "about", "--json"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert out.returncode == 0


def test_a_key_given_twice_is_an_error_not_a_silent_override(capsys, tmp_path):
    path = bad_stack(tmp_path, "config:\n  aws:region: us-east-1\n  aidc:environment: prod\n"
                               "  aidc:network: {cidr: 10.1.0.0/16}\n  aidc:network: {cidr: 10.2.0.0/16}\n")
    code, _, err = run(capsys, "plan", str(path))
    assert code == 2
    assert "key 'aidc:network' appears twice (first on line 4)" in err and "line 5" in err
