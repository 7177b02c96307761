from __future__ import annotations

import datetime

import pytest
from ansible.errors import AnsibleError
from ansible_collections.keel.platform.plugins.plugin_utils._fleet_hosts import (
    choose_hostname,
    compact_hostvars,
    full_hostvars,
    tag_dict,
    validate_hostnames,
)

INSTANCE = {
    "InstanceId": "i-0abc",
    "InstanceType": "t3.micro",
    "PrivateIpAddress": "10.0.0.7",
    "PrivateDnsName": "ip-10-0-0-7.ec2.internal",
    "PublicDnsName": "",
    "Placement": {"AvailabilityZone": "us-east-1b", "Tenancy": "default"},
    "State": {"Code": 16, "Name": "running"},
    "LaunchTime": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
    "SecurityGroups": [{"GroupId": "sg-1", "GroupName": "web"}],
    "NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "PrivateIpAddresses": [{"Primary": True}]}],
    "Tags": [
        {"Key": "Name", "Value": "web-1"},
        {"Key": "env", "Value": "prod"},
        {"Key": "role", "Value": "db:primary"},
    ],
    "OwnerId": "123456789012",
}
TAGS = tag_dict(INSTANCE)
ACCOUNT = {"id": "123456789012", "alias": "prod"}


def template(source, hostvars):
    assert source == "{{ tags.Name }}-{{ instance_id }}"
    return f"{hostvars['tags']['Name']}-{hostvars['instance_id']}"


@pytest.mark.parametrize(
    ("preferences", "expected"),
    [
        ([], "ip-10-0-0-7.ec2.internal"),  # aws_ec2's default: dns-name (empty here), then private-dns-name
        (["private-ip-address"], "10.0.0.7"),
        (["ip-address", "dns-name", "instance-id"], "i-0abc"),
        (["tag:Name"], "web-1"),
        (["tag:Owner", "tag:Name"], "web-1"),
        (["tag:Owner,Name"], "web-1"),
        (["tag:env=prod"], "env_prod"),
        (["tag:env=dev", "instance-id"], "i-0abc"),
        (["tag:role"], "db_primary"),  # ':' is not kept in a host name, as in aws_ec2
        ([{"name": "private-ip-address", "prefix": "tag:Name", "separator": "-"}], "web-1-10.0.0.7"),
        ([{"name": "private-ip-address", "prefix": "tag:Owner"}], "10.0.0.7"),
        (["{{ tags.Name }}-{{ instance_id }}"], "web-1-i-0abc"),
        (["ip-address", "tag:Owner"], None),
    ],
)
def test_choose_hostname(preferences, expected):
    hostvars = compact_hostvars(INSTANCE, TAGS, "us-east-1", ACCOUNT)
    assert choose_hostname(preferences, INSTANCE, TAGS, template, hostvars) == expected


@pytest.mark.parametrize(
    ("preferences", "message"),
    [
        (["private_ip_address"], "'private_ip_address' is not a known attribute"),
        ([{"prefix": "tag:Name"}], "needs a 'name'"),
        ([{"name": "instance-id", "prefix": "bogus"}], "'bogus' is not a known attribute"),
        ([7], "must be strings or dicts"),
    ],
)
def test_validate_hostnames_rejects_typos(preferences, message):
    with pytest.raises(AnsibleError, match=message):
        validate_hostnames(preferences)


def test_validate_hostnames_accepts_every_documented_form():
    validate_hostnames(
        ["private-ip-address", "tag:Name=web", "{{ instance_id }}", {"name": "dns-name", "prefix": "tag:env"}]
    )


def test_compact_hostvars_use_aws_ec2_names_and_leave_out_what_ec2_did_not_return():
    hostvars = compact_hostvars(INSTANCE, TAGS, "us-east-1", ACCOUNT)
    assert hostvars["placement"] == {"availability_zone": "us-east-1b", "region": "us-east-1"}
    assert hostvars["state"] == {"name": "running", "code": 16}
    assert hostvars["launch_time"] == "2026-01-02T03:04:05+00:00"
    assert hostvars["security_groups"] == [{"group_id": "sg-1", "group_name": "web"}]
    assert hostvars["tags"] == {"Name": "web-1", "env": "prod", "role": "db:primary"}
    assert (hostvars["account_id"], hostvars["account_alias"]) == ("123456789012", "prod")
    assert "public_ip_address" not in hostvars
    assert "public_dns_name" not in hostvars  # EC2 returns "" for instances without one
    assert "network_interfaces" not in hostvars


def test_full_hostvars_keep_every_field_snake_cased():
    hostvars = full_hostvars(INSTANCE, TAGS, "us-east-1", {"id": "123456789012", "alias": None})
    assert hostvars["network_interfaces"] == [
        {"network_interface_id": "eni-1", "private_ip_addresses": [{"primary": True}]}
    ]
    assert hostvars["placement"] == {"availability_zone": "us-east-1b", "tenancy": "default", "region": "us-east-1"}
    assert hostvars["ec2_tags"] == hostvars["tags"] == TAGS
    assert hostvars["launch_time"] == "2026-01-02T03:04:05+00:00"
    assert hostvars["owner_id"] == "123456789012"
    assert "Tags" not in hostvars
    assert "tags" not in INSTANCE  # the record itself is not changed
