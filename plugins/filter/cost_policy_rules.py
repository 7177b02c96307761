# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: cost_policy_rules
short_description: The cost policy compiled into the rules the one tag evaluation reads, on hosts too
version_added: 0.1.0
description:
  - Loads and validates a cost policy file on the controller with the collection's one policy loader
    (the one C(keel.platform.cost_tags), C(keel.platform.cost_tags_info) and the C(keel.platform.aws_fleet)
    inventory use) and returns it as plain data (JSON) with the required keys and their aliases, allowed
    values and pattern, C(normalise_keys), and the exceptions with their expiry.
  - C(cost_verdict.evaluate) (the public module_utils C(cost_verdict.py)) judges a resource's tags against
    these rules; the C(keel.platform.observability_agent) role writes them to its hosts for the EC2
    textfile collector, so every consumer gives a resource the same verdict.
  - A list of tag keys instead of a path gives the rules of a policy requiring just those keys (as the
    inventory's C(required_tags) option does).
  - A policy that does not load or validate fails the filter with the loader's message, which names
    the file, the entry and the fix.
options:
  _input:
    description: Path of the cost policy file (YAML or JSON) on the controller, or a list of tag keys.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Write the cost policy's rules for a host-side tag check
  ansible.builtin.copy:
    content: "{{ keel_cost_policy | keel.platform.cost_policy_rules | to_nice_json }}"
    dest: /etc/keel/cost-tag-rules.json
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The rules (see C(plugins/module_utils/cost_verdict.py) and C(docs/cost-tags.md)).
  type: dict
  contains:
    version:
      description: Version of the rules format (1).
      type: int
    normalise_keys:
      description: Whether spellings that normalise to a key (C(CostCenter) for C(cost-center)) count as it.
      type: bool
    required_tags:
      description: One entry per required key, in the policy's order (key, aliases, allowed, pattern).
      type: list
      elements: dict
    exceptions:
      description: The policy's exceptions (resource, key, owner, reason, expires as YYYY-MM-DD).
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.keel.platform.plugins.module_utils._cost_policy import (
    CostPolicyError,
    load_policy,
    policy_from_keys,
)


def cost_policy_rules(source):
    if isinstance(source, (list, tuple)):
        try:
            return policy_from_keys([str(key) for key in source]).rules
        except CostPolicyError as error:
            raise AnsibleFilterError(f"cost_policy_rules: tag keys {list(source)!r}: {error}") from None
    if not isinstance(source, str) or not source:
        raise AnsibleFilterError(
            "cost_policy_rules: give the path of a cost policy file on the controller, or tag keys"
        )
    try:
        return load_policy(source).rules
    except CostPolicyError as error:
        raise AnsibleFilterError(f"cost_policy_rules: {error}") from None


class FilterModule:
    def filters(self):
        return {"cost_policy_rules": cost_policy_rules}
