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
    assert ssh_rules[0].endswith(" tcp dport 22 accept")


def test_root_can_no_longer_log_in_over_ssh(container_address, test_key):
    # root's key was authorised by the prepare step; PermitRootLogin no must win.
    result = ssh_from_controller(container_address, test_key, "root", "true")
    assert result.returncode == 255
    assert "Permission denied" in result.stderr


def test_password_logins_are_refused(host):
    config = host.check_output("sshd -T -C user=keel-password,host=client,addr=127.0.0.1")
    assert "passwordauthentication no" in config.splitlines()
