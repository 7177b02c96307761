# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-host record of what a playbook run changed (or would change in check mode), as plain data.

The keel.platform.change_report callback feeds it; the JSON it writes is what drift.yml reads back
to publish its metric, so the schema below is a contract (docs/architecture.md).
"""

from __future__ import annotations

import difflib
import json
import os
import re

from ansible_collections.keel.platform.plugins.module_utils._atomic_file import write_atomic

# A host's status, worst last: a later result never makes a host look better.
# `aborted`: the host started in a batch that ansible stopped (max_fail_percentage
# exceeded, any_errors_fatal) before the host's own tasks were done.
STATUSES = ("not_run", "ok", "changed", "aborted", "failed", "unreachable")

# A file's diff in the report is short: enough to name the setting, not a copy of the file.
MAX_DIFF_LINES = 20
MASK = "********"
# The end-of-run summary names this many files per host; the reports name them all.
SUMMARY_FILES = 5
# `key = value`, `key: value`, `KEY=value` lines whose key names a secret.
_SECRET_SETTING = re.compile(
    r"^(?P<key>\s*[\w.-]*(?:password|passwd|secret|token|api[_-]?key|private[_-]?key|credential)[\w.-]*"
    r"\s*(?:[:=]|\s)\s*)\S.*$",
    re.IGNORECASE,
)
_BCRYPT = re.compile(r"\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}")
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
_PEM_END = re.compile(r"-----END [A-Z ]*PRIVATE KEY-----")
# What lineinfile and blockinfile add to a header after the path.
_HEADER_SUFFIX = re.compile(r" \((?:content|file attributes)\)$")


class ChangeReport:
    """Hosts of a run: status, changed tasks (role, task), handlers that ran, the task that failed."""

    def __init__(self, playbook, check_mode, started):
        self.playbook = playbook
        self.check_mode = check_mode
        self.started = started
        self.finished = None
        self.hosts = {}
        self._batch = []
        self._reached = set()

    def _host(self, host):
        return self.hosts.setdefault(
            host,
            {
                "status": "not_run",
                "changed_tasks": [],
                "changed_files": [],
                "handlers": [],
                "notes": [],
                "failed_task": None,
                "aborted_at": None,
            },
        )

    def _raise_status(self, host, status):
        entry = self._host(host)
        if STATUSES.index(status) > STATUSES.index(entry["status"]):
            entry["status"] = status

    def add_hosts(self, hosts):
        """Hosts a play targets: those that never get a result stay `not_run` (a stopped rollout's later batches)."""
        for host in hosts:
            self._host(host)

    def start_batch(self, hosts):
        """A play starts on these hosts (with `serial`, one batch of them); a stop of the batch concerns only them."""
        self._batch = list(hosts)
        self._reached = set()
        self.add_hosts(self._batch)

    def abort_batch(self, role, task):
        """Ansible stopped the current batch after `task`: hosts of it that did not fail themselves did not finish.

        A host that ran anything in the batch, or had changed before it, is `aborted` at that task; one the batch
        never reached is `not_run`, whatever an earlier play (a run_once check) said about it.
        """
        for host in self._batch:
            entry = self._host(host)
            if entry["status"] in ("failed", "unreachable"):
                continue
            if host in self._reached or entry["changed_tasks"]:
                entry["status"] = "aborted"
                entry["aborted_at"] = {"role": role or "", "task": task}
            else:
                entry["status"] = "not_run"
        self._batch = []

    def add_files(self, host, role, area, task, files):
        """Files a changed task changed (or would change): path and a short, masked diff each."""
        bucket = self._host(host)["changed_files"]
        for changed in files:
            entry = {"role": role or "", "area": area or "", "task": task, **changed}
            if entry not in bucket:
                bucket.append(entry)

    def add_ok(self, host, role, task, changed, handler=False):
        self._reached.add(host)
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
        self._reached.add(host)
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


def mask_secrets(lines):
    """Mask values of secret-named settings, bcrypt hashes and private key blocks in diff lines."""
    masked, in_key = [], False
    for line in lines:
        prefix, text = (line[:1], line[1:]) if line[:1] in ("+", "-", " ") else ("", line)
        if in_key or _PEM_BEGIN.search(text):
            in_key = not _PEM_END.search(text)
            masked.append(prefix + MASK)
            continue
        text = _SECRET_SETTING.sub(lambda match: match.group("key") + MASK, text)
        masked.append(prefix + _BCRYPT.sub(MASK, text))
    return masked


def _short(lines):
    if len(lines) <= MAX_DIFF_LINES:
        return lines
    return [*lines[:MAX_DIFF_LINES], f"... {len(lines) - MAX_DIFF_LINES} more diff lines"]


def _diff_path(diff):
    for side in ("before", "after"):
        value = diff.get(side)
        if isinstance(value, dict) and value.get("path"):
            return str(value["path"])
    for header in ("before_header", "after_header"):
        if diff.get(header):
            return _HEADER_SUFFIX.sub("", str(diff[header]))
    return ""


def _diff_lines(diff):
    """Unified diff lines (no context) of a content diff, or `key: before -> after` lines of an attribute diff."""
    before, after = diff.get("before"), diff.get("after")
    if isinstance(before, dict) or isinstance(after, dict):
        before, after = before or {}, after or {}
        return [
            f"{key}: {before.get(key, '')} -> {after.get(key, '')}"
            for key in sorted(set(before) | set(after))
            if key != "path" and before.get(key) != after.get(key)
        ]
    if diff.get("dst_binary") or diff.get("src_binary"):
        return ["binary content differs"]
    lines = difflib.unified_diff(str(before or "").splitlines(), str(after or "").splitlines(), lineterm="", n=0)
    return [line for line in lines if not line.startswith(("---", "+++"))]


def _result_files(result, show_content):
    files = {}
    diffs = result.get("diff") or []
    for diff in diffs if isinstance(diffs, list) else [diffs]:
        path = _diff_path(diff) if isinstance(diff, dict) else ""
        if path:
            files.setdefault(path, []).extend(_diff_lines(diff) if show_content else [])
    named = result.get("changed_paths") or [result.get("dest") or result.get("path")]
    for path in named:
        if isinstance(path, str) and path:
            files.setdefault(path, [])
    return files


def changed_files(result, show_content=True):
    """Files a changed task result names: [{"path", "diff"}], the diff short and masked.

    Reads the result's `diff` (template, copy, lineinfile, file, keel.platform.config_files, one per file) and,
    for paths only, `changed_paths`, `dest` or `path`. A no_log result is censored before a callback sees it
    and names nothing; with show_content false (a task with `diff: false`) only paths are kept.
    """
    if "censored" in result:
        return []
    items = result["results"] if isinstance(result.get("results"), list) else [result]
    files = {}
    for item in items:
        if not isinstance(item, dict) or not item.get("changed") or "censored" in item:
            continue
        for path, lines in _result_files(item, show_content).items():
            files.setdefault(path, []).extend(lines)
    return [{"path": path, "diff": _short(mask_secrets(lines))} for path, lines in files.items()]


def declared_paths(facts):
    """Paths in facts that are lists of file declarations ({"path": ...}), as a role's set_fact builds them."""
    paths = []
    for value in (facts or {}).values():
        if isinstance(value, list):
            paths.extend(item["path"] for item in value if isinstance(item, dict) and isinstance(item.get("path"), str))
    return paths


def summary_lines(report):
    """One line per host for the end of the run: status and what changed, by role."""
    verb = "would change" if report["check_mode"] else "changed"
    lines = []
    for name, entry in report["hosts"].items():
        changes = ", ".join(f"{change['role'] or '(play)'}: {change['task']}" for change in entry["changed_tasks"])
        line = f"{name}: {entry['status']}"
        if changes:
            line += f"; {verb} {changes}"
        if entry.get("changed_files"):
            paths = sorted({changed["path"] for changed in entry["changed_files"]})
            line += "; files " + ", ".join(paths[:SUMMARY_FILES])
            if len(paths) > SUMMARY_FILES:
                line += f" and {len(paths) - SUMMARY_FILES} more"
        if entry["handlers"]:
            line += "; handlers " + ", ".join(handler["task"] for handler in entry["handlers"])
        if entry["notes"]:
            line += "; " + "; ".join(entry["notes"])
        if entry["failed_task"]:
            line += f"; failed at {entry['failed_task']['task']}: {entry['failed_task']['msg']}"
        if entry.get("aborted_at"):
            line += f"; {_aborted(entry)}"
        lines.append(line)
    return lines


def _aborted(entry):
    return f"batch stopped after {entry['aborted_at']['task']}: later tasks did not run"


def _fence(lines):
    """A Markdown code fence longer than any backtick run in the lines."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)


def _files_section(report):
    verb = "would change" if report["check_mode"] else "changed"
    lines = []
    for name, entry in report["hosts"].items():
        if not entry.get("changed_files"):
            continue
        lines += ["", f"## {name}: files that {verb}", ""]
        for changed in entry["changed_files"]:
            where = " / ".join(part for part in (changed["role"] or "(play)", changed["area"]) if part)
            lines.append(f"- {where}: `{changed['path']}` ({changed['task']})")
            if changed["diff"]:
                fence = _fence(changed["diff"])
                lines += ["", f"  {fence}diff", *(f"  {line}" for line in changed["diff"]), f"  {fence}", ""]
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
        if entry.get("aborted_at"):
            failed = _cell(_aborted(entry))
        notes = "<br>".join(_cell(note) for note in entry["notes"])
        lines.append(f"| {_cell(name)} | {entry['status']} | {tasks} | {handlers} | {notes} | {failed} |")
    lines += _files_section(report)
    return "\n".join(lines) + "\n"


def write_reports(report, directory, name, markdown=True):
    """Write <name>.json (and <name>.md) under directory; return the paths written."""
    paths = [os.path.join(directory, f"{name}.json")]
    write_atomic(paths[0], json.dumps(report, indent=2, sort_keys=True) + "\n")
    if markdown:
        paths.append(os.path.join(directory, f"{name}.md"))
        write_atomic(paths[1], to_markdown(report))
    return paths
