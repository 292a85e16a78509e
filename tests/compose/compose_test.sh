#!/usr/bin/env bash
# `make compose-test`: the compose stack for real on this machine's Docker engine.
#   1. Docker: installed from Debian's packages when missing (docker.io, docker-compose,
#      debootstrap); dockerd started here when it is not running (and stopped at the end).
#   2. Images: the ones compose names, pulled, or built as stand-ins from Debian packages
#      (deploy/standins/build.sh); then the perpbot image from the Dockerfile.
#   3. The stack up under its own project name, with generated secrets and free ports.
#   4. The smoke test (tests/compose/smoke.py).
#   5. Everything torn down, volumes too, whatever happened.
# Prints how long each step took; the timings are also in .run/compose-test/timings.txt.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT="$PWD"
PY="${PY:-$ROOT/.venv/bin/python}"
OUT="$ROOT/.run/compose-test"
mkdir -p "$OUT"
TIMINGS="$OUT/timings.txt"
: > "$TIMINGS"
export STANDIN_TIMINGS="$TIMINGS"
PROJECT="perpbot-compose-test"

timed() {  # timed NAME COMMAND...
    local name="$1" start end tenths
    shift
    start=$(date +%s%N)
    "$@"
    end=$(date +%s%N)
    tenths=$(((end - start) / 100000000))
    printf '%s %d.%d\n' "$name" $((tenths / 10)) $((tenths % 10)) >> "$TIMINGS"
}

# ---------------------------------------------------------------- 1. Docker
install_docker() {
    echo "compose-test: installing Docker from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q > "$OUT/apt.log" 2>&1
    apt-get install -y -q docker.io docker-compose debootstrap >> "$OUT/apt.log" 2>&1 \
        || { tail -20 "$OUT/apt.log"; exit 1; }
}
if ! command -v dockerd > /dev/null || ! command -v debootstrap > /dev/null \
    || { ! command -v docker-compose > /dev/null && ! docker compose version > /dev/null 2>&1; }; then
    timed install-docker install_docker
fi

DOCKERD_PID=""
start_dockerd() {
    echo "compose-test: starting dockerd (log: $OUT/dockerd.log)"
    setsid dockerd > "$OUT/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    for _ in $(seq 60); do
        docker info > /dev/null 2>&1 && return 0
        sleep 0.5
    done
    tail -20 "$OUT/dockerd.log"
    echo "compose-test: dockerd did not come up" >&2
    exit 1
}
docker info > /dev/null 2>&1 || timed start-dockerd start_dockerd

if docker compose version > /dev/null 2>&1; then
    COMPOSE=(docker compose)
else
    COMPOSE=(docker-compose)
fi
COMPOSE+=(-p "$PROJECT" -f "$ROOT/docker-compose.yml")

# ---------------------------------------------------------------- secrets and ports
secret() { "$PY" -c 'import secrets; print(secrets.token_hex(24))'; }
free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
POSTGRES_PASSWORD="$(secret)"
PERPBOT_DB_PASSWORD="$(secret)"
REDIS_PASSWORD="$(secret)"
FLOWER_PASSWORD="$(secret)"
FLOWER_USER=perpbot
PERPBOT_POSTGRES_PORT="$(free_port)"
PERPBOT_REDIS_PORT="$(free_port)"
PERPBOT_FLOWER_PORT="$(free_port)"
PERPBOT_DASHBOARD_PORT="$(free_port)"
export POSTGRES_PASSWORD PERPBOT_DB_PASSWORD REDIS_PASSWORD FLOWER_PASSWORD FLOWER_USER \
    PERPBOT_POSTGRES_PORT PERPBOT_REDIS_PORT PERPBOT_FLOWER_PORT PERPBOT_DASHBOARD_PORT
export PERPBOT_MODE=paper
unset PERPBOT_LIVE_CONFIRM DATABASE_URL REDIS_URL

teardown() {
    local rc=$?
    set +e
    if [ "$rc" != 0 ]; then
        echo "compose-test: failed; the stack's last logs:" >&2
        "${COMPOSE[@]}" logs --no-color --tail=40 > "$OUT/compose.log" 2>&1
        tail -120 "$OUT/compose.log" >&2
    fi
    timed down "${COMPOSE[@]}" down -v --remove-orphans > "$OUT/down.log" 2>&1
    if [ -n "$DOCKERD_PID" ]; then
        kill "$DOCKERD_PID" 2> /dev/null && wait "$DOCKERD_PID" 2> /dev/null
    fi
    echo "compose-test: timings (seconds)"
    sed 's/^/  /' "$TIMINGS"
    exit "$rc"
}
trap teardown EXIT

# ---------------------------------------------------------------- 2. images
"${COMPOSE[@]}" config -q
mapfile -t IMAGES < <("${COMPOSE[@]}" config | awk '$1 == "image:" {print $2}' | sort -u \
    | grep -v '^perpbot:')
BASE_IMAGE="$(awk '$1 == "FROM" && !b {b = $2} END {print b}' "$ROOT/Dockerfile")"
bash "$ROOT/deploy/standins/build.sh" "${IMAGES[@]}" "$BASE_IMAGE"
APP_IMAGE="$("${COMPOSE[@]}" config | awk '$1 == "image:" && $2 ~ /^perpbot:/ {i = $2} END {print i}')"
echo "compose-test: building $APP_IMAGE"
timed build-perpbot docker build -q --network host -t "$APP_IMAGE" "$ROOT" > "$OUT/build.log" 2>&1 \
    || { tail -30 "$OUT/build.log"; exit 1; }

# ---------------------------------------------------------------- 3. up
echo "compose-test: up (project $PROJECT)"
timed up "${COMPOSE[@]}" up -d --no-build > "$OUT/up.log" 2>&1 || { tail -30 "$OUT/up.log"; exit 1; }
CONTAINERS=""
for service in postgres redis migrate worker beat flower dashboard; do
    CONTAINERS+="$service=$("${COMPOSE[@]}" ps -q "$service") "
done
export COMPOSE_CONTAINERS="$CONTAINERS"

# ---------------------------------------------------------------- 4. smoke
timed smoke "$PY" "$ROOT/tests/compose/smoke.py"
