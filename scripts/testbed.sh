#!/usr/bin/env bash
# Prepare the local test bed: a running Docker engine and cached Debian base
# images with systemd, built from the machine's own Debian mirror (no registry).
#
#   scripts/testbed.sh            engine + every image
#   scripts/testbed.sh engine     engine only
#   scripts/testbed.sh tools      host programs the linters call (shellcheck)
#   scripts/testbed.sh browser    Debian's Chromium (the playbook tests render ARA's report)
#   scripts/testbed.sh mirror     print the Debian mirror URI (used by tests)
#   scripts/testbed.sh run NAME [IMAGE [DOCKER-RUN-ARGS...]]
#                                 start a systemd test container
#
# A second run rebuilds nothing: images carry a label with the hash of their
# recipe and are rebuilt only when the recipe changes.
set -euo pipefail

KEEL_IMAGE_PREFIX="${KEEL_IMAGE_PREFIX:-keel/debian}"
KEEL_RELEASES="${KEEL_RELEASES:-12:bookworm 13:trixie}"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/keel-dockerd.log}"
# Packages every test host needs besides what debootstrap includes:
# iproute2 for testinfra's socket checks (ss), ca-certificates for TLS fixtures.
BASE_PACKAGES="python3,systemd,systemd-sysv,sudo,iproute2,ca-certificates,gnupg"

log() { printf 'testbed: %s\n' "$*" >&2; }

apt_install() {
    if [ ! -f /var/lib/apt/periodic/keel-testbed-updated ]; then
        apt-get update -qq
        mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/keel-testbed-updated
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_packages() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    if [ "${#missing[@]}" -gt 0 ]; then
        log "installing ${missing[*]}"
        apt_install "${missing[@]}"
    fi
}

# Programs the lint and sanity steps call that do not come from PyPI.
ensure_tools() {
    command -v shellcheck >/dev/null || apt_install shellcheck
}

# Debian's Chromium: the playbook tests read ARA's report of a rollout as a browser renders it.
ensure_browser() {
    command -v chromium >/dev/null || apt_install --no-install-recommends chromium
}

# The engine must outlive the command that started it. A job runner that
# confines each command to its own cgroup (and kills that cgroup when the
# command ends) would otherwise take dockerd, and every test container, with
# it: move the daemon to the root of each cgroup v1 hierarchy the caller is
# confined in. Nothing to do under cgroup v2 or when already at the root.
detach_from_caller_cgroups() {
    local pid=$1 line path controllers
    while IFS= read -r line; do
        controllers=${line#*:}
        controllers=${controllers%%:*}
        path=${line##*:}
        if [ -z "$controllers" ] || [ "$path" = / ]; then
            continue
        fi
        [ -w "/sys/fs/cgroup/$controllers/cgroup.procs" ] || continue
        echo "$pid" >"/sys/fs/cgroup/$controllers/cgroup.procs" 2>/dev/null ||
            log "could not move dockerd out of the $controllers cgroup $path"
    done <"/proc/$pid/cgroup"
}

ensure_engine() {
    ensure_packages
    if docker info >/dev/null 2>&1; then
        return 0
    fi
    log "starting dockerd (log: $DOCKERD_LOG)"
    (detach_from_caller_cgroups "$BASHPID"; exec setsid dockerd >"$DOCKERD_LOG" 2>&1 </dev/null) &
    local i
    for i in $(seq 1 60); do
        if docker info >/dev/null 2>&1; then
            log "dockerd is up after ${i}s"
            return 0
        fi
        sleep 1
    done
    log "dockerd did not answer within 60s; last log lines:"
    tail -n 20 "$DOCKERD_LOG" >&2
    return 1
}

# The first URI of the machine's apt sources whose suites are the main archive
# (not -security, not -updates). Never hard-code a mirror host.
# KEEL_DEBIAN_MIRROR / KEEL_DEBIAN_SECURITY_MIRROR override what the machine's
# apt sources say (a CI runner that is not Debian).
debian_mirror() {
    local uri=${KEEL_DEBIAN_MIRROR:-}
    [ -n "$uri" ] && { printf '%s\n' "$uri"; return 0; }
    uri=$(awk '
        /^URIs:/ { uris = $2 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i !~ /-/) { print uris; exit } }
    ' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1 == "deb" && $3 !~ /-/ { print $2; exit }' /etc/apt/sources.list)
    fi
    if [ -z "$uri" ]; then
        log "no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
        return 1
    fi
    printf '%s\n' "$uri"
}

debian_security_mirror() {
    local uri=${KEEL_DEBIAN_SECURITY_MIRROR:-}
    [ -n "$uri" ] && { printf '%s\n' "$uri"; return 0; }
    uri=$(awk '
        /^URIs:/ { uris = $2 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i ~ /-security$/) { print uris; exit } }
    ' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1 == "deb" && $3 ~ /-security$/ { print $2; exit }' /etc/apt/sources.list)
    fi
    printf '%s\n' "${uri:-$(debian_mirror)-security}"
}

recipe_hash() {
    local suite=$1 mirror=$2
    { printf '%s\n' "$suite" "$mirror" "$BASE_PACKAGES"; sed -n '/^# recipe:begin/,/^# recipe:end/p' "$0"; } |
        sha256sum | cut -c1-16
}

# recipe:begin
build_image() {
    local version=$1 suite=$2 mirror=$3
    local image="$KEEL_IMAGE_PREFIX:$version" hash
    hash=$(recipe_hash "$suite" "$mirror")
    if [ "$(docker image inspect -f '{{ index .Config.Labels "keel.recipe" }}' "$image" 2>/dev/null || true)" = "$hash" ]; then
        log "$image is up to date ($hash)"
        return 0
    fi
    local root
    root=$(mktemp -d /var/tmp/keel-rootfs.XXXXXX)
    # shellcheck disable=SC2064
    trap "rm -rf '$root'" RETURN
    log "debootstrap $suite from $mirror"
    debootstrap --variant=minbase --include="$BASE_PACKAGES" "$suite" "$root" "$mirror" >"$root.log" 2>&1 || {
        tail -n 30 "$root.log" >&2
        return 1
    }
    rm -f "$root.log"
    # An empty machine-id lets systemd generate one per container.
    : >"$root/etc/machine-id"
    rm -rf "$root"/var/cache/apt/archives/*.deb
    tar -C "$root" -c . | docker import \
        --change 'ENV container=docker' \
        --change 'CMD ["/lib/systemd/systemd"]' \
        --change "LABEL keel.recipe=$hash" \
        - "$image" >/dev/null
    log "built $image ($hash)"
}
# recipe:end

# Start a systemd container with the flags that work on these machines
# (--privileged does not: the capability bounding set lacks SYS_RESOURCE) and
# wait until systemd has finished booting. .config/molecule/config.yml uses
# the same flags.
run_container() {
    local name=$1 image=${2:-$KEEL_IMAGE_PREFIX:12} state i
    shift 2 || shift $#
    docker rm -f "$name" >/dev/null 2>&1 || true
    docker run -d --name "$name" --hostname "$name" "$@" \
        --cap-add SYS_ADMIN --cap-add NET_ADMIN --cgroupns=host \
        --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
        -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
        "$image" /lib/systemd/systemd >/dev/null
    for i in $(seq 1 60); do
        state=$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)
        case "$state" in
        running | degraded) return 0 ;;
        esac
        sleep 1
    done
    log "$name: systemd did not finish booting within 60s (state: ${state:-unknown})"
    return 1
}

build_images() {
    local mirror pair
    mirror=$(debian_mirror)
    for pair in $KEEL_RELEASES; do
        build_image "${pair%%:*}" "${pair##*:}" "$mirror"
    done
}

main() {
    case "${1:-all}" in
    engine) ensure_engine ;;
    tools) ensure_tools ;;
    run) shift && run_container "$@" ;;
    mirror) debian_mirror ;;
    security-mirror) debian_security_mirror ;;
    images) ensure_engine && build_images ;;
    browser) ensure_browser ;;
    all) ensure_tools && ensure_engine && build_images ;;
    *)
        log "usage: $0 [all|tools|browser|engine|images|mirror|security-mirror|run NAME [IMAGE [ARGS...]]]"
        return 2
        ;;
    esac
}

main "$@"
