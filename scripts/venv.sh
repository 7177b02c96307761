#!/usr/bin/env bash
# Create or reuse the project's virtual environment (.venv) on Python >= 3.12
# and install the pinned development requirements. Re-installs only when a
# requirements file changed since the last install.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV="${KEEL_VENV:-$ROOT/.venv}"
STAMP="$VENV/.keel-requirements.sha256"
REQUIREMENTS=("$ROOT/requirements/controller.txt" "$ROOT/requirements/dev.txt" "$ROOT/requirements/constraints.txt")

log() { printf 'venv: %s\n' "$*" >&2; }

is_supported() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null
}

# Highest Python >= 3.12 on PATH or under pyenv; KEEL_PYTHON overrides.
find_python() {
    local candidate
    if [ -n "${KEEL_PYTHON:-}" ]; then
        is_supported "$KEEL_PYTHON" && { echo "$KEEL_PYTHON"; return; }
        log "KEEL_PYTHON=$KEEL_PYTHON is not Python >= 3.12"
        return 1
    fi
    for candidate in python3.14 python3.13 python3.12; do
        if command -v "$candidate" >/dev/null && is_supported "$(command -v "$candidate")"; then
            command -v "$candidate"
            return
        fi
    done
    local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
    for candidate in $(printf '%s\n' "$pyenv_root"/versions/3.* | sort -V -r); do
        if is_supported "$candidate/bin/python3"; then
            echo "$candidate/bin/python3"
            return
        fi
    done
    log "no Python >= 3.12 found on PATH or under $pyenv_root; set KEEL_PYTHON"
    return 1
}

wanted=$(cat "${REQUIREMENTS[@]}" | sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$wanted" ]; then
    exit 0
fi
if [ ! -x "$VENV/bin/python" ]; then
    python=$(find_python)
    log "creating $VENV with $python ($("$python" --version))"
    "$python" -m venv "$VENV"
fi
log "installing pinned requirements"
if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -c "$ROOT/requirements/constraints.txt" -r "$ROOT/requirements/dev.txt" >"$VENV/pip-install.log" 2>&1; then
    grep -v "^WARNING: Location 'file://" "$VENV/pip-install.log" >&2
    log "pip install failed (full log: $VENV/pip-install.log)"
    exit 1
fi
"$VENV/bin/python" -m pip check >&2
echo "$wanted" >"$STAMP"
