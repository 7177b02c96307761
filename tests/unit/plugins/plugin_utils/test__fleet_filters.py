from __future__ import annotations

import pytest
from ansible_collections.keel.platform.plugins.plugin_utils._fleet_filters import (
    DEFAULT_STATES,
    matches,
    normalize,
    plan,
)

STATES = {"Name": "instance-state-name", "Values": list(DEFAULT_STATES)}
INSTANCE = {
    "InstanceId": "i-0abc",
    "InstanceType": "m6i.large",
    "State": {"Name": "running", "Code": 16},
    "Placement": {"AvailabilityZone": "eu-west-1a"},
    "Tags": [{"Key": "env", "Value": "prod"}, {"Key": "Name", "Value": "web-1"}],
}


@pytest.mark.parametrize(
    ("kwargs", "queries", "local_includes", "local_excludes", "remote_excludes"),
    [
        # Nothing given: one call, live states only, as aws_ec2.
        ({}, [[STATES]], [], [], []),
        # filters and include_filters differing in one filter: one call with both values.
        (
            {"filters": {"tag:env": "prod"}, "include_filters": [{"tag:env": ["dev"]}]},
            [[STATES, {"Name": "tag:env", "Values": ["dev", "prod"]}]],
            [],
            [],
            [],
        ),
        # Includes on different filters, all local: one call, applied on the answers.
        (
            {"include_filters": [{"tag:env": "prod"}, {"instance-type": "t3.micro"}]},
            [[STATES]],
            [{"tag:env": ("prod",)}, {"instance-type": ("t3.micro",)}],
            [],
            [],
        ),
        # An include EC2 alone can evaluate: one call per include.
        (
            {"include_filters": [{"tag:env": "prod"}, {"group-id": "sg-1"}]},
            [[STATES, {"Name": "tag:env", "Values": ["prod"]}], [{"Name": "group-id", "Values": ["sg-1"]}, STATES]],
            [],
            [],
            [],
        ),
        # Excludes: local when they can be, their own (merged) call otherwise.
        (
            {"exclude_filters": [{"tag:team": "x"}, {"group-id": "sg-1"}, {"group-id": "sg-2"}]},
            [[STATES]],
            [],
            [{"tag:team": ("x",)}],
            [[{"Name": "group-id", "Values": ["sg-1", "sg-2"]}]],
        ),
        # An explicit state filter replaces the default one.
        (
            {"filters": {"instance-state-name": "stopped"}},
            [[{"Name": "instance-state-name", "Values": ["stopped"]}]],
            [],
            [],
            [],
        ),
        # An empty include matches everything and absorbs the others.
        ({"include_filters": [{}, {"tag:env": "prod"}]}, [[STATES]], [], [], []),
    ],
)
def test_plan(kwargs, queries, local_includes, local_excludes, remote_excludes):
    result = plan(**kwargs)
    assert result.queries == queries
    assert result.local_includes == local_includes
    assert result.local_excludes == local_excludes
    assert result.remote_excludes == remote_excludes


def test_local_includes_keep_the_default_state_filter_of_each_entry():
    # Terminated instances, or prod ones in a live state (aws_ec2 adds the live states to the second).
    result = plan(include_filters=[{"instance-state-name": "terminated"}, {"tag:env": "prod"}])
    assert result.queries == [[]]
    assert result.keep({**INSTANCE, "State": {"Name": "terminated"}, "Tags": []})
    assert result.keep(INSTANCE)
    assert not result.keep({**INSTANCE, "State": {"Name": "shutting-down"}})


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"tag:env": ["prod"]}, True),
        ({"tag:env": ["dev", "prod"]}, True),
        ({"tag:env": ["Prod"]}, False),  # values are case-sensitive
        ({"tag:Name": ["web-*"]}, True),
        ({"tag:Name": ["web-?"]}, True),
        ({"tag:Name": ["web"]}, False),
        ({"tag-key": ["env"]}, True),
        ({"tag-value": ["web-1"]}, True),
        ({"tag:missing": ["*"]}, False),
        ({"instance-type": ["m6i.*"], "availability-zone": ["eu-west-1a"]}, True),
        ({"instance-type": ["m6i.*"], "availability-zone": ["eu-west-1b"]}, False),
        ({"instance-state-code": ["16"]}, True),
        ({"private-ip-address": ["*"]}, False),  # absent attributes match nothing
    ],
)
def test_matches(filters, expected):
    assert matches(normalize(filters), INSTANCE) is expected


def test_normalize_turns_scalars_and_booleans_into_ec2_strings():
    assert normalize({"a": "x", "b": ["y", "x", "y"], "c": True, "d": 5}) == {
        "a": ("x",),
        "b": ("x", "y"),
        "c": ("true",),
        "d": ("5",),
    }
