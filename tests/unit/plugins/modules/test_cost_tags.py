from __future__ import annotations

import botocore.exceptions
import pytest
from ansible_collections.keel.platform.plugins.module_utils._cost_tags_run import failure_message
from ansible_collections.keel.platform.plugins.modules import cost_tags


class Clients:
    """The Tagging API refuses the whole call; EC2's own call records what it is sent."""

    def __init__(self, code, message):
        self.error = botocore.exceptions.ClientError({"Error": {"Code": code, "Message": message}}, "TagResources")
        self.created = []

    def __call__(self, service, region=None):
        clients = self

        class Client:
            def tag_resources(self, **params):
                raise clients.error

            def create_tags(self, **params):
                clients.created.append(params)

        return Client()


def test_a_whole_call_refusing_an_arn_falls_back_to_the_service_call():
    clients = Clients("InvalidParameterException", "arn:aws:ec2:r:1:elastic-ip/eipalloc-1 is not a valid ARN")
    call = cost_tags._caller(clients, {})
    batch = {"operation": "tag", "region": "r", "tags": {"team": "x"}}
    assert call(batch, ["arn:aws:ec2:r:1:elastic-ip/eipalloc-1"]) == {}
    assert clients.created == [{"Resources": ["eipalloc-1"], "Tags": [{"Key": "team", "Value": "x"}]}]


def test_other_whole_call_errors_are_answered_for_every_arn():
    clients = Clients("AccessDeniedException", "not allowed")
    failed = cost_tags._caller(clients, {})({"operation": "tag", "region": "r", "tags": {"t": "v"}}, ["a", "b"])
    assert sorted(failed) == ["a", "b"]
    assert failed["a"]["ErrorCode"] == "AccessDeniedException"
    assert "grant it in IAM" in failed["a"]["ErrorMessage"]
    assert not clients.created


class Refusing:
    """A Tagging API that refuses a whole call holding the bad ARN, as moto does for a resource at the tag limit."""

    def __init__(self, bad):
        self.bad, self.sent = bad, []

    def __call__(self, service, region=None):
        api = self

        class Client:
            def tag_resources(self, ResourceARNList, Tags):
                api.sent.append(list(ResourceARNList))
                if api.bad in ResourceARNList:
                    response = {
                        "Error": {"Code": "TagLimitExceeded", "Message": "The maximum number of Tags has been reached"},
                        "ResponseMetadata": {"HTTPStatusCode": 400},
                    }
                    raise botocore.exceptions.ClientError(response, "TagResources")
                return {"FailedResourcesMap": {}}

        return Client()


def test_one_bad_arn_is_refused_alone_and_the_rest_of_its_batch_is_tagged():
    arns = [f"arn:aws:ec2:r:1:instance/i-{n}" for n in range(4)]
    clients = Refusing(arns[2])
    failed = cost_tags._caller(clients, {})({"operation": "tag", "region": "r", "tags": {"t": "v"}}, arns)
    assert list(failed) == [arns[2]]
    assert failed[arns[2]]["ErrorCode"] == "TagLimitExceeded"
    assert failed[arns[2]]["ErrorMessage"].startswith("tag:TagResources failed (TagLimitExceeded: ")
    assert clients.sent == [arns, arns[:2], arns[2:], [arns[2]], [arns[3]]]


DENIED = "AccessDeniedException: tag:TagResources failed (...); the credentials in use are not allowed to call ..."


@pytest.mark.parametrize(
    ("failed", "message"),
    [
        (
            dict.fromkeys("abcde", DENIED),
            f"nothing was changed: none of the 5 resource(s) to change could be: {DENIED} (5 resources)",
        ),
        (
            {"a": DENIED},
            f"4 of the 5 resource(s) to change were changed; 1 could not be (see failures): {DENIED}",
        ),
        (
            {"a": "x", "b": "y", "c": "y", "d": "z", "e": "w"},
            "nothing was changed: none of the 5 resource(s) to change could be: y (2 resources); w; x; "
            "1 other reason(s) in failures",
        ),
    ],
)
def test_the_failure_message_says_exactly_what_was_changed(failed, message):
    assert failure_message(list("abcde"), failed) == message
