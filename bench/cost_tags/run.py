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

# The services' own tagging calls, made only for ARNs the Tagging API refuses (none on moto).
NATIVE_WRITES = ("CreateTags", "DeleteTags", "AddTagsToResource", "RemoveTagsFromResource", "AddTags", "RemoveTags")
WRITES = ("TagResources", "UntagResources", *NATIVE_WRITES)


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


def _owned(tags):
    return {k: v for k, v in tags.items() if not k.lower().startswith("aws:")}


def batching_lower_bound(resources, size=20):
    """(TagResources, UntagResources) calls no batching can go below, however it groups resources.

    A call carries one map to at most `size` ARNs and may only send values a resource ends with. A
    resource that needs two or more pairs and has none of its final ones (a new volume or interface)
    can share a single call only with resources whose final tags include all its pairs: for its own
    final map k, those are the others of k and the resources whose final tags contain k. Each one of
    them either sits in a call of map k (its last call holds 20 * calls places) or needs two calls.
    So per map k with g such resources and p possible companions, min(g % size, free places the
    companions cannot fill) places are lost at least; the calls are at least (needs + lost) / size.
    UntagResources needs one call per `size` resources that lose a key, per region.
    """
    tag, untag = 0, 0
    for region in sorted({item["region"] or "" for item in resources}):
        here = [item for item in resources if (item["region"] or "") == region]
        needs = [(frozenset(_owned(i["add"]).items()), frozenset(_owned(i["after"]).items())) for i in here if i["add"]]
        whole = {}
        for add, after in needs:
            if add == after and len(add) >= 2:
                whole[after] = whole.get(after, 0) + 1
        lost = 0
        for final, count in whole.items():
            companions = sum(1 for add, after in needs if final <= after and not (add == after == final))
            remainder = count % size
            lost += min(remainder, max(0, (size - remainder) % size - companions))
        tag += math.ceil((len(needs) + lost) / size)
        untag += math.ceil(sum(1 for item in here if item["remove"]) / size)
    return tag, untag


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
    native_calls = sum(enforce["calls"].get(action, 0) for action in NATIVE_WRITES)
    discovery = sum(n for action, n in enforce["calls"].items() if action not in WRITES)
    floor_discovery = sum(floor.values())
    # TagResources is regional: at best one call per 20 changed resources of each region.
    per_region = {}
    for item in enforce["result"]["resources"]:
        if item["add"]:
            per_region[item["region"]] = per_region.get(item["region"], 0) + 1
    floor_tag = sum(math.ceil(count / 20) for count in per_region.values())
    floor_total = floor_discovery + floor_tag
    total = discovery + tag_calls + untag_calls + native_calls
    bound_tag, bound_untag = batching_lower_bound(enforce["result"]["resources"])
    bound_total = floor_discovery + bound_tag + bound_untag
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
        "native_tagging_calls": native_calls,
        "total_calls": total,
        "floor_total": floor_total,
        "ratio_without_untag": round((discovery + tag_calls) / floor_total, 3),
        "ratio": round(total / floor_total, 3),
        "tag_resources_lower_bound": bound_tag,
        "untag_resources_lower_bound": bound_untag,
        "lower_bound_ratio": round(bound_total / floor_total, 3),
        "lower_bound_ratio_without_untag": round((floor_discovery + bound_tag) / floor_total, 3),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, sort_keys=True))
    print(f"estate: {report['resources']} resources in {len(args.regions)} regions, {changed} needing a change")
    print(f"{'':24}{'calls':>8}{'floor':>8}{'bound':>8}")
    print(f"{'discovery':24}{discovery:>8}{floor_discovery:>8}{floor_discovery:>8}")
    print(f"{'TagResources':24}{tag_calls:>8}{floor_tag:>8}{bound_tag:>8}")
    print(f"{'UntagResources (renames)':24}{untag_calls:>8}{'-':>8}{bound_untag:>8}")
    if native_calls:
        print(f"{'services own tagging':24}{native_calls:>8}{'-':>8}{'-':>8}")
    print(f"{'total':24}{total:>8}{floor_total:>8}{bound_total:>8}")
    print(
        f"ratio to the floor: {report['ratio']} (without UntagResources: {report['ratio_without_untag']}; goal <= 1.1)"
    )
    print(
        f"lower bound of any batching of this estate: {report['lower_bound_ratio']} "
        f"(without UntagResources: {report['lower_bound_ratio_without_untag']})"
    )
    print(
        f"wall time: enforce {report['enforce_wall_s']} s, second run {report['second_run_wall_s']} s "
        f"(changed: {report['second_run_changed']})"
    )
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
