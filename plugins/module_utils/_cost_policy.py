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
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SUPPORTED_VERSIONS = (1,)
_TAG_FIELDS = {"key", "aliases", "allowed", "pattern"}


class CostPolicyError(ValueError):
    """The policy is malformed; the message names the field and says what is expected."""


@dataclass(frozen=True)
class RequiredTag:
    key: str
    aliases: tuple = ()
    allowed: tuple = ()
    pattern: re.Pattern | None = field(default=None, compare=False)

    def find(self, tags):
        """The value of this tag in a {key: value} dict under its key or an alias, else None."""
        for name in (self.key, *self.aliases):
            if name in tags:
                return tags[name]
        return None

    def problem(self, value):
        """Why a present value breaks the policy, or None when it is fine."""
        if self.allowed and value not in self.allowed:
            return f"{value!r} is not one of {', '.join(self.allowed)}"
        if self.pattern is not None and not self.pattern.search(value):
            return f"{value!r} does not match {self.pattern.pattern!r}"
        return None


@dataclass(frozen=True)
class CostPolicy:
    version: int
    required_tags: tuple

    @property
    def keys(self):
        return [tag.key for tag in self.required_tags]


def _string_list(value, where):
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise CostPolicyError(f"{where} must be a list of non-empty strings, got {value!r}")
    return tuple(value)


def _required_tag(entry, index):
    where = f"required_tags[{index}]"
    if isinstance(entry, str) and entry:
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
    pattern = entry.get("pattern")
    compiled = None
    if pattern is not None:
        if not isinstance(pattern, str):
            raise CostPolicyError(f"{where}.pattern must be a string (a regular expression), got {pattern!r}")
        try:
            compiled = re.compile(pattern)
        except re.error as error:
            raise CostPolicyError(f"{where}.pattern {pattern!r} is not a valid regular expression: {error}") from None
    return RequiredTag(
        key=key,
        aliases=_string_list(entry.get("aliases"), f"{where}.aliases"),
        allowed=_string_list(entry.get("allowed"), f"{where}.allowed"),
        pattern=compiled,
    )


def parse_policy(data):
    """Validate already-loaded policy data (a dict) and return a CostPolicy."""
    if not isinstance(data, dict):
        raise CostPolicyError(
            f"the cost policy must be a mapping with 'version' and 'required_tags', got {type(data).__name__}"
        )
    version = data.get("version")
    if version not in SUPPORTED_VERSIONS:
        raise CostPolicyError(f"version must be one of {SUPPORTED_VERSIONS}, got {version!r}")
    entries = data.get("required_tags")
    if not isinstance(entries, list):
        raise CostPolicyError(f"required_tags must be a list, got {entries!r}")
    tags = tuple(_required_tag(entry, index) for index, entry in enumerate(entries))
    seen = {}
    for index, tag in enumerate(tags):
        for name in (tag.key, *tag.aliases):
            if name in seen:
                raise CostPolicyError(
                    f"required_tags[{index}] repeats {name!r}, already used by required_tags[{seen[name]}]"
                )
            seen[name] = index
    return CostPolicy(version=version, required_tags=tags)


def load_policy(path):
    """Read a YAML (or JSON) cost policy file and validate it."""
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as error:
        raise CostPolicyError(f"cannot read the cost policy {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise CostPolicyError(f"the cost policy {path} is not valid YAML: {error}") from None
    try:
        return parse_policy(data)
    except CostPolicyError as error:
        raise CostPolicyError(f"{path}: {error}") from None


def policy_from_keys(keys):
    """A policy requiring just these tag keys (the `required_tags` shortcut of the plugins)."""
    return parse_policy({"version": 1, "required_tags": list(keys)})


def merge_policies(*policies):
    """One policy holding every required tag of the given ones (first definition of a key wins)."""
    merged, keys = [], set()
    for policy in policies:
        if policy is None:
            continue
        for tag in policy.required_tags:
            if tag.key not in keys:
                keys.add(tag.key)
                merged.append(tag)
    return CostPolicy(version=1, required_tags=tuple(merged))


def tag_findings(policy, tags):
    """(missing keys, {key: problem}) of a {key: value} tag dict against the policy."""
    missing, invalid = [], {}
    for tag in policy.required_tags:
        value = tag.find(tags)
        if value is None:
            missing.append(tag.key)
            continue
        problem = tag.problem(value)
        if problem:
            invalid[tag.key] = problem
    return missing, invalid
