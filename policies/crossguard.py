"""The same rules as CrossGuard policies: a ResourceValidationPolicy or StackValidationPolicy
per rule. `__main__.py` hands these to `PolicyPack` (which starts the analyzer server);
tests call `policy.validate(args, report)` on them directly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)
from pulumi_policy.proxy import _DictProxy, _ListProxy

from aidc.plan import Plan, Resource
from components.spec.engine_config import decode_config

from .rule import Context, Rule, all_rules

_LEVELS = {"advisory": EnforcementLevel.ADVISORY, "mandatory": EnforcementLevel.MANDATORY,
           "disabled": EnforcementLevel.DISABLED}
_SEVERITY = {"low": Severity.LOW, "medium": Severity.MEDIUM, "high": Severity.HIGH, "critical": Severity.CRITICAL}
_JSON_TYPES = {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}


def plain(value: Any) -> Any:
    """Unwrap pulumi-policy's proxies without tripping on unknowns (the cost model skips them)."""
    if isinstance(value, (_DictProxy, _ListProxy)):
        value = value["__target"]  # the proxies hand out their target under this key, unchecked
    if isinstance(value, Mapping):
        return {k: plain(value[k]) for k in value}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [plain(v) for v in value]
    return value


def stack_config() -> dict[str, Any]:
    """The stack's config as the engine hands it to the policy pack (empty when it does not)."""
    return decode_config(pulumi.runtime.get_config_env())


def stack_override(rule: Rule, config: Mapping[str, Any]) -> dict[str, Any]:
    """The stack's own `aidc:policy.overrides.<rule>` parameters. The program validated them
    (a reason is required) before any resource reached the pack; `aidc policy` prints them."""
    overrides = (config.get("aidc:policy") or {}).get("overrides") or {}
    return {k: v for k, v in (overrides.get(rule.name) or {}).items() if k in rule.params}


def _params(rule: Rule, config: Mapping[str, Any] | None, stack: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The rule's defaults, then the policy-pack config, then the stack's reviewed override."""
    return {**rule.params, **{k: v for k, v in (config or {}).items() if k in rule.params},
            **stack_override(rule, stack or {})}


def _schema(rule: Rule) -> PolicyConfigSchema | None:
    if not rule.params:
        return None
    return PolicyConfigSchema({k: {"type": _JSON_TYPES[type(v)]} for k, v in rule.params.items()})


def to_policy(rule: Rule) -> ResourceValidationPolicy | StackValidationPolicy:
    common = dict(name=rule.name, description=rule.description, enforcement_level=_LEVELS[rule.enforcement],
                  severity=_SEVERITY[rule.severity], remediation_steps=rule.remediation,
                  config_schema=_schema(rule), tags=[rule.category])
    if rule.kind == "resource":
        def validate(args, report_violation):
            if not rule.applies_to(args.resource_type):
                return
            ctx = Context(_params(rule, args.get_config(), stack_config()), urn=args.urn,
                          protect=bool(args.opts.protect))
            for msg in rule.check(args.resource_type, args.props, ctx):
                report_violation(msg, None)
        return ResourceValidationPolicy(validate=validate, **common)

    def validate_stack(args, report_violation):
        resources = tuple(Resource(
            urn=r.urn, type=r.resource_type, inputs=plain(r.props), parent=r.parent.urn if r.parent else "",
            dependencies=tuple(d.urn for d in r.dependencies), protect=bool(r.opts.protect))
            for r in args.resources)
        plan = Plan(resources, stack_config(), {}, "crossguard")
        for urn, msg in rule.check(plan, Context(_params(rule, args.get_config(), plan.config), plan=plan)):
            report_violation(msg, urn)
    return StackValidationPolicy(validate=validate_stack, **common)


def policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    return [to_policy(r) for r in all_rules()]
