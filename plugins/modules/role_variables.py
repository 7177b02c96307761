#!/usr/bin/python
# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: role_variables
short_description: Refuse mistyped role variables and report misspelt ones, from the role's argument specs
version_added: 0.4.0
description:
  - Runs on the controller as the first task of each Keel role, before the role touches the host.
    It reads the calling role's C(meta/argument_specs.yml) and the variables the play gives it.
  - Every variable named with the role's prefix (C(hardening_), C(docker_host_) ...) that the
    argument specs do not document is reported with the closest documented name, so a typo such as
    C(hardening_firewal_enabled) is not silently ignored. A warning by default; an error with
    O(strict).
  - >-
    A dictionary or list given as a string (C(hardening_sysctl_overrides: "net.ipv4.ip_forward=1"),
    C(hardening_ssh_allow_groups: ssh-users)), a list element or nested option of the wrong shape,
    is an error naming the variable. ansible-core's own role argument validation converts such
    strings for its check but hands the role the raw string.
author:
  - Keel platform team (@keel-platform)
attributes:
  check_mode:
    description: Only reads variables; runs the same in check mode.
    support: full
  diff_mode:
    description: Reports nothing as a diff.
    support: none
  action:
    description: Runs on the controller only; nothing reaches the host.
    support: full
options:
  strict:
    description: Fail, instead of warning, on variables with the role's prefix that the role does not know.
    type: bool
    default: false
  outputs:
    description:
      - Variables with the role's prefix that the role itself sets (facts, registered results), which are not inputs.
    type: list
    elements: str
    default: []
notes:
  - Must run inside a role (as a task of the role); the prefix is the role's short name followed by C(_).
"""

EXAMPLES = r"""
- name: Check the variables given to this role
  keel.platform.role_variables:
    strict: "{{ keel_strict_variables | default(false) }}"
    outputs: [docker_host_info, docker_host_pending_upgrade]
"""

RETURN = r"""
unknown:
  description: Variables with the role's prefix that the role does not document, each with the closest documented name.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "hardening_firewal_enabled", "closest": "hardening_firewall_enabled"}]
"""
