from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.keel.platform.plugins.filter.changed_keys import FilterModule, changed_keys


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ({}, {}, []),
        (None, {"debug": True}, ["debug"]),
        ({"debug": True}, None, ["debug"]),
        ({"debug": False, "icc": False}, {"debug": True, "icc": False}, ["debug"]),
        ({"labels": ["a"]}, {"labels": ["a", "b"], "icc": False}, ["icc", "labels"]),
        ({"log-opts": {"max-size": "20m"}}, {"log-opts": {"max-size": "20m"}}, []),
        ({"log-opts": {"max-size": "20m"}}, {"log-opts": {"max-size": "10m"}}, ["log-opts"]),
        ({"live-restore": True, "storage-driver": "btrfs"}, {"live-restore": True}, ["storage-driver"]),
    ],
)
def test_changed_keys(before, after, expected):
    assert changed_keys(before, after) == expected


def test_changed_keys_rejects_non_mappings():
    with pytest.raises(AnsibleFilterError, match="after must be a dictionary, not list"):
        changed_keys({}, ["debug"])


def test_filter_is_registered():
    assert FilterModule().filters()["changed_keys"] is changed_keys
