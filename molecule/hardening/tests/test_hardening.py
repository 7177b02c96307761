"""Effective state of a host converged with keel.platform.hardening's defaults."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import TEST_USER, ssh_from_controller, tcp_probe


def sshd_effective(host) -> dict[str, str]:
    """sshd's effective settings; keywords it prints once per value are joined with spaces."""
    out = host.check_output("sshd -T -C user=%s,host=client,addr=127.0.0.1", TEST_USER)
    config: dict[str, str] = {}
    for key, _sep, value in (line.partition(" ") for line in out.splitlines()):
        config[key] = f"{config[key]} {value}" if key in config else value
    return config


def test_sshd_effective_configuration(host):
    config = sshd_effective(host)
    assert config["permitrootlogin"] == "no"
    assert config["passwordauthentication"] == "no"
    assert config["kbdinteractiveauthentication"] == "no"
    assert config["x11forwarding"] == "no"
    assert config["allowtcpforwarding"] == "no"
    assert config["allowgroups"].split() == ["sudo", "ssh-users"]
    assert config["maxsessions"] == "2"
    assert config["maxauthtries"] == "3"
    assert config["clientaliveinterval"] == "300"
    assert config["banner"] == "/etc/issue.net"
    assert "cbc" not in config["ciphers"]
    assert "sha1" not in config["macs"]
    assert not [kex for kex in config["kexalgorithms"].split(",") if "sha1" in kex or "nistp" in kex]
    assert "ecdsa" not in config["hostkeyalgorithms"]


def test_sshd_config_is_private(host):
    f = host.file("/etc/ssh/sshd_config")
    assert (f.user, f.group, f.mode) == ("root", "root", 0o600)


def test_sshd_listens(host):
    assert host.socket("tcp://0.0.0.0:22").is_listening
    assert host.service("ssh").is_running


def test_ssh_accepts_the_login_user_over_loopback(host):
    out = host.check_output(
        "ssh -i /root/keel-deploy_ed25519 -o BatchMode=yes -o StrictHostKeyChecking=no "
        "-o UserKnownHostsFile=/dev/null %s@127.0.0.1 id -un",
        TEST_USER,
    )
    assert out.strip() == TEST_USER


def test_ssh_accepts_the_login_user_through_the_firewall(container_address, test_key):
    result = ssh_from_controller(container_address, test_key, TEST_USER, "id -un")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == TEST_USER


def test_ssh_audit_finds_no_failure(container_address):
    result = subprocess.run(
        [sys.executable, "-m", "ssh_audit", "--no-colors", "--timeout=10", container_address],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # ssh-audit exits 0 when clean, 2 with warnings, 3 with failures, 1 when it cannot connect.
    assert result.returncode in (0, 2), result.stdout
    assert "[fail]" not in result.stdout
    # The only warnings allowed are for classic key exchanges, kept after the
    # post-quantum hybrids so that clients without them (paramiko) still connect.
    warnings = [line for line in result.stdout.splitlines() if "[warn]" in line]
    assert all("(kex)" in line and "post-quantum" in line for line in warnings), warnings


def test_firewall_drops_unlisted_ports(host, container_address):
    ruleset = host.check_output("nft list table inet keel_filter")
    assert "policy drop" in ruleset
    assert "tcp dport 22 accept" in ruleset
    assert host.service("nftables").is_enabled
    # Nothing listens on 9: an open firewall would answer with a reset.
    assert tcp_probe(container_address, 9) == "filtered"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("kernel.randomize_va_space", "2"),
        ("net.ipv4.conf.all.accept_redirects", "0"),
        ("net.ipv4.ip_forward", "0"),
        ("fs.suid_dumpable", "0"),
        ("kernel.yama.ptrace_scope", "1"),
    ],
)
def test_sysctl_configuration(host, key, value):
    assert f"{key} = {value}" in host.file("/etc/sysctl.d/90-keel-hardening.conf").content_string.splitlines()


def test_kernel_modules_blocked(host):
    for module in ("usb-storage", "cramfs", "dccp"):
        assert (
            host.check_output("modprobe --dry-run --show-depends %s 2>&1 || true", module).strip()
            == "install /bin/false"
        )


def test_temporary_filesystems_hardened_in_fstab(host):
    fstab = host.file("/etc/fstab").content_string
    for mount in ("/tmp", "/var/tmp", "/dev/shm"):
        line = next(line for line in fstab.splitlines() if line.split()[1:2] == [mount])
        assert {"nodev", "nosuid", "noexec"} <= set(line.split()[3].split(","))


def test_login_defs(host):
    defs = dict(
        line.split(None, 1)
        for line in host.file("/etc/login.defs").content_string.splitlines()
        if line.strip() and not line.startswith("#")
    )
    assert defs["PASS_MAX_DAYS"] == "365"
    assert defs["UMASK"] == "027"
    assert defs["SHA_CRYPT_MIN_ROUNDS"] == "65536"


def test_pam_stack_enforces_quality_faillock_and_tmpdir(host):
    assert "pam_faillock.so preauth" in host.file("/etc/pam.d/common-auth").content_string
    assert "pam_faillock.so authfail" in host.file("/etc/pam.d/common-auth").content_string
    assert "pam_pwquality.so" in host.file("/etc/pam.d/common-password").content_string
    assert "pam_tmpdir.so" in host.file("/etc/pam.d/common-session").content_string
    # pwquality applies the drop-in: a short password is rejected.
    check = host.run("echo 'Sh0rt!' | pwscore")
    assert check.rc != 0


def test_banners(host):
    for path in ("/etc/issue", "/etc/issue.net"):
        assert "Authorised access only" in host.file(path).content_string


def test_audit_rules_installed(host):
    rules = host.file("/etc/audit/rules.d/50-keel-hardening.rules")
    assert rules.mode == 0o640
    for key in ("identity", "time-change", "scope", "mounts", "kernel_modules", "privileged-sudo"):
        assert f"-k {key}" in rules.content_string
    merged = host.run("augenrules --check")
    assert merged.rc == 0


@pytest.mark.parametrize("unit", ["auditd", "acct", "usbguard"])
def test_host_kernel_services_are_skipped_not_failed_in_containers(host, unit):
    # In a container these cannot reach the kernel; systemd must skip them, not fail them.
    assert host.service(unit).is_enabled
    state = host.check_output("systemctl show --property=ActiveState --value %s", unit)
    assert state == "inactive"
    assert host.check_output("systemctl show --property=ConditionResult --value %s", unit) == "no"


def test_aide_configuration_and_init_timer(host):
    assert host.run("aide --config-check --config /etc/aide/aide.conf").rc == 0
    timer = host.service("keel-aide-init.timer")
    assert timer.is_enabled


def test_sysstat_collects(host):
    assert 'ENABLED="true"' in host.file("/etc/default/sysstat").content_string
    assert host.service("sysstat").is_enabled


@pytest.mark.parametrize(
    ("path", "owner", "group", "mode"),
    [
        ("/etc/passwd", "root", "root", 0o644),
        ("/etc/group", "root", "root", 0o644),
        ("/etc/shadow", "root", "shadow", 0o640),
        ("/etc/gshadow", "root", "shadow", 0o640),
    ],
)
def test_account_database_permissions(host, path, owner, group, mode):
    f = host.file(path)
    assert (f.user, f.group, f.mode) == (owner, group, mode)


def test_core_dumps_disabled(host):
    assert "hard    core    0" in host.file("/etc/security/limits.d/50-keel-coredump.conf").content_string
    assert "Storage=none" in host.check_output("systemd-analyze cat-config systemd/coredump.conf")


def test_legacy_packages_absent(host):
    for package in ("telnet", "rsh-client", "nis", "xinetd"):
        assert not host.package(package).is_installed


def test_security_updates_are_configured(host):
    policy = host.check_output("apt-cache policy")
    assert "-security" in policy
    apt_config = host.check_output("apt-config dump")
    assert 'APT::Periodic::Unattended-Upgrade "1";' in apt_config
    assert "-security,label=Debian-Security" in apt_config
    assert host.package("needrestart").is_installed


def test_journald_is_persistent(host):
    config = host.check_output("systemd-analyze cat-config systemd/journald.conf")
    assert "Storage=persistent" in config
    assert host.service("rsyslog").is_running


def test_chrony_configured_and_not_failed(host):
    assert "server 127.0.0.1 iburst" in host.file("/etc/chrony/chrony.conf").content_string
    state = host.check_output("systemctl show --property=ActiveState --value chrony")
    assert state in {"active", "inactive"}


def test_fail2ban_watches_sshd(host):
    assert host.service("fail2ban").is_running
    status = host.check_output("fail2ban-client status sshd")
    assert "Currently banned" in status
    assert "banaction = nftables-multiport" in host.file("/etc/fail2ban/jail.local").content_string


def test_malware_scans_are_scheduled_not_run_in_the_play(host):
    assert host.service("keel-rkhunter.timer").is_enabled
    assert host.service("keel-rkhunter.timer").is_running
    assert 'APT_AUTOGEN="true"' in host.file("/etc/default/rkhunter").content_string


def test_idle_shells_time_out(host):
    out = host.check_output("bash -lic 'echo $TMOUT' 2>/dev/null")
    assert out.strip().splitlines()[-1] == "900"


def test_usbguard_blocks_devices_outside_its_policy(host):
    config = host.file("/etc/usbguard/usbguard-daemon.conf").content_string.splitlines()
    for line in ("ImplicitPolicyTarget=block", "PresentDevicePolicy=apply-policy", "InsertedDevicePolicy=apply-policy"):
        assert line in config
    rules = host.file("/etc/usbguard/rules.conf")
    assert (rules.user, rules.mode) == ("root", 0o600)
