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

import ipaddress
import re

HOST_NAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)
HINT = "give an IPv4 address, a host name, an IPv6 address in brackets ([::1]), or nothing for every interface"


def _host_problem(host: str, name: str) -> str | None:
    if host == "":
        return None
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return f"{name} {host!r} is not an IPv6 address in brackets: {HINT}."
        return None
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        pass
    else:
        return f"{name} {host!r} is an IPv6 address: put it in brackets ([{host}])."
    if ":" in host:
        return f"{name} {host!r} has a port or is malformed: {HINT}; the port goes in its own variable."
    if re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return f"{name} {host!r} is not an IPv4 address: {HINT}."
        return None
    if not HOST_NAME.match(host):
        return f"{name} {host!r} is not a host name: {HINT}."
    return None


def _port_problem(port: object, name: str) -> str | None:
    if isinstance(port, bool):
        return f"{name} {port!r} is not a port: give a whole number from 1 to 65535."
    try:
        number = int(str(port).strip()) if isinstance(port, str) else port
    except ValueError:
        number = None
    if not isinstance(number, int) or not 1 <= number <= 65535:
        return f"{name} {port!r} is not a port: give a whole number from 1 to 65535."
    return None


def listen_address_problems(address, port, address_name="address", port_name="port"):
    """Return one message per problem of ADDRESS and PORT; [] when they are valid."""
    if not isinstance(address, str):
        return [f"{address_name} {address!r} is not a string: {HINT}."]
    found = [_host_problem(address.strip(), address_name), _port_problem(port, port_name)]
    if address != address.strip():
        found.insert(0, f"{address_name} {address!r} has leading or trailing spaces.")
    return [problem for problem in found if problem]


class FilterModule:
    """Listen address filters of keel.platform."""

    def filters(self):
        return {"listen_address_problems": listen_address_problems}
