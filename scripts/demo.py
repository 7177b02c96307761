"""The demo: Keel's whole story on one machine, with no cloud account.

moto plays AWS on 127.0.0.1, a few Debian containers play the EC2 instances it
reports (each "instance" is tagged with its container's name), and the
collection does its job: discover the fleet with the aws_fleet inventory,
converge playbooks/site.yml, roll fleet_update.yml over it, find the drift a
hand edit leaves, enforce the cost policy and report the costs, with a
Prometheus scraping every agent. Run it with `make demo`.

    KEEL_DEMO_KEEP=1   leave the containers (and Prometheus on 127.0.0.1:9090) running
"""

from __future__ import annotations

import concurrent.futures
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import ara_record  # noqa: E402

from tests.fixtures.ansible_module import CREDENTIALS  # noqa: E402
from tests.fixtures.aws_estate import seed_cost, seed_cost_explorer, seed_hosts, write_amis_file  # noqa: E402
from tests.fixtures.moto_server import MotoServer  # noqa: E402

NETWORK = "keel-demo"
REGION = "us-east-1"
PROMETHEUS = "keel-demo-prometheus"
PROMETHEUS_PORT = int(os.environ.get("KEEL_DEMO_PROMETHEUS_PORT", "9090"))
OUT = ROOT / "build" / "demo"
# The hand edit the drift report must name: a banner the hardening role manages.
DRIFT_HOST = "keel-demo-web2"
DRIFT_FILE = "/etc/issue.net"
INVENTORY = ROOT / "inventories" / "local"
BIN = Path(sys.executable).parent
# Container name -> (image, tags of its EC2 instance). Imperfect tags on purpose:
# web2 has a mis-cased team and no cost-center, which the cost policy catches.
FLEET = {
    "keel-demo-web1": (
        "keel/debian:12",
        {"team": "payments", "service": "checkout", "env": "prod", "cost-center": "cc-100", "role": "web"},
    ),
    "keel-demo-web2": ("keel/debian:13", {"team": "Payments", "service": "checkout", "env": "prod", "role": "web"}),
    "keel-demo-docker1": (
        "keel/debian:13",
        {"team": "platform", "service": "builds", "env": "prod", "cost-center": "cc-200", "role": "docker-host"},
    ),
}
# Docker inside a container needs every capability this machine grants
# (docs/testing.md) and a volume for /var/lib/docker.
DOCKER_HOST_FLAGS = [
    "--cap-add=ALL",
    "--cap-drop=SYS_RESOURCE",
    "--security-opt=seccomp=unconfined",
    "--security-opt=apparmor=unconfined",
    "--volume=/var/lib/docker",
]
# Cost Explorer's answer for the report: three months, by team, with an untagged share.
MONTHLY_COSTS = {
    "team$payments": [412.0, 436.5, 471.2],
    "team$platform": [198.0, 205.4, 231.9],
    "team$": [96.3, 88.1, 120.6],
}

STARTED = time.monotonic()


def say(message):
    print(f"\n== [{time.monotonic() - STARTED:5.0f}s] {message}", flush=True)


def note(message):
    print(f"   {message}", flush=True)


def run(argv, **kwargs):
    return subprocess.run(argv, check=True, text=True, capture_output=True, **kwargs)


def docker(*args, check=True):
    return subprocess.run(["docker", *args], check=check, text=True, capture_output=True)


def ansible_env(endpoint):
    # ARA records every run of the story in its own SQLite database under OUT (shown at the end).
    return ara_record.environment(
        {
            **os.environ,
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "AWS_ENDPOINT_URL": endpoint,
            # Per-host reports of what changed (fleet_update, drift) and each task's duration in the logs.
            "ANSIBLE_CALLBACKS_ENABLED": "keel.platform.change_report,ansible.posix.profile_tasks",
            "KEEL_REPORT_DIR": str(OUT / "reports"),
            "ARA_BASE_DIR": str(OUT / "ara"),
            "PATH": f"{BIN}:{os.environ['PATH']}",
        }
    )


def playbook(name, env, *args, log_name=None, expect_failure=False):
    """Run a playbook, showing plays and the recap as they come; the whole output goes to a log file."""
    log_path = OUT / f"{log_name or name}.log"
    argv = [str(BIN / "ansible-playbook"), "-i", str(INVENTORY), str(ROOT / "playbooks" / f"{name}.yml")]
    argv += ["-e", f"@{OUT / 'demo-vars.json'}", *args]
    started = time.monotonic()
    tasks = 0
    with (
        open(log_path, "w", encoding="utf-8", buffering=1) as log,
        subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT
        ) as process,
    ):
        try:
            in_recap = False
            for line in process.stdout:
                log.write(line)
                if line.startswith("TASK ["):
                    tasks += 1
                    if tasks % 40 == 0:
                        note(f"  ... {tasks} tasks, {time.monotonic() - started:.0f}s")
                elif line.startswith("PLAY ["):
                    note(line.strip(" *\n"))
                elif line.startswith("PLAY RECAP"):
                    in_recap = True
                elif line.startswith(("TASKS RECAP", "KEEL CHANGE REPORT")):
                    in_recap = False
                elif in_recap and line.strip():
                    note("  " + " ".join(line.split()))
                elif line.startswith("fatal:") or line.startswith("failed:"):
                    note("  " + line.strip()[:200])
        except BaseException:
            # Interrupted: stop the playbook too, or it keeps working on containers about to go.
            process.terminate()
            raise
    note(f"{name}.yml: {tasks} tasks in {time.monotonic() - started:.0f}s, rc={process.returncode}; log {log_path}")
    if process.returncode and not expect_failure:
        raise SystemExit(f"demo: {name}.yml failed (rc={process.returncode}); see {log_path}")
    return process.returncode


def start_fleet():
    docker("network", "rm", NETWORK, check=False)
    docker("network", "create", NETWORK)

    def start(name, image, *flags):
        run([str(ROOT / "scripts" / "testbed.sh"), "run", name, image, f"--network={NETWORK}", *flags])
        return name

    jobs = [
        (name, image, *(DOCKER_HOST_FLAGS if tags["role"] == "docker-host" else []))
        for name, (image, tags) in FLEET.items()
    ]
    jobs.append((PROMETHEUS, "keel/debian:13", f"--publish=127.0.0.1:{PROMETHEUS_PORT}:9090"))
    with concurrent.futures.ThreadPoolExecutor(len(jobs)) as pool:
        for name in pool.map(lambda job: start(*job), jobs):
            note(f"{name} is up")


def container_ip(name):
    data = json.loads(docker("inspect", name).stdout)[0]
    return data["NetworkSettings"]["Networks"][NETWORK]["IPAddress"]


def prepare_docker_hosts():
    # dockerd writes per-interface sysctls under /proc/sys/net, read-only in a container by default.
    for name, (_image, tags) in FLEET.items():
        if tags["role"] == "docker-host":
            docker(
                "exec",
                name,
                "sh",
                "-c",
                "mount --bind /proc/sys/net /proc/sys/net && mount -o remount,bind,rw /proc/sys/net",
            )


def install_prometheus():
    """Debian's prometheus in its own container, in the background while the site converges."""
    return subprocess.Popen(
        [
            "docker",
            "exec",
            PROMETHEUS,
            "sh",
            "-c",
            "apt-get update -qq && DEBIAN_FRONTEND=noninteractive"
            " apt-get install -y -qq --no-install-recommends prometheus",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def configure_prometheus(installer):
    errors = installer.communicate()[1]
    if installer.returncode:
        raise SystemExit(f"demo: installing prometheus failed: {errors[-500:]}")
    targets = [{"targets": [f"{container_ip(name)}:9100"], "labels": {"instance": name}} for name in FLEET]
    config = {
        "global": {"scrape_interval": "5s", "evaluation_interval": "5s"},
        "rule_files": ["/etc/prometheus/keel-node.rules.yml"],
        "scrape_configs": [{"job_name": "keel-fleet", "static_configs": targets}],
    }
    rules = ROOT / "roles" / "observability_agent" / "files" / "prometheus" / "keel-node.rules.yml"
    docker("cp", str(rules), f"{PROMETHEUS}:/etc/prometheus/keel-node.rules.yml")
    config_path = OUT / "prometheus.yml"
    config_path.write_text(json.dumps(config, indent=1))
    docker("cp", str(config_path), f"{PROMETHEUS}:/etc/prometheus/prometheus.yml")
    docker("exec", PROMETHEUS, "systemctl", "restart", "prometheus")


def prometheus_query(query, timeout=60, until=bool):
    """{instance: value} of an instant query through Prometheus's HTTP API, polled until `until` holds."""
    url = f"http://127.0.0.1:{PROMETHEUS_PORT}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    deadline = time.monotonic() + timeout
    values = {}
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                result = json.load(answer)["data"]["result"]
            values = {item["metric"].get("instance", ""): item["value"][1] for item in result}
        except OSError:
            values = {}
        if until(values):
            break
        time.sleep(2)
    return values


def every_agent_up(up):
    return len(up) == len(FLEET) and set(up.values()) == {"1"}


def show_report(name):
    for line in (OUT / "reports" / f"{name}.md").read_text().splitlines()[:30]:
        note(line)


def show_cost_tags(result):
    enforcement = result["enforcement"]
    counts = {"fixed": 0, "not_fixable": 0, "exempt": 0}
    for keys in enforcement["summary"]["by_type"].values():
        for figures in keys.values():
            for name in counts:
                counts[name] += figures[name]
    note(
        f"compliance {enforcement['summary']['compliance']} % before, {result['compliance_after']} % after; "
        f"tags fixed {counts['fixed']}, not fixable {counts['not_fixable']}, exempt {counts['exempt']}; "
        f"{len(enforcement['batches'])} tagging calls, {len(enforcement['failures'])} failures"
    )
    unfixable = [item for item in enforcement["untagged"] if not item["fixable"]]
    for item in unfixable[:3]:
        keys = ", ".join(item["keys"])
        note(f"not fixable, needs an owner: {item['type']} {item['id']} ({keys}), ~{item['monthly_cost']} USD/month")


def seed_aws(moto):
    ids = seed_hosts(moto.url, {name: {"keel-demo": "true", **tags} for name, (_image, tags) in FLEET.items()}, REGION)
    seed_cost(moto.url, REGION)
    months = month_starts(3)
    seed_cost_explorer(moto.url, list(itertools.pairwise(months)), MONTHLY_COSTS)
    return ids


def month_starts(months, today=None):
    """The first days of the last `months` full months and of this month, oldest first."""
    today = today or time.gmtime()
    index = today.tm_year * 12 + today.tm_mon - 1
    return [f"{(i // 12):04d}-{(i % 12 + 1):02d}-01" for i in range(index - months, index + 1)]


def cleanup(keep):
    if keep:
        say(
            f"KEEL_DEMO_KEEP=1: containers kept ({', '.join([*FLEET, PROMETHEUS])}); remove them with "
            f"docker rm -f {' '.join([*FLEET, PROMETHEUS])} && docker network rm {NETWORK}"
        )
        return
    for name in [*FLEET, PROMETHEUS]:
        docker("rm", "-f", "-v", name, check=False)
    docker("network", "rm", NETWORK, check=False)


def main():
    # Ctrl-C and `timeout` alike still remove the containers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    keep = os.environ.get("KEEL_DEMO_KEEP") == "1"
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    try:
        demo()
    finally:
        cleanup(keep)
    say(f"Done in {time.monotonic() - STARTED:.0f}s")


def demo():
    say(
        "Starting moto (AWS on 127.0.0.1) and seeding an account: one instance per container, plus volumes, "
        "snapshots, buckets, a database and a load balancer with imperfect tags"
    )
    # moto accepts any credentials; these keep boto3 from looking for real ones.
    os.environ.update(CREDENTIALS, AWS_DEFAULT_REGION=REGION)
    os.environ["MOTO_AMIS_PATH"] = write_amis_file(OUT / "amis.json")
    with MotoServer(OUT / "moto.log") as moto:
        os.environ.pop("MOTO_AMIS_PATH")
        ids = seed_aws(moto)
        for name, instance in ids.items():
            note(f"{instance}  Name={name}")
        env = ansible_env(moto.url)
        run_story(env)


def run_story(env):
    say(f"Starting the local fleet: {', '.join(FLEET)} and {PROMETHEUS}")
    start_fleet()
    prepare_docker_hosts()
    installer = install_prometheus()
    prometheus_ip = container_ip(PROMETHEUS)
    # Only Prometheus may scrape the agents: the hardening firewall opens the port to it alone.
    (OUT / "demo-vars.json").write_text(json.dumps({"keel_scrape_sources": [prometheus_ip]}))

    say("Discovering the fleet with the keel.platform.aws_fleet inventory plugin")
    graph = run([str(BIN / "ansible-inventory"), "-i", str(INVENTORY), "--graph"], env=env, cwd=ROOT).stdout
    for line in graph.splitlines():
        note(line)

    say("Converging playbooks/site.yml: hardening and the observability agent everywhere, Docker on the docker host")
    playbook("site", env)

    say("Prometheus scrapes every agent")
    configure_prometheus(installer)
    for name, value in sorted(prometheus_query('up{job="keel-fleet"}', until=every_agent_up).items()):
        note(f"up{{instance={name!r}}} = {value}")

    say(
        "Rolling update with playbooks/fleet_update.yml: a canary first, then the rest, health-checked before and after"
    )
    playbook("fleet_update", env, "-e", json.dumps({"keel_fleet_update_serial": [1, "100%"]}))
    show_report("fleet_update")

    say(f"Drift: a hand edit of {DRIFT_FILE} on {DRIFT_HOST}, then playbooks/drift.yml in check mode")
    docker("exec", DRIFT_HOST, "sh", "-c", f"echo 'edited by hand during the demo' >> {DRIFT_FILE}")
    playbook("drift", env, "--check", "--diff")
    show_report("drift")
    for name, value in sorted(prometheus_query('sum by (instance) (keel_drift_tasks{job="keel-fleet"})').items()):
        note(f"keel_drift_tasks{{instance={name!r}}} = {value}  (Prometheus)")

    say("Enforcing the cost policy and writing the cost report (playbooks/cost_tags.yml)")
    playbook("cost_tags", env, "-e", "keel_cost_tags_mode=apply", "-e", f"keel_cost_report_dir={OUT / 'cost'}")
    show_cost_tags(json.loads((OUT / "cost" / "cost-tags.json").read_text()))
    for line in (OUT / "cost" / "cost-report.md").read_text().splitlines()[:14]:
        note(line)

    say("Where to look")
    note(f"Prometheus targets: http://127.0.0.1:{PROMETHEUS_PORT}/targets (with KEEL_DEMO_KEEP=1)")
    note(f"Cost report: {OUT / 'cost'} (CSV, Markdown, PNG)")
    note(f"Playbook logs: {OUT}/*.log")
    report = ara_record.generate(OUT / "ara-report", env)
    note(f"ARA's record of every run above: file://{report} (static report of {ara_record.database(env)})")
    note(f"  or ARA's web UI: ARA_BASE_DIR={OUT / 'ara'} {BIN / 'python'} scripts/ara_record.py serve 127.0.0.1:8000")


if __name__ == "__main__":
    main()
