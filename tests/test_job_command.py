"""`aidc job render --command/--env`: the user's script and environment in the rendered job."""

from __future__ import annotations

import json

import pytest

from aidc.cli import main


def render(capsys, *extra):
    code = main(["job", "render", "prod", "--pool", "train-h100", "--team", "research", "--nodes", "2", "--json",
                 *extra])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def _pod(objs):
    jobset = next(o for o in objs if o["kind"] == "JobSet")
    return jobset["spec"]["replicatedJobs"][0]["template"]["spec"]["template"]["spec"]


def test_command_replaces_the_smoke_test(capsys):
    code, objs, err = render(capsys, "--command", "/lustre/code/train.py --epochs 3 --note 'a b: \"c\"'")
    assert code == 0, err
    pod = _pod(objs)
    args = pod["containers"][0]["args"]
    assert args[-5:] == ["/lustre/code/train.py", "--epochs", "3", "--note", 'a b: "c"']
    # resume.py (the checkpoint convention) stays mounted for the script to import.
    assert [o["kind"] for o in objs] == ["ConfigMap", "JobSet"]
    assert "entrypoint" in {v["name"] for v in pod["volumes"]}


def test_without_a_command_the_smoke_test_stays(capsys):
    code, objs, _ = render(capsys)
    assert [o["kind"] for o in objs] == ["ConfigMap", "JobSet"]
    assert _pod(objs)["containers"][0]["args"][-1] == "/opt/aidc/train.py"


def test_env_adds_and_replaces(capsys):
    code, objs, err = render(capsys, "--env", "NCCL_DEBUG=WARN", "--env", "WANDB_PROJECT=llm=7b")
    assert code == 0, err
    env = {e["name"]: e.get("value") for e in _pod(objs)["containers"][0]["env"]}
    assert env["NCCL_DEBUG"] == "WARN" and env["WANDB_PROJECT"] == "llm=7b"
    assert env["FI_PROVIDER"] == "efa"  # the fabric settings stay
    names = [e["name"] for e in _pod(objs)["containers"][0]["env"]]
    assert names.count("NCCL_DEBUG") == 1


@pytest.mark.parametrize("extra,message", [
    (("--env", "1X=2"), "--env: '1X' is not an environment variable name"),
    (("--env", "NOVALUE"), "--env: 'NOVALUE': expected NAME=VALUE"),
    (("--env", "HOME=/root"), "--env: HOME is set by the job itself"),
    (("--env", "AIDC_CHECKPOINT_DIR=/tmp"), "--env: AIDC_CHECKPOINT_DIR is set by the job itself"),
    (("--command", "'unclosed"), "--command: \"'unclosed\": No closing quotation"),
])
def test_bad_command_or_env_is_bad_input(capsys, extra, message):
    code = main(["job", "render", "prod", "--pool", "train-h100", "--team", "research", "--nodes", "2", *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_command_is_for_the_pytorch_template(capsys):
    code = main(["job", "render", "prod", "--pool", "train-h100", "--team", "platform", "--nodes", "2",
                 "--template", "nccl-tests", "--command", "x"])
    assert code == 2 and "--command is for pytorch" in capsys.readouterr().err
