"""`aidc diff`: what a change does to the infrastructure, for a pull-request review.

Pure: reads plan documents (`aidc.plan.Plan`), never Pulumi. Replacement rules and the
types that hold data are catalog data (components/catalog/replace_on_change.yaml)."""

from __future__ import annotations

from . import markdown, text
from .compare import OPS, Change, ResourceChange, compare_plans, from_preview
from .report import DiffReport, compare_stacks, diff_plans, diff_preview, to_json
from .verdicts import CostDelta, PolicyDelta, Verdict

__all__ = [
    "FORMATS", "OPS", "Change", "CostDelta", "DiffReport", "PolicyDelta", "ResourceChange", "Verdict",
    "compare_plans", "compare_stacks", "diff_plans", "diff_preview", "from_preview", "render", "to_json",
]

FORMATS = ("markdown", "text", "json")


def render(report: DiffReport, fmt: str = "markdown") -> str:
    if fmt == "markdown":
        return markdown.render(report)
    if fmt == "text":
        return text.render(report)
    import json
    return json.dumps(to_json(report), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
