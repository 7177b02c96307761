"""What the docker_host probe reads about IP forwarding, against files in a temporary tree."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

PROBE = Path(__file__).resolve().parents[4] / "roles/docker_host/files/docker_host_probe.py"


@pytest.fixture(scope="module")
def probe():
    spec = importlib.util.spec_from_file_location("docker_host_probe", PROBE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def sysctl_dirs(tmp_path, probe, monkeypatch):
    dirs = [tmp_path / "etc", tmp_path / "run", tmp_path / "usr"]
    for directory in dirs:
        directory.mkdir()
    monkeypatch.setattr(probe, "SYSCTL_DIRS", tuple(str(directory) for directory in dirs))
    return dirs


def test_no_file_sets_forwarding(probe, sysctl_dirs):
    (sysctl_dirs[2] / "50-default.conf").write_text("kernel.sysrq = 0x01b6\n")
    assert probe.configured_sysctl("net.ipv4.ip_forward") is None


def test_the_last_file_in_name_order_wins(probe, sysctl_dirs):
    etc, usr = sysctl_dirs[0], sysctl_dirs[2]
    (usr / "30-forward.conf").write_text("net.ipv4.ip_forward=1\n")
    (etc / "90-keel-hardening.conf").write_text("# Keel\nnet.ipv4.ip_forward = 0\nnet.ipv4.tcp_syncookies = 1\n")
    assert probe.configured_sysctl("net.ipv4.ip_forward") == {
        "value": "0",
        "file": str(etc / "90-keel-hardening.conf"),
    }


def test_a_file_in_etc_hides_the_same_name_elsewhere(probe, sysctl_dirs):
    etc, usr = sysctl_dirs[0], sysctl_dirs[2]
    (usr / "90-keel-hardening.conf").write_text("net.ipv4.ip_forward = 0\n")
    (etc / "90-keel-hardening.conf").write_text("-net/ipv4/ip_forward = 1\n; net.ipv4.ip_forward = 0\n")
    assert probe.configured_sysctl("net.ipv4.ip_forward") == {
        "value": "1",
        "file": str(etc / "90-keel-hardening.conf"),
    }


KEEL_FORWARD = "table inet keel_filter {\n\tchain forward {\n\t\ttype filter hook forward priority filter; "


@pytest.mark.parametrize(
    ("ruleset", "policy"),
    [
        (None, None),
        ("table inet filter {\n chain forward { type filter hook forward priority 0; policy drop; }\n}\n", None),
        (
            KEEL_FORWARD + "policy drop;\n",
            "drop",
        ),
        (
            KEEL_FORWARD + "policy accept;\n",
            "accept",
        ),
    ],
)
def test_keel_forward_policy(probe, tmp_path, ruleset, policy):
    path = tmp_path / "nftables.conf"
    if ruleset is not None:
        path.write_text(ruleset)
    assert probe.keel_forward_policy(str(path)) == policy
