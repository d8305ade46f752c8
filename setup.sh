#!/usr/bin/env bash
# Set up everything sipscen needs on a fresh Debian 12 machine (as root), then
#   ./setup.sh demo   run the demo scenario (examples/demo.yaml)
#   ./setup.sh test   run the whole test suite
#   ./setup.sh        only set up
# Idempotent: packages already present are not reinstalled.
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(sip-tester tcpdump kamailio tshark chromium python3-venv baresip-core rtpengine-daemon)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -c "import sipscen, pjsua2, scapy, pylibsrtp" 2>/dev/null \
   || [ pyproject.toml -nt .venv/.sipscen-installed ]; then
    echo "setup: installing sipscen and its dependencies into .venv"
    .venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
    touch .venv/.sipscen-installed
fi

case "${1:-}" in
    demo)
        shift
        exec .venv/bin/sipscen run examples/demo.yaml --json sipscen-artifacts/demo.json \
            --junit sipscen-artifacts/demo.xml "$@"
        ;;
    test)
        shift
        exec .venv/bin/pytest -q "$@"
        ;;
    "") ;;
    *) echo "usage: $0 [demo|test] [extra args]" >&2; exit 2 ;;
esac
