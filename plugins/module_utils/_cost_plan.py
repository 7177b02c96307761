# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan the cost tags of discovered resources against the cost policy (pure: plain data in and out).

A resource is a dict: arn, id, type, region, tags ({key: value}) and parents (ARNs, best first:
the first one that was discovered is the parent whose tags it inherits). Parents are planned
before their children, so a child inherits what its parent will carry after the run.
"""

from __future__ import annotations

from ansible_collections.keel.platform.plugins.module_utils._cost_policy import evaluate

MAX_TAGS = 50  # per resource, aws: keys not counted
STATUSES = ("compliant", "fixed", "not_fixable", "exempt")


def _is_aws(key):
    return key.lower().startswith("aws:")


def _order(resources):
    """Resources with every discovered parent before its children (cycles broken arbitrarily)."""
    index = {resource["arn"]: resource for resource in resources}
    done, ordered = set(), []

    def visit(resource, trail):
        if resource["arn"] in done or resource["arn"] in trail:
            return
        parent = _parent(resource, index)
        if parent is not None:
            visit(parent, trail | {resource["arn"]})
        done.add(resource["arn"])
        ordered.append(resource)

    for resource in resources:
        visit(resource, frozenset())
    return ordered, index


def _parent(resource, index):
    return next((index[arn] for arn in resource.get("parents", ()) if arn in index), None)


def _plan_key(policy, tag, verdict, after, parent, parent_after, edge):
    """One action for one required key, from its verdict on the resource's tags; updates `after` in place."""
    spelled, value, problem = verdict.found_as, verdict.value, verdict.problem
    inherited = None
    if parent is not None and edge != "never":
        candidate = tag.locate(parent_after, policy.normalise_keys)[1]
        if candidate is not None and tag.problem(candidate) is None:
            inherited = candidate
    source = f"{parent['type']} {parent['id']}" if parent is not None else ""
    if value is None:
        if inherited is not None:
            target, reason = inherited, f"inherited from {source} ({edge})"
        else:
            target, reason = tag.default_for(after)
            if target is None:
                return {"action": "not_fixable", "reason": "missing, and no parent value or default rule gives one"}
        after[tag.key] = target
        return {"action": "add", "value": target, "reason": reason}
    target, reason = value, None
    if problem:
        fixed = tag.fixed_case(value)
        if fixed is not None:
            target, reason = fixed, f"{problem}; case normalised"
        elif inherited is not None and edge == "overwrite":
            target, reason = inherited, f"{problem}; overwritten from {source}"
        else:
            return {"action": "not_fixable", "value": value, "reason": problem}
    elif inherited is not None and inherited != value:
        if edge == "overwrite":
            target, reason = inherited, f"overwritten from {source} (overwrite)"
        else:
            return {"action": "skip", "value": value, "reason": f"kept: {edge} keeps the value already here"}
    if spelled != tag.key:
        del after[spelled]
        after[tag.key] = target
        return {"action": "rename", "from": spelled, "value": target, "reason": reason or f"key {spelled!r} normalised"}
    if target != value:
        after[tag.key] = target
        return {"action": "overwrite", "previous": value, "value": target, "reason": reason}
    return {"action": "ok", "value": value}


def plan_resource(policy, resource, parent, parent_after, today, remove_keys=()):
    """The plan of one resource: before, after, add, remove, and one action per required key."""
    before = dict(resource.get("tags") or {})
    after = dict(before)
    edge = policy.edge_policy(parent["type"], resource["type"]) if parent is not None else "never"
    evaluation = evaluate(policy, before, (resource["id"], resource["arn"]), today)
    actions = []
    for tag, verdict in zip(policy.required_tags, evaluation.verdicts):
        if verdict.status == "exempt":
            live = verdict.exception
            action = {"action": "exempt", "reason": f"exception by {live.owner} until {live.expires}: {live.reason}"}
        else:
            action = _plan_key(policy, tag, verdict, after, parent, parent_after, edge)
        actions.append(dict(action, key=tag.key, status=verdict.status))
    expired = [dict(e.as_dict(), violation=f"exception expired on {e.expires.isoformat()}") for e in evaluation.expired]
    for key in remove_keys:
        if key in after and not _is_aws(key):
            del after[key]
            actions.append({"key": key, "action": "remove", "reason": "asked to remove it"})
    if sum(1 for key in after if not _is_aws(key)) > MAX_TAGS:
        after = dict(before)
        for action in actions:
            if action["action"] in ("add", "rename", "overwrite", "remove"):
                action.update(action="not_fixable", reason=f"would carry more than {MAX_TAGS} tags")
    add = {key: value for key, value in after.items() if before.get(key) != value}
    remove = sorted(key for key in before if key not in after)
    return {
        "arn": resource["arn"],
        "id": resource["id"],
        "type": resource["type"],
        "region": resource.get("region"),
        "parent": parent["arn"] if parent is not None else None,
        "before": before,
        "after": after,
        "add": add,
        "remove": remove,
        "actions": actions,
        "compliant": evaluation.compliant,
        "expired_exceptions": expired,
    }


def plan(policy, resources, today, remove_keys=()):
    """Plans of every resource, in discovery order."""
    ordered, index = _order(resources)
    afters, plans = {}, {}
    for resource in ordered:
        parent = _parent(resource, index)
        parent_after = afters.get(parent["arn"], {}) if parent is not None else {}
        result = plan_resource(policy, resource, parent, parent_after, today, remove_keys)
        afters[resource["arn"]] = result["after"]
        plans[resource["arn"]] = result
    return [plans[resource["arn"]] for resource in resources]


def key_status(action):
    """How a key counts in the summary: its verdict (ok counts as compliant, even when the run renames the
    key), and for a missing or invalid key whether the run fixes it."""
    if action["action"] == "remove":
        return None
    if action["status"] in ("ok", "exempt"):
        return "compliant" if action["status"] == "ok" else "exempt"
    return "not_fixable" if action["action"] == "not_fixable" else "fixed"


def summarise(plans, failed=()):
    """Counts by resource type and key (with the reasons of what is not fixable), and the compliance share.

    Compliance is the share of resources compliant before the run; `failed` maps ARNs to why tagging failed.
    """
    counts = {}
    failed = dict(failed) if isinstance(failed, dict) else dict.fromkeys(failed, "tagging failed")
    for result in plans:
        per_type = counts.setdefault(result["type"], {})
        for action in result["actions"]:
            status = key_status(action)
            if status is None:
                continue
            if status == "fixed" and result["arn"] in failed:
                status = "not_fixable"
            cell = per_type.setdefault(action["key"], dict(dict.fromkeys(STATUSES, 0), reasons={}))
            cell[status] += 1
            if status == "not_fixable":
                reason = failed.get(result["arn"]) or action.get("reason") or "unknown"
                cell["reasons"][reason] = cell["reasons"].get(reason, 0) + 1
    total = len(plans)
    compliant = sum(1 for result in plans if result["compliant"])
    return {
        "resources": total,
        "compliant": compliant,
        "compliance": round(100.0 * compliant / total, 2) if total else 100.0,
        "changes": sum(1 for result in plans if result["add"] or result["remove"]),
        "by_type": counts,
    }
