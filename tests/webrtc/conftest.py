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


def chromium_groups(token: str) -> set[int]:
    """Process groups led by a Chromium started under ``token`` (its renderers, zygotes and
    services do not inherit the environment, but stay in its group)."""
    from ..conftest import processes_with_token
    return {int(line.split()[0]) for line in processes_with_token(token)
            if "--remote-debugging-port" in line}


def in_groups(groups: set[int]) -> list[str]:
    """Processes (not zombies) still in any of ``groups``."""
    left = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(fields[2]) in groups and fields[0] != "Z":
            left.append(f"{entry.name} {cmd[:120]}")
    return left
