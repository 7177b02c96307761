"""The one tag evaluation (public, standard library only): keys, aliases, normalised spellings, values, exceptions."""

from __future__ import annotations

import datetime

import pytest
from ansible_collections.keel.platform.plugins.module_utils.cost_verdict import (
    evaluate,
    instance_names,
    is_reserved,
    key_verdict,
    locate,
    normalise_key,
    value_problem,
)

TEAM = {"key": "team", "aliases": ["Owner-Team"], "allowed": ["payments", "search"], "pattern": None}
CENTRE = {"key": "cost-center", "aliases": [], "allowed": [], "pattern": "^cc-[0-9]+$"}
RULES = {"version": 1, "normalise_keys": True, "required_tags": [TEAM, CENTRE], "exceptions": []}
TODAY = datetime.date(2026, 12, 3)


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("CostCenter", "cost-center"), ("cost_center", "cost-center"), ("COST CENTER", "cost-center"), (" team ", "team")],
)
def test_normalise_key(name, canonical):
    assert normalise_key(name) == canonical


@pytest.mark.parametrize(("name", "reserved"), [("aws:cloudformation:stack", True), ("AWS:x", True), ("team", False)])
def test_aws_keys_are_reserved(name, reserved):
    assert is_reserved(name) is reserved


@pytest.mark.parametrize(
    ("region", "arn"),
    [
        ("eu-west-1", "arn:aws:ec2:eu-west-1:123:instance/i-1"),
        ("cn-north-1", "arn:aws-cn:ec2:cn-north-1:123:instance/i-1"),
        ("us-gov-west-1", "arn:aws-us-gov:ec2:us-gov-west-1:123:instance/i-1"),
    ],
)
def test_instance_names_in_each_partition(region, arn):
    assert instance_names("i-1", region, "123") == ("i-1", arn)
    assert instance_names("i-1", region, None) == ("i-1",)


@pytest.mark.parametrize(
    ("tags", "normalise", "found"),
    [
        ({"team": "search"}, True, ("team", "search")),
        ({"Owner-Team": "search"}, True, ("Owner-Team", "search")),  # an alias
        ({"Team": "search"}, True, ("Team", "search")),  # normalises to the key
        ({"Team": "search"}, False, (None, None)),  # unless normalisation is off
        ({"team": "  "}, True, (None, None)),  # an empty value allocates nothing
        ({"aws:team": "search"}, True, (None, None)),
    ],
)
def test_locate(tags, normalise, found):
    assert locate(TEAM, tags, normalise) == found


@pytest.mark.parametrize(
    ("rule", "value", "problem"),
    [
        (TEAM, "search", None),
        (TEAM, "Search", "'Search' is not one of payments, search"),
        (CENTRE, "cc-12", None),
        (CENTRE, "12", "'12' does not match '^cc-[0-9]+$'"),
    ],
)
def test_value_problem(rule, value, problem):
    assert value_problem(rule, value) == problem


def test_key_verdicts():
    assert key_verdict(TEAM, {}) == {
        "key": "team",
        "status": "missing",
        "found_as": None,
        "value": None,
        "problem": None,
    }
    assert key_verdict(TEAM, {"Team": "x"})["status"] == "invalid"
    assert key_verdict(CENTRE, {"CostCenter": "cc-1"})["found_as"] == "CostCenter"


def exception(resource, key, expires):
    return {"resource": resource, "key": key, "expires": expires, "owner": "ana", "reason": "migrating"}


def test_a_live_exception_exempts_its_key_and_an_expired_one_is_listed_once():
    rules = dict(
        RULES,
        exceptions=[
            exception("i-1", "team", "2026-12-03"),  # live on its expiry day
            exception("arn:aws:ec2:r:1:instance/i-1", "*", "2026-12-02"),  # expired, for both keys
            exception("i-2", "*", "2027-01-01"),  # another resource
        ],
    )
    result = evaluate(rules, {}, ("i-1", "arn:aws:ec2:r:1:instance/i-1"), TODAY)
    team, centre = result["verdicts"]
    assert (team["status"], team["exception"]) == ("exempt", 0)
    assert centre["status"] == "missing"
    assert "exception" not in centre
    assert result["expired"] == [1]


def test_verdicts_follow_the_policy_order_and_today_defaults_to_utc_today():
    result = evaluate(RULES, {"team": "search", "cost-center": "x"})
    assert [(v["key"], v["status"]) for v in result["verdicts"]] == [("team", "ok"), ("cost-center", "invalid")]
    assert result["expired"] == []
