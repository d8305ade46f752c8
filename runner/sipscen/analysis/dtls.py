"""DTLS-SRTP on the media ports (RFC 5764): the handshake, its SRTP profile, and
what flowed on the same ports afterwards.

DTLS-SRTP keys come from the handshake, never from the SDP, so a capture
cannot decrypt the media. What it can show: a DTLS handshake between the two
media ports (ClientHello, ServerHello with the ``use_srtp`` extension naming
the profile), and after it, on the same ports, RTP whose payloads look like
ciphertext (never proof alone; together with the handshake and an SDP without
``a=crypto`` it is the evidence there is). The analysis of a capture
(``analyze_capture``) gives, under ``"dtls"``::

    {"flows": [{"src", "dst", "first", "last", "records", "handshake": [types],
                "srtp_profile": "AES_CM_128_HMAC_SHA1_80" | None}],
     "rtp": [{"src", "dst", "first", "packets", "looks_encrypted"}]}

for every UDP pair that carried DTLS (``rtp`` only for those pairs and their
reverse; with ``sample_media`` for every RTP stream: the evidence a "plain
RTP" verdict needs, that the payload does not look like ciphertext). Bounded:
at most ``MAX_PAIRS`` pairs, a few KB of payload each.
"""
from __future__ import annotations

from sipscen.analysis.dissectors import PairTable, bind_udp
from sipscen.analysis.layers import endpoint_str

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


class DtlsCollector:
    """DTLS records per UDP pair, read in the one pass over the capture (bound in
    ``analyzer.py``). ``result()``: the ``flows`` of the module docstring; the
    ``rtp`` samples come from the RTP streams (``analyze.py``)."""

    def __init__(self, warnings: list[str]):
        self.table = PairTable(MAX_PAIRS, last=0.0, records=0, srtp_profile=None)
        self.flows = self.table.pairs

    def datagram(self, t, src, sport, dst, dport, data, off, p, end) -> None:
        flow = self.table.entry(t, endpoint_str(src, sport), endpoint_str(dst, dport))
        if flow is None:
            return
        flow["last"] = t
        handshake = flow.setdefault("handshake", [])
        for ctype, epoch, htype, body in _records(bytes(data[p:end])):
            flow["records"] += 1
            if htype is not None and len(handshake) < 64:
                handshake.append(HANDSHAKE_NAMES.get(htype, str(htype)))
                if htype == 2 and flow["srtp_profile"] is None:
                    flow["srtp_profile"] = _use_srtp(body)

    def pairs(self) -> set[tuple[str, str]]:
        """Both directions of every pair that carried DTLS."""
        return set(self.flows) | {(b, a) for a, b in self.flows}

    def result(self) -> list[dict]:
        return self.table.result()


def claims_dtls(data: bytes, p: int, end: int) -> bool:
    return end - p >= 13 and 20 <= data[p] <= 25 and data[p + 1] == 0xFE and \
        data[p + 2] in (0xFF, 0xFD)


bind_udp("dtls", claims_dtls, DtlsCollector)
