# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options cost_tags and cost_tags_info share (module_utils/_cost_tags_run.py).
    DOCUMENTATION = r"""
options:
  policy:
    description:
      - Path of the cost policy file (YAML) with required keys, aliases, allowed values or patterns,
        default rules, key normalisation, inheritance edges and exceptions. See C(docs/cost-tags.md).
      - Exactly one of O(policy) and O(policy_data) is required.
    type: path
  policy_data:
    description: The cost policy as data, in the same format as the file.
    type: dict
  exceptions_file:
    description:
      - A YAML file of exceptions (a list, or a mapping with C(exceptions)), each with C(resource)
        (id or ARN), C(key) (or C(*)), C(owner), C(reason) and C(expires) (YYYY-MM-DD).
      - Added to the policy's own exceptions.
    type: path
  regions:
    description: Regions to search, concurrently. Defaults to the region of O(region) (or its fallbacks).
    type: list
    elements: str
  resource_types:
    description: Resource types to find, each with its own service's Describe or List call.
    type: list
    elements: str
    choices: [instance, volume, snapshot, image, network_interface, address, database, load_balancer, bucket]
    default: [instance, volume, snapshot, image, network_interface, address, database, load_balancer, bucket]
  today:
    description: The date exceptions are checked against (YYYY-MM-DD). Defaults to today (UTC).
    type: str
  workers:
    description: Regions searched at the same time.
    type: int
    default: 4
  top:
    description: How many non-compliant resources RV(untagged) lists, costliest first.
    type: int
    default: 50
"""
