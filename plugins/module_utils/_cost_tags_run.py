# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What cost_tags and cost_tags_info share: options (doc fragment cost_tags), policy, discovery, report."""

from __future__ import annotations

import datetime
from collections import Counter

from ansible_collections.keel.platform.plugins.module_utils import _aws
from ansible_collections.keel.platform.plugins.module_utils._aws_resources import RESOURCE_TYPES, ListingError, discover
from ansible_collections.keel.platform.plugins.module_utils._cost_estimates import rank_untagged
from ansible_collections.keel.platform.plugins.module_utils._cost_plan import plan, summarise
from ansible_collections.keel.platform.plugins.module_utils._cost_policy import (
    CostPolicyError,
    load_policy,
    parse_exceptions,
    parse_policy,
)

OPTIONS = {
    "policy": {"type": "path"},
    "policy_data": {"type": "dict"},
    "exceptions_file": {"type": "path"},
    "regions": {"type": "list", "elements": "str"},
    "resource_types": {
        "type": "list",
        "elements": "str",
        "choices": list(RESOURCE_TYPES),
        "default": list(RESOURCE_TYPES),
    },
    "today": {"type": "str"},
    "workers": {"type": "int", "default": 4},
    "top": {"type": "int", "default": 50},
}
MUTUALLY_EXCLUSIVE = [("policy", "policy_data")]
REQUIRED_ONE_OF = [("policy", "policy_data")]


def policy_from_params(params):
    """The cost policy of the module's options; raises CostPolicyError with a message for the user."""
    policy = load_policy(params["policy"]) if params.get("policy") else parse_policy(params["policy_data"])
    if params.get("exceptions_file"):
        import dataclasses

        import yaml

        try:
            with open(params["exceptions_file"], encoding="utf-8") as handle:
                data = yaml.safe_load(handle)
        except (OSError, yaml.YAMLError) as error:
            raise CostPolicyError(f"cannot read the exceptions file {params['exceptions_file']}: {error}") from None
        if isinstance(data, dict):
            data = data.get("exceptions")
        extra = parse_exceptions(data, where=params["exceptions_file"])
        policy = dataclasses.replace(policy, exceptions=policy.exceptions + extra)
    return policy


def today_from_params(params):
    if not params.get("today"):
        return datetime.datetime.now(datetime.timezone.utc).date()
    try:
        return datetime.date.fromisoformat(params["today"])
    except ValueError:
        raise CostPolicyError(f"today must be a date (YYYY-MM-DD), got {params['today']!r}") from None


class Unreadable(Exception):
    """Nothing could be read: every region (and the bucket listing) failed; `failures` are their ListingErrors."""

    def __init__(self, failures):
        self.failures = failures
        super().__init__("no resource could be read, so nothing was checked: " + "; ".join(map(str, failures)))


def _account_id(clients, regions, endpoint_url):
    """The caller's account from STS in the first region that answers (a broken region must not stop the rest)."""
    failures = []
    for region in regions:
        try:
            return clients.account_id(region)
        except _aws.AWS_ERRORS as error:
            failures.append(ListingError(region, "sts:GetCallerIdentity", error, endpoint_url))
    raise Unreadable(failures)


def evaluate(params, clients, remove_keys=()):
    """(resources, plans, failures) of the module's options: failures are the ListingErrors of the regions
    (and bucket listing) that could not be read; Unreadable when none could."""
    policy = policy_from_params(params)
    today = today_from_params(params)
    regions = params.get("regions") or [clients.region()]
    endpoint_url = params.get("endpoint_url")
    account = _account_id(clients, regions, endpoint_url)
    types = params["resource_types"]
    resources, failures = discover(clients, regions, account, types, params["workers"], endpoint_url)
    if failures and len(failures) == len(regions) + ("bucket" in types):
        raise Unreadable(failures)
    return resources, plan(policy, resources, today, remove_keys), failures


def evaluate_or_fail(module, clients, remove_keys=()):
    """evaluate() for a module: (resources, plans, unread).

    A bad policy, an AWS error outside the listings, or listings that all failed end the run with a message
    that says what to do; listings that failed beside some that worked are warned about and returned as
    `unread` ({where, action, message}), and the rest is reported.
    """
    params = module.params
    try:
        resources, plans, failures = evaluate(params, clients, remove_keys)
    except CostPolicyError as error:
        module.fail_json(msg=f"bad cost policy: {error}")
    except Unreadable as error:
        module.fail_json(msg=str(error), unread=_unread(error.failures))
    except _aws.AWS_ERRORS as error:
        module.fail_json(msg=_aws.describe_error(error, "resource discovery", params.get("endpoint_url")))
    except ValueError as error:
        module.fail_json(msg=f"resource discovery: {error}")
    unread = _unread(failures)
    for failure in unread:
        module.warn(f"{failure['message']}; its resources are left out of this report")
    return resources, plans, unread


def _unread(failures):
    return [{"where": f.where, "action": f.action, "message": str(f)} for f in failures]


def report(plans, resources, top, failed=None):
    """The report both modules return: summary counts, untagged ranked by cost, exemptions, expired exceptions."""
    failed = failed or {}
    exempt = [
        dict(a, arn=p["arn"], id=p["id"], type=p["type"])
        for p in plans
        for a in p["actions"]
        if a["action"] == "exempt"
    ]
    expired = [dict(e, arn=p["arn"], id=p["id"], type=p["type"]) for p in plans for e in p["expired_exceptions"]]
    return {
        "summary": summarise(plans, failed),
        "untagged": rank_untagged(plans, resources, top),
        "exempt": exempt,
        "expired_exceptions": expired,
    }


def failure_message(changing, failed, shown=3):
    """What a partly or wholly failed apply changed and what not, with the reasons, most frequent first.

    `changing`: ARNs the run meant to change; `failed`: {arn: reason} of those it could not.
    """
    applied = [arn for arn in changing if arn not in failed]
    reasons = sorted(Counter(failed.values()).items(), key=lambda item: (-item[1], item[0]))
    listed = "; ".join(reason if count == 1 else f"{reason} ({count} resources)" for reason, count in reasons[:shown])
    if len(reasons) > shown:
        listed += f"; {len(reasons) - shown} other reason(s) in failures"
    if not applied:
        return f"nothing was changed: none of the {len(changing)} resource(s) to change could be: {listed}"
    return (
        f"{len(applied)} of the {len(changing)} resource(s) to change were changed; "
        f"{len(failed)} could not be (see failures): {listed}"
    )
