"""The docker textfile collector against the Docker Engine API over a unix socket.

The fixture (tests/fixtures/docker_api.py) answers as Docker Engine 20.10 does; the last test asks
the test machine's own dockerd, when there is one, for what the collector must report.
"""

from __future__ import annotations

import http.client
import socket
import sys
import threading
import time
from pathlib import Path

import pytest
from collector_run import collector, run

sys.path.insert(0, str(Path(__file__).parents[3] / "fixtures"))

import docker_api

REAL_SOCKET = Path("/var/run/docker.sock")


def serve(path: Path, fault: str = "") -> docker_api.DockerAPIServer:
    server = docker_api.DockerAPIServer(str(path), fault)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


@pytest.fixture
def engine(tmp_path):
    server = serve(tmp_path / "docker.sock")
    yield server
    server.shutdown()
    server.server_close()


def test_metrics_from_the_engine_api(tmp_path, engine):
    rc, samples = run(tmp_path, "docker", "--docker-socket", engine.server_address)
    assert rc == 0
    assert samples["keel_docker_up"] == "1"
    assert samples['keel_docker_containers{state="running"}'] == "3"
    assert samples['keel_docker_containers{state="paused"}'] == "1"
    assert samples['keel_docker_containers{state="exited"}'] == "2"
    assert samples['keel_docker_containers{state="created"}'] == "1"
    assert samples['keel_docker_containers{state="dead"}'] == "0"
    assert samples['keel_docker_running_containers_health{health="healthy"}'] == "1"
    assert samples['keel_docker_running_containers_health{health="unhealthy"}'] == "1"
    assert samples['keel_docker_running_containers_health{health="none"}'] == "1"
    assert samples["keel_docker_images"] == "6"
    assert samples["keel_docker_warnings"] == "1"
    assert (
        samples['keel_docker_info{api_version="1.41",server_version="20.10.24+dfsg1",storage_driver="overlay2"}'] == "1"
    )
    assert samples['keel_textfile_collector_success{collector="docker"}'] == "1"
    assert engine.requests == ["/_ping", "/version", "/info", "/containers/json"]


def test_states_agree_with_the_engine_counts(tmp_path, engine):
    """What /containers/json lists adds up to /info's counts (paused apart from running)."""
    info = docker_api.info()
    rc, samples = run(tmp_path, "docker", "--docker-socket", engine.server_address)
    assert rc == 0
    assert int(samples['keel_docker_containers{state="running"}']) == info["ContainersRunning"]
    assert int(samples['keel_docker_containers{state="paused"}']) == info["ContainersPaused"]
    stopped = sum(int(v) for k, v in samples.items() if k.startswith("keel_docker_containers{") and "running" not in k)
    assert stopped - info["ContainersPaused"] == info["ContainersStopped"]


def test_health_from_the_summary_of_newer_engines():
    newer = {"State": "running", "Status": "Up 1 second", "Health": {"Status": "starting", "FailingStreak": 0}}
    assert collector.container_health(newer) == "starting"
    assert collector.container_health({"State": "running", "Status": "Up 4 seconds (health: starting)"}) == "starting"
    assert collector.container_health({"State": "running", "Status": "Up 4 seconds"}) == "none"


def test_no_socket_means_engine_down(tmp_path):
    started = time.monotonic()
    rc, samples = run(tmp_path, "docker", "--docker-socket", str(tmp_path / "absent.sock"))
    assert time.monotonic() - started < 5
    assert rc == 0
    assert samples["keel_docker_up"] == "0"
    assert not any(key.startswith(("keel_docker_containers", "keel_docker_info")) for key in samples)
    # The collector itself worked: the engine being down is data, not a stale collector.
    assert samples['keel_textfile_collector_success{collector="docker"}'] == "1"


def test_a_stopped_daemon_leaves_a_socket_nobody_listens_on(tmp_path):
    path = tmp_path / "docker.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()
    rc, samples = run(tmp_path, "docker", "--docker-socket", str(path))
    assert rc == 0
    assert samples["keel_docker_up"] == "0"


def test_an_engine_answering_errors_is_down(tmp_path, capsys):
    server = serve(tmp_path / "docker.sock", fault="error")
    try:
        rc, samples = run(tmp_path, "docker", "--docker-socket", server.server_address)
    finally:
        server.shutdown()
        server.server_close()
    assert rc == 0
    assert samples["keel_docker_up"] == "0"
    assert "GET /version answered 500" in capsys.readouterr().err


def test_an_engine_answering_something_else_is_down(tmp_path, capsys):
    """A socket that answers HTTP but not the Docker API (a JSON list where /info has an object)."""
    path = tmp_path / "docker.sock"
    server = serve(path)
    original = docker_api.info
    docker_api.info = list
    try:
        rc, samples = run(tmp_path, "docker", "--docker-socket", str(path))
    finally:
        docker_api.info = original
        server.shutdown()
        server.server_close()
    assert rc == 0
    assert samples["keel_docker_up"] == "0"
    assert "GET /info answered a JSON list, not a dict" in capsys.readouterr().err


def test_fixture_answers_like_the_engine(engine):
    connection = collector.UnixHTTPConnection(engine.server_address, 2)
    connection.request("GET", "/v1.41/_ping")
    response = connection.getresponse()
    assert (response.status, response.read(), response.getheader("Api-Version")) == (200, b"OK", "1.41")
    connection.close()
    assert len(collector.docker_get(engine.server_address, "/containers/json?all=1", list)) == 7
    assert len(collector.docker_get(engine.server_address, "/containers/json", list)) == 3


def real_engine_answers() -> bool:
    try:
        return collector.docker_get(str(REAL_SOCKET), "/_ping") == "OK"
    except (OSError, http.client.HTTPException, collector.DockerAPIError):
        return False


@pytest.mark.skipif(not real_engine_answers(), reason="no Docker engine on this machine")
def test_the_real_engine(tmp_path):
    """This machine's dockerd (read-only requests): up, and the version it reports itself."""
    rc, samples = run(tmp_path, "docker", "--docker-socket", str(REAL_SOCKET))
    version = collector.docker_get(str(REAL_SOCKET), "/version", dict)
    assert rc == 0
    assert samples["keel_docker_up"] == "1"
    info = next(key for key in samples if key.startswith("keel_docker_info{"))
    assert f'server_version="{version["Version"]}"' in info
    assert f'api_version="{version["ApiVersion"]}"' in info
    # Other work may start containers meanwhile: the counts are checked against the fixture only.
    assert 'keel_docker_containers{state="running"}' in samples
