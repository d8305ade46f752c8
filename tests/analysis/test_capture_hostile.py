"""Hostile captures from issues 12 and 20: a warning and what could be read, never a crash."""
from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest


def _shb() -> bytes:
    return struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + struct.pack("<I", 28)


def _idb_ending_inside_tsoffset() -> bytes:
    """An interface block whose last option header (if_tsoffset, 8 bytes) sits right
    before the block's trailer: its value lies past the block (and past the file)."""
    body = struct.pack("<HHI", 1, 0, 0) + struct.pack("<HHI", 2, 4, 0) + struct.pack("<HH", 14, 8)
    blen = 8 + len(body) + 4
    return struct.pack("<II", 1, blen) + body + struct.pack("<I", blen)


def test_interface_block_ending_inside_if_tsoffset(sipscen, tmp_path: Path):
    path = tmp_path / "tsoffset.pcapng"
    path.write_bytes(_shb() + _idb_ending_inside_tsoffset())
    assert path.stat().st_size == 60
    code, out, err = sipscen("analyze", "--json", "-", path)
    assert code == 0, err
    report = json.loads(out)
    assert report["packets"] == 0
    assert report["warnings"] == ["damaged capture: an interface description option runs past "
                                  "its block; the rest of its options ignored"]


def test_packets_after_the_damaged_interface_block_are_read(sipscen, tmp_path: Path):
    frame = b"\x00" * 12 + b"\x08\x00" + b"\x45" + b"\x00" * 19       # Ethernet + IPv4 header
    pad = (-len(frame)) % 4
    blen = 32 + len(frame) + pad
    epb = (struct.pack("<IIIIIII", 6, blen, 0, 0, 1_000_000, len(frame), len(frame))
           + frame + b"\0" * pad + struct.pack("<I", blen))
    path = tmp_path / "tsoffset-then-packet.pcapng"
    path.write_bytes(_shb() + _idb_ending_inside_tsoffset() + epb)
    code, out, err = sipscen("analyze", "--json", "-", path)
    assert code == 0, err
    report = json.loads(out)
    assert report["packets"] == 1
    assert any("interface description option" in w for w in report["warnings"])


# ---------------------------------------------------------------- issue 20
def _block(btype: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    return struct.pack("<II", btype, len(body) + 12) + body + struct.pack("<I", len(body) + 12)


def _beyond_time_t(cap, tmp_path: Path, tsresol: int, tsoffset: int, first_tick: int) -> Path:
    """A call with in-band DTMF "12" in PCMA, in a pcapng whose interface says
    ``if_tsresol``/``if_tsoffset`` such that every time lies beyond time_t."""
    from sipscen.analysis.audio import encode_g711
    from sipscen.analysis.inband import dtmf_audio

    opts = (struct.pack("<HH", 9, 1) + bytes([tsresol]) + b"\0\0\0"
            + struct.pack("<HHq", 14, 8, tsoffset) + struct.pack("<HH", 0, 0))
    blocks = [_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)),
              _block(1, struct.pack("<HHI", 1, 0, 0) + opts)]
    call = cap.Call()
    call.invite(1.0, {8: "PCMA/8000"}, {8: "PCMA/8000"})
    pcm = encode_g711(dtmf_audio("12"), "PCMA")
    for i in range(len(pcm) // 160):
        call.udp(1.1 + 0.02 * i, True, cap.rtp(i, 160 * i, 0x1234, 8, pcm[160 * i:160 * i + 160]))
    for k, (_t, frame) in enumerate(call.frames(1)):
        tick = (first_tick + k) & 0xFFFFFFFFFFFFFFFF
        blocks.append(_block(6, struct.pack("<IIIII", 0, tick >> 32, tick & 0xFFFFFFFF,
                                             len(frame), len(frame)) + frame))
    path = tmp_path / f"beyond-{tsresol:x}-{tsoffset}.pcapng"
    path.write_bytes(b"".join(blocks))
    return path


@pytest.mark.parametrize("tsresol,tsoffset,first_tick", [
    (0x80, 0, 2 ** 64 - 100),          # if_tsresol 0x80: one tick is 2^-0 = 1 s; ticks near 2^64
    (6, 2 ** 63 - 1, 1000),            # a huge if_tsoffset (seconds)
    (6, -2 ** 63, 1000),               # and a hugely negative one
])
def test_pcapng_times_beyond_time_t_in_every_view(cap, sipscen, tmp_path, tsresol, tsoffset, first_tick):
    path = _beyond_time_t(cap, tmp_path, tsresol, tsoffset, first_tick)
    for view in (["--json", "-"], [], ["--inband"], ["--inband", "--json", "-"], ["--wav-dir", tmp_path / "wav"]):
        code, out, err = sipscen("analyze", *view, path)
        assert code == 0 and not err, (view, err)
        assert "pcapng timestamps beyond the year 9999" in out
        if "--json" in view:
            report = json.loads(out)
            assert report["calls"][0]["answered"]
            if "--inband" in view:
                assert "".join(d["digit"] for d in report["dtmf"]) == "12"
        else:
            assert "call-1" in out and "INVITE, 200 OK (INVITE), ACK" in out
            if "--inband" in view:
                assert "DTMF: 12" in out
