#!/usr/bin/env bash
# The demo: harden a local Debian 12 container with playbooks/site.yml and
# print its Lynis hardening index and ssh-audit verdict before and after.
# KEEL_DEMO_KEEP=1 leaves the container running for a look around.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HOST=keel-demo-debian12
PYTHON="$ROOT/.venv/bin/python"
export ANSIBLE_CONFIG="$ROOT/ansible.cfg" ANSIBLE_PIPELINING=true

say() { printf '\n== %s\n' "$*"; }

cleanup() {
    if [ "${KEEL_DEMO_KEEP:-0}" != 1 ]; then
        docker rm -f "$HOST" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

lynis_index() {
    docker exec "$HOST" lynis audit system --quick --no-colors >/dev/null 2>&1 || true
    docker exec "$HOST" sed -n 's/^hardening_index=//p' /var/log/lynis-report.dat
}

ssh_audit() {
    local address
    address=$(docker inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$HOST")
    "$PYTHON" -m ssh_audit --no-colors --timeout=10 "$address" >"$1" 2>&1 && echo "clean" && return
    printf '%s failures, %s warnings\n' "$(grep -c '\[fail\]' "$1" || true)" "$(grep -c '\[warn\]' "$1" || true)"
}

say "Starting $HOST"
"$ROOT/scripts/testbed.sh" run "$HOST" keel/debian:12
docker exec "$HOST" bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lynis openssh-server >/dev/null 2>&1 && systemctl start ssh'

say "Before hardening"
before_index=$(lynis_index)
before_ssh=$(ssh_audit /tmp/keel-demo-ssh-audit-before.txt)
echo "Lynis hardening index: $before_index    ssh-audit: $before_ssh"

say "Converging playbooks/site.yml"
start=$(date +%s)
"$ROOT/.venv/bin/ansible-playbook" -i "$ROOT/inventories/local/hosts.yml" "$ROOT/playbooks/site.yml"
converge_seconds=$(($(date +%s) - start))

say "After hardening"
after_index=$(lynis_index)
after_ssh=$(ssh_audit /tmp/keel-demo-ssh-audit-after.txt)

say "Result"
printf '%-24s %-26s %s\n' "" before after
printf '%-24s %-26s %s\n' "Lynis hardening index" "$before_index" "$after_index"
printf '%-24s %-26s %s\n' "ssh-audit" "$before_ssh" "$after_ssh"
printf 'First converge took %ss.\n' "$converge_seconds"
