# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: https_url_problems
short_description: Say what is wrong with an https://host[:port] URL, before a daemon is restarted on it
version_added: 0.4.0
description:
  - Returns the problems of the URL of a collector a daemon sends to (systemd-journal-upload's C(URL=)),
    one sentence each naming the variable, or an empty list when it is C(https://host[:port]) (a trailing
    C(/) allowed).
  - The host is an IPv4 address, a host name or an IPv6 address in brackets; the port, when given, a whole
    number from 1 to 65535. A path, query, fragment or user information is refused (the daemon appends its
    own path); user information is never repeated in the message.
  - Pure syntax, on the controller; nothing is resolved.
options:
  _input:
    description: The URL.
    type: str
    required: true
  name:
    description: Name of the URL's variable, for the messages.
    type: str
    default: url
"""

EXAMPLES = r"""
- name: Check the collector's URL before any host is touched
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join(' ') }}"
  vars:
    __problems: "{{ journal_upload_url | keel.platform.https_url_problems(name='journal_upload_url') }}"
"""

RETURN = r"""
_value:
  description: One message per problem; empty when the URL is valid.
  type: list
  elements: str
"""

import re

from ansible_collections.keel.platform.plugins.plugin_utils.networks import host_problem, port_problem

HINT = "give https://host[:port] (an IPv4 address, a host name or an IPv6 address in brackets, and an optional port)"
URL = re.compile(
    r"^https://(?P<userinfo>[^@/?#]*@)?(?P<host>\[[^\]/?#]*\]|[^:/?#]*)(?::(?P<port>[^/?#]*))?(?P<path>[^?#]*)(?P<rest>.*)$"
)


def https_url_problems(url, name="url"):
    """Return one message per problem of URL; [] when it is https://host[:port]."""
    if not isinstance(url, str):
        return [f"{name} {url!r} is not a string: {HINT}."]
    if url == "":
        return [f"{name} is empty: {HINT}."]
    match = URL.match(url)
    shown = repr(url if match is None or not match["userinfo"] else url.replace(match["userinfo"], "…@", 1))
    if url != url.strip():
        return [f"{name} {shown} has leading or trailing spaces: {HINT}."]
    if match is None:
        return [f"{name} {shown} is not https://host[:port]: {HINT}."]
    found = []
    if match["userinfo"]:
        found.append(f"{name} {shown} has user information: {HINT}; the client certificate authenticates.")
    if not match["host"]:
        found.append(f"{name} {shown} has no host: {HINT}.")
    else:
        found.append(host_problem(match["host"], f"{name} host", HINT))
    if match["port"] is not None:
        bad_port = port_problem(match["port"], f"{name} port")
        found.append(bad_port and f"{name} port {match['port']!r} is not a port: {HINT}.")
    if match["path"] not in ("", "/"):
        found.append(f"{name} {shown} has a path ({match['path']!r}): {HINT}; the daemon adds its own path.")
    if match["rest"]:
        found.append(f"{name} {shown} has a query or fragment: {HINT}.")
    return [problem for problem in found if problem]


class FilterModule:
    """URL filters of keel.platform."""

    def filters(self):
        return {"https_url_problems": https_url_problems}
