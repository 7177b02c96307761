"""The collections pinned in requirements.yml are the ones the pinned `ansible` package bundles."""

from __future__ import annotations

import json
from pathlib import Path

import ansible_collections
import pytest
import yaml

ROOT = Path(__file__).parents[2]
PINNED = yaml.safe_load((ROOT / "requirements.yml").read_text())["collections"]


def bundled_version(name: str) -> str | None:
    namespace, collection = name.split(".")
    for base in ansible_collections.__path__:
        manifest = Path(base) / namespace / collection / "MANIFEST.json"
        if manifest.is_file():
            return json.loads(manifest.read_text())["collection_info"]["version"]
    return None


@pytest.mark.parametrize("pin", PINNED, ids=lambda pin: pin["name"])
def test_bundled_collection_matches_pin(pin):
    assert bundled_version(pin["name"]) == pin["version"]


def test_controller_requirements_are_pinned():
    lines = [line.split("#")[0].strip() for line in (ROOT / "requirements" / "controller.txt").read_text().splitlines()]
    requirements = [line for line in lines if line and not line.startswith("-")]
    assert requirements
    assert all("==" in line for line in requirements), requirements
