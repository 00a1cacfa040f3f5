"""The plan document: JSON in the shape of `pulumi preview --json` (Pulumi's PreviewDigest).

`aidc plan` writes it; policy, cost and diff read it, whether it came from the offline
engine or from a real `pulumi preview --json`."""

from __future__ import annotations

import hashlib
import heapq
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi.runtime import rpc

from .errors import Problem, UserError

SECRET = "[secret]"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # Pulumi's sentinel for a value known only after apply
STACK_TYPE = "pulumi:pulumi:Stack"
# Components the Kubernetes provider expands when it deploys them (a manifest file, a v4 chart):
# their objects are known only then, so in a plan the component stands for them.
EXPANDED_BY_PROVIDER = ("kubernetes:yaml/v2:ConfigFile", "kubernetes:yaml/v2:ConfigGroup", "kubernetes:helm.sh/v4:Chart")
DEFAULT_PROVIDER_ID = "00000000-0000-0000-0000-000000000000"




def stand_in(typ: str, name: str, n: int = 17) -> str:
    """The offline engine's stand-in for what the cloud computes for resource `name` of type
    `typ` (IDs, ARNs, endpoints): a digest of both, so a plan is the same on every run. A
    comparison of two stacks maps one stack's stand-ins onto the other's with it."""
    return hashlib.sha256(f"{typ}/{name}".encode()).hexdigest()[:n]


# ---------------------------------------------------------------- reading plans

@dataclass(frozen=True)
class Resource:
    """One resource of a plan, as policy, cost and diff see it."""

    urn: str
    type: str
    inputs: dict[str, Any]
    op: str = "create"
    custom: bool = True
    parent: str = ""
    provider: str = ""
    dependencies: tuple[str, ...] = ()
    # input property -> the URNs its value came from (Pulumi's `propertyDependencies`)
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    protect: bool = False
    retain_on_delete: bool = False
    aliases: tuple[str, ...] = ()  # the URNs it had before a rename
    old_inputs: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # the step's other fields (diffReasons, ...)

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def stack(self) -> str:
        return self.urn.split("::")[0].removeprefix("urn:pulumi:")

    @property
    def type_chain(self) -> list[str]:
        return self.urn.split("::")[2].split("$")


@dataclass(frozen=True)
class Plan:
    resources: tuple[Resource, ...]
    config: dict[str, Any]
    change_summary: dict[str, int]
    source: str = ""

    def by_urn(self) -> dict[str, Resource]:
        return {r.urn: r for r in self.resources}

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources if r.type in types]

    @property
    def stack(self) -> str:
        for r in self.resources:
            return r.stack
        return ""

    def component_of(self, res: Resource) -> str:
        """The concept a resource belongs to: the first component type under the datacenter."""
        chain = [t for t in res.type_chain if t.startswith("aidc:") and t != "aidc:datacenter:AiDatacenter"]
        return chain[0] if chain else (res.type_chain[0] if res.type_chain[0].startswith("aidc:") else "(stack)")


def parse_plan(doc: Any, source: str = "") -> Plan:
    """A plan document (ours or `pulumi preview --json`) as a Plan; UserError when it is not one."""
    if not isinstance(doc, dict) or not isinstance(doc.get("steps"), list):
        raise UserError(f"{source or 'plan'}: not a plan document",
                        [Problem("steps", "expected the JSON of `aidc plan --json` or `pulumi preview --json`", source)])
    resources = []
    for i, step in enumerate(doc["steps"]):
        if not isinstance(step, dict) or "urn" not in step:
            raise UserError(f"{source}: malformed step", [Problem(f"steps[{i}]", "a step needs op and urn", source)])
        state = step.get("newState") or step.get("oldState") or {}
        old = step.get("oldState")
        typ = state.get("type") or step["urn"].split("::")[2].split("$")[-1]
        resources.append(Resource(
            urn=step["urn"], type=typ, inputs=state.get("inputs") or {}, op=step.get("op", "create"),
            custom=bool(state.get("custom", True)), parent=state.get("parent", ""),
            provider=state.get("provider", ""), dependencies=tuple(state.get("dependencies") or ()),
            property_dependencies=_property_dependencies(state.get("propertyDependencies")),
            protect=bool(state.get("protect", False)), retain_on_delete=bool(state.get("retainOnDelete", False)),
            aliases=tuple(a for a in state.get("aliases") or () if isinstance(a, str)),
            old_inputs=(old.get("inputs") or {}) if isinstance(old, dict) else None,
            extra={k: v for k, v in step.items() if k not in ("op", "urn", "newState", "oldState")}))
    return Plan(tuple(resources), doc.get("config") or {}, doc.get("changeSummary") or {}, source)


def load_plan(path: str | Path) -> Plan:
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"cannot read plan {p}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"{p}: not JSON", [Problem("(file)", str(exc), str(p))]) from None
    return parse_plan(doc, str(p))


# ---------------------------------------------------------------- writing plans

def clean(value: Any) -> Any:
    """Engine values to plan JSON: secrets hidden, unknowns marked, whole floats as ints."""
    if rpc.is_rpc_secret(value):
        return SECRET
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if type(value).__name__ == "Unknown":
        return UNKNOWN
    return f"[{type(value).__name__}]"


def _order(states: dict[str, dict[str, Any]]) -> list[str]:
    """Dependencies first; ties broken by URN, so the same program gives the same order."""
    after: dict[str, set[str]] = {u: set() for u in states}
    pending = {u: 0 for u in states}
    for urn, st in states.items():
        needs = {st.get("parent", ""), st.get("provider", "").rsplit("::", 1)[0], *st.get("dependencies", [])}
        for n in needs:
            if n in states and n != urn:
                after[n].add(urn)
                pending[urn] += 1
    ready = [u for u, n in pending.items() if n == 0]
    heapq.heapify(ready)
    out = []
    while ready:
        u = heapq.heappop(ready)
        out.append(u)
        for v in after[u]:
            pending[v] -= 1
            if pending[v] == 0:
                heapq.heappush(ready, v)
    if len(out) != len(states):  # a cycle cannot happen in a Pulumi program; keep everything anyway
        out += sorted(set(states) - set(out))
    return out


def _property_dependencies(value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        return {}
    return {str(k): tuple(u for u in v if isinstance(u, str)) for k, v in value.items() if isinstance(v, list)}


def plan_document(registrations: Iterable[Any], *, stack: str, project: str,
                  config: dict[str, Any]) -> dict[str, Any]:
    """PreviewDigest JSON for a fresh stack (every step a create)."""
    states: dict[str, dict[str, Any]] = {}
    default_providers: dict[str, str] = {}
    former = former_urns(registrations)
    for r in registrations:
        provider = r.provider
        if r.custom and not provider and not r.type.startswith("pulumi:providers:"):
            pkg = r.type.split(":")[0]
            purn = f"urn:pulumi:{stack}::{project}::pulumi:providers:{pkg}::default"
            default_providers[pkg] = purn
            provider = f"{purn}::{DEFAULT_PROVIDER_ID}"
        st: dict[str, Any] = {"urn": r.urn, "custom": r.custom, "type": r.type, "inputs": clean(r.inputs)}
        if r.parent:
            st["parent"] = r.parent
        if r.dependencies:
            st["dependencies"] = sorted(set(r.dependencies))
        if getattr(r, "property_dependencies", None):
            st["propertyDependencies"] = {k: sorted(v) for k, v in sorted(r.property_dependencies.items())}
        if provider:
            st["provider"] = provider
        if r.protect:
            st["protect"] = True
        if r.retain_on_delete:
            st["retainOnDelete"] = True
        if r.delete_before_replace:
            st["deleteBeforeReplace"] = True
        if r.ignore_changes:
            st["ignoreChanges"] = sorted(r.ignore_changes)
        if former.get(r.urn):
            st["aliases"] = former[r.urn]
        states[r.urn] = st
    stack_urn = f"urn:pulumi:{stack}::{project}::{STACK_TYPE}::{project}-{stack}"
    states.setdefault(stack_urn, {"urn": stack_urn, "custom": False, "type": STACK_TYPE, "inputs": {}})
    for pkg, purn in default_providers.items():
        states[purn] = {"urn": purn, "custom": True, "type": f"pulumi:providers:{pkg}", "inputs": {},
                        "parent": stack_urn}
    steps = [{"op": "create", "urn": u, "newState": states[u]} for u in _order(states)]
    return {"config": clean(config), "changeSummary": {"create": len(steps)}, "steps": steps}


def former_urns(registrations: list[Any]) -> dict[str, list[str]]:
    """URN -> the URNs the resource had before a rename, as the engine derives them: its own
    former type tokens, and every former URN of its parent (children inherit their parent's
    aliases). A stack deployed under a former URN sees the same resource, not a replacement."""
    by_urn = {r.urn: r for r in registrations}
    memo: dict[str, list[str]] = {}

    def of(urn: str) -> list[str]:
        if urn in memo:
            return memo[urn]
        r = by_urn.get(urn)
        if r is None:
            return []
        head, _, name = urn.rpartition("::")
        prefix, _, chain = head.rpartition("::")
        parents = [urn_chain(p) for p in of(r.parent)] if r.parent else []
        own_chain = chain.rsplit("$", 1)[0] + "$" if "$" in chain else ""
        chains = [own_chain + t for t in r.alias_types] + [f"{p}${r.type}" for p in parents]
        chains += [f"{p}${t}" for p in parents for t in r.alias_types]
        memo[urn] = sorted({f"{prefix}::{c}::{name}" for c in chains} - {urn})
        return memo[urn]

    return {u: found for u in by_urn if (found := of(u))}


def urn_chain(urn: str) -> str:
    """The type chain of a URN (`parent$...$type`), the part a child's URN extends."""
    return urn.rpartition("::")[0].rpartition("::")[2]


def dumps(doc: dict[str, Any]) -> str:
    """Byte-stable JSON: sorted keys, fixed indentation, trailing newline."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
