from __future__ import annotations

import botocore.exceptions
from ansible_collections.keel.platform.plugins.module_utils._native_tagging import apply_native, unsupported


def test_refusals_of_a_type_are_told_from_other_failures():
    assert unsupported(
        {"StatusCode": 400, "ErrorCode": "BadRequestException", "ErrorMessage": "Invalid input resource arn"}
    )
    assert unsupported(
        {"StatusCode": 404, "ErrorCode": "InternalServiceException", "ErrorMessage": "Service not yet supported"}
    )
    assert not unsupported(
        {"StatusCode": 500, "ErrorCode": "InternalServiceException", "ErrorMessage": "not supported"}
    )
    assert not unsupported({"StatusCode": 400, "ErrorCode": "AccessDeniedException", "ErrorMessage": "denied"})


class Recorder:
    """Clients whose calls are recorded; S3 keeps a tag set and one EC2 call is denied."""

    def __init__(self):
        self.calls = []
        self.bucket_tags = {"Team": "data", "keep": "1"}

    def __call__(self, service, region):
        recorder = self

        class Client:
            def __getattr__(self, name):
                def call(**params):
                    recorder.calls.append((service, region, name, params))
                    if name == "create_tags" and params["Resources"] == ["i-denied"]:
                        error = {"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}
                        raise botocore.exceptions.ClientError(error, name)
                    if name == "get_bucket_tagging":
                        return {"TagSet": [{"Key": k, "Value": v} for k, v in recorder.bucket_tags.items()]}
                    if name == "put_bucket_tagging":
                        recorder.bucket_tags = {t["Key"]: t["Value"] for t in params["Tagging"]["TagSet"]}
                    return {}

                return call

        return Client()


def test_each_service_is_tagged_with_its_own_call_and_failures_are_per_arn():
    clients = Recorder()
    arns = [
        "arn:aws:ec2:eu-west-1:1:elastic-ip/eipalloc-1",
        "arn:aws:ec2:eu-west-1:1:instance/i-denied",
        "arn:aws:rds:eu-west-1:1:db:ledger",
        "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/web/1",
        "arn:aws:s3:::bucket",
        "arn:aws:sqs:eu-west-1:1:queue",
    ]
    batch = {"operation": "tag", "region": "eu-west-1", "tags": {"team": "data"}}
    failed = apply_native(clients, batch, arns)
    assert sorted(failed) == [arns[1], arns[5]]
    assert failed[arns[1]]["ErrorCode"] == "UnauthorizedOperation"
    assert failed[arns[5]]["ErrorCode"] == "UnsupportedResource"
    names = [(service, region, name) for service, region, name, _params in clients.calls]
    assert names == [
        ("ec2", "eu-west-1", "create_tags"),
        ("ec2", "eu-west-1", "create_tags"),
        ("rds", "eu-west-1", "add_tags_to_resource"),
        ("elbv2", "eu-west-1", "add_tags"),
        ("s3", "eu-west-1", "get_bucket_tagging"),
        ("s3", "eu-west-1", "put_bucket_tagging"),
    ]
    assert clients.calls[0][3] == {"Resources": ["eipalloc-1"], "Tags": [{"Key": "team", "Value": "data"}]}
    assert clients.bucket_tags == {"Team": "data", "keep": "1", "team": "data"}  # merged, not replaced
    untag = {"operation": "untag", "region": "eu-west-1", "keys": ["Team"]}
    assert apply_native(clients, untag, ["arn:aws:s3:::bucket"]) == {}
    assert clients.bucket_tags == {"keep": "1", "team": "data"}
