# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: cost_tags_metrics
short_description: Prometheus textfile metrics of a cost-tag compliance summary
version_added: 0.4.0
description:
  - Turns the C(summary) returned by M(keel.platform.cost_tags_info) (or M(keel.platform.cost_tags)) into the
    Prometheus text exposition format, for the node exporter's textfile collector.
  - C(keel_untagged_resources{resource_type, key}) counts the resources missing a required key or carrying
    an invalid value (exempt resources excluded), one sample for every resource type and key of the summary,
    zeros included; C(keel_cost_tag_compliance_ratio) is the share of resources compliant with the policy (0 to 1).
  - Write the text with M(ansible.builtin.copy), which replaces the file through a temporary file and a rename,
    so the collector never reads half a file. C(playbooks/cost_tags.yml) does so when C(keel_cost_metrics_dir) is set.
options:
  _input:
    description: The C(summary) of a M(keel.platform.cost_tags_info) or M(keel.platform.cost_tags) result.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Read cost-tag compliance
  keel.platform.cost_tags_info:
    policy: "{{ keel_cost_policy }}"
  register: compliance

- name: Publish it for the node exporter's textfile collector
  ansible.builtin.copy:
    content: "{{ compliance.summary | keel.platform.cost_tags_metrics }}"
    dest: /var/lib/prometheus/node-exporter/keel_cost_tags.prom
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The metrics, one sample a line, ending with a newline.
  type: str
"""

from ansible.errors import AnsibleFilterError


def _label(value):
    """A label value escaped as the exposition format wants (backslash, double quote, newline)."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def cost_tags_metrics(summary):
    if not isinstance(summary, dict) or not isinstance(summary.get("by_type"), dict) or "compliance" not in summary:
        raise AnsibleFilterError(
            "cost_tags_metrics: give the summary of a cost_tags_info result (registered.summary), "
            f"a dict with by_type and compliance; got {type(summary).__name__}"
        )
    lines = [
        "# HELP keel_untagged_resources Resources missing a required cost tag or carrying an invalid value.",
        "# TYPE keel_untagged_resources gauge",
    ]
    for kind in sorted(summary["by_type"]):
        for key, cell in sorted(summary["by_type"][kind].items()):
            # fixed and not_fixable are the keys missing or invalid before the run (see _cost_plan.key_status)
            untagged = cell["fixed"] + cell["not_fixable"]
            lines.append(f'keel_untagged_resources{{resource_type="{_label(kind)}",key="{_label(key)}"}} {untagged}')
    lines += [
        "# HELP keel_cost_tag_compliance_ratio Share of resources compliant with the cost policy.",
        "# TYPE keel_cost_tag_compliance_ratio gauge",
        f"keel_cost_tag_compliance_ratio {float(summary['compliance']) / 100:.4f}",
    ]
    return "\n".join(lines) + "\n"


class FilterModule:
    def filters(self):
        return {"cost_tags_metrics": cost_tags_metrics}
