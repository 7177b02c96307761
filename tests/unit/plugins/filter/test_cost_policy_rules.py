"""plugins/filter/cost_policy_rules.py"""

from __future__ import annotations

import datetime

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.keel.platform.plugins.filter.cost_policy_rules import cost_policy_rules
from ansible_collections.keel.platform.plugins.module_utils import cost_verdict

POLICY = """\
version: 1
required_tags:
  - key: team
    aliases: [Owner-Team]
    allowed: [payments, search]
  - key: cost-center
    pattern: '^cc-[0-9]+$'
exceptions:
  - {resource: i-1, key: '*', owner: ana, reason: migrating, expires: 2026-12-31}
"""


def test_the_rules_are_what_cost_verdict_evaluates(tmp_path):
    policy = tmp_path / "cost-policy.yml"
    policy.write_text(POLICY)
    rules = cost_policy_rules(str(policy))
    assert rules == {
        "version": 1,
        "normalise_keys": True,
        "required_tags": [
            {"key": "team", "aliases": ["Owner-Team"], "allowed": ["payments", "search"], "pattern": None},
            {"key": "cost-center", "aliases": [], "allowed": [], "pattern": "^cc-[0-9]+$"},
        ],
        "exceptions": [{"resource": "i-1", "key": "*", "owner": "ana", "reason": "migrating", "expires": "2026-12-31"}],
    }
    verdicts = cost_verdict.evaluate(rules, {"Owner-Team": "Search", "CostCenter": "cc-1"}, ("i-2",))["verdicts"]
    assert [v["status"] for v in verdicts] == ["invalid", "ok"]
    held = cost_verdict.evaluate(rules, {}, ("i-1",), datetime.date(2026, 12, 31))["verdicts"]
    assert [v["status"] for v in held] == ["exempt", "exempt"]


def test_tag_keys_give_the_rules_of_a_policy_requiring_them():
    rules = cost_policy_rules(["Team", "Cost Centre"])
    assert [tag["key"] for tag in rules["required_tags"]] == ["Team", "Cost Centre"]
    assert rules["exceptions"] == []


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (
            'version: 1\nrequired_tags: ["aws:createdBy"]\n',
            r"cost-policy\.yml: required_tags\[0\] 'aws:createdBy' is reserved",
        ),
        ("version: 1\nrequired_tags: []\n", r"cost-policy\.yml: required_tags is empty"),
        (
            "version: 1\nrequired_tags:\n  - {key: team, colour: red}\n",
            r"required_tags\[0\] has unknown field\(s\) colour",
        ),
    ],
)
def test_the_loaders_error_names_the_file_and_the_entry(tmp_path, policy, message):
    path = tmp_path / "cost-policy.yml"
    path.write_text(policy)
    with pytest.raises(AnsibleFilterError, match=message):
        cost_policy_rules(str(path))


def test_reserved_tag_keys_are_refused():
    with pytest.raises(AnsibleFilterError, match=r"tag keys \['aws:team'\]: required_tags\[0\] 'aws:team' is reserved"):
        cost_policy_rules(["aws:team"])


@pytest.mark.parametrize("source", ["", None, 3])
def test_a_source_is_required(source):
    with pytest.raises(AnsibleFilterError, match="give the path"):
        cost_policy_rules(source)
