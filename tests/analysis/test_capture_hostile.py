"""Hostile captures from issue 12: a warning and what could be read, never a crash."""
from __future__ import annotations

import json
import struct
from pathlib import Path


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
    code, out, err = sipscen("analyze", "--json", path)
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
    code, out, err = sipscen("analyze", "--json", path)
    assert code == 0, err
    report = json.loads(out)
    assert report["packets"] == 1
    assert any("interface description option" in w for w in report["warnings"])
