"""Chromium for the browser agent: which binary, with which switches, and the files
its pages load (all from disk: nothing is downloaded while a scenario runs).

* the binary: ``$SIPSCEN_CHROMIUM``, else Debian's ``/usr/lib/chromium/chromium``
  (the real binary: the ``/usr/bin/chromium`` wrapper script only adds desktop
  switches), else ``chromium`` on the PATH;
* the switches: headless, no sandbox (root), nothing that reaches the internet
  (background networking, component updates, sync, QUIC; no name resolves and a
  dead loopback proxy takes whatever is not for the loopback), fake media UI,
  WebRTC on the loopback (ICE sockets on the any-address, offered at the loopback
  address by the page: ``page/agent.js`` ``loopbackOnly``; no mDNS names),
  autoplay without a gesture (the WebAudio graph starts by itself), DevTools on
  a planned loopback port (Playwright connects over CDP), and the SPKI hashes of
  the certificates the scenario's browser agents trust (``tls.trust``);
* the page: ``page/`` next to this module and the JsSIP bundle that ``./setup.sh``
  builds in ``vendor/jssip/jssip.js`` (or ``$SIPSCEN_JSSIP``).
"""
from __future__ import annotations

import base64
import hashlib
import os
import shutil
from pathlib import Path

from sipscen.core.errors import InfrastructureError

PAGE_DIR = Path(__file__).with_name("page")
PROJECT = Path(__file__).resolve().parents[4]        # runner/sipscen/agents/browser -> root
DEBIAN_BINARY = Path("/usr/lib/chromium/chromium")
ORIGIN = "http://127.0.0.1:9"       # the page's origin: served by a route, never a socket

# Switches every browser agent's Chromium gets (see the module docstring).
SWITCHES = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--mute-audio",
    "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic",
    "--disable-default-apps", "--disable-extensions", "--disable-domain-reliability",
    "--no-pings",
    "--metrics-recording-only", "--password-store=basic", "--use-mock-keychain",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    # a headless page counts as hidden: no timer throttling, no lowered renderer priority
    # (measured: with them the call's audio played out slower than the wall clock under load)
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--webrtc-ip-handling-policy=default_public_interface_only",
    "--disable-features=WebRtcHideLocalIpsWithMdns,LocalNetworkAccessChecks,"
    "MediaRouter,OptimizationHints,Translate,AutofillServerCommunication",
    "--remote-debugging-address=127.0.0.1",
    # measured: even so it looks up accounts.google.com, clients2.google.com and
    # update.googleapis.com; no name resolves, anything not on the loopback goes to a
    # dead loopback proxy (the loopback itself is always direct)
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE [::1], EXCLUDE localhost", "--proxy-server=127.0.0.1:9",
)


def binary() -> str:
    """The Chromium to run, or an infrastructure error saying how to install it."""
    chosen = os.environ.get("SIPSCEN_CHROMIUM")
    if chosen:
        if not os.access(chosen, os.X_OK):
            raise InfrastructureError(f"SIPSCEN_CHROMIUM={chosen} is not an executable")
        return chosen
    if os.access(DEBIAN_BINARY, os.X_OK):
        return str(DEBIAN_BINARY)
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise InfrastructureError("the browser agent needs Chromium: install Debian's "
                                  "chromium (./setup.sh does)")
    return found


def environment(folder: Path, keylog: Path) -> dict[str, str]:
    """Chromium's environment: its TLS secrets to ``keylog`` (the capture analysis reads
    wss with them), its configuration under ``folder`` (not the user's home): so its
    crash handler, which Chromium starts in a session of its own (not stopping with the
    process group: ``process.stop_strays`` finds it by that folder), names the folder.
    (``--disable-crashpad-for-testing`` would keep it from starting, but then the
    network service crashes on start: "FD ownership violation".)"""
    return {**os.environ, "SSLKEYLOGFILE": str(keylog), "XDG_CONFIG_HOME": str(folder / "config"),
            "XDG_CACHE_HOME": str(folder / "cache")}


def argv(debug_port: int, profile: Path, trusted: list[str]) -> list[str]:
    args = [binary(), *SWITCHES, f"--remote-debugging-port={debug_port}",
            f"--user-data-dir={profile}"]
    if trusted:
        args.append("--ignore-certificate-errors-spki-list=" + ",".join(sorted(set(trusted))))
    return args + ["about:blank"]


def spki_hash(cert_path: str) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)) of a PEM certificate: what Chromium's
    ``--ignore-certificate-errors-spki-list`` takes. ValueError if it is not one."""
    from cryptography import x509        # a dependency; loaded only for wss trust
    from cryptography.hazmat.primitives import serialization  # lazy: a dependency; loaded only for wss trust
    data = Path(cert_path).read_bytes()
    try:
        cert = x509.load_pem_x509_certificate(data)
    except ValueError:
        raise ValueError(f"{cert_path} holds no PEM certificate (BEGIN CERTIFICATE)") from None
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def jssip_bundle() -> Path:
    """The JsSIP bundle, or an infrastructure error saying how to build it."""
    chosen = os.environ.get("SIPSCEN_JSSIP")
    path = Path(chosen) if chosen else PROJECT / "vendor" / "jssip" / "jssip.js"
    if not path.is_file():
        raise InfrastructureError(f"the browser agent needs the JsSIP bundle {path}: run "
                                  "./setup.sh (npm installs and bundles JsSIP into "
                                  "vendor/jssip), or point SIPSCEN_JSSIP at a jssip.js")
    return path


def page_files() -> dict[str, tuple[Path, str]]:
    """URL path -> (file, content type) of everything the agent's page loads."""
    js = "text/javascript"
    return {"/": (PAGE_DIR / "index.html", "text/html"),
            "/agent.js": (PAGE_DIR / "agent.js", js),
            "/media.js": (PAGE_DIR / "media.js", js),
            "/sdp.js": (PAGE_DIR / "sdp.js", js),
            "/recorder-worklet.js": (PAGE_DIR / "recorder-worklet.js", js),
            "/jssip.js": (jssip_bundle(), js)}
