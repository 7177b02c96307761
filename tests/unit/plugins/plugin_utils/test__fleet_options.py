from __future__ import annotations

import pytest
from ansible.errors import AnsibleError
from ansible_collections.keel.platform.plugins.plugin_utils._fleet_options import (
    check_option_names,
    check_regions,
    known_regions,
)

DEFINITIONS = {"plugin": {}, "regions": {}, "region": {}, "profile": {"aliases": ["aws_profile"]}, "strict": {}}


@pytest.mark.parametrize(
    "config",
    [
        {"plugin": "keel.platform.aws_fleet", "regions": ["us-east-1"]},
        {"plugin": "keel.platform.aws_fleet", "aws_profile": "prod"},  # an alias is an option too
    ],
)
def test_known_options_and_aliases_pass(config):
    check_option_names(config, DEFINITIONS, "f.aws_fleet.yml")


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [("regoins", "did you mean 'regions' or 'region'?"), ("stict", "did you mean 'strict'?"), ("colour", "")],
)
def test_an_unknown_option_is_named_with_the_closest(key, suggestion):
    with pytest.raises(AnsibleError) as raised:
        check_option_names({"plugin": "x", key: 1}, DEFINITIONS, "f.aws_fleet.yml")
    message = str(raised.value)
    assert f"unknown option {key!r} in f.aws_fleet.yml" in message
    assert suggestion in message
    if not suggestion:
        assert "did you mean" not in message


def test_botocore_region_data_spans_partitions():
    regions = known_regions()
    assert {"us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1"} <= regions
    assert "us-east-9" not in regions


def test_an_unknown_region_is_named_with_the_closest():
    with pytest.raises(AnsibleError) as raised:
        check_regions([("regions", "eu-west-1"), ("regions", "eu-wset-1")], known={"eu-west-1", "ap-south-1"})
    assert "regions: 'eu-wset-1' is not a region botocore knows; did you mean eu-west-1?" in str(raised.value)


def test_the_region_option_is_checked_too():
    with pytest.raises(AnsibleError, match="region: 'us-east1'"):
        check_regions([("region", "us-east1")], known={"us-east-1"})


def test_any_region_goes_with_an_endpoint_url():
    check_regions([("regions", "us-east-9")], endpoint_url="http://127.0.0.1:5000", known={"us-east-1"})
