#!/usr/bin/env bash
# Install the Debian servers the integration tests and `make up` start on
# loopback: Redis 7 (cache, queue), Prometheus (scaler queries), NATS
# (second broker). Skips packages already present; needs root or sudo.
set -euo pipefail

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v prometheus   >/dev/null || need+=(prometheus)
command -v nats-server  >/dev/null || need+=(nats-server)
# npm installs the chart README generator (scripts/gen_chart_docs.py, make docs/lint)
command -v npm          >/dev/null || need+=(npm)
# actionlint (make lint) checks the workflows' shell steps with it
command -v shellcheck   >/dev/null || need+=(shellcheck)
[ ${#need[@]} -eq 0 ] && { echo "install-system: redis-server, prometheus, nats-server, npm, shellcheck present"; exit 0; }

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-system: need root or sudo to apt-get install ${need[*]}" >&2; exit 2; }
  sudo="sudo"
fi
echo "install-system: apt-get install ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The Debian packages start system services we do not use; our tests start
# their own instances on free ports with temporary data dirs.
for svc in redis-server prometheus nats-server; do
  $sudo systemctl disable --now "$svc" >/dev/null 2>&1 || true
done
