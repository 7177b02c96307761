from __future__ import annotations

import ipaddress

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.keel.platform.plugins.plugin_utils.networks import (
    parse_address,
    parse_network,
    parse_network_list,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.0.0.1", ipaddress.ip_address("10.0.0.1")),
        (" 2001:db8::1 ", ipaddress.ip_address("2001:db8::1")),
        ("::ffff:192.0.2.7", ipaddress.ip_address("192.0.2.7")),  # IPv4-mapped comes back as IPv4
    ],
)
def test_addresses(value, expected):
    assert parse_address(value, "f") == expected


@pytest.mark.parametrize("value", ["10.0.0.256", "10.0.0.0/8", "", None])
def test_what_is_not_an_address_names_the_filter_and_the_value(value):
    with pytest.raises(AnsibleFilterError) as raised:
        parse_address(value, "my_filter")
    assert str(raised.value).startswith(f"my_filter: {value!r} is not an IP address")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("10.1.2.3/8", "10.0.0.0/8"), ("192.0.2.1", "192.0.2.1/32"), ("2001:db8::/32", "2001:db8::/32")],
)
def test_networks_allow_host_bits_and_single_addresses(value, expected):
    assert parse_network(value, "f") == ipaddress.ip_network(expected)


def test_a_bad_network_names_the_filter():
    with pytest.raises(AnsibleFilterError, match=r"^f: '10\.0\.0\.0/33' is not a network in CIDR notation"):
        parse_network("10.0.0.0/33", "f")


def test_a_list_of_networks_and_a_single_string_refused():
    assert parse_network_list(["10.0.0.0/8", "192.0.2.0/24"], "f") == [
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.0.2.0/24"),
    ]
    with pytest.raises(AnsibleFilterError, match=r"^f: sources must be a list of CIDR strings, not a single string$"):
        parse_network_list("10.0.0.0/8", "f", what="sources")
