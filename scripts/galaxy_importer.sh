#!/usr/bin/env bash
# galaxy-importer (what Galaxy and Automation Hub run on import) on a fresh build of the
# collection, offline (.config/galaxy-importer.cfg). Fails on an import error and on any
# warning it prints (ansible-doc, ansible-lint, changelog, metadata).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/build/galaxy-importer"
rm -rf "$OUT"
mkdir -p "$OUT/tmp"
ansible-galaxy collection build --output-path "$OUT" "$ROOT" >/dev/null
tarball=$(ls "$OUT"/*.tar.gz)

# The project's ansible.cfg would resolve keel.platform to the working tree, not the tarball.
unset ANSIBLE_CONFIG
export ANSIBLE_HOME="$OUT/ansible" \
    GALAXY_IMPORTER_CONFIG="$ROOT/.config/galaxy-importer.cfg" \
    GALAXY_IMPORTER_TMP_ROOT_DIR="$OUT/tmp" \
    GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP="$OUT/ansible/tmp"
cd "$OUT"
python -m galaxy_importer.main "$tarball" >"$OUT/import.log" 2>&1 || {
    cat "$OUT/import.log" >&2
    echo "galaxy-importer: import of $tarball failed (log: $OUT/import.log)" >&2
    exit 1
}
if grep -E '^(WARNING|ERROR)' "$OUT/import.log" >&2; then
    echo "galaxy-importer: the import above warns (log: $OUT/import.log)" >&2
    exit 1
fi
echo "galaxy-importer: $(basename "$tarball") imports cleanly"
