"""The diff as plain text for a terminal or a CI log."""

from __future__ import annotations

from .markdown import PLURAL, protection, usd
from .report import DiffReport
from .values import show_pair

_SIGN = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}


def render(report: DiffReport) -> str:
    counts = report.counts
    out = [f"aidc diff: {report.title} ({report.base} -> {report.head})"]
    if report.comparison:
        parts = [f"{counts[op]} {report.op_words(op)}" for op in ("delete", "create", "update", "replace") if counts[op]]
        out.append(", ".join(parts or ["no differences"]) + f", {counts['same']} the same")
    else:
        parts = [f"{counts[op]} {PLURAL[op]}" for op in ("create", "update", "replace", "delete") if counts[op]]
        out.append(", ".join(parts or ["no changes"]) + f", {counts['same']} unchanged")
    c = report.cost
    if c is not None and report.comparison:
        out.append(f"monthly cost: {report.base_stack} {usd(c.before)}, {report.stack} {usd(c.after)} "
                   f"({usd(c.delta, signed=True)})")
    else:
        out.append("cost: not available" if c is None else
                   f"monthly cost: {usd(c.before)} -> {usd(c.after)} ({usd(c.delta, signed=True)})")
    if c is not None and c.kg_delta is not None:
        out.append(c.carbon_text(stacks=(report.base_stack, report.stack) if report.comparison else None))
    for r in report.data_loss:
        why = f" (forced by {', '.join(r.replace_reasons)})" if r.replace_reasons else ""
        out.append(f"DATA LOSS: {r.op} {r.name} [{r.type}]{why}: {r.holds_data} would be lost; "
                   f"{protection(r).replace('*', '').replace('`', '')}")
    for r in report.at_risk:
        out.append(f"MAY BE REPLACED: {r.name} [{r.type}] depends on replaced {', '.join(r.knock_on)}; "
                   f"{r.holds_data} would be lost if a new ID reaches a replace-on-change property")
    for comp, rows in report.by_component().items():
        out.append(f"\n{comp}")
        for r in rows:
            out.append(f"  {_SIGN[r.op]:>2} {r.name} [{r.type}] {report.op_words(r.op)}")
            for ch in r.changes if r.op in ("update", "replace") else ():
                flag = "  (forces replacement)" if ch.forces_replace else ""
                old, new = show_pair(ch.old, ch.new)
                out.append(f"       {ch.path}: {old} -> {new}{flag}")
    p = report.policy
    out.append("")
    if p is None:
        out.append("policy: not available")
    else:
        new, fixed = (f"ONLY IN {report.stack}", f"ONLY IN {report.base_stack}") if report.comparison \
            else ("NEW  ", "FIXED")
        if report.comparison:
            out.append(f"policy: {len(p.new)} violation(s) only in {report.stack}, {len(p.fixed)} only in "
                       f"{report.base_stack}, {p.remaining} in both")
        else:
            out.append(f"policy: {len(p.new)} new violation(s), {len(p.fixed)} fixed, {p.remaining} unchanged")
        out += [f"  OVERRIDE {o}" for o in p.overrides]
        out += [f"  {new} [{v.enforcement}] {v.policy} {v.urn.rsplit('::', 1)[-1]}: {v.message}" for v in p.new]
        out += [f"  {fixed} [{v.enforcement}] {v.policy} {v.urn.rsplit('::', 1)[-1]}" for v in p.fixed]
    return "\n".join(out) + "\n"
