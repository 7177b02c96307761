"""Map changed paths to the Molecule scenarios that test them.

Prints one scenario name per line. Used by `make test-changed` and by the
pull-request workflow, so a change to one role runs only that role's
scenarios, while a change to what every scenario shares runs them all.

    python scripts/changed_scenarios.py --base origin/main   # paths from git
    python scripts/changed_scenarios.py roles/docker_host/tasks/main.yml
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# What every scenario runs on: a change here runs them all.
SHARED = (
    ".config/molecule/",
    "molecule/conftest.py",
    "molecule/resources/",
    "requirements/",
    "scripts/testbed.sh",
    "scripts/venv.sh",
    "ansible.cfg",
    "galaxy.yml",
    "meta/runtime.yml",
    "Makefile",
)
PLUGIN_DIRS = ("modules", "filter", "module_utils", "plugin_utils", "action", "lookup")


def scenarios(root: Path) -> list[str]:
    return sorted(path.parent.name for path in root.glob("molecule/*/molecule.yml"))


def scenarios_of_role(role: str, all_scenarios: list[str], root: Path = ROOT) -> set[str]:
    """A role's scenarios are named after it (hardening, hardening_guards, ...), plus the scenarios
    whose playbooks run it beside another role (ci_runner_docker runs keel.platform.docker_host)."""
    named = {name for name in all_scenarios if name == role or name.startswith(f"{role}_")}
    pattern = re.compile(rf"\b(name|role):\s*keel\.platform\.{re.escape(role)}\b")
    running = {
        name
        for name in all_scenarios
        if any(pattern.search(path.read_text()) for path in (root / "molecule" / name).glob("*.yml"))
    }
    return named | running


def role_texts(root: Path) -> dict[str, str]:
    """Each role's YAML and templates, read once, as one text per role."""
    texts: dict[str, list[str]] = {}
    for path in sorted(root.glob("roles/*/**/*")):
        if path.is_file() and path.suffix in {".yml", ".yaml", ".j2"}:
            texts.setdefault(path.relative_to(root).parts[1], []).append(path.read_text())
    return {role: "\n".join(parts) for role, parts in texts.items()}


def roles_using(plugin: str, texts: dict[str, str]) -> set[str]:
    """Roles whose YAML or templates name keel.platform.<plugin>."""
    pattern = re.compile(rf"keel\.platform\.{re.escape(plugin)}\b")
    return {role for role, text in texts.items() if pattern.search(text)}


def plugins_importing(util: str, root: Path) -> set[str]:
    """Plugins (by name) that import plugins/module_utils/<util> or plugin_utils/<util>."""
    pattern = re.compile(rf"plugins\.(module_utils|plugin_utils)\.{re.escape(util)}\b")
    return {
        path.stem
        for path in root.glob("plugins/*/*.py")
        if path.parent.name not in {"module_utils", "plugin_utils"} and pattern.search(path.read_text())
    }


def affected(paths: list[str], root: Path = ROOT) -> list[str]:
    all_scenarios = scenarios(root)
    texts: dict[str, str] | None = None
    wanted: set[str] = set()
    for raw in paths:
        path = raw.strip()
        if not path:
            continue
        parts = Path(path).parts
        if path.startswith(SHARED):
            return all_scenarios
        if parts[0] == "roles" and len(parts) > 1:
            wanted |= scenarios_of_role(parts[1], all_scenarios, root)
        elif parts[0] == "molecule" and len(parts) > 2:
            wanted |= {parts[1]} & set(all_scenarios)
        elif parts[0] == "plugins" and len(parts) > 2 and parts[1] in PLUGIN_DIRS:
            name = Path(parts[2]).stem
            names = plugins_importing(name, root) if parts[1] in {"module_utils", "plugin_utils"} else {name}
            texts = role_texts(root) if texts is None else texts
            for plugin in names:
                for role in roles_using(plugin, texts):
                    wanted |= scenarios_of_role(role, all_scenarios, root)
    return sorted(wanted)


def changed_paths(base: str) -> list[str]:
    merge_base = subprocess.run(
        ["git", "merge-base", base, "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    committed = subprocess.run(
        ["git", "diff", "--name-only", merge_base], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    untracked = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return committed + untracked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="changed paths (default: from git against --base)")
    parser.add_argument("--base", default="origin/main", help="branch or commit to compare with")
    args = parser.parse_args(argv)
    paths = args.paths or changed_paths(args.base)
    for name in affected(paths):
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
