from __future__ import annotations

import datetime
import json

import pytest
from ansible_collections.keel.platform.plugins.module_utils._cost_policy import (
    CostPolicyError,
    Verdict,
    evaluate,
    load_policy,
    merge_policies,
    parse_policy,
    policy_from_keys,
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


ESTATE_POLICY = {
    "version": 1,
    "required_tags": [
        {"key": "team", "aliases": ["Owner-Team"], "allowed": ["payments", "search"]},
        {"key": "env", "pattern": "^(prod|staging|dev)$"},
        "cost-center",
    ],
    "exceptions": [
        {"resource": "i-held", "key": "*", "owner": "ana", "reason": "migrating", "expires": "2026-12-31"},
        {"resource": "i-gone", "key": "*", "owner": "ana", "reason": "old", "expires": "2026-11-30"},
        {
            "resource": "arn:aws:ec2:r:1:instance/i-arn",
            "key": "env",
            "owner": "bo",
            "reason": "r",
            "expires": "2027-01-01",
        },
    ],
}
TODAY = datetime.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("tags", "ids", "expected"),
    [
        ({"team": "payments", "env": "prod", "cost-center": "cc-1"}, ["i-1"], ["ok", "ok", "ok"]),
        # An alias and a normalised spelling count as the key: found, not missing.
        ({"Owner-Team": "search", "env": "dev", "CostCenter": "cc-1"}, ["i-1"], ["ok", "ok", "ok"]),
        ({"TEAM": "search", "ENV": "dev", "cost_center": "cc-1"}, ["i-1"], ["ok", "ok", "ok"]),
        ({"team": "Payments", "env": "qa", "Cost Center": "x"}, ["i-1"], ["invalid", "invalid", "ok"]),
        ({"aws:team": "search"}, ["i-1"], ["missing", "missing", "missing"]),
        ({}, ["i-held"], ["exempt", "exempt", "exempt"]),
        ({}, ["i-gone"], ["missing", "missing", "missing"]),
        ({"team": "x", "env": "qa"}, ["i-arn", "arn:aws:ec2:r:1:instance/i-arn"], ["invalid", "exempt", "missing"]),
    ],
)
def test_evaluate_gives_one_verdict_per_required_key(tags, ids, expected):
    evaluation = evaluate(parse_policy(ESTATE_POLICY), tags, ids, TODAY)
    assert [verdict.status for verdict in evaluation.verdicts] == expected
    assert evaluation.compliant == all(status in ("ok", "exempt") for status in expected)


def test_evaluate_says_where_a_key_was_found_and_why_it_is_invalid():
    verdicts = evaluate(parse_policy(ESTATE_POLICY), {"Owner-Team": "Payments", "CostCenter": "cc-1"}).verdicts
    assert (verdicts[0].found_as, verdicts[0].value) == ("Owner-Team", "Payments")
    assert verdicts[0].problem == "'Payments' is not one of payments, search"
    assert verdicts[2] == Verdict("cost-center", "ok", "CostCenter", "cc-1")


def test_exceptions_name_their_owner_and_an_expired_star_is_listed_once():
    policy = parse_policy(ESTATE_POLICY)
    held = evaluate(policy, {}, ["i-held"], TODAY)
    assert {verdict.exception.owner for verdict in held.verdicts} == {"ana"}
    gone = evaluate(policy, {}, ["i-gone"], TODAY)
    assert gone.expired == (policy.exceptions[1],)


def test_without_normalisation_only_the_key_and_its_aliases_count():
    policy = parse_policy(dict(ESTATE_POLICY, normalise_keys=False))
    statuses = [
        v.status for v in evaluate(policy, {"Owner-Team": "search", "Env": "dev", "CostCenter": "cc-1"}).verdicts
    ]
    assert statuses == ["ok", "missing", "missing"]


def test_rules_are_the_policy_as_json():
    rules = parse_policy(ESTATE_POLICY).rules
    assert json.loads(json.dumps(rules)) == rules
    assert rules["required_tags"][1] == {"key": "env", "aliases": [], "allowed": [], "pattern": "^(prod|staging|dev)$"}
    assert rules["exceptions"][0]["expires"] == "2026-12-31"


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


@pytest.mark.parametrize(
    ("required_tags", "entry"),
    [
        (["aws:createdBy"], r"required_tags\[0\] 'aws:createdBy'"),
        (["team", "AWS:CreatedBy"], r"required_tags\[1\] 'AWS:CreatedBy'"),
        ([{"key": "aws:team"}], r"required_tags\[0\]\.key 'aws:team'"),
        ([{"key": "team", "aliases": ["Team", "aws:team"]}], r"required_tags\[0\]\.aliases\[1\] 'aws:team'"),
        # normalise_keys would count " Aws:Team " as aws:team, AWS's reserved prefix.
        ([{"key": " Aws:Team "}], r"required_tags\[0\]\.key ' Aws:Team '"),
    ],
)
def test_reserved_aws_keys_are_refused_everywhere(required_tags, entry):
    """Shorthand, long form and aliases: aws: keys are AWS's, a policy can neither require nor write them."""
    with pytest.raises(CostPolicyError, match=rf"{entry} is reserved by AWS .*remove it"):
        parse_policy({"version": 1, "required_tags": required_tags})


def test_a_reserved_key_names_the_policy_file(tmp_path):
    path = tmp_path / "policy.yml"
    path.write_text('version: 1\nrequired_tags:\n  - team\n  - "aws:createdBy"\n')
    with pytest.raises(CostPolicyError, match=rf"^{path}: required_tags\[1\] 'aws:createdBy' is reserved by AWS"):
        load_policy(str(path))


def test_the_inventory_shortcut_refuses_reserved_keys_too():
    with pytest.raises(CostPolicyError, match=r"required_tags\[0\] 'aws:cloudformation:stack-name' is reserved"):
        policy_from_keys(["aws:cloudformation:stack-name"])


@pytest.mark.parametrize(
    ("required_tags", "message"),
    [
        ([], r"required_tags is empty: .*list at least one key"),
        ([{"key": "team", "allowed": []}], r"required_tags\[0\]\.allowed is empty.*omit 'allowed' to accept any value"),
        (
            [{"key": "team"}, {"key": "Team"}],
            r"required_tags\[1\] 'Team' and required_tags\[0\] 'team' are the same key once normalised \('team'\)",
        ),
        (
            [{"key": "cost-center"}, {"key": "owner", "aliases": ["CostCenter"]}],
            r"required_tags\[1\] 'CostCenter' and required_tags\[0\] 'cost-center' are the same key once normalised",
        ),
    ],
)
def test_policies_that_cannot_mean_what_they_say_are_refused(required_tags, message):
    with pytest.raises(CostPolicyError, match=message):
        parse_policy({"version": 1, "required_tags": required_tags})


def test_same_normalised_keys_are_fine_without_normalisation():
    policy = parse_policy({"version": 1, "normalise_keys": False, "required_tags": ["team", "Team"]})
    assert policy.keys == ["team", "Team"]


def test_merge_policies_counts_a_normalised_spelling_once():
    """The inventory's required_tags option adds CostCenter to a policy requiring cost-center: one key, not two."""
    merged = merge_policies(parse_policy(POLICY), policy_from_keys(["CostCenter", "owner"]))
    assert merged.keys == ["team", "env", "cost-center", "owner"]
    unnormalised = merge_policies(parse_policy(dict(POLICY, normalise_keys=False)), policy_from_keys(["CostCenter"]))
    assert unnormalised.keys == ["team", "env", "cost-center", "CostCenter"]
