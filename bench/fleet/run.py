# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""bench/fleet: the controller's cost per host of Keel's playbooks, against a trivial task on the same fleet.

For each fleet size N and each connection (ssh: sshd in the containers, a sudo user, a generated key,
the shipped ansible.cfg; docker: community.docker.docker as root), on N fresh systemd containers
(Debian 12 and 13 alternate), it runs and measures one after the other: site.yml's first converge,
the trivial-task floor (PING_TASKS ping tasks, no facts), site.yml with nothing to change,
fleet_update.yml with nothing to change and drift.yml. It prints wall time, controller CPU (the
whole process tree, see usage.py), tasks per host and the issue's ratios with PASS/FAIL, and writes
build/bench/fleet/results.json. See bench/fleet/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
OUT = Path(os.environ.get("KEEL_BENCH_FLEET_OUT", ROOT / "build" / "bench" / "fleet"))
TESTBED = ROOT / "scripts" / "testbed.sh"
BIN = Path(sys.executable).parent
# The demo's settings (every host's roles with their defaults, AIDE off, time sources on loopback).
GROUP_VARS = ROOT / "inventories" / "local" / "group_vars" / "all.yml"
LABEL = "keel.bench=fleet"
USER = "keel-bench"
CONNECTIONS = ("ssh", "docker")
PING_TASKS = 50
IMAGE_RECIPE = """\
FROM keel/debian:{release}
RUN apt-get update -q \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssh-server >/dev/null \\
 && useradd --create-home --shell /bin/bash --groups sudo {user} \\
 && printf '{user} ALL=(ALL) NOPASSWD: ALL\\n' >/etc/sudoers.d/{user} \\
 && chmod 0440 /etc/sudoers.d/{user}
"""
# name, playbook, extra arguments. The floor runs right after the first converge: the fleet as converged.
RUNS = (
    ("site first", "playbooks/site.yml", ()),
    ("ping floor", "ping.yml", ()),
    ("site no-change", "playbooks/site.yml", ()),
    ("fleet_update no-change", "playbooks/fleet_update.yml", ()),
    ("drift", "playbooks/drift.yml", ("--check", "--diff")),
)
# The goals: (what, run, compared with, bound). "floor" compares trivial-task equivalents per
# host; a run name compares controller CPU with that run's.
GOALS = (
    ("no-change site.yml <= 10 trivial tasks per host", "site no-change", "floor", 10.0),
    ("first converge <= 25 trivial tasks per host", "site first", "floor", 25.0),
    ("no-change fleet_update.yml <= 2x no-change site.yml", "fleet_update no-change", "site no-change", 2.0),
    ("drift.yml <= no-change site.yml", "drift", "site no-change", 1.0),
)


class BenchError(Exception):
    """A measurement could not be taken (Docker, image or container trouble)."""


@dataclass
class Run:
    """One measured ansible-playbook run."""

    name: str
    rc: int
    wall: float
    cpu: float
    cpu_command: float
    tasks: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)


# --- pure parts (tests/unit/bench/test_fleet.py) -------------------------------------------------


def tasks_per_host(tasks: dict[str, dict[str, dict[str, int]]], hosts: int) -> dict[str, float]:
    """Mean over the fleet's hosts of the tasks that ran, changed and were skipped (all roles)."""
    totals = dict.fromkeys(("ran", "changed", "skipped"), 0)
    for roles in tasks.values():
        for counts in roles.values():
            for key in totals:
                totals[key] += counts.get(key, 0)
    return {key: round(value / hosts, 1) for key, value in totals.items()}


def tasks_per_role(tasks: dict[str, dict[str, dict[str, int]]], hosts: int) -> dict[str, dict[str, float]]:
    """Per role, the mean over the fleet's hosts of the tasks that ran and were skipped."""
    sums: dict[str, dict[str, int]] = {}
    for roles in tasks.values():
        for role, counts in roles.items():
            entry = sums.setdefault(role, {"ran": 0, "skipped": 0})
            entry["ran"] += counts.get("ran", 0)
            entry["skipped"] += counts.get("skipped", 0)
    return {role: {k: round(v / hosts, 1) for k, v in entry.items()} for role, entry in sorted(sums.items())}


def floor_unit(floor: Run, hosts: int, ping_tasks: int = PING_TASKS) -> float | None:
    """Controller CPU seconds of one trivial task on one host; None if the floor run failed."""
    if floor.rc != 0 or not floor.cpu:
        return None
    return floor.cpu / (hosts * ping_tasks)


def equivalents(run: Run, hosts: int, unit: float | None) -> float | None:
    """A run's controller CPU per host in trivial tasks."""
    return None if unit is None else run.cpu / hosts / unit


def verdicts(runs: dict[str, Run], hosts: int) -> list[dict[str, object]]:
    """Each goal's measured ratio and PASS/FAIL; n/a when a run it needs failed or is missing."""
    unit = floor_unit(runs["ping floor"], hosts) if "ping floor" in runs else None
    out = []
    for goal, name, against, bound in GOALS:
        run, base = runs.get(name), runs.get(against)
        value, why = None, None
        if run is None or run.rc != 0:
            why = f"{name} {'missing' if run is None else f'failed (rc {run.rc})'}"
        elif against == "floor":
            value = equivalents(run, hosts, unit)
            why = None if value is not None else "ping floor failed"
        elif base is None or base.rc != 0 or not base.cpu:
            why = f"{against} {'missing' if base is None else 'failed'}"
        else:
            value = run.cpu / base.cpu
        verdict = "n/a" if value is None else ("PASS" if value <= bound else "FAIL")
        out.append({"goal": goal, "value": None if value is None else round(value, 2), "bound": bound,
                    "verdict": verdict, "why": why})  # fmt: skip
    return out


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render_fleet(connection: str, hosts: int, runs: dict[str, Run]) -> str:
    """One fleet's table, its goals and the per-role task counts of the converges."""
    unit = floor_unit(runs["ping floor"], hosts) if "ping floor" in runs else None
    header = ("run", "rc", "wall s", "CPU s", "CPU s/host", "ran/chg/skip per host", "trivial tasks/host")
    rows = [header]
    for name, _playbook, _args in RUNS:
        if name not in runs:
            continue
        run = runs[name]
        per_host = tasks_per_host(run.tasks, hosts)
        rows.append((
            name, str(run.rc), _num(run.wall), _num(run.cpu), _num(run.cpu / hosts, 2),
            f"{per_host['ran']:g}/{per_host['changed']:g}/{per_host['skipped']:g}",
            _num(equivalents(run, hosts, unit)),
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) + 2 for i in range(len(header))]
    lines = [f"== {hosts} host(s) over {connection}: trivial task = {_num(unit and unit * 1000)} ms CPU per host"]
    lines += ["".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    scope = "" if connection == "ssh" else " (the goals are set over SSH; shown for comparison)"
    lines.append(f"goals{scope}:")
    for item in verdicts(runs, hosts):
        shown = _num(item["value"], 2) if item["why"] is None else item["why"]
        lines.append(f"  {item['verdict']:<4}  {item['goal']}: {shown}")
    for name in ("site first", "site no-change"):
        if name in runs and runs[name].tasks:
            per_role = tasks_per_role(runs[name].tasks, hosts)
            cells = ", ".join(f"{role} {c['ran']:g} ran/{c['skipped']:g} skipped" for role, c in per_role.items())
            lines.append(f"{name} per role and host: {cells}")
    return "\n".join(lines)


def render_curve(results: list[dict[str, object]]) -> str:
    """Controller CPU per host of each run, by fleet size: is the cost linear or better?"""
    names = [name for name, _p, _a in RUNS]
    lines = ["== CPU s per host by fleet size", "  ".join(["hosts", "connection", *names])]
    for entry in results:
        runs = entry["runs"]
        cells = [_num(runs[n].cpu / entry["hosts"], 2) if n in runs else "-" for n in names]
        lines.append("  ".join([str(entry["hosts"]), str(entry["connection"]), *cells]))
    return "\n".join(lines)


def ping_playbook(tasks: int = PING_TASKS) -> str:
    """The trivial-task floor: TASKS ping tasks per host, no facts, no become."""
    body = "".join(f"    - name: Ping {i}\n      ansible.builtin.ping:\n" for i in range(1, tasks + 1))
    return f"---\n- name: Trivial-task floor\n  hosts: all\n  gather_facts: false\n  tasks:\n{body}"


def inventory(connection: str, addresses: dict[str, str], key: Path, security_mirror: str) -> dict[str, object]:
    """The fleet's inventory: sshd as production reaches it, or docker exec as root."""
    variables: dict[str, object] = {"hardening_security_repository_uri": security_mirror}
    if connection == "ssh":
        variables |= {
            "ansible_user": USER,
            "ansible_ssh_private_key_file": str(key),
            # The containers share the image's host keys; nothing to remember between fleets.
            "ansible_ssh_common_args": "-o UserKnownHostsFile=/dev/null",
        }
        hosts = {name: {"ansible_host": address} for name, address in addresses.items()}
    else:
        variables["ansible_connection"] = "community.docker.docker"
        hosts = dict.fromkeys(addresses, None)
    return {"all": {"hosts": hosts, "vars": variables}}


# --- processes and containers ---------------------------------------------------------------------


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run(cmd: list[str], timeout: float = 900, **kwargs) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{' '.join(cmd[:4])} ... timed out after {timeout}s") from exc


def tail(text: str, lines: int = 5) -> str:
    return " | ".join([line for line in text.strip().splitlines() if line.strip()][-lines:])


def image(release: str) -> str:
    """keel/bench-fleet:RELEASE (sshd and the sudo user on the test bed's image), built once and cached."""
    base = run(["docker", "image", "inspect", "-f", "{{.Id}}", f"keel/debian:{release}"], timeout=60)
    if base.returncode != 0:
        raise BenchError(f"keel/debian:{release} is missing; run scripts/testbed.sh all (this bench never pulls)")
    recipe = IMAGE_RECIPE.format(release=release, user=USER)
    digest = hashlib.sha256((recipe + base.stdout.strip()).encode()).hexdigest()[:16]
    name = f"keel/bench-fleet:{release}"
    current = run(["docker", "image", "inspect", "-f", '{{ index .Config.Labels "keel.recipe" }}', name], timeout=60)
    if current.returncode == 0 and current.stdout.strip() == digest:
        return name
    log(f"building {name} (openssh-server and the {USER} sudo user on keel/debian:{release})")
    built = run(["docker", "build", "-q", "-t", name, "-"], timeout=1800, input=f"{recipe}LABEL keel.recipe={digest}\n")
    if built.returncode != 0:
        raise BenchError(f"building {name} failed: {tail(built.stderr)}")
    return name


class Fleet:
    """N fresh containers for one connection; removes exactly those unless asked to keep them."""

    def __init__(self, connection: str, hosts: int, keep: bool) -> None:
        # The size in the name: benches of other sizes may run at the same time.
        self.names = [f"keel-bench-fleet-{connection}{hosts}-{i}" for i in range(1, hosts + 1)]
        self.keep = keep
        self.started: list[str] = []

    def start(self, images: dict[str, str], public_key: str) -> dict[str, str]:
        """Start the containers (Debian 12 and 13 alternate), authorise the key; name -> address."""

        def one(pair: tuple[int, str]) -> str:
            number, name = pair
            stale = run(["docker", "inspect", "-f", '{{ index .Config.Labels "keel.bench" }}', name], timeout=60)
            if stale.returncode == 0 and stale.stdout.strip() != "fleet":
                raise BenchError(f"a container named {name} exists and was not made by this bench; not touching it")
            release = "12" if number % 2 else "13"
            proc = run([str(TESTBED), "run", name, images[release], "--label", LABEL], timeout=300)
            self.started.append(name)
            if proc.returncode != 0:
                state = run(["docker", "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", name], timeout=60)
                hint = ""
                if state.stdout.startswith("exited"):
                    # Seen here with many systemd containers on one machine: each takes inotify instances.
                    hint = " (systemd exited at start: is fs.inotify.max_user_instances exhausted?)"
                raise BenchError(f"starting {name} failed: {tail(proc.stderr)}; state {state.stdout.strip()}{hint}")
            script = f"install -d -m 700 -o {USER} -g {USER} ~{USER}/.ssh && cat >~{USER}/.ssh/authorized_keys"
            key = run(["docker", "exec", "-i", name, "sh", "-c", script], input=public_key, timeout=120)
            if key.returncode != 0:
                raise BenchError(f"authorising the key in {name} failed: {tail(key.stderr)}")
            fmt = "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}"
            return run(["docker", "inspect", "-f", fmt, name], timeout=60).stdout.split()[0]

        pool = ThreadPoolExecutor(min(4, len(self.names)))
        try:
            return dict(zip(self.names, pool.map(one, enumerate(self.names, 1)), strict=True))
        finally:
            # Interrupted or failed: start no further container (close() removes the started ones).
            pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        if not self.keep and self.started:
            run(["docker", "rm", "-f", *self.started], timeout=600)
            self.started.clear()


def measure(name: str, playbook: Path, args: tuple[str, ...], workdir: Path, forks: int) -> Run:
    """ansible-playbook under usage.py: wall, CPU of the process tree, per-role task counts."""
    slug = name.replace(" ", "-")
    run_dir = workdir / slug
    run_dir.mkdir(parents=True)
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_CALLBACK_PLUGINS": str(HERE / "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "keel.platform.change_report,fleet_tasks",
        "ANSIBLE_NOCOLOR": "1",
        "KEEL_REPORT_DIR": str(run_dir),
        "KEEL_BENCH_TASKS_FILE": str(run_dir / "tasks.json"),
        # A fresh ControlPersist master per run: each run pays its own connections.
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(run_dir / "cp"),
    }
    command = [sys.executable, str(HERE / "usage.py"), str(run_dir / "usage.json"), str(BIN / "ansible-playbook")]
    command += ["-i", str(workdir / "inventory"), "--forks", str(forks), str(playbook), *args]
    with open(run_dir / "ansible.log", "w", encoding="utf-8") as output:
        subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=ROOT, check=False)
    usage = json.loads((run_dir / "usage.json").read_text())
    tasks_file = run_dir / "tasks.json"
    tasks = json.loads(tasks_file.read_text()) if tasks_file.exists() else {}
    return Run(name, usage["rc"], usage["wall"], usage["cpu"], usage["cpu_command"], tasks)


def bench_fleet(connection: str, hosts: int, args: argparse.Namespace, key: Path) -> dict[str, Run]:
    """A fresh fleet, the runs in order; the fleet is removed afterwards."""
    workdir = OUT / f"{hosts}-{connection}"
    shutil.rmtree(workdir, ignore_errors=True)
    (workdir / "inventory" / "group_vars").mkdir(parents=True)
    (workdir / "inventory" / "group_vars" / "all.yml").symlink_to(GROUP_VARS)
    (workdir / "ping.yml").write_text(ping_playbook())
    releases = ["12"] if hosts == 1 else ["12", "13"]
    images = {release: image(release) for release in releases}
    fleet = Fleet(connection, hosts, args.keep)
    runs: dict[str, Run] = {}
    try:
        log(f"{connection}: starting {hosts} container(s)")
        addresses = fleet.start(images, key.with_suffix(".pub").read_text())
        security = run([str(TESTBED), "security-mirror"], timeout=60).stdout.strip()
        hosts_yml = inventory(connection, addresses, key, security)
        (workdir / "inventory" / "hosts.yml").write_text(json.dumps(hosts_yml, indent=1) + "\n")
        for name, playbook, extra in RUNS:
            if args.only and name not in args.only:
                continue
            path = workdir / playbook if playbook == "ping.yml" else ROOT / playbook
            log(f"{connection} x{hosts}: {name}")
            runs[name] = measure(name, path, extra, workdir, args.forks)
            log(f"{connection} x{hosts}: {name}: rc {runs[name].rc}, {runs[name].wall}s, {runs[name].cpu} CPU-s")
    finally:
        fleet.close()
    return runs


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", default="1", help="fleet sizes, comma-separated (e.g. 1,10,30)")
    parser.add_argument("--connection", choices=[*CONNECTIONS, "both"], default="both")
    parser.add_argument("--forks", type=int, default=10, help="ansible-playbook --forks (ansible.cfg: 10)")
    parser.add_argument("--only", action="append", choices=[name for name, _p, _a in RUNS],
                        help="measure only this run (repeatable); the fleet still starts fresh")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the containers")
    return parser.parse_args(argv)


def on_sigterm(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, on_sigterm)
    sizes = [int(size) for size in args.hosts.split(",")]
    connections = list(CONNECTIONS) if args.connection == "both" else [args.connection]
    OUT.mkdir(parents=True, exist_ok=True)
    key = OUT / "id_ed25519"
    if not key.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "keel-bench-fleet", "-f", str(key)], timeout=60)
    version = run([str(BIN / "ansible-playbook"), "--version"], timeout=120).stdout.splitlines()
    meta = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "ansible": version[0] if version else None,
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
        "forks": args.forks,
        "ping_tasks": PING_TASKS,
    }
    results: list[dict[str, object]] = []
    try:
        for hosts in sizes:
            for connection in connections:
                runs = bench_fleet(connection, hosts, args, key)
                results.append({"hosts": hosts, "connection": connection, "runs": runs})
                print(render_fleet(connection, hosts, runs), flush=True)
    except BenchError as exc:
        log(str(exc))
        return 1
    except KeyboardInterrupt:
        log("interrupted; containers removed")
        return 130
    if len(results) > 1:
        print(render_curve(results))
    meta["load_average_at_end"] = [round(load, 2) for load in os.getloadavg()]
    payload = [
        {**entry, "runs": {n: asdict(r) for n, r in entry["runs"].items()},
         "goals": verdicts(entry["runs"], entry["hosts"])}
        for entry in results
    ]  # fmt: skip
    (OUT / "results.json").write_text(json.dumps({**meta, "fleets": payload}, indent=1) + "\n")
    print(f"load average at start {meta['load_average_at_start']}, at end {meta['load_average_at_end']}; "
          f"results: {OUT / 'results.json'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
