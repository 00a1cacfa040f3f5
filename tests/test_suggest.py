"""One "did you mean": the function itself, and the places that answer an unknown name with it."""

from __future__ import annotations

import ast

import pytest

from aidc.cli import main
from components.suggest import close_names, did_you_mean, unknown
from tests.conftest import ROOT, spec_problems

STACKS = ["dev", "onprem", "prod", "staging"]
TYPES = ["p4d.24xlarge", "p5.48xlarge", "p5e.48xlarge", "p5en.48xlarge", "p6-b200.48xlarge"]


def test_close_names_best_first_at_most_three():
    assert close_names("p5.48xlarg", TYPES) == ["p5.48xlarge", "p5e.48xlarge", "p5en.48xlarge"]
    assert close_names("prdo", STACKS) == ["prod"]
    assert close_names("qa", STACKS) == []


def test_case_is_ignored_and_an_exact_match_but_for_case_is_the_only_answer():
    assert close_names("h100", ["H100", "H200", "A100-80GB"]) == ["H100"]
    assert close_names("h10", ["H100", "H200", "A100-80GB"]) == ["H100"]


def test_equally_close_names_come_in_a_stable_order():
    assert close_names("pool", ["poolb", "poola"]) == close_names("pool", ["poola", "poolb"]) == ["poola", "poolb"]


def test_hint_lists_everything_sorted_when_nothing_is_close():
    assert did_you_mean("qa", ["staging", "dev", "prod", "dev"]) == "known: dev, prod, staging"
    assert did_you_mean("qa", []) == "known: none"
    assert did_you_mean("qa", [], empty="this stack has no gpuPools") == "this stack has no gpuPools"
    assert did_you_mean("qa", STACKS, otherwise="see the docs") == "see the docs"
    assert did_you_mean("prdo", STACKS, otherwise="see the docs") == "did you mean prod?"


def test_unknown_is_the_whole_message():
    assert unknown("GPU pool", "train-a100", ["train-h100", "infer-l40s"]) == \
        "unknown GPU pool 'train-a100'; did you mean train-h100?"
    assert unknown("stack", "qa", STACKS) == "unknown stack 'qa'; known: dev, onprem, prod, staging"


def test_the_module_is_a_leaf():
    import sys
    tree = ast.parse((ROOT / "components" / "suggest.py").read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= set(sys.stdlib_module_names)


def test_no_other_module_guesses_names_on_its_own():
    users = sorted(str(p.relative_to(ROOT)) for d in ("aidc", "components", "policies") for p in (ROOT / d).rglob("*.py")
                   if "difflib" in p.read_text())
    assert users == ["components/suggest.py"]


# ---------------------------------------------------------------- the places that use it


def run(capsys, *argv):
    code = main(list(argv))
    return code, capsys.readouterr().err


def test_unknown_stack(capsys):
    code, err = run(capsys, "cost", "prdo")
    assert code == 2 and "unknown stack 'prdo'; did you mean prod? (stacks in " in err


def test_unknown_preset(capsys):
    code, err = run(capsys, "size", "train", "--preset", "llama-3.1-7b", "--tokens", "1e12", "--gpu", "H100")
    assert code == 2 and "--preset: unknown preset 'llama-3.1-7b'; did you mean llama-3.1-70b, llama-3.1-8b, llama-3.3-70b?" in err
    code, err = run(capsys, "size", "train", "--preset", "bert", "--tokens", "1e12", "--gpu", "H100")
    assert "known: deepseek-r1, deepseek-v3, gpt-3-175b, gpt-oss-120b, gpt-oss-20b, llama-3.1-405b" in err


def test_unknown_gpu_compares_without_case(capsys):
    code, err = run(capsys, "size", "train", "--params", "7e9", "--tokens", "1e12", "--gpu", "h20")
    assert code == 2 and "--gpu: unknown GPU 'h20'; did you mean H200?" in err


def test_unknown_instance_type_of_a_pool():
    found = spec_problems({"aws:region": "us-east-1", "aidc:environment": "dev", "aidc:gpuPools": [
        {"name": "train", "instanceType": "p5.48xlarg", "size": {"min": 0, "max": 1}}]})
    assert found["aidc:gpuPools[0].instanceType"] == (
        "unknown GPU instance type 'p5.48xlarg'; did you mean p5.48xlarge, p5e.48xlarge, p5.4xlarge?")


@pytest.mark.parametrize("name,message", [
    ("no-such-rule", "no-such-rule: unknown rule; see docs/policies.md for the rule names"),
    ("imdsv2-require", "imdsv2-require: unknown rule; did you mean imdsv2-required?"),
])
def test_unknown_policy_rule(capsys, tmp_path, name, message):
    cfg = tmp_path / "p.json"
    cfg.write_text(f'{{"{name}": "advisory"}}')
    code, err = run(capsys, "policy", "dev", "--config", str(cfg))
    assert code == 2 and message in err
