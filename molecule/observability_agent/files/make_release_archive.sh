#!/bin/sh
# Build node_exporter-VERSION.linux-amd64.tar.gz and sha256sums.txt, laid out
# like the upstream release page, from Debian's package of that version, so
# the role's archive path is tested without reaching GitHub.
#   make_release_archive.sh MIRROR_DIR VERSION
set -eu
mirror=$1
version=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download -qq prometheus-node-exporter >/dev/null
dpkg-deb -x prometheus-node-exporter_*.deb root
name="node_exporter-$version.linux-amd64"
mkdir "$name"
cp root/usr/bin/prometheus-node-exporter "$name/node_exporter"
mkdir -p "$mirror/v$version"
tar -czf "$mirror/v$version/$name.tar.gz" "$name"
(cd "$mirror/v$version" && sha256sum "$name.tar.gz" >sha256sums.txt)
