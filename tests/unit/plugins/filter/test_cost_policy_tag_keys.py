"""plugins/filter/cost_policy_tag_keys.py"""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.keel.platform.plugins.filter.cost_policy_tag_keys import cost_policy_tag_keys

POLICY = """\
version: 1
required_tags:
  - key: team
    aliases: [Team, Owner-Team]
    allowed: [payments, search]
  - key: env
    pattern: '^(prod|staging|dev)$'
  - cost-center
"""


def test_required_keys_and_aliases_in_the_policy_order(tmp_path):
    policy = tmp_path / "cost-policy.yml"
    policy.write_text(POLICY)
    assert cost_policy_tag_keys(str(policy)) == [
        {"key": "team", "aliases": ["Team", "Owner-Team"]},
        {"key": "env", "aliases": []},
        {"key": "cost-center", "aliases": []},
    ]


def test_the_loaders_error_names_the_file_and_the_field(tmp_path):
    policy = tmp_path / "cost-policy.yml"
    policy.write_text("version: 1\nrequired_tags:\n  - {key: team, colour: red}\n")
    with pytest.raises(AnsibleFilterError, match=r"cost-policy\.yml: required_tags\[0\] has unknown field\(s\) colour"):
        cost_policy_tag_keys(str(policy))


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(AnsibleFilterError, match="cannot read the cost policy"):
        cost_policy_tag_keys(str(tmp_path / "absent.yml"))


@pytest.mark.parametrize("path", ["", None])
def test_a_path_is_required(path):
    with pytest.raises(AnsibleFilterError, match="give the path"):
        cost_policy_tag_keys(path)
