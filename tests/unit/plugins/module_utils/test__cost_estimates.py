from __future__ import annotations

import pytest
from ansible_collections.keel.platform.plugins.module_utils._cost_estimates import (
    instance_hourly,
    monthly_cost,
    rank_untagged,
)


@pytest.mark.parametrize(
    ("instance_type", "hourly"),
    [
        ("m6i.large", 0.096),  # listed
        ("m7g.large", 0.1),  # unknown type: priced by its size
        ("c7i.4xlarge", 0.8),  # n x xlarge
        ("t4g.nano", 0.005),
        ("x2.weird", 0.1),  # unknown size: a large's price
        (None, 0.1),
    ],
)
def test_hourly_price_of_an_instance_type(instance_type, hourly):
    assert instance_hourly(instance_type) == pytest.approx(hourly)


@pytest.mark.parametrize(
    ("resource", "monthly"),
    [
        ({"type": "instance", "instance_type": "t3.micro", "state": "running"}, 7.59),
        (
            {"type": "instance", "instance_type": "t3.micro", "state": "stopped"},
            0.0,
        ),  # a stopped instance costs no hours
        ({"type": "volume", "volume_type": "gp3", "size_gb": 100}, 8.0),
        ({"type": "volume", "size_gb": 10}, 1.0),  # no type: gp2
        ({"type": "snapshot", "size_gb": 40}, 2.0),
        ({"type": "address"}, 3.65),
        ({"type": "load_balancer"}, 16.43),
        ({"type": "database", "instance_type": "db.r6i.large"}, 91.98),
        ({"type": "bucket"}, 0.0),
    ],
)
def test_monthly_cost_by_type(resource, monthly):
    assert monthly_cost(resource) == monthly


def plan(arn, compliant, actions):
    return {"arn": arn, "id": arn[-3:], "type": "volume", "region": "r", "compliant": compliant, "actions": actions}


def test_untagged_resources_ranked_costliest_first_with_their_keys_by_verdict():
    plans = [
        plan("arn:vol-ok", True, [{"key": "team", "status": "ok", "action": "ok"}]),
        plan("arn:vol-aaa", False, [{"key": "team", "status": "missing", "action": "add"}]),
        plan(
            "arn:vol-bbb",
            False,
            [
                {"key": "team", "status": "invalid", "action": "not_fixable"},
                {"key": "env", "status": "missing", "action": "add"},
                {"key": "owner", "status": "exempt", "action": "exempt"},
            ],
        ),
    ]
    resources = [
        {"arn": "arn:vol-ok", "type": "volume", "size_gb": 1000},
        {"arn": "arn:vol-aaa", "type": "volume", "size_gb": 10},
        {"arn": "arn:vol-bbb", "type": "volume", "size_gb": 500},
    ]
    ranked = rank_untagged(plans, resources)
    assert [(item["id"], item["monthly_cost"]) for item in ranked] == [("bbb", 50.0), ("aaa", 1.0)]
    assert ranked[0]["keys"] == ["team", "env"]
    assert (ranked[0]["missing"], ranked[0]["invalid"]) == (["env"], ["team"])
    assert ranked[0]["fixable"] is False
    assert ranked[1]["fixable"] is True
    assert rank_untagged(plans, resources, limit=1) == ranked[:1]


def test_equal_costs_are_ordered_by_arn():
    plans = [plan(f"arn:vol-{n}", False, [{"key": "team", "status": "missing", "action": "add"}]) for n in "cab"]
    assert [item["arn"] for item in rank_untagged(plans, [])] == ["arn:vol-a", "arn:vol-b", "arn:vol-c"]
