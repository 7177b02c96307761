"""Record Ansible runs with ARA ("ARA Records Ansible") and browse them.

    python scripts/ara_record.py run COMMAND...     run COMMAND (ansible-playbook ...) with ARA's callback on
    python scripts/ara_record.py report DIR         write ARA's static HTML report of every recorded run to DIR
    python scripts/ara_record.py serve [ADDR:PORT]  serve ARA's web UI (default 127.0.0.1:8000)

Recording is opt-in per run: only `run` puts ARA's callback on Ansible's callback path, so runs
without it pay nothing. ARA's own variables choose where the records go:

    ARA_API_SERVER     an ARA API server (http://HOST:PORT); without it, ARA's embedded SQLite database
    ARA_BASE_DIR       ARA's settings and database directory (default ~/.ara/server)
    ARA_DATABASE_NAME  the SQLite file (default ARA_BASE_DIR/ansible.sqlite)

Other callbacks (keel.platform.change_report in ANSIBLE_CALLBACKS_ENABLED) run alongside.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
INSTALL_HINT = "install it with: pip install -r requirements/dev.txt (ARA is the ara[server] line)"


def callback_dir() -> str:
    """Where ARA's callback plugin lives (what `python3 -m ara.setup.callback_plugins` prints)."""
    try:
        from ara.setup import callback_plugins
    except ImportError as error:
        raise SystemExit(f"ara_record: ARA is not installed in {sys.prefix} ({error}); {INSTALL_HINT}") from None
    return callback_plugins


def database(env: dict[str, str]) -> Path:
    """The SQLite file ARA's offline client writes to, as ARA resolves it from its variables."""
    if env.get("ARA_DATABASE_NAME"):
        return Path(env["ARA_DATABASE_NAME"])
    base = env.get("ARA_BASE_DIR") or str(Path("~/.ara/server").expanduser())
    return Path(base) / "ansible.sqlite"


def environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """ENV (default os.environ) with ARA's callback on the callback path and its API client chosen."""
    env = dict(os.environ if env is None else env)
    paths = [path for path in env.get("ANSIBLE_CALLBACK_PLUGINS", "").split(os.pathsep) if path]
    env["ANSIBLE_CALLBACK_PLUGINS"] = os.pathsep.join([*paths, callback_dir()])
    env.setdefault("ARA_API_CLIENT", "http" if env.get("ARA_API_SERVER") else "offline")
    return env


def where(env: dict[str, str]) -> str:
    """Where this run's records go, for the message after a run."""
    if env.get("ARA_API_CLIENT") == "http":
        return f"the ARA API server {env.get('ARA_API_SERVER', 'http://127.0.0.1:8000')}"
    return f"ARA's SQLite database {database(env)}"


def generate(directory: Path, env: dict[str, str] | None = None) -> Path:
    """Write ARA's static report of the recorded runs to DIRECTORY; refuse when nothing was recorded."""
    env = dict(os.environ if env is None else env)
    recorded = database(env)
    # ara-manage would create an empty database and write an empty report: say instead that nothing was recorded.
    if not recorded.is_file():
        raise SystemExit(
            f"ara_record: no ARA database at {recorded}: no run was recorded there. "
            "Record with `python scripts/ara_record.py run ansible-playbook ...`, or set ARA_BASE_DIR or "
            "ARA_DATABASE_NAME to where runs were recorded."
        )
    completed = subprocess.run(
        [str(BIN / "ara-manage"), "generate", str(directory)], env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode:
        raise SystemExit(f"ara_record: ara-manage generate {directory} failed:\n{completed.stdout}{completed.stderr}")
    return Path(directory) / "index.html"


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "report", "serve"} or (argv[0] != "serve" and len(argv) < 2):
        print(__doc__, file=sys.stderr)
        return 2
    command, args = argv[0], argv[1:]
    if command == "run":
        env = environment()
        returncode = subprocess.run(args, env=env, check=False).returncode
        print(
            f"ara_record: recorded in {where(env)}; browse it with `python scripts/ara_record.py report DIR` "
            "(static HTML) or `python scripts/ara_record.py serve` (http://127.0.0.1:8000)",
            file=sys.stderr,
        )
        return returncode
    if command == "report":
        index = generate(Path(args[0]).resolve())
        print(f"ara_record: ARA report of {database(dict(os.environ))}: {index}")
        return 0
    address = args[0] if args else "127.0.0.1:8000"
    # exec: Ctrl-C or a kill of this process reaches the server itself, not a parent that leaves it running.
    os.execv(BIN / "ara-manage", [str(BIN / "ara-manage"), "runserver", address])  # noqa: S606
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
