from __future__ import annotations

import pytest
from ansible_collections.keel.platform.plugins.module_utils._cost_policy import (
    CostPolicyError,
    load_policy,
    merge_policies,
    parse_policy,
    policy_from_keys,
    tag_findings,
)

POLICY = {
    "version": 1,
    "required_tags": [
        {"key": "team", "aliases": ["Team", "TEAM"], "allowed": ["payments", "search"]},
        {"key": "env", "pattern": "^(prod|staging|dev)$"},
        "cost-center",
    ],
}


def test_parse_policy_reads_every_field():
    policy = parse_policy(POLICY)
    assert policy.keys == ["team", "env", "cost-center"]
    team = policy.required_tags[0]
    assert team.aliases == ("Team", "TEAM")
    assert team.allowed == ("payments", "search")
    assert policy.required_tags[1].pattern.pattern == "^(prod|staging|dev)$"


@pytest.mark.parametrize(
    ("tags", "missing", "invalid"),
    [
        ({"team": "payments", "env": "prod", "cost-center": "cc-1"}, [], {}),
        ({"Team": "search", "env": "dev", "cost-center": "cc-1"}, [], {}),
        (
            {"team": "Payments", "env": "prod", "cost-center": "x"},
            [],
            {"team": "'Payments' is not one of payments, search"},
        ),
        ({"team": "search", "env": "qa"}, ["cost-center"], {"env": "'qa' does not match '^(prod|staging|dev)$'"}),
        ({}, ["team", "env", "cost-center"], {}),
    ],
)
def test_tag_findings(tags, missing, invalid):
    assert tag_findings(parse_policy(POLICY), tags) == (missing, invalid)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be a mapping with 'version' and 'required_tags', got list"),
        ({"required_tags": []}, r"version must be one of \(1,\), got None"),
        ({"version": 2, "required_tags": []}, "version must be one of"),
        ({"version": 1}, "required_tags must be a list, got None"),
        ({"version": 1, "required_tags": [{"aliases": ["x"]}]}, r"required_tags\[0\].key must be a non-empty string"),
        ({"version": 1, "required_tags": [{"key": " "}]}, r"required_tags\[0\].key must be a non-empty string"),
        ({"version": 1, "required_tags": [7]}, r"required_tags\[0\] must be a mapping with a 'key'"),
        (
            {"version": 1, "required_tags": ["a", {"key": "b", "colour": 1}]},
            r"required_tags\[1\] has unknown field\(s\) colour",
        ),
        ({"version": 1, "required_tags": [{"key": "a", "aliases": "A"}]}, r"required_tags\[0\].aliases must be a list"),
        ({"version": 1, "required_tags": [{"key": "a", "allowed": [1]}]}, r"required_tags\[0\].allowed must be a list"),
        (
            {"version": 1, "required_tags": [{"key": "a", "pattern": "("}]},
            r"required_tags\[0\].pattern '\(' is not a valid",
        ),
        ({"version": 1, "required_tags": [{"key": "a", "pattern": 5}]}, r"required_tags\[0\].pattern must be a string"),
        (
            {"version": 1, "required_tags": ["team", {"key": "x", "aliases": ["team"]}]},
            r"required_tags\[1\] repeats 'team'",
        ),
    ],
)
def test_parse_policy_names_the_bad_field(data, message):
    with pytest.raises(CostPolicyError, match=message):
        parse_policy(data)


def test_load_policy_reads_yaml_and_names_the_file(tmp_path):
    good = tmp_path / "policy.yml"
    good.write_text("version: 1\nrequired_tags:\n  - key: team\n    aliases: [Team]\n")
    assert load_policy(str(good)).keys == ["team"]
    bad = tmp_path / "bad.yml"
    bad.write_text("version: 1\nrequired_tags: nope\n")
    with pytest.raises(CostPolicyError, match=rf"^{bad}: required_tags must be a list"):
        load_policy(str(bad))
    broken = tmp_path / "broken.yml"
    broken.write_text("version: [1\n")
    with pytest.raises(CostPolicyError, match="is not valid YAML"):
        load_policy(str(broken))
    with pytest.raises(CostPolicyError, match="cannot read the cost policy"):
        load_policy(str(tmp_path / "missing.yml"))


def test_merge_policies_keeps_the_first_definition_of_a_key():
    merged = merge_policies(parse_policy(POLICY), None, policy_from_keys(["team", "owner"]))
    assert merged.keys == ["team", "env", "cost-center", "owner"]
    assert merged.required_tags[0].aliases == ("Team", "TEAM")
