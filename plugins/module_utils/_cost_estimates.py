# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A monthly cost estimate per resource, to rank untagged resources by what they cost (pure).

Prices are us-east-1 on-demand list prices in USD (late 2025), rounded; they rank resources, they
do not bill them. Unknown instance types are priced by their size suffix.
"""

from __future__ import annotations

HOURS_PER_MONTH = 730
EBS_GB_MONTH = {"gp3": 0.08, "gp2": 0.10, "io1": 0.125, "io2": 0.125, "st1": 0.045, "sc1": 0.015, "standard": 0.05}
SNAPSHOT_GB_MONTH = 0.05
PUBLIC_IPV4_HOUR = 0.005
INSTANCE_HOUR = {
    "t3.micro": 0.0104,
    "t3.small": 0.0208,
    "t3.medium": 0.0416,
    "t3.large": 0.0832,
    "m5.large": 0.096,
    "m6i.large": 0.096,
    "m6i.xlarge": 0.192,
    "c6i.large": 0.085,
    "c6i.xlarge": 0.17,
    "r6i.large": 0.126,
    "r6i.xlarge": 0.252,
}
# Per hour of a general-purpose instance of that size, for types missing above.
SIZE_HOUR = {"nano": 0.005, "micro": 0.01, "small": 0.02, "medium": 0.04, "large": 0.1, "xlarge": 0.2}
LOAD_BALANCER_HOUR = 0.0225


def instance_hourly(instance_type):
    if instance_type in INSTANCE_HOUR:
        return INSTANCE_HOUR[instance_type]
    size = (instance_type or "").rpartition(".")[2]
    if size.endswith("xlarge") and size[:-6].isdigit():
        return SIZE_HOUR["xlarge"] * int(size[:-6])
    return SIZE_HOUR.get(size, SIZE_HOUR["large"])


def monthly_cost(resource):
    """Estimated USD per month of a discovered resource (0.0 for types without a simple price)."""
    kind = resource["type"]
    if kind == "instance":
        if resource.get("state") not in (None, "running", "pending"):
            return 0.0
        return round(instance_hourly(resource.get("instance_type")) * HOURS_PER_MONTH, 2)
    if kind == "volume":
        price = EBS_GB_MONTH.get(resource.get("volume_type") or "gp2", EBS_GB_MONTH["gp2"])
        return round(price * (resource.get("size_gb") or 0), 2)
    if kind == "snapshot":
        return round(SNAPSHOT_GB_MONTH * (resource.get("size_gb") or 0), 2)
    if kind == "address":
        return round(PUBLIC_IPV4_HOUR * HOURS_PER_MONTH, 2)
    if kind == "load_balancer":
        return round(LOAD_BALANCER_HOUR * HOURS_PER_MONTH, 2)
    if kind == "database":
        return round(instance_hourly((resource.get("instance_type") or "").replace("db.", "")) * HOURS_PER_MONTH, 2)
    return 0.0


def rank_untagged(plans, resources, limit=50):
    """Non-compliant resources, costliest first.

    [{arn, id, type, region, monthly_cost, fixable, keys, missing, invalid}]: keys are the required keys
    that are missing or invalid (the evaluation's verdict), also listed by verdict.
    """
    by_arn = {resource["arn"]: resource for resource in resources}
    ranked = []
    for result in plans:
        if result["compliant"]:
            continue
        problems = [a for a in result["actions"] if a.get("status") in ("missing", "invalid")]
        ranked.append(
            {
                "arn": result["arn"],
                "id": result["id"],
                "type": result["type"],
                "region": result["region"],
                "monthly_cost": monthly_cost(by_arn.get(result["arn"], result)),
                "fixable": all(a["action"] != "not_fixable" for a in problems),
                "keys": [a["key"] for a in problems],
                "missing": [a["key"] for a in problems if a["status"] == "missing"],
                "invalid": [a["key"] for a in problems if a["status"] == "invalid"],
            }
        )
    ranked.sort(key=lambda item: (-item["monthly_cost"], item["arn"]))
    return ranked[:limit]
