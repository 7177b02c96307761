# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load and validate the collection's cost policy, and evaluate an instance's tags against it.

One file format for every consumer (inventory groups, cost-tagging modules, tag metrics):

    version: 1
    required_tags:
      - key: team                    # canonical key
        aliases: [Team, TEAM]        # optional: other spellings that count as this key
        allowed: [payments, search]  # optional: the only values accepted
        pattern: '^[a-z-]+$'         # optional: a regular expression values must match
        default:                     # optional: where a missing value comes from, first hit wins
          - source: autoscaling_group  # or cloudformation_stack, or tag (with `tag: <key>`)
            pattern: '^(?P<value>[a-z]+)-'  # optional: the named group `value` (or group 1)
            map: {chk: payments}     # optional: translate what was found
          - value: unassigned        # a constant
    normalise_keys: true             # CostCenter, cost_center, COST-CENTER count as cost-center
    inheritance:                     # parent -> child edges; each fill_missing (default), overwrite, never
      - {parent: instance, child: volume, policy: fill_missing}
    exceptions:                      # or exceptions_file: path (relative to the policy file)
      - {resource: i-0123 (or its ARN), key: team (or '*'), owner: ana, reason: ..., expires: 2026-12-31}

The inheritance graph is fixed (EDGES); the policy only chooses each edge's policy.
"""

from __future__ import annotations

import datetime
import functools
import os
import re
from dataclasses import dataclass, field

from ansible_collections.keel.platform.plugins.module_utils import cost_verdict
from ansible_collections.keel.platform.plugins.module_utils.cost_verdict import is_reserved, normalise_key

SUPPORTED_VERSIONS = (1,)
_TAG_FIELDS = {"key", "aliases", "allowed", "pattern", "default"}
_POLICY_FIELDS = {"version", "required_tags", "normalise_keys", "inheritance", "exceptions", "exceptions_file"}
EDGE_POLICIES = ("fill_missing", "overwrite", "never")
# instance -> EBS volumes -> snapshots (by volume, and by AMI block-device mapping),
# instance -> network interfaces -> Elastic IPs; an AMI inherits from the instance it was made from.
EDGES = (
    ("instance", "volume"),
    ("volume", "snapshot"),
    ("image", "snapshot"),
    ("instance", "image"),
    ("instance", "snapshot"),  # an orphan snapshot, from its CreateImage description
    ("instance", "network_interface"),
    ("network_interface", "address"),
)
DEFAULT_SOURCES = {
    "autoscaling_group": "aws:autoscaling:groupName",
    "cloudformation_stack": "aws:cloudformation:stack-name",
}
_EXCEPTION_FIELDS = {"resource", "key", "owner", "reason", "expires"}


class CostPolicyError(ValueError):
    """The policy is malformed; the message names the field and says what is expected."""


@dataclass(frozen=True)
class RequiredTag:
    key: str
    aliases: tuple = ()
    allowed: tuple = ()
    pattern: re.Pattern | None = field(default=None, compare=False)
    defaults: tuple = ()

    @functools.cached_property
    def rule(self):
        """This tag as plain data, the form cost_verdict evaluates."""
        return {
            "key": self.key,
            "aliases": list(self.aliases),
            "allowed": list(self.allowed),
            "pattern": self.pattern.pattern if self.pattern is not None else None,
        }

    def locate(self, tags, normalise=True):
        """(key as spelled on the resource, value) of this tag, also under a mis-cased spelling; else (None, None)."""
        return cost_verdict.locate(self.rule, tags, normalise)

    def fixed_case(self, value):
        """The allowed value that differs from `value` only in case and spaces, else None."""
        folded = value.strip().lower()
        return next((item for item in self.allowed if item.lower() == folded), None)

    def default_for(self, tags):
        """(value, why) from the first default rule that yields a valid value, else (None, None)."""
        for rule in self.defaults:
            value, why = rule.apply(tags)
            if value is not None and self.problem(value) is None:
                return value, why
        return None, None

    def problem(self, value):
        """Why a present value breaks the policy, or None when it is fine."""
        return cost_verdict.value_problem(self.rule, value)


@dataclass(frozen=True)
class DefaultRule:
    source: str = "value"
    tag: str = ""
    value: str = ""
    pattern: re.Pattern | None = field(default=None, compare=False)
    mapping: tuple = ()

    def apply(self, tags):
        if self.source == "value":
            return self.value, "policy default"
        origin = self.tag or DEFAULT_SOURCES[self.source]
        found = tags.get(origin)
        if not found:
            return None, None
        if self.pattern is not None:
            match = self.pattern.search(found)
            if not match:
                return None, None
            found = match.groupdict().get("value") or (match.group(1) if match.re.groups else match.group(0))
        if self.mapping:
            found = dict(self.mapping).get(found)
        return found, f"default from {self.source} {origin}={tags[origin]}"


@dataclass(frozen=True)
class TagException:
    resource: str
    key: str
    owner: str
    reason: str
    expires: datetime.date

    def as_dict(self):
        return {
            "resource": self.resource,
            "key": self.key,
            "owner": self.owner,
            "reason": self.reason,
            "expires": self.expires.isoformat(),
        }


@dataclass(frozen=True)
class CostPolicy:
    version: int
    required_tags: tuple
    normalise_keys: bool = True
    inheritance: tuple = ()  # ((parent, child, policy), ...) for every edge of EDGES
    exceptions: tuple = ()

    def edge_policy(self, parent, child):
        for edge_parent, edge_child, policy in self.inheritance:
            if (edge_parent, edge_child) == (parent, child):
                return policy
        return "fill_missing" if (parent, child) in EDGES else "never"

    @property
    def keys(self):
        return [tag.key for tag in self.required_tags]

    @functools.cached_property
    def rules(self):
        """The policy as plain data (JSON), what cost_verdict.evaluate reads: on the controller and on hosts."""
        return {
            "version": cost_verdict.RULES_VERSION,
            "normalise_keys": self.normalise_keys,
            "required_tags": [tag.rule for tag in self.required_tags],
            "exceptions": [exception.as_dict() for exception in self.exceptions],
        }


def _string_list(value, where):
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise CostPolicyError(f"{where} must be a list of non-empty strings, got {value!r}")
    return tuple(value)


def _refuse_reserved(name, where):
    if is_reserved(name):
        raise CostPolicyError(
            f"{where} {name!r} is reserved by AWS (keys starting with aws: are set by AWS and can never be written, "
            f"so every resource would stay non-compliant); remove it, or require a key of your own and fill it "
            f"with a default rule such as {{source: tag, tag: {name.strip()}}}"
        )


def _required_tag(entry, index):
    where = f"required_tags[{index}]"
    if isinstance(entry, str) and entry.strip():
        _refuse_reserved(entry, where)
        return RequiredTag(key=entry)
    if not isinstance(entry, dict):
        raise CostPolicyError(f"{where} must be a mapping with a 'key' (or a plain key string), got {entry!r}")
    unknown = sorted(set(entry) - _TAG_FIELDS)
    if unknown:
        raise CostPolicyError(
            f"{where} has unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_TAG_FIELDS))}"
        )
    key = entry.get("key")
    if not isinstance(key, str) or not key.strip():
        raise CostPolicyError(f"{where}.key must be a non-empty string, got {key!r}")
    _refuse_reserved(key, f"{where}.key")
    aliases = _string_list(entry.get("aliases"), f"{where}.aliases")
    for number, alias in enumerate(aliases):
        _refuse_reserved(alias, f"{where}.aliases[{number}]")
    allowed = _string_list(entry.get("allowed"), f"{where}.allowed")
    if entry.get("allowed") == []:
        raise CostPolicyError(
            f"{where}.allowed is empty, which would allow no value at all; omit 'allowed' to accept any value, "
            "or list the values that are allowed"
        )
    defaults = entry.get("default") or []
    if not isinstance(defaults, list):
        defaults = [defaults]
    return RequiredTag(
        key=key,
        aliases=aliases,
        allowed=allowed,
        pattern=_pattern(entry.get("pattern"), f"{where}.pattern"),
        defaults=tuple(_default_rule(rule, f"{where}.default[{n}]") for n, rule in enumerate(defaults)),
    )


def _refuse_overlaps(tags, normalise):
    """Each spelling (and, with normalise_keys, each normalised spelling) belongs to one required key."""
    seen, normalised = {}, {}
    for index, tag in enumerate(tags):
        for name in (tag.key, *tag.aliases):
            if name in seen:
                raise CostPolicyError(
                    f"required_tags[{index}] repeats {name!r}, already used by required_tags[{seen[name]}]"
                )
            seen[name] = index
            if not normalise:
                continue
            other = normalised.setdefault(normalise_key(name), (index, name))
            if other[0] != index:
                raise CostPolicyError(
                    f"required_tags[{index}] {name!r} and required_tags[{other[0]}] {other[1]!r} are the same key "
                    f"once normalised ({normalise_key(name)!r}), so a resource's tag could count for either; "
                    "merge them into one entry (with aliases), rename one, or set normalise_keys: false"
                )


def _pattern(pattern, where):
    if pattern is None:
        return None
    if not isinstance(pattern, str):
        raise CostPolicyError(f"{where} must be a string (a regular expression), got {pattern!r}")
    try:
        return re.compile(pattern)
    except re.error as error:
        raise CostPolicyError(f"{where} {pattern!r} is not a valid regular expression: {error}") from None


def _default_rule(rule, where):
    if not isinstance(rule, dict):
        raise CostPolicyError(f"{where} must be a mapping with 'value' or 'source', got {rule!r}")
    unknown = sorted(set(rule) - {"source", "tag", "value", "pattern", "map"})
    if unknown:
        raise CostPolicyError(
            f"{where} has unknown field(s) {', '.join(unknown)}; allowed: map, pattern, source, tag, value"
        )
    if "value" in rule:
        if not isinstance(rule["value"], str) or not rule["value"]:
            raise CostPolicyError(f"{where}.value must be a non-empty string, got {rule['value']!r}")
        return DefaultRule(value=rule["value"])
    source = rule.get("source")
    if source not in (*DEFAULT_SOURCES, "tag"):
        raise CostPolicyError(
            f"{where}.source must be autoscaling_group, cloudformation_stack or tag (or give 'value'), got {source!r}"
        )
    tag = rule.get("tag", "")
    if source == "tag" and (not isinstance(tag, str) or not tag):
        raise CostPolicyError(f"{where}: source 'tag' needs 'tag', the key to copy the value from")
    mapping = rule.get("map") or {}
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise CostPolicyError(f"{where}.map must map found values to tag values (strings), got {mapping!r}")
    return DefaultRule(
        source=source,
        tag=tag,
        pattern=_pattern(rule.get("pattern"), f"{where}.pattern"),
        mapping=tuple(mapping.items()),
    )


def _inheritance(entries):
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise CostPolicyError(f"inheritance must be a list of {{parent, child, policy}}, got {entries!r}")
    edges = []
    for index, entry in enumerate(entries):
        where = f"inheritance[{index}]"
        if not isinstance(entry, dict) or set(entry) - {"parent", "child", "policy"}:
            raise CostPolicyError(f"{where} must be a mapping with parent, child and policy, got {entry!r}")
        pair = (entry.get("parent"), entry.get("child"))
        if pair not in EDGES:
            known = ", ".join(f"{p}->{c}" for p, c in EDGES)
            raise CostPolicyError(f"{where}: {pair[0]}->{pair[1]} is not an inheritance edge; known edges: {known}")
        policy = entry.get("policy", "fill_missing")
        if policy not in EDGE_POLICIES:
            raise CostPolicyError(f"{where}.policy must be one of {', '.join(EDGE_POLICIES)}, got {policy!r}")
        edges.append((*pair, policy))
    return tuple(edges)


def _date(value, where):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise CostPolicyError(f"{where} must be a date (YYYY-MM-DD), got {value!r}") from None


def parse_exceptions(entries, where="exceptions"):
    """Validate exception entries: every one names resource, key, owner, reason and expiry."""
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise CostPolicyError(f"{where} must be a list, got {entries!r}")
    result = []
    for index, entry in enumerate(entries):
        here = f"{where}[{index}]"
        if not isinstance(entry, dict):
            raise CostPolicyError(f"{here} must be a mapping, got {entry!r}")
        missing = sorted(_EXCEPTION_FIELDS - set(entry))
        unknown = sorted(set(entry) - _EXCEPTION_FIELDS)
        if missing or unknown:
            raise CostPolicyError(
                f"{here} must have exactly {', '.join(sorted(_EXCEPTION_FIELDS))}; "
                f"missing: {', '.join(missing) or 'none'}, unknown: {', '.join(unknown) or 'none'}"
            )
        for name in ("resource", "key", "owner", "reason"):
            if not isinstance(entry[name], str) or not entry[name].strip():
                raise CostPolicyError(f"{here}.{name} must be a non-empty string, got {entry[name]!r}")
        result.append(
            TagException(
                resource=entry["resource"],
                key=entry["key"],
                owner=entry["owner"],
                reason=entry["reason"],
                expires=_date(entry["expires"], f"{here}.expires"),
            )
        )
    return tuple(result)


def _read_yaml(path, what):
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except OSError as error:
        raise CostPolicyError(f"cannot read the {what} {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise CostPolicyError(f"the {what} {path} is not valid YAML: {error}") from None


def parse_policy(data, base_dir=None):
    """Validate already-loaded policy data (a dict) and return a CostPolicy."""
    if not isinstance(data, dict):
        raise CostPolicyError(
            f"the cost policy must be a mapping with 'version' and 'required_tags', got {type(data).__name__}"
        )
    version = data.get("version")
    if version not in SUPPORTED_VERSIONS:
        raise CostPolicyError(f"version must be one of {SUPPORTED_VERSIONS}, got {version!r}")
    unknown = sorted(set(data) - _POLICY_FIELDS)
    if unknown:
        raise CostPolicyError(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_POLICY_FIELDS))}")
    entries = data.get("required_tags")
    if not isinstance(entries, list):
        raise CostPolicyError(f"required_tags must be a list, got {entries!r}")
    if not entries:
        raise CostPolicyError(
            "required_tags is empty: a policy that requires no tag reports every resource compliant and fixes "
            "nothing; list at least one key (for example '- team')"
        )
    tags = tuple(_required_tag(entry, index) for index, entry in enumerate(entries))
    normalise = data.get("normalise_keys", True)
    if not isinstance(normalise, bool):
        raise CostPolicyError(f"normalise_keys must be true or false, got {normalise!r}")
    _refuse_overlaps(tags, normalise)
    exceptions = parse_exceptions(data.get("exceptions"))
    if data.get("exceptions_file"):
        path = os.path.join(base_dir or ".", data["exceptions_file"])
        loaded = _read_yaml(path, "exceptions file")
        if isinstance(loaded, dict):
            loaded = loaded.get("exceptions")
        exceptions += parse_exceptions(loaded, where=path)
    return CostPolicy(
        version=version,
        required_tags=tags,
        normalise_keys=normalise,
        inheritance=_inheritance(data.get("inheritance")),
        exceptions=exceptions,
    )


def load_policy(path):
    """Read a YAML (or JSON) cost policy file and validate it."""
    data = _read_yaml(path, "cost policy")
    try:
        return parse_policy(data, base_dir=os.path.dirname(os.path.abspath(path)))
    except CostPolicyError as error:
        raise CostPolicyError(f"{path}: {error}") from None


def policy_from_keys(keys):
    """A policy requiring just these tag keys (the `required_tags` shortcut of the plugins)."""
    return parse_policy({"version": 1, "required_tags": list(keys)})


def merge_policies(*policies):
    """One policy holding every required tag of the given ones (first definition of a key wins)."""
    first = next((policy for policy in policies if policy is not None), None)
    normalise = first.normalise_keys if first is not None else True
    merged, keys = [], set()
    for policy in policies:
        if policy is None:
            continue
        for tag in policy.required_tags:
            # With normalise_keys, CostCenter is cost-center: one required key, not two that one tag satisfies.
            names = {normalise_key(tag.key)} if normalise else {tag.key}
            if not names & keys:
                keys |= names
                merged.append(tag)
    if first is None:
        return CostPolicy(version=1, required_tags=tuple(merged))
    return CostPolicy(
        version=1,
        required_tags=tuple(merged),
        normalise_keys=first.normalise_keys,
        inheritance=first.inheritance,
        exceptions=first.exceptions,
    )


STATUSES = cost_verdict.STATUSES


@dataclass(frozen=True)
class Verdict:
    """One required key on one resource: ok, missing, invalid (with the problem) or exempt (with the exception).

    found_as is the spelling the resource carries (the key, an alias, or with normalise_keys any spelling that
    normalises to the key); a value found under another spelling counts as the key's value.
    """

    key: str
    status: str
    found_as: str | None = None
    value: str | None = None
    problem: str | None = None
    exception: TagException | None = None


@dataclass(frozen=True)
class Evaluation:
    """Every required key's Verdict (in the policy's order) and the expired exceptions of the resource, once each."""

    verdicts: tuple
    expired: tuple = ()

    def keys(self, status):
        return [verdict.key for verdict in self.verdicts if verdict.status == status]

    @property
    def compliant(self):
        return all(verdict.status in ("ok", "exempt") for verdict in self.verdicts)


def evaluate(policy, tags, resource_ids=(), today=None):
    """cost_verdict.evaluate of a loaded policy: the inventory's groups and cost_tags' plan both ask this."""
    found = cost_verdict.evaluate(policy.rules, tags, resource_ids, today)
    verdicts = tuple(
        Verdict(
            key=verdict["key"],
            status=verdict["status"],
            found_as=verdict["found_as"],
            value=verdict["value"],
            problem=verdict["problem"],
            exception=policy.exceptions[verdict["exception"]] if "exception" in verdict else None,
        )
        for verdict in found["verdicts"]
    )
    return Evaluation(verdicts, tuple(policy.exceptions[position] for position in found["expired"]))
