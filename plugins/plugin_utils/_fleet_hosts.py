# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host names and host variables of EC2 instances, from DescribeInstances records (plain data)."""

from __future__ import annotations

import datetime
import functools
import re

from ansible.errors import AnsibleError
from ansible.module_utils.common.dict_transformations import _camel_to_snake
from ansible_collections.keel.platform.plugins.plugin_utils._fleet_filters import LOCAL_PATHS

HOSTNAME_ATTRIBUTES = {
    **{name: path for name, path in LOCAL_PATHS.items() if len(path) == 1},
    "availability-zone": ("Placement", "AvailabilityZone"),
}
DEFAULT_HOSTNAMES = ("dns-name", "private-dns-name")
_INVALID_HOST_CHARS = re.compile(r"[^A-Za-z0-9_]")


def tag_dict(instance):
    return {tag["Key"]: tag.get("Value", "") for tag in instance.get("Tags") or ()}


def _tag_hostname(spec, tags):
    """aws_ec2's tag hostnames: tag:Name (its value), tag:Name=web (Name_web when it matches), tag:a,b (first set)."""
    for part in spec[4:].split(","):
        if "=" in part:
            key, value = part.split("=", 1)
            if tags.get(key) == value:
                return f"{key}_{value}"
        elif tags.get(part):
            return tags[part]
    return None


def validate_hostnames(preferences):
    """Fail fast on a hostnames entry that can never resolve (a typo would otherwise drop every host)."""
    for preference in preferences:
        names = [preference.get("name"), preference.get("prefix")] if isinstance(preference, dict) else [preference]
        if isinstance(preference, dict) and not preference.get("name"):
            raise AnsibleError(f"hostnames entry {preference!r} needs a 'name'")
        for name in filter(None, names):
            if not isinstance(name, str):
                raise AnsibleError(f"hostnames entries must be strings or dicts, got {name!r}")
            if name.startswith("tag:") or "{{" in name or name in HOSTNAME_ATTRIBUTES:
                continue
            raise AnsibleError(
                f"hostnames entry {name!r} is not a known attribute; use one of "
                f"{', '.join(sorted(HOSTNAME_ATTRIBUTES))}, tag:<key>, or a template such as "
                "'{{ tags.Name }}-{{ instance_id }}'"
            )


def hostname_value(preference, instance, tags, template=None, hostvars=None):
    """The value of one hostnames preference for an instance, or None."""
    if preference.startswith("tag:"):
        return _tag_hostname(preference, tags)
    if "{{" in preference:
        try:
            value = template(preference, hostvars)
        except AnsibleError:
            return None
        return str(value) if value not in (None, "") else None
    value = instance
    for key in HOSTNAME_ATTRIBUTES[preference]:
        value = value.get(key) if isinstance(value, dict) else None
    return str(value) if value not in (None, "") else None


def choose_hostname(preferences, instance, tags, template=None, hostvars=None):
    """The first preference that gives a value, as aws_ec2 does; names with ':' are made safe."""
    for preference in preferences or DEFAULT_HOSTNAMES:
        if isinstance(preference, dict):
            name = hostname_value(preference["name"], instance, tags, template, hostvars)
            if name and preference.get("prefix"):
                prefix = hostname_value(preference["prefix"], instance, tags, template, hostvars)
                if prefix:
                    name = prefix + preference.get("separator", "_") + name
        else:
            name = hostname_value(preference, instance, tags, template, hostvars)
        if name:
            return _INVALID_HOST_CHARS.sub("_", name) if ":" in name else name
    return None


def _plain(value):
    """JSON-ready value: datetimes become ISO 8601 strings (what ansible-inventory prints for them)."""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def compact_hostvars(instance, tags, region, account):
    """The variables playbooks use, with aws_ec2's names, flat and small."""
    placement = instance.get("Placement") or {}
    state = instance.get("State") or {}
    hostvars = {
        "instance_id": instance["InstanceId"],
        "instance_type": instance.get("InstanceType"),
        "image_id": instance.get("ImageId"),
        "architecture": instance.get("Architecture"),
        "private_ip_address": instance.get("PrivateIpAddress"),
        "private_dns_name": instance.get("PrivateDnsName"),
        "public_ip_address": instance.get("PublicIpAddress"),
        "public_dns_name": instance.get("PublicDnsName"),
        "vpc_id": instance.get("VpcId"),
        "subnet_id": instance.get("SubnetId"),
        "key_name": instance.get("KeyName"),
        "launch_time": _plain(instance.get("LaunchTime")),
        "placement": {"availability_zone": placement.get("AvailabilityZone"), "region": region},
        "state": {"name": state.get("Name"), "code": state.get("Code")},
        "security_groups": [
            {"group_id": group.get("GroupId"), "group_name": group.get("GroupName")}
            for group in instance.get("SecurityGroups") or ()
        ],
        "ec2_tags": tags,
        "tags": tags,
        "account_id": account["id"],
        "account_alias": account.get("alias"),
    }
    return {key: value for key, value in hostvars.items() if value is not None and value != ""}


@functools.lru_cache(maxsize=4096)
def snake(name):
    return _camel_to_snake(name)


def _snake_tree(value):
    if isinstance(value, dict):
        return {snake(key): _snake_tree(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_snake_tree(item) for item in value]
    return _plain(value)


def full_hostvars(instance, tags, region, account):
    """Every field of the DescribeInstances record, named as aws_ec2 names them."""
    hostvars = {snake(key): _snake_tree(value) for key, value in instance.items() if key != "Tags"}
    hostvars.setdefault("placement", {})["region"] = region
    hostvars["ec2_tags"] = tags
    hostvars["tags"] = tags
    hostvars["account_id"] = account["id"]
    hostvars["account_alias"] = account.get("alias")
    return hostvars
