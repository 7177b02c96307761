"""plugins/modules/github_runner.py against the GitHub fixture and the fake runner release."""

from __future__ import annotations

import os
import subprocess
import tarfile

import pytest
import runner_release  # tests/fixtures, put on sys.path by github_fixture
from ansible_collections.keel.platform.plugins.modules import github_runner as mod
from github_fixture import APP_ID, TOKEN

SCOPE = "repos/keel/app"


class Failed(Exception):
    pass


class FakeModule:
    """What the module's core uses of AnsibleModule; config.sh runs as root (allowed by env)."""

    def __init__(self, params, check_mode=False):
        self.params = params
        self.check_mode = check_mode
        self.commands = []

    def fail_json(self, msg, **kwargs):
        raise Failed(msg)

    def run_command(self, args, cwd=None, environ_update=None):
        if args[0] == "runuser":
            args = args[4:]
        self.commands.append(args)
        if args[0] == "systemctl":
            return 0, "", ""
        env = dict(os.environ, RUNNER_ALLOW_RUNASROOT="1", **(environ_update or {}))
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
        return done.returncode, done.stdout, done.stderr


@pytest.fixture
def release_dir(tmp_path):
    path = runner_release.write_release("2.330.0", tmp_path / "releases")[0]
    directory = tmp_path / "runner"
    directory.mkdir()
    with tarfile.open(path) as archive:
        archive.extractall(directory, filter="data")
    return directory


def params(github, directory, **overrides):
    base = {
        "api_url": github.url,
        "github_url": github.url,
        "scope": "repo",
        "target": "keel/app",
        "token": TOKEN,
        "app_id": None,
        "app_private_key": None,
        "app_installation_id": None,
        "registration_token": None,
        "state": "present",
        "name": "web-1",
        "labels": ["keel", "docker"],
        "runner_group": "Default",
        "directory": str(directory),
        "user": "keel-runner",
        "work_folder": "_work",
        "ephemeral": False,
        "service": "keel-runner@web-1.service",
        "wait_timeout": 5,
        "name_prefix": None,
        "keep": [],
        "timeout": 10,
    }
    base.update(overrides)
    return base


def run(state, module):
    ctx = mod.Runner(module)
    return {"present": mod.present, "absent": mod.absent, "swept": mod.swept}[state](ctx)


def test_registers_once_among_150_runners(github, release_dir):
    github.control("seed", {"scope": SCOPE, "names": [f"seed-{i:03d}" for i in range(150)]})
    changed, result = run("present", FakeModule(params(github, release_dir)))
    assert (changed, result["action"], result["listed"]) == (True, "register", 150)
    assert result["runner"]["labels"] == ["docker", "keel"]
    changed, result = run("present", FakeModule(params(github, release_dir)))
    assert (changed, result["action"], result["listed"]) == (False, "keep", 151)
    assert [r["name"] for r in github.runners(SCOPE)].count("web-1") == 1


def test_check_mode_registers_nothing(github, release_dir):
    module = FakeModule(params(github, release_dir), check_mode=True)
    assert run("present", module)[0] is True
    assert module.commands == []
    assert github.runners(SCOPE) == []


def test_labels_are_updated_in_place(github, release_dir):
    run("present", FakeModule(params(github, release_dir)))
    (before,) = github.runners(SCOPE)
    changed, result = run("present", FakeModule(params(github, release_dir, labels=["gpu"])))
    (after,) = github.runners(SCOPE)
    assert (changed, result["action"], after["id"]) == (True, "relabel", before["id"])
    assert result["runner"]["labels"] == ["gpu"]


def test_an_offline_runner_of_the_same_name_is_replaced(github, release_dir):
    github.control("seed", {"scope": SCOPE, "names": ["web-1"], "status": "offline"})
    (old,) = github.runners(SCOPE)
    changed, result = run("present", FakeModule(params(github, release_dir)))
    (new,) = github.runners(SCOPE)
    assert (changed, result["action"]) == (True, "replace")
    assert new["id"] != old["id"]


def test_an_online_runner_of_the_same_name_is_a_conflict(github, release_dir):
    github.control("seed", {"scope": SCOPE, "names": ["web-1"], "status": "online"})
    with pytest.raises(Failed, match="is online in repos/keel/app"):
        run("present", FakeModule(params(github, release_dir)))


def test_a_directory_github_forgot_is_registered_again(github, release_dir):
    run("present", FakeModule(params(github, release_dir)))
    github.state.data["scopes"][SCOPE].clear()
    changed, result = run("present", FakeModule(params(github, release_dir)))
    assert (changed, result["action"], len(github.runners(SCOPE))) == (True, "register", 1)


def test_app_authentication(github, release_dir, app_key_pair):
    module = FakeModule(params(github, release_dir, token=None, app_id=APP_ID, app_private_key=app_key_pair[0]))
    assert run("present", module)[1]["action"] == "register"
    assert github.runners(SCOPE)[0]["name"] == "web-1"


def test_a_premade_registration_token(github, release_dir):
    premade = mod.gh.registration_token(mod.gh.GitHubClient(github.url, token=TOKEN), SCOPE)
    module = FakeModule(params(github, release_dir, token=None, registration_token=premade))
    assert run("present", module)[0] is True
    assert run("present", FakeModule(params(github, release_dir, token=None, registration_token=premade)))[0] is False


def test_absent_deregisters_and_stops_the_service(github, release_dir):
    run("present", FakeModule(params(github, release_dir)))
    module = FakeModule(params(github, release_dir, state="absent"))
    changed, result = run("absent", module)
    assert (changed, result["action"]) == (True, "deregister")
    assert github.runners(SCOPE) == []
    assert ["systemctl", "stop", "keel-runner@web-1.service"] in module.commands
    assert not (release_dir / ".runner").exists()
    assert run("absent", FakeModule(params(github, release_dir, state="absent")))[0] is False


def test_absent_waits_for_a_busy_runner_and_gives_up_without_stopping_it(github, release_dir):
    run("present", FakeModule(params(github, release_dir)))
    github.state.data["scopes"][SCOPE][0]["busy"] = True
    module = FakeModule(params(github, release_dir, state="absent", wait_timeout=1))
    with pytest.raises(Failed, match="still running a job after 1 s; nothing was stopped"):
        run("absent", module)
    assert module.commands == []
    assert len(github.runners(SCOPE)) == 1


def test_sweep_removes_stale_offline_runners_of_this_host(github, release_dir):
    github.control("seed", {"scope": SCOPE, "names": ["h1-old", "h1-keep", "h2-old"], "status": "offline"})
    module = FakeModule(params(github, release_dir, state="swept", name_prefix="h1-", keep=["h1-keep"]))
    changed, result = run("swept", module)
    assert (changed, result["removed"]) == (True, ["h1-old"])
    assert sorted(r["name"] for r in github.runners(SCOPE)) == ["h1-keep", "h2-old"]


def test_ephemeral_present_only_resolves_the_group(github):
    module = FakeModule(params(github, None, scope="org", target="keel", ephemeral=True, runner_group="builders"))
    changed, result = run("present", module)
    assert (changed, result["runner_group_id"]) == (False, 2)
    assert github.runners("orgs/keel") == []


def test_bad_token_fails_clearly_and_touches_nothing(github, release_dir):
    run("present", FakeModule(params(github, release_dir)))
    with pytest.raises(mod.gh.GitHubError, match=r"GitHub refused the token \(401\)"):
        run("present", FakeModule(params(github, release_dir, token="ghp_bad", labels=["x"])))
    assert github.runners(SCOPE)[0]["labels"][-1]["name"] == "keel"
