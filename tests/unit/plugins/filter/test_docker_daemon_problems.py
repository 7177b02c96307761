from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.keel.platform.plugins.filter.docker_daemon_problems import (
    FilterModule,
    docker_daemon_problems,
)

BUILTIN = {
    "name": "docker.io of Debian 12",
    "log_drivers": ["json-file", "journald", "local", "syslog"],
    "storage_drivers": ["overlay2", "vfs", "btrfs"],
    "runtimes": ["runc"],
    "cgroup_drivers": ["cgroupfs", "systemd"],
}
ENGINE = {
    "version": "26.1.5",
    "log_drivers": ["json-file", "local", "gelf"],
    "storage_driver": "fuse-overlayfs",
    "runtimes": ["runc", "crun", "io.containerd.runc.v2"],
}


@pytest.mark.parametrize(
    ("config", "engine", "current"),
    [
        ({}, None, {}),
        ({"log-driver": "local", "storage-driver": "overlay2", "default-runtime": "runc"}, None, {}),
        ({"log-driver": "gelf"}, ENGINE, {}),
        # The running engine's own driver counts even when the table lacks it.
        ({"storage-driver": "fuse-overlayfs"}, ENGINE, {}),
        ({"default-runtime": "crun"}, ENGINE, {}),
        ({"default-runtime": "kata", "runtimes": {"kata": {"path": "/usr/bin/kata-runtime"}}}, None, {}),
        ({"exec-opts": ["native.cgroupdriver=systemd"]}, None, {}),
        ({"exec-opts": ["isolation=process"]}, None, {}),
    ],
)
def test_names_the_engine_has_pass(config, engine, current):
    assert docker_daemon_problems(config, BUILTIN, engine=engine, current=current) == []


@pytest.mark.parametrize(
    ("config", "engine", "current", "expected"),
    [
        (
            {"log-driver": "nope"},
            None,
            {},
            "log-driver 'nope' is not one of the log drivers built into docker.io of Debian 12: "
            "journald, json-file, local, syslog",
        ),
        # With a running engine, its own list decides: syslog is built in but this one lacks it.
        (
            {"log-driver": "syslog"},
            ENGINE,
            {},
            "log-driver 'syslog' is not one of the log drivers the running dockerd 26.1.5 has: gelf, json-file, local",
        ),
        (
            {"storage-driver": "aufs"},
            ENGINE,
            {},
            "storage-driver 'aufs' is not one of the storage drivers of docker.io of Debian 12: "
            "btrfs, fuse-overlayfs, overlay2, vfs",
        ),
        (
            {"default-runtime": "crun"},
            None,
            {},
            "default-runtime 'crun' is not one of the built-in runtimes and those in runtimes: runc",
        ),
        # crun came from the live file's runtimes, which the candidate drops.
        (
            {"default-runtime": "crun"},
            ENGINE,
            {"runtimes": {"crun": {"path": "/usr/bin/crun"}}},
            "default-runtime 'crun' is not one of the built-in runtimes and those in runtimes: "
            "io.containerd.runc.v2, runc",
        ),
        (
            {"exec-opts": ["native.cgroupdriver=cgroupv2"]},
            None,
            {},
            "exec-opts native.cgroupdriver 'cgroupv2' is not one of the cgroup drivers: cgroupfs, systemd",
        ),
        (
            {"log-driver": ["local"]},
            None,
            {},
            "log-driver must be a string naming one of journald, json-file, local, syslog, not ['local']",
        ),
    ],
)
def test_names_the_engine_lacks_are_refused(config, engine, current, expected):
    assert docker_daemon_problems(config, BUILTIN, engine=engine, current=current) == [expected]


def test_every_problem_is_reported():
    problems = docker_daemon_problems({"log-driver": "nope", "storage-driver": "nope"}, BUILTIN)
    assert [problem.split()[0] for problem in problems] == ["log-driver", "storage-driver"]


def test_rejects_a_non_mapping():
    with pytest.raises(AnsibleFilterError, match="must be a dictionary, not str"):
        docker_daemon_problems("debug=true", BUILTIN)


def test_filter_is_registered():
    assert FilterModule().filters()["docker_daemon_problems"] is docker_daemon_problems
