# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tag and untag through each service's own calls, for ARNs the Resource Groups Tagging API refuses.

TagResources/UntagResources answer a resource type they do not cover per ARN in FailedResourcesMap
(400 BadRequestException "Invalid input resource arn" and the like; moto: 404 "Service not yet
supported"). Those ARNs are sent again with the service's call: EC2 CreateTags/DeleteTags, RDS
AddTagsToResource/RemoveTagsFromResource, ELBv2 AddTags/RemoveTags, S3 Put/DeleteBucketTagging
(the whole tag set, so read first). `client(service, region)` makes clients; AWS errors are
answered per ARN, as TagResources does.
"""

from __future__ import annotations

from ansible_collections.keel.platform.plugins.module_utils import _aws
from ansible_collections.keel.platform.plugins.module_utils._aws import call_with_backoff, error_code

_REFUSALS = ("invalid input resource arn", "not supported", "not yet supported", "not a valid")


def unsupported(failure):
    """Whether a FailedResourcesMap entry says the Tagging API does not cover the resource."""
    message = (failure.get("ErrorMessage") or "").lower()
    return int(failure.get("StatusCode") or 0) in (400, 404) and any(text in message for text in _REFUSALS)


def service_of(arn):
    """(service, region) of an ARN: ec2, rds, elasticloadbalancing, s3, ..."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        raise ValueError(f"{arn!r} is not an ARN")
    return parts[2], parts[3]


def _pairs(tags):
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _bucket_tags(s3, bucket):
    try:
        answer = call_with_backoff(s3.get_bucket_tagging, Bucket=bucket)
    except Exception as error:
        if error_code(error) != "NoSuchTagSet":
            raise
        return {}
    return {item["Key"]: item["Value"] for item in answer["TagSet"]}


def _one(client, arn, region, tags=None, keys=None):
    """Tag (tags) or untag (keys) one ARN with its service's own call."""
    service, own_region = service_of(arn)
    region = own_region or region
    if service == "ec2":
        ec2 = client("ec2", region)
        resource = arn.rsplit("/", 1)[-1]
        if tags is not None:
            call_with_backoff(ec2.create_tags, Resources=[resource], Tags=_pairs(tags))
        else:
            call_with_backoff(ec2.delete_tags, Resources=[resource], Tags=[{"Key": key} for key in keys])
    elif service == "rds":
        rds = client("rds", region)
        if tags is not None:
            call_with_backoff(rds.add_tags_to_resource, ResourceName=arn, Tags=_pairs(tags))
        else:
            call_with_backoff(rds.remove_tags_from_resource, ResourceName=arn, TagKeys=list(keys))
    elif service == "elasticloadbalancing":
        elb = client("elbv2", region)
        if tags is not None:
            call_with_backoff(elb.add_tags, ResourceArns=[arn], Tags=_pairs(tags))
        else:
            call_with_backoff(elb.remove_tags, ResourceArns=[arn], TagKeys=list(keys))
    elif service == "s3":
        s3 = client("s3", region)
        bucket = arn.rsplit(":", 1)[-1]
        current = _bucket_tags(s3, bucket)
        wanted = {**current, **tags} if tags is not None else {k: v for k, v in current.items() if k not in keys}
        if wanted == current:
            return
        if wanted:
            call_with_backoff(s3.put_bucket_tagging, Bucket=bucket, Tagging={"TagSet": _pairs(wanted)})
        else:
            call_with_backoff(s3.delete_bucket_tagging, Bucket=bucket)
    else:
        raise ValueError(f"no tagging call of its own is known for {service} ({arn})")


def apply_native(client, batch, arns):
    """Run a tag/untag batch for `arns` one ARN at a time; {arn: failure} as in FailedResourcesMap."""
    failed = {}
    for arn in arns:
        try:
            if batch["operation"] == "tag":
                _one(client, arn, batch["region"], tags=batch["tags"])
            else:
                _one(client, arn, batch["region"], keys=batch["keys"])
        except ValueError as error:
            failed[arn] = {"StatusCode": 400, "ErrorCode": "UnsupportedResource", "ErrorMessage": str(error)}
        except _aws.AWS_ERRORS as error:
            response = getattr(error, "response", None) or {}
            failed[arn] = {
                "StatusCode": response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400),
                "ErrorCode": error_code(error),
                "ErrorMessage": _aws.describe_error(error, f"tagging {arn} with its service's own call"),
            }
    return failed
