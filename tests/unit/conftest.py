"""Make `ansible_collections.keel.platform` importable from the working tree; share the GitHub fixture."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from ansible.plugins.loader import init_plugin_loader

COLLECTIONS = Path(__file__).parents[2] / ".collections"
if COLLECTIONS.is_dir() and str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
# ansible's collection finder, as ansible-test's unit tests have it: the collection is imported with its
# metadata (meta/runtime.yml), so ansible's plugin loader can load its plugins (tests/unit/plugins/inventory/).
init_plugin_loader([str(COLLECTIONS.resolve())])

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
