"""galaxy.yml is the one source of the collection's version; the copies in code must equal it."""

from __future__ import annotations

from pathlib import Path

import yaml
from ansible_collections.keel.platform.plugins.module_utils import _aws

ROOT = Path(__file__).parents[2]


def test_user_agent_names_the_galaxy_version():
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    assert f"keel.platform/{version}" == _aws.USER_AGENT_EXTRA, "set KEEL_VERSION in plugins/module_utils/_aws.py"
