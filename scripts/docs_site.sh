#!/usr/bin/env bash
# Build the documentation site into build/docs/html (open build/docs/html/index.html):
# antsibull-docs renders every plugin, module and role of keel.platform as the collection
# resolves through ansible.cfg (this working tree), antsibull-changelog the changelog with the
# pending fragments as the next release, and Sphinx builds the HTML offline, warnings as errors.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/build/docs"
rm -rf "$OUT"
mkdir -p "$OUT/rst" "$OUT/changelog"
chmod og-w "$OUT/rst"  # antsibull-docs wants it writable only by its owner

antsibull-docs collection --use-current --squash-hierarchy --fail-on-error --cleanup everything \
    --dest-dir "$OUT/rst" keel.platform

# The changelog: released versions plus the fragments as the version galaxy.yml names, rendered
# in a fresh build of the collection so the working tree's fragments stay where they are.
version=$(python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$ROOT/galaxy.yml")
ansible-galaxy collection build --output-path "$OUT" "$ROOT" >/dev/null
tar -xzf "$OUT"/*.tar.gz -C "$OUT/changelog"
# Its own galaxy.yml: antsibull-changelog looks upwards for one and would find the working tree's.
cp "$ROOT/galaxy.yml" "$OUT/changelog/"
printf 'release_summary: "Not released yet: the changes since the last release."\n' \
    >"$OUT/changelog/changelogs/fragments/release-summary.yml"
(cd "$OUT/changelog" && antsibull-changelog release --version "$version" --date "$(date -u +%F)") \
    >"$OUT/changelog.log" 2>&1 || { cat "$OUT/changelog.log" >&2; exit 1; }
# ansible-doc, which antsibull-changelog runs on copies of collections to list plugins, says it
# cannot tell those copies' versions (and ansible-core's internal _protomatter's); the plugin
# list does not need them. Any other warning fails the build.
if grep -i 'warning' "$OUT/changelog.log" | grep -v 'does not have a MANIFEST.json file, nor has it galaxy.yml: cannot detect version' >&2; then
    echo "docs: antsibull-changelog warns (log: $OUT/changelog.log)" >&2
    exit 1
fi
{
    printf '.. _keel_platform_changelog:\n\n'
    cat "$OUT/changelog/CHANGELOG.rst"
} >"$OUT/rst/changelog.rst"
printf '\n.. toctree::\n   :maxdepth: 1\n\n   changelog\n' >>"$OUT/rst/index.rst"

sphinx-build -q -b html -c "$ROOT/docs/site" -W --keep-going "$OUT/rst" "$OUT/html"
echo "docs: open $OUT/html/index.html"
