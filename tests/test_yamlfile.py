"""One strict YAML loader for every file aidc reads: a duplicated key is an error naming the
file and both lines, wherever the file comes from (catalog, spec defaults, stack files)."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
import yaml

import components.catalog as catalog_module
from aidc.cli import main
from components.catalog import CatalogError
from components.spec import root as spec_root
from components.yamlfile import StrictLoader, YamlFileError, load, loads
from tests.conftest import ROOT


def test_a_duplicated_key_names_both_lines():
    with pytest.raises(YamlFileError) as exc:
        loads("a: 1\nb:\n  c: 2\n  d: 3\n  c: 4\n", "f.yaml")
    assert (exc.value.path, exc.value.line) == ("f.yaml", 5)
    assert exc.value.reason == "key 'c' appears twice (first on line 3)"
    assert str(exc.value) == "f.yaml, line 5: key 'c' appears twice (first on line 3)"


def test_keys_are_compared_as_values_in_flow_mappings_too():
    with pytest.raises(YamlFileError, match=r"line 1: key 1 appears twice \(first on line 1\)"):
        loads("{1: a, 0x1: b}")


def test_same_key_in_different_mappings_and_merge_overrides_are_fine():
    doc = loads("a: {x: 1}\nb: {x: 2}\nbase: &b {x: 1, y: 2}\nd:\n  <<: *b\n  x: 3\n")
    assert doc == {"a": {"x": 1}, "b": {"x": 2}, "base": {"x": 1, "y": 2}, "d": {"x": 3, "y": 2}}


def test_syntax_errors_and_unreadable_files_carry_the_file(tmp_path):
    with pytest.raises(YamlFileError) as exc:
        loads("a: [1\n", "s.yaml")
    assert exc.value.path == "s.yaml" and exc.value.line == 2 and "flow sequence" in exc.value.reason
    with pytest.raises(YamlFileError) as exc:
        load(tmp_path / "missing.yaml")
    assert exc.value.line is None and str(exc.value) == f"{tmp_path / 'missing.yaml'}: cannot read: No such file or directory"


def test_only_the_safe_subset():
    with pytest.raises(YamlFileError, match="could not determine a constructor"):
        loads("!!python/object/apply:os.system ['true']\n")


def test_libyaml_parses_when_pyyaml_has_it():
    # The catalog is read on every command: keep libyaml's speed.
    assert issubclass(StrictLoader, yaml.CSafeLoader) == yaml.__with_libyaml__


def test_the_module_is_a_leaf():
    """Below the catalog in the layer order: PyYAML and the standard library only."""
    import sys
    tree = ast.parse((ROOT / "components" / "yamlfile.py").read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported - sys.stdlib_module_names == {"yaml"}


SHIPPED_YAML = sorted(p for d in ("components", "policies", "stacks") for p in (ROOT / d).rglob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED_YAML, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_yaml_file_loads(path):
    assert load(path) is not None


def test_shipped_files_are_all_found():
    names = {str(p.relative_to(ROOT)) for p in SHIPPED_YAML}
    assert {"components/catalog/instances.yaml", "components/spec/defaults.yaml",
            "policies/data/privileged-namespaces.yaml", "stacks/Pulumi.prod.yaml"} <= names


# ---------------------------------------------------------------- each reader


@pytest.fixture
def temp_catalog(tmp_path, monkeypatch):
    """A copy of the shipped catalog in a temporary directory, read instead of the real one."""
    for p in catalog_module.HERE.glob("*.yaml"):
        shutil.copy(p, tmp_path / p.name)
    monkeypatch.setattr(catalog_module, "HERE", tmp_path)
    catalog_module.catalog.cache_clear()
    yield tmp_path
    catalog_module.catalog.cache_clear()  # later tests read the shipped catalog again


def _append_duplicate(path: Path, line: str) -> tuple[int, int]:
    """Append `line` to a copy of a shipped file whose top level already has its key: the
    (first, second) line numbers of that key."""
    text = path.read_text()
    key = line.split(":", 1)[0] + ":"
    first = next(n for n, old in enumerate(text.splitlines(), 1) if old.startswith(key))
    path.write_text(text + line + "\n")
    return first, text.count("\n") + 1


def test_catalog_with_a_duplicated_key(temp_catalog):
    # The realistic slip: a price added again at the bottom, and the second one silently won.
    first, second = _append_duplicate(temp_catalog / "pricing.yaml", "referenceRegion: us-west-2")
    with pytest.raises(CatalogError) as exc:
        catalog_module.catalog()
    assert str(exc.value) == (f"{temp_catalog / 'pricing.yaml'}, line {second}: "
                              f"key 'referenceRegion' appears twice (first on line {first})")


def test_catalog_extra_file_with_a_duplicated_key(temp_catalog):
    (temp_catalog / "zz-extra.yaml").write_text("a: 1\nb: 2\na: 3\n")
    with pytest.raises(CatalogError, match=r"zz-extra\.yaml, line 3: key 'a' appears twice \(first on line 1\)"):
        catalog_module.catalog()


def test_defaults_with_a_duplicated_key(tmp_path):
    path = tmp_path / "defaults.yaml"
    shutil.copy(spec_root.DEFAULTS, path)
    first, second = _append_duplicate(path, "dev: {protect: true}")
    with pytest.raises(CatalogError) as exc:
        spec_root._env_defaults(path)
    assert str(exc.value) == f"{path}, line {second}: key 'dev' appears twice (first on line {first})"


def test_stack_file_with_a_duplicated_nested_key(capsys, tmp_path):
    path = tmp_path / "Pulumi.qa.yaml"
    path.write_text("config:\n  aws:region: us-east-1\n  aidc:environment: dev\n  aidc:network:\n"
                    "    cidr: 10.1.0.0/16\n    natGateways: single\n    cidr: 10.2.0.0/16\n")
    assert main(["plan", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: line 7: key 'cidr' appears twice (first on line 5)" in err and "Traceback" not in err


def test_a_broken_shipped_file_is_reported_as_a_bug_not_a_traceback(temp_catalog, capsys):
    (temp_catalog / "recipe.yaml").write_text("charts: {}\ncharts: {}\n")
    assert main(["cost", "dev"]) == 3
    err = capsys.readouterr().err
    assert "data shipped with aidc is inconsistent (a bug)" in err and "recipe.yaml, line 2" in err
    assert "Traceback" not in err
