# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Textfile collectors of keel.platform.observability_agent.

    keel_textfile_collector.py COLLECTOR --output-dir DIR --interval SECONDS [options]

Each collector writes DIR/keel_<collector>.prom atomically (a temporary file
in DIR, then rename), so node_exporter never reads half a file. Every file
also carries the collector's own health: whether this run succeeded, when the
last success was and how often it runs, which the StaleTextfileMetrics alert
compares. A collector whose source is unreachable still writes its file with
an *_up 0 metric and exits 0: a missing host feature is data, not a failure.
Standard library only: it runs on the host's python3. The ec2 collector judges
the instance's cost tags with cost_verdict.py, the collection's one evaluation of
the cost policy (public module_utils, installed next to this script), against the
rules the role compiled on the controller from the policy file (--cost-rules).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import cost_verdict

IMDS_SESSION_TTL = "60"
NETWORK_TIMEOUT = 2.0
COMMAND_TIMEOUT = 60


def escape(value: object) -> str:
    """Escape a label value for the Prometheus text format."""
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def label_name(key: str) -> str:
    """A tag key as a valid label name: invalid characters become underscores."""
    name = re.sub(r"[^a-zA-Z0-9_]", "_", key)
    return name if re.match(r"[a-zA-Z_]", name) else f"_{name}"


def number(value: float) -> str:
    """A sample value at full precision: Unix times must not be rounded."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def sample(name: str, value: float, labels: dict[str, object] | None = None) -> str:
    if labels:
        inner = ",".join(f'{key}="{escape(labels[key])}"' for key in sorted(labels))
        return f"{name}{{{inner}}} {number(value)}"
    return f"{name} {number(value)}"


def metric(name: str, kind: str, help_text: str, samples: list[str]) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *samples]


def write_atomically(directory: Path, name: str, lines: list[str]) -> Path:
    """Write DIR/NAME through a temporary file in the same directory and a rename."""
    target = directory / name
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write("\n".join(lines) + "\n")
        os.chmod(tmp, 0o640)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def health(collector: str, success: bool, interval: int, now: float, previous_success: float) -> list[str]:
    """The collector's own metrics: success, last success time and interval."""
    labels = {"collector": collector}
    last = now if success else previous_success
    return [
        *metric(
            "keel_textfile_collector_success",
            "gauge",
            "Whether the last run of the collector succeeded.",
            [sample("keel_textfile_collector_success", int(success), labels)],
        ),
        *metric(
            "keel_textfile_collector_last_success_timestamp_seconds",
            "gauge",
            "Unix time of the collector's last successful run.",
            [sample("keel_textfile_collector_last_success_timestamp_seconds", last, labels)],
        ),
        *metric(
            "keel_textfile_collector_interval_seconds",
            "gauge",
            "How often the collector's timer runs it.",
            [sample("keel_textfile_collector_interval_seconds", interval, labels)],
        ),
    ]


def previous_success_time(path: Path) -> float:
    """The last success time recorded in a collector's previous file, or 0."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return 0.0
    found = re.search(r"^keel_textfile_collector_last_success_timestamp_seconds\{[^}]*\} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


# --- apt ----------------------------------------------------------------------

_APT_INST = re.compile(r"^Inst (\S+) (?:\[[^\]]*\] )?\((\S+) (.+?) \[[^\]]+\]\)")


def parse_apt_simulation(output: str) -> tuple[int, int]:
    """(pending, security) from `apt-get --simulate dist-upgrade` output.

    An upgrade counts as a security update when any of its origins is a
    security suite ("Debian-Security:12/stable-security", "…-security").
    """
    pending = security = 0
    for line in output.splitlines():
        found = _APT_INST.match(line)
        if not found:
            continue
        pending += 1
        if re.search(r"(?i)security", found.group(3)):
            security += 1
    return pending, security


def collect_apt(_args: argparse.Namespace) -> tuple[bool, list[str]]:
    result = subprocess.run(
        ["apt-get", "--simulate", "--quiet", "dist-upgrade"],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
        env={**os.environ, "LC_ALL": "C"},
    )
    if result.returncode != 0:
        print(f"apt-get --simulate failed: {result.stderr.strip()}", file=sys.stderr)
        return False, []
    pending, security = parse_apt_simulation(result.stdout)
    return True, [
        *metric(
            "keel_apt_upgrades_pending",
            "gauge",
            "Packages apt would upgrade.",
            [sample("keel_apt_upgrades_pending", pending)],
        ),
        *metric(
            "keel_apt_security_upgrades_pending",
            "gauge",
            "Pending upgrades that come from a security suite.",
            [sample("keel_apt_security_upgrades_pending", security)],
        ),
    ]


# --- reboot -------------------------------------------------------------------


def collect_reboot(args: argparse.Namespace) -> tuple[bool, list[str]]:
    flag = Path(args.reboot_required_file)
    packages: list[str] = []
    pkgs_file = flag.with_name(flag.name + ".pkgs")
    if pkgs_file.exists():
        packages = sorted({line.strip() for line in pkgs_file.read_text(encoding="utf-8").splitlines() if line.strip()})
    return True, [
        *metric(
            "keel_reboot_required",
            "gauge",
            "1 when a package asked for a reboot (/run/reboot-required).",
            [sample("keel_reboot_required", int(flag.exists()))],
        ),
        *metric(
            "keel_reboot_required_packages",
            "gauge",
            "Packages that asked for the pending reboot.",
            [sample("keel_reboot_required_packages", len(packages))],
        ),
    ]


# --- EC2 instance metadata (IMDSv2) ---------------------------------------------


def imds_get(endpoint: str, token: str, path: str) -> str | None:
    # The endpoint's scheme is checked in parse_args: http or https only.
    request = urllib.request.Request(f"{endpoint}/latest/{path}", headers={"X-aws-ec2-metadata-token": token})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=NETWORK_TIMEOUT) as response:  # noqa: S310
            return response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def imds_token(endpoint: str) -> str:
    request = urllib.request.Request(  # noqa: S310
        f"{endpoint}/latest/api/token",
        method="PUT",
        headers={"X-aws-ec2-metadata-token-ttl-seconds": IMDS_SESSION_TTL},
    )
    with urllib.request.urlopen(request, timeout=NETWORK_TIMEOUT) as response:  # noqa: S310
        return response.read().decode("utf-8")


class ImdsTags(Mapping):
    """The instance's tags from the metadata service, each value read when the evaluation first asks for it."""

    def __init__(self, endpoint: str, token: str, names: list[str]) -> None:
        self._endpoint, self._token, self._names, self._values = endpoint, token, names, {}

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __getitem__(self, name: str) -> str:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._values:
            path = "meta-data/tags/instance/" + urllib.parse.quote(name, safe="")
            self._values[name] = imds_get(self._endpoint, self._token, path) or ""
        return self._values[name]


def ec2_metrics(instance: dict[str, str], rules: dict | None, tags: Mapping, resource_ids: tuple = ()) -> list[str]:
    """Metrics for one instance: an info metric with its cost tags, and each required key's verdict."""
    labels: dict[str, object] = dict(instance)
    if rules is None:
        return metric(
            "keel_ec2_instance_info",
            "gauge",
            "The instance's type and cost-allocation tags (from IMDSv2).",
            [sample("keel_ec2_instance_info", 1, labels)],
        )
    verdicts = cost_verdict.evaluate(rules, tags, resource_ids)["verdicts"]
    for verdict in verdicts:
        labels[f"tag_{label_name(verdict['key'])}"] = verdict["value"] or ""
    lines = metric(
        "keel_ec2_instance_info",
        "gauge",
        "The instance's type and cost-allocation tags (from IMDSv2).",
        [sample("keel_ec2_instance_info", 1, labels)],
    )
    for status, help_text in (
        ("missing", "1 when a required cost-allocation tag is absent from the instance (and no exception holds)."),
        ("invalid", "1 when a required cost-allocation tag's value breaks the cost policy (and no exception holds)."),
        ("exempt", "1 while a live exception of the cost policy covers the key on this instance."),
    ):
        name = f"keel_ec2_cost_tag_{status}"
        lines += metric(
            name,
            "gauge",
            help_text,
            [sample(name, int(verdict["status"] == status), {"key": verdict["key"]}) for verdict in verdicts],
        )
    return lines


def instance_identity(endpoint: str, token: str) -> dict:
    """The instance identity document (instanceId, region, accountId), or {} when the service has none."""
    document = imds_get(endpoint, token, "dynamic/instance-identity/document")
    return json.loads(document) if document else {}


def collect_ec2(args: argparse.Namespace) -> tuple[bool, list[str]]:
    endpoint = args.imds_endpoint.rstrip("/")
    rules = json.loads(Path(args.cost_rules).read_text(encoding="utf-8")) if args.cost_rules else None
    lines: list[str] = []
    try:
        token = imds_token(endpoint)
        instance = {
            "instance_id": imds_get(endpoint, token, "meta-data/instance-id") or "",
            "instance_type": imds_get(endpoint, token, "meta-data/instance-type") or "",
            "availability_zone": imds_get(endpoint, token, "meta-data/placement/availability-zone") or "",
        }
        identity = instance_identity(endpoint, token)
        resource_ids = cost_verdict.instance_names(
            instance["instance_id"], identity.get("region", ""), identity.get("accountId", "")
        )
        # Tags are only in the metadata when the instance allows it
        # (InstanceMetadataTags=enabled); otherwise every key reads as missing.
        names = (imds_get(endpoint, token, "meta-data/tags/instance") or "").splitlines()
        lines = ec2_metrics(instance, rules, ImdsTags(endpoint, token, names), resource_ids)
        up = 1
    except (OSError, urllib.error.URLError, TimeoutError) as exc:
        print(f"instance metadata service at {endpoint} not reachable: {exc}", file=sys.stderr)
        up = 0
    return True, [
        *metric(
            "keel_ec2_imds_up",
            "gauge",
            "1 when the EC2 instance metadata service (IMDSv2) answered.",
            [sample("keel_ec2_imds_up", up)],
        ),
        *lines,
    ]


# --- Docker engine ------------------------------------------------------------

DOCKER_STATES = ("created", "dead", "exited", "paused", "removing", "restarting", "running")
DOCKER_HEALTH = ("healthy", "none", "starting", "unhealthy")
_DOCKER_HEALTH_IN_STATUS = re.compile(r"\((healthy|unhealthy|health: starting)\)")


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a unix socket, as the Docker client speaks to the engine."""

    def __init__(self, socket_path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class DockerAPIError(Exception):
    """The engine answered, but not with what the API documents."""


def docker_get(socket_path: str, path: str, kind: type = str) -> object:
    """GET PATH from the Docker Engine API on SOCKET_PATH: the text of /_ping, else JSON of type KIND."""
    connection = UnixHTTPConnection(socket_path, NETWORK_TIMEOUT)
    try:
        connection.request("GET", path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
    finally:
        connection.close()
    if response.status != 200:
        raise DockerAPIError(f"GET {path} answered {response.status}: {body.strip()[:200]}")
    if kind is str:
        return body
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise DockerAPIError(f"GET {path} did not answer JSON: {exc}") from None
    if not isinstance(value, kind):
        raise DockerAPIError(f"GET {path} answered a JSON {type(value).__name__}, not a {kind.__name__}")
    return value


def container_health(container: dict) -> str:
    """A listed container's health: the Health summary (API 1.52+), else its Status text."""
    health = (container.get("Health") or {}).get("Status")
    if health:
        return health
    found = _DOCKER_HEALTH_IN_STATUS.search(container.get("Status") or "")
    return found.group(1).replace("health: ", "") if found else "none"


def docker_metrics(version: dict, info: dict, containers: list[dict]) -> list[str]:
    """Metrics from the Engine API's /version, /info and /containers/json?all=1."""
    states = dict.fromkeys(DOCKER_STATES, 0)
    health = dict.fromkeys(DOCKER_HEALTH, 0)
    for container in containers:
        state = container.get("State") or "unknown"
        states[state] = states.get(state, 0) + 1
        if state == "running":
            status = container_health(container)
            health[status] = health.get(status, 0) + 1
    return [
        *metric(
            "keel_docker_containers",
            "gauge",
            "Containers by state (GET /containers/json?all=1).",
            [sample("keel_docker_containers", count, {"state": state}) for state, count in sorted(states.items())],
        ),
        *metric(
            "keel_docker_running_containers_health",
            "gauge",
            "Running containers by health check status (none: no health check).",
            [
                sample("keel_docker_running_containers_health", count, {"health": name})
                for name, count in sorted(health.items())
            ],
        ),
        *metric(
            "keel_docker_images", "gauge", "Images on the host.", [sample("keel_docker_images", info.get("Images", 0))]
        ),
        *metric(
            "keel_docker_info",
            "gauge",
            "Docker engine version, API version and storage driver.",
            [
                sample(
                    "keel_docker_info",
                    1,
                    {
                        "server_version": version.get("Version", info.get("ServerVersion", "")),
                        "api_version": version.get("ApiVersion", ""),
                        "storage_driver": info.get("Driver", ""),
                    },
                )
            ],
        ),
        *metric(
            "keel_docker_warnings",
            "gauge",
            "Warnings the engine reports (GET /info).",
            [sample("keel_docker_warnings", len(info.get("Warnings") or []))],
        ),
    ]


def collect_docker(args: argparse.Namespace) -> tuple[bool, list[str]]:
    """An engine that is absent, down or answering errors is data (keel_docker_up 0), not a failure."""
    lines: list[str] = []
    try:
        if docker_get(args.docker_socket, "/_ping") != "OK":
            raise DockerAPIError("GET /_ping did not answer OK")
        lines = docker_metrics(
            docker_get(args.docker_socket, "/version", dict),
            docker_get(args.docker_socket, "/info", dict),
            [item for item in docker_get(args.docker_socket, "/containers/json?all=1", list) if isinstance(item, dict)],
        )
        up = 1
    except (OSError, http.client.HTTPException, DockerAPIError) as exc:
        print(f"Docker engine at {args.docker_socket} not usable: {exc}", file=sys.stderr)
        lines = []
        up = 0
    return True, [
        *metric(
            "keel_docker_up",
            "gauge",
            "1 when the Docker engine answered its API (ping, version, info, containers).",
            [sample("keel_docker_up", up)],
        ),
        *lines,
    ]


# --- CI runners ---------------------------------------------------------------

RUNNER_STATES = ("idle", "busy", "offline", "stopped")


def runner_state(runner: dict) -> str:
    """One word for a runner of the ci_runner role's state file: its service, then GitHub's view."""
    if not runner.get("active", False):
        return "stopped"
    if not runner.get("online", False):
        return "offline"
    return "busy" if runner.get("busy", False) else "idle"


def ci_runner_metrics(state: dict, now: float) -> list[str]:
    """Metrics from the ci_runner role's state file (schema in roles/ci_runner/README.md)."""
    runners = state.get("runners") or []
    by_state = {name: 0 for name in RUNNER_STATES}
    per_runner: list[str] = []
    for runner in runners:
        status = runner_state(runner)
        by_state[status] += 1
        per_runner.append(sample("keel_ci_runner_busy", int(status == "busy"), {"runner": runner.get("name", "")}))
    updated = float(state.get("updated", 0))
    return [
        *metric(
            "keel_ci_runners",
            "gauge",
            "Runners by state (stopped: service not active; offline: GitHub does not see it).",
            [sample("keel_ci_runners", count, {"state": name}) for name, count in sorted(by_state.items())],
        ),
        *metric("keel_ci_runner_busy", "gauge", "1 while the runner runs a job.", per_runner),
        *metric(
            "keel_ci_runner_state_age_seconds",
            "gauge",
            "Age of the runners' state file contents.",
            [sample("keel_ci_runner_state_age_seconds", max(0.0, now - updated) if updated else -1)],
        ),
    ]


def collect_ci_runner(args: argparse.Namespace) -> tuple[bool, list[str]]:
    path = Path(args.ci_runner_state_file)
    lines: list[str] = []
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        lines = ci_runner_metrics(state, time.time())
        present = 1
    except FileNotFoundError:
        present = 0
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return False, []
    return True, [
        *metric(
            "keel_ci_runner_state_present",
            "gauge",
            "1 when the ci_runner role's state file exists.",
            [sample("keel_ci_runner_state_present", present)],
        ),
        *lines,
    ]


COLLECTORS = {
    "apt": collect_apt,
    "reboot": collect_reboot,
    "ec2": collect_ec2,
    "docker": collect_docker,
    "ci_runner": collect_ci_runner,
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("collector", choices=sorted(COLLECTORS))
    parser.add_argument("--output-dir", required=True, type=Path)
    parser.add_argument("--interval", required=True, type=int, help="seconds between runs (for staleness)")
    parser.add_argument("--imds-endpoint", default="http://169.254.169.254")
    parser.add_argument(
        "--cost-rules",
        type=Path,
        help="the cost policy as JSON rules (keel.platform.cost_policy_rules), for the ec2 collector's tag verdicts",
    )
    parser.add_argument("--docker-socket", default="/var/run/docker.sock", help="the Docker Engine API's unix socket")
    parser.add_argument("--ci-runner-state-file", default="/run/keel/ci_runner/state.json")
    parser.add_argument("--reboot-required-file", default="/run/reboot-required")
    args = parser.parse_args(argv)
    if not args.imds_endpoint.startswith(("http://", "https://")):
        parser.error(f"--imds-endpoint must be an http:// or https:// URL, not {args.imds_endpoint!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    target_name = f"keel_{args.collector}.prom"
    previous = previous_success_time(args.output_dir / target_name)
    try:
        success, lines = COLLECTORS[args.collector](args)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        print(f"{args.collector} collector failed: {exc}", file=sys.stderr)
        success, lines = False, []
    write_atomically(
        args.output_dir, target_name, lines + health(args.collector, success, args.interval, time.time(), previous)
    )
    return 0 if success else 1


if __name__ == "__main__":
    sys.exit(main())
