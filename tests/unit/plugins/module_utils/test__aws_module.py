from __future__ import annotations

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.keel.platform.plugins.module_utils import _aws_module
from ansible_collections.keel.platform.plugins.module_utils._aws_module import Clients, aws_argument_spec


def params(**given):
    result = ArgumentSpecValidator(aws_argument_spec()).validate(given)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def test_the_spec_takes_the_modules_own_options_and_defaults_to_adaptive_retries():
    spec = aws_argument_spec(mode={"type": "str", "default": "plan"})
    assert spec["mode"] == {"type": "str", "default": "plan"}
    values = params(aws_profile="ops", aws_endpoint_url="http://127.0.0.1:5000")
    assert (values["profile"], values["endpoint_url"]) == ("ops", "http://127.0.0.1:5000")
    assert (values["retry_mode"], values["max_attempts"]) == ("adaptive", 10)
    assert values["region"] is None  # no default: AWS_REGION, then botocore's chain


def test_a_retry_mode_outside_the_choices_is_refused():
    result = ArgumentSpecValidator(aws_argument_spec()).validate({"retry_mode": "legacy"})
    assert "retry_mode must be one of: adaptive, standard" in " ".join(result.error_messages)


@pytest.fixture
def made(monkeypatch):
    """The clients _aws.client() was asked for."""
    calls = []

    def client(session, service, region=None, endpoint_url=None, config=None):
        calls.append((service, region, endpoint_url, config.retries["mode"], config.max_pool_connections))
        return object()

    monkeypatch.setattr(_aws_module._aws, "client", client)
    return calls


def test_clients_are_built_once_per_service_and_region_from_the_options(made):
    clients = Clients(params(region="eu-west-1", endpoint_url="http://127.0.0.1:5000", retry_mode="standard"), pool=12)
    ec2 = clients("ec2")
    assert clients("ec2", "eu-west-1") is ec2  # the options' region
    assert clients("ec2", "us-east-1") is not ec2
    assert clients("ec2", "us-east-1") is clients("ec2", "us-east-1")
    assert made == [
        ("ec2", "eu-west-1", "http://127.0.0.1:5000", "standard", 12),
        ("ec2", "us-east-1", "http://127.0.0.1:5000", "standard", 12),
    ]


def test_the_account_comes_from_sts_in_the_region_asked(monkeypatch):
    asked = []

    class Sts:
        def get_caller_identity(self):
            return {"Account": "123456789012"}

    clients = Clients(params(region="eu-west-1"))
    monkeypatch.setattr(
        Clients, "__call__", lambda self, service, region=None: asked.append((service, region)) or Sts()
    )
    assert clients.account_id("us-east-1") == "123456789012"
    assert asked == [("sts", "us-east-1")]


def test_the_region_falls_back_to_aws_region(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    assert Clients(params()).region() == "ap-south-1"
    assert Clients(params(region="eu-west-1")).region() == "eu-west-1"
