# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""bench/inventory: keel.platform.aws_fleet against amazon.aws.aws_ec2 on the same moto estate.

Seeds moto_server (on 127.0.0.1) with the shared estate, puts the loopback proxy in front of it
(it counts API calls and can add latency), then times `ansible-inventory --list` with both
plugins, cold and warm, with equivalent configurations (same regions, host names and four keyed
groups), plus the floor the server sets: a bare concurrent boto3 fetch of the same instances.
Prints a table and writes build/bench/inventory/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fixtures.aws_estate import seed  # noqa: E402
from tests.fixtures.aws_proxy import AwsProxy  # noqa: E402
from tests.fixtures.moto_server import MotoServer  # noqa: E402

REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1", "eu-west-1", "eu-west-2",
    "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1",
    "ap-southeast-2",
]  # fmt: skip
FAR = ("ap-", "sa-")
PLUGINS = ["aws_ec2", "aws_fleet", "aws_fleet full"]
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
KEYED_GROUPS = [
    {"key": "tags.team", "prefix": "team"},
    {"key": "tags.service", "prefix": "service"},
    {"key": "tags.env", "prefix": "env"},
    {"key": "placement.region", "prefix": "region"},
]
FLOOR = """
import json, sys, boto3
from concurrent.futures import ThreadPoolExecutor
endpoint, regions, workers = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
states = ["running", "pending", "stopping", "stopped"]
clients = [boto3.client("ec2", region_name=r, endpoint_url=endpoint) for r in regions]
def fetch(ec2):
    pages = ec2.get_paginator("describe_instances").paginate(
        Filters=[{"Name": "instance-state-name", "Values": states}], PaginationConfig={"PageSize": 1000})
    return sum(len(r["Instances"]) for p in pages for r in p["Reservations"])
with ThreadPoolExecutor(workers) as pool:
    print(json.dumps({"hosts": sum(pool.map(fetch, clients))}))
"""


def configs(regions, endpoint, cache_dir):
    shared = {
        "regions": regions,
        "hostnames": ["private-ip-address"],
        "keyed_groups": KEYED_GROUPS,
        "compose": {"ansible_host": "private_ip_address"},
        "endpoint_url": endpoint,
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
    }
    fleet = {**shared, "plugin": "keel.platform.aws_fleet", "default_groups": False, "host_group": "aws_ec2"}
    return {
        "aws_ec2": (
            {**shared, "plugin": "amazon.aws.aws_ec2", "cache_connection": str(cache_dir / "aws_ec2")},
            "aws_ec2",
        ),
        "aws_fleet": ({**fleet, "cache_connection": str(cache_dir / "fleet")}, "aws_fleet"),
        "aws_fleet full": ({**fleet, "hostvars": "full", "cache_connection": str(cache_dir / "full")}, "aws_fleet"),
    }


def add_latency(rules, latency, regions):
    """Every call waits `latency`; calls to far regions (Asia Pacific, South America) twice that."""
    rules.latency = latency
    rules.region_latency = {region: latency for region in regions if region.startswith(FAR)} if latency else {}


# Forks and runs the command, then writes its own usage. A child started by this (large) process
# would report at least this process's resident size as its peak: exec keeps the high-water mark.
LAUNCHER = """
import json, os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_pid, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({"wall": time.perf_counter() - start, "cpu": usage.ru_utime + usage.ru_stime,
               "rss": usage.ru_maxrss / 1024}, out)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def timed(command, env, stdout_path):
    """(wall s, CPU s, peak RSS MiB, return code) of a command, from wait4: the command's own usage.

    CPU time (user + system) is printed next to wall time: other work on the machine stretches
    wall times, far less the CPU a run needs.
    """
    stderr_path = stdout_path.with_suffix(".stderr")
    usage_path = stdout_path.with_suffix(".usage")
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        launched = [sys.executable, "-c", LAUNCHER, str(usage_path), *command]
        code = subprocess.run(launched, stdout=out, stderr=err, env=env, cwd=ROOT, check=False).returncode
    if code != 0:
        sys.stderr.write(stderr_path.read_text(errors="replace")[-3000:])
    usage = json.loads(usage_path.read_text())
    return usage["wall"], usage["cpu"], usage["rss"], code


def counts(path):
    """Hosts and groups of an ansible-inventory --list output."""
    data = json.loads(Path(path).read_text())
    groups = [name for name in data if name != "_meta"]
    return len(data["_meta"]["hostvars"]), len(groups)


def floor_counts(path):
    return json.loads(Path(path).read_text())["hosts"], None


def measure(command, env, out, proxy, count, labels, inside=None):
    """Run one command and return (and print) its row; less the time `inside()` reports, if given."""
    wall, cpu, rss, code = timed(command, env, out)
    hosts, groups = count(out) if code == 0 else (0, None)
    spent = inside() if inside is not None and code == 0 else {}
    row = {
        **labels,
        "wall_s": round(wall - spent.get("source_wall_s", 0), 2),
        "cpu_s": round(cpu - spent.get("source_cpu_s", 0), 2),
        **({"source_cpu_s": spent["source_cpu_s"]} if spent else {}),
        "peak_rss_mib": round(rss, 1),
        "hosts": hosts,
        "groups": groups,
        "api_calls": proxy.rules.total(),
        "ok": code == 0,
    }
    print(_row(row), flush=True)
    return row


def core_floor(path, env, workdir, proxy, labels):
    """ansible-core's own share of a warm run: the run less the time inside the inventory source.

    The same warm run through core_floor.py, which times the sources from inside the process.
    """
    result = workdir / "core_floor.json"
    command = [sys.executable, str(Path(__file__).with_name("core_floor.py")), str(result), "-i", str(path), "--list"]
    proxy.rules.reset()
    labels = {**labels, "run": "floor"}

    def inside():
        return json.loads(result.read_text())

    return measure(command, env, workdir / "floor_out.json", proxy, counts, labels, inside)


def static_json(workdir, env, proxy, phase):
    """ansible-inventory over a static inventory: a script printing aws_fleet's warm output (the last out.json)."""
    inventory = workdir / "static.json"
    shutil.copyfile(workdir / "out.json", inventory)
    script = workdir / "static_inventory.sh"
    script.write_text(f"#!/bin/sh\nexec cat '{inventory}'\n")
    script.chmod(0o755)
    command = [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(script), "--list"]
    labels = {"phase": phase, "plugin": "static JSON", "run": "-"}
    return measure(command, env, workdir / "static_out.json", proxy, counts, labels)


def run(args, workdir):
    env = {
        **os.environ,
        **CREDENTIALS,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_HOME": str(workdir / "home"),
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        "ANSIBLE_NOCOLOR": "1",
    }
    os.environ.update(CREDENTIALS)
    regions = REGIONS[: args.regions]
    bin_dir = Path(sys.executable).parent
    rows = []
    with MotoServer(workdir / "moto.log") as moto:
        started = time.perf_counter()
        truth = seed(moto.url, args.size, regions, extras=False)
        seeded = time.perf_counter() - started
        print(f"seeded {len(truth['instances'])} instances ({truth['live']} not terminated) in {len(regions)} regions "
              f"in {seeded:.0f} s", flush=True)  # fmt: skip
        with AwsProxy(moto.port) as proxy:
            phases = [("moto", 0.0)]
            if args.latency:
                phases.append((f"+{args.latency:g}s/call", args.latency))
            for phase, latency in phases:
                for name, (config, suffix) in configs(regions, proxy.url, workdir / phase.replace("/", "_")).items():
                    if name not in args.plugins or (latency and name == "aws_fleet full"):
                        continue
                    path = workdir / f"{name.replace(' ', '_')}.{suffix}.yml"
                    path.write_text(yaml.safe_dump(config))
                    for temperature in ("cold", "warm"):
                        proxy.rules.reset()
                        add_latency(proxy.rules, latency, regions)
                        out = workdir / "out.json"
                        command = [str(bin_dir / "ansible-inventory"), "-i", str(path), "--list"]
                        labels = {"phase": phase, "plugin": name, "run": temperature}
                        rows.append(measure(command, env, out, proxy, counts, labels))
                    if name.startswith("aws_fleet") and not latency:
                        rows.append(core_floor(path, env, workdir, proxy, {"phase": phase, "plugin": name}))
                    if name == "aws_fleet" and not latency:
                        rows.append(static_json(workdir, env, proxy, phase))
                proxy.rules.reset()
                add_latency(proxy.rules, latency, regions)
                out = workdir / "floor.json"
                command = [sys.executable, "-c", FLOOR, proxy.url, ",".join(regions), str(args.workers)]
                labels = {"phase": phase, "plugin": "boto3 floor", "run": "cold"}
                rows.append(measure(command, env, out, proxy, floor_counts, labels))
    return {"size": args.size, "regions": regions, "live_instances": truth["live"], "seed_s": round(seeded, 1),
            "rows": rows, "ratios": ratios(rows)}  # fmt: skip


def _row_of(rows, phase, plugin, run):
    return next((r for r in rows if (r["phase"], r["plugin"], r["run"]) == (phase, plugin, run)), None)


def ratios(rows):
    """Per phase and plugin: speed-ups against aws_ec2, cold against the floor, memory and counts."""
    result = {}
    for phase in dict.fromkeys(r["phase"] for r in rows):
        ec2 = {run: _row_of(rows, phase, "aws_ec2", run) for run in ("cold", "warm")}
        floor = _row_of(rows, phase, "boto3 floor", "cold")
        for plugin in ("aws_fleet", "aws_fleet full"):
            ours = {run: _row_of(rows, phase, plugin, run) for run in ("cold", "warm")}
            if None in (*ours.values(), *ec2.values(), floor):
                continue
            core = _row_of(rows, phase, plugin, "floor")
            if core is not None:
                result[f"{phase}: {plugin} ansible-core floor"] = {
                    "warm_cpu_over_floor_cpu": round(ours["warm"]["cpu_s"] / core["cpu_s"], 2),
                    "aws_ec2_warm_over_floor": round(ec2["warm"]["wall_s"] / core["wall_s"], 2),
                    "aws_ec2_warm_over_floor_cpu": round(ec2["warm"]["cpu_s"] / core["cpu_s"], 2),
                }
            result[f"{phase}: {plugin}"] = {
                "aws_ec2_cold_over_cold": round(ec2["cold"]["wall_s"] / ours["cold"]["wall_s"], 2),
                "aws_ec2_warm_over_warm": round(ec2["warm"]["wall_s"] / ours["warm"]["wall_s"], 2),
                "aws_ec2_warm_over_warm_cpu": round(ec2["warm"]["cpu_s"] / ours["warm"]["cpu_s"], 2),
                "cold_over_floor": round(ours["cold"]["wall_s"] / floor["wall_s"], 2),
                "peak_rss_over_aws_ec2": round(
                    max(r["peak_rss_mib"] for r in ours.values()) / max(r["peak_rss_mib"] for r in ec2.values()), 2
                ),
                "hosts_and_groups_match": all(
                    (ours[run]["hosts"], ours[run]["groups"]) == (ec2[run]["hosts"], ec2[run]["groups"]) for run in ours
                ),
                "api_calls": [ours["cold"]["api_calls"], ours["warm"]["api_calls"]],
            }
        if ec2["cold"] is not None and floor is not None:
            result[f"{phase}: aws_ec2 cold over floor"] = round(ec2["cold"]["wall_s"] / floor["wall_s"], 2)
    return result


def _row(row):
    groups = "" if row["groups"] is None else row["groups"]
    failed = "" if row["ok"] else "  FAILED"
    return (
        f"{row['phase']:<12} {row['plugin']:<15} {row['run']:<5} {row['wall_s']:>8.2f} s {row['cpu_s']:>7.2f} s CPU "
        f"{row['peak_rss_mib']:>8.1f} MiB {row['hosts']:>6} hosts {groups!s:>5} groups "
        f"{row['api_calls']:>5} calls{failed}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5000, help="instances seeded (terminated included)")
    parser.add_argument("--regions", type=int, default=16, help="how many regions (at most 16)")
    parser.add_argument(
        "--latency",
        type=float,
        default=0.5,
        help="seconds added to every call, twice to far regions, in a second phase (0: none)",
    )
    parser.add_argument(
        "--workers", type=int, default=8, help="threads of the boto3 floor (aws_fleet's max_workers default)"
    )
    parser.add_argument("--plugins", nargs="+", default=PLUGINS, choices=PLUGINS, help="which inventories to time")
    parser.add_argument("--output", type=Path, default=ROOT / "build/bench/inventory/results.json")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (configs, caches, moto log)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="keel-bench-inventory-"))
    try:
        results = run(args, workdir)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(results["ratios"], indent=1))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
