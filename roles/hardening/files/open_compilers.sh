#!/bin/sh
# Print the real path of each compiler found that has no dpkg-statoverride
# yet, one per line: those any user may still run.
for name in as cc gcc g++ c++ clang tcc; do
    path=$(command -v "$name" 2>/dev/null) || continue
    real=$(readlink -f "$path")
    dpkg-statoverride --list "$real" >/dev/null 2>&1 || printf 'open_compiler=%s\n' "$real"
done
