#!/usr/bin/env bash
# Everything `make demo` and `make test` need on a fresh machine: uv, the locked Python
# dependencies, Chromium with its driver, and reachable PostgreSQL and RabbitMQ (not checked with
# ETAWATCH_SKIP_SERVICE_CHECK=1, as `make demo` sets: the embedded demo uses neither).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
fail() { printf '\033[31m%s\033[0m\n' "$*" >&2; exit 1; }

if ! command -v uv >/dev/null 2>&1; then
    say "installing uv"
    python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
    export PATH="$HOME/.local/bin:$PATH"
    command -v uv >/dev/null 2>&1 || fail "uv is not on PATH after installing it; add ~/.local/bin to PATH"
fi

say "installing the locked dependencies (uv sync --frozen)"
uv sync --frozen --quiet

if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        say "installing Debian's chromium and chromium-driver"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq chromium chromium-driver >/dev/null \
            || { apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; }
    else
        fail "Chromium is missing. Install it as root: apt-get install chromium chromium-driver"
    fi
fi

if [[ "${ETAWATCH_SKIP_SERVICE_CHECK:-0}" != 1 ]]; then
    uv run --frozen python - <<'PY'
import os, socket, sys
checks = {
    "PostgreSQL": (os.environ.get("ETAWATCH_TEST_PG_HOST", "127.0.0.1"), 5432,
                   "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"),
    "RabbitMQ": (os.environ.get("ETAWATCH_TEST_AMQP_HOST", "127.0.0.1"), 5672,
                 "rabbitmq-server -detached"),
}
missing = []
for name, (host, port, how) in checks.items():
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError:
        missing.append(f"{name} does not answer on {host}:{port}. Start it with: {how}")
if missing:
    print("\n".join(missing), file=sys.stderr)
    sys.exit(1)
PY
fi
say "set-up done"
