from __future__ import annotations

import botocore.exceptions
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
