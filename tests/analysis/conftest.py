"""Capture builders for the analysis tests: scapy packets, written as pcap/pcapng.

IP, IPv6 (with extension headers), UDP and TCP come from scapy; link-layer
headers and the pcap/pcapng containers are written with struct so that every
link type, byte order and timestamp resolution can be produced on purpose.
``cap`` (a fixture) bundles everything; tests write into ``tmp_path``.
"""
from __future__ import annotations

import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / ".." / "shared" / "corpus"


# ----------------------------------------------------------------- packets
def rtp(seq: int, ts: int, ssrc: int, pt: int, payload: bytes, marker: bool = False) -> bytes:
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                       ts & 0xFFFFFFFF, ssrc) + payload


def event(code: int, end: bool = False, volume: int = 10, duration: int = 0) -> bytes:
    return struct.pack("!BBH", code, (0x80 if end else 0) | volume, duration)


def udp_ip(src: str, dst: str, sport: int, dport: int, payload: bytes, ext_headers: bool = False) -> bytes:
    if ":" in src:
        ip = IPv6(src=src, dst=dst)
        if ext_headers:
            ip = ip / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt()
    else:
        ip = IP(src=src, dst=dst)
    return bytes(ip / UDP(sport=sport, dport=dport) / payload)


def tcp_ip(src: str, dst: str, sport: int, dport: int, seq: int, payload: bytes = b"",
           flags: str = "PA") -> bytes:
    ip = IPv6(src=src, dst=dst) if ":" in src else IP(src=src, dst=dst)
    return bytes(ip / TCP(sport=sport, dport=dport, seq=seq, flags=flags) / payload)


def link(linktype: int, ip: bytes, vlan: int = 0) -> bytes:
    """Wrap an IP packet in the link-layer header of ``linktype``."""
    v6 = ip[0] >> 4 == 6
    et = b"\x86\xdd" if v6 else b"\x08\x00"
    if linktype == 1:
        tags = b"".join(struct.pack("!HH", 0x88A8 if i == 0 and vlan > 1 else 0x8100, 100 + i)
                        for i in range(vlan))
        return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01" + tags + et + ip
    if linktype == 113:
        return struct.pack("!HHH8s", 0, 772, 6, b"\0" * 8) + et + ip
    if linktype == 276:
        return et + b"\0\0" + struct.pack("!IHBB8s", 1, 772, 0, 6, b"\0" * 8) + ip
    if linktype in (101, 12, 14, 228, 229):
        return ip
    if linktype == 0:
        return struct.pack("<I", 30 if v6 else 2) + ip
    if linktype == 108:
        return struct.pack("!I", 24 if v6 else 2) + ip
    raise ValueError(linktype)


# ----------------------------------------------------------------- files
def write_pcap(path: Path, records, linktype: int = 1, endian: str = "<", nanos: bool = False) -> Path:
    """records: iterable of (time, frame)."""
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    with open(path, "wb") as f:
        f.write(struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 262144, linktype))
        for t, frame in records:
            sec = int(t)
            frac = round((t - sec) * (1e9 if nanos else 1e6))
            f.write(struct.pack(endian + "IIII", sec, frac, len(frame), len(frame)) + frame)
    return path


def _block(endian: str, btype: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack(endian + "II", btype, n) + body + struct.pack(endian + "I", n)


def write_pcapng(path: Path, interfaces, records, endian: str = "<", simple: bool = False) -> Path:
    """interfaces: list of (linktype, tsresol byte or None); records: (time, iface, frame)."""
    out = [_block(endian, 0x0A0D0D0A, struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1))]
    res = []
    for lt, tsresol in interfaces:
        opts = b""
        if tsresol is not None:
            opts = struct.pack(endian + "HH", 9, 1) + bytes([tsresol]) + b"\0\0\0"
            opts += struct.pack(endian + "HH", 0, 0)
        out.append(_block(endian, 1, struct.pack(endian + "HHI", lt, 0, 0) + opts))
        if tsresol is None:
            res.append(1e-6)
        else:
            res.append(2.0 ** -(tsresol & 0x7F) if tsresol & 0x80 else 10.0 ** -tsresol)
    for t, iface, frame in records:
        if simple:
            out.append(_block(endian, 3, struct.pack(endian + "I", len(frame)) + frame))
            continue
        ticks = round(t / res[iface])
        out.append(_block(endian, 6, struct.pack(endian + "IIIII", iface, ticks >> 32, ticks & 0xFFFFFFFF,
                                                 len(frame), len(frame)) + frame))
    path.write_bytes(b"".join(out))
    return path


# ----------------------------------------------------------------- scenarios
def sdp(ip: str, port: int, rtpmap: dict[int, str], proto: str = "RTP/AVP", crypto: list[str] = ()) -> str:
    fam = "IP6" if ":" in ip else "IP4"
    lines = ["v=0", f"o=- 1 1 IN {fam} {ip}", "s=-", f"c=IN {fam} {ip}", "t=0 0",
             f"m=audio {port} {proto} " + " ".join(str(pt) for pt in rtpmap)]
    lines += [f"a=rtpmap:{pt} {name}" for pt, name in rtpmap.items()]
    lines += [f"a=crypto:{c}" for c in crypto]
    lines.append("a=sendrecv")
    return "\r\n".join(lines) + "\r\n"


def sip(first: str, call_id: str, cseq: str, body: str = "", ctype: str = "application/sdp",
        extra: tuple[str, ...] = ()) -> bytes:
    head = [first, "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1", "From: <sip:alice@127.0.0.1>;tag=a",
            "To: <sip:bob@127.0.0.1>", f"Call-ID: {call_id}", f"CSeq: {cseq}", *extra]
    if body:
        head.append(f"Content-Type: {ctype}")
    head.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


def digit_packets(code: int, seq: int, ts: int, t: float, ssrc: int, pt: int, updates: int = 5,
                  ends: int = 3, step: int = 160, volume: int = 10, first_zero: bool = False,
                  same_end_seq: bool = False):
    """(time, rtp bytes) of one RFC 4733 event: updates then ``ends`` end packets.

    Returns (packets, next_seq)."""
    out = []
    for i in range(updates):
        dur = step * i if first_zero else step * (i + 1)
        out.append((t + 0.02 * i, rtp(seq, ts, ssrc, pt, event(code, False, volume, dur), marker=i == 0)))
        seq += 1
    final = step * (updates + (0 if first_zero else 1))
    for j in range(ends):
        out.append((t + 0.02 * (updates + j), rtp(seq, ts, ssrc, pt, event(code, True, volume, final))))
        if not same_end_seq:
            seq += 1
    if same_end_seq:
        seq += 1
    return out, seq


@dataclass
class Call:
    """Builds a two-party call: records of (time, ip packet bytes)."""

    a: str = "127.0.0.1"
    b: str = "127.0.0.2"
    a_port: int = 4000
    b_port: int = 5000
    records: list = field(default_factory=list)

    def udp(self, t: float, from_a: bool, payload: bytes, sip_port: bool = False) -> None:
        if sip_port:
            src, dst, sp, dp = (self.a, self.b, 5060, 5060)
            if not from_a:
                src, dst = dst, src
        elif from_a:
            src, dst, sp, dp = self.a, self.b, self.a_port, self.b_port
        else:
            src, dst, sp, dp = self.b, self.a, self.b_port, self.a_port
        self.records.append((t, udp_ip(src, dst, sp, dp, payload)))

    def invite(self, t: float, a_map: dict, b_map: dict, call_id: str = "call-1",
               a_proto: str = "RTP/AVP", b_proto: str = "RTP/AVP", a_crypto=(), b_crypto=()) -> None:
        self.udp(t, True, sip("INVITE sip:bob@127.0.0.2 SIP/2.0", call_id, "1 INVITE",
                              sdp(self.a, self.a_port, a_map, a_proto, a_crypto)), sip_port=True)
        self.udp(t + 0.001, False, sip("SIP/2.0 200 OK", call_id, "1 INVITE",
                                       sdp(self.b, self.b_port, b_map, b_proto, b_crypto)), sip_port=True)
        self.udp(t + 0.002, True, sip("ACK sip:bob@127.0.0.2 SIP/2.0", call_id, "1 ACK"), sip_port=True)

    def frames(self, linktype: int = 1, vlan: int = 0):
        return [(t, link(linktype, ip, vlan)) for t, ip in sorted(self.records, key=lambda r: r[0])]


class Cap:
    """Everything a test needs, as one fixture."""

    rtp = staticmethod(rtp)
    event = staticmethod(event)
    udp_ip = staticmethod(udp_ip)
    tcp_ip = staticmethod(tcp_ip)
    link = staticmethod(link)
    write_pcap = staticmethod(write_pcap)
    write_pcapng = staticmethod(write_pcapng)
    sdp = staticmethod(sdp)
    sip = staticmethod(sip)
    digit_packets = staticmethod(digit_packets)
    Call = Call
    CORPUS = CORPUS

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self._n = 0

    def path(self, suffix: str = ".pcap") -> Path:
        self._n += 1
        return self.tmp / f"cap{self._n}{suffix}"

    def pcap_of(self, call: Call, linktype: int = 1, **kw) -> Path:
        return write_pcap(self.path(), call.frames(linktype, kw.pop("vlan", 0)), linktype, **kw)

    def rtp_only(self, packets, src=("127.0.0.1", 4000), dst=("127.0.0.2", 5000), linktype: int = 1) -> Path:
        """A capture of RTP packets ``(time, rtp bytes)`` on one flow, no SIP."""
        frames = [(t, link(linktype, udp_ip(src[0], dst[0], src[1], dst[1], pkt))) for t, pkt in packets]
        return write_pcap(self.path(), frames, linktype)


@pytest.fixture
def cap(tmp_path) -> Cap:
    return Cap(tmp_path)


def tshark_events(path: Path, decode_pts=(), heuristic: bool = True) -> list[tuple[int, int, int]]:
    """(ssrc, rtp timestamp, event) of every telephone-event packet tshark decodes, distinct, in order."""
    exe = shutil.which("tshark")
    if exe is None:
        pytest.skip("tshark not installed")
    argv = [exe, "-n", "-r", str(path)]
    if heuristic:
        argv.append("--enable-heuristic=rtp_udp")
    for pt in decode_pts:
        argv += ["-d", f"rtp.pt=={pt},rtpevent"]
    argv += ["-Y", "rtpevent", "-T", "fields", "-e", "rtp.ssrc", "-e", "rtp.timestamp",
             "-e", "rtpevent.event_id"]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True)
    seen, out = set(), []
    for line in res.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or not parts[2]:
            continue
        key = (int(parts[0], 16), int(parts[1]), int(parts[2].split(",")[0]))
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out


@pytest.fixture
def tshark():
    return tshark_events
