"""Which hardening areas a run converges, from the area switches and --tags/--skip-tags.

Rendered by ansible-core's own templar from the role's defaults and vars/main.yml, as in a play.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

ROLE = Path(__file__).parents[4] / "roles" / "hardening"
ALL_AREAS = {
    "sysctl", "mounts", "banners", "permissions", "coredumps", "kernel_modules", "login", "ssh", "auditd",
    "aide", "accounting", "updates", "time_sync", "journald", "firewall", "fail2ban", "malware_scanner", "usbguard",
}  # fmt: skip


def areas(run_tags, skip_tags=(), **switches) -> tuple[set[str], list[str]]:
    loader = DataLoader()
    variables = {
        **loader.load_from_file(str(ROLE / "defaults" / "main.yml"), trusted_as_template=True),
        **loader.load_from_file(str(ROLE / "vars" / "main.yml"), trusted_as_template=True),
        **loader.load_from_file(str(ROLE / "vars" / "Debian-13.yml"), trusted_as_template=True),
        **switches,
        "ansible_run_tags": list(run_tags),
        "ansible_skip_tags": list(skip_tags),
    }
    templar = Templar(loader=loader, variables=variables)
    enabled = templar.template(variables["__hardening_enabled_areas"])
    kernel_units = templar.template(variables["__hardening_host_kernel_units"])
    return set(enabled), kernel_units


def default_areas() -> set[str]:
    defaults = DataLoader().load_from_file(str(ROLE / "defaults" / "main.yml"))
    return {area for area in ALL_AREAS if defaults[f"hardening_{area}_enabled"]}


@pytest.mark.parametrize("run_tags", [["all"], ["tagged"], ["hardening"], ["baseline"]])
def test_without_area_tags_every_enabled_area_runs(run_tags):
    assert areas(run_tags)[0] == default_areas()


def test_area_tags_select_only_those_areas():
    assert areas(["hardening_ssh"])[0] == {"ssh"}
    assert areas(["hardening_ssh", "hardening_firewall"])[0] == {"ssh", "firewall"}
    assert areas(["hardening_auditd"])[1] == ["auditd", "audit-rules"]
    assert areas(["hardening_ssh"])[1] == []


def test_a_disabled_area_stays_off_even_when_tagged():
    assert areas(["hardening_ssh"], hardening_ssh_enabled=False)[0] == set()


def test_skip_tags_drop_areas():
    assert areas(["all"], ["hardening_fail2ban", "hardening_aide"])[0] == default_areas() - {"fail2ban", "aide"}


def test_tags_that_are_not_areas_are_ignored():
    assert areas(["hardening_not_an_area"])[0] == default_areas()
