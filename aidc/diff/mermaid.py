"""Mermaid diagram of the components a change touches (GitHub renders it in a comment)."""

from __future__ import annotations

import re

from .report import DiffReport

_CLASSES = ("classDef destroy fill:#fde2e1,stroke:#c62828,color:#000",
            "classDef create fill:#e3f4e4,stroke:#2e7d32,color:#000",
            "classDef update fill:#fff4d6,stroke:#b7791f,color:#000")


def node_id(name: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def label(text: str) -> str:
    """Text safe inside a quoted Mermaid label."""
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def short(component: str) -> str:
    """'aidc:network:Network' -> 'Network'."""
    return component.rsplit(":", 1)[-1] if component.startswith("aidc:") else component


def changed_components(report: DiffReport) -> str:
    groups = report.by_component()
    lines = ["flowchart LR"]
    for comp, rows in groups.items():
        counts = [f"{sym}{n}" for sym, op in (("+", "create"), ("~", "update"), ("±", "replace"), ("−", "delete"))
                  if (n := sum(r.op == op for r in rows))]
        worst = "destroy" if any(r.op in ("delete", "replace") for r in rows) else \
            "create" if all(r.op == "create" for r in rows) else "update"
        loss = " ⚠ data" if any(r.destroys_data for r in rows) else ""
        lines.append(f'  {node_id(comp)}["{label(short(comp))}<br/>{" ".join(counts)}{loss}"]:::{worst}')
    component_of = {r.urn: r.component for r in report.changes}
    edges = set()
    for r in report.changes:
        for dep in r.dependencies:
            src = component_of.get(dep)
            if src and src != r.component and src in groups and r.component in groups:
                edges.add((src, r.component))
    lines += [f"  {node_id(a)} --> {node_id(b)}" for a, b in sorted(edges)]
    lines += [f"  {c}" for c in _CLASSES]
    return "\n".join(lines)
