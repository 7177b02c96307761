"""Start the project's GitHub API fixture (tests/fixtures/github_api.py) on 127.0.0.1 for a test."""

from __future__ import annotations

import json
import sys
import threading
import urllib.request
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures"))

import github_api

TOKEN = "ghp_keel_good_token"
APP_ID = "31337"
INSTALLATION_ID = 4242


def app_keys() -> tuple[str, str]:
    """A fresh RSA key pair for the test App: (private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


class Fixture:
    """A running fixture: .url, .state, .control(path, body) for the /_fixture/ endpoints."""

    def __init__(self, tmp: Path, public_pem: str, releases: Path | None = None):
        app = {
            "id": APP_ID,
            "public_key": github_api.rsa_public_numbers(public_pem),
            "installation_id": INSTALLATION_ID,
        }
        self.state = github_api.State(tmp / "state.json", [TOKEN], app)
        self.server = github_api.make_server("127.0.0.1", 0, self.state, releases)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def control(self, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/_fixture/{path}", data=data, method="POST" if data else "GET")
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
        return json.loads(raw) if raw else {}

    def runners(self, scope: str) -> list[dict]:
        return self.control("state")["scopes"].get(scope, [])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
