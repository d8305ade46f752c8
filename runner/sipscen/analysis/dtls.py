"""DTLS-SRTP on the media ports (RFC 5764): the handshake, its SRTP profile, and
what flowed on the same ports afterwards.

DTLS-SRTP keys come from the handshake, never from the SDP, so a capture
cannot decrypt the media. What it can show: a DTLS handshake between the two
media ports (ClientHello, ServerHello with the ``use_srtp`` extension naming
the profile), and after it, on the same ports, RTP whose payloads look like
ciphertext (never proof alone; together with the handshake and an SDP without
``a=crypto`` it is the evidence there is). ``scan_dtls(path)`` returns::

    {"flows": [{"src", "dst", "first", "last", "records", "handshake": [types],
                "srtp_profile": "AES_CM_128_HMAC_SHA1_80" | None}],
     "rtp": [{"src", "dst", "first", "packets", "looks_encrypted"}]}

for every UDP pair that carried DTLS (``rtp`` only for those pairs and their
reverse; with ``all_rtp`` for every RTP pair: the evidence a "plain RTP"
verdict needs, that the payload does not look like ciphertext). Bounded: at
most ``MAX_PAIRS`` pairs, a few KB of payload each.
"""
from __future__ import annotations

import os
from typing import Any

from sipscen.analysis.layers import endpoint_str, ip_payload
from sipscen.analysis.pcap import iter_records
from sipscen.analysis.srtp_streams import looks_encrypted

MAX_PAIRS = 1000
SAMPLE = 4096
PROFILES = {1: "AES_CM_128_HMAC_SHA1_80", 2: "AES_CM_128_HMAC_SHA1_32",
            7: "AEAD_AES_128_GCM", 8: "AEAD_AES_256_GCM"}
HANDSHAKE_NAMES = {1: "ClientHello", 2: "ServerHello", 3: "HelloVerifyRequest",
                   11: "Certificate", 12: "ServerKeyExchange", 13: "CertificateRequest",
                   4: "NewSessionTicket", 14: "ServerHelloDone", 15: "CertificateVerify",
                   16: "ClientKeyExchange",
                   20: "Finished"}


def is_dtls(p: bytes) -> bool:
    return len(p) >= 13 and 20 <= p[0] <= 25 and p[1] == 0xFE and p[2] in (0xFF, 0xFD)


def _use_srtp(body: bytes) -> str | None:
    """The SRTP profile in a ServerHello's use_srtp extension (type 14)."""
    try:
        pos = 2 + 32                       # server_version, random
        pos += 1 + body[pos]               # session id
        pos += 2 + 1                       # cipher suite, compression
        end = pos + 2 + int.from_bytes(body[pos:pos + 2], "big")
        pos += 2
        while pos + 4 <= min(end, len(body)):
            etype = int.from_bytes(body[pos:pos + 2], "big")
            elen = int.from_bytes(body[pos + 2:pos + 4], "big")
            data = body[pos + 4:pos + 4 + elen]
            if etype == 14 and len(data) >= 4:
                profile = int.from_bytes(data[2:4], "big")
                return PROFILES.get(profile, f"profile 0x{profile:04x}")
            pos += 4 + elen
    except IndexError:
        return None
    return None


def _records(p: bytes):
    """(content type, epoch, handshake type or None, handshake body) of each record."""
    pos = 0
    while pos + 13 <= len(p):
        ctype, epoch = p[pos], int.from_bytes(p[pos + 3:pos + 5], "big")
        length = int.from_bytes(p[pos + 11:pos + 13], "big")
        frag = p[pos + 13:pos + 13 + length]
        htype = frag[0] if ctype == 22 and epoch == 0 and len(frag) >= 12 else None
        yield ctype, epoch, htype, frag[12:] if htype is not None else b""
        pos += 13 + length


def _payload_at(p: bytes) -> int:
    """Where an RTP packet's payload starts: after its CSRCs and its header extension
    (WebRTC senders always carry one, RFC 8285, in the clear even in SRTP). Padding
    is not trimmed: in SRTP its length byte is ciphertext."""
    at = 12 + 4 * (p[0] & 0x0F)
    if p[0] & 0x10 and len(p) >= at + 4:
        at += 4 + 4 * int.from_bytes(p[at + 2:at + 4], "big")
    return min(at, len(p))


def scan_dtls(path: str | os.PathLike, all_rtp: bool = False) -> dict[str, Any]:
    flows: dict[tuple[str, str], dict] = {}
    rtp: dict[tuple[str, str], dict] = {}
    for t, lt, data in iter_records(path):
        r = ip_payload(lt, data)
        if r is None or r[2] != 17:
            continue
        src, dst, _, off, end = r
        if end - off < 8 + 12:
            continue
        p = bytes(data[off + 8:end])
        a = endpoint_str(src, int.from_bytes(data[off:off + 2], "big"))
        b = endpoint_str(dst, int.from_bytes(data[off + 2:off + 4], "big"))
        if is_dtls(p):
            flow = flows.get((a, b))
            if flow is None:
                if len(flows) >= MAX_PAIRS:
                    continue
                flow = flows[(a, b)] = {"src": a, "dst": b, "first": t, "last": t,
                                        "records": 0, "handshake": [], "srtp_profile": None}
            flow["last"] = t
            for ctype, epoch, htype, body in _records(p):
                flow["records"] += 1
                if htype is not None:
                    flow["handshake"].append(HANDSHAKE_NAMES.get(htype, str(htype)))
                    if htype == 2 and flow["srtp_profile"] is None:
                        flow["srtp_profile"] = _use_srtp(body)
        elif p[0] & 0xC0 == 0x80 and not 200 <= p[1] <= 204:
            st = rtp.get((a, b))
            if st is None:
                if len(rtp) >= MAX_PAIRS:
                    continue
                st = rtp[(a, b)] = {"src": a, "dst": b, "first": t, "packets": 0,
                                    "sample": bytearray(), "firsts": bytearray()}
            st["packets"] += 1
            if len(st["sample"]) < SAMPLE:
                body = p[_payload_at(p):]
                st["sample"] += body
                st["firsts"] += body[:1]
    pairs = set(flows) | {(b, a) for a, b in flows}
    out_rtp = []
    for key, st in rtp.items():
        if all_rtp or key in pairs:
            out_rtp.append({"src": st["src"], "dst": st["dst"], "first": st["first"],
                            "packets": st["packets"],
                            "looks_encrypted": looks_encrypted(bytes(st["sample"][:SAMPLE]),
                                                               bytes(st["firsts"]))})
    return {"flows": list(flows.values()), "rtp": out_rtp}
