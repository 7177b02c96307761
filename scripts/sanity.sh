#!/usr/bin/env bash
# Run `ansible-test sanity` offline. ansible-test needs the collection under
# ansible_collections/<namespace>/<name>/ and downloads a pip bootstrap script
# from a host this machine cannot reach; it reads a cached copy first, so we
# place one that bootstraps pip from the standard library's ensurepip.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV="${KEEL_VENV:-$ROOT/.venv}"
# Outside the work tree: inside it, ansible-test would ask git which files
# exist, and git ignores build directories.
BUILD="${TMPDIR:-/tmp}/keel-sanity-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)/ansible_collections/keel/platform"
PY_VERSION=$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

pip_version=$("$VENV/bin/python" - <<'PY'
import pathlib, re, ansible_test
source = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([0-9.]+)'", source.read_text()).group(1))
PY
)
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if [ ! -f "$cache" ]; then
    mkdir -p "$(dirname "$cache")"
    printf 'import ensurepip\nensurepip.bootstrap(upgrade=True, default_pip=True)\n' >"$cache"
fi

# A clean copy of what git tracks (plus new, unignored files), so build
# artefacts and the virtual environment never reach the sanity tests.
rm -rf "$BUILD"
mkdir -p "$BUILD"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' | tar --null -T - -cf -) |
    tar -C "$BUILD" -xf -

cd "$BUILD"
PATH="$VENV/bin:$PATH" ansible-test sanity --local --python "$PY_VERSION" --color no "$@"
