# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address and network parsing shared by keel.platform's network filters."""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError


def parse_address(value, filter_name):
    """An IP address; IPv4-mapped IPv6 addresses come back as IPv4."""
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError as exc:
        raise AnsibleFilterError(f"{filter_name}: {value!r} is not an IP address") from exc
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def parse_network(value, filter_name):
    """A network in CIDR notation (host bits allowed), or a single address."""
    try:
        return ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError as exc:
        raise AnsibleFilterError(f"{filter_name}: {value!r} is not a network in CIDR notation") from exc


def parse_network_list(values, filter_name, what="networks"):
    if isinstance(values, (str, bytes)):
        raise AnsibleFilterError(f"{filter_name}: {what} must be a list of CIDR strings, not a single string")
    return [parse_network(value, filter_name) for value in values]
