"""What a plan's Kueue objects grant: one line per ClusterQueue and flavor, read from the plan
document alone (so it works on a real `pulumi preview --json` too)."""

from __future__ import annotations

from .plan import Plan

CLUSTER_QUEUE = "kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue"
RESOURCE_FLAVOR = "kubernetes:kueue.x-k8s.io/v1beta2:ResourceFlavor"


def queue_lines(plan: Plan) -> list[str]:
    """`queues:` then `  research -> train-h100: 80 GPUs (+40 borrowable), cohort h100`, ..."""
    queues = plan.of_type(CLUSTER_QUEUE)
    if not queues:
        return []
    flavors = sorted((r.inputs.get("metadata") or {}).get("name", "?") for r in plan.of_type(RESOURCE_FLAVOR))
    lines = [f"queues (flavors: {', '.join(flavors) or 'none'}):"]
    for r in sorted(queues, key=lambda r: (r.inputs.get("metadata") or {}).get("name", "")):
        spec = r.inputs.get("spec") or {}
        name = (r.inputs.get("metadata") or {}).get("name", r.name)
        cohort = f", cohort {spec['cohortName']}" if spec.get("cohortName") else ""
        grants = []
        for group in spec.get("resourceGroups") or []:
            for flavor in group.get("flavors") or []:
                gpu = next((q for q in flavor.get("resources") or [] if q.get("name") == "nvidia.com/gpu"), None)
                if gpu is None:
                    continue
                borrow = f" (+{gpu['borrowingLimit']} borrowable)" if "borrowingLimit" in gpu else \
                    (" (+idle cohort GPUs)" if cohort else "")
                grants.append(f"{flavor['name']}: {gpu['nominalQuota']} GPUs{borrow}")
        lines.append(f"  {name} -> {'; '.join(grants) or 'no quota'}{cohort}")
    return lines
