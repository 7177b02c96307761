# Write the runner state the observability agent's collector reads:
#   {"updated": <unix seconds>, "runners": [{"name", "unit", "active", "online", "busy"}]}
# Arguments: the JSON list of runner instances (name, unit, instance), a JSON
# object of what GitHub showed for each instance (status, busy), the state
# file. Adds each unit's "active" from systemd, replaces the file atomically
# (temporary file + rename) and prints "changed" when the set of published
# runners differs from the previous file's: online, busy and active are
# observations that move on their own, not changes made by this run.
import json
import os
import subprocess
import sys
import tempfile
import time


def active(unit):
    result = subprocess.run(["systemctl", "is-active", "--quiet", unit], check=False)
    return result.returncode == 0


def main():
    instances, seen, path = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
    runners = []
    for instance in instances:
        github = seen.get(instance["instance"]) or {}
        runners.append(
            {
                "name": instance["name"],
                "unit": instance["unit"],
                "active": active(instance["unit"]),
                "online": github.get("status") == "online",
                "busy": bool(github.get("busy")),
            }
        )
    try:
        with open(path, encoding="utf-8") as handle:
            before = [(r["name"], r["unit"]) for r in json.load(handle).get("runners", [])]
    except (OSError, ValueError):
        before = None
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".state-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"updated": int(time.time()), "runners": runners}, handle, sort_keys=True)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    print("changed" if before != [(r["name"], r["unit"]) for r in runners] else "unchanged")


main()
