"""What a scenario's capture settings hide from its wire checks.

A capture with ``filter: "not udp"`` holds none of the scenario's UDP SIP; one
with ``snaplen: 60`` holds the first 60 bytes of every SIP message. A wire
check that looks for "no INVITE from alice" then passes on a capture that
could not have shown one (issue 20). This module says what the capture could
not see, per *channel* and pair of parties, with the reason; the verdict
(``checks/verdict.py``) makes every wire result resting on such a channel
inconclusive.

Channels: ``sip`` (signalling, whole messages: headers, SDP, INFO bodies),
``rtp`` (media packets, their RTP header and the first bytes after it: DTMF
events) and ``payload`` (media packets whole: audio, SRTP authentication).

* The filter cannot be judged from the capture (what it dropped left no
  trace): :func:`filter_blind` runs libpcap's own compiled filter - the very
  expression tcpdump got - over a sample packet of each channel between each
  pair of parties, on their planned addresses, ports and transports.
* The snapshot length is judged on the evidence: :func:`snaplen_blind` reads
  the capture's record headers and names the channels of the packets it cut.

Without libpcap (no tcpdump either) the filter is not judged.
"""
from __future__ import annotations

import ctypes
import functools
import struct
from dataclasses import dataclass
from itertools import permutations
from pathlib import Path
from typing import Any, Iterable
import ipaddress
from sipscen.capture.bpf import _LOCK, _libpcap, _Program

SIP, RTP, PAYLOAD = "sip", "rtp", "payload"
CHANNELS = (SIP, RTP, PAYLOAD)
# what families read (their ``wire_needs``): signalling only; and media headers; all of it
SIGNALLING = frozenset({SIP})
HEADERS = frozenset({SIP, RTP})
WHOLE = frozenset({SIP, RTP, PAYLOAD})
ETHERNET = 1
_RTP_KEPT = 12 + 4          # an RTP header and a telephone-event: what `rtp` needs


@dataclass(frozen=True)
class Blind:
    """The capture did not see ``channel`` between two parties, because ``why``."""
    channel: str
    parties: tuple[str, str]
    why: str


# ------------------------------------------------------------------- the filter ---
class _Header(ctypes.Structure):        # struct pcap_pkthdr
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long),
                ("caplen", ctypes.c_uint32), ("len", ctypes.c_uint32)]


def _checker(expression: str):
    """A function(frame bytes) -> kept? for ``expression`` on Ethernet, or None."""
    lib = _libpcap()
    if lib is None:
        return None
    lib.pcap_offline_filter.restype = ctypes.c_int
    lib.pcap_offline_filter.argtypes = [ctypes.POINTER(_Program), ctypes.POINTER(_Header),
                                        ctypes.c_char_p]
    handle = lib.pcap_open_dead(ETHERNET, 65535)
    if not handle:
        return None
    program = _Program()
    with _LOCK:
        ok = lib.pcap_compile(handle, ctypes.byref(program), expression.encode(), 1,
                              0xFFFFFFFF) == 0
    lib.pcap_close(handle)
    if not ok:
        return None

    def kept(frame: bytes) -> bool:
        header = _Header(0, 0, len(frame), len(frame))
        return lib.pcap_offline_filter(ctypes.byref(program), ctypes.byref(header),
                                       frame) != 0

    kept.free = lambda: lib.pcap_freecode(ctypes.byref(program))   # type: ignore[attr-defined]
    return kept


def _frame(src: str, sport: int, dst: str, dport: int, tcp: bool, payload: bytes) -> bytes:
    """An Ethernet frame as ``lo`` carries it (the link tcpdump captures)."""
    a, b = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if tcp:
        l4 = struct.pack("!HHIIBBHHH", sport, dport, 1, 1, 5 << 4, 0x18, 65535, 0, 0)
    else:
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    proto = 6 if tcp else 17
    if a.version == 4:
        total = 20 + len(l4) + len(payload)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, 0x4000, 64, proto, 0,
                         a.packed, b.packed)
        ethertype = 0x0800
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(l4) + len(payload), proto, 64,
                         a.packed, b.packed)
        ethertype = 0x86DD
    return b"\0" * 12 + struct.pack("!H", ethertype) + ip + l4 + payload


_SIP = b"INVITE sip:x@127.0.0.1 SIP/2.0\r\nCall-ID: sample\r\nContent-Length: 0\r\n\r\n"
_RTP_SAMPLE = bytes([0x80, 0x08]) + b"\0\x01" + b"\0" * 8 + b"\xd5" * 160


def _samples(contacts: dict[str, Any]) -> Iterable[tuple[str, tuple[str, str], str, bytes]]:
    """(channel, (a, b), what, frame) for every pair of parties: SIP from a's port
    to b's on a's transport; RTP from a's first media port to b's."""
    for (na, a), (nb, b) in permutations(sorted(contacts.items()), 2):
        if (":" in a.host) != (":" in b.host):
            continue                        # IPv4 and IPv6 parties do not talk directly
        tcp = str(a.transport or "udp").lower() in ("tcp", "tls")
        what = f"{'TCP' if tcp else 'UDP'} {a.hostport} -> {b.hostport}"
        yield SIP, (na, nb), f"{na}'s SIP to {nb} ({what})", \
            _frame(a.host, a.port, b.host, b.port, tcp, _SIP)
        if a.media_ports and b.media_ports:
            sport, dport = a.media_ports[0], b.media_ports[0]
            frame = _frame(a.host, sport, b.host, dport, False, _RTP_SAMPLE)
            for channel in (RTP, PAYLOAD):
                yield channel, (na, nb), \
                    f"{na}'s RTP to {nb} (UDP {a.host}:{sport} -> {b.host}:{dport})", frame


def filter_blind(expression: str, user_filter: str, contacts: dict[str, Any]) -> list[Blind]:
    """What ``expression`` (the whole filter tcpdump got, the scenario's own part
    ``user_filter``) drops of the traffic between ``contacts``."""
    if not user_filter:
        return []                  # the engine's own port filter keeps every party's traffic
    return list(_filter_blind(expression, user_filter, tuple(sorted(contacts.items()))))


@functools.lru_cache(maxsize=64)      # validation asks again for each parameter set
def _filter_blind(expression: str, user_filter: str, contacts: tuple) -> tuple[Blind, ...]:
    kept = _checker(expression)
    if kept is None:
        return []
    blind = []
    try:
        for channel, pair, what, frame in _samples(dict(contacts)):
            if not kept(frame):
                blind.append(Blind(channel, pair, f"the capture filter {user_filter!r} drops "
                                                  f"{what}"))
    finally:
        kept.free()
    return tuple(blind)


# ----------------------------------------------------------------- the snaplen ---
def snaplen_blind(pcap: Path, snaplen: int, contacts: dict[str, Any],
                  limit: int = 200000) -> list[Blind]:
    """The channels of the packets a snapshot length of ``snaplen`` cut in
    ``pcap`` (classic pcap, as tcpdump writes; the first ``limit`` records)."""
    if not snaplen:
        return []
    sip_ports = {c.port: name for name, c in contacts.items()}
    media = [(name, c.media_ports) for name, c in contacts.items() if c.media_ports]
    cut: dict[tuple[str, tuple[str, str]], str] = {}
    for kept, full, frame in _truncated(pcap, limit):
        ports = _ports(frame)
        if ports is None:        # cut before the ports: nothing can be told apart
            for channel in CHANNELS:
                cut.setdefault((channel, ("*", "*")), f"the capture's snaplen {snaplen} cut "
                               f"a packet of {full} bytes to {kept}, before its ports")
            continue
        (sport, dport), headers = ports
        a = sip_ports.get(sport) or _in_media(sport, media)
        b = sip_ports.get(dport) or _in_media(dport, media)
        pair = (a or "*", b or "*")
        if sport in sip_ports or dport in sip_ports:
            channels = [SIP]
        else:
            channels = [PAYLOAD] + ([RTP] if kept < headers + _RTP_KEPT else [])
        for channel in channels:
            cut.setdefault((channel, pair), f"the capture's snaplen {snaplen} cut a "
                           f"{'SIP' if channel == SIP else 'media'} packet from port {sport} "
                           f"to {dport} ({full} bytes) to {kept}")
    return [Blind(channel, pair, why) for (channel, pair), why in cut.items()]


def _in_media(port: int, media: list) -> str | None:
    for name, (lo, hi) in media:
        if lo <= port <= hi:
            return name
    return None


def _truncated(pcap: Path, limit: int):
    """(kept, original length, kept bytes) of every record the capture cut."""
    try:
        f = open(pcap, "rb")
    except OSError:
        return
    with f:
        head = f.read(24)
        if len(head) < 24:
            return
        magic = head[:4]
        endian = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",
                  b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}.get(magic)
        if endian is None or struct.unpack(endian + "I", head[20:24])[0] != ETHERNET:
            return                          # pcapng or another link: not judged here
        for _ in range(limit):
            rec = f.read(16)
            if len(rec) < 16:
                return
            kept, full = struct.unpack(endian + "II", rec[8:16])
            data = f.read(kept)
            if len(data) < kept:
                return
            if kept < full:
                yield kept, full, data


def _ports(frame: bytes) -> tuple[tuple[int, int], int] | None:
    """((source port, destination port), header bytes before the payload) of an
    Ethernet frame's UDP or TCP packet, or None when cut before them."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack("!H", frame[12:14])[0]
    if ethertype == 0x0800 and len(frame) >= 34:
        ihl = (frame[14] & 0x0F) * 4
        proto, at = frame[23], 14 + ihl
    elif ethertype == 0x86DD and len(frame) >= 54:
        proto, at = frame[20], 54
    else:
        return None
    if proto not in (6, 17) or len(frame) < at + 4:
        return None
    ports = struct.unpack("!HH", frame[at:at + 4])
    if proto == 17:
        return ports, at + 8
    offset = (frame[at + 12] >> 4) * 4 if len(frame) > at + 12 else 20
    return ports, at + offset
