"""What keel.platform.docker_host leaves on a Debian 12 or 13 host."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

IMAGE = "keel-test/busybox:1"
ROLE_VARS = Path(__file__).resolve().parents[3] / "roles/docker_host/vars"


def docker_info(host) -> dict:
    return json.loads(host.check_output("docker info --format '{{json .}}'"))


def daemon_json(host) -> dict:
    return json.loads(host.file("/etc/docker/daemon.json").content_string)


def test_the_builtin_table_matches_the_installed_engine(host):
    """The table a first install is checked against says what this release's engine has."""
    release = host.system_info.release.split(".")[0]
    table = yaml.safe_load((ROLE_VARS / f"Debian-{release}.yml").read_text())["__docker_host_engine_builtins"]
    builtin = table["distribution"]
    info = docker_info(host)
    assert sorted(info["Plugins"]["Log"]) == sorted(builtin["log_drivers"])
    assert sorted(info["Runtimes"]) == sorted(builtin["runtimes"])
    assert info["Driver"] in builtin["storage_drivers"]
    assert info["CgroupDriver"] in builtin["cgroup_drivers"]


def test_dockerd_is_active_and_enabled(host):
    service = host.service("docker")
    assert service.is_running
    assert service.is_enabled


def test_docker_info_shows_the_secure_defaults(host):
    info = docker_info(host)
    assert info["LoggingDriver"] == "local"
    assert info["LiveRestoreEnabled"] is True
    assert "keel.role=docker_host" in info["Labels"]


def test_address_pools_are_the_configured_ones(host):
    config = daemon_json(host)
    assert config["default-address-pools"] == [{"base": "172.20.0.0/14", "size": 24}]
    assert docker_info(host)["DefaultAddressPools"] == [{"Base": "172.20.0.0/14", "Size": 24}]
    network = host.check_output(
        "docker network create keel-pool-probe >/dev/null && "
        "docker network inspect --format '{{(index .IPAM.Config 0).Subnet}}' keel-pool-probe; "
        "docker network rm keel-pool-probe >/dev/null"
    )
    assert network.startswith("172.2"), network
    assert int(network.split(".")[1]) in range(20, 24)


def test_daemon_json_hardening_keys(host):
    config = daemon_json(host)
    assert config["icc"] is False
    assert config["userland-proxy"] is False
    assert config["no-new-privileges"] is True
    assert config["experimental"] is False
    assert config["default-ulimits"]["nofile"] == {"Name": "nofile", "Soft": 16384, "Hard": 16384}
    daemon_file = host.file("/etc/docker/daemon.json")
    assert (daemon_file.user, daemon_file.group, daemon_file.mode) == ("root", "root", 0o644)


@pytest.fixture(scope="module")
def local_image(host) -> str:
    """A one-binary image built from the host's busybox: no registry involved."""
    host.check_output(
        "set -e; d=$(mktemp -d); mkdir -p $d/bin; cp /bin/busybox $d/bin/busybox; ln -s busybox $d/bin/sh; "
        f"tar -C $d -c . | docker import --change 'CMD [\"/bin/sh\"]' - {IMAGE} >/dev/null; rm -rf $d"
    )
    return IMAGE


def test_a_container_from_a_local_image_runs(host, local_image):
    out = host.check_output(f"docker run --rm {local_image} /bin/busybox echo hello-from-keel")
    assert out == "hello-from-keel"


def test_containers_get_no_new_privileges_and_the_default_ulimit(host, local_image):
    status = host.check_output(f"docker run --rm {local_image} /bin/busybox cat /proc/self/status")
    assert "NoNewPrivs:\t1" in status
    assert host.check_output(f"docker run --rm {local_image} /bin/busybox sh -c 'ulimit -n'") == "16384"


def test_metrics_answer_on_loopback_only(host):
    body = host.check_output(
        "python3 -c \"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9323/metrics').read().decode())\""
    )
    assert "engine_daemon_engine_info" in body
    listener = host.socket("tcp://127.0.0.1:9323")
    assert listener.is_listening
    assert not host.socket("tcp://0.0.0.0:9323").is_listening


@pytest.mark.parametrize("timer", ["keel-docker-prune.timer", "keel-docker-disk-guard.timer"])
def test_housekeeping_timers_are_scheduled(host, timer):
    assert host.service(timer).is_enabled
    assert host.service(timer).is_running
    next_run = host.check_output(f"systemctl show --property NextElapseUSecRealtime --value {timer}")
    assert next_run not in ("", "0", "n/a")


def test_prune_keeps_a_retention_window(host):
    unit = host.file("/etc/systemd/system/keel-docker-prune.service").content_string
    assert "docker image prune --all --force --filter until=168h" in unit
    assert "docker builder prune --force --filter until=168h" in unit


def test_disk_guard_passes_below_threshold(host):
    result = host.run("systemctl start keel-docker-disk-guard.service")
    assert result.rc == 0, result.stderr
    assert host.check_output("systemctl show --property Result --value keel-docker-disk-guard.service") == "success"


def test_engine_packages_are_held(host):
    held = set(host.check_output("apt-mark showhold").split())
    assert {"docker.io", "containerd", "runc"} <= held


def test_docker_group_has_exactly_the_listed_members(host):
    members = host.check_output("getent group docker").split(":")[3]
    assert members == "keel-builder"


@pytest.mark.parametrize(
    ("unit", "line"),
    [
        ("docker", "TasksMax=8192"),
        ("containerd", "LimitNOFILE=1048576"),
    ],
)
def test_service_limits_are_drop_ins(host, unit, line):
    dropin = host.file(f"/etc/systemd/system/{unit}.service.d/50-keel-service.conf")
    assert line in dropin.content_string
    key, value = line.split("=")
    assert host.check_output(f"systemctl show --property {key} --value {unit}.service") == value


def test_proxy_reaches_dockerd(host):
    environment = host.check_output("systemctl show --property Environment --value docker.service")
    assert "HTTPS_PROXY=http://127.0.0.1:3128" in environment
    assert "NO_PROXY=localhost,127.0.0.1" in environment


def test_docker_info_is_a_local_fact(host):
    fact = host.run("/etc/ansible/facts.d/docker_host.fact")
    assert fact.rc == 0
    assert json.loads(fact.stdout)["LoggingDriver"] == "local"


def test_config_checker_says_which_check_ran(host):
    result = host.run("python3 /usr/local/libexec/keel/keel-docker-config-check /etc/docker/daemon.json")
    assert result.rc == 0, result.stderr
    version = docker_info(host)["ServerVersion"]
    if int(version.split(".")[0]) >= 23:
        assert "configuration OK" in result.stdout
    else:
        assert "has no --validate" in result.stdout


def test_config_checker_refuses_an_unknown_key(host):
    host.run("echo '{\"bogus-key\": 1}' > /tmp/keel-bad.json")
    result = host.run("python3 /usr/local/libexec/keel/keel-docker-config-check /tmp/keel-bad.json")
    assert result.rc != 0
    assert "bogus-key" in result.stderr


def test_audit_rules_watch_dockers_files(host):
    rules = host.file("/etc/audit/rules.d/60-keel-docker.rules")
    assert rules.mode == 0o640
    for path in ("/usr/sbin/dockerd", "/var/lib/docker", "/etc/docker", "/run/containerd"):
        assert f"-w {path} -p rwxa -k docker" in rules.content_string
