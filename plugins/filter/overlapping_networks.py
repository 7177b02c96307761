# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: overlapping_networks
short_description: List the pairs of networks from two lists that overlap
version_added: 0.2.0
description:
  - Compares every network of the input list with every network of O(others) and returns
    one readable line per overlapping pair, such as C(172.20.0.0/14 overlaps 172.22.0.0/16).
    An empty list means no overlap. IPv4 and IPv6 never overlap each other.
options:
  _input:
    description: Networks in CIDR notation.
    type: list
    elements: str
    required: true
  others:
    description: Networks in CIDR notation to compare against.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Refuse Docker address pools that clash with the VPC
  ansible.builtin.assert:
    that: >-
      docker_host_address_pools | map(attribute='base')
      | keel.platform.overlapping_networks(['10.0.0.0/16']) | length == 0
"""

RETURN = r"""
_value:
  description: One C(A overlaps B) line per overlapping pair, in input order.
  type: list
  elements: str
"""

from ansible_collections.keel.platform.plugins.plugin_utils.networks import parse_network_list


def overlapping_networks(networks, others):
    """Return 'A overlaps B' for each pair from networks x others that shares addresses."""
    mine = parse_network_list(networks, "overlapping_networks")
    theirs = parse_network_list(others, "overlapping_networks", what="others")
    return [
        f"{net} overlaps {other}"
        for net in mine
        for other in theirs
        if net.version == other.version and net.overlaps(other)
    ]


class FilterModule:
    """Network overlap filter of keel.platform."""

    def filters(self):
        return {"overlapping_networks": overlapping_networks}
