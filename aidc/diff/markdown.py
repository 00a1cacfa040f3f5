"""The diff as a GitHub pull-request comment: summary, data-loss warnings first, a table per
component, policy verdicts, cost, and a Mermaid diagram; always under GitHub's comment limit."""

from __future__ import annotations

from .compare import ResourceChange
from .mermaid import changed_components
from .report import DiffReport
from .values import show, show_pair

LIMIT = 65_536  # GitHub rejects longer issue and pull-request comments
FOLD_ROWS = 15  # a component table longer than this is folded into <details>
MAX_CHANGES = 8  # property changes shown per resource
SYMBOL = {"create": "🟢 create", "update": "🟡 update", "replace": "🔴 replace", "delete": "🔴 delete"}
PLURAL = {"create": "to create", "update": "to update", "replace": "to replace", "delete": "to delete"}


def marker(stack: str) -> str:
    """The hidden first line CI looks for to update its comment instead of adding one."""
    return f"<!-- aidc-diff:{stack} -->"


def usd(v: float, signed: bool = False) -> str:
    sign = ("+" if v > 0 else "−" if v < 0 else "±") if signed else ("−" if v < 0 else "")
    return f"{sign}${abs(v):,.2f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _code(text: str) -> str:
    """Inline code for a table cell, also when the value itself holds backticks."""
    text = _cell(text)
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def summary(report: DiffReport) -> str:
    counts = report.counts
    c = report.cost
    if report.comparison:
        parts = [f"**{counts[op]}** {report.op_words(op)}" for op in ("delete", "create", "update", "replace")
                 if counts[op]]
        line = " · ".join(parts) or "**no differences**"
        line += f" · {counts['same']} the same"
        line += " · cost: not available" if c is None else \
            f" · monthly cost {report.base_stack} {usd(c.before)}, {report.stack} {usd(c.after)} " \
            f"(**{usd(c.delta, signed=True)}**)"
    else:
        parts = [f"**{counts[op]}** {PLURAL[op]}" for op in ("create", "update", "replace", "delete") if counts[op]]
        line = " · ".join(parts) or "**no changes**"
        line += f" · {counts['same']} unchanged"
        line += " · cost: not available" if c is None else \
            f" · monthly cost {usd(c.before)} → {usd(c.after)} (**{usd(c.delta, signed=True)}**)"
    if c is not None and c.kg_delta is not None:
        line += f" · {c.carbon_text('→', stacks=(report.base_stack, report.stack) if report.comparison else None)}"
    if report.policy is None:
        line += " · policy: not available"
    return line


def protection(r: ResourceChange) -> str:
    if r.protect:
        return "🔒 protected: `pulumi up` stops with an error instead of deleting it (remove `protect` to proceed)"
    if r.retain_on_delete:
        return "retained on delete: the old resource stays in the cloud, unmanaged; its replacement starts empty"
    return "**not protected: the data is destroyed**"


def warnings(report: DiffReport) -> list[str]:
    loss, risk = report.data_loss, report.at_risk
    if not loss and not risk:
        return []
    lines = ["> [!CAUTION]"]
    if loss:
        lines.append(f"> **Data loss:** this change deletes or replaces {len(loss)} "
                     f"resource{'s' * (len(loss) != 1)} that hold{'s' * (len(loss) == 1)} data.")
    for r in loss:
        why = f", forced by {', '.join(f'`{p}`' for p in r.replace_reasons)}" if r.replace_reasons else ""
        lines.append(f"> - **{r.op}** `{r.name}` ({r.type}{why}): {r.holds_data} would be lost. {protection(r)}.")
    for r in risk:
        lines.append(f"> - **may be replaced** `{r.name}` ({r.type}): it depends on "
                     f"{', '.join(f'`{n}`' for n in r.knock_on)}, which {'is' if len(r.knock_on) == 1 else 'are'} "
                     f"replaced; if the new ID reaches a replace-on-change property, {r.holds_data} would be lost. "
                     "Offline plans cannot tell: check `pulumi preview`.")
    return lines


def _changes_cell(r: ResourceChange) -> str:
    if r.op in ("create", "delete"):
        return ""
    shown = []
    for c in r.changes[:MAX_CHANGES]:
        flag = " ⚠️ forces replacement" if c.forces_replace else ""
        old, new = show_pair(c.old, c.new)
        shown.append(f"{_code(c.path)}: {_code(old)} → {_code(new)}{flag}")
    if len(r.changes) > MAX_CHANGES:
        shown.append(f"… {len(r.changes) - MAX_CHANGES} more")
    if "provider" in r.replace_reasons:
        shown.append("provider changed ⚠️ forces replacement")
    return "<br>".join(shown)


def _row(r: ResourceChange, report: DiffReport) -> str:
    short = r.type.split(":", 1)[-1]
    what = f"{SYMBOL[r.op].split()[0]} {report.op_words(r.op)}" if report.comparison else SYMBOL[r.op]
    return f"| {what} | `{_cell(r.name)}` | `{short}` | {_changes_cell(r)} |"


def _component_section(name: str, rows: list[ResourceChange], budget: int,
                       report: DiffReport) -> tuple[str, int]:
    """The component's table within `budget` characters; returns (text, rows left out)."""
    ops = ", ".join(f"{sum(r.op == op for r in rows)} {report.op_words(op)}" for op in ("create", "update", "replace", "delete")
                    if any(r.op == op for r in rows))
    head = [f"#### `{name}` ({ops})", "", "| | resource | type | changes |", "|---|---|---|---|"]
    fold = len(rows) > FOLD_ROWS
    if fold:
        head = [f"<details><summary><code>{name}</code> ({ops})</summary>", "",
                "| | resource | type | changes |", "|---|---|---|---|"]
    tail = ["", "</details>", ""] if fold else [""]
    text = "\n".join(head)
    left = 0
    for i, r in enumerate(rows):
        row = "\n" + _row(r, report)
        if len(text) + len(row) + 200 > budget:
            left = len(rows) - i
            break
        text += row
    if left:
        text += f"\n\n_… {left} more resource{'s' * (left != 1)} in `{name}` not shown (comment size limit); " \
                "run `aidc diff` locally or see the job log for all of them._"
    return text + "\n" + "\n".join(tail), left


def _policy(report: DiffReport) -> list[str]:
    p = report.policy
    if p is None:
        return ["#### Policy", "", "policy: not available", ""]
    out = ["#### Policy", ""]
    if p.overrides:
        out += [f"**Stack overrides ({len(p.overrides)}), each with its reason:**", ""]
        out += [f"- ⚖️ {_cell(o)}" for o in p.overrides]
        out.append("")
    if not p.new and not p.fixed:
        return out + [f"No new violations and none fixed ({p.remaining} unchanged).", ""]
    if p.new:
        new = f"Only in `{report.stack}`" if report.comparison else "New in this change"
        out += [f"**{new} ({len(p.new)}, {p.mandatory_new} mandatory):**", "",
                "| | policy | resource | message |", "|---|---|---|---|"]
        out += [f"| {'⛔' if v.mandatory else '⚠️'} {v.enforcement} | `{v.policy}` | `{v.urn.rsplit('::', 1)[-1] or '(stack)'}`"
                f" | {_cell(show(v.message, 160))} |" for v in p.new]
        out.append("")
    if p.fixed:
        fixed = f"Only in `{report.base_stack}`" if report.comparison else "Fixed by this change"
        out += [f"**{fixed} ({len(p.fixed)}):**", ""]
        out += [f"- ✅ `{v.policy}` on `{v.urn.rsplit('::', 1)[-1] or '(stack)'}`" for v in p.fixed]
        out.append("")
    return out


def _cost(report: DiffReport) -> list[str]:
    c = report.cost
    if c is None or not (c.by_component or c.by_pool):
        return []
    before, after = (f"`{report.base_stack}`", f"`{report.stack}`") if report.comparison else ("before", "after")
    out = ["#### Monthly cost", ""]
    for title, parts in (("component", c.by_component), ("pool", c.by_pool)):
        if parts:
            out += [f"| {title} | {before} | {after} | delta |", "|---|--:|--:|--:|"]
            out += [f"| `{k}` | {usd(b)} | {usd(a)} | {usd(a - b, signed=True)} |" for k, (b, a) in parts.items()]
            out.append("")
    return out


def render(report: DiffReport, limit: int = LIMIT) -> str:
    title = f"stack `{report.base_stack}` compared with stack `{report.stack}` (two stacks, not a change)" \
        if report.comparison else f"stack `{report.stack}`"
    top = [marker(report.stack), f"### aidc diff · {title}", "",
           f"<sub>{_cell(report.base)} → {_cell(report.head)}</sub>", "", summary(report), ""]
    caution = warnings(report)
    top += caution + ([""] if caution else [])
    groups = report.by_component()
    bottom = _policy(report) + _cost(report)
    if groups:
        bottom += ["#### What differs" if report.comparison else "#### What changes", "", "```mermaid", changed_components(report), "```", ""]
    head_text, tail_text = "\n".join(top), "\n".join(bottom)
    budget = limit - len(head_text) - len(tail_text) - 400
    if budget < 2000:  # policy tables can be long too: keep the part that decides the review
        tail_text = tail_text[: max(0, limit // 4)] + "\n\n_… policy and cost details cut (comment size limit)._\n"
        budget = limit - len(head_text) - len(tail_text) - 400
    sections = []
    if not groups:
        sections.append("No resource changes.\n")
    for name, rows in groups.items():
        text, _ = _component_section(name, rows, budget, report)
        budget -= len(text)
        sections.append(text)
    out = "\n".join([head_text, *sections, tail_text]).rstrip() + "\n"
    if len(out) > limit:  # a last guard: never hand GitHub more than it takes
        note = "\n\n_… cut at GitHub's comment size limit._\n"
        out = out[: limit - len(note)] + note
    return out
