# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ip_in_networks
short_description: Test whether an IP address lies in any of a list of networks
version_added: 0.1.0
description:
  - Returns V(true) when the input address belongs to at least one of the given
    networks. Works for IPv4 and IPv6 and needs no Python library beyond the
    standard one (unlike C(ansible.utils.network_in_usable), which needs netaddr).
  - An IPv4-mapped IPv6 address (C(::ffff:192.0.2.1)) is compared as IPv4.
options:
  _input:
    description: The address to test.
    type: str
    required: true
  networks:
    description: Networks in CIDR notation, or single addresses.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Check that the controller may still reach SSH
  ansible.builtin.assert:
    that: >-
      ansible_facts['env']['SSH_CONNECTION'].split(' ') | first
      | keel.platform.ip_in_networks(['10.0.0.0/8', '2001:db8::/32'])
"""

RETURN = r"""
_value:
  description: Whether the address is inside any of the networks.
  type: bool
"""

from ansible_collections.keel.platform.plugins.plugin_utils.networks import parse_address, parse_network_list


def ip_in_networks(address, networks):
    """Return True when address lies in any of networks."""
    parsed = parse_address(address, "ip_in_networks")
    networks = parse_network_list(networks, "ip_in_networks")
    return any(parsed.version == net.version and parsed in net for net in networks)


class FilterModule:
    """Network filters of keel.platform."""

    def filters(self):
        return {"ip_in_networks": ip_in_networks}
