#!/usr/bin/env bash
# make setup: install what is missing (Debian packages, a virtualenv from uv.lock, the Maven jars)
# and nothing more. Safe to run again; a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.8
DEBIAN_PACKAGES=(
  mariadb-server mariadb-client          # MariaDB, own datadir under .soundcheck/
  redis-server redis-sentinel            # Redis (+ sentinels for the HA drills)
  prometheus prometheus-alertmanager     # Prometheus, promtool, Alertmanager, amtool
  prometheus-redis-exporter prometheus-mysqld-exporter  # exporters Prometheus scrapes: Redis and MariaDB metrics
  prometheus-node-exporter prometheus-elasticsearch-exporter
  prometheus-blackbox-exporter           # health probes: "service down" = no answer, not a slow scrape
  haproxy                                # load balancer in front of N booking instances (scale-out)
  openjdk-17-jdk-headless maven          # Kafka and Elasticsearch run from Maven Central jars
  python3 python3-venv                   # the virtualenv; uv installs the locked packages
  chromium                               # headless checks of load reports (Playwright drives it)
  ca-certificates make
)

say() { printf 'setup: %s\n' "$*"; }

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$package")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { say "need root (or sudo) to install: ${missing[*]}"; exit 1; }
    sudo=(sudo)
  fi
  # The packages would start system-wide services on install, taking the ports our own
  # processes use; a policy-rc.d that says "no" keeps them stopped (only while we install).
  made_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${sudo[@]}" chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  trap '[[ $made_policy == 1 ]] && "${sudo[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
else
  say "Debian packages: all present"
fi

python=$(command -v python3.11 || command -v python3)
tools=.soundcheck/tools
if [[ ! -x $tools/bin/uv ]] || [[ $("$tools/bin/uv" --version | cut -d' ' -f2) != "$UV_VERSION" ]]; then
  say "installing uv $UV_VERSION into $tools"
  "$python" -m venv "$tools"
  "$tools/bin/pip" install -q --disable-pip-version-check "uv==$UV_VERSION"
fi
# The lock file is the truth: --frozen never re-resolves, so every machine gets the same set.
UV_PYTHON_DOWNLOADS=never "$tools/bin/uv" sync --frozen --quiet --python "$python"
say "virtualenv: .venv matches uv.lock"

.venv/bin/soundcheck fetch
