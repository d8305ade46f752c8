"""Which key decrypts which RTP stream, and how many packets authenticated.

Keys come from the capture's SDP (``a=crypto`` of the side that *sends* the
stream, RFC 4568) or from the caller (``--srtp-key``, agents' keys) with no
SDP mapping: every candidate is tried on a stream's packets and the first
one under which a packet authenticates wins the stream.  Streams with no SDP
saying SRTP stop being tried after a few packets that no key authenticates
(they are then plain RTP unless their payload looks encrypted).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from sipscen.analysis.srtp import SrtpReceiver, parse_crypto_attribute, parse_key

PROBE_PACKETS = 16        # packets tried on a stream that no SDP declares SRTP
SAMPLE_BYTES = 4096       # payload bytes kept to judge "looks encrypted"


@dataclass(frozen=True)
class KeyCandidate:
    suite: str
    key: bytes
    salt: bytes
    source: str            # "sdp" or "given"
    mki_len: int = 0


def caller_candidates(texts) -> list[KeyCandidate]:
    """Parse ``--srtp-key`` strings; ValueError names the bad one."""
    out: list[KeyCandidate] = []
    for text in texts:
        try:
            found = parse_key(str(text).strip())
        except ValueError as exc:
            raise ValueError(f"bad SRTP key {str(text)[:60]!r}: {exc}") from None
        for suite, key, salt in found:
            cand = KeyCandidate(suite, key, salt, "given")
            if cand not in out:
                out.append(cand)
    return out


def sdp_candidates(crypto_lines, warnings: list[str]) -> list[KeyCandidate]:
    out = []
    for line in crypto_lines:
        try:
            attr = parse_crypto_attribute(line)
        except ValueError as exc:
            msg = f"a=crypto not usable: {exc}"
            if msg not in warnings:
                warnings.append(msg)
            continue
        out.append(KeyCandidate(attr.suite, attr.key, attr.salt, "sdp", attr.mki_len))
    return out


class SrtpStreamState:
    """The SRTP side of one RTP stream."""

    __slots__ = ("candidates", "receivers", "winner", "declared", "tried", "gave_up", "failed_before")

    def __init__(self, candidates: list[KeyCandidate], declared: bool):
        self.candidates = candidates
        self.receivers = [SrtpReceiver(c.suite, c.key, c.salt, c.mki_len) for c in candidates]
        self.winner: int | None = None
        self.declared = declared       # the SDP says RTP/SAVP for this path
        self.tried = 0
        self.gave_up = False
        self.failed_before = 0         # packets not tried by the winner (none: all are tried)

    def unprotect(self, packet: bytes) -> bytes | None:
        if self.winner is not None:
            return self.receivers[self.winner].unprotect(packet)
        if self.gave_up:
            return None
        self.tried += 1
        for i, rx in enumerate(self.receivers):
            plain = rx.unprotect(packet)
            if plain is not None:
                self.winner = i
                return plain
        if not self.declared and self.tried >= PROBE_PACKETS:
            self.gave_up = True
        return None

    @property
    def proven(self) -> bool:
        return self.winner is not None

    def to_dict(self) -> dict:
        if self.winner is not None:
            c = self.candidates[self.winner]
            rx = self.receivers[self.winner]
            return {"suite": c.suite, "key_source": c.source,
                    "authenticated": rx.authenticated, "auth_failed": rx.auth_failed}
        failed = max((rx.auth_failed for rx in self.receivers), default=0)
        suite = self.candidates[0].suite if len({c.suite for c in self.candidates}) == 1 else None
        return {"suite": suite, "key_source": None, "authenticated": 0, "auth_failed": failed}


# static payload types with fixed frame sizes: every plain payload is a multiple
# (G.711 and G.722: 80 bytes per 10 ms; GSM: 33 per 20 ms; G.729: 10 per 10 ms, SID 2)
_FRAME_BYTES = {0: (80,), 8: (80,), 9: (80,), 3: (33,), 18: (10, 2)}


def looks_encrypted(sample: bytes, first_bytes: bytes = b"", sizes: dict[int, set[int]] | None = None) -> bool:
    """A hint (never a proof) of ciphertext: byte entropy close to 8 bits over a few
    KB, no structure in the first payload byte (codecs such as opus repeat their
    table-of-contents byte; encrypted payloads do not), and payload sizes that
    are not whole frames of a fixed-frame codec (SRTP adds its tag)."""
    if len(sample) < 512:
        return False
    if sizes and all(pt in _FRAME_BYTES and all(any(n % f == 0 for f in _FRAME_BYTES[pt]) for n in ns)
                     for pt, ns in sizes.items()):
        return False
    if len(first_bytes) >= 8:
        top = max(first_bytes.count(b) for b in set(first_bytes))
        if top * 4 >= len(first_bytes):
            return False
    counts = [0] * 256
    for b in sample:
        counts[b] += 1
    n = len(sample)
    h = -sum(c / n * math.log2(c / n) for c in counts if c)
    expected_max = 8 - 255 / (2 * n * math.log(2))   # bias of the estimator for uniform bytes
    return h > expected_max - 0.08
