"""inventories/: every setting names something that exists.

A misspelt option or variable in a shipped inventory does nothing at all (Ansible ignores unknown
variables), so the aws_fleet configurations are checked against the plugin's documented options and
every group variable against the roles' argument specs, the playbooks' `keel_` settings and
Ansible's own connection variables.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
INVENTORIES = sorted(path for path in (ROOT / "inventories").iterdir() if path.is_dir())


def plugin_options():
    source = (ROOT / "plugins/inventory/aws_fleet.py").read_text()
    documentation = yaml.safe_load(re.search(r'DOCUMENTATION = r"""(.*?)"""', source, re.S).group(1))
    # Options that come from the doc fragments the plugin extends (constructed, inventory_cache, aws).
    fragments = {"compose", "groups", "keyed_groups", "strict", "leading_separator", "use_extra_vars"}
    fragments |= {"cache", "cache_plugin", "cache_timeout", "cache_connection", "cache_prefix"}
    aws = (ROOT / "plugins/doc_fragments/aws.py").read_text()
    fragments |= set(re.findall(r"^  ([a-z_]+):$", aws, re.M))
    return set(documentation["options"]) | fragments


def role_variables():
    names = set()
    for spec in ROOT.glob("roles/*/meta/argument_specs.yml"):
        for entry in yaml.safe_load(spec.read_text())["argument_specs"].values():
            names |= set(entry.get("options", {}))
    return names


def keel_settings():
    """keel_* names that the roles' defaults and the playbooks read."""
    names = set()
    for path in [*ROOT.glob("roles/*/defaults/main.yml"), *ROOT.glob("playbooks/**/*.yml")]:
        names |= set(re.findall(r"\b(keel_[a-z_]+)\b", path.read_text()))
    return names


@pytest.mark.parametrize("inventory", INVENTORIES, ids=lambda path: path.name)
def test_aws_fleet_configuration_uses_only_documented_options(inventory):
    known = plugin_options()
    for path in inventory.glob("*.aws_fleet.yml"):
        config = yaml.safe_load(path.read_text())
        assert config["plugin"] == "keel.platform.aws_fleet"
        assert set(config) <= known, f"{path}: unknown options {sorted(set(config) - known)}"
        policy = config.get("cost_policy")
        if policy:
            assert (ROOT / policy).is_file(), f"{path}: cost_policy {policy} (from the repository root) is missing"


@pytest.mark.parametrize("inventory", INVENTORIES, ids=lambda path: path.name)
def test_group_variables_exist(inventory):
    known = role_variables() | keel_settings()
    for path in sorted(inventory.glob("group_vars/*.yml")):
        for name in yaml.safe_load(path.read_text()) or {}:
            if name.startswith("ansible_"):
                continue
            assert name in known, f"{path}: {name} is read by no role and no playbook"
