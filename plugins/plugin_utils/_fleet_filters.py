# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan DescribeInstances filters: as few API calls as the semantics of aws_ec2's options allow.

aws_ec2 semantics: an instance is in the inventory when it matches `filters` or any entry of
`include_filters` (each a dict of EC2 filters, all of which must match), and matches no entry of
`exclude_filters`. aws_ec2 makes one DescribeInstances per entry, per region. Here:
- excludes whose filters can be evaluated on the returned instance are applied locally (no call);
- includes that differ in one filter only are merged (EC2 ORs the values of one filter);
- includes that can all be evaluated locally become one call carrying the filters they share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DEFAULT_STATES = ("running", "pending", "stopping", "stopped")

# Filter name -> path into a DescribeInstances record, for the filters evaluated locally.
LOCAL_PATHS = {
    "architecture": ("Architecture",),
    "availability-zone": ("Placement", "AvailabilityZone"),
    "dns-name": ("PublicDnsName",),
    "iam-instance-profile.arn": ("IamInstanceProfile", "Arn"),
    "image-id": ("ImageId",),
    "instance-id": ("InstanceId",),
    "instance-lifecycle": ("InstanceLifecycle",),
    "instance-state-code": ("State", "Code"),
    "instance-state-name": ("State", "Name"),
    "instance-type": ("InstanceType",),
    "ip-address": ("PublicIpAddress",),
    "key-name": ("KeyName",),
    "owner-id": ("OwnerId",),
    "platform": ("Platform",),
    "private-dns-name": ("PrivateDnsName",),
    "private-ip-address": ("PrivateIpAddress",),
    "subnet-id": ("SubnetId",),
    "tenancy": ("Placement", "Tenancy"),
    "vpc-id": ("VpcId",),
}


def normalize(filter_dict):
    """{name: sorted tuple of string values} from an aws_ec2-style filter dict."""
    result = {}
    for name, values in (filter_dict or {}).items():
        values = values if isinstance(values, (list, tuple)) else [values]
        result[str(name)] = tuple(sorted({_as_filter_value(value) for value in values}))
    return result


def _as_filter_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_boto3(filters):
    """[{'Name': ..., 'Values': [...]}] in a stable order."""
    return [{"Name": name, "Values": list(values)} for name, values in sorted(filters.items())]


def is_local(name):
    return name in LOCAL_PATHS or name in ("tag-key", "tag-value") or name.startswith("tag:")


def _merge_pair(first, second):
    """The union of two include filters as one filter, when they differ in one filter name only."""
    if first.keys() != second.keys():
        return None
    different = [name for name in first if first[name] != second[name]]
    if len(different) > 1:
        return None
    merged = dict(first)
    for name in different:
        merged[name] = tuple(sorted(set(first[name]) | set(second[name])))
    return merged


def merge_includes(includes):
    """Merge include filters pairwise until no pair can be merged; an empty filter absorbs all."""
    if any(not include for include in includes):
        return [{}]
    merged = [dict(include) for include in includes]
    changed = True
    while changed:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                union = _merge_pair(merged[i], merged[j])
                if union is not None:
                    merged[i] = union
                    del merged[j]
                    changed = True
                    break
            if changed:
                break
    return merged


@dataclass
class FilterPlan:
    """What to ask EC2 (one paginated call per entry of `queries`, per region) and what to apply locally."""

    queries: list
    local_includes: list = field(default_factory=list)  # instance kept if it matches any (empty: keep all)
    local_excludes: list = field(default_factory=list)  # instance dropped if it matches any
    remote_excludes: list = field(default_factory=list)  # excludes that need their own call

    def keep(self, instance):
        if self.local_includes and not any(matches(f, instance) for f in self.local_includes):
            return False
        return not any(matches(f, instance) for f in self.local_excludes)


def plan(filters=None, include_filters=(), exclude_filters=()):
    """The FilterPlan for aws_ec2-style `filters`, `include_filters` and `exclude_filters`."""
    includes = [normalize(f) for f in ([filters] if filters else []) + list(include_filters or [])] or [{}]
    # Like aws_ec2, an include without a state filter never returns terminated instances.
    includes = merge_includes([{"instance-state-name": DEFAULT_STATES, **include} for include in includes])
    local_includes = []
    if len(includes) > 1 and all(is_local(name) for include in includes for name in include):
        shared = {name: values for name, values in includes[0].items() if all(i.get(name) == values for i in includes)}
        rest = [{n: v for n, v in include.items() if n not in shared} for include in includes]
        includes = [shared]
        local_includes = [] if any(not r for r in rest) else rest
    excludes = [normalize(f) for f in exclude_filters or []]
    local_excludes = [e for e in excludes if all(is_local(name) for name in e)]
    remote = [e for e in excludes if e not in local_excludes]
    return FilterPlan(
        queries=[to_boto3(i) for i in includes],
        local_includes=local_includes,
        local_excludes=local_excludes,
        remote_excludes=[to_boto3(e) for e in merge_includes(remote)] if remote else [],
    )


def _values_at(instance, path):
    value = instance
    for key in path:
        if not isinstance(value, dict):
            return []
        value = value.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, bool):
        return ["true" if value else "false"]
    return [str(value)]


def _tag_values(instance, name):
    tags = instance.get("Tags") or []
    if name == "tag-key":
        return [t["Key"] for t in tags]
    if name == "tag-value":
        return [t.get("Value", "") for t in tags]
    key = name[4:]
    return [t.get("Value", "") for t in tags if t["Key"] == key]


_PATTERNS = {}


def _pattern(value):
    # EC2 filter values accept * and ? wildcards, matched case-sensitively; nothing else is special.
    compiled = _PATTERNS.get(value)
    if compiled is None:
        compiled = re.compile(re.escape(value).replace(r"\*", ".*").replace(r"\?", ".") + r"\Z", re.DOTALL)
        _PATTERNS[value] = compiled
    return compiled


def matches(filters, instance):
    """Does a DescribeInstances record match every filter (values of one filter are ORed)?"""
    for name, wanted in filters.items():
        found = _tag_values(instance, name) if name.startswith("tag") else _values_at(instance, LOCAL_PATHS[name])
        if not any(_pattern(w).match(f) for w in wanted for f in found):
            return False
    return True
