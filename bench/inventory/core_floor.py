# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-inventory, timed from the inside: how much of a run is the inventory source's own work.

Usage: core_floor.py RESULT.json ANSIBLE-INVENTORY-ARGUMENTS...

Runs ansible-inventory's command line in this process (same output) and measures the time spent
parsing the sources (InventoryManager.parse_source, less the loading of the inventory plugins,
which every source pays). What remains is ansible-core's own work for the hosts, groups and
variables the sources produced: start-up, vars plugins, variable merging, fact cleaning, the
reserved-name check, serialisation. No plugin, however fast, makes `ansible-inventory --list`
of the same inventory cheaper than that. Writes wall and CPU (user + system) seconds, total and
inside the sources, to RESULT.json.
"""

from __future__ import annotations

import json
import os
import sys
import time

SPENT = {"source_wall_s": 0.0, "source_cpu_s": 0.0}


def _cpu():
    times = os.times()
    return times.user + times.system


def _timed(function, sign):
    def wrapper(*args, **kwargs):
        wall, cpu = time.perf_counter(), _cpu()
        try:
            return function(*args, **kwargs)
        finally:
            SPENT["source_wall_s"] += sign * (time.perf_counter() - wall)
            SPENT["source_cpu_s"] += sign * (_cpu() - cpu)

    return wrapper


def main():
    result_path, arguments = sys.argv[1], sys.argv[2:]
    from ansible.cli import inventory
    from ansible.inventory.manager import InventoryManager

    InventoryManager.parse_source = _timed(InventoryManager.parse_source, 1)
    InventoryManager._fetch_inventory_plugins = _timed(InventoryManager._fetch_inventory_plugins, -1)
    try:
        inventory.main(["ansible-inventory", *arguments])
    finally:
        sys.stdout.flush()
        with open(result_path, "w", encoding="utf-8") as result:
            json.dump({key: round(value, 3) for key, value in SPENT.items()}, result)


if __name__ == "__main__":
    main()
