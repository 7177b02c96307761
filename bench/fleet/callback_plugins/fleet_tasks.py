# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""bench/fleet's task counter: per host and role, how many tasks ran, changed, were skipped or failed.

Not part of the collection: bench/fleet/run.py puts this directory on ANSIBLE_CALLBACK_PLUGINS and
enables it for every run it measures (the trivial-task floor too, so both pay its small cost).
At the end of the playbook it writes {host: {role: {ran, changed, skipped, failed}}} as JSON to
the file named by KEEL_BENCH_TASKS_FILE. A task outside any role counts under "(play)"; a loop
counts once per task, not per item; handlers count under their role.
"""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: fleet_tasks
type: aggregate
short_description: bench/fleet's per-host, per-role task counts
description: Writes per host and role the tasks that ran, changed, were skipped or failed to KEEL_BENCH_TASKS_FILE.
"""

OUTCOMES = ("ran", "changed", "skipped", "failed")


def _role(result):
    role = getattr(result._task, "_role", None)
    return role.get_name(include_role_fqcn=False) if role else "(play)"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "fleet_tasks"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._counts = {}

    def _count(self, result, *outcomes):
        roles = self._counts.setdefault(result._host.get_name(), {})
        counts = roles.setdefault(_role(result), dict.fromkeys(OUTCOMES, 0))
        for outcome in outcomes:
            counts[outcome] += 1

    def v2_runner_on_ok(self, result):
        self._count(result, "ran", *(("changed",) if result._result.get("changed") else ()))

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result, "ran", "failed")

    def v2_runner_on_unreachable(self, result):
        self._count(result, "ran", "failed")

    def v2_runner_on_skipped(self, result):
        self._count(result, "skipped")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("KEEL_BENCH_TASKS_FILE")
        if path:
            with open(path, "w", encoding="utf-8") as out:
                json.dump(self._counts, out, indent=1, sort_keys=True)
