# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one evaluation of a resource's tags against the cost policy: per required key ok, missing, invalid or exempt.

Public and standard library only, on purpose: the inventory plugin, the cost_tags modules (through
_cost_policy.py) and the observability agent's EC2 collector on hosts without the collection all
call evaluate(). The agent's role installs this file next to its collector, so its interface is
part of the collection's public API (semantic versioning): plain data in, plain data out.

`rules` is what _cost_policy.CostPolicy.rules (or the keel.platform.cost_policy_rules filter)
compiles from a validated policy file; nothing here validates a policy:

    {"version": 1, "normalise_keys": true,
     "required_tags": [{"key": "team", "aliases": ["Team"], "allowed": ["payments"], "pattern": null}],
     "exceptions": [{"resource": "i-0abc", "key": "*", "expires": "2026-12-31", "owner": "ana", "reason": "..."}]}
"""

from __future__ import annotations

import datetime
import re

RULES_VERSION = 1
STATUSES = ("ok", "missing", "invalid", "exempt")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def normalise_key(name):
    """The canonical spelling of a tag key: CostCenter, cost_center, COST CENTER -> cost-center."""
    return re.sub(r"[\s_]+", "-", _CAMEL.sub("-", name.strip())).lower()


def is_reserved(name):
    """AWS owns every key starting with aws: (in any case): nobody can write one."""
    return name.strip().lower().startswith("aws:") or normalise_key(name).startswith("aws:")


def instance_names(instance_id, region, account):
    """The names an exception may give an EC2 instance: its id and, when region and account are known, its ARN."""
    if not (region and account):
        return (instance_id,)
    partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    return (instance_id, f"arn:{partition}:ec2:{region}:{account}:instance/{instance_id}")


def locate(rule, tags, normalise=True):
    """(spelling on the resource, value) of a required key: its key, an alias, else a spelling that
    normalises to the key (aws: keys never count); (None, None) when absent. An empty value allocates
    nothing, so it counts as absent. Reads only the values it needs: `tags` may be a lazy mapping."""
    names = [name for name in (rule["key"], *rule.get("aliases", ())) if name in tags]
    if normalise:
        wanted = normalise_key(rule["key"])
        names += [name for name in tags if not is_reserved(name) and normalise_key(name) == wanted]
    for name in names:
        if tags[name].strip():
            return name, tags[name]
    return None, None


def value_problem(rule, value):
    """Why a present value breaks the rule (not allowed, or not matching its pattern), or None."""
    allowed = rule.get("allowed") or ()
    if allowed and value not in allowed:
        return f"{value!r} is not one of {', '.join(allowed)}"
    pattern = rule.get("pattern")
    if pattern is not None and not re.search(pattern, value):
        return f"{value!r} does not match {pattern!r}"
    return None


def key_verdict(rule, tags, normalise=True):
    """{key, status (ok, missing, invalid), found_as, value, problem} of one required key, exceptions aside."""
    found_as, value = locate(rule, tags, normalise)
    if found_as is None:
        return {"key": rule["key"], "status": "missing", "found_as": None, "value": None, "problem": None}
    problem = value_problem(rule, value)
    status = "invalid" if problem else "ok"
    return {"key": rule["key"], "status": status, "found_as": found_as, "value": value, "problem": problem}


def evaluate(rules, tags, resource_ids=(), today=None):
    """{"verdicts": [one key_verdict per required key, in the policy's order], "expired": [positions]}.

    A live exception (today on or before its expiry; UTC dates) about one of resource_ids (an id, an
    ARN) and the key (or "*") makes the key's status "exempt" and its verdict carries "exception", the
    exception's position in rules["exceptions"]; "expired" lists the positions of the expired ones, once.
    """
    today = today or datetime.datetime.now(datetime.timezone.utc).date()
    exceptions = [
        (position, exception, datetime.date.fromisoformat(exception["expires"]))
        for position, exception in enumerate(rules.get("exceptions") or ())
        if exception["resource"] in resource_ids
    ]
    normalise = rules.get("normalise_keys", True)
    verdicts, expired = [], []
    for rule in rules["required_tags"]:
        verdict = key_verdict(rule, tags, normalise)
        for position, exception, expires in exceptions:
            if exception["key"] not in ("*", rule["key"]):
                continue
            if expires < today:
                if position not in expired:
                    expired.append(position)
            elif "exception" not in verdict:
                verdict.update(status="exempt", exception=position)
        verdicts.append(verdict)
    return {"verdicts": verdicts, "expired": expired}
