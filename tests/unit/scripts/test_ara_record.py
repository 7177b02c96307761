"""scripts/ara_record.py: how a run is opted into ARA, and where its records go."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
spec = importlib.util.spec_from_file_location("ara_record", ROOT / "scripts/ara_record.py")
ara_record = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ara_record)


def test_the_callback_dir_is_aras_own():
    from ara.setup import callback_plugins

    assert (Path(ara_record.callback_dir()) / "ara_default.py").is_file()
    assert ara_record.callback_dir() == callback_plugins


@pytest.mark.parametrize(
    ("env", "client"),
    [
        ({}, "offline"),
        ({"ARA_API_SERVER": "http://127.0.0.1:8000"}, "http"),
        ({"ARA_API_SERVER": "http://127.0.0.1:8000", "ARA_API_CLIENT": "offline"}, "offline"),
    ],
)
def test_the_client_is_the_embedded_database_unless_a_server_is_named(env, client):
    assert ara_record.environment(env)["ARA_API_CLIENT"] == client


def test_aras_callback_joins_the_others_without_replacing_them():
    env = {
        "ANSIBLE_CALLBACK_PLUGINS": "/opt/callbacks",
        "ANSIBLE_CALLBACKS_ENABLED": "keel.platform.change_report",
    }
    recording = ara_record.environment(env)
    assert recording["ANSIBLE_CALLBACK_PLUGINS"] == f"/opt/callbacks:{ara_record.callback_dir()}"
    assert recording["ANSIBLE_CALLBACKS_ENABLED"] == "keel.platform.change_report"
    assert env["ANSIBLE_CALLBACK_PLUGINS"] == "/opt/callbacks"


@pytest.mark.parametrize(
    ("env", "path"),
    [
        ({"ARA_DATABASE_NAME": "/srv/ara/runs.sqlite", "ARA_BASE_DIR": "/srv/other"}, "/srv/ara/runs.sqlite"),
        ({"ARA_BASE_DIR": "/srv/ara"}, "/srv/ara/ansible.sqlite"),
        ({}, str(Path("~/.ara/server/ansible.sqlite").expanduser())),
    ],
)
def test_the_database_is_where_ara_puts_it(env, path):
    assert ara_record.database(env) == Path(path)


def test_a_report_of_nothing_recorded_is_refused(tmp_path):
    with pytest.raises(SystemExit, match=r"no ARA database at .*/ara/ansible\.sqlite: no run was recorded there"):
        ara_record.generate(tmp_path / "report", {"ARA_BASE_DIR": str(tmp_path / "ara")})
    assert not (tmp_path / "report").exists()


def test_a_server_run_names_the_server():
    env = ara_record.environment({"ARA_API_SERVER": "http://127.0.0.1:8123"})
    assert ara_record.where(env) == "the ARA API server http://127.0.0.1:8123"


@pytest.mark.parametrize("argv", [[], ["run"], ["report"], ["publish", "x"]])
def test_a_wrong_command_line_prints_the_usage(argv, capsys):
    assert ara_record.main(argv) == 2
    assert "ara_record.py run COMMAND" in capsys.readouterr().err
