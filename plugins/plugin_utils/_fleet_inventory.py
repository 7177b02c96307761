# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The aws_fleet plugin's glue: accounts from options, the cache key, loading built data into Ansible."""

from __future__ import annotations

import hashlib
import json

from ansible.errors import AnsibleError
from ansible.utils.vars import validate_variable_name

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
        if credentials is None:
            # Every call would fail the same way: one error naming what botocore tried, before any call.
            from ansible_collections.keel.platform.plugins.module_utils import _aws

            raise AnsibleError(f"aws_fleet: {_aws.missing_credentials_message(session.get())}")
        access_key = credentials.access_key
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


# What the plugin caches: key -> (type, type of each value or None).
_CACHED_SHAPE = {
    "hosts": (dict, dict),
    "groups": (dict, list),
    "children": (dict, list),
    "warnings": (list, str),
    "complete": (bool, None),
}


def cached_shape_problem(built):
    """None if `built` has the shape the plugin caches, else what is wrong with it (an edited file, another version)."""
    if not isinstance(built, dict):
        return f"a {type(built).__name__}, not a mapping"
    for name, (kind, item_kind) in _CACHED_SHAPE.items():
        if name not in built:
            return f"no {name!r} entry"
        value = built[name]
        if not isinstance(value, kind):
            return f"{name!r} is a {type(value).__name__}, not a {kind.__name__}"
        if item_kind is not None:
            items = value.values() if isinstance(value, dict) else value
            if not all(isinstance(item, item_kind) for item in items):
                return f"{name!r} holds values that are not {item_kind.__name__}s"
    hosts = built["hosts"]
    for group, members in built["groups"].items():
        for member in members:
            if member not in hosts:
                return f"group {group!r} lists {member!r}, which is not a host"
    return None


def load_into(inventory, built):
    """Add built hosts, variables and groups to Ansible's inventory.

    Does what add_host, set_variable and add_child do, in bulk. ansible-core 2.19+ wraps the
    inventory so that set_variable visits every value to convert and tag it (about 3 us a value),
    and each call also validates the name, looks the host up and writes a debug message: together
    most of a warm run's own time. The values here are plain JSON types built by this plugin from
    API answers (or read back from the cache), never trusted as templates either way, and their
    names repeat from host to host, so names are validated once and a host's variables are added
    with one dict update. A variable that would merge into an existing mapping (a host another
    source added first) or has an invalid name goes through Host.set_variable, which merges or warns.
    """
    for group in built["groups"]:
        inventory.add_group(group)
    for parent in built["children"]:
        inventory.add_group(parent)
    data = getattr(inventory, "__wrapped__", inventory)
    hosts, groups = data.hosts, data.groups
    valid = set()
    for name, hostvars in built["hosts"].items():
        inventory.add_host(name)
        host = hosts[name]
        current = host.vars
        if not valid.issuperset(hostvars):
            valid.update(key for key in hostvars if _valid_name(key))
        if valid.issuperset(hostvars) and current.keys().isdisjoint(hostvars):
            current.update(hostvars)
        else:
            for key, value in hostvars.items():
                host.set_variable(key, value)
    for group, members in built["groups"].items():
        add = groups[group].add_host
        for name in members:
            add(hosts[name])
    data._groups_dict_cache = {}  # as add_child does: the cached group -> host names map is stale
    for parent, children in built["children"].items():
        for group in children:
            inventory.add_child(parent, group)


def _valid_name(name):
    try:
        validate_variable_name(name)
    except AnsibleError:
        return False
    return True
