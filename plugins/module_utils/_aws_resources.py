# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find taggable resources with each service's own Describe/List calls, all pages, regions concurrently.

The Tagging API's GetResources only returns resources that have (or had) tags, so it misses the
never-tagged ones; each type here is listed by its own service. A resource is a plain dict:
arn, id, type, region, tags, parents (ARNs, best first) and what the cost estimate needs.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.keel.platform.plugins.module_utils._aws import (
    AWS_ERRORS,
    call_with_backoff,
    describe_error,
    error_code,
    paginate,
)

REGIONAL_TYPES = (
    "instance",
    "volume",
    "snapshot",
    "image",
    "network_interface",
    "address",
    "database",
    "load_balancer",
)
GLOBAL_TYPES = ("bucket",)
RESOURCE_TYPES = REGIONAL_TYPES + GLOBAL_TYPES
# The largest page each List/Describe call accepts: fewest calls per resource.
PAGE_SIZES = {
    "describe_instances": 1000,
    "describe_volumes": 500,
    "describe_snapshots": 1000,
    "describe_network_interfaces": 1000,
    "describe_images": 1000,
    "describe_db_instances": 100,
    "describe_load_balancers": 400,
}
# The IAM action of each type's listing, named in failures.
LISTINGS = {
    "instance": "ec2:DescribeInstances",
    "volume": "ec2:DescribeVolumes",
    "snapshot": "ec2:DescribeSnapshots",
    "image": "ec2:DescribeImages",
    "network_interface": "ec2:DescribeNetworkInterfaces",
    "address": "ec2:DescribeAddresses",
    "database": "rds:DescribeDBInstances",
    "load_balancer": "elasticloadbalancing:DescribeLoadBalancers and DescribeTags",
    "bucket": "s3:ListAllMyBuckets and s3:GetBucketTagging",
}
_CREATE_IMAGE = re.compile(r"CreateImage\((?P<instance>i-[0-9a-f]+)\)(?: for (?P<image>ami-[0-9a-f]+))?")


def _tags(items):
    return {item["Key"]: item.get("Value", "") for item in items or ()}


class _Region:
    """Discovery of one region's resources; `client(service)` gives a client for this region."""

    def __init__(self, client, region, account, partition="aws"):
        self.client = client
        self.region = region
        self.prefix = f"arn:{partition}:ec2:{region}:{account}:"

    def arn(self, kind, resource_id):
        return f"{self.prefix}{kind}/{resource_id}"

    def _pages(self, service, operation, key, **params):
        for page in paginate(self.client(service), operation, page_size=PAGE_SIZES.get(operation), **params):
            yield from page.get(key, ())

    def _item(self, kind, arn, resource_id, tags, parents=(), **extra):
        return dict(extra, arn=arn, id=resource_id, type=kind, region=self.region, tags=tags, parents=list(parents))

    def instance(self):
        for reservation in self._pages("ec2", "describe_instances", "Reservations"):
            for item in reservation["Instances"]:
                state = item["State"]["Name"]
                if state in ("terminated", "shutting-down"):
                    continue
                yield self._item(
                    "instance",
                    self.arn("instance", item["InstanceId"]),
                    item["InstanceId"],
                    _tags(item.get("Tags")),
                    instance_type=item.get("InstanceType"),
                    state=state,
                )

    def volume(self):
        for item in self._pages("ec2", "describe_volumes", "Volumes"):
            parents = [
                self.arn("instance", a["InstanceId"]) for a in item.get("Attachments", ()) if a.get("InstanceId")
            ]
            yield self._item(
                "volume",
                self.arn("volume", item["VolumeId"]),
                item["VolumeId"],
                _tags(item.get("Tags")),
                parents,
                size_gb=item.get("Size"),
                volume_type=item.get("VolumeType"),
            )

    def image(self):
        for item in self._pages("ec2", "describe_images", "Images", Owners=["self"]):
            snapshots = [
                m["Ebs"]["SnapshotId"]
                for m in item.get("BlockDeviceMappings", ())
                if m.get("Ebs", {}).get("SnapshotId")
            ]
            source = item.get("SourceInstanceId")  # the instance CreateImage was called on
            yield self._item(
                "image",
                self.arn("image", item["ImageId"]),
                item["ImageId"],
                _tags(item.get("Tags")),
                [self.arn("instance", source)] if source else [],
                snapshots=snapshots,
            )

    def snapshot(self, images=()):
        by_snapshot = {}
        for image in images:
            for snapshot_id in image.get("snapshots", ()):
                by_snapshot.setdefault(snapshot_id, []).append(image["arn"])
        for item in self._pages("ec2", "describe_snapshots", "Snapshots", OwnerIds=["self"]):
            parents = []
            if item.get("VolumeId") and item["VolumeId"] != "vol-ffffffff":
                parents.append(self.arn("volume", item["VolumeId"]))
            parents.extend(by_snapshot.get(item["SnapshotId"], ()))
            created = _CREATE_IMAGE.search(item.get("Description") or "")
            if created:
                if created.group("image"):
                    parents.append(self.arn("image", created.group("image")))
                parents.append(self.arn("instance", created.group("instance")))
            yield self._item(
                "snapshot",
                self.arn("snapshot", item["SnapshotId"]),
                item["SnapshotId"],
                _tags(item.get("Tags")),
                parents,
                size_gb=item.get("VolumeSize"),
            )

    def network_interface(self):
        for item in self._pages("ec2", "describe_network_interfaces", "NetworkInterfaces"):
            instance = (item.get("Attachment") or {}).get("InstanceId")
            yield self._item(
                "network_interface",
                self.arn("network-interface", item["NetworkInterfaceId"]),
                item["NetworkInterfaceId"],
                _tags(item.get("TagSet")),
                [self.arn("instance", instance)] if instance else [],
            )

    def address(self):
        answer = call_with_backoff(self.client("ec2").describe_addresses)
        for item in answer.get("Addresses", ()):
            if not item.get("AllocationId"):
                continue
            interface = item.get("NetworkInterfaceId")
            yield self._item(
                "address",
                self.arn("elastic-ip", item["AllocationId"]),
                item["AllocationId"],
                _tags(item.get("Tags")),
                [self.arn("network-interface", interface)] if interface else [],
            )

    def database(self):
        for item in self._pages("rds", "describe_db_instances", "DBInstances"):
            yield self._item(
                "database",
                item["DBInstanceArn"],
                item["DBInstanceIdentifier"],
                _tags(item.get("TagList")),
                instance_type=item.get("DBInstanceClass"),
            )

    def load_balancer(self):
        client = self.client("elbv2")
        balancers = list(self._pages("elbv2", "describe_load_balancers", "LoadBalancers"))
        tags = {}
        for start in range(0, len(balancers), 20):
            arns = [item["LoadBalancerArn"] for item in balancers[start : start + 20]]
            for description in call_with_backoff(client.describe_tags, ResourceArns=arns)["TagDescriptions"]:
                tags[description["ResourceArn"]] = _tags(description.get("Tags"))
        for item in balancers:
            arn = item["LoadBalancerArn"]
            yield self._item("load_balancer", arn, item["LoadBalancerName"], tags.get(arn, {}))


def _buckets(client, region):
    s3 = client("s3", region)
    for item in call_with_backoff(s3.list_buckets).get("Buckets", ()):
        try:
            tags = _tags(call_with_backoff(s3.get_bucket_tagging, Bucket=item["Name"])["TagSet"])
        except Exception as error:
            if error_code(error) != "NoSuchTagSet":
                raise
            tags = {}
        yield {
            "arn": f"arn:aws:s3:::{item['Name']}",
            "id": item["Name"],
            "type": "bucket",
            "region": item.get("BucketRegion") or region,
            "tags": tags,
            "parents": [],
        }


class ListingError(Exception):
    """A listing that failed: the region (or 'global'), the IAM action and AWS's error, in one message."""

    def __init__(self, where, action, error, endpoint_url=None):
        self.where, self.action, self.error = where, action, error
        super().__init__(describe_error(error, f"{action} in {where}", endpoint_url))


def discover_region(client, region, account, types, endpoint_url=None):
    """Every resource of `types` in one region; client(service, region) makes clients.

    Raises ListingError naming the region and the call for any AWS error (ResponseParserError too).
    """
    finder = _Region(lambda service: client(service, region), region, account)
    found = []
    kind = "image"
    try:
        images = list(finder.image()) if "image" in types or "snapshot" in types else []
        for kind in REGIONAL_TYPES:
            if kind not in types:
                continue
            if kind == "image":
                found.extend(images)
            elif kind == "snapshot":
                found.extend(finder.snapshot(images))
            else:
                found.extend(getattr(finder, kind)())
    except AWS_ERRORS as error:
        raise ListingError(region, LISTINGS[kind], error, endpoint_url) from error
    return found


def discover(client, regions, account, types=RESOURCE_TYPES, workers=4, endpoint_url=None):
    """(resources, failures): resources of every region read (concurrently), then global ones (buckets), in a
    stable order; one ListingError per region (or the bucket listing) that failed.

    A region that fails is left out whole, since its other types would be planned without their parents.
    """
    unknown = sorted(set(types) - set(RESOURCE_TYPES))
    if unknown:
        raise ValueError(f"unknown resource type(s) {', '.join(unknown)}; supported: {', '.join(RESOURCE_TYPES)}")

    def read(region):
        try:
            return discover_region(client, region, account, types, endpoint_url), None
        except ListingError as error:
            return [], error

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(regions)))) as pool:
        per_region = list(pool.map(read, regions))
    resources = [item for items, _failure in per_region for item in items]
    failures = [failure for _items, failure in per_region if failure is not None]
    if "bucket" in types and regions:
        try:
            resources.extend(list(_buckets(client, regions[0])))
        except AWS_ERRORS as error:
            failures.append(
                ListingError("global (through " + regions[0] + ")", LISTINGS["bucket"], error, endpoint_url)
            )
    return resources, failures
