"""The ci_runner role after converge, idempotence and side_effect (see molecule.yml)."""

from __future__ import annotations

import json
import time

import pytest

SCOPE = "repos/keel/app"
KEPT = ["build-1", "build-2", "build-3", "jit-1"]
UPGRADED = "2.331.0"


def fixture_state(host) -> dict:
    out = host.check_output(
        "python3 -c \"import urllib.request as u; print(u.urlopen('http://127.0.0.1:8787/_fixture/state').read().decode())\""
    )
    return json.loads(out)


@pytest.fixture(scope="module")
def prefix(host) -> str:
    return host.backend.get_hostname()


def runners_named(host, name):
    return [r for r in fixture_state(host)["scopes"][SCOPE] if r["name"] == name]


@pytest.mark.parametrize("instance", KEPT)
def test_service_is_active_as_the_runner_user(host, instance):
    service = host.service(f"keel-runner@{instance}.service")
    # An ephemeral runner exits after its job; systemd starts the next within RestartSec.
    deadline = time.monotonic() + 30
    while not service.is_running and time.monotonic() < deadline:
        time.sleep(1)
    assert service.is_running
    assert service.is_enabled
    pid = host.check_output(f"systemctl show --property=MainPID --value keel-runner@{instance}.service")
    assert host.check_output(f"stat -c %U /proc/{pid}") == "keel-runner"


def test_runner_user_is_unprivileged(host):
    user = host.user("keel-runner")
    assert user.uid != 0
    assert "docker" not in user.groups
    assert user.shell == "/usr/sbin/nologin"


@pytest.mark.parametrize("instance", ["build-1", "build-2", "build-3"])
def test_each_runner_is_registered_exactly_once_with_its_labels(host, prefix, instance):
    (runner,) = runners_named(host, f"{prefix}-{instance}")
    custom = sorted(label["name"] for label in runner["labels"] if label["type"] == "custom")
    assert custom == ["keel", "large", "linux"]
    local = json.loads(host.file(f"/opt/keel-runner/{instance}/.runner").content_string)
    assert local["agentId"] == runner["id"]


@pytest.mark.parametrize("instance", KEPT)
def test_every_runner_runs_the_upgraded_release(host, instance):
    assert host.check_output(f"/opt/keel-runner/{instance}/bin/Runner.Listener") == UPGRADED
    assert host.file(f"/opt/keel-runner/{instance}/.keel-release").content_string.strip() == UPGRADED


def test_the_sweep_removed_only_this_hosts_stale_offline_runners(host, prefix):
    assert runners_named(host, f"{prefix}-old-1") == []
    assert len(runners_named(host, f"{prefix}-old-2")) == 1
    assert len(runners_named(host, "other-host-build-1")) == 1


def test_the_seeded_runners_were_paged_over_and_kept(host):
    names = [r["name"] for r in fixture_state(host)["scopes"][SCOPE]]
    assert len([n for n in names if n.startswith("seed-")]) == 150
    assert len(names) == len(set(names))


def test_the_listing_read_every_page(host):
    requests = fixture_state(host)["requests"]
    assert "GET /repos/keel/app/actions/runners?per_page=100" in requests
    assert "GET /repos/keel/app/actions/runners?per_page=100&page=2" in requests


def test_absent_deregistered_the_removed_runner(host, prefix):
    assert runners_named(host, f"{prefix}-deploy-1") == []
    assert not host.file("/opt/keel-runner/deploy-1").exists
    assert not host.service("keel-runner@deploy-1.service").is_running


def test_ephemeral_runner_took_one_job_and_came_back_as_a_new_runner(host, prefix):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        jobs = fixture_state(host)["jobs"]
        current = runners_named(host, f"{prefix}-jit-1")
        if f"{prefix}-jit-1" not in jobs and current and current[0]["status"] == "online" and not current[0]["busy"]:
            break
        time.sleep(2)
    (runner,) = runners_named(host, f"{prefix}-jit-1")
    assert runner["ephemeral"]
    log = host.check_output("journalctl --no-pager -u keel-runner@jit-1.service")
    assert "completed with result: Succeeded" in log
    # The job-completed hook emptied the work folder.
    assert host.check_output("ls -A /opt/keel-runner/jit-1/_work") == ""


def test_no_secret_is_stored_in_clear(host):
    for secret in ("ghp_keel_molecule_token", "PRIVATE KEY"):
        found = host.run(f"grep -rl -- '{secret}' /etc/keel /opt/keel-runner /etc/systemd/system")
        assert found.stdout == ""
    credential = host.file("/etc/keel/ci_runner/github.cred")
    assert (credential.mode, credential.user) == (0o600, "root")


def test_app_authentication_was_used_on_debian13(host, prefix):
    state = fixture_state(host)
    if prefix.endswith("debian13"):
        assert state["installation_tokens"]
        assert any(r.startswith("POST /app/installations/") for r in state["requests"])
    else:
        assert not state["installation_tokens"]


def test_state_file_for_the_observability_agent(host, prefix):
    # Refreshed now: the ephemeral runner is back (the test above waited for it).
    host.check_output("systemctl start keel-runner-state.service")
    state = json.loads(host.file("/run/keel/ci_runner/state.json").content_string)
    assert set(state) == {"updated", "runners"}
    assert isinstance(state["updated"], int)
    assert [r["name"] for r in state["runners"]] == [f"{prefix}-{i}" for i in KEPT]
    for runner in state["runners"]:
        assert set(runner) == {"name", "unit", "active", "online", "busy"}
        assert runner["active"] is True
    assert state["runners"][0]["unit"] == "keel-runner@build-1.service"


def test_unit_has_limits_and_hardening(host):
    show = host.check_output(
        "systemctl show keel-runner@build-1.service -p MemoryMax -p CPUQuotaPerSecUSec -p TasksMax -p User "
        "-p NoNewPrivileges -p Restart -p ProtectSystem"
    )
    assert "MemoryMax=1073741824" in show
    assert "CPUQuotaPerSecUSec=1s" in show
    assert "User=keel-runner" in show
    assert "NoNewPrivileges=yes" in show
    assert "Restart=always" in show


def wait_for(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(1)
    return predicate()


def published(host, name) -> dict:
    state = json.loads(host.file("/run/keel/ci_runner/state.json").content_string)
    return next(r for r in state["runners"] if r["name"] == name)


def test_the_state_timer_publishes_what_github_shows(host, prefix):
    """Busy on GitHub (the fixture) while build-2 runs a job, idle after: the timer's service says so."""
    timer = host.service("keel-runner-state.timer")
    assert timer.is_enabled
    assert timer.is_running
    name = f"{prefix}-build-2"
    host.check_output(
        "python3 -c \"import json, urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:8787/_fixture/jobs', "
        f"data=json.dumps({{'runner': '{name}', 'seconds': 15}}).encode(), method='POST'))\""
    )
    assert wait_for(lambda: runners_named(host, name)[0]["busy"])
    host.check_output("systemctl start keel-runner-state.service")
    runner = published(host, name)
    assert (runner["online"], runner["busy"], runner["active"]) == (True, True, True)
    assert published(host, f"{prefix}-build-1")["busy"] is False
    assert wait_for(lambda: not runners_named(host, name)[0]["busy"])
    host.check_output("systemctl start keel-runner-state.service")
    assert (published(host, name)["online"], published(host, name)["busy"]) == (True, False)
