"""Shared by every scenario (.config/molecule/config.yml): after the converge no unit is failed.

A scenario that runs something impossible in a container lists the unit in
KEEL_FAILED_UNITS_ALLOWED (its molecule.yml, with the reason beside it).
"""

from __future__ import annotations

import os


def test_no_unit_is_failed(host):
    allowed = {unit for unit in os.environ.get("KEEL_FAILED_UNITS_ALLOWED", "").split(",") if unit}
    listed = host.check_output("systemctl list-units --all --state=failed --plain --no-legend --no-pager")
    failed = {line.split()[0] for line in listed.splitlines() if line.strip()}
    unexpected = sorted(failed - allowed)
    assert unexpected == [], host.run("systemctl status --no-pager --lines=5 " + " ".join(unexpected)).stdout
