#!/usr/bin/env bash
# Installs valkey-server and valkey-sentinel on Debian 12, where they are only in bookworm-backports,
# a suite Debian 12 machines do not list by default. The backports source is derived from the
# machine's own /etc/apt/sources.list.d/debian.sources (its mirror, keyring and components; only
# the suite changes, the security stanza and comments dropped), so no mirror host is written here.
# Idempotent: with valkey-server installed it does nothing. Anywhere but Debian 12 it says so in one
# line and exits 0. `tokenbench doctor` prints the same commands (cli/server-install.ts).
set -euo pipefail

if command -v valkey-server >/dev/null 2>&1; then
  echo "install-valkey: $(valkey-server --version | cut -d' ' -f1-3) is already installed ($(command -v valkey-server))"
  exit 0
fi
# shellcheck disable=SC1091
[ -r /etc/os-release ] && . /etc/os-release
if [ "${ID:-}" != debian ] || [ "${VERSION_CODENAME:-}" != bookworm ]; then
  echo "install-valkey: SKIPPED: ${PRETTY_NAME:-this system} is not Debian 12 (bookworm), the one this script knows; Debian 13: apt-get install -y valkey-server valkey-sentinel; macOS: brew install valkey"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-valkey: needs root (apt-get): sudo $0" >&2
  exit 1
fi

target=/etc/apt/sources.list.d/tokenbench-backports.sources
if grep -Eqs '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; then
  echo "install-valkey: bookworm-backports is already listed ($(grep -Els '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null | tr '\n' ' '))"
elif [ -f /etc/apt/sources.list.d/debian.sources ]; then
  grep -v '^[[:space:]]*#' /etc/apt/sources.list.d/debian.sources | awk 'BEGIN { RS = ""; ORS = "\n\n" } !/-security/' | sed 's/^Suites:.*/Suites: bookworm-backports/' > /etc/apt/sources.list.d/tokenbench-backports.sources
  echo "install-valkey: wrote $target (debian.sources with Suites: bookworm-backports)"
else
  echo "install-valkey: no /etc/apt/sources.list.d/debian.sources: this machine lists its sources the old way (/etc/apt/sources.list); add a line like its bookworm one with the suite bookworm-backports, then run this again" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports valkey-server valkey-sentinel >/dev/null
echo "install-valkey: $(valkey-server --version | cut -d' ' -f1-3) installed"
