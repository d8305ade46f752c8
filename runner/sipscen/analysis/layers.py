"""Link, network and transport header decoding for captured frames.

Pure offset arithmetic over ``bytes`` — no objects per layer.  ``ip_payload``
turns a frame of a given link type into ``(src, dst, proto, start, end)``:
the raw source/destination address bytes (4 or 16), the transport protocol
number and the slice of the frame holding the transport header and payload.

Link types: Ethernet (1) with 802.1Q / 802.1ad / QinQ tags, Linux cooked
capture v1 (113) and v2 (276), raw IP (101, 12, 14, 228, 229), BSD null
loopback (0) and OpenBSD loop (108).  IPv4 fragments are reported with
``proto == FRAGMENT`` (not reassembled); IPv6 extension headers are skipped.
"""
from __future__ import annotations

import socket

ETHERNET = 1
NULL = 0
LOOP = 108
RAW = 101
RAW_BSD = 12
RAW_BSD14 = 14
IPV4 = 228
IPV6 = 229
SLL = 113
SLL2 = 276

SUPPORTED_LINKTYPES = frozenset({ETHERNET, NULL, LOOP, RAW, RAW_BSD, RAW_BSD14, IPV4, IPV6, SLL, SLL2})

_NAMES = {
    0: "BSD loopback", 1: "Ethernet", 6: "Token Ring", 9: "PPP", 12: "raw IP", 14: "raw IP",
    101: "raw IP", 105: "IEEE 802.11", 108: "OpenBSD loopback", 113: "Linux cooked v1",
    127: "IEEE 802.11 radiotap", 147: "user 0", 195: "IEEE 802.15.4", 220: "USB Linux mmapped",
    228: "raw IPv4", 229: "raw IPv6", 276: "Linux cooked v2",
}

FRAGMENT = -1
UDP = 17
TCP = 6

_VLAN_TYPES = (0x8100, 0x88A8, 0x9100, 0x9200)
_V6_EXT = frozenset({0, 43, 60, 135, 139, 140, 253, 254})


def linktype_name(linktype: int) -> str:
    return _NAMES.get(linktype, "unknown")


def ip_payload(linktype: int, data: bytes):
    """Decode a frame down to its transport layer.

    Returns ``(src, dst, proto, start, end)`` or ``None`` when the frame does not
    carry IPv4/IPv6 or is too short to.
    """
    n = len(data)
    if linktype == ETHERNET:
        if n < 14:
            return None
        et = (data[12] << 8) | data[13]
        off = 14
    elif linktype == SLL2:
        if n < 20:
            return None
        et = (data[0] << 8) | data[1]
        off = 20
    elif linktype == SLL:
        if n < 16:
            return None
        et = (data[14] << 8) | data[15]
        off = 16
    elif linktype in (NULL, LOOP):
        if n < 5:
            return None
        off = 4
        et = 0x0800 if data[4] >> 4 == 4 else 0x86DD if data[4] >> 4 == 6 else 0
    elif linktype in (RAW, RAW_BSD, RAW_BSD14, IPV4, IPV6):
        if n < 1:
            return None
        off = 0
        et = 0x0800 if data[0] >> 4 == 4 else 0x86DD if data[0] >> 4 == 6 else 0
    else:
        return None
    while et in _VLAN_TYPES:
        if n < off + 4:
            return None
        et = (data[off + 2] << 8) | data[off + 3]
        off += 4
    if et == 0x0800:
        return ipv4(data, off)
    if et == 0x86DD:
        return ipv6(data, off)
    return None


def ipv4(data: bytes, off: int):
    n = len(data)
    if n < off + 20 or data[off] >> 4 != 4:
        return None
    ihl = (data[off] & 0x0F) * 4
    if ihl < 20 or n < off + ihl:
        return None
    total = (data[off + 2] << 8) | data[off + 3]
    end = off + total if total >= ihl else n  # total 0: TSO on the capturing host
    if end > n:
        end = n
    frag = ((data[off + 6] << 8) | data[off + 7]) & 0x3FFF
    proto = data[off + 9] if not frag else FRAGMENT
    return data[off + 12:off + 16], data[off + 16:off + 20], proto, off + ihl, end


def ipv6(data: bytes, off: int):
    n = len(data)
    if n < off + 40 or data[off] >> 4 != 6:
        return None
    plen = (data[off + 4] << 8) | data[off + 5]
    nh = data[off + 6]
    src = data[off + 8:off + 24]
    dst = data[off + 24:off + 40]
    end = off + 40 + plen if plen else n  # jumbogram / TSO: trust the frame
    if end > n:
        end = n
    p = off + 40
    for _ in range(16):
        if nh in _V6_EXT:
            if p + 8 > end:
                return None
            nh, hlen = data[p], (data[p + 1] + 1) * 8
            p += hlen
        elif nh == 51:  # AH
            if p + 8 > end:
                return None
            nh, hlen = data[p], (data[p + 1] + 2) * 4
            p += hlen
        elif nh == 44:  # fragment header
            if p + 8 > end:
                return None
            fo = ((data[p + 2] << 8) | data[p + 3])
            if fo & 0xFFF9:  # offset != 0 or more-fragments
                return src, dst, FRAGMENT, p + 8, end
            nh = data[p]
            p += 8
        else:
            break
    if p > end:
        return None
    return src, dst, nh, p, end


def addr_str(raw: bytes) -> str:
    """Printable form of 4- or 16-byte address bytes."""
    if len(raw) == 4:
        return f"{raw[0]}.{raw[1]}.{raw[2]}.{raw[3]}"
    try:
        return socket.inet_ntop(socket.AF_INET6, raw)
    except (ValueError, OSError):
        return raw.hex()


def endpoint_str(raw: bytes, port: int) -> str:
    """``ip:port`` (IPv6 addresses in brackets would break the contract's
    ``"ip:port"`` split-on-last-colon rule no more than bare ones; we use
    ``[v6]:port`` as RFC 3986 does)."""
    if len(raw) == 16:
        return f"[{addr_str(raw)}]:{port}"
    return f"{addr_str(raw)}:{port}"


def addr_bytes(text: str) -> bytes | None:
    """Address bytes of a textual IPv4/IPv6 address, None when it is not one."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    for fam in (socket.AF_INET, socket.AF_INET6):
        try:
            return socket.inet_pton(fam, text)
        except (OSError, ValueError):
            continue
    return None


def fragment_info(linktype: int, data: bytes):
    """For an IP fragment: ``(key, offset, more, proto, payload)``; None otherwise.

    ``key`` identifies the datagram (addresses, protocol, identification);
    ``offset`` is in bytes.  Only called for frames ``ip_payload`` flagged as
    fragments, so it re-walks the headers (rare path).
    """
    r = ip_payload(linktype, data)
    if r is None or r[2] != FRAGMENT:
        return None
    src, dst, _proto, start, end = r
    if len(src) == 4:
        ip = start - 20
        while ip >= 0 and not (data[ip] >> 4 == 4 and ip + (data[ip] & 0x0F) * 4 == start):
            ip -= 4
        if ip < 0:
            return None
        ident = (data[ip + 4] << 8) | data[ip + 5]
        fo = (data[ip + 6] << 8) | data[ip + 7]
        proto = data[ip + 9]
        return (src, dst, proto, ident), (fo & 0x1FFF) * 8, bool(fo & 0x2000), proto, data[start:end]
    # IPv6: the fragment header is the 8 bytes before ``start``
    fh = start - 8
    nh = data[fh]
    fo = (data[fh + 2] << 8) | data[fh + 3]
    ident = int.from_bytes(data[fh + 4:fh + 8], "big")
    return (src, dst, nh, ident), fo & 0xFFF8, bool(fo & 1), nh, data[start:end]


class Defragmenter:
    """Bounded IPv4/IPv6 reassembly: whole datagrams out, at most ``max_pending`` in progress."""

    def __init__(self, max_pending: int = 256, max_size: int = 1 << 17):
        self.pending: dict[tuple, dict] = {}
        self.max_pending = max_pending
        self.max_size = max_size
        self.dropped = 0

    def add(self, key: tuple, offset: int, more: bool, payload: bytes) -> bytes | None:
        entry = self.pending.get(key)
        if entry is None:
            if len(self.pending) >= self.max_pending:
                del self.pending[next(iter(self.pending))]
                self.dropped += 1
            entry = self.pending[key] = {"parts": {}, "total": None}
        if offset + len(payload) > self.max_size:
            del self.pending[key]
            self.dropped += 1
            return None
        entry["parts"][offset] = payload
        if not more:
            entry["total"] = offset + len(payload)
        total = entry["total"]
        if total is None:
            return None
        got = 0
        out = bytearray()
        for off in sorted(entry["parts"]):
            part = entry["parts"][off]
            if off > got:
                return None          # a hole: wait for more fragments
            out += part[got - off:]
            got = max(got, off + len(part))
        if got < total:
            return None
        del self.pending[key]
        return bytes(out[:total])
