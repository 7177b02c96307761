from __future__ import annotations

import boto3
import botocore.exceptions
import botocore.parsers
import pytest
from ansible_collections.keel.platform.plugins.module_utils import _aws


def client_error(code, operation="DescribeInstances"):
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": "boom"}}, operation)


@pytest.mark.parametrize(
    ("arn", "account"),
    [
        ("arn:aws:iam::111111111111:role/KeelInventory", "111111111111"),
        ("arn:aws-cn:iam::222222222222:role/path/to/Role", "222222222222"),
        ("arn:aws-us-gov:iam::333333333333:role/a+b=c,d.e@f-g", "333333333333"),
    ],
)
def test_role_arn_account(arn, account):
    assert _aws.role_arn_account(arn) == account


@pytest.mark.parametrize(
    "arn", ["", "KeelInventory", "arn:aws:iam::1111:role/x", "arn:aws:iam::111111111111:user/x", "arn:aws:s3:::bucket"]
)
def test_role_arn_account_rejects_what_is_not_a_role(arn):
    with pytest.raises(ValueError, match="is not an IAM role ARN"):
        _aws.role_arn_account(arn)


@pytest.mark.parametrize(
    ("role_name", "partition", "expected"),
    [
        ("KeelInventory", "aws", "arn:aws:iam::444455556666:role/KeelInventory"),
        ("/ops/KeelInventory", "aws-cn", "arn:aws-cn:iam::444455556666:role/ops/KeelInventory"),
        ("arn:aws:iam::{account_id}:role/x", "aws", "arn:aws:iam::444455556666:role/x"),
    ],
)
def test_role_arn_for(role_name, partition, expected):
    assert _aws.role_arn_for("444455556666", role_name, partition) == expected


def test_backoff_delays_grow_exponentially_up_to_the_cap():
    assert _aws.backoff_delays(6, base=0.5, cap=4.0, rng=lambda: 1.0) == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert _aws.backoff_delays(3, rng=lambda: 0.0) == [0.0, 0.0, 0.0]
    assert _aws.backoff_delays(0) == []


@pytest.mark.parametrize(
    ("error", "code", "throttling"),
    [
        (client_error("RequestLimitExceeded"), "RequestLimitExceeded", True),
        (client_error("Throttling"), "Throttling", True),
        (client_error("UnauthorizedOperation"), "UnauthorizedOperation", False),
        (botocore.exceptions.NoRegionError(), "NoRegionError", False),
    ],
)
def test_error_code_and_throttling(error, code, throttling):
    assert _aws.error_code(error) == code
    assert _aws.is_throttling(error) is throttling


@pytest.mark.parametrize(
    ("error", "hint"),
    [
        (client_error("UnauthorizedOperation"), "not allowed to call ec2:DescribeInstances; grant it in IAM"),
        (client_error("AuthFailure"), "region not enabled for the account"),
        (client_error("OptInRequired"), "not enabled (opted in)"),
        (client_error("RequestLimitExceeded"), "lower the number of workers or raise max_attempts"),
        (
            botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
            "could not reach http://127.0.0.1:1",
        ),
        (botocore.exceptions.NoCredentialsError(), "no AWS credentials found"),
        (botocore.exceptions.NoRegionError(), "set `region` or AWS_REGION"),
        (
            botocore.parsers.ResponseParserError("Unable to parse response. Further retries may succeed:\nb'<html>'"),
            "http://127.0.0.1:1 answered with something that is not an AWS answer",
        ),
        (client_error("500"), "not an AWS answer"),  # a JSON protocol's HTML page: the status is the code
    ],
)
def test_describe_error_says_what_to_do(error, hint):
    message = _aws.describe_error(error, "ec2:DescribeInstances", "http://127.0.0.1:1")
    assert message.startswith("ec2:DescribeInstances failed (")
    assert hint in message


def test_call_with_backoff_retries_throttling_only():
    answers = [client_error("Throttling"), client_error("Throttling"), "done"]
    slept = []

    def call():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert _aws.call_with_backoff(call, retries=3, sleep=slept.append, delays=[0.1, 0.2, 0.3]) == "done"
    assert slept == [0.1, 0.2]

    def denied():
        raise client_error("UnauthorizedOperation")

    with pytest.raises(botocore.exceptions.ClientError):
        _aws.call_with_backoff(denied, sleep=slept.append, delays=[0.1])
    assert slept == [0.1, 0.2]


def test_call_with_backoff_gives_up_after_its_retries():
    def throttled():
        raise client_error("Throttling")

    slept = []
    with pytest.raises(botocore.exceptions.ClientError, match="Throttling"):
        _aws.call_with_backoff(throttled, sleep=slept.append, delays=[0.1, 0.1])
    assert len(slept) == 2


class FakePages:
    """The part of botocore's PageIterator that paginate() uses."""

    def __init__(self, pages, fail_at, start):
        self.pages, self.fail_at, self.index = pages, fail_at, start
        self.resume_token = None

    def __iter__(self):
        while self.index < len(self.pages):
            if self.fail_at and self.index == self.fail_at[0]:
                self.fail_at.pop(0)
                raise client_error("Throttling")
            page = self.pages[self.index]
            self.index += 1
            self.resume_token = str(self.index) if self.index < len(self.pages) else None
            yield page


class FakeClient:
    def __init__(self, pages, fail_at):
        self.pages, self.fail_at, self.configs = pages, fail_at, []

    def get_paginator(self, operation):
        assert operation == "describe_instances"
        return self

    def paginate(self, PaginationConfig, **params):
        self.configs.append(PaginationConfig)
        return FakePages(self.pages, self.fail_at, int(PaginationConfig.get("StartingToken", 0)))


def test_paginate_resumes_after_throttling_from_the_last_page():
    fake = FakeClient(["p0", "p1", "p2"], fail_at=[2])
    pages = list(_aws.paginate(fake, "describe_instances", page_size=1000, sleep=lambda s: None, Filters=[]))
    assert pages == ["p0", "p1", "p2"]
    assert fake.configs == [{"PageSize": 1000}, {"PageSize": 1000, "StartingToken": "2"}]


def test_paginate_raises_when_throttling_outlasts_its_retries():
    fake = FakeClient(["p0", "p1"], fail_at=[0, 0, 0])
    with pytest.raises(botocore.exceptions.ClientError):
        list(_aws.paginate(fake, "describe_instances", retries=2, sleep=lambda s: None))


def test_client_config_carries_retries_timeouts_and_user_agent():
    config = _aws.client_config(max_attempts=4, retry_mode="standard", connect_timeout=3, read_timeout=7)
    assert config.retries == {"mode": "standard", "total_max_attempts": 4}
    assert (config.connect_timeout, config.read_timeout) == (3, 7)
    assert config.user_agent_extra == _aws.USER_AGENT_EXTRA


def test_client_uses_endpoint_region_and_temporary_credentials():
    session = _aws.session(access_key="AKIDEXAMPLE", secret_key="secret", region="eu-west-1")
    credentials = {"AccessKeyId": "ASIATEMP", "SecretAccessKey": "s", "SessionToken": "t"}
    ec2 = _aws.client(session, "ec2", "ap-south-1", "http://127.0.0.1:9", credentials=credentials)
    assert ec2.meta.region_name == "ap-south-1"
    assert ec2.meta.endpoint_url == "http://127.0.0.1:9"
    assert ec2._request_signer._credentials.access_key == "ASIATEMP"


@pytest.mark.parametrize(
    ("option", "environ", "expected"),
    [
        ("ap-south-1", {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-west-2"}, "ap-south-1"),
        (None, {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-west-2"}, "eu-west-1"),
        (None, {"AWS_DEFAULT_REGION": "us-west-2"}, "us-west-2"),
    ],
)
def test_region_comes_from_the_option_then_aws_region_then_botocore(monkeypatch, option, environ, expected):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    session = _aws.session(access_key="AKIDEXAMPLE", secret_key="secret")
    assert _aws.region_name(session, option) == expected
    assert _aws.client(session, "ec2", option).meta.region_name == expected


def test_no_region_anywhere_says_what_to_set(monkeypatch, tmp_path):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    session = _aws.session(access_key="AKIDEXAMPLE", secret_key="secret")
    with pytest.raises(botocore.exceptions.NoRegionError) as caught:
        _aws.region_name(session)
    assert "set `region` or AWS_REGION" in _aws.describe_error(caught.value, "ec2:DescribeInstances")


HTML_PAGE = (
    "Unable to parse response (syntax error: line 1, column 0), invalid XML received. Further retries may succeed:\n"
    "b'<!doctype html>\\n<html lang=en>\\n<title>500 Internal Server Error</title>\\n<h1>Internal Server Error</h1>'"
)


def test_an_html_page_is_named_by_its_title_with_what_to_check():
    error = botocore.parsers.ResponseParserError(HTML_PAGE)
    assert isinstance(error, _aws.AWS_ERRORS)
    message = _aws.describe_error(error, "ec2:DescribeInstances in us-east-9", "http://127.0.0.1:1")
    assert message == (
        "ec2:DescribeInstances in us-east-9 failed (ResponseParserError: an HTML page titled "
        "'500 Internal Server Error'); http://127.0.0.1:1 answered with something that is not an AWS answer (an HTML "
        "error page of a proxy or load balancer, or no AWS service there for this region); check the region name, "
        "endpoint_url and any proxy in between"
    )


def test_an_error_without_advice_points_nowhere():
    message = _aws.describe_error(client_error("InvalidParameterValue"), "tag:TagResources")
    assert message.startswith("tag:TagResources failed (InvalidParameterValue: ")
    assert "above" not in message
    assert not message.endswith("; ")


def test_describe_error_keeps_an_error_page_short():
    page = "<!doctype html>\n<html>" + "<p>padding</p>" * 100 + "</html>"
    error = botocore.parsers.ResponseParserError(f"Unable to parse response. Further retries may succeed:\nb'{page}'")
    message = _aws.describe_error(error, "ec2:DescribeInstances")
    assert "The answer began: b'<!doctype html> <html><p>padding" in message
    assert len(message) < 500
    error = botocore.exceptions.ClientError({"Error": {"Code": "500", "Message": "x" * 1000}}, "ListAccounts")
    long = _aws.describe_error(error, "organizations:ListAccounts")
    assert "x" * 200 in long
    assert "x" * 300 not in long
    assert "...)" in long


def test_missing_credentials_message_names_every_source_botocore_tried(tmp_path, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    (tmp_path / "config").write_text("[default]\nregion = eu-west-1\n")
    session = boto3.session.Session()
    message = _aws.missing_credentials_message(session, environ={"AWS_EC2_METADATA_DISABLED": "true"})
    assert message.startswith("no AWS credentials found; botocore looked in: environment variables AWS_ACCESS_KEY_ID")
    assert f"shared credentials file {tmp_path / 'credentials'} (profile 'default', absent)" in message
    assert f"config file {tmp_path / 'config'} (profile 'default')" in message
    assert "container credentials" in message
    assert "instance metadata (disabled by AWS_EC2_METADATA_DISABLED)" in message
    assert "instance metadata (no instance role answered)" in _aws.missing_credentials_message(session, environ={})
