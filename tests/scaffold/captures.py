"""Captures for the scaffold tests: customer-like traffic (bench/scaffold_traffic.py) and
hand-made frames for hostile ones."""
from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / ".." / "shared" / "corpus"

_spec = importlib.util.spec_from_file_location("scaffold_traffic",
                                               ROOT / "bench" / "scaffold_traffic.py")
traffic_gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(traffic_gen)


def udp_frame(src: str, sport: int, dst: str, dport: int, payload: bytes) -> bytes:
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(payload), 0, 0x4000, 64, 17, 0,
                     bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    return (b"\x00" * 12 + b"\x08\x00" + ip +
            struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)


def write_pcap(path: Path, frames: list[tuple[float, bytes]]) -> Path:
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, frame in frames:
            sec = int(t)
            f.write(struct.pack("<IIII", sec, int((t - sec) * 1e6), len(frame), len(frame)))
            f.write(frame)
    return path
