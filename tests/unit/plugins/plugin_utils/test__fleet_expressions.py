from __future__ import annotations

import pytest
from ansible.errors import AnsibleError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible_collections.keel.platform.plugins.plugin_utils._fleet_expressions import (
    Expression,
    Undefined,
    keyed_group_full_name,
    keyed_group_names,
    parse_path,
)

HOSTVARS = {
    "instance_type": "m6i.large",
    "placement": {"region": "eu-west-1", "availability_zone": "eu-west-1a"},
    "state": {"name": "running", "code": 16},
    "tags": {"team": "payments", "cost-center": "cc-1", "items": "x"},
    "security_groups": [{"group_id": "sg-1"}, {"group_id": "sg-2"}],
}


@pytest.mark.parametrize(
    ("source", "steps"),
    [
        ("instance_type", ("instance_type",)),
        (" placement.region ", ("placement", "region")),
        ("tags['cost-center']", ("tags", "cost-center")),
        ('tags["team"]', ("tags", "team")),
        ("security_groups[1].group_id", ("security_groups", 1, "group_id")),
        ("tags.items", None),  # Jinja gives the dict method: left to the engine
        ("tags.team | lower", None),
        ("true", None),
        ("state.name == 'running'", None),
    ],
)
def test_parse_path(source, steps):
    assert parse_path(source) == steps


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("placement.region", "eu-west-1"),
        ("tags['cost-center']", "cc-1"),
        ("security_groups[0].group_id", "sg-1"),
        ("state.name == 'running'", True),
        ("state.name != 'running'", False),
        ("state.code == 16", True),
        ('tags.team == "search"', False),
    ],
)
def test_plain_python_path(source, expected):
    expression = Expression(source)
    assert expression.fast
    assert expression.evaluate(HOSTVARS) == expected


@pytest.mark.parametrize(
    "source", ["tags.owner", "placement.zone.name", "security_groups[5].group_id", "missing == 'x'"]
)
def test_plain_python_path_reports_undefined(source):
    with pytest.raises(Undefined, match="is undefined"):
        Expression(source).evaluate(HOSTVARS)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("tags.team | upper", "PAYMENTS"),
        ("instance_type.startswith('m6i')", True),
        ("security_groups | map(attribute='group_id') | list", ["sg-1", "sg-2"]),
    ],
)
def test_template_engine_path_is_compiled_once_and_reused(source, expected):
    expression = Expression(source, Templar(loader=DataLoader()))
    assert not expression.fast
    for team in ("payments", "search"):
        hostvars = {**HOSTVARS, "tags": {**HOSTVARS["tags"], "team": team}}
        result = expression.evaluate(hostvars)
        if source == "tags.team | upper":
            assert result == team.upper()
        else:
            assert result == expected


def test_template_engine_path_raises_on_undefined():
    expression = Expression("tags.owner | upper", Templar(loader=DataLoader()))
    with pytest.raises(AnsibleError):
        expression.evaluate(HOSTVARS)


@pytest.mark.parametrize(
    ("key", "keyed", "names"),
    [
        ("payments", {}, ["payments"]),
        (["a", "", "b"], {}, ["a", "", "b"]),
        (["a", ""], {"default_value": "none"}, ["a", "none"]),
        ("", {"default_value": "unknown"}, ["unknown"]),
        ("", {}, []),
        (None, {}, []),
        ({"env": "prod", "team": ""}, {}, ["env_prod", "team_"]),
        ({"env": "prod", "team": ""}, {"trailing_separator": False}, ["env_prod", "team"]),
        ({"env": "prod", "team": ""}, {"default_value": "x", "separator": "-"}, ["env-prod", "team-x"]),
        ([], {}, []),
        ({}, {}, []),
    ],
)
def test_keyed_group_names_follow_constructable(key, keyed, names):
    assert keyed_group_names(key, keyed) == names


def test_keyed_group_names_reject_conflicting_options():
    with pytest.raises(AnsibleError, match="mutually exclusive"):
        keyed_group_names("x", {"default_value": "a", "trailing_separator": True})


@pytest.mark.parametrize(
    ("keyed", "leading", "name"),
    [
        ({"prefix": "team"}, True, "team_payments"),
        ({"prefix": "team", "separator": ""}, True, "teampayments"),
        ({}, True, "_payments"),
        ({}, False, "payments"),
    ],
)
def test_keyed_group_full_name(keyed, leading, name):
    assert keyed_group_full_name("payments", keyed, leading) == name


def test_template_engine_compiles_each_expression_once(monkeypatch):
    templar = Templar(loader=DataLoader())
    engine = templar._engine
    compiles = []
    original = engine._compile_expression
    monkeypatch.setattr(engine, "_compile_expression", lambda *args: compiles.append(args) or original(*args))
    expression = Expression("tags.team | upper", templar)
    results = [expression.evaluate({"tags": {"team": f"t{n}"}}) for n in range(50)]
    assert results == [f"T{n}" for n in range(50)]
    assert len(compiles) == 1
