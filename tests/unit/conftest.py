"""Make `ansible_collections.keel.platform` importable from the working tree; share the GitHub fixture."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

COLLECTIONS = Path(__file__).parents[2] / ".collections"
if COLLECTIONS.is_dir() and str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

from github_fixture import Fixture, app_keys  # noqa: E402


@pytest.fixture(scope="session")
def app_key_pair() -> tuple[str, str]:
    return app_keys()


@pytest.fixture
def github(tmp_path, app_key_pair):
    """The project's GitHub API fixture, serving on 127.0.0.1 for one test."""
    fixture = Fixture(tmp_path, app_key_pair[1])
    yield fixture
    fixture.close()
