"""Stack files: find `stacks/Pulumi.<name>.yaml`, read its config the way Pulumi does."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.suggest import unknown
from components.yamlfile import YamlFileError
from components.yamlfile import load as load_yaml

from .errors import Problem, UserError

SECRET = "[secret]"


def project_root(start: Path | None = None) -> Path:
    """The directory holding Pulumi.yaml: from the working directory up, else this checkout."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "Pulumi.yaml").is_file() and (d / "stacks").is_dir():
            return d
    return Path(__file__).resolve().parent.parent


def stacks_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "stacks"


def available_stacks(root: Path | None = None) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in stacks_dir(root).glob("Pulumi.*.yaml"))


@dataclass(frozen=True)
class StackFile:
    name: str
    path: Path
    config: dict[str, Any]  # "namespace:key" -> value; secure values replaced by SECRET
    secret_keys: tuple[str, ...]

    @property
    def display_path(self) -> str:
        try:
            return str(self.path.relative_to(Path.cwd()))
        except ValueError:
            return str(self.path)


def _unsecure(value: Any, key: str, secrets: list[str]) -> Any:
    """Pulumi encrypts secrets as {secure: ...}; offline we cannot (and need not) decrypt them."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            secrets.append(key)
            return SECRET
        return {k: _unsecure(v, key, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_unsecure(v, key, secrets) for v in value]
    return value


def resolve(stack: str, root: Path | None = None) -> Path:
    """STACK is a name in stacks/ or a path to a Pulumi.<name>.yaml."""
    p = Path(stack)
    if p.suffix in (".yaml", ".yml") or "/" in stack:
        if not p.is_file():
            raise UserError(f"no stack file at {stack}")
        return p
    path = stacks_dir(root) / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise UserError(f"{unknown('stack', stack, available_stacks(root))} (stacks in {stacks_dir(root)})")
    return path


def read_stack(stack: str, root: Path | None = None) -> StackFile:
    path = resolve(stack, root)
    name = path.name.removeprefix("Pulumi.").rsplit(".", 1)[0]
    try:
        doc = load_yaml(path) or {}
    except YamlFileError as exc:
        if exc.line is None:
            raise UserError(str(exc)) from None  # "<path>: cannot read: <why>"
        raise UserError(f"{path}: not valid YAML", [Problem(f"line {exc.line}", exc.reason, str(path))]) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("config", {}), dict):
        raise UserError(f"{path}: not a Pulumi stack file",
                        [Problem("config", "expected a mapping of config keys", str(path))])
    if "config" not in doc:
        # Pulumi reads a stack's settings only under `config:`; keys at the top level are ignored.
        stray = sorted(str(k) for k in doc if ":" in str(k))
        why = (f"the settings must sit under `config:` (found {', '.join(stray[:3])}{' ...' * (len(stray) > 3)} "
               "at the top level)" if stray else "a stack file holds its settings under `config:`, and this one "
                                                 "has none")
        raise UserError(f"{path}: not a Pulumi stack file", [Problem("config", f"missing: {why}", str(path))])
    secrets: list[str] = []
    config = {}
    for key, value in (doc.get("config") or {}).items():
        key = str(key)
        if ":" not in key:
            key = f"aidc:{key}"  # Pulumi puts bare keys in the project's namespace
        config[key] = _unsecure(value, key, secrets)
    return StackFile(name, path, config, tuple(sorted(set(secrets))))
