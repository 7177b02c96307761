# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: change_report
type: notification
short_description: Per-host report of the tasks a run changed, or would change in check mode (drift)
version_added: 0.2.0
description:
  - Records, for every host a play targets, its status (C(not_run), C(ok), C(changed), C(aborted),
    C(failed), C(unreachable)), the tasks that reported a change with the role they belong to, the
    files they changed, the handlers that ran, and the task that failed.
  - C(changed_files) lists per file its C(role), C(area) (the role's task file that declared the file
    in a fact, as the hardening areas do, else the task file of the changing task), C(task), C(path)
    and C(diff), a short unified diff without context (at most 20 lines; C(-) what the host has,
    C(+) what the task writes) read from the result's C(diff) key. Values of secret-named settings,
    bcrypt hashes and private keys are masked. A C(no_log) task contributes nothing; a task whose diff
    is not on (the task keyword C(diff) false, or a run without C(--diff)) contributes paths only.
  - At the end of the run it prints one summary line per host and writes C(<playbook>.json) and
    C(<playbook>.md) in O(report_dir), named after the playbook file (C(fleet_update.json),
    C(drift.json)). At the start of every play it also writes the JSON so far, which is how
    C(playbooks/drift.yml) reads back, in its last play, what each host would change.
  - In check mode (C(--check)) a task counts only if it ran in check mode. Tasks with
    C(check_mode) set to false (read-only probes, the drift metric itself) make real changes that
    are not drift.
  - A task that sets the fact C(keel_report_note) adds its value to the host's notes (the rolling
    update notes reboots done or skipped, and drains).
  - Hosts of a play that never ran a task (the later batches of a rollout that stopped) are listed
    as C(not_run).
  - When Ansible stops a batch (more than C(max_fail_percentage) of it failed, or C(any_errors_fatal)),
    it sends no result for the hosts it stops, only C(v2_playbook_on_no_hosts_remaining). Hosts of that
    batch that did not fail themselves become C(aborted), with C(aborted_at) naming the task after
    which the batch stopped, if they had run a task in it (their later tasks never ran; changes so far
    stay listed), and C(not_run) if the batch never reached them.
  - Enable it with C(ANSIBLE_CALLBACKS_ENABLED=keel.platform.change_report) or C(callbacks_enabled) in
    C(ansible.cfg); C(playbooks/fleet_update.yml) and C(playbooks/drift.yml) refuse to run without it.
requirements:
  - Enabled in the callbacks_enabled setting.
options:
  report_dir:
    description:
      - Directory for the reports; created when missing. A relative path is relative to the directory
        ansible-playbook runs in.
      - The extra variable C(keel_report_dir) (C(-e keel_report_dir=...)) takes precedence. Only these two
        sources, so that C(playbooks/drift.yml) finds the report where this callback wrote it.
    type: path
    default: keel-reports
    env:
      - name: KEEL_REPORT_DIR
author:
  - Keel platform team (@keel-platform)
"""

EXAMPLES = r"""
# ANSIBLE_CALLBACKS_ENABLED=keel.platform.change_report KEEL_REPORT_DIR=reports \
#   ansible-playbook -i inventory keel.platform.fleet_update
# reports/fleet_update.json:
# {"playbook": "fleet_update", "check_mode": false, "hosts": {"web-1": {"status": "changed",
#   "changed_tasks": [{"role": "observability_agent", "task": "Write the node_exporter unit"}],
#   "changed_by_role": {"observability_agent": 1},
#   "changed_files": [{"role": "observability_agent", "area": "service", "task": "Write the node_exporter unit",
#     "path": "/etc/systemd/system/node_exporter.service",
#     "diff": ["@@ -7 +7 @@", "-ExecStart=...", "+ExecStart=..."]}],
#   "handlers": [{"role": "observability_agent", "task": "Restart node_exporter"}], "notes": [],
#   "failed_task": null, "aborted_at": null},
#   "web-2": {"status": "aborted",
#     "aborted_at": {"role": "fleet_health", "task": "Fail the host if it is not healthy"}, ...}}}
"""

import datetime
import os

from ansible import context
from ansible.playbook.handler import Handler
from ansible.plugins.callback import CallbackBase
from ansible_collections.keel.platform.plugins.plugin_utils._change_report import (
    ChangeReport,
    changed_files,
    declared_paths,
    summary_lines,
    write_reports,
)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _role_name(task):
    role = getattr(task, "_role", None)
    return role.get_name(include_role_fqcn=False) if role else ""


def _task_name(task):
    """The task's own name, without the "role : " prefix Task.get_name() adds."""
    return task.name or task.action


def _area(task):
    """The role section a task belongs to: its task file's name (tasks/service.yml: service)."""
    path = (task.get_path() or "").rsplit(":", 1)[0]
    return os.path.splitext(os.path.basename(path))[0]


def _shows_content(task):
    # Only a task whose diff is on for certain: `diff: false` (a templated one that is not a plain true)
    # and no_log keep their content out of the report.
    return task.diff is True and not task.no_log


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "keel.platform.change_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None, options=None):
        super().__init__(display=display, options=options)
        self._report = None
        self._name = None
        self._dir = None
        self._task = ("", "")
        # Per host and role, the task file (area) that declared a path in a fact; see _record_areas.
        self._areas = {}

    def v2_playbook_on_start(self, playbook):
        self._name = os.path.splitext(os.path.basename(playbook._file_name))[0]
        self._report = ChangeReport(self._name, bool(context.CLIARGS.get("check")), _now())

    def _resolve_dir(self, play):
        extra = play.get_variable_manager().extra_vars.get("keel_report_dir")
        return os.path.abspath(str(extra) if extra else self.get_option("report_dir"))

    def v2_playbook_on_play_start(self, play):
        if self._report is None:
            return
        if self._dir is None:
            self._dir = self._resolve_dir(play)
        inventory = getattr(play.get_variable_manager(), "_inventory", None)
        if inventory is not None:
            # With serial, ansible restricts the inventory to the batch before each play start.
            self._report.start_batch(host.name for host in inventory.get_hosts(play.hosts))
        write_reports(self._report.to_dict(), self._dir, self._name, markdown=False)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task = (_role_name(task), _task_name(task))

    def v2_playbook_on_handler_task_start(self, task):
        self._task = (_role_name(task), _task_name(task))

    def v2_playbook_on_no_hosts_remaining(self):
        # The linear strategy sends this when it stops the batch: more than max_fail_percentage
        # of it failed, any_errors_fatal, or every host failed; the hosts it marked failed get no result.
        if self._report is not None:
            self._report.abort_batch(*self._task)

    def _record_areas(self, host, task, facts):
        # A role that declares its files in facts (hardening: one task file per area, converged
        # by one config_files run) names each file's area by the task file that declared it first.
        role = _role_name(task)
        if not role:
            return
        areas = self._areas.setdefault((host, role), {})
        for path in declared_paths(facts):
            areas.setdefault(path, _area(task))

    def _counts(self, result):
        # In check mode only what ran in check mode is drift; check_mode: false tasks act for real.
        return not (self._report.check_mode and result.task.check_mode is False)

    def v2_runner_on_ok(self, result):
        if self._report is None or not self._counts(result):
            return
        task, host = result.task, result.host.get_name()
        facts = result.result.get("ansible_facts") or {}
        if facts.get("keel_report_note"):
            self._report.add_note(host, str(facts["keel_report_note"]).strip())
        self._record_areas(host, task, facts)
        handler = isinstance(task, Handler)
        role = _role_name(task)
        self._report.add_ok(host, role, _task_name(task), result.is_changed(), handler=handler)
        if result.is_changed() and not handler:
            areas = self._areas.get((host, role), {})
            for changed in changed_files(result.result, _shows_content(task)):
                area = areas.get(changed["path"], _area(task))
                self._report.add_files(host, role, area, _task_name(task), [changed])

    def v2_runner_on_skipped(self, result):
        if self._report is not None:
            self._report.add_ok(result.host.get_name(), "", "", changed=False)

    def v2_runner_item_on_ok(self, result):
        # Loop items are reported once more as the loop's own result; that one counts.
        return

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if self._report is None or ignore_errors:
            return
        message = str(result.result.get("msg", "")).strip().splitlines()
        self._report.add_failed(
            result.host.get_name(), _role_name(result.task), _task_name(result.task), message[0] if message else ""
        )

    def v2_runner_on_unreachable(self, result):
        if self._report is None:
            return
        message = str(result.result.get("msg", "")).strip().splitlines()
        self._report.add_failed(
            result.host.get_name(),
            _role_name(result.task),
            _task_name(result.task),
            message[0] if message else "",
            unreachable=True,
        )

    def v2_playbook_on_stats(self, stats):
        if self._report is None or self._dir is None:
            return
        self._report.finished = _now()
        report = self._report.to_dict()
        paths = write_reports(report, self._dir, self._name)
        self._display.banner("KEEL CHANGE REPORT")
        for line in summary_lines(report):
            self._display.display(line)
        self._display.display("Report: " + ", ".join(paths))
