# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""keel.platform as a user gets it: the built tarball in a fresh virtualenv, run from outside the tree.

The virtualenv holds only ansible-core and requirements/controller.txt without the `ansible`
package (whose bundled collections would hide an undeclared dependency). The collections
galaxy.yml declares, and theirs, are installed offline from the copies the pinned `ansible`
package bundles (this development virtualenv's), next to keel.platform, in one directory that is
the only collection path the commands see.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import ansible_collections
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fixtures.aws_estate import seed  # noqa: E402
from tests.fixtures.moto_server import MotoServer  # noqa: E402

GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
REGIONS = ["us-east-1", "eu-west-1"]


def bundled_collection(name: str) -> Path:
    namespace, collection = name.split(".")
    for base in ansible_collections.__path__:
        path = Path(base) / namespace / collection
        if (path / "MANIFEST.json").is_file():
            return path
    raise AssertionError(f"{name} is not in the pinned ansible package")


def dependency_closure(dependencies: dict[str, str]) -> list[Path]:
    """The bundled copies of the declared collections and of everything they depend on."""
    wanted, found = list(dependencies), {}
    while wanted:
        name = wanted.pop()
        if name in found:
            continue
        found[name] = bundled_collection(name)
        manifest = json.loads((found[name] / "MANIFEST.json").read_text())
        wanted.extend(manifest["collection_info"]["dependencies"])
    return [found[name] for name in sorted(found)]


class Installed:
    """The fresh environment: run(argv) with only the install directory as collection path."""

    def __init__(self, base: Path):
        self.base = base
        self.venv = base / "venv"
        self.collections = base / "collections"
        self.workdir = base / "work"
        self.workdir.mkdir()
        empty_config = base / "ansible.cfg"
        empty_config.write_text("[defaults]\n")
        self.env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("ANSIBLE_", "VIRTUAL_ENV", "PYTHON"))
        }
        self.env.update(
            CREDENTIALS,
            PATH=f"{self.venv / 'bin'}:/usr/bin:/bin",
            ANSIBLE_CONFIG=str(empty_config),
            ANSIBLE_HOME=str(base / "ansible-home"),
            ANSIBLE_COLLECTIONS_PATH=str(self.collections),
            ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="true",
        )

    def run(self, *argv: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
        completed = subprocess.run(
            [str(self.venv / "bin" / argv[0]), *argv[1:]],
            cwd=self.workdir,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        if check:
            assert completed.returncode == 0, f"{argv}:\n{completed.stdout}\n{completed.stderr}"
        return completed


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Installed:
    base = tmp_path_factory.mktemp("install")
    assert not base.is_relative_to(ROOT), "the install test must run outside the working tree"
    env = Installed(base)
    tarball_dir = base / "dist"
    galaxy = str(Path(sys.executable).with_name("ansible-galaxy"))
    subprocess.run(
        [galaxy, "collection", "build", "--output-path", str(tarball_dir), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (tarball,) = tarball_dir.glob("*.tar.gz")

    started = time.monotonic()
    subprocess.run([sys._base_executable, "-m", "venv", str(env.venv)], check=True)
    controller = (ROOT / "requirements/controller.txt").read_text().splitlines()
    requirements = base / "requirements.txt"
    requirements.write_text("\n".join(line for line in controller if not line.startswith("ansible==")) + "\n")
    # pip's cache and the machine's wheel directories make this a local install.
    env.run(
        "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "-c", str(ROOT / "requirements/constraints.txt"), "-r", str(requirements),
    )  # fmt: skip
    env.run(
        "ansible-galaxy", "collection", "install", "--offline", "-p", str(env.collections), str(tarball),
        *map(str, dependency_closure(GALAXY["dependencies"])),
    )  # fmt: skip
    print(f"\ninstall test: fresh virtualenv and collections in {time.monotonic() - started:.1f} s")
    return env


@pytest.fixture(scope="session")
def moto(tmp_path_factory):
    """A moto_server on 127.0.0.1 with a small estate; returns (url, ground truth)."""
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    saved = {name: os.environ.get(name) for name in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    try:
        with MotoServer(log) as server:
            yield server.url, seed(server.url, 12, REGIONS)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
