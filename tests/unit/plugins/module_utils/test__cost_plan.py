from __future__ import annotations

import datetime

import pytest
from ansible_collections.keel.platform.plugins.module_utils._cost_plan import plan, summarise
from ansible_collections.keel.platform.plugins.module_utils._cost_policy import (
    CostPolicyError,
    evaluate,
    normalise_key,
    parse_policy,
)

TODAY = datetime.date(2026, 11, 26)
POLICY = {
    "version": 1,
    "required_tags": [
        {
            "key": "team",
            "allowed": ["payments", "search"],
            "default": [
                {"source": "autoscaling_group", "pattern": "^(?P<value>[a-z]+)-", "map": {"checkout": "payments"}}
            ],
        },
        {"key": "cost-center", "pattern": "^cc-[0-9]+$"},
    ],
}


def resource(kind, rid, tags, parents=()):
    return {"arn": f"arn:{kind}/{rid}", "id": rid, "type": kind, "region": "r", "tags": tags, "parents": list(parents)}


def by_key(result):
    return {action["key"]: action for action in result["actions"]}


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("CostCenter", "cost-center"), ("cost_center", "cost-center"), ("COST CENTER", "cost-center"), ("team", "team")],
)
def test_normalise_key(name, canonical):
    assert normalise_key(name) == canonical


def test_children_inherit_the_planned_tags_of_their_parent_and_keep_their_own_under_fill_missing():
    policy = parse_policy(POLICY)
    instance = resource("instance", "i-1", {"Team": "Payments", "CostCenter": "cc-1"})
    volume = resource("volume", "vol-1", {"team": "search"}, ["arn:instance/i-1"])
    snapshot = resource("snapshot", "snap-1", {}, ["arn:volume/gone", "arn:volume/vol-1"])
    plans = plan(policy, [snapshot, volume, instance], TODAY)
    snap, vol, inst = plans
    assert inst["after"] == {"team": "payments", "cost-center": "cc-1"}
    assert inst["remove"] == ["CostCenter", "Team"]
    assert by_key(vol)["team"]["action"] == "skip"
    assert vol["add"] == {"cost-center": "cc-1"}
    assert snap["parent"] == "arn:volume/vol-1"
    assert snap["after"] == {"team": "search", "cost-center": "cc-1"}


@pytest.mark.parametrize(("edge", "team"), [("overwrite", "payments"), ("never", None), ("fill_missing", "search")])
def test_edge_policies(edge, team):
    policy = parse_policy(dict(POLICY, inheritance=[{"parent": "instance", "child": "volume", "policy": edge}]))
    instance = resource("instance", "i-1", {"team": "payments", "cost-center": "cc-1"})
    volume = resource("volume", "vol-1", {"team": "search"} if edge != "never" else {}, ["arn:instance/i-1"])
    vol = plan(policy, [instance, volume], TODAY)[1]
    assert vol["after"].get("team") == team
    if edge == "never":
        assert by_key(vol)["team"]["action"] == "not_fixable"


def test_defaults_from_an_auto_scaling_group_and_aws_keys_are_never_touched():
    policy = parse_policy(POLICY)
    item = resource("instance", "i-2", {"aws:autoscaling:groupName": "checkout-prod-1", "cost-center": "cc-2"})
    result = plan(policy, [item], TODAY, remove_keys=["aws:autoscaling:groupName"])[0]
    assert result["add"] == {"team": "payments"}
    assert result["after"]["aws:autoscaling:groupName"] == "checkout-prod-1"
    assert result["remove"] == []


def test_exceptions_hold_until_they_expire():
    data = dict(
        POLICY,
        exceptions=[{"resource": "i-3", "key": "team", "owner": "ana", "reason": "r", "expires": "2026-11-26"}],
    )
    item = resource("instance", "i-3", {"cost-center": "cc-1"})
    held = plan(parse_policy(data), [item], TODAY)[0]
    assert by_key(held)["team"]["action"] == "exempt"
    assert held["compliant"]
    gone = plan(parse_policy(data), [item], TODAY + datetime.timedelta(days=1))[0]
    assert by_key(gone)["team"]["action"] == "not_fixable"
    assert gone["expired_exceptions"][0]["violation"] == "exception expired on 2026-11-26"


def test_an_expired_star_exception_is_listed_once():
    data = dict(
        POLICY,
        exceptions=[{"resource": "i-3", "key": "*", "owner": "ana", "reason": "r", "expires": "2026-11-25"}],
    )
    gone = plan(parse_policy(data), [resource("instance", "i-3", {})], TODAY)[0]
    assert [e["resource"] for e in gone["expired_exceptions"]] == ["i-3"]
    assert {a["status"] for a in gone["actions"]} == {"missing"}


def test_never_more_than_fifty_tags():
    tags = {f"k{n}": "v" for n in range(50)}
    tags["cost-center"] = "cc-1"
    tags["aws:cloudformation:stack-name"] = "s"
    result = plan(
        parse_policy(dict(POLICY, required_tags=[*POLICY["required_tags"][:1]])), [resource("volume", "v", tags)], TODAY
    )
    assert result[0]["add"] == {}
    assert by_key(result[0])["team"]["action"] == "not_fixable"


def test_summary_counts():
    policy = parse_policy(POLICY)
    plans = plan(
        policy,
        [resource("instance", "i-1", {"team": "search", "cost-center": "cc-1"}), resource("volume", "v", {})],
        TODAY,
    )
    summary = summarise(plans)
    assert summary["compliance"] == 50.0
    assert summary["by_type"]["volume"]["team"] == {
        "compliant": 0,
        "fixed": 0,
        "not_fixable": 1,
        "exempt": 0,
        "reasons": {"missing, and no parent value or default rule gives one": 1},
    }
    # A key under another spelling counts (the run renames it): compliant, as the inventory and agent say.
    renamed = plan(policy, [resource("instance", "i-9", {"Team": "search", "cost-center": "cc-1"})], TODAY)
    assert by_key(renamed[0])["team"] == {
        "key": "team",
        "status": "ok",
        "action": "rename",
        "from": "Team",
        "value": "search",
        "reason": "key 'Team' normalised",
    }
    assert renamed[0]["compliant"]
    assert summarise(renamed)["by_type"]["instance"]["team"]["compliant"] == 1
    assert summarise(renamed)["by_type"]["instance"]["team"]["fixed"] == 0
    defaulted = plan(
        policy, [resource("instance", "i-9", {"aws:autoscaling:groupName": "checkout-1", "cost-center": "cc-1"})], TODAY
    )
    assert summarise(defaulted)["by_type"]["instance"]["team"]["fixed"] == 1
    failed = summarise(defaulted, {"arn:instance/i-9": "AccessDenied: no"})["by_type"]["instance"]["team"]
    assert failed["not_fixable"] == 1
    assert failed["reasons"] == {"AccessDenied: no": 1}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"inheritance": [{"parent": "volume", "child": "instance"}]}, "volume->instance is not an inheritance edge"),
        ({"inheritance": [{"parent": "instance", "child": "volume", "policy": "always"}]}, "policy must be one of"),
        ({"exceptions": [{"resource": "i-1", "key": "team"}]}, "missing: expires, owner, reason"),
        (
            {"exceptions": [{"resource": "i", "key": "t", "owner": "o", "reason": "r", "expires": "soon"}]},
            "must be a date",
        ),
        ({"required_tags": [{"key": "aws:team"}]}, "reserved by AWS"),
        ({"required_tags": [{"key": "team", "default": [{"source": "stack"}]}]}, "source must be"),
        ({"colour": "blue"}, "unknown field(s) colour"),
    ],
)
def test_bad_policies_name_the_problem(change, message):
    with pytest.raises(CostPolicyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_policy(dict(POLICY, **change))


def test_exceptions_file_is_read_relative_to_the_policy(tmp_path):
    from ansible_collections.keel.platform.plugins.module_utils._cost_policy import load_policy

    (tmp_path / "exceptions.yml").write_text("- {resource: i-1, key: '*', owner: o, reason: r, expires: 2027-01-01}\n")
    (tmp_path / "policy.yml").write_text("version: 1\nrequired_tags: [team]\nexceptions_file: exceptions.yml\n")
    policy = load_policy(tmp_path / "policy.yml")
    assert [v.status for v in evaluate(policy, {}, ["i-1"], TODAY).verdicts] == ["exempt"]
