"""plugins/filter/runner_instances.py"""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.keel.platform.plugins.filter.runner_instances import runner_instances


def names(definitions, **kwargs):
    return [i["name"] for i in runner_instances(definitions, "web1", "/opt/r/", **kwargs)]


@pytest.mark.parametrize(
    ("definitions", "expected"),
    [
        ([], []),
        ([{"name": "build"}], ["web1-build-1"]),
        ([{"name": "build", "count": 2}, {"name": "deploy"}], ["web1-build-1", "web1-build-2", "web1-deploy-1"]),
        ([{"name": "build", "count": 0}], []),
        ([{"name": "build", "count": 3, "state": "absent"}], []),
    ],
)
def test_expansion(definitions, expected):
    assert names(definitions) == expected


def test_instance_fields_and_defaults():
    (only,) = runner_instances([{"name": "b", "labels": ["z", "a", "z"]}], "h", "/opt/r", {"group": "builders"})
    assert only == {
        "instance": "b-1",
        "name": "h-b-1",
        "definition": "b",
        "labels": ["a", "z"],
        "group": "builders",
        "ephemeral": False,
        "directory": "/opt/r/b-1",
        "unit": "keel-runner@b-1.service",
    }


@pytest.mark.parametrize(
    ("definitions", "message"),
    [
        ([{"count": 1}], "needs a name"),
        ([{"name": "a"}, {"name": "a"}], "two definitions are named 'a'"),
        ([{"name": "a b"}], "must be letters"),
        ([{"name": "a", "count": -1}], "negative count"),
        ([{"name": "a", "lables": []}], "unknown keys"),
        ([{"name": "a", "state": "gone"}], "present or absent"),
    ],
)
def test_refusals(definitions, message):
    with pytest.raises(AnsibleFilterError, match=message):
        runner_instances(definitions, "web1", "/opt/r")
