#!/usr/bin/env bash
# Make every image named on the command line available to the local Docker engine: present
# already, else pulled, else built here as a stand-in from Debian packages under that name.
# Timings (seconds) are appended to $STANDIN_TIMINGS (default /dev/null) as "step seconds".
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BASE=perpbot-standin/debian:bookworm-minbase
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
TIMINGS="${STANDIN_TIMINGS:-/dev/null}"
PULL_TIMEOUT="${STANDIN_PULL_TIMEOUT:-60}"

timed() {  # timed NAME COMMAND...: run it, record how long it took
    local name="$1" start end
    shift
    start=$(date +%s%N)
    "$@"
    end=$(date +%s%N)
    local tenths=$(((end - start) / 100000000))
    printf '%s %d.%d\n' "$name" $((tenths / 10)) $((tenths % 10)) >> "$TIMINGS"
}

have() { docker image inspect "$1" > /dev/null 2>&1; }

build_base() {
    have "$BASE" && return 0
    local root
    root="$(mktemp -d /var/tmp/perpbot-standin-rootfs.XXXXXX)"
    trap 'rm -rf "$root"' RETURN
    echo "stand-ins: debootstrap --variant=minbase bookworm ($MIRROR)"
    timed debootstrap debootstrap --variant=minbase bookworm "$root" "$MIRROR" > "$root.log" 2>&1 \
        || { tail -20 "$root.log"; rm -f "$root.log"; return 1; }
    rm -f "$root.log"
    cat > "$root/etc/apt/sources.list" <<SOURCES
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECURITY_MIRROR bookworm-security main
SOURCES
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    timed import bash -c "tar -C '$root' -c . | docker import --change 'CMD [\"bash\"]' - '$BASE' > /dev/null"
}

dockerfile_for() {
    case "$1" in
        postgres:*) echo postgres.Dockerfile ;;
        redis:*) echo redis.Dockerfile ;;
        python:*) echo python.Dockerfile ;;
        *) return 1 ;;
    esac
}

for image in "$@"; do
    if have "$image"; then
        echo "stand-ins: $image is present"
        continue
    fi
    if timeout "$PULL_TIMEOUT" docker pull -q "$image" > /dev/null 2>&1; then
        echo "stand-ins: pulled $image"
        continue
    fi
    dockerfile="$(dockerfile_for "$image")" \
        || { echo "stand-ins: no stand-in for $image and it cannot be pulled" >&2; exit 1; }
    echo "stand-ins: cannot pull $image; building it from Debian packages ($dockerfile)"
    build_base
    # The build context: these files and this machine's CA bundle (the python stand-in's pip
    # trusts what the host trusts, e.g. a TLS-inspecting proxy's CA in front of the index).
    context="$(mktemp -d)"
    cp "$here"/*.Dockerfile "$here"/*-entrypoint.sh "$context/"
    cp "${STANDIN_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}" "$context/host-ca-bundle.crt"
    timed "build-${image%%:*}" docker build -q --network host -t "$image" -f "$context/$dockerfile" "$context" > /dev/null
    rm -rf "$context"
    echo "stand-ins: $image is $(docker run --rm --entrypoint cat "$image" /etc/perpbot-standin)"
done
