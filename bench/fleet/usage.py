# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a command and write the controller CPU it cost, its helpers that outlive it included.

Usage: usage.py RESULT.json COMMAND...

This process becomes a child subreaper (prctl PR_SET_CHILD_SUBREAPER) and forks the command.
ansible-playbook's forks, the ssh clients and `docker exec` processes they start are reaped by
their parents, so their CPU is in the command's own wait4 usage. SSH's ControlPersist masters are
not: they detach and outlive the run, carrying the encryption work of every task. As orphans they
are re-parented to this process; once the command has exited they are sent SIGTERM and reaped, and
getrusage(RUSAGE_CHILDREN) then holds the CPU of the command and of every descendant. Writes
{"wall", "cpu", "cpu_command", "rc"} (seconds; cpu is user + system of everything).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def _cpu(usage):
    return usage.ru_utime + usage.ru_stime


def _orphans():
    """Processes re-parented to this one (detached helpers of the command)."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me:
                found.append(int(entry))
    return found


def main():
    result_path, command = sys.argv[1], sys.argv[2:]
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("usage.py: prctl(PR_SET_CHILD_SUBREAPER) failed")
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.execvp(command[0], command)  # noqa: S606 - the bench's own command line
    _pid, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    for orphan in _orphans():
        os.kill(orphan, signal.SIGTERM)
    while True:
        try:
            os.wait()
        except ChildProcessError:
            break
    total = resource.getrusage(resource.RUSAGE_CHILDREN)
    rc = os.waitstatus_to_exitcode(status)
    with open(result_path, "w", encoding="utf-8") as out:
        cpu = {"cpu": round(_cpu(total), 2), "cpu_command": round(_cpu(usage), 2)}
        json.dump({"wall": round(wall, 2), **cpu, "rc": rc}, out)
    sys.exit(rc)


if __name__ == "__main__":
    main()
