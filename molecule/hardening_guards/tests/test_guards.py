"""After the refusals, a safe configuration converged over SSH and SSH still works."""

from __future__ import annotations

from conftest import TEST_USER, ssh_from_controller


def test_login_user_still_gets_in_from_the_controller(container_address, test_key):
    result = ssh_from_controller(container_address, test_key, TEST_USER, "sudo -n true && id -un")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == TEST_USER


def test_firewall_allows_ssh_only_from_the_controller(host):
    ruleset = host.check_output("nft list table inet keel_filter")
    ssh_rules = [line.strip() for line in ruleset.splitlines() if "tcp dport 22" in line]
    assert len(ssh_rules) == 1
    assert ssh_rules[0].startswith("ip saddr ")
    assert ssh_rules[0].endswith(' tcp dport 22 accept comment "hardening_firewall_ssh_sources"')


def test_root_can_no_longer_log_in_over_ssh(container_address, test_key):
    # root's key was authorised by the prepare step; PermitRootLogin no must win.
    result = ssh_from_controller(container_address, test_key, "root", "true")
    assert result.returncode == 255
    assert "Permission denied" in result.stderr


def test_password_logins_are_refused(host):
    config = host.check_output("sshd -T -C user=keel-password,host=client,addr=127.0.0.1")
    assert "passwordauthentication no" in config.splitlines()


def test_yaml_booleans_and_match_blocks_reach_sshd_as_it_expects(host):
    # Converged with hardening_ssh_permit_root_login: no (a YAML boolean) and a
    # Match block of hardening_ssh_extra_config whose PermitTTY is false.
    config = host.file("/etc/ssh/sshd_config").content_string
    assert "PermitRootLogin no\n" in config
    assert "False" not in config
    matched = host.check_output("sshd -T -C user=keel-deploy,host=client,addr=192.0.2.1").splitlines()
    assert "permittty no" in matched
    assert "permitrootlogin no" in matched
    elsewhere = host.check_output("sshd -T -C user=keel-deploy,host=client,addr=198.51.100.1").splitlines()
    assert "permittty yes" in elsewhere
    assert "denyusers nobody" in elsewhere
