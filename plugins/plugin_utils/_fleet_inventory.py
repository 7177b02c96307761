# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The aws_fleet plugin's glue: accounts from options, the cache key, loading built data into Ansible."""

from __future__ import annotations

import hashlib
import json

from ansible.errors import AnsibleError

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


class LazySession:
    """The boto3 Session of the options, made on first use: a warm cache hit may never need it."""

    def __init__(self, options):
        self._options = options
        self._session = None

    def get(self):
        if self._session is None:
            # boto3 takes a third of a second to import: only a cache miss or a profile pays it.
            from ansible_collections.keel.platform.plugins.module_utils import _aws

            options = self._options
            if not _aws.HAS_BOTO3:
                raise AnsibleError("the keel.platform.aws_fleet inventory needs boto3 and botocore on the controller")
            try:
                self._session = _aws.session(
                    options.get("profile"), options.get("access_key"), options.get("secret_key"),
                    options.get("session_token"), options.get("region"),
                )  # fmt: skip
            except Exception as error:  # botocore's ProfileNotFound and friends
                raise AnsibleError(f"aws_fleet: cannot set up AWS credentials: {error}") from error
        return self._session


def caller_identity(options, session):
    """Who is asking, without an API call: endpoint, profile and the access key id in use.

    Explicit keys (options or AWS_* variables) are what the session uses; otherwise boto3 resolves
    them (profile, shared files, role) locally.
    """
    access_key = options.get("access_key")
    if not access_key:
        credentials = session.get().get_credentials()
        access_key = credentials.access_key if credentials is not None else None
    return {"endpoint": options.get("endpoint_url"), "profile": options.get("profile"), "access_key": access_key}


def plain_data(options):
    """Options as plain JSON types: config strings carry origin and trust tags, which must not reach
    host variables (nor the cache, where every tagged string costs a slow decode)."""
    return json.loads(json.dumps(options, default=str))


def cache_key(plugin_name, path, options, identity, version):
    """A key that changes with the caller's identity and every option shaping the result."""
    shaping = {name: value for name, value in sorted(options.items()) if name not in _NOT_IN_KEY}
    material = json.dumps(
        {"identity": identity, "options": shaping, "path": path, "version": version},
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
    # ansible-core 2.19+ wraps the inventory so that set_variable visits every value to convert
    # and tag it, about 3 us a value: the largest cost of a warm run. The values here are plain JSON
    # types built by this plugin from API answers (or read back from the cache), never trusted as
    # templates either way, so they go to the wrapped InventoryData directly.
    target = getattr(inventory, "__wrapped__", inventory)
    set_variable = target.set_variable
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
