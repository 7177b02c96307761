"""Every role documents each variable it defines, and documents its real default."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROLES = sorted(p for p in (Path(__file__).parents[3] / "roles").iterdir() if (p / "meta").is_dir())


def load(role: Path) -> tuple[dict, dict]:
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())
    return defaults, specs["argument_specs"]["main"]["options"]


@pytest.fixture(params=ROLES, ids=lambda p: p.name)
def role(request) -> Path:
    return request.param


def test_every_default_is_documented(role):
    defaults, options = load(role)
    assert sorted(set(defaults) - set(options)) == []


def test_every_documented_optional_variable_has_a_default(role):
    defaults, options = load(role)
    optional = {name for name, spec in options.items() if not spec.get("required")}
    assert sorted(optional - set(defaults)) == []


def test_required_variables_have_no_default(role):
    defaults, options = load(role)
    assert sorted(name for name, spec in options.items() if spec.get("required") and name in defaults) == []


def test_documented_defaults_match(role):
    defaults, options = load(role)
    mismatches = {
        name: (options[name]["default"], value)
        for name, value in defaults.items()
        if "default" in options.get(name, {})
        and not (isinstance(value, str) and "{{" in value)
        and options[name]["default"] != value
    }
    assert mismatches == {}


def test_variables_are_prefixed_typed_and_described(role):
    options = load(role)[1]
    for name, spec in options.items():
        assert name.startswith(f"{role.name}_"), name
        assert spec.get("type"), f"{name} has no type"
        assert spec.get("description"), f"{name} has no description"
        if spec["type"] == "list":
            assert spec.get("elements"), f"{name} has no elements type"
