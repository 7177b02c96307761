"""execution-environment.yml: `make ee` writes a build context ansible-builder accepts,
with the pinned ansible-core and collections, the plugins' Python libraries and
keel.platform itself."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONTEXT = ROOT / "build/ee"


@pytest.fixture(scope="module")
def context() -> Path:
    subprocess.run(["make", "--no-print-directory", "ee"], cwd=ROOT, check=True, capture_output=True)
    return CONTEXT


def pins(path: Path) -> dict[str, str]:
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    return dict(line.split("==") for line in lines if "==" in line)


def test_containerfile_installs_the_pinned_ansible(context):
    containerfile = (context / "Containerfile").read_text()
    controller = pins(ROOT / "requirements/controller.txt")
    assert f"ansible-core=={controller['ansible-core']}" in containerfile
    assert "ansible-runner==" in containerfile
    assert "RUN ansible-galaxy collection install --offline /tmp/keel/keel-platform-" in containerfile


def test_collections_and_python_libraries_are_those_the_controller_pins(context):
    assert yaml.safe_load((context / "_build/requirements.yml").read_text()) == yaml.safe_load(
        (ROOT / "requirements.yml").read_text()
    )
    ee_python = pins(ROOT / "requirements/execution-environment.txt")
    controller = pins(ROOT / "requirements/controller.txt")
    assert ee_python == {name: controller[name] for name in ee_python}
    assert (context / "_build/requirements.txt").read_text().count("boto3==") == 1


def test_the_collection_tarball_holds_plugins_and_roles_but_no_development_files(context):
    (tarball,) = (context / "_build/keel").glob("keel-platform-*.tar.gz")
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert "roles/docker_host/tasks/main.yml" in names
    assert "plugins/filter/changed_keys.py" in names
    assert "meta/runtime.yml" in names
    for development in (".venv/", ".cache/", "molecule/", "bench/", "build/", ".github/"):
        assert not any(name.startswith(development) for name in names), development
