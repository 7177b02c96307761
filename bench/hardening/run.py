"""Benchmark keel.platform.hardening against dev-sec's devsec.hardening in one run.

Each role gets a fresh systemd container from keel/debian:<release>, prepared the
same way (lynis and openssh-server installed, sshd running). The bench then
audits the container (Lynis hardening index, ssh-audit), converges the role
twice (timing both runs and counting task results) and audits it again.
Figures go to stdout as a table and to build/bench/hardening/results.json.

Run it as `.venv/bin/python bench/hardening/run.py` (or `make bench-hardening`).
See bench/hardening/README.md for what is measured and how to read it.
"""

import argparse
import importlib.util
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTBED = ROOT / "scripts" / "testbed.sh"
BUILD = ROOT / "build" / "bench"
OUT = BUILD / "hardening"
DEVSEC_EXPORT = BUILD / "devsec"
DEVSEC_GIT_DEFAULT = Path("/work/.mirror/dev-sec+ansible-collection-hardening/repo")
BIN = Path(sys.executable).parent
ROLES = ("keel", "devsec")
CONTAINER_LABEL = "keel.bench=hardening"
LYNIS_REPORT = "/var/log/lynis-report.dat"
# ssh-audit 3.x exit codes (ssh_audit/exitcodes.py).
SSH_AUDIT_CODES = {0: "good", 1: "connection error", 2: "warnings", 3: "failures"}

KEEL_PLAYBOOK = """\
---
- name: Bench keel.platform.hardening with its defaults
  hosts: all
  vars:
    # No traffic leaves the machine: time sources on loopback.
    hardening_ntp_servers: [127.0.0.1]
    hardening_ntp_pools: []
    hardening_security_repository_uri: >-
      {{ lookup('ansible.builtin.env', 'KEEL_DEBIAN_SECURITY_MIRROR')
         | default('http://deb.debian.org/debian-security', true) }}
  roles:
    - role: keel.platform.hardening
"""

DEVSEC_PLAYBOOK = """\
---
- name: Bench devsec.hardening (os_hardening + ssh_hardening) with its defaults
  hosts: all
  roles:
    - role: devsec.hardening.os_hardening
    - role: devsec.hardening.ssh_hardening
"""


class BenchError(Exception):
    """A measurement could not be taken (container, package or tool trouble)."""


@dataclass
class Lynis:
    """Outcome of one `lynis audit system --quick` run."""

    index: int | None = None
    warnings: int = 0
    suggestions: int = 0
    error: str | None = None


@dataclass
class SshAudit:
    """Outcome of one ssh-audit run against the container's sshd."""

    rc: int | None = None
    meaning: str = ""
    fail: int = 0
    warn: int = 0
    error: str | None = None


@dataclass
class Audit:
    """Lynis and ssh-audit figures at one point in time."""

    lynis: Lynis
    ssh: SshAudit


@dataclass
class Converge:
    """One ansible-playbook run: wall clock time and task counts."""

    seconds: float
    rc: int
    status: str = "ok"
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    rescued: int = 0
    ignored: int = 0
    failed_task: str | None = None
    message: str | None = None
    slowest_tasks: list[dict[str, object]] = field(default_factory=list)


@dataclass
class RoleResult:
    """Everything measured for one role."""

    role: str
    container: str
    before: Audit | None = None
    first: Converge | None = None
    second: Converge | None = None
    after: Audit | None = None
    error: str | None = None


@dataclass
class Peer:
    """Where dev-sec's collection comes from, if anywhere."""

    collections_root: Path | None
    source: str
    version: str | None = None
    commit: str | None = None
    reason: str | None = None


# --- processes ---------------------------------------------------------------


def run(cmd: list[str], *, timeout: float | None = 900) -> subprocess.CompletedProcess:
    """Run a command, capture its output as text and never raise on a non-zero exit."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{' '.join(cmd[:4])} ... timed out after {timeout}s") from exc
    except FileNotFoundError as exc:
        raise BenchError(f"{cmd[0]} not found") from exc


def log(message: str) -> None:
    """Progress goes to stderr so stdout carries only the table."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def tail(text: str, lines: int = 5) -> str:
    """Last few non-empty lines of a command's output, for error messages."""
    return " | ".join([line for line in text.strip().splitlines() if line.strip()][-lines:])


# --- containers --------------------------------------------------------------


class Testbed:
    """Starts the bench's containers and removes exactly those, unless asked to keep them."""

    def __init__(self, image: str, keep: bool) -> None:
        self.image = image
        self.keep = keep
        self.started: list[str] = []

    def start(self, name: str) -> None:
        """Start a fresh systemd container (the test bed's flags) and wait until systemd has booted."""
        self._remove_stale(name)
        proc = run([str(TESTBED), "run", name, self.image, "--label", CONTAINER_LABEL], timeout=180)
        if proc.returncode != 0:
            raise BenchError(f"starting {name} failed: {tail(proc.stderr)}")
        self.started.append(name)

    def _remove_stale(self, name: str) -> None:
        """Remove a container left by an earlier bench run (--keep), recognised by our label."""
        proc = run(["docker", "inspect", "-f", '{{ index .Config.Labels "keel.bench" }}', name], timeout=60)
        if proc.returncode != 0:
            return
        if proc.stdout.strip() != CONTAINER_LABEL.split("=", 1)[1]:
            raise BenchError(f"a container named {name} exists and was not made by this bench; not touching it")
        run(["docker", "rm", "-f", name], timeout=120)

    def remove(self, name: str) -> None:
        """Remove one container this bench started (no-op with --keep)."""
        if self.keep or name not in self.started:
            return
        run(["docker", "rm", "-f", name], timeout=120)
        self.started.remove(name)

    def close(self) -> None:
        """Remove every container this bench started and still owns."""
        for name in list(self.started):
            self.remove(name)


def container_exec(name: str, command: list[str], timeout: float = 900) -> subprocess.CompletedProcess:
    """Run a command inside a container, non-interactively."""
    return run(["docker", "exec", "-e", "DEBIAN_FRONTEND=noninteractive", name, *command], timeout=timeout)


def container_ip(name: str) -> str:
    """The container's address on Docker's bridge network."""
    fmt = "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}"
    addresses = run(["docker", "inspect", "-f", fmt, name], timeout=60).stdout.split()
    if not addresses:
        raise BenchError(f"{name} has no IP address")
    return addresses[0]


def prepare(name: str) -> None:
    """Install the audit tools and sshd the same way for every role (not timed)."""
    steps = [
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "lynis", "openssh-server"],
        ["systemctl", "enable", "--now", "ssh"],
    ]
    for step in steps:
        proc = container_exec(name, step)
        if proc.returncode != 0:
            raise BenchError(f"prepare step {' '.join(step)} failed in {name}: {tail(proc.stdout + proc.stderr)}")


# --- audits ------------------------------------------------------------------


def run_lynis(name: str, label: str) -> Lynis:
    """Run a quick Lynis audit and read the hardening index from its report."""
    proc = container_exec(name, ["lynis", "audit", "system", "--quick", "--no-colors"], timeout=1200)
    (OUT / f"{label}-lynis.log").write_text(proc.stdout + proc.stderr)
    report = container_exec(name, ["cat", LYNIS_REPORT], timeout=60)
    if report.returncode != 0:
        return Lynis(error=f"lynis exited {proc.returncode} and left no report: {tail(proc.stderr)}")
    (OUT / f"{label}-lynis-report.dat").write_text(report.stdout)
    return parse_lynis_report(report.stdout)


def parse_lynis_report(report: str) -> Lynis:
    """Hardening index and finding counts from lynis-report.dat."""
    match = re.search(r"^hardening_index=(\d+)", report, re.MULTILINE)
    return Lynis(
        index=int(match.group(1)) if match else None,
        warnings=len(re.findall(r"^warning\[\]=", report, re.MULTILINE)),
        suggestions=len(re.findall(r"^suggestion\[\]=", report, re.MULTILINE)),
        error=None if match else "no hardening_index in the report",
    )


def lynis_findings(report: str) -> list[str]:
    """Readable `KIND  TEST-ID  text (details)` lines for every warning and suggestion."""
    lines = []
    for kind, body in re.findall(r"^(warning|suggestion)\[\]=(.*)$", report, re.MULTILINE):
        test_id, text, details, *_rest = [*body.split("|"), "", "", ""]
        extra = f" ({details})" if details and details != "-" else ""
        lines.append(f"{kind:<10}  {test_id:<10}  {text}{extra}")
    return sorted(lines, key=lambda line: not line.startswith("warning"))


def run_ssh_audit(name: str, label: str) -> SshAudit:
    """Audit the container's sshd from the host with ssh-audit and count [fail]/[warn] lines."""
    if importlib.util.find_spec("ssh_audit") is None:
        return SshAudit(error=f"ssh-audit is not installed for {sys.executable}")
    proc = run([sys.executable, "-m", "ssh_audit", "--no-colors", "--timeout", "10", container_ip(name)], timeout=300)
    (OUT / f"{label}-ssh-audit.log").write_text(proc.stdout + proc.stderr)
    lines = proc.stdout.splitlines()
    return SshAudit(
        rc=proc.returncode,
        meaning=SSH_AUDIT_CODES.get(proc.returncode, "unknown error"),
        fail=sum("[fail]" in line for line in lines),
        warn=sum("[warn]" in line for line in lines),
        error=tail(proc.stdout + proc.stderr, 2) if proc.returncode not in (0, 2, 3) else None,
    )


def audit(name: str, label: str) -> Audit:
    """Lynis then ssh-audit, each logged under build/bench/hardening/."""
    log(f"{label}: lynis audit")
    lynis = run_lynis(name, label)
    log(f"{label}: ssh-audit")
    return Audit(lynis=lynis, ssh=run_ssh_audit(name, label))


# --- converge ------------------------------------------------------------------


def ansible_env(peer: Peer | None) -> dict[str, str]:
    """Identical Ansible settings for both roles; only the collection path differs."""
    paths = [str(ROOT / ".collections")]
    if peer and peer.collections_root:
        paths.append(str(peer.collections_root))
    env = dict(os.environ)
    env.setdefault("ANSIBLE_HOME", str(ROOT / ".cache" / "ansible"))
    env.update(
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=os.pathsep.join(paths),
        ANSIBLE_PIPELINING="true",
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="false",
    )
    return env


def write_play(role: str, container: str) -> tuple[Path, Path]:
    """Write the playbook and a one-host inventory for this role under build/bench/hardening/."""
    workdir = OUT / role
    workdir.mkdir(parents=True, exist_ok=True)
    playbook = workdir / "playbook.yml"
    playbook.write_text(KEEL_PLAYBOOK if role == "keel" else DEVSEC_PLAYBOOK)
    inventory = workdir / "inventory.ini"
    inventory.write_text(f"{container} ansible_connection=community.docker.docker\n")
    return playbook, inventory


def converge(role: str, container: str, run_no: int, env: dict[str, str]) -> Converge:
    """Run the role's playbook once, timing the whole ansible-playbook process."""
    playbook, inventory = write_play(role, container)
    cmd = [str(ansible_playbook()), "-i", str(inventory), str(playbook)]
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=3600, check=False)
    except subprocess.TimeoutExpired:
        return Converge(seconds=round(time.monotonic() - start, 1), rc=-1, status="timeout")
    seconds = round(time.monotonic() - start, 1)
    (OUT / f"{role}-converge-{run_no}.json").write_text(proc.stdout)
    (OUT / f"{role}-converge-{run_no}.stderr").write_text(proc.stderr)
    return parse_converge(proc.stdout, proc.stderr, proc.returncode, seconds, container)


def ansible_playbook() -> Path:
    """ansible-playbook next to the running interpreter (the project venv)."""
    candidate = BIN / "ansible-playbook"
    if candidate.exists():
        return candidate
    found = shutil.which("ansible-playbook")
    if not found:
        raise BenchError("ansible-playbook not found; run `make venv`")
    return Path(found)


def load_callback_json(stdout: str) -> dict | None:
    """The JSON document the ansible.posix.json callback prints, ignoring any text before it."""
    start = stdout.find("{")
    if start < 0:
        return None
    try:
        return json.JSONDecoder().raw_decode(stdout[start:])[0]
    except json.JSONDecodeError:
        return None


def parse_converge(stdout: str, stderr: str, rc: int, seconds: float, host: str) -> Converge:
    """Counts from the play recap, plus the task that made the run fail."""
    result = Converge(seconds=seconds, rc=rc)
    data = load_callback_json(stdout)
    if data is None or host not in data.get("stats", {}):
        result.status = "error"
        result.message = f"ansible-playbook exited {rc} without a recap: {tail(stderr or stdout)}"
        return result
    stats = data["stats"][host]
    for key in ("ok", "changed", "skipped", "rescued", "ignored", "unreachable"):
        setattr(result, key, stats.get(key, 0))
    result.failed = stats.get("failures", 0)
    result.slowest_tasks = slowest_tasks(data, host)
    if result.failed or result.unreachable or rc != 0:
        result.status = "unreachable" if result.unreachable else "failed"
        result.failed_task, result.message = last_failure(data, host)
    return result


def last_failure(data: dict, host: str) -> tuple[str | None, str | None]:
    """Name and message of the last failed task: the one that stopped the host (ignored failures come earlier)."""
    found: tuple[str | None, str | None] = (None, None)
    for play in data.get("plays", []):
        for task in play.get("tasks", []):
            res = task.get("hosts", {}).get(host, {})
            if res.get("failed") or res.get("unreachable"):
                message = str(res.get("msg") or res.get("stderr") or res.get("reason") or "")
                found = (task["task"]["name"], " ".join(message.split())[:300] or None)
    return found


def slowest_tasks(data: dict, host: str, count: int = 5) -> list[dict[str, object]]:
    """The tasks that took longest on the host, from the callback's start/end stamps."""
    timed = []
    for play in data.get("plays", []):
        for task in play.get("tasks", []):
            duration = task["task"].get("duration", {})
            if host in task.get("hosts", {}) and "end" in duration:
                elapsed = _stamp(duration["end"]) - _stamp(duration["start"])
                timed.append({"task": task["task"]["name"], "seconds": round(elapsed, 1)})
    return sorted(timed, key=lambda item: -float(item["seconds"]))[:count]


def _stamp(value: str) -> float:
    """Seconds since the epoch of the callback's UTC time stamps (`...T12:00:00.123Z`)."""
    return datetime.fromisoformat(value.rstrip("Z")).replace(tzinfo=UTC).timestamp()


# --- dev-sec's collection -----------------------------------------------------------


def resolve_peer() -> Peer:
    """dev-sec's collection from KEEL_BENCH_DEVSEC, else exported from the local git mirror."""
    configured = os.environ.get("KEEL_BENCH_DEVSEC")
    if configured:
        return peer_from_directory(Path(configured))
    mirror = Path(os.environ.get("KEEL_BENCH_DEVSEC_GIT", DEVSEC_GIT_DEFAULT))
    if (mirror / "HEAD").is_file():
        return peer_from_mirror(mirror)
    return Peer(
        None,
        source="none",
        reason=(
            f"no dev-sec collection: KEEL_BENCH_DEVSEC is unset and there is no git mirror at {mirror} "
            "(set KEEL_BENCH_DEVSEC to an ansible_collections/devsec/hardening directory)"
        ),
    )


def peer_from_directory(path: Path) -> Peer:
    """Use an existing ansible_collections/devsec/hardening directory as is."""
    path = path.resolve()
    if path.parts[-3:] != ("ansible_collections", "devsec", "hardening") or not (path / "roles/os_hardening").is_dir():
        return Peer(
            None,
            source=str(path),
            reason=f"KEEL_BENCH_DEVSEC={path} is not an ansible_collections/devsec/hardening directory",
        )
    return Peer(path.parents[2], source=str(path), version=collection_version(path))


def peer_from_mirror(mirror: Path) -> Peer:
    """Export HEAD of the git mirror into build/bench/devsec (never into the repository)."""
    target = DEVSEC_EXPORT / "ansible_collections" / "devsec" / "hardening"
    shutil.rmtree(DEVSEC_EXPORT, ignore_errors=True)
    target.mkdir(parents=True)
    archive = subprocess.run(["git", f"--git-dir={mirror}", "archive", "HEAD"], capture_output=True, check=False)
    commit = run(["git", f"--git-dir={mirror}", "rev-parse", "HEAD"], timeout=60).stdout.strip()
    if archive.returncode != 0:
        return Peer(None, source=str(mirror), reason=f"git archive failed: {tail(archive.stderr.decode())}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return Peer(DEVSEC_EXPORT, source=f"git mirror {mirror}", version=collection_version(target), commit=commit)


def collection_version(path: Path) -> str | None:
    """Version from galaxy.yml (source tree) or MANIFEST.json (installed collection)."""
    if (path / "MANIFEST.json").is_file():
        return json.loads((path / "MANIFEST.json").read_text())["collection_info"]["version"]
    if (path / "galaxy.yml").is_file():
        match = re.search(r"^version:\s*['\"]?([^'\"\s]+)", (path / "galaxy.yml").read_text(), re.MULTILINE)
        return match.group(1) if match else None
    return None


# --- one role ----------------------------------------------------------------


def bench_role(role: str, testbed: Testbed, release: str, peer: Peer | None) -> RoleResult:
    """Fresh container, audit, converge twice, audit again; the container is removed afterwards."""
    container = f"keel-bench-{role}-deb{release}"
    result = RoleResult(role=role, container=container)
    try:
        log(f"{role}: starting {container} from {testbed.image}")
        testbed.start(container)
        log(f"{role}: installing lynis and openssh-server")
        prepare(container)
        result.before = audit(container, f"{role}-before")
        env = ansible_env(peer)
        for run_no in (1, 2):
            log(f"{role}: converge {run_no}")
            outcome = converge(role, container, run_no, env)
            setattr(result, "first" if run_no == 1 else "second", outcome)
            log(f"{role}: converge {run_no} {outcome.status} in {outcome.seconds}s")
        result.after = audit(container, f"{role}-after")
        save_findings(role)
    except BenchError as exc:
        result.error = str(exc)
        log(f"{role}: {exc}")
    finally:
        testbed.remove(container)
    return result


def save_findings(role: str) -> None:
    """Lynis warnings and suggestions left after hardening, one per line."""
    report = OUT / f"{role}-after-lynis-report.dat"
    if report.is_file():
        findings = lynis_findings(report.read_text())
        (OUT / f"{role}-lynis-findings.txt").write_text("\n".join(findings) + "\n")


# --- report ------------------------------------------------------------------


def fmt_lynis(audit_: Audit | None) -> str:
    """Lynis hardening index, or why there is none."""
    if audit_ is None:
        return "-"
    return str(audit_.lynis.index) if audit_.lynis.index is not None else "error"


def fmt_findings(audit_: Audit | None) -> str:
    """Counts of Lynis warnings and suggestions."""
    if audit_ is None or audit_.lynis.index is None:
        return "-"
    return f"{audit_.lynis.warnings} warn {audit_.lynis.suggestions} sugg"


def fmt_ssh(audit_: Audit | None) -> str:
    """ssh-audit [fail]/[warn] line counts, or the tool's error."""
    if audit_ is None:
        return "-"
    if audit_.ssh.error:
        return audit_.ssh.meaning or "error"
    return f"{audit_.ssh.fail} fail {audit_.ssh.warn} warn"


def fmt_seconds(conv: Converge | None) -> str:
    """Wall clock seconds of a converge."""
    return "-" if conv is None else f"{conv.seconds:.1f}"


def fmt_counts(conv: Converge | None) -> str:
    """ok/changed/failed task counts of a converge."""
    return "-" if conv is None else f"{conv.ok}/{conv.changed}/{conv.failed}"


def fmt_changed(conv: Converge | None) -> str:
    """Changed task count of a converge."""
    return "-" if conv is None else str(conv.changed)


def fmt_status(conv: Converge | None) -> str:
    """ok, or the kind of failure with a pointer to the notes."""
    if conv is None:
        return "-"
    return conv.status if conv.status == "ok" else f"{conv.status} [see below]"


def converge_seconds(results: dict[str, RoleResult | None], role: str, attr: str) -> float | None:
    """Wall clock seconds of a role's first or second converge, if it ran."""
    res = results.get(role)
    conv = getattr(res, attr) if res else None
    return conv.seconds if conv else None


def ratio(keel: float | None, devsec: float | None) -> str:
    """devsec/keel as `2.0x`, empty when either side is missing."""
    if not keel or devsec is None:
        return ""
    return f"{devsec / keel:.1f}x"


# Table rows: label, how to format a role's result, which converge the ratio column compares.
ROWS: list[tuple[str, Callable[[RoleResult], str], str | None]] = [
    ("lynis before", lambda r: fmt_lynis(r.before), None),
    ("lynis after", lambda r: fmt_lynis(r.after), None),
    ("lynis findings after", lambda r: fmt_findings(r.after), None),
    ("ssh-audit before", lambda r: fmt_ssh(r.before), None),
    ("ssh-audit after", lambda r: fmt_ssh(r.after), None),
    ("first converge (s)", lambda r: fmt_seconds(r.first), "first"),
    ("second converge (s)", lambda r: fmt_seconds(r.second), "second"),
    ("first run ok/chg/fail", lambda r: fmt_counts(r.first), None),
    ("second run changed", lambda r: fmt_changed(r.second), None),
    ("first run status", lambda r: fmt_status(r.first), None),
    ("second run status", lambda r: fmt_status(r.second), None),
]


def rows(results: dict[str, RoleResult | None]) -> list[tuple[str, str, str, str]]:
    """Table rows: label, keel, devsec, and the devsec/keel ratio for timings."""
    table = []
    for label, fmt, compared in ROWS:
        cells = [fmt(res) if res else "not measured" for res in (results.get(role) for role in ROLES)]
        shown = ratio(*(converge_seconds(results, role, compared) for role in ROLES)) if compared else ""
        table.append((label, cells[0], cells[1], shown))
    return table


def render(results: dict[str, RoleResult | None], peer: Peer | None, release: str) -> str:
    """The compact table plus notes on failures and anything not measured."""
    header = ("", "keel", "devsec", "ratio (devsec/keel)")
    table = [header, *rows(results)]
    widths = [max(len(row[i]) for row in table) + 2 for i in range(3)]
    lines = [f"hardening bench on keel/debian:{release}"]
    lines += ["".join(row[i].ljust(widths[i]) for i in range(3)) + row[3] for row in table]
    lines += notes(results, peer)
    return "\n".join(line.rstrip() for line in lines)


def notes(results: dict[str, RoleResult | None], peer: Peer | None) -> list[str]:
    """Explanations below the table: failed runs, bench errors, the peer's origin."""
    out = [""]
    for role, res in results.items():
        if res is None:
            continue
        if res.error:
            out.append(f"{role}: measurement incomplete: {res.error}")
        for name, conv in (("first", res.first), ("second", res.second)):
            if conv and conv.status != "ok":
                task = f" at task '{conv.failed_task}'" if conv.failed_task else ""
                out.append(f"{role} {name} run {conv.status}{task}: {conv.message or f'rc {conv.rc}'}")
    if peer and peer.collections_root:
        commit = f" @ {peer.commit[:12]}" if peer.commit else ""
        out.append(f"devsec.hardening {peer.version or '?'} from {peer.source}{commit}")
    elif peer:
        out.append(f"PEER NOT MEASURED: {peer.reason}")
    if results.get("devsec") is None and peer is None:
        out.append("devsec not measured (--only keel)")
    out.append(f"logs and results.json: {OUT.relative_to(ROOT)}/")
    return out


def to_json(results: dict[str, RoleResult | None], peer: Peer | None, meta: dict[str, object]) -> dict[str, object]:
    """Machine-readable results, same figures as the table."""
    peer_info = None
    if peer:
        peer_info = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(peer).items()}
        peer_info["measured"] = results.get("devsec") is not None
    roles = {role: asdict(res) if res else None for role, res in results.items()}
    ratios = {}
    for attr in ("first", "second"):
        keel_s, devsec_s = converge_seconds(results, "keel", attr), converge_seconds(results, "devsec", attr)
        if keel_s and devsec_s is not None:
            ratios[f"{attr}_converge_devsec_over_keel"] = round(devsec_s / keel_s, 2)
    return {**meta, "peer": peer_info, "roles": roles, "ratios": ratios}


# --- main --------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command line: --release, --only, --keep."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", choices=["12", "13"], default="12", help="Debian release of the test image")
    parser.add_argument("--only", choices=ROLES, help="measure one role only")
    parser.add_argument("--keep", action="store_true", help="keep the containers for debugging")
    return parser.parse_args(argv)


def check_prerequisites(image: str) -> None:
    """Fail early, before any container exists, if the test bed is not ready."""
    if run(["docker", "info"], timeout=60).returncode != 0:
        raise BenchError("Docker is not running; run scripts/testbed.sh all")
    if run(["docker", "image", "inspect", image], timeout=60).returncode != 0:
        raise BenchError(f"image {image} is missing; run scripts/testbed.sh all (this bench never pulls)")
    if not (ROOT / ".collections" / "ansible_collections" / "keel" / "platform").exists():
        raise BenchError(".collections/ansible_collections/keel/platform is missing; run `make venv`")


def environment_meta(release: str, image: str) -> dict[str, object]:
    """What the figures were taken with: image, Ansible version, CPU count."""
    version = run([str(ansible_playbook()), "--version"], timeout=120).stdout.splitlines()
    image_id = run(["docker", "image", "inspect", "-f", "{{.Id}}", image], timeout=60).stdout.strip()
    return {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "release": release,
        "image": image,
        "image_id": image_id,
        "ansible": version[0] if version else None,
        "cpus": os.cpu_count(),
        # Other work on the machine (e.g. Molecule) slows both roles; timings are comparable within a run only.
        "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
    }


def on_sigterm(_signum: int, _frame: object) -> None:
    """Turn SIGTERM into KeyboardInterrupt so the finally blocks remove the containers."""
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    """Measure the requested roles one after the other; 0 unless a measurement could not be taken."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, on_sigterm)
    image = f"keel/debian:{args.release}"
    shutil.rmtree(OUT, ignore_errors=True)  # no logs of an earlier run mixed with this one's
    OUT.mkdir(parents=True)
    started = time.monotonic()
    try:
        check_prerequisites(image)
    except BenchError as exc:
        log(str(exc))
        return 1
    roles = [args.only] if args.only else list(ROLES)
    peer = resolve_peer() if "devsec" in roles else None
    meta = environment_meta(args.release, image)
    results: dict[str, RoleResult | None] = dict.fromkeys(ROLES)
    testbed = Testbed(image, keep=args.keep)
    try:
        for role in roles:
            if role == "devsec" and not (peer and peer.collections_root):
                log(f"devsec: not measured: {peer.reason if peer else 'no peer'}")
                continue
            results[role] = bench_role(role, testbed, args.release, peer)
    except KeyboardInterrupt:
        log("interrupted; removing containers")
        return 130
    finally:
        testbed.close()
    meta["seconds"] = round(time.monotonic() - started, 1)
    (OUT / "results.json").write_text(json.dumps(to_json(results, peer, meta), indent=2) + "\n")
    print(render(results, peer, args.release))
    print(f"bench took {meta['seconds']:.0f}s")
    return 1 if any(res and res.error for res in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
