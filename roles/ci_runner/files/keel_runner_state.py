# Publish the runners' state for the observability agent's textfile collector:
#   {"updated": <unix seconds>, "runners": [{"name", "unit", "active", "online", "busy"}]}
# Run by keel-runner-state.timer and at the end of each ci_runner role run.
# Argument: the state file. The runners are those the role configured
# (/etc/keel/ci_runner/<instance>.json); "active" comes from systemd, "online"
# and "busy" from one listing of the scope's runners on GitHub, made with the
# credential the role stored encrypted. Without a stored credential (a host
# registered with a registration token only) GitHub cannot be asked, and
# online and busy are false. When GitHub cannot be reached the file is left
# as it is (its "updated" ages, which the collector reports) and the exit
# status is 1. The file is replaced atomically (temporary file + rename);
# "changed" is printed when the set of published runners differs from the
# previous file's: online, busy and active are observations that move on
# their own, not changes made by a run.
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _github as gh  # installed next to this file by the ci_runner role
import keel_runner_github as host


def active(unit):
    return subprocess.run(["systemctl", "is-active", "--quiet", unit], check=False).returncode == 0


def github_view(configs):
    """GitHub's runners of the configured scope by name (empty without a stored credential)."""
    if not configs or not os.path.exists(host.CREDENTIAL):
        return {}
    config = configs[0]
    return {runner["name"]: runner for runner in gh.list_runners(host.client(config), config["scope"])}


def state(configs, seen, now):
    runners = []
    for instance, config in configs:
        github = seen.get(config["name"]) or {}
        unit = f"keel-runner@{instance}.service"
        runners.append(
            {
                "name": config["name"],
                "unit": unit,
                "active": active(unit),
                "online": github.get("status") == "online",
                "busy": bool(github.get("busy")),
            }
        )
    return {"updated": int(now), "runners": runners}


def write(path, data):
    """Replace path atomically; True when the published set of runners changed."""
    try:
        with open(path, encoding="utf-8") as handle:
            before = [(r["name"], r["unit"]) for r in json.load(handle).get("runners", [])]
    except (OSError, ValueError):
        before = None
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".state-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, sort_keys=True)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return before != [(r["name"], r["unit"]) for r in data["runners"]]


def main():
    path = sys.argv[1]
    try:
        configs = [(instance, host.load_config(instance)) for instance in host.instances()]
    except FileNotFoundError:
        configs = []
    try:
        seen = github_view([config for _instance, config in configs])
    except gh.GitHubError as error:
        print(f"keel-runner-state: {error}; {path} left as it was", file=sys.stderr)
        sys.exit(1)
    print("changed" if write(path, state(configs, seen, time.time())) else "unchanged")


if __name__ == "__main__":
    main()
