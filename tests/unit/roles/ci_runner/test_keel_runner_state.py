"""The ci_runner role's state publisher (roles/ci_runner/files/keel_runner_state.py)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from ansible_collections.keel.platform.plugins.module_utils import _github

FILES = Path(__file__).parents[4] / "roles" / "ci_runner" / "files"


@pytest.fixture(scope="module")
def publisher():
    # On the host the role installs _github.py next to the helpers.
    sys.modules.setdefault("_github", _github)
    spec = importlib.util.spec_from_file_location("keel_runner_state", FILES / "keel_runner_state.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CONFIGS = [("build-1", {"name": "web1-build-1"}), ("jit-1", {"name": "web1-jit-1"})]


@pytest.mark.parametrize(
    ("seen", "expected"),
    [
        ({}, [(False, False), (False, False)]),
        ({"web1-build-1": {"status": "online", "busy": True}}, [(True, True), (False, False)]),
        (
            {"web1-build-1": {"status": "offline", "busy": False}, "web1-jit-1": {"status": "online", "busy": False}},
            [(False, False), (True, False)],
        ),
    ],
)
def test_online_and_busy_come_from_github(publisher, monkeypatch, seen, expected):
    monkeypatch.setattr(publisher, "active", lambda unit: unit == "keel-runner@build-1.service")
    state = publisher.state(CONFIGS, seen, 1764125000.7)
    assert state["updated"] == 1764125000
    assert [(r["online"], r["busy"]) for r in state["runners"]] == expected
    assert [r["active"] for r in state["runners"]] == [True, False]
    assert [r["unit"] for r in state["runners"]] == ["keel-runner@build-1.service", "keel-runner@jit-1.service"]
    assert all(set(r) == {"name", "unit", "active", "online", "busy"} for r in state["runners"])


def test_a_change_is_a_changed_set_of_runners_not_an_observation(publisher, monkeypatch, tmp_path):
    monkeypatch.setattr(publisher, "active", lambda unit: True)
    path = tmp_path / "ci_runner" / "state.json"
    assert publisher.write(str(path), publisher.state(CONFIGS, {}, 1)) is True
    busy = {"web1-build-1": {"status": "online", "busy": True}}
    assert publisher.write(str(path), publisher.state(CONFIGS, busy, 2)) is False
    assert json.loads(path.read_text())["runners"][0]["busy"] is True
    assert path.stat().st_mode & 0o777 == 0o644
    assert publisher.write(str(path), publisher.state(CONFIGS[:1], busy, 3)) is True
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]


def test_without_a_stored_credential_github_is_not_asked(publisher, monkeypatch, tmp_path):
    monkeypatch.setattr(publisher.host, "CREDENTIAL", str(tmp_path / "missing.cred"))
    config = {"name": "web1-build-1", "api_url": "http://127.0.0.1:9", "scope": "repos/a/b"}
    assert publisher.github_view([config]) == {}
