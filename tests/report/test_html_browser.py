"""The HTML report in a real browser: Debian's headless Chromium renders and screenshots it.

The screenshot is decoded with a small stdlib PNG reader: it must not be blank,
and the ladder's arrows (drawn in the first call's colour) must be visible.
A second run with a deep link (#ID) proves the page's script shows a whole SIP
message in the panel when its arrow is clicked.
"""
from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import time
import zlib
from pathlib import Path

import pytest

from sipscen.report.html import write_html
from sipscen.report.html_ladder import PALETTE

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian chromium is not installed (apt-get install -y chromium)")


def chromium(tmp_path: Path, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    """Run headless chromium once (own profile folder, no network services), bounded in time.

    Chromium runs in its own session; whatever is left of its process group
    afterwards (helpers, or everything on a timeout) is killed, so nothing
    outlives the test.
    """
    profile = tmp_path / "chromium-profile"
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-extensions", "--hide-scrollbars",
            f"--user-data-dir={profile}", *args]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        out, err = proc.communicate()
        pytest.fail(f"chromium did not finish within {timeout}s: {err[-2000:]}")
    finally:
        _kill_group(proc.pid)
    assert not _alive_in_group(proc.pid), "chromium left processes behind"
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _alive_in_group(pgid: int, wait: float = 3.0) -> list[int]:
    """Pids (not zombies) still in process group ``pgid`` after up to ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while True:
        alive = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                alive.append(int(entry.name))
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def read_png(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit RGB/RGBA non-interlaced PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line) if bpp == 3 else bytes(v for j, v in enumerate(line) if j % 4 != 3))
        prev = line
    return width, height, rows


def colour_stats(rows: list[bytes], rgb: tuple[int, int, int], tolerance: int = 24):
    """(distinct colours, non-white pixels, pixels near ``rgb``)."""
    colours, non_white, near = set(), 0, 0
    for row in rows:
        for i in range(0, len(row), 3):
            px = row[i:i + 3]
            colours.add(px)
            if px != b"\xff\xff\xff":
                non_white += 1
            if all(abs(px[k] - rgb[k]) <= tolerance for k in range(3)):
                near += 1
    return len(colours), non_white, near


def shoot(results, tmp_path: Path, name: str) -> Path:
    html = write_html(results, tmp_path / f"{name}.html")
    png = tmp_path / f"{name}.png"
    proc = chromium(tmp_path, f"--screenshot={png}", "--window-size=1280,1600", html.as_uri())
    assert png.exists() and png.stat().st_size > 1000, proc.stderr[-2000:]
    return png


def test_chromium_draws_the_ladder(results, tmp_path):
    arrow = tuple(int(PALETTE[0][i:i + 2], 16) for i in (1, 3, 5))
    with_ladder = shoot(results, tmp_path, "report")
    width, height, rows = read_png(with_ladder)
    assert (width, height) == (1280, 1600)
    distinct, non_white, near_arrow = colour_stats(rows, arrow)
    assert distinct > 50, "the screenshot is (almost) blank"
    assert non_white > 0.03 * width * height

    for r in results:                      # the same page without any captured SIP message
        r.wire = {**r.wire, "calls": []}
    without = shoot(results, tmp_path, "noladder")
    _, _, rows2 = read_png(without)
    _, _, near_arrow_without = colour_stats(rows2, arrow)
    # 7 arrows of ~250 px, 2 px thick, in the ladder's colour
    assert near_arrow - near_arrow_without > 7 * 150, (near_arrow, near_arrow_without)
    # keep a copy to look at: REPORT_SCREENSHOT=/path pytest ...
    if os.environ.get("REPORT_SCREENSHOT"):
        shutil.copy(with_ladder, os.environ["REPORT_SCREENSHOT"])


def test_clicking_an_arrow_shows_the_whole_message(results, tmp_path):
    html = write_html(results, tmp_path / "r.html")
    proc = chromium(tmp_path, "--dump-dom", html.as_uri() + "#s1-demo-wrong-digits-raw-0")
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    panels = {}
    for part in dom.split('<section class="scenario ')[1:]:
        sid = part.split('id="', 1)[1].split('"', 1)[0]
        if '<div class="raw-panel"><pre>' in part:
            panels[sid] = part.split('<div class="raw-panel"><pre>', 1)[1].split("</pre>", 1)[0]
    assert set(panels) == {"s0-demo-srtp-dtmf", "s1-demo-wrong-digits"}
    assert panels["s0-demo-srtp-dtmf"].startswith("Click a message")   # the other one: untouched
    shown = panels["s1-demo-wrong-digits"]
    assert shown.startswith("0.412s  127.0.0.1:5070 -&gt; 127.0.0.1:5072")
    assert "INVITE sip:bob@127.0.0.1:5072 SIP/2.0" in shown
    assert "m=audio 40000 RTP/SAVP 8 101" in shown
    assert 'class="msg req selected"' in dom
