# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""bench/cost_tags: API calls and wall time of a full cost_tags enforcement against the floor.

Seeds moto_server (127.0.0.1) with the shared estate (several thousand resources: instances, their
network interfaces, volumes, snapshots, Elastic IPs, plus the cost extras), puts the counting proxy
in front, and runs keel.platform.cost_tags mode=apply, then again (nothing left to change).

The floor is what the issue sets: one TagResources call per 20 resources that need a change (in
each region, as the call is regional), plus the discovery pages: the calls a bare boto3 listing
of the same resources makes at the largest page sizes (with one tag read per 20 load balancers
and per bucket, and one STS call). Renames of mis-cased keys also need UntagResources; they are counted in the
total and shown apart. Prints a table and writes build/bench/cost_tags/results.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / ".collections"))

from ansible_collections.keel.platform.plugins.module_utils._aws_resources import PAGE_SIZES  # noqa: E402

from tests.fixtures.ansible_module import CREDENTIALS, run_module  # noqa: E402
from tests.fixtures.aws_estate import COST_POLICY, seed, seed_cost, write_amis_file  # noqa: E402
from tests.fixtures.aws_proxy import AwsProxy  # noqa: E402
from tests.fixtures.moto_server import MotoServer  # noqa: E402

WRITES = ("TagResources", "UntagResources")


def discovery_floor(proxy, regions):
    """{action: calls} of a bare boto3 listing of the same resources at the largest page sizes, through the proxy."""
    proxy.rules.calls.clear()
    endpoint = proxy.url
    operations = {
        "ec2": {
            "describe_instances": {},
            "describe_volumes": {},
            "describe_snapshots": {"OwnerIds": ["self"]},
            "describe_network_interfaces": {},
            "describe_images": {"Owners": ["self"]},
        },
        "rds": {"describe_db_instances": {}},
        "elbv2": {"describe_load_balancers": {}},
    }
    for region in regions:
        for service, calls in operations.items():
            client = boto3.client(service, region_name=region, endpoint_url=endpoint)
            for operation, params in calls.items():
                pages = client.get_paginator(operation).paginate(
                    PaginationConfig={"PageSize": PAGE_SIZES[operation]}, **params
                )
                for page in pages:
                    if operation == "describe_load_balancers":
                        arns = [item["LoadBalancerArn"] for item in page["LoadBalancers"]]
                        for start in range(0, len(arns), 20):
                            client.describe_tags(ResourceArns=arns[start : start + 20])
        boto3.client("ec2", region_name=region, endpoint_url=endpoint).describe_addresses()
    s3 = boto3.client("s3", region_name=regions[0], endpoint_url=endpoint)
    for bucket in s3.list_buckets()["Buckets"]:
        with contextlib.suppress(s3.exceptions.ClientError):  # NoSuchTagSet
            s3.get_bucket_tagging(Bucket=bucket["Name"])
    boto3.client("sts", region_name=regions[0], endpoint_url=endpoint).get_caller_identity()
    return calls_by_action(proxy.rules)


def calls_by_action(rules):
    by_action = {}
    for (action, _region), count in rules.calls.items():
        by_action[action] = by_action.get(action, 0) + count
    return by_action


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=3000, help="instances (each also has a network interface)")
    parser.add_argument("--regions", nargs="+", default=["us-east-1", "eu-west-1"])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench" / "cost_tags" / "results.json")
    args = parser.parse_args(argv)
    os.environ.update(CREDENTIALS)
    with tempfile.TemporaryDirectory(prefix="keel-bench-cost-") as work:
        here = Path(work)
        os.environ["MOTO_AMIS_PATH"] = write_amis_file(here / "amis.json")
        with MotoServer(here / "moto.log") as moto:
            os.environ.pop("MOTO_AMIS_PATH")
            started = time.monotonic()
            seed(moto.url, args.size, args.regions)
            seed_cost(moto.url, args.regions[0])
            seeded = time.monotonic() - started
            with AwsProxy(moto.port) as proxy:
                floor = discovery_floor(proxy, args.regions)
                params = {
                    "policy_data": COST_POLICY,
                    "regions": args.regions,
                    "endpoint_url": proxy.url,
                    "mode": "apply",
                }
                runs = {}
                for name in ("enforce", "second run"):
                    proxy.rules.calls.clear()
                    started = time.monotonic()
                    result = run_module("cost_tags", params, here / "ansible-home")
                    wall = time.monotonic() - started
                    if result.get("failed"):
                        raise SystemExit(f"cost_tags failed: {result.get('msg')}")
                    runs[name] = {"wall_s": round(wall, 2), "calls": calls_by_action(proxy.rules), "result": result}
    enforce = runs["enforce"]
    summary = enforce["result"]["summary"]
    changed = summary["changes"]
    tag_calls = enforce["calls"].get("TagResources", 0)
    untag_calls = enforce["calls"].get("UntagResources", 0)
    discovery = sum(n for action, n in enforce["calls"].items() if action not in WRITES)
    floor_discovery = sum(floor.values())
    # TagResources is regional: at best one call per 20 changed resources of each region.
    per_region = {}
    for item in enforce["result"]["resources"]:
        if item["add"]:
            per_region[item["region"]] = per_region.get(item["region"], 0) + 1
    floor_tag = sum(math.ceil(count / 20) for count in per_region.values())
    floor_total = floor_discovery + floor_tag
    total = discovery + tag_calls + untag_calls
    report = {
        "size": args.size,
        "regions": args.regions,
        "resources": summary["resources"],
        "resources_changed": changed,
        "seed_s": round(seeded, 1),
        "enforce_wall_s": enforce["wall_s"],
        "second_run_wall_s": runs["second run"]["wall_s"],
        "second_run_changed": runs["second run"]["result"]["changed"],
        "calls": enforce["calls"],
        "floor": floor,
        "discovery_calls": discovery,
        "discovery_floor": floor_discovery,
        "tag_resources_calls": tag_calls,
        "tag_resources_floor": floor_tag,
        "untag_resources_calls": untag_calls,
        "total_calls": total,
        "floor_total": floor_total,
        "ratio_without_untag": round((discovery + tag_calls) / floor_total, 3),
        "ratio": round(total / floor_total, 3),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, sort_keys=True))
    print(f"estate: {report['resources']} resources in {len(args.regions)} regions, {changed} needing a change")
    print(f"{'':24}{'calls':>8}{'floor':>8}")
    print(f"{'discovery':24}{discovery:>8}{floor_discovery:>8}")
    print(f"{'TagResources':24}{tag_calls:>8}{floor_tag:>8}")
    print(f"{'UntagResources (renames)':24}{untag_calls:>8}{'-':>8}")
    print(f"{'total':24}{total:>8}{floor_total:>8}")
    print(
        f"ratio to the floor: {report['ratio']} (without UntagResources: {report['ratio_without_untag']}; goal <= 1.1)"
    )
    print(
        f"wall time: enforce {report['enforce_wall_s']} s, second run {report['second_run_wall_s']} s "
        f"(changed: {report['second_run_changed']})"
    )
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
