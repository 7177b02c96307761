# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-host record of what a playbook run changed (or would change in check mode), as plain data.

The keel.platform.change_report callback feeds it; the JSON it writes is what drift.yml reads back
to publish its metric, so the schema below is a contract (docs/architecture.md).
"""

from __future__ import annotations

import json
import os

from ansible_collections.keel.platform.plugins.module_utils._atomic_file import write_atomic

# A host's status, worst last: a later result never makes a host look better.
STATUSES = ("not_run", "ok", "changed", "failed", "unreachable")


class ChangeReport:
    """Hosts of a run: status, changed tasks (role, task), handlers that ran, the task that failed."""

    def __init__(self, playbook, check_mode, started):
        self.playbook = playbook
        self.check_mode = check_mode
        self.started = started
        self.finished = None
        self.hosts = {}

    def _host(self, host):
        return self.hosts.setdefault(
            host, {"status": "not_run", "changed_tasks": [], "handlers": [], "notes": [], "failed_task": None}
        )

    def _raise_status(self, host, status):
        entry = self._host(host)
        if STATUSES.index(status) > STATUSES.index(entry["status"]):
            entry["status"] = status

    def add_hosts(self, hosts):
        """Hosts a play targets: those that never get a result stay `not_run` (a stopped rollout's later batches)."""
        for host in hosts:
            self._host(host)

    def add_ok(self, host, role, task, changed, handler=False):
        self._raise_status(host, "changed" if changed else "ok")
        if changed:
            entry = {"role": role or "", "task": task}
            bucket = self._host(host)["handlers" if handler else "changed_tasks"]
            if entry not in bucket:
                bucket.append(entry)

    def add_note(self, host, note):
        """A line a playbook asks to show in the host's summary (a reboot done or skipped, a drain)."""
        notes = self._host(host)["notes"]
        if note and note not in notes:
            notes.append(note)

    def add_failed(self, host, role, task, message, unreachable=False):
        self._raise_status(host, "unreachable" if unreachable else "failed")
        self._host(host)["failed_task"] = {"role": role or "", "task": task, "msg": message}

    def to_dict(self):
        hosts = {}
        for name in sorted(self.hosts):
            entry = self.hosts[name]
            roles = {}
            for change in entry["changed_tasks"]:
                roles[change["role"]] = roles.get(change["role"], 0) + 1
            hosts[name] = {**entry, "changed_by_role": dict(sorted(roles.items()))}
        return {
            "playbook": self.playbook,
            "check_mode": self.check_mode,
            "started": self.started,
            "finished": self.finished,
            "hosts": hosts,
        }


def summary_lines(report):
    """One line per host for the end of the run: status and what changed, by role."""
    verb = "would change" if report["check_mode"] else "changed"
    lines = []
    for name, entry in report["hosts"].items():
        changes = ", ".join(f"{change['role'] or '(play)'}: {change['task']}" for change in entry["changed_tasks"])
        line = f"{name}: {entry['status']}"
        if changes:
            line += f"; {verb} {changes}"
        if entry["handlers"]:
            line += "; handlers " + ", ".join(handler["task"] for handler in entry["handlers"])
        if entry["notes"]:
            line += "; " + "; ".join(entry["notes"])
        if entry["failed_task"]:
            line += f"; failed at {entry['failed_task']['task']}: {entry['failed_task']['msg']}"
        lines.append(line)
    return lines


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(report):
    title = "Configuration drift" if report["check_mode"] else "Changes"
    column = "Tasks that would change" if report["check_mode"] else "Tasks that changed"
    lines = [
        f"# {title}: {report['playbook']}",
        "",
        f"Started {report['started']}, finished {report['finished']}.",
        "",
        f"| Host | Status | {column} | Handlers | Notes | Failure |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, entry in report["hosts"].items():
        tasks = "<br>".join(
            _cell(f"{change['role'] or '(play)'}: {change['task']}") for change in entry["changed_tasks"]
        )
        handlers = "<br>".join(_cell(handler["task"]) for handler in entry["handlers"])
        failure = entry["failed_task"]
        failed = _cell(f"{failure['task']}: {failure['msg']}") if failure else ""
        notes = "<br>".join(_cell(note) for note in entry["notes"])
        lines.append(f"| {_cell(name)} | {entry['status']} | {tasks} | {handlers} | {notes} | {failed} |")
    return "\n".join(lines) + "\n"


def write_reports(report, directory, name, markdown=True):
    """Write <name>.json (and <name>.md) under directory; return the paths written."""
    paths = [os.path.join(directory, f"{name}.json")]
    write_atomic(paths[0], json.dumps(report, indent=2, sort_keys=True) + "\n")
    if markdown:
        paths.append(os.path.join(directory, f"{name}.md"))
        write_atomic(paths[1], to_markdown(report))
    return paths
