# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: cost_policy_tag_keys
short_description: The required tag keys (and their aliases) of the collection's cost policy file
version_added: 0.1.0
description:
  - Reads the cost policy file on the controller with the collection's one policy loader (the one
    C(keel.platform.cost_tags), C(keel.platform.cost_tags_info) and the C(keel.platform.aws_fleet)
    inventory use) and returns its C(required_tags), in the policy's order.
  - A policy that does not load or validate fails the filter with the loader's message, which names
    the file and the field.
  - To judge tags against the policy away from the controller, use C(keel.platform.cost_policy_rules)
    (what the C(keel.platform.observability_agent) role's EC2 collector evaluates).
options:
  _input:
    description: Path of the cost policy file (YAML or JSON) on the controller.
    type: path
    required: true
"""

EXAMPLES = r"""
- name: The tag keys the fleet's cost policy requires
  ansible.builtin.debug:
    msg: "{{ keel_cost_policy | keel.platform.cost_policy_tag_keys | map(attribute='key') | list }}"
"""

RETURN = r"""
_value:
  description: One entry per required tag.
  type: list
  elements: dict
  contains:
    key:
      description: The canonical tag key.
      type: str
    aliases:
      description: Other spellings the policy counts as this key.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.keel.platform.plugins.module_utils._cost_policy import CostPolicyError, load_policy


def cost_policy_tag_keys(path):
    if not isinstance(path, str) or not path:
        raise AnsibleFilterError("cost_policy_tag_keys: give the path of a cost policy file on the controller")
    try:
        policy = load_policy(path)
    except CostPolicyError as error:
        raise AnsibleFilterError(f"cost_policy_tag_keys: {error}") from None
    return [{"key": tag.key, "aliases": list(tag.aliases)} for tag in policy.required_tags]


class FilterModule:
    def filters(self):
        return {"cost_policy_tag_keys": cost_policy_tag_keys}
