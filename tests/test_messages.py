"""Messages in the spec's own words: a sweep of bad values through every key of the shipped
stacks (and every key of each section they use) finds no library wording, no Python class
name and no regex; misspelt keys are answered with the key meant; one failure is reported
once, not again by everything that refers to it."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

import components.spec as spec_package
from aidc.stackfile import read_stack
from components.spec import SpecError, load_spec
from components.spec.base import PATTERN_WORDS
from components.spec.messages import keys_of, model_at
from components.spec.root import Spec
from tests.conftest import ROOT
from tests.conftest import spec_problems as problems

STACKS = ("dev", "staging", "prod", "onprem")
BAD_VALUES = ("x", 12345, -1, 2.5, True, [1], {"a": 1}, None, "")


def _model_names() -> set[str]:
    seen: set[str] = set()
    todo = [Spec]
    while todo:
        m = todo.pop()
        if m.__name__ in seen:
            continue
        seen.add(m.__name__)
        for info in m.model_fields.values():
            for t in re.findall(r"\w+", str(info.annotation)):
                obj = getattr(spec_package, t, None) or next(
                    (getattr(mod, t) for mod in vars(spec_package).values()
                     if isinstance(mod, type(spec_package)) and isinstance(getattr(mod, t, None), type)), None)
                if isinstance(obj, type) and issubclass(obj, BaseModel):
                    todo.append(obj)
    return seen


CLASS_NAMES = _model_names()
LIBRARY_WORDS = ("Input should", "String should", "Value error", "Assertion failed", "Field required",
                 "Extra inputs", "NoneType", "function-after", "tuple[", "dict[", "list[", "instance of", "pydantic")
# What a regex looks like in a message: anchors, classes, escapes, counted repeats.
REGEX_LIKE = re.compile(r"\^\[|\^\(|\[a-z|\[A-Z|\[0-9|\\[dswS.]|\{\d+,\d*\}|\)\?|\)\*|\$'|\+\$")


def leak(message: str) -> str | None:
    for word in LIBRARY_WORDS:
        if word in message:
            return word
    for name in CLASS_NAMES:
        if re.search(rf"\b{name}\b", message):
            return name
    if any(p in message for p in PATTERN_WORDS) or REGEX_LIKE.search(message):
        return "a regex"
    return None


def _stack_key(loc: tuple) -> str:
    return "aws:region" if loc[0] == "region" else f"aidc:{loc[0]}"


def _places(value: Any, loc: tuple = ()) -> Iterator[tuple[tuple, dict | None]]:
    """Every mapping of a stack's aidc: config (with its location), then leaves."""
    if isinstance(value, dict):
        yield loc, value
        for k, v in value.items():
            yield from _places(v, (*loc, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _places(v, (*loc, i))


def _set(config: dict, loc: tuple, value: Any) -> dict:
    out = copy.deepcopy(config)
    key = _stack_key(loc)
    if len(loc) == 1:
        out[key] = value
        return out
    node = out[key]
    for part in loc[1:-1]:
        node = node[part]
    node[loc[-1]] = value
    return out


def _spec_config(stack: str) -> tuple[dict, dict]:
    config = read_stack(stack, ROOT).config
    data = {("region" if k == "aws:region" else k.split(":", 1)[1]): v for k, v in config.items()
            if k.startswith("aidc:") or k == "aws:region"}
    return config, data


def _sweep() -> Iterator[tuple[str, dict]]:
    for stack in STACKS:
        config, data = _spec_config(stack)
        top = [(("region" if k == "region" else k,), None) for k in keys_of(Spec)]
        for loc, mapping in [*top, *_places(data)]:
            model = model_at(Spec, loc) if loc else None
            if mapping is not None and model is not None:
                keys = keys_of(model)
                for i, key in enumerate(keys):  # every key of the section, even ones the stack leaves out
                    yield f"{stack}:{loc + (key,)}", _set(config, (*loc, key), BAD_VALUES[i % len(BAD_VALUES)])
            elif mapping is None and loc:
                for value in BAD_VALUES[:3]:
                    yield f"{stack}:{loc}={value!r}", _set(config, loc, value)


def test_no_message_shows_library_words_class_names_or_regexes():
    seen = 0
    bad = []
    for label, config in _sweep():
        try:
            load_spec(config)
        except SpecError as err:
            for p in err.problems:
                seen += 1
                if (why := leak(p.message)) is not None:
                    bad.append(f"{label}: {p.path}: {p.message}  [{why}]")
    assert seen > 600  # the sweep reached every section (663 bad stacks when written)
    assert not bad, "\n".join(bad[:30])


def test_the_leak_detector_finds_what_it_looks_for():
    assert leak("Input should be a valid tuple") == "Input should"
    assert leak("expected a mapping, or instance of NetworkSpec") is not None
    assert leak("String should match pattern '^[a-z][a-z0-9-]{0,30}[a-z0-9]$'") is not None
    assert leak("expected a list, got 'x'") is None


def test_every_pattern_has_words():
    patterns = set()
    for model_name in CLASS_NAMES:
        model = next(getattr(mod, model_name) for mod in [spec_package, *vars(spec_package).values()]
                     if isinstance(getattr(mod, model_name, None), type))
        for info in model.model_fields.values():
            patterns |= {m.pattern for m in info.metadata if getattr(m, "pattern", None)}
    assert patterns and patterns <= set(PATTERN_WORDS), patterns - set(PATTERN_WORDS)


@pytest.mark.parametrize("section,key,meant", [
    ("cluster", "sytemNodes", "systemNodes"),
    ("network", "natGateway", "natGateways"),
    ("gpuPools", "instanceTyp", "instanceType"),
])
def test_misspelt_keys_get_the_key_meant(section, key, meant):
    config, _ = _spec_config("prod")
    value = config[f"aidc:{section}"]
    if isinstance(value, list):
        value = [{**value[0], key: 1}, *value[1:]]
        where = f"aidc:{section}[0].{key}"
    else:
        value = {**value, key: 1}
        where = f"aidc:{section}.{key}"
    found = problems({**config, f"aidc:{section}": value})
    assert found[where] == f"unknown key; did you mean {meant}?"


def test_misspelt_keys_deep_and_at_the_top():
    config, _ = _spec_config("prod")
    teams = copy.deepcopy(config["aidc:training"])
    teams["teams"][0]["quota"] = teams["teams"][0].pop("quotas")
    found = problems({**config, "aidc:training": teams, "aidc:gpuPool": []})
    assert found["aidc:training.teams[0].quota"] == "unknown key; did you mean quotas?"
    assert found["aidc:gpuPool"] == "unknown key; did you mean gpuPools?"


def test_an_invalid_environment_is_reported_with_everything_else():
    config, _ = _spec_config("prod")
    found = problems({**config, "aidc:environment": "production",
                      "aidc:network": {**config["aidc:network"], "cidr": "10.0.0.0/28"}})
    assert found["aidc:environment"] == ("'production' is not one of: dev, staging, prod; did you mean prod? "
                                         "(the rest is checked with prod's defaults)")
    assert found["aidc:network.cidr"] == "a VPC CIDR must be between /16 and /24"


def test_a_pool_whose_definition_failed_is_reported_once():
    config, _ = _spec_config("dev")
    pool = {**config["aidc:gpuPools"][0], "name": "a"}  # too short for a pool name
    training = copy.deepcopy(config["aidc:training"])
    training["teams"][0]["quotas"][0]["pool"] = "a"
    inference = copy.deepcopy(config["aidc:inference"])
    inference["services"][0]["pool"] = "a"
    found = problems({**config, "aidc:gpuPools": [pool], "aidc:training": training, "aidc:inference": inference})
    assert list(found) == ["aidc:gpuPools[0].name"]


def test_storage_that_failed_makes_no_model_need_storage():
    config, _ = _spec_config("prod")
    found = problems({**config, "aidc:storage": "lustre"})
    assert list(found) == ["aidc:storage"]
    assert found["aidc:storage"].startswith("expected a mapping of keys (lustre, buckets, accessLogRetentionDays")


def test_a_good_pool_beside_a_failed_one_is_still_checked_under_its_own_number():
    config, _ = _spec_config("prod")
    pools = copy.deepcopy(config["aidc:gpuPools"])
    pools[0]["size"] = {"max": "many"}
    pools[-1]["instanceType"] = "p5.48xlarg"
    found = problems({**config, "aidc:gpuPools": pools})
    assert found[f"aidc:gpuPools[{len(pools) - 1}].instanceType"].startswith("unknown GPU instance type 'p5.48xlarg'")
    assert found["aidc:gpuPools[0].size.max"] == "expected a whole number, got 'many'"


def test_a_union_key_says_both_forms():
    found = problems({**_spec_config("dev")[0], "aidc:network": {"availabilityZones": "three"}})
    assert found["aidc:network.availabilityZones"] == "expected a whole number or a list, got 'three'"


@pytest.mark.parametrize("work_hours,key,message", [
    ({"start": "99 8 * * 1-5"}, "start", "minute '99' is outside 0-59"),
    ({"end": "0 20 * *"}, "end", "'0 20 * *' has 4 fields; a cron schedule has five: minute hour day-of-month "
                                 "month day-of-week (e.g. '0 8 * * 1-5')"),
    ({"end": "@daily"}, "end", "'@daily': KEDA takes five cron fields, not @ shortcuts"),
    ({"start": "0 8 * * 7"}, "start", "day of week '7' is outside 0-6"),
    ({"timezone": "Europe/Berln"}, "timezone", "'Europe/Berln' is not an IANA time zone (such as UTC or "
                                               "Europe/Berlin); did you mean Europe/Berlin"),
])
def test_keda_schedules_and_time_zones(work_hours, key, message):
    config = _spec_config("dev")[0]
    inference = copy.deepcopy(config["aidc:inference"])
    inference["services"][0]["scaling"] = {"workHours": work_hours}
    found = problems({**config, "aidc:inference": inference})
    assert found[f"aidc:inference.services[0].scaling.workHours.{key}"].startswith(message)


def test_keda_schedules_that_pass():
    config = _spec_config("dev")[0]
    inference = copy.deepcopy(config["aidc:inference"])
    inference["services"][0]["scaling"] = {"workHours": {"timezone": "America/Los_Angeles",
                                                        "start": "*/15 7-9 * JAN-dec MON-fri", "end": "0 20 1,15 * ?"}}
    load_spec({**config, "aidc:inference": inference})


@pytest.mark.parametrize("stack,key,change,path,message", [
    ("prod", "gpuPools", lambda v: v[0]["size"].update(max="x"), "aidc:gpuPools[0].size.max",
     "expected a whole number, got 'x'"),  # no quota or server on it reported too large for a stand-in size
    ("prod", "storage", lambda v: v["lustre"].update(capacityGiB="x"), "aidc:storage.lustre.capacityGiB",
     "expected a whole number, got 'x'"),  # no "give one requirement" for the size set aside
    ("onprem", "cluster", lambda v: v["existing"].update(kubeconfig=5), "aidc:cluster.existing.kubeconfig",
     "expected text, got the number 5: put the value in quotes"),  # still an existing cluster: no AWS checks
    ("onprem", "cluster", lambda v: v["existing"].pop("kubeconfig"), "aidc:cluster.existing.kubeconfig", "required"),
])
def test_one_failure_is_reported_once(stack, key, change, path, message):
    config, _ = _spec_config(stack)
    value = copy.deepcopy(config[f"aidc:{key}"])
    change(value)
    assert problems({**config, f"aidc:{key}": value}) == {path: message}
