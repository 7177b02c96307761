from __future__ import annotations

import pytest
from ansible.errors import AnsibleError
from ansible.inventory.group import to_safe_group_name
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible_collections.keel.platform.plugins.module_utils._cost_policy import parse_policy
from ansible_collections.keel.platform.plugins.plugin_utils._fleet_build import (
    BuildSettings,
    InventoryBuilder,
    summary_messages,
)

ACCOUNT = {"id": "111111111111", "alias": "prod"}


def instance(number, state="running", **tags):
    return {
        "InstanceId": f"i-{number:04d}",
        "InstanceType": "m6i.large" if number % 2 else "t3.micro",
        "PrivateIpAddress": f"10.0.0.{number}",
        "Placement": {"AvailabilityZone": "eu-west-1a"},
        "State": {"Name": state, "Code": 16},
        "Tags": [{"Key": key.replace("_", "-"), "Value": value} for key, value in tags.items()],
        "OwnerId": ACCOUNT["id"],
    }


def build(instances, **settings):
    builder = InventoryBuilder(BuildSettings(**{"hostnames": ["private-ip-address"], **settings}), sanitize=sanitize)
    for record in instances:
        builder.add(record, "eu-west-1", ACCOUNT)
    return builder.result()


def sanitize(name):
    return to_safe_group_name(name, force=True, silent=True)


def test_default_groups_cover_tags_asg_state_and_account():
    fleet = [
        instance(1, team="payments", service="api", env="prod"),
        instance(2, Team="search", ENV="dev"),  # mis-cased keys still group
        instance(3, state="stopped", **{"aws:autoscaling:groupName": "api-prod"}),
    ]
    groups = build(fleet)["groups"]
    assert groups["aws_fleet"] == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert groups["team_payments"] == ["10.0.0.1"]
    assert groups["team_search"] == ["10.0.0.2"]
    assert groups["env_dev"] == ["10.0.0.2"]
    assert groups["service_api"] == ["10.0.0.1"]
    assert groups["asg_api_prod"] == ["10.0.0.3"]
    assert groups["state_stopped"] == ["10.0.0.3"]
    assert groups["account_111111111111"] == groups["account_prod"] == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert set(build(fleet, default_groups=False)["groups"]) == {"aws_fleet"}


def test_policy_groups_for_missing_and_invalid_tags():
    policy = parse_policy(
        {"version": 1, "required_tags": [{"key": "team", "aliases": ["Team"], "allowed": ["payments"]}, "cost-center"]}
    )
    fleet = [instance(1, team="payments", cost_center="cc"), instance(2, Team="search"), instance(3)]
    groups = build(fleet, policy=policy, default_groups=False)["groups"]
    assert groups["missing_tag_team"] == ["10.0.0.3"]
    assert groups["missing_tag_cost_center"] == ["10.0.0.2", "10.0.0.3"]
    assert groups["invalid_tag_team"] == ["10.0.0.2"]


def test_policy_groups_honour_normalised_keys_and_exceptions():
    """The one evaluation: CostCenter counts as cost-center, exempt instances are in no missing/invalid group."""
    policy = parse_policy(
        {
            "version": 1,
            "required_tags": [{"key": "team", "allowed": ["payments"]}, "cost-center"],
            "exceptions": [
                {"resource": "i-0002", "key": "*", "owner": "ana", "reason": "r", "expires": "2999-12-31"},
                {
                    "resource": "arn:aws:ec2:eu-west-1:111111111111:instance/i-0003",
                    "key": "team",
                    "owner": "ana",
                    "reason": "r",
                    "expires": "2999-12-31",
                },
                {"resource": "i-0004", "key": "*", "owner": "ana", "reason": "r", "expires": "2000-01-01"},
            ],
        }
    )
    fleet = [
        instance(1, team="payments", **{"CostCenter": "cc-1"}),
        instance(2),
        instance(3, team="nobody"),
        instance(4),
    ]
    groups = build(fleet, policy=policy, default_groups=False)["groups"]
    assert groups["missing_tag_cost_center"] == ["10.0.0.3", "10.0.0.4"]
    assert groups["missing_tag_team"] == ["10.0.0.4"]
    assert "invalid_tag_team" not in groups


def test_compose_groups_and_keyed_groups():
    fleet = [instance(1, team="payments"), instance(2, team="search"), instance(3)]
    built = build(
        fleet,
        default_groups=False,
        compose={"ansible_host": "private_ip_address", "team_upper": "tags.team"},
        groups={"large": "instance_type == 'm6i.large'"},
        keyed_groups=[{"key": "tags.team", "prefix": "team", "parent_group": "teams"}, {"key": "placement.region"}],
    )
    assert built["hosts"]["10.0.0.1"]["ansible_host"] == "10.0.0.1"
    assert "team_upper" not in built["hosts"]["10.0.0.3"]  # undefined without strict: skipped
    assert built["groups"]["large"] == ["10.0.0.1", "10.0.0.3"]
    assert built["groups"]["team_payments"] == ["10.0.0.1"]
    assert built["groups"]["_eu_west_1"] == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert built["children"] == {"teams": ["team_payments", "team_search"]}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"compose": {"x": "tags.team"}}, "Could not set x for host 10.0.0.1"),
        ({"groups": {"g": "tags.team"}}, "Could not add host 10.0.0.1 to group g"),
        ({"groups": {"g": "instance_type"}}, "not a boolean"),
        ({"keyed_groups": [{"key": "tags.team"}]}, "Could not generate group for host 10.0.0.1"),
    ],
)
def test_strict_turns_expression_errors_into_failures(settings, message):
    build([instance(1)], default_groups=False, **settings)
    with pytest.raises(AnsibleError, match=message):
        build([instance(1)], default_groups=False, strict=True, **settings)


def test_unresolved_and_duplicate_host_names():
    fleet = [instance(1, Name="web"), instance(2, Name="web"), instance(3)]
    built = build(fleet, hostnames=["tag:Name"])
    assert list(built["hosts"]) == ["web"]
    assert built["summary"] == {"unresolved": ["i-0003"], "duplicates": [("web", "i-0002", "i-0001")]}
    unresolved, duplicates = summary_messages(built["summary"], ["tag:Name"])
    assert "dropped 1 instance(s) with no value for hostnames ['tag:Name'] (for example i-0003)" in unresolved
    assert "i-0002 (name 'web', kept i-0001)" in duplicates

    kept = build(
        fleet, hostnames=["tag:Name"], on_unresolved_hostname="instance_id", on_duplicate_hostname="instance_id"
    )
    assert list(kept["hosts"]) == ["web", "i-0002", "i-0003"]
    assert summary_messages(kept["summary"], []) == []

    with pytest.raises(AnsibleError, match=r"instance i-0003 .* has no value for any of hostnames"):
        build(fleet, hostnames=["tag:Name"], on_unresolved_hostname="fail")
    with pytest.raises(AnsibleError, match="instances i-0001 and i-0002 both resolve to host name 'web'"):
        build(fleet, hostnames=["tag:Name"], on_duplicate_hostname="fail")


def test_a_keyed_group_needs_a_key():
    with pytest.raises(AnsibleError, match="Invalid keyed group entry"):
        InventoryBuilder(BuildSettings(keyed_groups=[{"prefix": "x"}]))


def test_expressions_see_tags_but_hosts_carry_ec2_tags_only():
    fleet = [instance(1, team="payments")]
    built = build(fleet, groups={"payments": "tags.team == 'payments'"}, compose={"team": "tags.team"})
    hostvars = built["hosts"]["10.0.0.1"]
    assert "tags" not in hostvars
    assert hostvars["ec2_tags"] == {"team": "payments"}
    assert hostvars["team"] == "payments"
    assert built["groups"]["payments"] == ["10.0.0.1"]
    assert build(fleet, tags_hostvar=True)["hosts"]["10.0.0.1"]["tags"] == {"team": "payments"}
    # A compose that sets `tags` itself is the user's choice and stays.
    assert build(fleet, compose={"tags": "instance_id"})["hosts"]["10.0.0.1"]["tags"] == "i-0001"


BROKEN = {
    "compose": ({"compose": {"bad": "private_ip_address |"}}, "compose bad: 'private_ip_address |'"),
    "groups": ({"groups": {"bad": "state.name =="}}, "groups bad: 'state.name =='"),
    "keyed_groups": ({"keyed_groups": [{"key": "tags[", "prefix": "x"}]}, "keyed_groups key: 'tags['"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_broken_expression_fails_with_its_text_and_jinjas_message_when_strict(kind):
    settings, where = BROKEN[kind]
    with pytest.raises(AnsibleError) as raised:
        InventoryBuilder(BuildSettings(strict=True, **settings), templar=Templar(loader=DataLoader()))
    message = str(raised.value)
    assert f"aws_fleet: {where} is not a valid expression: unexpected" in message
    assert "TemplateContext" not in message


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_broken_expression_warns_once_and_is_left_out(kind):
    settings, where = BROKEN[kind]
    builder = InventoryBuilder(
        BuildSettings(hostnames=["private-ip-address"], **settings),
        templar=Templar(loader=DataLoader()),
        sanitize=sanitize,
    )
    for number in range(1, 4):
        builder.add(instance(number, team="a"), "eu-west-1", ACCOUNT)
    assert len(builder.warnings) == 1
    assert where in builder.warnings[0]
    assert len(builder.result()["hosts"]) == 3
