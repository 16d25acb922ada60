#!/usr/bin/env bash
# System packages the tests and benchmarks need beyond Python: a headless browser and its fonts, the
# PostgreSQL client, PDF tools, WeasyPrint's libraries, iproute2 (network namespaces for the two-node
# test), Redis (a private server for that test) and wrk (the load benchmark). Installs what is missing
# with apt when it can (as root, or with password-less sudo); otherwise names what is missing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans" || missing+=(fonts-noto-core)
command -v pg_isready >/dev/null 2>&1 || missing+=(postgresql-client)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
ldconfig -p | grep -q libpangoft2-1.0 || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
# WeasyPrint warns without HarfBuzz's subsetter, and the test suite turns warnings into errors.
ldconfig -p | grep -q libharfbuzz-subset || missing+=(libharfbuzz-subset0)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
((${#missing[@]})) || exit 0

if [[ $(id -u) == 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "system-deps: missing ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
  # Under CI a missing part is a failure; elsewhere the tests that need it say so themselves.
  [[ ${CI:-} == true ]] && exit 1 || exit 0
fi
echo "system-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
