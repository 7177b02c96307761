from __future__ import annotations

import botocore.exceptions
import botocore.parsers
import pytest
from ansible.errors import AnsibleError
from ansible_collections.keel.platform.plugins.plugin_utils._fleet_fetch import Account, FleetFetcher, parse_accounts
from ansible_collections.keel.platform.plugins.plugin_utils._fleet_filters import plan


def client_error(code):
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": "no"}}, "Operation")


def instance(instance_id, team="a"):
    return {"InstanceId": instance_id, "State": {"Name": "running"}, "Tags": [{"Key": "team", "Value": team}]}


class FakePages:
    resume_token = None

    def __init__(self, pages):
        self.pages = pages

    def __iter__(self):
        yield from self.pages


class FakeEc2:
    """Answers DescribeInstances from {group-id filter value or None: instances} or raises."""

    def __init__(self, region, answers, regions=None):
        self.region, self.answers, self.regions = region, answers, regions

    def get_paginator(self, operation):
        assert operation == "describe_instances"
        return self

    def paginate(self, PaginationConfig, Filters):
        assert PaginationConfig == {"PageSize": 1000}
        group = next((f["Values"][0] for f in Filters if f["Name"] == "group-id"), None)
        answer = self.answers[group]
        if isinstance(answer, Exception):
            raise answer
        return FakePages([{"Reservations": [{"OwnerId": "111111111111", "ReservationId": "r-1", "Instances": answer}]}])

    def describe_regions(self, AllRegions):
        assert AllRegions
        if isinstance(self.regions, Exception):
            raise self.regions
        return {"Regions": self.regions}


class FakeSts:
    def __init__(self, fail):
        self.fail = fail

    def assume_role(self, RoleArn, RoleSessionName, DurationSeconds):
        if RoleArn in self.fail:
            raise client_error("AccessDenied")
        return {"Credentials": {"AccessKeyId": RoleArn}}


def fetcher(answers, regions=None, fail_roles=(), filters=None):
    def connect(service, region, credentials):
        if service == "sts":
            return FakeSts(fail_roles)
        return FakeEc2(region, answers.get(region, {None: []}), regions)

    return FleetFetcher(connect, plan(**(filters or {})), workers=4, retries=0)


def ids(result):
    return sorted(record[0]["InstanceId"] for record in result.records)


def test_every_region_is_read_and_a_failing_one_is_reported():
    answers = {
        "r1": {None: [instance("i-1")]},
        "r2": {None: client_error("InternalError")},
        "r3": {None: [instance("i-3")]},
    }
    result = fetcher(answers).fetch([Account()], ["r1", "r2", "r3"], "us-east-1")
    assert ids(result) == ["i-1", "i-3"]
    assert [(e.where, e.message.split(" (")[0]) for e in result.errors] == [
        ("r2 in the caller's account", "ec2:DescribeInstances failed")
    ]
    region, account = result.records[0][1], result.records[0][2]
    assert (region, account) == ("r1", {"id": "111111111111", "alias": None})


def test_local_and_remote_excludes():
    answers = {"r1": {None: [instance("i-1"), instance("i-2", team="x")], "sg-1": [instance("i-1")]}}
    filters = {"exclude_filters": [{"tag:team": "x"}, {"group-id": "sg-1"}]}
    result = fetcher(answers, filters=filters).fetch([Account()], ["r1"], "us-east-1")
    assert ids(result) == []


def test_a_region_whose_exclude_query_failed_is_dropped_whole():
    answers = {
        "r1": {None: [instance("i-1")], "sg-1": client_error("InternalError")},
        "r2": {None: [instance("i-2")], "sg-1": []},
    }
    result = fetcher(answers, filters={"exclude_filters": [{"group-id": "sg-1"}]}).fetch([Account()], ["r1", "r2"], "x")
    assert ids(result) == ["i-2"]
    assert [e.where for e in result.errors] == ["r1 in the caller's account"]


def test_discovered_regions_skip_those_not_opted_in():
    regions = [
        {"RegionName": "r1", "OptInStatus": "opt-in-not-required"},
        {"RegionName": "r2", "OptInStatus": "not-opted-in"},
        {"RegionName": "r3", "OptInStatus": "opted-in"},
    ]
    answers = {"r1": {None: [instance("i-1")]}, "r3": {None: [instance("i-3")]}}
    result = fetcher(answers, regions=regions).fetch([Account()], [], "us-east-1")
    assert ids(result) == ["i-1", "i-3"]
    assert result.skipped_regions == [("the caller's account", "r2")]
    assert result.errors == []


def test_an_account_that_cannot_be_assumed_is_reported_and_the_others_read():
    good = Account(role_arn="arn:aws:iam::111111111111:role/r", account_id="111111111111")
    bad = Account(role_arn="arn:aws:iam::222222222222:role/r", account_id="222222222222", alias="payments")
    result = fetcher({"r1": {None: [instance("i-1")]}}, fail_roles={bad.role_arn}).fetch([good, bad], ["r1"], "x")
    assert ids(result) == ["i-1"]
    assert good.credentials == {"AccessKeyId": good.role_arn}
    assert [e.where for e in result.errors] == ["account 222222222222 (payments)"]
    assert "sts:AssumeRole of arn:aws:iam::222222222222:role/r failed (AccessDenied" in result.errors[0].message


def parser_error():
    return botocore.parsers.ResponseParserError("Unable to parse response, invalid XML received:\nb'<!doctype html>'")


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (parser_error(), "ResponseParserError"),
        (botocore.exceptions.ReadTimeoutError(endpoint_url="http://x"), "ReadTimeoutError"),
        (botocore.exceptions.EndpointConnectionError(endpoint_url="http://x"), "EndpointConnectionError"),
    ],
)
def test_any_botocore_error_of_a_region_is_that_regions_failure(error, code):
    answers = {"r1": {None: [instance("i-1")]}, "r2": {None: error}}
    result = fetcher(answers).fetch([Account()], ["r1", "r2"], "us-east-1")
    assert ids(result) == ["i-1"]
    assert [e.where for e in result.errors] == ["r2 in the caller's account"]
    assert f"ec2:DescribeInstances failed ({code}" in result.errors[0].message
    assert result.read == 1
    assert not result.total_failure


def test_every_region_failing_is_a_total_failure():
    answers = {"r1": {None: parser_error()}, "r2": {None: client_error("AuthFailure")}}
    result = fetcher(answers).fetch([Account()], ["r1", "r2"], "us-east-1")
    assert result.read == 0
    assert result.total_failure


def test_nothing_to_read_is_no_failure():
    result = fetcher({}, regions=[{"RegionName": "r1", "OptInStatus": "not-opted-in"}]).fetch([Account()], [], "x")
    assert not result.total_failure


class FailingOrganizations:
    def __init__(self, error):
        self.error = error

    def get_paginator(self, operation):
        assert operation == "list_accounts"
        return self

    def paginate(self, PaginationConfig):
        raise self.error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (client_error("AccessDeniedException"), "not allowed to call organizations:ListAccounts"),
        (client_error("AWSOrganizationsNotInUseException"), "AWSOrganizationsNotInUseException"),
        (parser_error(), "not an AWS answer"),
    ],
)
def test_organizations_errors_name_the_operation_role_and_fix(error, expected):
    options = {"accounts": [], "organization_role_name": "KeelInventory", "endpoint_url": None}
    with pytest.raises(AnsibleError) as raised:
        parse_accounts(options, lambda service, region, credentials: FailingOrganizations(error), "us-east-1")
    message = str(raised.value)
    assert "listing the accounts for organization_role_name 'KeelInventory'" in message
    assert "organizations:ListAccounts failed" in message
    assert expected in message
    assert "management account or a delegated administrator" in message
