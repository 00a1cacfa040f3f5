"""Provider-level replacement: what a change of a provider's own configuration does to the
resources under it. The keys and where they were read are catalog data
(components/catalog/replace_on_change.yaml `providers`); this module applies them:

- aws: pulumi-aws copies the provider's region into each regional resource's `region` input and
  terraform-provider-aws forces a new resource when it changes; the provider itself is updated.
- kubernetes: the provider's DiffConfig replaces the provider, and so every resource under it,
  when the cluster it points at changes (or is unknown at preview because it is being replaced).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from aidc.plan import SECRET, UNKNOWN, Plan, Resource
from components.catalog import ProviderRule

PROVIDER_PREFIX = "pulumi:providers:"


@dataclass(frozen=True)
class ProviderVerdict:
    """How one provider's change reaches the resources under it."""

    replaced: tuple[str, ...] = ()  # keys that replace the provider, and every resource under it
    # key -> (old, new): provider values that reach each resource's own inputs (aws: region)
    resource_inputs: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    rule: ProviderRule | None = None

    def forced_inputs(self, res: Resource) -> dict[str, tuple[Any, Any]]:
        """The provider values that force `res` to be replaced: none for a global type, nor for
        a resource that sets the input itself (applyRegion keeps a resource's own region)."""
        if self.rule is None or self.rule.is_global(res.type):
            return {}
        return {k: v for k, v in self.resource_inputs.items() if res.inputs.get(k) is None}


def package(res: Resource) -> str:
    return res.type[len(PROVIDER_PREFIX):] if res.type.startswith(PROVIDER_PREFIX) else ""


def inputs_of(plan: Plan, res: Resource) -> dict[str, Any]:
    """A provider's configuration: its inputs, or for a default provider (which takes its
    configuration from the stack config, e.g. `aws:region`) the config of its package."""
    name = res.urn.rsplit("::", 1)[-1]
    if name != "default" and not name.startswith("default_"):  # Pulumi names them default_<version>
        return res.inputs
    prefix = f"{package(res)}:"
    return {k[len(prefix):]: v for k, v in plan.config.items() if k.startswith(prefix)} | res.inputs


def judge(rule: ProviderRule | None, old: dict[str, Any], new: dict[str, Any],
          depends_on_replaced: bool) -> ProviderVerdict:
    """The verdict for one provider from its old and new configuration. `depends_on_replaced`:
    the provider's inputs come from a resource this change replaces, so a real preview sees
    them as unknown."""
    if rule is None:
        return ProviderVerdict()
    forced = {}
    if rule.resource_input and _known(old.get(rule.resource_input)) and _known(new.get(rule.resource_input)) \
            and old[rule.resource_input] != new[rule.resource_input]:
        forced[rule.resource_input] = (old[rule.resource_input], new[rule.resource_input])
    return ProviderVerdict(_replaced(rule, old, new, depends_on_replaced), forced, rule)


def _known(value: Any) -> bool:
    return value is not None and value not in (UNKNOWN, SECRET)


def _replaced(rule: ProviderRule, old: dict[str, Any], new: dict[str, Any], unknown: bool) -> tuple[str, ...]:
    """pulumi-kubernetes DiffConfig (provider.go v4.32.0, lines 454-569), step by step."""
    ident = rule.identity
    if ident and ident in old and ident in new and old[ident] == new[ident]:
        return ()  # a set, unchanged cluster identifier cancels every replacement (lines 495-502)
    out = [ident] if ident and ident in old and ident in new else []  # changed (lines 490-492)
    for key in rule.cluster_keys:  # unknown at preview: replace (lines 505-516)
        if key in new and (new[key] == UNKNOWN or unknown):
            return (*out, key)
    changed = [k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
    out += [k for k in rule.replace_on_changes if k in changed]
    before, after = _active_cluster(old), _active_cluster(new)
    if before is not None and after is not None and before != after:  # lines 553-560
        out += [k for k in rule.cluster_keys if k in changed]
    return tuple(out)


def _active_cluster(config: dict[str, Any]) -> dict[str, Any] | None:
    """The cluster entry the kubeconfig's current (or overriding) context points at, as
    getActiveClusterFromConfig does (util.go v4.32.0, lines 201-226); None when not found or
    not readable here (a secret kubeconfig)."""
    text = config.get("kubeconfig")
    if not isinstance(text, str) or text in (SECRET, UNKNOWN):
        return None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(doc, dict):
        return None
    contexts = {c.get("name"): c.get("context") or {} for c in doc.get("contexts") or [] if isinstance(c, dict)}
    clusters = {c.get("name"): c.get("cluster") for c in doc.get("clusters") or [] if isinstance(c, dict)}
    context = contexts.get(config.get("context") or doc.get("current-context"))
    if context is None:
        return None
    cluster = clusters.get(config.get("cluster") or context.get("cluster"))
    return cluster if isinstance(cluster, dict) else None
