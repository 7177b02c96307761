"""Roles and playbooks read facts as ansible_facts[...], never as injected ansible_* variables.

Molecule runs the roles with inject_facts_as_vars = false, and docs/scale.md's lever (not injecting
facts on every task) needs it of the playbooks too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Magic, connection and role variables Ansible sets whatever inject_facts_as_vars says.
NOT_FACTS = {
    "ansible_facts", "ansible_managed", "ansible_check_mode", "ansible_diff_mode", "ansible_failed_result",
    "ansible_failed_task", "ansible_loop", "ansible_loop_var", "ansible_index_var", "ansible_connection",
    "ansible_host", "ansible_port", "ansible_user", "ansible_password", "ansible_ssh_pass",
    "ansible_become", "ansible_become_user", "ansible_become_method", "ansible_become_password",
    "ansible_python_interpreter", "ansible_run_tags", "ansible_skip_tags", "ansible_play_role_names",
    "ansible_role_names", "ansible_play_hosts", "ansible_play_batch", "ansible_play_hosts_all",
    "ansible_parent_role_names", "ansible_role_name", "ansible_collection_name", "ansible_search_path",
    "ansible_verbosity", "ansible_version", "ansible_config_file", "ansible_inventory_sources",
    "ansible_limit", "ansible_forks", "ansible_playbook_python", "ansible_dependent_role_names",
}  # fmt: skip
NAME = re.compile(r"\bansible_[a-z0-9_]+")


def _sources():
    for top in ("roles", "playbooks"):
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix in {".yml", ".yaml", ".j2"}:
                yield path


@pytest.mark.parametrize("path", list(_sources()), ids=lambda path: str(path.relative_to(ROOT)))
def test_facts_are_read_through_ansible_facts(path):
    injected = sorted(set(NAME.findall(path.read_text())) - NOT_FACTS)
    assert not injected, (
        f"{path.relative_to(ROOT)} reads {', '.join(injected)}: read facts as ansible_facts['<name without "
        "ansible_>'], which works with inject_facts_as_vars = false (Molecule, docs/scale.md)"
    )
