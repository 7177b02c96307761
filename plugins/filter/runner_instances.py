# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: runner_instances
short_description: Expand runner definitions into one entry per runner instance
version_added: 0.1.0
description:
  - Turns the ci_runner role's definitions (a name, a count, labels, a runner group, ephemeral or
    not, present or absent) into the list of runner instances a host should run, one per systemd
    unit C(keel-runner@<definition>-<n>.service), each with its GitHub name C(<prefix>-<definition>-<n>).
  - Definitions with C(state=absent) or C(count=0) contribute nothing, so their instances are removed.
  - Refuses duplicate definition names and names systemd or GitHub would mangle.
options:
  _input:
    description: The definitions (C(name) required; C(count), C(labels), C(group), C(ephemeral), C(state) optional).
    type: list
    elements: dict
    required: true
  prefix:
    description: Prefix of the GitHub names (the host's name).
    type: str
    required: true
  home:
    description: Directory holding one directory per instance.
    type: str
    required: true
  defaults:
    description: Values for keys a definition leaves out.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Expand the runner definitions
  ansible.builtin.set_fact:
    instances: "{{ [{'name': 'build', 'count': 2}] | keel.platform.runner_instances('web1', '/opt/keel-runner') }}"
"""

RETURN = r"""
_value:
  description: One dict per instance with C(instance), C(name), C(definition), C(labels), C(group),
    C(ephemeral), C(directory) and C(unit), sorted by instance.
  type: list
  elements: dict
"""

import re

from ansible.errors import AnsibleFilterError

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
BUILTIN = {"count": 1, "labels": [], "group": "Default", "ephemeral": False, "state": "present"}


def runner_instances(definitions, prefix, home, defaults=None):
    """The instances the definitions ask for on this host."""
    base = dict(BUILTIN, **(defaults or {}))
    seen = set()
    instances = []
    for definition in definitions:
        if not isinstance(definition, dict) or "name" not in definition:
            raise AnsibleFilterError(f"runner_instances: each definition needs a name, got {definition!r}")
        name = str(definition["name"])
        unknown = sorted(set(definition) - set(BUILTIN) - {"name"})
        if unknown:
            raise AnsibleFilterError(f"runner_instances: definition {name!r} has unknown keys {unknown}")
        if not SAFE_NAME.match(name) or not SAFE_NAME.match(str(prefix)):
            raise AnsibleFilterError(
                f"runner_instances: {name!r} (or the prefix {prefix!r}) must be letters, digits, '.', '_' or '-'"
            )
        if name in seen:
            raise AnsibleFilterError(f"runner_instances: two definitions are named {name!r}")
        seen.add(name)
        spec = dict(base, **definition)
        if int(spec["count"]) < 0:
            raise AnsibleFilterError(f"runner_instances: definition {name!r} has a negative count")
        if spec["state"] not in ("present", "absent"):
            raise AnsibleFilterError(f"runner_instances: definition {name!r} state must be present or absent")
        if spec["state"] == "absent":
            continue
        for index in range(1, int(spec["count"]) + 1):
            instance = f"{name}-{index}"
            instances.append(
                {
                    "instance": instance,
                    "name": f"{prefix}-{instance}",
                    "definition": name,
                    "labels": sorted(set(map(str, spec["labels"]))),
                    "group": spec["group"],
                    "ephemeral": bool(spec["ephemeral"]),
                    "directory": f"{str(home).rstrip('/')}/{instance}",
                    "unit": f"keel-runner@{instance}.service",
                }
            )
    return sorted(instances, key=lambda item: item["instance"])


class FilterModule:
    """Runner filters of keel.platform."""

    def filters(self):
        return {"runner_instances": runner_instances}
