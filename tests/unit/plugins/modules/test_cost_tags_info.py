"""cost_tags_info only reads: it reports compliance whatever the figures, has no write option, writes no file."""

from __future__ import annotations

import botocore.exceptions
import pytest
from ansible_collections.keel.platform.plugins.module_utils import _cost_tags_run
from ansible_collections.keel.platform.plugins.module_utils._aws_resources import ListingError
from ansible_collections.keel.platform.plugins.modules import cost_tags_info

POLICY = {"version": 1, "required_tags": [{"key": "team", "allowed": ["payments", "search"]}]}
REGIONS = ["eu-west-1", "us-east-1"]


def resource(kind, rid, tags):
    return {"arn": f"arn:aws:{kind}/{rid}", "id": rid, "type": kind, "region": REGIONS[0], "tags": tags, "parents": []}


ESTATE = [
    resource("instance", "i-1", {"team": "payments"}),
    resource("instance", "i-2", {}),
    resource("volume", "vol-1", {"team": "marketing"}),
    resource("volume", "vol-2", {}),
]


class Clients:
    """Only what evaluate() asks of the client factory before discovery: the account, from STS."""

    def __init__(self, params, pool=10):
        self.params = params

    def region(self):
        return REGIONS[0]

    def account_id(self, region=None):
        return "123456789012"


@pytest.fixture
def estate(monkeypatch):
    """Discovery answers ESTATE and the ListingErrors in `estate["failures"]`."""
    answer = {"resources": ESTATE, "failures": []}
    monkeypatch.setattr(cost_tags_info, "Clients", Clients)
    monkeypatch.setattr(
        _cost_tags_run, "discover", lambda clients, regions, *args: (answer["resources"], answer["failures"])
    )
    return answer


def denied(region):
    error = botocore.exceptions.ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeInstances")
    return ListingError(region, "ec2:DescribeInstances", error)


@pytest.mark.parametrize("check_mode", [False, True])
def test_low_compliance_is_reported_not_failed_and_nothing_is_written(
    run_main, estate, tmp_path, monkeypatch, check_mode
):
    monkeypatch.chdir(tmp_path)
    result = run_main(cost_tags_info, {"policy_data": POLICY, "regions": REGIONS}, check_mode=check_mode)
    assert "failed" not in result, result.get("msg")
    assert result["changed"] is False
    assert result["summary"]["resources"] == 4
    assert result["summary"]["compliance"] == 25.0
    assert result["summary"]["by_type"]["volume"]["team"]["not_fixable"] == 2
    assert {item["id"] for item in result["untagged"]} == {"i-2", "vol-1", "vol-2"}
    assert result["unread"] == []
    assert "metrics_path" not in result
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "option", [{"threshold": 95}, {"write_metrics": True}, {"metrics_dir": "/var/lib/prometheus/node-exporter"}]
)
def test_the_removed_write_and_gate_options_are_refused(run_main, estate, option):
    result = run_main(cost_tags_info, {"policy_data": POLICY, "regions": REGIONS, **option})
    assert result["failed"]
    assert result["msg"].startswith("Unsupported parameters for ")
    assert f" module: {next(iter(option))}. Supported parameters include: " in result["msg"]


def test_a_region_that_cannot_be_read_is_warned_about_and_listed(run_main, estate):
    estate["failures"] = [denied(REGIONS[1])]
    result = run_main(cost_tags_info, {"policy_data": POLICY, "regions": REGIONS})
    assert "failed" not in result
    assert [(item["where"], item["action"]) for item in result["unread"]] == [(REGIONS[1], "ec2:DescribeInstances")]
    (warning,) = result["warnings"]
    assert warning["event"]["msg"].endswith("grant it in IAM; its resources are left out of this report")


def test_nothing_readable_is_a_failure_not_an_empty_report(run_main, estate):
    estate["resources"], estate["failures"] = [], [denied(region) for region in REGIONS]
    result = run_main(cost_tags_info, {"policy_data": POLICY, "regions": REGIONS, "resource_types": ["instance"]})
    assert result["failed"]
    assert result["msg"].startswith("no resource could be read, so nothing was checked")
    assert "summary" not in result


def test_a_bad_policy_is_refused_before_discovery(run_main, estate):
    estate["resources"] = None  # discovery must not be reached
    result = run_main(cost_tags_info, {"policy_data": {"version": 1, "required_tags": "team"}, "regions": REGIONS})
    assert result["failed"]
    assert result["msg"].startswith("bad cost policy: ")
