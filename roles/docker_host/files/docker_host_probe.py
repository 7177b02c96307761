# What the docker_host role needs to know before it changes anything, printed
# as one JSON object in one round trip. Arguments: the packages to report,
# "--", then the users that must exist.
import glob
import grp
import json
import os
import pwd
import subprocess
import sys


def packages(names):
    result = subprocess.run(
        ["dpkg-query", "--show", "--showformat=${Package}\t${db:Status-Abbrev}\t${Version}\n", *names],
        capture_output=True,
        text=True,
        check=False,
    )
    found = {}
    for line in result.stdout.splitlines():
        name, status, version = line.split("\t")
        if status[1:2] == "i":
            found[name] = {"version": version, "held": status[0] == "h"}
    return found


def missing_users(names):
    missing = []
    for name in names:
        try:
            pwd.getpwnam(name)
        except KeyError:
            missing.append(name)
    return missing


def docker_group():
    try:
        return sorted(grp.getgrnam("docker").gr_mem)
    except KeyError:
        return None


def daemon_json(path="/etc/docker/daemon.json"):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def parsed_config(text):
    """The live daemon.json as a dict; {} when absent, unreadable JSON or not an object."""
    try:
        config = json.loads(text or "{}")
    except ValueError:
        return {}
    return config if isinstance(config, dict) else {}


def init_open_files_limit():
    """PID 1's hard limit on open files: the most systemd can give dockerd."""
    with open("/proc/1/limits", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("Max open files"):
                hard = line.split()[4]
                return None if hard == "unlimited" else int(hard)
    return None


def succeeds(argv):
    try:
        return subprocess.run(argv, capture_output=True, check=False).returncode == 0
    except OSError:
        return False


def main(argv):
    split = argv.index("--") if "--" in argv else len(argv)
    live_json = daemon_json()
    print(
        json.dumps(
            {
                "packages": packages(argv[:split]),
                "missing_users": missing_users(argv[split + 1 :]),
                "docker_group": docker_group(),
                "daemon_json": live_json,
                "daemon_config": parsed_config(live_json),
                "keel_timers": sorted(
                    os.path.basename(path) for path in glob.glob("/etc/systemd/system/keel-docker-*.timer")
                ),
                "init_open_files_limit": init_open_files_limit(),
                "docker_active": succeeds(["systemctl", "is-active", "--quiet", "docker.service"]),
                "proc_sys_net_writable": os.access("/proc/sys/net/ipv4/conf/all/route_localnet", os.W_OK),
                "audit_rules_dir": os.path.isdir("/etc/audit/rules.d"),
                "audit_loadable": succeeds(["auditctl", "-s"]),
                "python_apt": succeeds(["python3", "-c", "import apt_pkg"]),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
