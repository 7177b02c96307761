"""Every collection Keel names is declared: what ships in galaxy.yml's dependencies, the rest in requirements.yml.

A collection reference is a fully qualified name (``community.general.dict_kv``,
``ansible_connection: community.docker.docker``) or a Python import from
``ansible_collections.<namespace>.<name>``, where ``<namespace>.<name>`` is one of the
collections the pinned ``ansible`` package bundles. What ships is what
``ansible-galaxy collection build`` puts in the tarball; its tests, docs and changelogs
only mention other collections.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
from functools import cache
from pathlib import Path

import ansible_collections
import pytest
import yaml
from ansible.galaxy.dependency_resolution.versioning import meets_requirements

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
PINNED = {pin["name"]: pin["version"] for pin in yaml.safe_load((ROOT / "requirements.yml").read_text())["collections"]}
NOT_RUNTIME = ("tests/", "docs/", "changelogs/")
OWN = {"keel.platform", "ansible.builtin", "ansible.legacy"}
TEXT_SUFFIXES = {".yml", ".yaml", ".j2", ".cfg", ".ini", ".md", ".py", ".sh", ".toml", ".txt", ""}


def bundled() -> dict[str, str]:
    """The collections of the pinned `ansible` package and their versions."""
    found = {}
    for base in ansible_collections.__path__:
        for manifest in Path(base).glob("*/*/MANIFEST.json"):
            info = json.loads(manifest.read_text())["collection_info"]
            found.setdefault(f"{info['namespace']}.{info['name']}", info["version"])
    return found


BUNDLED = bundled()
_FQCN = re.compile(r"(?<![\w.])([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)\.[a-z_][a-z0-9_]*")
_IMPORT = re.compile(r"ansible_collections\.([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)")
_QUOTED = re.compile(r"""["']([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)\.[a-z_][a-z0-9_]*["']""")


def references(path: str, text: str) -> set[str]:
    """The other collections a file names: FQCNs in YAML and text, imports and quoted FQCNs in Python."""
    patterns = (_IMPORT, _QUOTED) if path.endswith(".py") else (_FQCN, _IMPORT)
    names = {f"{ns}.{name}" for pattern in patterns for ns, name in pattern.findall(text)}
    return {name for name in names if name in BUNDLED and name not in OWN}


def referenced_by(paths: dict[str, str]) -> dict[str, list[str]]:
    """Collection name -> the files that name it."""
    where: dict[str, list[str]] = {}
    for path, text in sorted(paths.items()):
        for name in references(path, text):
            where.setdefault(name, []).append(path)
    return where


def _text(data: bytes) -> str | None:
    try:
        return data.decode()
    except UnicodeDecodeError:
        return None


@cache
def shipped() -> dict[str, str]:
    """Path -> text of every text file the built tarball holds (ansible-galaxy's own build_ignore)."""
    out = ROOT / ".cache" / "dependency-scan"
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    tarball = out / f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"
    files = {}
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            if member.isfile() and Path(member.name).suffix in TEXT_SUFFIXES:
                text = _text(archive.extractfile(member).read())
                if text is not None:
                    files[member.name] = text
    return files


@cache
def tracked() -> dict[str, str]:
    """Path -> text of every text file git tracks (tests, Molecule, benches, the demo included)."""
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout.decode()
    files = {}
    for path in filter(None, listing.split("\0")):
        file = ROOT / path
        if file.is_file() and not file.is_symlink() and file.suffix in TEXT_SUFFIXES:
            text = _text(file.read_bytes())
            if text is not None:
                files[path] = text
    return files


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        ("roles/x/tasks/main.yml", "  ansible.posix.mount:\n", {"ansible.posix"}),
        ("roles/x/tasks/main.yml", "map('community.general.dict_kv', 'path')", {"community.general"}),
        ("roles/x/tasks/main.yml", "ansible.builtin.copy: keel.platform.config_files", set()),
        ("inventory/hosts.yml", "ansible_connection: community.docker.docker", {"community.docker"}),
        ("plugins/x.py", "from ansible_collections.amazon.aws.plugins.module_utils import botocore", {"amazon.aws"}),
        ("plugins/x.py", "ACTION = 'community.aws.elb_target'", {"community.aws"}),
        # Python's own dotted names and prose in docstrings are not references.
        ("plugins/x.py", "from ansible.utils.vars import merge_hash  # unlike C(ansible.utils.ipaddr)", set()),
        ("roles/x/README.md", "os.path.join and a.b.c", set()),
    ],
)
def test_references(path, text, expected):
    assert references(path, text) == expected


def test_shipped_collections_are_galaxy_dependencies():
    runtime = {path: text for path, text in shipped().items() if not path.startswith(NOT_RUNTIME)}
    where = referenced_by(runtime)
    undeclared = {name: files for name, files in where.items() if name not in GALAXY["dependencies"]}
    assert not undeclared, f"add these to galaxy.yml's dependencies (and requirements.yml): {undeclared}"
    unused = set(GALAXY["dependencies"]) - set(where)
    assert not unused, f"galaxy.yml declares collections nothing that ships uses: {sorted(unused)}"


def test_every_collection_the_tree_names_is_in_requirements_yml():
    where = referenced_by(tracked())
    missing = {name: files for name, files in where.items() if name not in PINNED}
    assert not missing, f"add these to requirements.yml: {missing}"


@pytest.mark.parametrize("name", sorted(GALAXY["dependencies"]))
def test_dependency_range_admits_the_bundled_copy(name):
    assert name in PINNED, f"{name} is a dependency in galaxy.yml but not pinned in requirements.yml"
    assert meets_requirements(BUNDLED[name], GALAXY["dependencies"][name]), (
        f"galaxy.yml requires {name} {GALAXY['dependencies'][name]}, the `ansible` package bundles {BUNDLED[name]}"
    )
