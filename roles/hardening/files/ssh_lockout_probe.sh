#!/bin/sh
# Usage: ssh_lockout_probe.sh [candidate-nftables-ruleset] < candidate-sshd_config
#
# Everything the lock-out guard needs, in one round trip, as key=value lines:
# who the SSH session this process runs in belongs to and where it comes from,
# the login user's groups, how that session authenticated (sshd's own
# "Accepted ..." line), and what sshd would apply to that very connection under
# the candidate configuration read from stdin ("sshd_T=" lines, or
# "sshd_error=" lines and sshd_rc when sshd refuses it). Given a candidate
# nftables ruleset, it also checks it with nft and loads it into a private
# network namespace, to print the resulting table as JSON ("nft_json=") for
# the guard to walk, or nft's complaints ("nft_error="). The candidates live
# in a private temporary directory that is removed whatever happens. Outside
# an SSH session it only asks sshd whether it accepts the candidate.
#
# The session is found in the process tree, not in our own environment: become
# (sudo, su) resets the environment and the user, but the shell sshd started
# for the session still carries both.
umask 077
workdir=$(mktemp -d) || exit 1
trap 'rm -rf "$workdir"' EXIT
candidate=$workdir/sshd_config
cat >"$candidate"
ruleset=${1-}

parent_of() {
    sed -n 's/^PPid:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null
}

pid=$$
user=
connection=
while [ "${pid:-0}" -gt 1 ]; do
    connection=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | sed -n 's/^SSH_CONNECTION=//p')
    if [ -n "$connection" ]; then
        user=$(tr '\0' '\n' <"/proc/$pid/environ" | sed -n 's/^USER=//p')
        user=${user:-$(stat -c %U "/proc/$pid")}
        break
    fi
    pid=$(parent_of "$pid")
done

if [ -z "$connection" ]; then
    echo "session=none"
    spec=
else
    # SSH_CONNECTION is "client-address client-port local-address local-port".
    set -f
    # shellcheck disable=SC2086
    set -- $connection
    set +f
    printf 'session=ssh\nlogin_user=%s\nclient_address=%s\nclient_port=%s\nlocal_address=%s\nlocal_port=%s\n' \
        "$user" "$1" "$2" "$3" "$4"
    printf 'groups=%s\n' "$(id --groups --name "$user" 2>/dev/null)"
    # Above the session's shells sit sshd's session processes: the user's,
    # then the privileged monitor, which logged how the login succeeded.
    while [ "${pid:-0}" -gt 1 ] && ! grep -q '^sshd' "/proc/$pid/comm" 2>/dev/null; do
        pid=$(parent_of "$pid")
    done
    accepted=$(journalctl --quiet --no-pager --output=cat "_PID=${pid:-0}" "_PID=$(parent_of "${pid:-0}")" 2>/dev/null |
        grep -F "for $user from $1 port $2 " | grep '^Accepted ' | tail -n 1)
    printf 'accepted=%s\n' "$accepted"
    spec="user=$user,host=$1,addr=$1,laddr=$3,lport=$4"
fi

# sshd refuses to check anything without its privilege separation directory,
# which exists only once the service has run since boot; without it, sshd is
# asked in a private mount namespace that has one, and the host stays as is.
sshd_test() {
    if [ -d /run/sshd ]; then
        /usr/sbin/sshd -T -f "$candidate" ${spec:+-C "$spec"}
    else
        # shellcheck disable=SC2016 # $1 and $2 belong to the inner shell
        unshare --mount sh -c 'mount -t tmpfs -o mode=0755 keel-probe /run && mkdir -m 0755 /run/sshd &&
            exec /usr/sbin/sshd -T -f "$1" ${2:+-C "$2"}' sh "$candidate" "$spec"
    fi
}

# A blank stdin: the role leaves sshd_config alone.
if grep -q '[^[:space:]]' "$candidate"; then
    effective=$(sshd_test 2>"$workdir/error")
    printf 'sshd_rc=%s\n' "$?"
    printf '%s\n' "$effective" | sed -n 's/^./sshd_T=&/p'
    sed -n 's/^./sshd_error=&/p' "$workdir/error"
fi

[ -n "$ruleset" ] && [ -n "$spec" ] || exit 0
if ! command -v nft >/dev/null 2>&1; then
    echo "nft=missing"
    exit 0
fi
printf '%s\n' "$ruleset" >"$workdir/nftables.conf"
# shellcheck disable=SC2016 # $1 belongs to the inner shell
if nft --check --file "$workdir/nftables.conf" 2>"$workdir/error" &&
    unshare --net sh -c 'nft --file "$1" && nft --json list table inet keel_filter' sh "$workdir/nftables.conf" \
        >"$workdir/ruleset.json" 2>"$workdir/error"; then
    printf 'nft_json=%s\n' "$(cat "$workdir/ruleset.json")"
else
    sed -n "s|$workdir/nftables.conf|nftables.conf|; s/^./nft_error=&/p" "$workdir/error"
fi
