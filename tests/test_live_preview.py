"""`aidc diff --live STACK`: the real `pulumi preview --json` path.

The CLI is not installed here, so one test puts a stand-in `pulumi` on PATH that records its
arguments and prints a preview laid out from the diff fixtures (tests/diff_fakes.py); the test against the real CLI runs only where the
CLI, a login and a stack are configured (AIDC_LIVE_STACK)."""

import json
import os
import shutil
import stat

import pytest

from aidc.cli import main
from aidc.live import preview_command
from tests.conftest import ROOT
from tests.diff_fakes import BASE_STACK, HEAD_STACK, planned, preview_document


def saved_preview(tmp_path):
    path = tmp_path / "preview.json"
    path.write_text(json.dumps(preview_document(planned(BASE_STACK), planned(HEAD_STACK),
                                                {("aws:s3/bucket:Bucket", "aidc-lab-datasets"): ("bucket",)})))
    return path


def fake_pulumi(tmp_path, exit_code=0, stdout_file=None):
    stdout_file = stdout_file or saved_preview(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "pulumi"
    exe.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/args\ncat {stdout_file}\nexit {exit_code}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return bin_dir


def test_preview_command_carries_the_environment_policy_config():
    cmd = preview_command("prod", ROOT, "prod")
    assert cmd[:3] == ["preview", "--json", "--non-interactive"]
    assert cmd[cmd.index("--stack") + 1] == "prod"
    assert cmd[cmd.index("--policy-pack") + 1] == str(ROOT / "policies")
    assert cmd[cmd.index("--policy-pack-config") + 1] == str(ROOT / "policies" / "config" / "prod.json")


@pytest.mark.parametrize("exit_code", [0, 255])  # 255: preview found a mandatory violation, JSON still printed
def test_live_diff_runs_the_cli_and_reports_its_json(tmp_path, monkeypatch, capsys, exit_code):
    monkeypatch.setenv("PATH", f"{fake_pulumi(tmp_path, exit_code)}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(ROOT)
    assert main(["diff", "--live", "staging", "--format", "json"]) == 0
    live = json.loads(capsys.readouterr().out)
    assert main(["diff", "--preview", str(tmp_path / "preview.json"), "--format", "json"]) == 0
    from_file = json.loads(capsys.readouterr().out)
    # The same report as from the saved preview: counts, and the data-loss warnings first.
    assert live["counts"] == from_file["counts"] == {"create": 10, "delete": 2, "replace": 1, "same": 83, "update": 10}
    assert live["dataLoss"] == from_file["dataLoss"] and len(live["dataLoss"]) == 1
    assert live["head"] == "pulumi preview staging"
    args = (tmp_path / "args").read_text().split()
    assert args[args.index("--policy-pack-config") + 1].endswith("policies/config/staging.json")


def test_cli_output_that_is_not_json_is_a_clear_error(tmp_path, monkeypatch, capsys):
    junk = tmp_path / "junk.txt"
    junk.write_text("error: no stack named 'staging' found\n")
    monkeypatch.setenv("PATH", f"{fake_pulumi(tmp_path, 255, junk)}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(ROOT)
    assert main(["diff", "--live", "staging"]) == 2
    err = capsys.readouterr().err
    assert "pulumi preview failed (exit 255)" in err and "no stack named 'staging'" in err


def test_without_the_cli_the_error_says_what_to_do(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no pulumi
    monkeypatch.chdir(ROOT)
    assert main(["diff", "--live", "prod"]) == 2
    assert "the pulumi CLI is not on PATH" in capsys.readouterr().err


@pytest.mark.cli
@pytest.mark.skipif(shutil.which("pulumi") is None or not os.environ.get("AIDC_LIVE_STACK"),
                    reason="needs the pulumi CLI, a login and AIDC_LIVE_STACK naming a deployed stack")
def test_real_cli_preview(capsys):
    assert main(["diff", "--live", os.environ["AIDC_LIVE_STACK"], "--format", "json"]) == 0
    assert "counts" in json.loads(capsys.readouterr().out)
