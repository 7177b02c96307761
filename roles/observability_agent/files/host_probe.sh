#!/bin/sh
# Print KEY=VALUE facts the role needs, in one round trip.
#   host_probe.sh CI_RUNNER_STATE_FILE
# firewall_dropin_dir is set only when the hardening role's firewall is live:
# /etc/nftables.conf includes a drop-in directory and table inet keel_filter
# is loaded.
state_file=$1

if [ -S /var/run/docker.sock ] || [ -x /usr/bin/docker ] || systemctl cat docker.service >/dev/null 2>&1; then
    echo docker=present
else
    echo docker=absent
fi

if [ -e "$state_file" ] || [ -d "$(dirname "$state_file")" ] || systemctl list-unit-files 'keel-runner@*' 2>/dev/null | grep -q '^keel-runner@'; then
    echo ci_runner=present
else
    echo ci_runner=absent
fi

dropin=$(sed -n 's|^include "\(/[^"]*\)/\*\.nft"$|\1|p' /etc/nftables.conf 2>/dev/null | head -n 1)
if [ -n "$dropin" ] && command -v nft >/dev/null && nft list table inet keel_filter >/dev/null 2>&1; then
    echo "firewall_dropin_dir=$dropin"
else
    echo firewall_dropin_dir=
fi

# Collector timers already installed, to stop those no longer wanted, and
# those already enabled and running, which need no call.
timers=
running=
for unit in /etc/systemd/system/keel-textfile-*.timer; do
    [ -e "$unit" ] || continue
    timers="$timers ${unit##*/}"
    if systemctl is-enabled --quiet "${unit##*/}" && systemctl is-active --quiet "${unit##*/}"; then
        running="$running ${unit##*/}"
    fi
done
printf 'textfile_timers=%s\n' "$timers"
printf 'textfile_timers_running=%s\n' "$running"

# The apt module needs python3-apt for check mode (it installs it otherwise).
printf 'python_apt=%s\n' "$(dpkg-query -W -f='${Status}' python3-apt 2>/dev/null)"

# Journal forwarders Keel configured before: switching to the other (or to
# none) stops, disables and unconfigures this one.
[ -e /etc/systemd/journal-upload.conf.d/keel.conf ] && echo keel_forwarder_journal_upload=present || echo keel_forwarder_journal_upload=absent
[ -e /etc/rsyslog.d/60-keel-observability-agent.conf ] && echo keel_forwarder_rsyslog=present || echo keel_forwarder_rsyslog=absent
