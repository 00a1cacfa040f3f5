"""`aidc diff --base-ref REF STACK` against a throwaway git repository: a copy of this project
committed twice (the second commit changes the prod stack), so the test never touches the
real repository's worktrees. Skips when git is not installed."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from aidc.cli import main
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not on PATH")

IGNORE = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache",
                                "*.egg-info", "build", "tests")


def git(repo, *args):
    return subprocess.run(["git", "-c", "user.name=aidc-test", "-c", "user.email=test@example.invalid",
                           "-c", "commit.gpgsign=false", *args], cwd=repo, check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """Commit 1: the project as it is. Commit 2: prod drops to a single NAT gateway."""
    repo = tmp_path_factory.mktemp("repo") / "aidc"
    shutil.copytree(ROOT, repo, ignore=IGNORE)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    stack = repo / "stacks" / "Pulumi.prod.yaml"
    stack.write_text(stack.read_text().replace("natGateways: onePerAz", "natGateways: single"))
    git(repo, "commit", "-q", "-am", "prod: one NAT gateway")
    return repo


def test_base_ref_diffs_the_stack_at_the_ref_against_the_working_tree(repo, monkeypatch, capsys):
    monkeypatch.chdir(repo)
    code = main(["diff", "--base-ref", "HEAD~1", "prod", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    import json
    doc = json.loads(out)
    deleted = sorted(r["urn"].rsplit("::", 1)[-1] for r in doc["resources"] if r["op"] == "delete")
    assert deleted == ["aidc-prod-nat-1", "aidc-prod-nat-1-eip", "aidc-prod-nat-2", "aidc-prod-nat-2-eip"]
    assert doc["counts"]["create"] == 0 and doc["dataLoss"] == []
    assert doc["base"].startswith("HEAD~1 (")
    # The temporary worktree is gone again.
    assert git(repo, "worktree", "list").stdout.count("\n") == 1


def test_base_ref_that_does_not_exist_exits_2(repo, monkeypatch, capsys):
    monkeypatch.chdir(repo)
    code = main(["diff", "--base-ref", "no-such-branch", "prod"])
    _, err = capsys.readouterr()
    assert code == 2 and "git ref 'no-such-branch' does not exist" in err and "Traceback" not in err


def test_a_stack_new_since_the_ref_is_all_creates(repo, monkeypatch, capsys):
    monkeypatch.chdir(repo)
    shutil.copy(repo / "stacks" / "Pulumi.dev.yaml", repo / "stacks" / "Pulumi.qa.yaml")
    try:
        code = main(["diff", "--base-ref", "HEAD", "qa", "--format", "text"])
        out, err = capsys.readouterr()
    finally:
        (repo / "stacks" / "Pulumi.qa.yaml").unlink()
    assert code == 0, err
    assert "to create" in out and "to delete" not in out
