# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: changed_keys
short_description: The top-level keys whose values differ between two dictionaries
version_added: 0.2.0
description:
  - Returns the sorted keys that were added, removed or whose values changed between the input
    dictionary (before) and O(after). Used to decide whether a configuration change can be
    applied by a reload or needs a restart.
options:
  _input:
    description: The dictionary before the change. V(null) counts as empty.
    type: dict
    required: true
  after:
    description: The dictionary after the change. V(null) counts as empty.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Reload dockerd when only reloadable keys changed
  ansible.builtin.set_fact:
    reload_only: >-
      {{ old_config | keel.platform.changed_keys(new_config)
         | difference(['debug', 'labels']) | length == 0 }}
"""

RETURN = r"""
_value:
  description: Sorted keys present in only one dictionary or with different values.
  type: list
  elements: str
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def _mapping(value, name):
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise AnsibleFilterError(f"changed_keys: {name} must be a dictionary, not {type(value).__name__}")
    return value


def changed_keys(before, after):
    """Return the sorted keys added, removed or changed from before to after."""
    before = _mapping(before, "the input")
    after = _mapping(after, "after")
    keys = set(before) | set(after)
    return sorted(key for key in keys if key not in before or key not in after or before[key] != after[key])


class FilterModule:
    """Dictionary comparison filter of keel.platform."""

    def filters(self):
        return {"changed_keys": changed_keys}
