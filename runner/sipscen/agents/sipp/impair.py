"""``impair: {loss: 5%, seed: N}`` on a SIPp agent that plays a pcap: it sends with loss.

A SIPp load carries one media port per call (``[auto_media_port]``), hundreds
of them, played through a raw socket, so the user-space relay of
``agents/impair.py`` (one face per port, for PJSUA) does not fit, and this
kernel has no ``netem``. Dropping in the kernel does not work either (measured
here): an iptables DROP on OUTPUT makes the raw socket's ``sendto`` fail with
EPERM, and SIPp's pcap player then gives up the rest of the file -- calls lose
their media after the first drop instead of 5 % of it; a drop after the
capture point (PREROUTING/INPUT) on the way into the receiving agent is
invisible to the capture. (On the way into a media relay it is not: the relay's
outgoing leg carries the gaps -- a service's ``impair:``, core/netfilter.py,
the SUT's media path; this one stays for loss between agents with no relay.)

So the loss is made where the media starts: the agent plays a copy of its pcap
with each RTP packet left out with probability ``loss`` (seeded, so a run
repeats); the RTP sequence numbers keep their gaps, so on the wire it is
packet loss like any other, measured by the analysis from the sequence numbers.
Every call of the agent plays the same copy (SIPp reads the file once): every
call has the same loss pattern. The copy and its counts are in the artifacts.
"""
from __future__ import annotations

import random
import struct
from pathlib import Path


def loss_fraction(value) -> float:
    text = str(value).strip()
    pct = float(text[:-1]) if text.endswith("%") else float(text)
    return max(0.0, min(100.0, pct)) / 100.0


def thin_pcap(src: Path, dst: Path, fraction: float, seed: int = 1) -> dict:
    """Copy the classic pcap ``src`` to ``dst`` leaving out ``fraction`` of its packets
    at seeded random places (never the first: the stream must start); the counts."""
    data = src.read_bytes()
    magic = data[:4]
    if magic not in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4",
                     b"\xa1\xb2\x3c\x4d"):
        raise ValueError(f"{src}: not a classic pcap file (pcapng? convert it with "
                         "editcap -F pcap)")
    order = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    records = []
    pos = 24
    while pos + 16 <= len(data):
        incl = struct.unpack(order + "I", data[pos + 8:pos + 12])[0]
        records.append(data[pos:pos + 16 + incl])
        pos += 16 + incl
    # exactly round(fraction x packets) left out, at seeded random places (never the first)
    count = min(max(0, len(records) - 1), int(round(fraction * len(records))))
    gone = set(random.Random(seed).sample(range(1, len(records)), count)) if count else set()
    out = bytearray(data[:24])
    for i, record in enumerate(records):
        if i not in gone:
            out += record
    kept, dropped = len(records) - len(gone), len(gone)
    dst.write_bytes(bytes(out))
    return {"loss_pct": round(fraction * 100, 4), "seed": seed, "packets": kept + dropped,
            "left_out": dropped, "file": str(dst),
            "how": "the played pcap thinned at the sender (see agents/sipp/impair.py)"}
