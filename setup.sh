#!/usr/bin/env bash
# Set up everything sipscen needs on a fresh Debian 12 machine (as root), then
#   ./setup.sh demo   run the demo scenario (examples/demo.yaml)
#   ./setup.sh test   run the whole test suite
#   ./setup.sh        only set up
#   ./setup.sh image  set up a container image (the Containerfile runs this): the
#                     packages sipscen runs with (not the test-only ones), sipscen
#                     with its `kube` extra, tcpdump allowed to capture for a
#                     non-root user (file capabilities), the user sipscen (uid 10001)
#   ./setup.sh packages [image]   print what that mode installs, install nothing
# Idempotent: packages already present are not reinstalled.
# The one list of what sipscen needs: the Containerfile has none of its own.
set -euo pipefail
cd "$(dirname "$0")"

RUN_PACKAGES=(sip-tester tcpdump kamailio python3-venv libopus0 iptables)   # what sipscen runs
                                      # (libopus0: opus decoded on the wire, analysis/opus.py,
                                      # ctypes; iptables: a service's impair:, core/netfilter.py)
TEST_PACKAGES=(tshark chromium baresip-core rtpengine-daemon espeak-ng sox coturn
               kamailio-websocket-modules kamailio-tls-modules)   # cross-checks, the HTML
                                      # browser test, the SBC library (scenarios/sbc: baresip,
                                      # rtpengine), talk-off audio (espeak-ng speech, sox music),
                                      # the browser agent (chromium) and the WebRTC SBC
                                      # (scenarios/webrtc: Kamailio's ws/wss listeners),
                                      # STUN/TURN for ICE and TLS for the example SUT (scenarios/parity)
NODE_PACKAGES=(nodejs npm)            # only when node/npm are absent: npm installs and
                                      # bundles JsSIP for the browser agent (vendor/jssip)
IMAGE_PACKAGES=(libcap2-bin)          # setcap, for tcpdump as a non-root user
IMAGE_UID=10001                       # = sipscen.kube.manifests.RUN_AS_UID

MODE=${1:-}
if [ "$MODE" = image ]; then
    APT_PACKAGES=("${RUN_PACKAGES[@]}" "${IMAGE_PACKAGES[@]}")
    EXTRAS=kube
    IMPORTS="import sipscen, pjsua2, scapy, kubernetes"
else
    APT_PACKAGES=("${RUN_PACKAGES[@]}" "${TEST_PACKAGES[@]}")
    EXTRAS=test
    IMPORTS="import sipscen, pjsua2, scapy, pylibsrtp, kubernetes_validate, playwright"
fi

if [ "$MODE" = packages ]; then
    if [ "${2:-}" = image ]; then pkgs=("${RUN_PACKAGES[@]}" "${IMAGE_PACKAGES[@]}"); extras=kube
    else pkgs=("${RUN_PACKAGES[@]}" "${TEST_PACKAGES[@]}"); extras=test; fi
    echo "apt: ${pkgs[*]}"
    [ "${2:-}" = image ] || echo "apt (when node/npm are absent): ${NODE_PACKAGES[*]}"
    echo "pip: .[$extras]"
    [ "${2:-}" = image ] || echo "npm: vendor/jssip (JsSIP bundled for the browser agent)"
    exit 0
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "$MODE" != image ] && ! { command -v node && command -v npm; } >/dev/null 2>&1; then
    missing+=("${NODE_PACKAGES[@]}")
fi
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
if ! .venv/bin/python -c "$IMPORTS" 2>/dev/null \
   || [ pyproject.toml -nt .venv/.sipscen-installed ]; then
    echo "setup: installing sipscen and its dependencies into .venv"
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$EXTRAS]"
    touch .venv/.sipscen-installed
fi

# PJSUA agents on IPv6: the pjsua2 wheel above is built without IPv6; 2.10 has it.
# Its own venv, sipscen beside it (runner/sipscen/agents/pjsua/ipv6.py).
IPV6_PJSUA=pjsua2-python==2.10.post6
if [ "$MODE" != image ] && { [ ! -x .venv-ipv6/bin/python ] \
        || ! .venv-ipv6/bin/python -I -c "import pjsua2, numpy, sipscen" 2>/dev/null \
        || [ pyproject.toml -nt .venv-ipv6/.sipscen-installed ]; }; then
    echo "setup: creating .venv-ipv6 ($IPV6_PJSUA, for pjsua agents on IPv6)"
    rm -rf .venv-ipv6
    "$PYTHON" -m venv .venv-ipv6
    .venv-ipv6/bin/python -m pip install -q --disable-pip-version-check "$IPV6_PJSUA" numpy
    .venv-ipv6/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
    touch .venv-ipv6/.sipscen-installed
fi

# The browser agent's JsSIP: installed from npm and bundled into one file here, at
# setup, so that a scenario never downloads anything (agents/browser serves it from disk).
if [ "$MODE" != image ] && { [ ! -s vendor/jssip/jssip.js ] \
        || [ vendor/jssip/package-lock.json -nt vendor/jssip/jssip.js ]; }; then
    echo "setup: installing JsSIP for the browser agent (vendor/jssip)"
    (cd vendor/jssip && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
fi

case "$MODE" in
    image)
        # capture as a non-root user: the pod adds NET_RAW/NET_ADMIN to its bounding
        # set only when a scenario captures (sipscen kube manifests)
        setcap cap_net_raw,cap_net_admin+eip "$(command -v tcpdump)"
        # the image writes no bytecode (PYTHONDONTWRITEBYTECODE, a checkout uid 10001
        # cannot write): compiled here, or every start compiles sipscen's modules again
        # (about 0.07 CPU s of `sipscen analyze`)
        .venv/bin/python -m compileall -q runner/sipscen
        id -u sipscen >/dev/null 2>&1 || useradd --uid "$IMAGE_UID" --user-group \
            --no-create-home --home-dir /tmp --shell /usr/sbin/nologin sipscen
        apt-get clean
        rm -rf /var/lib/apt/lists/*
        ;;
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
    *) echo "usage: $0 [demo|test|image] [extra args]" >&2; exit 2 ;;
esac
