"""The PR comment: golden Markdown snapshots, the GitHub size cap, the diagram, the CLI.

Regenerate the snapshots in tests/golden/diff/ after an intended change with
    AIDC_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_diff_report.py
and review the diff of the .md files like any other change."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from aidc.cli import main
from aidc.diff import ResourceChange, diff_plans, diff_preview, markdown, render
from aidc.diff.compare import Change
from aidc.plan import dumps, parse_plan
from tests.diff_fakes import (
    BASE_STACK,
    HEAD_STACK,
    fake_estimate,
    fake_evaluate,
    fixture_plans,
    planned,
    preview_document,
)

GOLDEN = Path(__file__).resolve().parent / "golden" / "diff"
UPDATE = os.environ.get("AIDC_UPDATE_GOLDEN") == "1"


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{path} missing: run with AIDC_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the snapshot"


def plans_report(**kw):
    base, head = fixture_plans()
    return diff_plans(base, head, base_label="main", head_label="pull request",
                      **{"estimator": fake_estimate, "evaluator": fake_evaluate, **kw})


def test_golden_markdown_of_two_plans():
    golden("plans.md", render(plans_report(), "markdown"))


def preview_doc() -> dict:
    return preview_document(planned(BASE_STACK), planned(HEAD_STACK),
                            {("aws:s3/bucket:Bucket", "aidc-lab-datasets"): ("bucket",)})


def test_golden_markdown_of_a_real_preview():
    report = diff_preview(parse_plan(preview_doc(), "preview.json"), estimator=fake_estimate,
                          evaluator=fake_evaluate)
    golden("preview.md", render(replace(report, head="pulumi preview"), "markdown"))


def test_golden_markdown_without_cost_and_policy():
    golden("plans-no-verdicts.md", render(plans_report(estimator=None, evaluator=None), "markdown"))


def test_comment_layout_puts_data_loss_first():
    md = render(plans_report(), "markdown")
    lines = md.splitlines()
    assert lines[0] == "<!-- aidc-diff:lab -->"
    assert md.index("[!CAUTION]") < md.index("#### `aidc:")
    assert "**10** to create · **9** to update · **2** to replace · **2** to delete · 83 unchanged" in md
    assert "monthly cost $3,138.70 → $4,105.85 (**+$967.15**)" in md
    assert "```mermaid" in md and "n_aidc_storage_SharedStorage" in md


def _huge_report(n: int):
    base = plans_report()
    filler = tuple(ResourceChange(
        urn=f"urn:pulumi:prod::aidc::aidc:datacenter:AiDatacenter$aidc:training:Training$kubernetes:core/v1:ConfigMap::cm-{i:05d}",
        type="kubernetes:core/v1:ConfigMap", op="update", component="aidc:training:Training",
        changes=tuple(Change(f"data.key{j}", "a" * 50, "b" * 50) for j in range(4))) for i in range(n))
    return replace(base, changes=base.changes + filler)


def test_size_cap_folds_and_truncates_with_a_note():
    report = _huge_report(3000)
    full_rows = sum(1 for r in report.changes if r.op != "same")
    md = render(report, "markdown")
    assert len(md) <= markdown.LIMIT
    assert "<details><summary><code>aidc:training:Training</code>" in md  # long tables fold
    assert "not shown (comment size limit)" in md
    assert md.index("[!CAUTION]") < 2000  # the warning survives truncation, at the top
    assert "#### Policy" in md and md.rstrip().endswith("```")  # the tail (policy, diagram) is kept
    assert md.count("\n| 🟡 update |") < full_rows


def test_small_reports_are_not_folded():
    md = render(plans_report(), "markdown")
    assert "<details><summary><code>" not in md and "not shown" not in md


def test_text_and_json_formats():
    report = plans_report()
    text = render(report, "text")
    assert "DATA LOSS: replace aidc-lab-datasets [aws:s3/bucket:Bucket] (forced by bucket)" in text
    assert "NEW   [mandatory] nat-gateway-per-az aidc-lab-nat-0" in text
    doc = json.loads(render(report, "json"))
    assert doc["counts"]["replace"] == 2 and doc["cost"]["monthlyUsdDelta"] == pytest.approx(967.15)
    bucket = next(r for r in doc["resources"] if r["urn"].endswith("s3/bucket:Bucket::aidc-lab-datasets"))
    assert bucket["replaceReasons"] == ["bucket"] and bucket["protect"] is True
    assert [r["urn"].rsplit("::", 1)[-1] for r in doc["dataLoss"]] == ["aidc-lab-datasets"]


def test_data_loss_says_what_guards_the_data():
    report = plans_report()

    def guarded(**kw) -> str:
        changes = tuple(replace(r, **kw) if r.destroys_data else r for r in report.changes)
        return render(replace(report, changes=changes), "markdown")

    lost = "objects in the bucket would be lost."
    assert f"{lost} 🔒 protected" in render(report, "markdown")  # prod protects and retains it
    assert f"{lost} retained on delete" in guarded(protect=False)
    assert f"{lost} **not protected: the data is destroyed**" in guarded(protect=False, retain_on_delete=False)


# ---------------------------------------------------------------- CLI


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def plan_files(tmp_path_factory):
    """BASE and HEAD as plan documents (what `aidc plan --json` writes)."""
    d = tmp_path_factory.mktemp("plans")
    (d / "base.json").write_text(dumps(planned(BASE_STACK).document))
    (d / "head.json").write_text(dumps(planned(HEAD_STACK).document))
    return d / "base.json", d / "head.json"


def test_cli_diff_two_plans(capsys, tmp_path, plan_files):
    out_file = tmp_path / "c.md"
    code, _, err = run(capsys, "diff", str(plan_files[0]), str(plan_files[1]), "--output", str(out_file))
    assert code == 0, err
    assert "**replace** `aidc-lab-datasets`" in out_file.read_text()


def test_cli_diff_two_plans_as_json(capsys, plan_files):
    code, out, err = run(capsys, "diff", str(plan_files[0]), str(plan_files[1]), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["counts"] == {"create": 10, "update": 9, "replace": 2, "delete": 2, "same": 83}


def test_cli_diff_preview_json(capsys, tmp_path):
    path = tmp_path / "preview.json"
    path.write_text(json.dumps(preview_doc()))
    code, out, err = run(capsys, "diff", "--preview", str(path), "--json")
    assert code == 0, err
    assert json.loads(out)["counts"]["replace"] == 1  # the preview says which: here only the bucket


@pytest.mark.parametrize("argv,message", [
    (["diff", "pyproject.toml", "pyproject.toml"], "not JSON"),
    (["diff", "--preview", "no/such/file.json"], "cannot read plan"),
    (["diff", str(BASE_STACK)], "give BASE and HEAD"),
])
def test_cli_bad_input_exits_2(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err and "Traceback" not in err


def test_cli_not_a_plan_document(capsys, tmp_path, plan_files):
    f = tmp_path / "x.json"
    f.write_text('{"resources": []}')
    code, _, err = run(capsys, "diff", str(f), str(plan_files[1]))
    assert code == 2 and "not a plan document" in err


def test_cli_plans_of_different_stacks_are_compared_as_two_stacks(capsys, tmp_path, plan_files):
    other = tmp_path / "dev.json"
    other.write_text(plan_files[1].read_text().replace("urn:pulumi:lab::", "urn:pulumi:dev::"))
    code, out, err = run(capsys, "diff", str(plan_files[0]), str(other), "--format", "text")
    assert code == 0, err
    assert out.startswith("aidc diff: stack lab compared with stack dev (two stacks, not a change)")
