"""The offline policy runner: every rule of policies/rules over a plan document, with the
enforcement levels and parameters of policies/config/<environment>.json (CrossGuard's
policy-config format), exactly as `pulumi preview --policy-pack policies` would apply them."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy
from pydantic import ValidationError

from components.catalog import catalog
from components.spec import PolicySpec
from components.suggest import did_you_mean
from policies.rule import ENFORCEMENTS, Context, Rule, all_rules

from .errors import Problem, UserError
from .plan import Plan

CONFIG_DIR = Path(__file__).resolve().parent.parent / "policies" / "config"
SEVERITY_ORDER = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class Violation:
    policy: str
    severity: str
    enforcement: str  # mandatory | advisory | disabled
    urn: str
    message: str
    remediation: str = ""


@dataclass(frozen=True)
class Override:
    """A stack's own setting of a rule's parameters, with the reason a reviewer reads."""

    policy: str
    params: dict[str, Any]
    reason: str
    replaces: dict[str, Any]  # the environment's values it sets aside

    def describe(self) -> str:
        sets = ", ".join(f"{k} {json.dumps(v)} (environment: {json.dumps(self.replaces.get(k))})"
                         for k, v in self.params.items())
        return f"{self.policy}: {sets}; reason: {self.reason}"


@dataclass
class PolicyReport:
    environment: str
    config_source: str
    violations: list[Violation] = field(default_factory=list)
    # Rules that could not run on a resource because a value is known only after apply.
    unknown: list[Violation] = field(default_factory=list)
    rules_run: int = 0
    overrides: list[Override] = field(default_factory=list)

    @property
    def mandatory_failed(self) -> bool:
        return any(v.enforcement == "mandatory" for v in self.violations)

    def to_json(self) -> dict[str, Any]:
        def row(v: Violation) -> dict[str, str]:
            return {"policy": v.policy, "severity": v.severity, "enforcement": v.enforcement, "urn": v.urn,
                    "message": v.message, "remediation": v.remediation}
        return {"environment": self.environment, "config": self.config_source, "rulesRun": self.rules_run,
                "mandatoryFailed": self.mandatory_failed, "violations": [row(v) for v in self.violations],
                "overrides": [{"policy": o.policy, "params": o.params, "environment": o.replaces, "reason": o.reason}
                              for o in self.overrides],
                "notEvaluated": [row(v) for v in self.unknown]}


def _type_name(v: Any) -> str:
    return "number" if isinstance(v, (int, float)) and not isinstance(v, bool) else {
        bool: "boolean", str: "string", list: "array", dict: "object"}.get(type(v), "value")


def _check_param(rule: Rule, key: str, value: Any, where: str) -> Problem | None:
    if key not in rule.params:
        return Problem(where, f"unknown parameter of {rule.name}; {did_you_mean(key, rule.params, empty='it takes none')}")
    want = _type_name(rule.params[key])
    if _type_name(value) != want:
        return Problem(where, f"expected a {want}, got {json.dumps(value)}")
    return None


def resolve_config(raw: Any, source: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """CrossGuard policy config -> {rule: (enforcement, params)}; every problem at once."""
    rules = {r.name: r for r in all_rules()}
    if not isinstance(raw, dict):
        raise UserError(f"{source}: not a policy config", [Problem("(file)", "expected a JSON object", source)])
    problems: list[Problem] = []
    default_level = None
    if "all" in raw:
        if raw["all"] not in ENFORCEMENTS:
            problems.append(Problem("all", f"{raw['all']!r} is not one of {', '.join(ENFORCEMENTS)}", source))
        default_level = raw["all"]
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, rule in rules.items():
        out[name] = (default_level or rule.enforcement, copy.deepcopy(dict(rule.params)))
    for name, value in raw.items():
        if name == "all":
            continue
        if name not in rules:
            hint = did_you_mean(name, rules, otherwise="see docs/policies.md for the rule names")
            problems.append(Problem(name, f"unknown rule; {hint}", source))
            continue
        level, params = out[name]
        if isinstance(value, str):
            value = {"enforcementLevel": value}
        if not isinstance(value, dict):
            problems.append(Problem(name, "expected an enforcement level or an object", source))
            continue
        for key, v in value.items():
            if key == "enforcementLevel":
                if v not in ENFORCEMENTS:
                    problems.append(Problem(f"{name}.{key}", f"{v!r} is not one of {', '.join(ENFORCEMENTS)}", source))
                level = v
            elif (p := _check_param(rules[name], key, v, f"{name}.{key}")) is not None:
                problems.append(Problem(p.path, p.message, source))
            else:
                params[key] = v
        out[name] = (level, params)
    if problems:
        raise UserError(f"{source}: invalid policy config", problems)
    return out


OVERRIDES = "aidc:policy"


def stack_overrides(config: dict[str, Any], levels: dict[str, tuple[str, dict[str, Any]]]) -> list[Override]:
    """`aidc:policy.overrides` of the plan's stack, checked against the rules: every problem
    (unknown rule or parameter, wrong type, no reason) at once, as bad input."""
    raw = config.get(OVERRIDES)
    if raw is None:
        return []
    try:
        spec = PolicySpec.model_validate(raw)
    except ValidationError as err:
        raise UserError("invalid aidc:policy overrides", [
            Problem(OVERRIDES + "".join(f".{p}" for p in e["loc"]),
                    "required: say why, and who approved it" if e["type"] == "missing" else
                    e["msg"].removeprefix("Value error, ")) for e in err.errors()]) from None
    rules = {r.name: r for r in all_rules()}
    problems: list[Problem] = []
    out: list[Override] = []
    for name, ov in spec.overrides.items():
        where = f"{OVERRIDES}.overrides.{name}"
        if name not in rules:
            problems.append(Problem(where, f"unknown rule; {did_you_mean(name, rules, otherwise='see docs/policies.md')}"))
            continue
        if not ov.params:
            problems.append(Problem(where, f"sets none of the rule's parameters ({', '.join(rules[name].params) or 'none'})"))
        found = [p for key, value in ov.params.items() if (p := _check_param(rules[name], key, value, f"{where}.{key}"))]
        problems += found
        if not found:
            env_params = levels[name][1]
            out.append(Override(name, ov.params, ov.reason.strip(), {k: env_params.get(k) for k in ov.params}))
    if problems:
        raise UserError("invalid aidc:policy overrides", problems)
    return out


def load_config(environment: str, config: str | Path | dict | None) -> tuple[dict[str, Any], str]:
    if isinstance(config, dict):
        return config, "(given)"
    path = Path(config) if config is not None else CONFIG_DIR / f"{environment}.json"
    if config is None and not path.is_file():
        raise UserError(f"no policy config for environment {environment!r} ({path})")
    try:
        return json.loads(path.read_text(encoding="utf-8")), str(path)
    except OSError as exc:
        raise UserError(f"cannot read policy config {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise UserError(f"{path}: not JSON", [Problem("(file)", str(exc), str(path))]) from None


def evaluate(plan: Plan, environment: str | None = None, config: str | Path | dict | None = None) -> PolicyReport:
    """Judge a plan. The environment defaults to the plan's aidc:environment (else prod, the strictest)."""
    env = environment or str(plan.config.get("aidc:environment") or "prod")
    raw, source = load_config(env, config)
    levels = resolve_config(raw, source)
    overrides = stack_overrides(dict(plan.config), levels)
    for o in overrides:
        level, params = levels[o.policy]
        levels[o.policy] = (level, {**params, **o.params})
    report = PolicyReport(env, source, overrides=overrides)
    cat = catalog()
    live = [r for r in plan.resources if r.op != "delete"]
    for rule in all_rules():
        level, params = levels[rule.name]
        if level == "disabled":
            continue
        report.rules_run += 1

        def add(urn: str, msg: str, bucket: list[Violation] = report.violations, rule: Rule = rule,
                level: str = level) -> None:
            bucket.append(Violation(rule.name, rule.severity, level, urn, msg, rule.remediation))

        if rule.kind == "stack":
            try:
                for urn, msg in rule.check(plan, Context(params, plan=plan, catalog=cat)):
                    add(urn or f"urn:pulumi:{plan.stack}::stack", msg)
            except UnknownValueError as e:
                add("", e.message, report.unknown)
            continue
        for res in live:
            if not rule.applies_to(res.type):
                continue
            props = unknown_checking_proxy(copy.deepcopy(res.inputs))
            ctx = Context(params, urn=res.urn, protect=res.protect, plan=plan, catalog=cat)
            try:
                for msg in rule.check(res.type, props, ctx):
                    add(res.urn, msg)
            except UnknownValueError as e:
                add(res.urn, e.message, report.unknown)
    report.violations.sort(key=lambda v: (v.enforcement != "mandatory", SEVERITY_ORDER.index(v.severity),
                                          v.policy, v.urn))
    return report
