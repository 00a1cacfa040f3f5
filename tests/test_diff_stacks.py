"""`aidc diff A B` across stacks: A and B as stack names, stack files or plan documents, and
two different stacks compared by component and logical name, labelled as a comparison."""

from __future__ import annotations

from aidc.cli import main
from aidc.diff import compare_stacks, diff_plans, render
from aidc.diff.stacks import as_stack
from aidc.plan import dumps, stand_in
from tests.diff_fakes import BASE_STACK, HEAD_STACK, planned


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _renamed(tmp_path, source, stack):
    """The stack file `source` as stack `stack`: the same settings, another stack name (and its
    bucket named after it, as a user would)."""
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(source.read_text().replace("aidc-lab-", f"aidc-{stack}-"))
    return path


def test_one_stack_under_two_names_compares_the_same(tmp_path):
    base = planned(BASE_STACK).plan
    twin = planned(_renamed(tmp_path, BASE_STACK, "twin")).plan
    assert twin.stack == "twin" and {r.urn for r in twin.resources}.isdisjoint(r.urn for r in base.resources)
    report = compare_stacks(base, twin, estimator=None, evaluator=None)
    assert report.comparison and report.base_stack == "lab" and report.stack == "twin"
    assert report.changed == [] and report.counts["same"] > 50


def test_two_stacks_differ_as_the_change_between_them_would():
    base, head = planned(BASE_STACK).plan, planned(HEAD_STACK).plan
    change = diff_plans(base, head, estimator=None, evaluator=None)
    other = as_stack(head, "other")  # HEAD's resources under another stack's name
    assert other.stack == "other"
    compared = compare_stacks(base, other, estimator=None, evaluator=None)
    assert compared.counts == change.counts
    assert not compared.data_loss and not compared.at_risk  # comparing destroys nothing


def test_stand_in_ids_of_one_stack_are_written_as_the_others(tmp_path):
    base = planned(BASE_STACK).plan
    vpc = next(r for r in base.resources if r.type == "aws:ec2/vpc:Vpc")
    subnet = next(r for r in base.resources if r.type == "aws:ec2/subnet:Subnet")
    assert subnet.inputs["vpcId"] == f"vpc-{stand_in(vpc.type, vpc.name)}"
    renamed = as_stack(base, "twin")
    twin_subnet = next(r for r in renamed.resources if r.type == "aws:ec2/subnet:Subnet")
    assert twin_subnet.inputs["vpcId"] == f"vpc-{stand_in(vpc.type, vpc.name.replace('aidc-lab', 'aidc-twin'))}"
    assert twin_subnet.urn.startswith("urn:pulumi:twin::") and "aidc-twin" in twin_subnet.name


def test_the_report_says_it_compares_two_stacks():
    base, head = planned(BASE_STACK).plan, as_stack(planned(HEAD_STACK).plan, "other")
    report = compare_stacks(base, head, estimator=None, evaluator=None)
    text = render(report, "text")
    assert text.startswith("aidc diff: stack lab compared with stack other (two stacks, not a change)")
    assert " only in other" in text and "DATA LOSS" not in text
    md = render(report, "markdown")
    assert "### aidc diff · stack `lab` compared with stack `other` (two stacks, not a change)" in md
    assert "only in `lab`" not in md or "Only in" in md
    assert '"comparison": {' in render(report, "json")


def _custom(plan_file) -> int:
    from aidc.plan import load_plan
    return sum(r.custom for r in load_plan(plan_file).resources)


def test_cli_stack_names_files_and_plan_documents_mix(capsys, tmp_path):
    plan = tmp_path / "lab.json"
    plan.write_text(dumps(planned(BASE_STACK).document))
    twin = _renamed(tmp_path, BASE_STACK, "twin")
    code, out, err = run(capsys, "diff", str(plan), str(twin), "--format", "text")
    assert code == 0, err
    assert out.splitlines()[1] == f"no differences, {_custom(plan)} the same"
    assert "aidc: planning " in err and "(1 of 1)" in err  # progress on stderr: one stack to plan


def test_cli_diff_prod_staging(capsys):
    code, out, err = run(capsys, "diff", "prod", "staging", "--format", "text")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("aidc diff: stack prod compared with stack staging (two stacks, not a change)")
    assert "only in prod" in lines[1] and "only in staging" in lines[1]
    assert lines[2].startswith("monthly cost: prod $") and ", staging $" in lines[2]
    assert "(1 of 2)" in err and "(2 of 2)" in err


def test_cli_unknown_stack_name(capsys):
    code, _, err = run(capsys, "diff", "prd", "staging")
    assert code == 2 and "unknown stack 'prd'; did you mean prod?" in err
