# What the docker_host role needs to know before it changes anything, printed
# as one JSON object in one round trip. Arguments: the packages to report,
# "--", then the users that must exist.
import glob
import grp
import http.client
import json
import os
import pwd
import re
import socket
import subprocess
import sys

# systemd-sysctl's search path: a file name found in an earlier directory
# hides the same name in later ones, and files apply in name order.
SYSCTL_DIRS = ("/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d")


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


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=10)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def engine(path="/run/docker.sock"):
    """What the running engine has (its own /info), or None when no engine answers."""
    connection = _UnixHTTPConnection(path)
    try:
        connection.request("GET", "/info")
        response = connection.getresponse()
        if response.status != 200:
            return None
        info = json.loads(response.read())
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        connection.close()
    return {
        "version": info.get("ServerVersion"),
        "log_drivers": sorted((info.get("Plugins") or {}).get("Log") or []),
        "storage_driver": info.get("Driver"),
        "runtimes": sorted(info.get("Runtimes") or {}),
        "cgroup_driver": info.get("CgroupDriver"),
    }


def configured_sysctl(key):
    """The value the boot-time sysctl files give key, and the file that sets it last."""
    files = {}
    for directory in SYSCTL_DIRS:
        for path in glob.glob(os.path.join(directory, "*.conf")):
            files.setdefault(os.path.basename(path), path)
    found = None
    for name in sorted(files):
        try:
            with open(files[name], encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except OSError:
            continue
        for line in lines:
            name_part, equals, value = line.partition("=")
            name_part = name_part.strip().lstrip("-").replace("/", ".")
            if equals and not name_part.startswith(("#", ";")) and name_part == key:
                found = {"value": value.strip(), "file": files[name]}
    return found


def read_text(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return None


def keel_forward_policy(path="/etc/nftables.conf"):
    """The policy of the forward chain in hardening's nftables table, or None without one."""
    ruleset = read_text(path) or ""
    if "table inet keel_filter" not in ruleset:
        return None
    match = re.search(r"hook forward\b[^;]*;\s*policy (\w+)", ruleset)
    return match.group(1) if match else None


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
                "engine": engine(),
                "ip_forward": {
                    "effective": read_text("/proc/sys/net/ipv4/ip_forward"),
                    "configured": configured_sysctl("net.ipv4.ip_forward"),
                    "firewall_policy": keel_forward_policy(),
                },
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
