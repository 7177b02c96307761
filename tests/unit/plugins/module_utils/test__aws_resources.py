"""Discovery over recorded answers of each service: ARNs, tags, the inheritance parents, failures by region."""

from __future__ import annotations

import botocore.exceptions
import pytest
from ansible_collections.keel.platform.plugins.module_utils._aws_resources import (
    PAGE_SIZES,
    RESOURCE_TYPES,
    ListingError,
    discover,
)

ACCOUNT = "123456789012"
ANSWERS = {
    "describe_instances": [
        {
            "Reservations": [
                {
                    "Instances": [
                        {"InstanceId": "i-1", "State": {"Name": "running"}, "InstanceType": "t3.micro",
                         "Tags": [{"Key": "team", "Value": "search"}]},
                        {"InstanceId": "i-gone", "State": {"Name": "terminated"}},
                    ]
                }
            ]
        },
        {"Reservations": [{"Instances": [{"InstanceId": "i-2", "State": {"Name": "stopped"}}]}]},  # a second page
    ],
    "describe_volumes": [
        {"Volumes": [{"VolumeId": "vol-1", "Size": 8, "VolumeType": "gp3", "Attachments": [{"InstanceId": "i-1"}]}]}
    ],
    "describe_images": [
        {"Images": [{"ImageId": "ami-1", "SourceInstanceId": "i-1",
                     "BlockDeviceMappings": [{"Ebs": {"SnapshotId": "snap-ami"}}, {"VirtualName": "ephemeral0"}]}]}
    ],
    "describe_snapshots": [
        {
            "Snapshots": [
                {"SnapshotId": "snap-vol", "VolumeId": "vol-1", "VolumeSize": 8},
                {"SnapshotId": "snap-ami", "VolumeId": "vol-ffffffff", "VolumeSize": 8},  # copied: no volume
                {"SnapshotId": "snap-orphan", "VolumeId": "vol-ffffffff",
                 "Description": "Created by CreateImage(i-0abc) for ami-0def from vol-2"},
            ]
        }
    ],
    "describe_network_interfaces": [
        {"NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "Attachment": {"InstanceId": "i-1"},
                                "TagSet": [{"Key": "env", "Value": "prod"}]}]}
    ],
    "describe_db_instances": [
        {"DBInstances": [{"DBInstanceArn": "arn:aws:rds:r:1:db:orders", "DBInstanceIdentifier": "orders",
                          "DBInstanceClass": "db.t3.micro", "TagList": []}]}
    ],
    "describe_load_balancers": [
        {"LoadBalancers": [{"LoadBalancerArn": f"arn:lb/{n}", "LoadBalancerName": f"lb{n}"} for n in range(21)]}
    ],
}  # fmt: skip


class Pages(list):
    """What botocore's paginate() returns: the pages, and the token to resume after the last one read."""

    resume_token = None


class Paginator:
    def __init__(self, client, operation):
        self.client, self.operation = client, operation

    def paginate(self, PaginationConfig, **params):
        self.client.calls.append((self.operation, PaginationConfig.get("PageSize"), params))
        if self.operation in self.client.failing:
            raise self.client.failing[self.operation]
        return Pages(ANSWERS[self.operation])


class Client:
    def __init__(self, calls, failing):
        self.calls, self.failing = calls, failing

    def get_paginator(self, operation):
        return Paginator(self, operation)

    def describe_addresses(self):
        return {
            "Addresses": [
                {"AllocationId": "eipalloc-1", "NetworkInterfaceId": "eni-1", "Tags": [{"Key": "team"}]},
                {"PublicIp": "198.51.100.1"},  # EC2-Classic: no allocation, nothing to tag
            ]
        }

    def describe_tags(self, ResourceArns):
        self.calls.append(("describe_tags", len(ResourceArns), {}))
        return {
            "TagDescriptions": [{"ResourceArn": arn, "Tags": [{"Key": "team", "Value": "x"}]} for arn in ResourceArns]
        }

    def list_buckets(self):
        return {"Buckets": [{"Name": "logs", "BucketRegion": "eu-central-1"}, {"Name": "plain"}]}

    def get_bucket_tagging(self, Bucket):
        if Bucket == "plain":
            raise botocore.exceptions.ClientError({"Error": {"Code": "NoSuchTagSet", "Message": "none"}}, "Get")
        return {"TagSet": [{"Key": "team", "Value": "ops"}]}


class Clients:
    """client(service, region); `failing` = {region: {operation: error}}."""

    def __init__(self, failing=None):
        self.failing, self.calls = failing or {}, {}

    def __call__(self, service, region=None):
        return Client(self.calls.setdefault(region, []), self.failing.get(region, {}))


def arn(region, kind, rid):
    return f"arn:aws:ec2:{region}:{ACCOUNT}:{kind}/{rid}"


def by_id(resources):
    return {resource["id"]: resource for resource in resources}


def test_every_type_with_its_arn_tags_and_parents():
    resources, failures = discover(Clients(), ["eu-west-1"], ACCOUNT)
    assert failures == []
    found = by_id(resources)
    assert "i-gone" not in found
    assert found["i-1"] == {
        "arn": arn("eu-west-1", "instance", "i-1"), "id": "i-1", "type": "instance", "region": "eu-west-1",
        "tags": {"team": "search"}, "parents": [], "instance_type": "t3.micro", "state": "running",
    }  # fmt: skip
    assert found["i-2"]["state"] == "stopped"
    assert found["vol-1"]["parents"] == [arn("eu-west-1", "instance", "i-1")]
    assert found["ami-1"]["parents"] == [arn("eu-west-1", "instance", "i-1")]
    assert found["snap-vol"]["parents"] == [arn("eu-west-1", "volume", "vol-1")]
    assert found["snap-ami"]["parents"] == [arn("eu-west-1", "image", "ami-1")]  # by the AMI's block devices
    assert found["snap-orphan"]["parents"] == [  # by its CreateImage description
        arn("eu-west-1", "image", "ami-0def"),
        arn("eu-west-1", "instance", "i-0abc"),
    ]
    assert found["eni-1"]["tags"] == {"env": "prod"}
    assert found["eipalloc-1"]["parents"] == [arn("eu-west-1", "network-interface", "eni-1")]
    assert found["eipalloc-1"]["tags"] == {"team": ""}
    assert (found["orders"]["arn"], found["orders"]["instance_type"]) == ("arn:aws:rds:r:1:db:orders", "db.t3.micro")
    assert found["lb20"]["tags"] == {"team": "x"}
    assert found["logs"] == {
        "arn": "arn:aws:s3:::logs", "id": "logs", "type": "bucket", "region": "eu-central-1",
        "tags": {"team": "ops"}, "parents": [],
    }  # fmt: skip
    assert found["plain"]["tags"] == {}
    assert found["plain"]["region"] == "eu-west-1"
    assert {resource["type"] for resource in resources} == set(RESOURCE_TYPES)


def test_listings_use_the_largest_pages_and_tags_of_balancers_go_by_twenty():
    clients = Clients()
    discover(clients, ["eu-west-1"], ACCOUNT, types=["instance", "snapshot", "load_balancer"])
    calls = clients.calls["eu-west-1"]
    assert ("describe_instances", PAGE_SIZES["describe_instances"], {}) in calls
    assert ("describe_snapshots", 1000, {"OwnerIds": ["self"]}) in calls
    assert ("describe_images", 1000, {"Owners": ["self"]}) in calls  # snapshots need the AMIs
    assert [call[1] for call in calls if call[0] == "describe_tags"] == [20, 1]
    assert not [call for call in calls if call[0] == "describe_volumes"]


def denied(operation):
    return botocore.exceptions.ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}, operation)


def test_a_failing_region_is_left_out_whole_and_named_with_the_iam_action():
    clients = Clients({"us-east-1": {"describe_volumes": denied("DescribeVolumes")}})
    resources, failures = discover(clients, ["eu-west-1", "us-east-1"], ACCOUNT, types=["instance", "volume"])
    assert {resource["region"] for resource in resources} == {"eu-west-1"}
    (failure,) = failures
    assert isinstance(failure, ListingError)
    assert (failure.where, failure.action) == ("us-east-1", "ec2:DescribeVolumes")
    assert "ec2:DescribeVolumes in us-east-1" in str(failure)


def test_the_order_is_stable_whatever_finishes_first():
    regions = ["us-east-1", "eu-west-1", "ap-south-1"]
    resources, _failures = discover(Clients(), regions, ACCOUNT, types=["instance"], workers=3)
    assert [resource["region"] for resource in resources] == [region for region in regions for _instance in range(2)]


def test_an_unknown_type_is_refused_before_any_call():
    clients = Clients()
    with pytest.raises(ValueError, match=r"^unknown resource type\(s\) lambda; supported: instance, volume"):
        discover(clients, ["eu-west-1"], ACCOUNT, types=["instance", "lambda"])
    assert clients.calls == {}
