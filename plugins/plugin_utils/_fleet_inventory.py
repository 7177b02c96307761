# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The aws_fleet plugin's glue: accounts from options, the cache key, loading built data into Ansible."""

from __future__ import annotations

import hashlib
import json

from ansible_collections.keel.platform.plugins.module_utils import _aws
from ansible_collections.keel.platform.plugins.plugin_utils._fleet_fetch import Account

# Options that do not change what the inventory contains.
_NOT_IN_KEY = frozenset(
    (
        "cache",
        "cache_plugin",
        "cache_timeout",
        "cache_connection",
        "cache_prefix",
        "max_workers",
        "max_attempts",
        "retry_mode",
        "connect_timeout",
        "read_timeout",
        "throttle_retries",
        "access_key",
        "secret_key",
        "session_token",
    )
)


def parse_accounts(options, connect, region):
    """Account objects from the accounts / organization_role_name / include_caller_account options."""
    accounts = []
    for entry in options.get("accounts") or []:
        if isinstance(entry, str):
            entry = {"role_arn": entry}
        if not isinstance(entry, dict) or not entry.get("role_arn"):
            raise ValueError(f"accounts entries must be role ARNs or dicts with a role_arn, got {entry!r}")
        unknown = set(entry) - {"role_arn", "alias", "external_id"}
        if unknown:
            raise ValueError(f"accounts entry {entry['role_arn']} has unknown keys {', '.join(sorted(unknown))}")
        accounts.append(
            Account(
                role_arn=entry["role_arn"],
                alias=entry.get("alias"),
                external_id=entry.get("external_id"),
                account_id=_aws.role_arn_account(entry["role_arn"]),
            )
        )
    role_name = options.get("organization_role_name")
    if role_name:
        organizations = connect("organizations", region, None)
        known = {account.account_id for account in accounts}
        for page in _aws.paginate(organizations, "list_accounts"):
            for listed in page.get("Accounts", ()):
                if listed.get("Status", "ACTIVE") != "ACTIVE" or listed["Id"] in known:
                    continue
                partition = listed.get("Arn", "arn:aws:").split(":")[1]
                accounts.append(
                    Account(
                        role_arn=_aws.role_arn_for(listed["Id"], role_name, partition),
                        alias=listed.get("Name"),
                        account_id=listed["Id"],
                    )
                )
    if not accounts or options.get("include_caller_account"):
        accounts.insert(0, Account())
    return accounts


def caller_identity(session, options):
    """Who is asking, without an API call: endpoint, profile and the access key id in use."""
    credentials = session.get_credentials() if session is not None else None
    access_key = credentials.access_key if credentials is not None else None
    return {"endpoint": options.get("endpoint_url"), "profile": options.get("profile"), "access_key": access_key}


def cache_key(plugin_name, path, options, session, version):
    """A key that changes with the caller's identity and every option shaping the result."""
    shaping = {name: value for name, value in sorted(options.items()) if name not in _NOT_IN_KEY}
    material = json.dumps(
        {"identity": caller_identity(session, options), "options": shaping, "path": path, "version": version},
        sort_keys=True,
        default=str,
    )
    digest = hashlib.sha256(material.encode()).hexdigest()[:32]
    return f"{plugin_name.replace('.', '_')}_{digest}"


def load_into(inventory, built):
    """Add built hosts, variables and groups to Ansible's inventory."""
    for group in built["groups"]:
        inventory.add_group(group)
    for parent in built["children"]:
        inventory.add_group(parent)
    set_variable = inventory.set_variable
    add_host = inventory.add_host
    for name, hostvars in built["hosts"].items():
        add_host(name)
        for key, value in hostvars.items():
            set_variable(name, key, value)
    add_child = inventory.add_child
    for group, members in built["groups"].items():
        for name in members:
            add_child(group, name)
    for parent, groups in built["children"].items():
        for group in groups:
            add_child(parent, group)
