"""What cost_tags and cost_tags_info share: the policy of the options, the date, what could not be read, the report."""

from __future__ import annotations

import datetime

import botocore.exceptions
import pytest
import yaml
from ansible_collections.keel.platform.plugins.module_utils import _cost_tags_run
from ansible_collections.keel.platform.plugins.module_utils._aws_resources import ListingError
from ansible_collections.keel.platform.plugins.module_utils._cost_policy import CostPolicyError
from ansible_collections.keel.platform.plugins.module_utils._cost_tags_run import (
    Unreadable,
    evaluate,
    policy_from_params,
    report,
    today_from_params,
)

POLICY = {"version": 1, "required_tags": [{"key": "team"}]}
LIVE = {"resource": "i-1", "key": "team", "owner": "ana", "reason": "migrating", "expires": "2027-01-01"}


@pytest.mark.parametrize("wrapped", [True, False])
def test_an_exceptions_file_adds_to_the_policys_own(tmp_path, wrapped):
    path = tmp_path / "exceptions.yml"
    path.write_text(yaml.safe_dump({"exceptions": [LIVE]} if wrapped else [LIVE]))
    own = dict(LIVE, resource="i-0")
    policy = policy_from_params({"policy_data": dict(POLICY, exceptions=[own]), "exceptions_file": str(path)})
    assert [exception.resource for exception in policy.exceptions] == ["i-0", "i-1"]


def test_a_policy_file_is_loaded(tmp_path):
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(POLICY))
    assert [tag.key for tag in policy_from_params({"policy": str(path)}).required_tags] == ["team"]


def test_an_unreadable_exceptions_file_names_it(tmp_path):
    with pytest.raises(CostPolicyError, match=r"^cannot read the exceptions file .*/missing.yml: "):
        policy_from_params({"policy_data": POLICY, "exceptions_file": str(tmp_path / "missing.yml")})


def test_today():
    assert today_from_params({"today": "2026-12-31"}) == datetime.date(2026, 12, 31)
    assert today_from_params({}) == datetime.datetime.now(datetime.UTC).date()
    with pytest.raises(CostPolicyError, match=r"^today must be a date \(YYYY-MM-DD\), got '31/12/2026'$"):
        today_from_params({"today": "31/12/2026"})


class Clients:
    def __init__(self, broken=()):
        self.broken = broken

    def region(self):
        return "eu-west-1"

    def account_id(self, region):
        if region in self.broken:
            raise botocore.exceptions.EndpointConnectionError(endpoint_url=f"https://sts.{region}.amazonaws.com")
        return "123456789012"


def denied(where):
    error = botocore.exceptions.ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "List")
    return ListingError(where, "ec2:DescribeInstances", error)


def params(**given):
    return {
        "policy_data": POLICY,
        "regions": ["eu-west-1", "us-east-1"],
        "resource_types": ["instance"],
        "workers": 2,
        **given,
    }


def instance(rid, tags):
    return {"arn": f"arn:i/{rid}", "id": rid, "type": "instance", "region": "eu-west-1", "tags": tags, "parents": []}


def test_some_regions_unread_are_returned_beside_the_plans(monkeypatch):
    failures = [denied("us-east-1")]
    monkeypatch.setattr(_cost_tags_run, "discover", lambda *args: ([instance("i-1", {})], failures))
    _resources, plans, unread = evaluate(params(), Clients(broken=["eu-west-1"]))  # STS answers in the next region
    assert [p["id"] for p in plans] == ["i-1"]
    assert unread == failures


def test_every_listing_failed_is_unreadable_not_an_empty_report(monkeypatch):
    failures = [denied("eu-west-1"), denied("us-east-1"), denied("global")]
    monkeypatch.setattr(_cost_tags_run, "discover", lambda *args: ([], failures))
    with pytest.raises(Unreadable) as raised:
        evaluate(params(resource_types=["instance", "bucket"]), Clients())
    assert raised.value.failures == failures
    assert str(raised.value).startswith("no resource could be read, so nothing was checked: ec2:DescribeInstances")


def test_sts_failing_everywhere_is_unreadable():
    with pytest.raises(Unreadable) as raised:
        evaluate(params(), Clients(broken=["eu-west-1", "us-east-1"]))
    assert [failure.where for failure in raised.value.failures] == ["eu-west-1", "us-east-1"]
    assert {failure.action for failure in raised.value.failures} == {"sts:GetCallerIdentity"}


def test_the_report_lists_exemptions_and_expired_exceptions(monkeypatch):
    expired = dict(LIVE, resource="i-2", expires="2026-01-01")
    monkeypatch.setattr(
        _cost_tags_run, "discover", lambda *args: ([instance("i-1", {}), instance("i-2", {}), instance("i-3", {})], [])
    )
    resources, plans, _unread = evaluate(
        params(policy_data=dict(POLICY, exceptions=[LIVE, expired]), today="2026-12-03"), Clients()
    )
    result = report(plans, resources, top=1)
    assert [(item["id"], item["key"], item["reason"]) for item in result["exempt"]] == [
        ("i-1", "team", "exception by ana until 2027-01-01: migrating")
    ]
    assert [(item["id"], item["violation"]) for item in result["expired_exceptions"]] == [
        ("i-2", "exception expired on 2026-01-01")
    ]
    assert len(result["untagged"]) == 1  # top
    assert (result["summary"]["resources"], result["summary"]["compliant"]) == (3, 1)
