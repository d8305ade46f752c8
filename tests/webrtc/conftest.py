"""What the WebRTC tests need: Debian's Chromium, Playwright, the JsSIP bundle that
./setup.sh builds, Kamailio's websocket and tls modules and rtpengine. Missing,
the tests are skipped saying which (./setup.sh installs them all)."""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEBRTC = ROOT / "scenarios" / "webrtc"
MODULES = Path("/usr/lib/x86_64-linux-gnu/kamailio/modules")


def missing() -> list[str]:
    from sipscen.agents.browser.chromium import DEBIAN_BINARY, PROJECT
    needs = {
        "chromium (Debian's)": DEBIAN_BINARY.exists() or shutil.which("chromium"),
        "playwright (pip)": importlib.util.find_spec("playwright") is not None,
        "vendor/jssip/jssip.js (./setup.sh)": (PROJECT / "vendor" / "jssip" / "jssip.js").exists(),
        "kamailio-websocket-modules": (MODULES / "websocket.so").exists(),
        "kamailio-tls-modules": (MODULES / "tls.so").exists(),
        "rtpengine-daemon": shutil.which("rtpengine"),
        "kamailio": shutil.which("kamailio"),
    }
    return [name for name, ok in needs.items() if not ok]


needs_webrtc = pytest.mark.skipif(bool(missing()), reason=f"WebRTC needs: {', '.join(missing())} "
                                  "(./setup.sh installs them)")
