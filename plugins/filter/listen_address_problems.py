# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: listen_address_problems
short_description: Say what is wrong with a listen address and port, before a daemon is restarted on them
version_added: 0.1.0
description:
  - Returns the problems of a listen host and port as Go daemons (node_exporter's C(--web.listen-address))
    take them, one sentence each naming the variable, or an empty list when both are valid.
  - The host is empty (every interface), an IPv4 address, a host name, or an IPv6 address in brackets
    (C([::1])). It carries no port; the port is its own variable, a whole number from 1 to 65535.
  - Pure syntax, on the controller; nothing is resolved.
options:
  _input:
    description: The host part of the listen address.
    type: str
    required: true
  port:
    description: The TCP port.
    type: raw
    required: true
  address_name:
    description: Name of the host's variable, for the messages.
    type: str
    default: address
  port_name:
    description: Name of the port's variable, for the messages.
    type: str
    default: port
"""

EXAMPLES = r"""
- name: Check the listen address before any host is touched
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join(' ') }}"
  vars:
    __problems: >-
      {{ exporter_listen_address | keel.platform.listen_address_problems(exporter_port,
         address_name='exporter_listen_address', port_name='exporter_port') }}
"""

RETURN = r"""
_value:
  description: One message per problem; empty when the address and port are valid.
  type: list
  elements: str
"""

from ansible_collections.keel.platform.plugins.plugin_utils.networks import host_problem, port_problem

HINT = "give an IPv4 address, a host name, an IPv6 address in brackets ([::1]), or nothing for every interface"


def listen_address_problems(address, port, address_name="address", port_name="port"):
    """Return one message per problem of ADDRESS and PORT; [] when they are valid."""
    if not isinstance(address, str):
        return [f"{address_name} {address!r} is not a string: {HINT}."]
    host = address.strip()
    found = [host_problem(host, address_name, HINT) if host else None, port_problem(port, port_name)]
    if address != address.strip():
        found.insert(0, f"{address_name} {address!r} has leading or trailing spaces.")
    return [problem for problem in found if problem]


class FilterModule:
    """Listen address filters of keel.platform."""

    def filters(self):
        return {"listen_address_problems": listen_address_problems}
