from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.keel.platform.plugins.filter.overlapping_networks import FilterModule, overlapping_networks


@pytest.mark.parametrize(
    ("networks", "others", "expected"),
    [
        (["172.20.0.0/14"], ["10.0.0.0/16"], []),
        (["172.20.0.0/14"], ["172.22.5.0/24"], ["172.20.0.0/14 overlaps 172.22.5.0/24"]),
        (["172.22.5.0/24"], ["172.20.0.0/14"], ["172.22.5.0/24 overlaps 172.20.0.0/14"]),
        (
            ["172.16.0.0/16", "10.1.0.0/16"],
            ["10.0.0.0/8", "172.16.0.0/12"],
            [
                "172.16.0.0/16 overlaps 172.16.0.0/12",
                "10.1.0.0/16 overlaps 10.0.0.0/8",
            ],
        ),
        (["172.31.0.1/16"], ["172.31.255.0/24"], ["172.31.0.0/16 overlaps 172.31.255.0/24"]),
        (["fd00::/8"], ["10.0.0.0/8"], []),
        ([], ["10.0.0.0/8"], []),
    ],
)
def test_overlapping_networks(networks, others, expected):
    assert overlapping_networks(networks, others) == expected


@pytest.mark.parametrize(
    ("networks", "others", "message"),
    [
        ("10.0.0.0/8", ["10.0.0.0/8"], "networks must be a list"),
        (["10.0.0.0/8"], "10.0.0.0/8", "others must be a list"),
        (["10.0.0.0/33"], [], "'10.0.0.0/33' is not a network"),
    ],
)
def test_overlapping_networks_rejects_bad_input(networks, others, message):
    with pytest.raises(AnsibleFilterError, match=message):
        overlapping_networks(networks, others)


def test_filter_is_registered():
    assert FilterModule().filters()["overlapping_networks"] is overlapping_networks
