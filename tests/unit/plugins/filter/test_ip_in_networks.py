from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.keel.platform.plugins.filter.ip_in_networks import FilterModule, ip_in_networks


@pytest.mark.parametrize(
    ("address", "networks", "expected"),
    [
        ("10.1.2.3", ["10.0.0.0/8"], True),
        ("10.1.2.3", ["192.168.0.0/16", "10.1.2.3"], True),
        ("10.1.2.3", ["10.1.2.4/32"], False),
        ("10.1.2.3", [], False),
        ("2001:db8::5", ["2001:db8::/32"], True),
        ("2001:db8::5", ["10.0.0.0/8"], False),
        ("::ffff:192.0.2.7", ["192.0.2.0/24"], True),
        (" 192.0.2.7 ", ["192.0.2.0/24"], True),
        ("192.0.2.7", ["192.0.2.1/24"], True),  # host bits in a network are tolerated
    ],
)
def test_ip_in_networks(address, networks, expected):
    assert ip_in_networks(address, networks) is expected


@pytest.mark.parametrize(
    ("address", "networks", "message"),
    [
        ("not-an-ip", ["10.0.0.0/8"], "'not-an-ip' is not an IP address"),
        ("", ["10.0.0.0/8"], "'' is not an IP address"),
        ("10.0.0.1", ["10.0.0.0/33"], "'10.0.0.0/33' is not a network"),
        ("10.0.0.1", "10.0.0.0/8", "must be a list"),
    ],
)
def test_ip_in_networks_rejects_bad_input(address, networks, message):
    with pytest.raises(AnsibleFilterError, match=message):
        ip_in_networks(address, networks)


def test_filter_is_registered():
    assert FilterModule().filters()["ip_in_networks"] is ip_in_networks
