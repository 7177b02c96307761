# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address and network parsing shared by keel.platform's network filters."""

from __future__ import annotations

import ipaddress
import re

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


HOST_NAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)


def host_problem(host: str, name: str, hint: str) -> str | None:
    """Why HOST (an IPv4 address, a host name or an IPv6 address in brackets) is not one; None if it is."""
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return f"{name} {host!r} is not an IPv6 address in brackets: {hint}."
        return None
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        pass
    else:
        return f"{name} {host!r} is an IPv6 address: put it in brackets ([{host}])."
    if ":" in host:
        return f"{name} {host!r} has a port or is malformed: {hint}; the port goes in its own variable."
    if re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return f"{name} {host!r} is not an IPv4 address: {hint}."
        return None
    if not HOST_NAME.match(host):
        return f"{name} {host!r} is not a host name: {hint}."
    return None


def port_problem(port: object, name: str) -> str | None:
    """Why PORT is not a whole number from 1 to 65535; None if it is."""
    if isinstance(port, bool):
        return f"{name} {port!r} is not a port: give a whole number from 1 to 65535."
    try:
        number = int(str(port).strip()) if isinstance(port, str) else port
    except ValueError:
        number = None
    if not isinstance(number, int) or not 1 <= number <= 65535:
        return f"{name} {port!r} is not a port: give a whole number from 1 to 65535."
    return None
