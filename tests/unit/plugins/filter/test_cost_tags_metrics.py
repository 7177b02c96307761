from __future__ import annotations

import datetime

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.keel.platform.plugins.filter.cost_tags_metrics import cost_tags_metrics
from ansible_collections.keel.platform.plugins.module_utils._cost_plan import plan, summarise
from ansible_collections.keel.platform.plugins.module_utils._cost_policy import parse_policy

POLICY = {
    "version": 1,
    "required_tags": [{"key": "team", "allowed": ["payments"]}, {"key": "cost-center"}],
    "exceptions": [{"resource": "vol-3", "key": "*", "owner": "ana", "reason": "migrating", "expires": "2027-01-31"}],
}


def resource(kind, rid, tags):
    return {"arn": f"arn:{kind}/{rid}", "id": rid, "type": kind, "region": "r", "tags": tags, "parents": []}


def samples(text):
    """{series: value} of the exposition text; comments checked to be HELP/TYPE lines."""
    found = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert line.split()[1] in ("HELP", "TYPE"), line
            continue
        series, value = line.rsplit(" ", 1)
        found[series] = float(value)
    return found


def test_untagged_counts_by_type_and_key_and_the_compliance_ratio():
    plans = plan(
        parse_policy(POLICY),
        [
            resource("instance", "i-1", {"team": "payments", "cost-center": "cc-1"}),
            resource("instance", "i-2", {"team": "Marketing"}),  # invalid team, missing cost-center
            resource("volume", "vol-1", {}),
            resource("volume", "vol-3", {}),  # exempt: not untagged
        ],
        datetime.date(2026, 12, 3),
    )
    text = cost_tags_metrics(summarise(plans))
    assert text.endswith("\n")
    assert samples(text) == {
        'keel_untagged_resources{resource_type="instance",key="cost-center"}': 1,
        'keel_untagged_resources{resource_type="instance",key="team"}': 1,
        'keel_untagged_resources{resource_type="volume",key="cost-center"}': 1,
        'keel_untagged_resources{resource_type="volume",key="team"}': 1,
        "keel_cost_tag_compliance_ratio": 0.5,  # i-1 and the exempt vol-3
    }
    assert "# TYPE keel_untagged_resources gauge" in text
    assert "# TYPE keel_cost_tag_compliance_ratio gauge" in text


def test_a_compliant_key_is_published_as_zero_so_its_alert_resolves():
    summary = {"compliance": 100.0, "by_type": {"bucket": {"team": {"compliant": 3, "fixed": 0, "not_fixable": 0}}}}
    assert samples(cost_tags_metrics(summary)) == {
        'keel_untagged_resources{resource_type="bucket",key="team"}': 0,
        "keel_cost_tag_compliance_ratio": 1.0,
    }


def test_label_values_are_escaped():
    summary = {"compliance": 0, "by_type": {"instance": {'odd"key\\': {"fixed": 1, "not_fixable": 1}}}}
    assert 'keel_untagged_resources{resource_type="instance",key="odd\\"key\\\\"} 2' in cost_tags_metrics(summary)


@pytest.mark.parametrize(
    "value", [None, "summary", {"by_type": {}}, {"compliance": 10}, {"compliance": 1, "by_type": []}]
)
def test_anything_but_a_summary_is_refused_with_what_to_give(value):
    with pytest.raises(AnsibleFilterError, match=r"give the summary of a cost_tags_info result \(registered.summary\)"):
        cost_tags_metrics(value)
