# What the ci_runner role needs to know before it changes anything, printed as
# one JSON object in one round trip. Arguments: the runners' home directory,
# the release archive path, the encrypted credential path, the helpers' directory,
# the runner user's name.
import grp
import importlib.util
import json
import os
import pwd
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


def login_defs(key, default):
    """A numeric setting of /etc/login.defs (useradd's system account range)."""
    try:
        with open("/etc/login.defs", encoding="utf-8") as handle:
            for line in handle:
                fields = line.split()
                if len(fields) >= 2 and fields[0] == key and fields[1].isdigit():
                    return int(fields[1])
    except OSError:
        pass
    return default


def account(name, home):
    """The runner user's passwd entry and group as they are now (None when absent)."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        user = None
    else:
        try:
            layout = os.stat(os.path.join(entry.pw_dir, "releases")).st_uid == entry.pw_uid
        except OSError:
            layout = False
        user = {
            "uid": entry.pw_uid,
            "gecos": entry.pw_gecos,
            "home": entry.pw_dir,
            # An account made by a release of the role that did not set the GECOS mark yet.
            "runner_layout": layout and entry.pw_dir == home,
        }
    try:
        group = {"gid": grp.getgrnam(name).gr_gid}
    except KeyError:
        group = None
    return {
        "user": user,
        "group": group,
        "sys_uid_max": login_defs("SYS_UID_MAX", 999),
        "sys_gid_max": login_defs("SYS_GID_MAX", 999),
    }


def restart_pending(config_dir):
    """Runners whose restart an earlier run deferred because they were busy."""
    try:
        names = os.listdir(config_dir)
    except FileNotFoundError:
        return []
    return sorted(n.removesuffix(".restart-pending") for n in names if n.endswith(".restart-pending"))


def main():
    home, archive, credential, lib_dir, user = sys.argv[1:6]
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
                "account": account(user, home),
                "restart_pending": restart_pending(os.path.dirname(credential)),
            }
        )
    )


main()
