# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the whole inventory (hosts, variables, groups) as plain data, which is also what is cached."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from ansible.errors import AnsibleError
from ansible_collections.keel.platform.plugins.module_utils._cost_policy import evaluate
from ansible_collections.keel.platform.plugins.module_utils.cost_verdict import instance_names
from ansible_collections.keel.platform.plugins.plugin_utils._fleet_expressions import (
    Expression,
    InvalidExpression,
    keyed_group_full_name,
    keyed_group_names,
)
from ansible_collections.keel.platform.plugins.plugin_utils._fleet_hosts import (
    choose_hostname,
    compact_hostvars,
    full_hostvars,
    tag_dict,
)

ASG_TAG = "aws:autoscaling:groupName"
SUMMARY_EXAMPLES = 5
_FAILED = object()


@dataclass
class BuildSettings:
    hostnames: list = field(default_factory=list)
    hostvars: str = "compact"
    on_unresolved_hostname: str = "warn"
    on_duplicate_hostname: str = "warn"
    compose: dict = field(default_factory=dict)
    groups: dict = field(default_factory=dict)
    keyed_groups: list = field(default_factory=list)
    strict: bool = False
    leading_separator: bool = True
    host_group: str = "aws_fleet"
    default_groups: bool = True
    tags_hostvar: bool = False
    tag_groups: dict = field(default_factory=lambda: {"team": "team", "service": "service", "env": "env"})
    policy: object = None
    today: object = None  # exceptions expire by this UTC date; None is today

    @classmethod
    def from_options(cls, options, policy=None):
        """Settings from the plugin's options (they share their names)."""
        return cls(**{f.name: options[f.name] for f in fields(cls) if f.name in options}, policy=policy)


class InventoryBuilder:
    """Turns (instance, region, account) records into {'hosts', 'groups', 'children', 'summary'}."""

    def __init__(self, settings, templar=None, sanitize=str, template=None):
        self.settings = settings
        self._sanitize = sanitize
        self._safe_names = {}
        self._template = template
        self._templar = templar
        self.warnings = []
        self.compose = []
        for name, source in (settings.compose or {}).items():
            expression = self._expression(f"compose {name}", source)
            if expression is not None:
                self.compose.append((name, expression))
        self.conditions = []
        for name, source in (settings.groups or {}).items():
            expression = self._expression(f"groups {name}", source)
            if expression is not None:
                self.conditions.append((self.safe(name), expression))
        self.keyed = []
        for keyed in settings.keyed_groups or []:
            if not isinstance(keyed, dict) or not keyed.get("key"):
                raise AnsibleError(f"Invalid keyed group entry, it must be a dictionary with a 'key': {keyed!r}")
            expression = self._expression("keyed_groups key", keyed["key"])
            if expression is not None:
                self.keyed.append((keyed, expression))
        self.hosts = {}
        self.groups = {}
        self.children = {}
        self.owner = {}
        self.unresolved = []
        self.duplicates = []

    def _expression(self, where, source):
        """The compiled expression, or None (after one warning) for one Jinja cannot compile; fatal with strict."""
        try:
            return Expression(source, self._templar)
        except InvalidExpression as error:
            message = f"aws_fleet: {where}: {error}"
            if self.settings.strict:
                raise AnsibleError(message) from None
            self.warnings.append(f"{message}; it is left out for every host (strict: true makes this an error)")
            return None

    def safe(self, name):
        safe = self._safe_names.get(name)
        if safe is None:
            safe = self._safe_names[name] = self._sanitize(name)
        return safe

    def _add(self, group, host):
        members = self.groups.get(group)
        if members is None:
            members = self.groups[group] = {}
        members[host] = None

    def _fail_or_skip(self, message):
        if self.settings.strict:
            raise AnsibleError(message)

    def add(self, instance, region, account):
        settings = self.settings
        tags = tag_dict(instance)
        make = full_hostvars if settings.hostvars == "full" else compact_hostvars
        hostvars = make(instance, tags, region, account)
        instance_id = instance["InstanceId"]
        name = choose_hostname(settings.hostnames, instance, tags, self._template, hostvars)
        if name is None:
            if settings.on_unresolved_hostname == "fail":
                raise AnsibleError(
                    f"instance {instance_id} ({region}, account {account['id']}) has no value for any of hostnames "
                    f"{settings.hostnames}; add a fallback such as 'instance-id' or set on_unresolved_hostname"
                )
            if settings.on_unresolved_hostname == "instance_id":
                name = instance_id
            else:
                self.unresolved.append(instance_id)
                return
        if name in self.hosts:
            if settings.on_duplicate_hostname == "fail":
                raise AnsibleError(
                    f"instances {self.owner[name]} and {instance_id} both resolve to host name {name!r}; "
                    "add a more specific hostnames entry or set on_duplicate_hostname"
                )
            if settings.on_duplicate_hostname != "instance_id" or instance_id in self.hosts:
                self.duplicates.append((name, instance_id, self.owner[name]))
                return
            name = instance_id
        self.owner[name] = instance_id
        self.hosts[name] = hostvars
        self._add(self.safe(settings.host_group), name)
        self._compose(name, hostvars)
        self._conditional_groups(name, hostvars)
        self._keyed_groups(name, hostvars)
        if settings.default_groups:
            self._default_groups(name, instance, tags, region, account)
        if settings.policy is not None:
            self._policy_groups(name, tags, instance_id, region, account)
        # Expressions above see `tags`; as a host variable it draws ansible-core's reserved-name warning.
        if not settings.tags_hostvar and hostvars.get("tags") is tags:
            del hostvars["tags"]

    def _evaluate(self, expression, hostvars, failure):
        """The expression's value, or _FAILED after an error (which is fatal with strict, as in Constructable)."""
        try:
            return expression.evaluate(hostvars)
        except Exception as error:
            self._fail_or_skip(f"{failure}: {error}")
            return _FAILED

    def _compose(self, name, hostvars):
        for varname, expression in self.compose:
            value = self._evaluate(expression, hostvars, f"Could not set {varname} for host {name}")
            if value is not _FAILED:
                hostvars[varname] = value

    def _conditional_groups(self, name, hostvars):
        for group, expression in self.conditions:
            failure = f"Could not add host {name} to group {group}"
            result = self._evaluate(expression, hostvars, failure)
            if result is _FAILED:
                continue
            if not isinstance(result, bool):
                self._fail_or_skip(f"{failure}: {expression.source!r} gave {result!r}, not a boolean")
            elif result:
                self._add(group, name)

    def _keyed_groups(self, name, hostvars):
        for keyed, expression in self.keyed:
            key = self._evaluate(
                expression, hostvars, f"Could not generate group for host {name} from {keyed['key']} entry"
            )
            if key is _FAILED:
                continue
            bare_names = keyed_group_names(key, keyed)
            if not bare_names and key not in ([], {}):
                self._fail_or_skip(f"No key or key resulted empty for {keyed['key']} in host {name}, invalid entry")
            for bare in bare_names:
                group = self.safe(keyed_group_full_name(bare, keyed, self.settings.leading_separator))
                self._add(group, name)
                parent = keyed.get("parent_group")
                if parent:
                    self.children.setdefault(self.safe(parent), {})[group] = None

    def _default_groups(self, name, instance, tags, region, account):
        lowered = {key.lower(): value for key, value in tags.items()}
        for prefix, key in self.settings.tag_groups.items():
            value = tags.get(key) or lowered.get(key.lower())
            if value:
                self._add(self.safe(f"{prefix}_{value}"), name)
        if tags.get(ASG_TAG):
            self._add(self.safe(f"asg_{tags[ASG_TAG]}"), name)
        self._add(self.safe(f"state_{(instance.get('State') or {}).get('Name')}"), name)
        self._add(self.safe(f"account_{account['id']}"), name)
        if account.get("alias"):
            self._add(self.safe(f"account_{account['alias']}"), name)

    def _policy_groups(self, name, tags, instance_id, region, account):
        """missing_tag_<key> and invalid_tag_<key> from the one evaluation (aliases, normalised keys, exceptions)."""
        names = instance_names(instance_id, region, account["id"])
        evaluation = evaluate(self.settings.policy, tags, names, self.settings.today)
        for verdict in evaluation.verdicts:
            if verdict.status in ("missing", "invalid"):
                self._add(self.safe(f"{verdict.status}_tag_{verdict.key}"), name)

    def result(self):
        return {
            "hosts": self.hosts,
            "groups": {group: list(members) for group, members in self.groups.items()},
            "children": {parent: list(groups) for parent, groups in self.children.items()},
            "summary": {"unresolved": self.unresolved, "duplicates": self.duplicates},
        }


def summary_messages(summary, hostnames):
    """Warnings for dropped and duplicate hosts, each with a few examples."""
    messages = []
    unresolved = summary.get("unresolved") or []
    if unresolved:
        examples = ", ".join(unresolved[:SUMMARY_EXAMPLES])
        messages.append(
            f"aws_fleet: dropped {len(unresolved)} instance(s) with no value for hostnames {list(hostnames)} "
            f"(for example {examples}); add 'instance-id' to hostnames or set on_unresolved_hostname: instance_id"
        )
    duplicates = summary.get("duplicates") or []
    if duplicates:
        examples = ", ".join(f"{dup} (name {name!r}, kept {kept})" for name, dup, kept in duplicates[:SUMMARY_EXAMPLES])
        messages.append(
            f"aws_fleet: dropped {len(duplicates)} instance(s) whose host name another instance already has: "
            f"{examples}; "
            "set on_duplicate_hostname: instance_id to keep them under their instance id"
        )
    return messages
