"""ci_runner with Docker access on a real Docker engine managed by docker_host (see molecule.yml)."""

from __future__ import annotations

import json
import time

IMAGE = "keel-test/busybox:1"
SCOPE = "repos/keel/app"


def fixture(host, path: str, body: dict | None = None) -> dict:
    data = f"data=json.dumps({body!r}).encode(), method='POST'" if body is not None else "data=None"
    out = host.check_output(
        f'python3 -c "import json, urllib.request as u; '
        f"print(u.urlopen(u.Request('http://127.0.0.1:8787/_fixture/{path}', {data})).read().decode() or '{{}}')\""
    )
    return json.loads(out)


def as_runner(host, command: str) -> str:
    return host.check_output(f"runuser -u keel-runner -- {command}")


def wait_for(predicate, timeout=60) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(1)
    return predicate()


def test_runner_user_is_in_the_docker_group_and_can_use_docker(host):
    assert "docker" in host.user("keel-runner").groups
    assert host.check_output("getent group docker").split(":")[3] == "keel-runner"
    assert as_runner(host, "docker info --format '{{.ServerVersion}}'")


def test_the_job_hooks_prune_docker(host):
    assert "KEEL_RUNNER_DOCKER_PRUNE=1" in host.file("/opt/keel-runner/docker-1/.env").content_string


def test_the_job_completed_hook_prunes_what_a_job_left_in_docker(host):
    """A job leaves a stopped container and a dangling image; after job-completed both are gone."""
    host.check_output(
        "set -e; d=$(mktemp -d); mkdir -p $d/bin; cp /bin/busybox $d/bin/busybox; ln -s busybox $d/bin/sh; "
        f"tar -C $d -c . | docker import --change 'CMD [\\\"/bin/sh\\\"]' - {IMAGE} >/dev/null; rm -rf $d"
    )
    name = f"{host.backend.get_hostname()}-docker-1"
    fixture(host, "jobs", {"runner": name, "seconds": 10})
    assert wait_for(lambda: any(r["busy"] for r in fixture(host, "state")["scopes"][SCOPE] if r["name"] == name))
    # What the job leaves behind: a stopped container, and an image whose tag a later one took (dangling).
    as_runner(host, f"docker run --name keel-job-leftover {IMAGE} /bin/busybox true")
    as_runner(host, "docker commit keel-job-leftover keel-test/job:1")
    as_runner(host, "docker commit keel-job-leftover keel-test/job:1")
    assert as_runner(host, "docker ps -aq --filter name=keel-job-leftover")
    assert as_runner(host, "docker images -q --filter dangling=true")
    log = "journalctl --no-pager -u keel-runner@docker-1.service"
    assert wait_for(lambda: "completed with result: Succeeded" in host.check_output(log))
    assert as_runner(host, "docker ps -aq --filter name=keel-job-leftover") == ""
    assert as_runner(host, "docker images -q --filter dangling=true") == ""
    # Tagged images stay: only what nothing refers to is pruned.
    assert as_runner(host, f"docker images -q {IMAGE}")
    assert as_runner(host, "docker images -q keel-test/job:1")
