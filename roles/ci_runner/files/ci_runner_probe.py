# What the ci_runner role needs to know before it changes anything, printed as
# one JSON object in one round trip. Arguments: the runners' home directory,
# the release archive path, the encrypted credential path, the helpers' directory.
import grp
import importlib.util
import json
import os
import shutil
import sys


def instances(home):
    """Runner directories under home: their registration ID and unpacked release."""
    found = {}
    try:
        names = sorted(os.listdir(home))
    except FileNotFoundError:
        return found
    for name in names:
        path = os.path.join(home, name)
        if name == "releases" or not os.path.isfile(os.path.join(path, "config.sh")):
            continue
        agent_id = None
        try:
            with open(os.path.join(path, ".runner"), encoding="utf-8-sig") as handle:
                agent_id = json.load(handle).get("agentId")
        except (OSError, ValueError):
            pass
        release = None
        try:
            with open(os.path.join(path, ".keel-release"), encoding="utf-8") as handle:
                release = handle.read().strip()
        except OSError:
            pass
        found[name] = {"agent_id": agent_id, "release": release}
    return found


def main():
    home, archive, credential, lib_dir = sys.argv[1:5]
    try:
        with open(credential + ".sha256", encoding="utf-8") as handle:
            credential_sha256 = handle.read().strip()
    except OSError:
        credential_sha256 = None
    try:
        docker_members = sorted(grp.getgrnam("docker").gr_mem)
    except KeyError:
        docker_members = None
    print(
        json.dumps(
            {
                "instances": instances(home),
                "archive": os.path.isfile(archive),
                "installed": os.path.isdir(lib_dir),
                "state_timer": os.path.isfile("/etc/systemd/system/keel-runner-state.timer"),
                "credential_sha256": credential_sha256,
                "docker_members": docker_members,
                "docker_host": os.path.isfile("/etc/ansible/facts.d/docker_host.fact"),
                "docker": shutil.which("docker") is not None,
                "cryptography": importlib.util.find_spec("cryptography") is not None,
                "python_apt": importlib.util.find_spec("apt") is not None,
            }
        )
    )


main()
