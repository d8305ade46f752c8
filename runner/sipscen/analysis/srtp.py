"""SRTP and SRTCP (RFC 3711) authentication and decryption for the capture analyser.

Suites: AES_CM_128_HMAC_SHA1_80/_32 (RFC 4568) and the RFC 6188 ones,
AES_192_CM_HMAC_SHA1_80/_32 and AES_256_CM_HMAC_SHA1_80/_32 (PJSUA's default
offer). Key derivation rate 0 only (keys derived once, the SDES default).

* :class:`SrtpReceiver` authenticates and decrypts the packets of one master
  key; it keeps a rollover counter per SSRC, guessed from sequence numbers
  (RFC 3711 §3.3.1) and advanced only by packets that authenticate.
* :class:`SrtpSender` protects packets (tests, benchmark generator).
* :func:`parse_crypto_attribute` and :func:`parse_key` read SDES keys
  (``a=crypto:`` values and ``--srtp-key`` strings); see :mod:`.srtp_keys`.

Speed: the session keys of a master key are derived once (cached); AES-CM
runs through one reusable ECB context per receiver, its counter blocks built
with integer arithmetic; HMAC-SHA1 copies a keyed context per packet. Nothing
here prints, and :meth:`SrtpReceiver.unprotect` never raises on packet bytes.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


from sipscen.analysis.srtp_keys import (
    SUITES,
    CryptoAttribute,
    Suite,
    UnsupportedCrypto,
    parse_crypto_attribute,
    parse_key,
    suite_by_name,
)

__all__ = [
    "SUITES", "Suite", "CryptoAttribute", "UnsupportedCrypto", "SessionKeys",
    "parse_crypto_attribute", "parse_key", "suite_by_name",
    "aes_cm_keystream", "derive_session_key", "derive_session_keys",
    "SrtpReceiver", "SrtpSender",
]

# RFC 3711 §4.3.2 key derivation labels.
LABEL_RTP_ENCRYPTION, LABEL_RTP_AUTH, LABEL_RTP_SALT = 0x00, 0x01, 0x02
LABEL_RTCP_ENCRYPTION, LABEL_RTCP_AUTH, LABEL_RTCP_SALT = 0x03, 0x04, 0x05

AUTH_KEY_LEN = 20      # HMAC-SHA1 session authentication key (n_a = 160 bits)
SRTCP_TAG_LEN = 10     # SRTCP tags are 80 bits for every suite, _32 ones too
_MASK128 = (1 << 128) - 1
_MAX_ROC = 0xFFFFFFFF


# --------------------------------------------------------------------------- #
# AES counter mode and key derivation
# --------------------------------------------------------------------------- #

def aes_cm_keystream(key: bytes, iv: bytes, length: int) -> bytes:
    """The AES-CM keystream (RFC 3711 §4.1.1) of ``length`` bytes from a 16-byte IV."""
    start = int.from_bytes(iv, "big")
    blocks = b"".join(((start + j) & _MASK128).to_bytes(16, "big")
                      for j in range((length + 15) // 16))
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # lazy: cryptography (0.03 s of every analysis' start) only for SRTP

    return Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(blocks)[:length]


def derive_session_key(master_key: bytes, master_salt: bytes, label: int, length: int) -> bytes:
    """One session key (RFC 3711 §4.3.1, AES-CM PRF, key derivation rate 0).

    With a rate of 0, r = 0 and key_id = label << 48; x = key_id XOR master
    salt; the key is the AES-CM keystream of the master key at IV x * 2^16.
    """
    x = (label << 48) ^ int.from_bytes(master_salt, "big")
    return aes_cm_keystream(master_key, (x << 16).to_bytes(16, "big"), length)


@dataclass(frozen=True)
class SessionKeys:
    """The six session keys of one master key (SRTP and SRTCP)."""

    rtp_key: bytes
    rtp_auth: bytes
    rtp_salt: bytes
    rtcp_key: bytes
    rtcp_auth: bytes
    rtcp_salt: bytes


@lru_cache(maxsize=512)
def derive_session_keys(suite: Suite, master_key: bytes, master_salt: bytes) -> SessionKeys:
    """All session keys of a master key and salt under ``suite`` (cached)."""
    def d(label: int, length: int) -> bytes:
        return derive_session_key(master_key, master_salt, label, length)

    return SessionKeys(
        d(LABEL_RTP_ENCRYPTION, suite.key_len), d(LABEL_RTP_AUTH, AUTH_KEY_LEN),
        d(LABEL_RTP_SALT, suite.salt_len), d(LABEL_RTCP_ENCRYPTION, suite.key_len),
        d(LABEL_RTCP_AUTH, AUTH_KEY_LEN), d(LABEL_RTCP_SALT, suite.salt_len))


_COUNTER_TABLES: dict[int, tuple[int, int]] = {}
_CACHED_BLOCKS = 128            # tables kept for payloads up to 2 KB (about 0.3 MB in all)


def _counter_table(blocks: int) -> tuple[int, int]:
    """(repeat, tail) integers that turn an IV into ``blocks`` counter blocks.

    ``iv * repeat`` copies the IV into every 128-bit lane; ``| tail`` puts the
    block number j into the low 16 bits of lane j (the SRTP IV's low 16 bits
    are always zero, so OR equals addition).
    """
    table = _COUNTER_TABLES.get(blocks)
    if table is None:
        repeat = int.from_bytes((b"\0" * 15 + b"\x01") * blocks, "big")
        tail = int.from_bytes(b"".join(j.to_bytes(16, "big") for j in range(blocks)), "big")
        table = (repeat, tail)
        if blocks <= _CACHED_BLOCKS:
            _COUNTER_TABLES[blocks] = table
    return table


class _CounterMode:
    """AES-CM with one reusable ECB context (cheaper than a CTR cipher per packet)."""

    __slots__ = ("_ecb", "update")

    def __init__(self, key: bytes):
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # lazy: cryptography only for SRTP

        self._ecb = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
        self.update = self._ecb.update      # raw ECB over whole blocks

    def apply(self, iv: int, data: bytes) -> bytes:
        """XOR ``data`` with the keystream at ``iv`` (an int whose low 16 bits are 0)."""
        size = len(data)
        if not size:
            return b""
        blocks = (size + 15) >> 4
        repeat, tail = _counter_table(blocks)
        stream = self.update((iv * repeat | tail).to_bytes(blocks << 4, "big"))
        key_int = int.from_bytes(stream, "big") >> (((blocks << 4) - size) << 3)
        return (int.from_bytes(data, "big") ^ key_int).to_bytes(size, "big")


def _guess_roc(roc: int, highest: int, seq: int) -> int:
    """RFC 3711 §3.3.1: the rollover counter of ``seq`` given the state (ROC, s_l)."""
    if highest < 0x8000:
        return roc - 1 if seq - highest > 0x8000 else roc
    return roc + 1 if highest - 0x8000 > seq else roc


def _rtp_header_len(packet: bytes, size: int) -> int:
    """Length of the RTP header (fixed part, CSRCs, extension); -1 if not RTP."""
    if size < 12:
        return -1
    first = packet[0]
    if first & 0xC0 != 0x80:
        return -1
    length = 12 + ((first & 0x0F) << 2)
    if first & 0x10:
        if length + 4 > size:
            return -1
        length += 4 + (((packet[length + 2] << 8) | packet[length + 3]) << 2)
    return length if length <= size else -1


def _checked_suite(suite: str, master_key: bytes, master_salt: bytes) -> Suite:
    found = suite_by_name(suite)
    if len(master_key) != found.key_len or len(master_salt) != found.salt_len:
        raise ValueError(f"{found.name} needs a {found.key_len}-byte key and a "
                         f"{found.salt_len}-byte salt, got {len(master_key)} and {len(master_salt)}")
    return found


class _Keyed:
    """Per-master-key contexts shared by the receiver and the sender."""

    def __init__(self, suite: str, master_key: bytes, master_salt: bytes):
        from cryptography.hazmat.primitives import hashes, hmac as _hmac  # lazy: cryptography only for SRTP

        self.suite = _checked_suite(suite, bytes(master_key), bytes(master_salt))
        keys = derive_session_keys(self.suite, bytes(master_key), bytes(master_salt))
        self._tag_len = self.suite.tag_len
        self._ctr = _CounterMode(keys.rtp_key)
        self._ecb_update = self._ctr.update
        self._mac = _hmac.HMAC(keys.rtp_auth, hashes.SHA1())
        self._salt_iv = int.from_bytes(keys.rtp_salt, "big") << 16
        self._rtcp_ctr = _CounterMode(keys.rtcp_key)
        self._rtcp_mac = _hmac.HMAC(keys.rtcp_auth, hashes.SHA1())
        self._rtcp_salt_iv = int.from_bytes(keys.rtcp_salt, "big") << 16

    def _rtp_tag(self, portion: bytes, roc: int) -> bytes:
        mac = self._mac.copy()
        mac.update(portion)
        mac.update(roc.to_bytes(4, "big"))
        return mac.finalize()[:self._tag_len]

    def _rtcp_tag(self, portion: bytes) -> bytes:
        mac = self._rtcp_mac.copy()
        mac.update(portion)
        return mac.finalize()[:SRTCP_TAG_LEN]


class SrtpReceiver(_Keyed):
    """Authenticates and decrypts SRTP (and SRTCP) packets under one master key.

    ``authenticated`` / ``auth_failed`` count SRTP packets; every ``None``
    from :meth:`unprotect` counts as a failure, and ``malformed`` counts the
    failures that were not RTP-shaped or too short to hold the trailer;
    ``roc_corrections`` counts packets whose guessed ROC was off by one.
    ``rtcp_authenticated`` / ``rtcp_auth_failed`` do the same for SRTCP.

    Rollover counters are kept per SSRC and change only when a packet
    authenticates. Until an SSRC has authenticated a packet, ROC values
    0..``max_initial_roc`` are tried, so a capture may start anywhere in a
    call (also after a wrap); afterwards the §3.3.1 guess is tried first and
    its neighbours only when it fails.
    """

    def __init__(self, suite: str, master_key: bytes, master_salt: bytes, mki_len: int = 0,
                 *, max_initial_roc: int = 15):
        super().__init__(suite, master_key, master_salt)
        if not 0 <= mki_len <= 128:
            raise ValueError(f"MKI length {mki_len} is outside 0..128")
        self.mki_len = mki_len
        self.max_initial_roc = max(0, min(max_initial_roc, _MAX_ROC))
        self._trailer = self._tag_len + mki_len
        self._streams: dict[int, list[int]] = {}   # SSRC -> [ROC, highest sequence number]
        self.authenticated = 0
        self.auth_failed = 0
        self.malformed = 0
        self.roc_corrections = 0       # packets the §3.3.1 guess got wrong and a neighbour fixed
        self.rtcp_authenticated = 0
        self.rtcp_auth_failed = 0

    def rollover_counter(self, ssrc: int) -> int | None:
        """The current ROC of ``ssrc``, or None before it authenticated a packet."""
        state = self._streams.get(ssrc)
        return None if state is None else state[0]

    def unprotect(self, packet: bytes) -> bytes | None:
        """SRTP packet -> plain RTP packet (header + decrypted payload, padding kept).

        None when the packet does not authenticate or cannot be SRTP. The
        common case (a known SSRC, the §3.3.1 guess right) is inlined.
        """
        try:
            if type(packet) is not bytes:
                packet = bytes(packet) if isinstance(packet, (bytearray, memoryview)) else b""
            size = len(packet)
            first = packet[0] if size >= 12 else 0
            header_len = 12 + ((first & 0x0F) << 2)
            if first & 0x10:
                if header_len + 4 > size:
                    header_len = size + 1               # no room for the extension header
                else:
                    header_len += 4 + (((packet[header_len + 2] << 8) | packet[header_len + 3]) << 2)
            end = size - self._trailer
            if first & 0xC0 != 0x80 or end < header_len:
                self.malformed += 1
                self.auth_failed += 1
                return None
            seq = (packet[2] << 8) | packet[3]
            ssrc = int.from_bytes(packet[8:12], "big")
            portion = packet[:end]
            tag = packet[size - self._tag_len:]
            state = self._streams.get(ssrc)
            if state is None:
                roc = self._probe_roc(portion, tag)
            else:
                roc, highest = state                     # RFC 3711 §3.3.1 guess, inlined
                if highest < 0x8000:
                    if seq - highest > 0x8000:
                        roc -= 1
                elif highest - 0x8000 > seq:
                    roc += 1
                if 0 <= roc <= _MAX_ROC:
                    mac = self._mac.copy()
                    mac.update(portion)
                    mac.update(roc.to_bytes(4, "big"))
                    if mac.finalize()[:self._tag_len] != tag:
                        roc = self._neighbour_roc(portion, tag, roc)
                else:
                    roc = self._neighbour_roc(portion, tag, roc)
            if roc < 0:
                self.auth_failed += 1
                return None
            if state is None:
                self._streams[ssrc] = [roc, seq]
            elif roc > state[0]:
                state[0], state[1] = roc, seq
            elif roc == state[0] and seq > state[1]:
                state[1] = seq
            self.authenticated += 1
            size = end - header_len
            if not size:
                return packet[:end]
            blocks = (size + 15) >> 4
            repeat, tail = _COUNTER_TABLES.get(blocks) or _counter_table(blocks)
            iv = self._salt_iv ^ (ssrc << 64) ^ (((roc << 16) | seq) << 16)
            stream = self._ecb_update((iv * repeat | tail).to_bytes(blocks << 4, "big"))
            key_int = int.from_bytes(stream, "big") >> (((blocks << 4) - size) << 3)
            return packet[:header_len] + (
                int.from_bytes(packet[header_len:end], "big") ^ key_int).to_bytes(size, "big")
        except Exception:  # noqa: BLE001 - defensive: packet bytes must never raise
            self.malformed += 1
            self.auth_failed += 1
            return None

    def _neighbour_roc(self, portion: bytes, tag: bytes, guess: int) -> int:
        """ROC guess+1 or guess-1 if the packet authenticates under it, else -1."""
        for roc in (guess + 1, guess - 1):
            if 0 <= roc <= _MAX_ROC and self._rtp_tag(portion, roc) == tag:
                self.roc_corrections += 1
                return roc
        return -1

    def _probe_roc(self, portion: bytes, tag: bytes) -> int:
        """The first ROC in 0..max_initial_roc under which the packet authenticates, or -1."""
        base = self._mac.copy()
        base.update(portion)
        for roc in range(self.max_initial_roc + 1):
            mac = base.copy()
            mac.update(roc.to_bytes(4, "big"))
            if mac.finalize()[:self._tag_len] == tag:
                return roc
        return -1

    def unprotect_rtcp(self, packet: bytes) -> bytes | None:
        """SRTCP packet -> plain compound RTCP packet (without index, MKI and tag).

        None when it does not authenticate or cannot be SRTCP; never raises.
        """
        try:
            if type(packet) is not bytes:
                packet = bytes(packet) if isinstance(packet, (bytearray, memoryview)) else b""
            plain = self._unprotect_rtcp(packet)
        except Exception:  # noqa: BLE001 - defensive: packet bytes must never raise
            plain = None
        if plain is None:
            self.rtcp_auth_failed += 1
        else:
            self.rtcp_authenticated += 1
        return plain

    def _unprotect_rtcp(self, packet: bytes) -> bytes | None:
        size = len(packet)
        end = size - SRTCP_TAG_LEN - self.mki_len      # end of E flag + SRTCP index
        if end < 12 or packet[0] & 0xC0 != 0x80:
            return None
        if self._rtcp_tag(packet[:end]) != packet[size - SRTCP_TAG_LEN:]:
            return None
        word = int.from_bytes(packet[end - 4:end], "big")
        body = packet[8:end - 4]
        if word >> 31:
            ssrc = int.from_bytes(packet[4:8], "big")
            iv = self._rtcp_salt_iv ^ (ssrc << 64) ^ ((word & 0x7FFFFFFF) << 16)
            body = self._rtcp_ctr.apply(iv, body)
        return packet[:8] + body


class SrtpSender(_Keyed):
    """Protects RTP (and RTCP) packets under one master key, for tests and benchmarks.

    The ROC of each SSRC follows its sequence numbers (a wrap increments it);
    ``protect(..., roc=N)`` forces it, e.g. to imitate a call already running.
    Unlike the receiver, it raises ValueError on a packet that is not RTP.
    """

    def __init__(self, suite: str, master_key: bytes, master_salt: bytes, mki: bytes = b""):
        super().__init__(suite, master_key, master_salt)
        self.mki = bytes(mki)
        self._streams: dict[int, list[int]] = {}   # SSRC -> [ROC, highest sequence number]
        self._rtcp_index: dict[int, int] = {}

    def protect(self, rtp_packet: bytes, *, roc: int | None = None) -> bytes:
        """Plain RTP packet -> SRTP packet (header | encrypted payload | MKI | tag)."""
        packet = bytes(rtp_packet)
        header_len = _rtp_header_len(packet, len(packet))
        if header_len < 0:
            raise ValueError("not an RTP packet (version 2, complete header)")
        seq = (packet[2] << 8) | packet[3]
        ssrc = int.from_bytes(packet[8:12], "big")
        state = self._streams.get(ssrc)
        if roc is not None:
            if not 0 <= roc <= _MAX_ROC:
                raise ValueError(f"ROC {roc} out of range")
            self._streams[ssrc] = [roc, seq]
        elif state is None:
            roc = 0
            self._streams[ssrc] = [0, seq]
        else:
            roc = max(0, _guess_roc(state[0], state[1], seq))
            if roc > state[0]:
                state[0], state[1] = roc, seq
            elif roc == state[0] and seq > state[1]:
                state[1] = seq
        iv = self._salt_iv ^ (ssrc << 64) ^ (((roc << 16) | seq) << 16)
        out = packet[:header_len] + self._ctr.apply(iv, packet[header_len:])
        return out + self.mki + self._rtp_tag(out, roc)

    def protect_rtcp(self, rtcp_packet: bytes, *, index: int | None = None,
                     encrypt: bool = True) -> bytes:
        """Plain compound RTCP -> SRTCP (header | body | E+index | MKI | tag)."""
        packet = bytes(rtcp_packet)
        if len(packet) < 8 or packet[0] & 0xC0 != 0x80:
            raise ValueError("not an RTCP packet (version 2, 8-byte header)")
        ssrc = int.from_bytes(packet[4:8], "big")
        if index is None:
            index = self._rtcp_index.get(ssrc, 0)
        if not 0 <= index < 1 << 31:
            raise ValueError(f"SRTCP index {index} out of range")
        self._rtcp_index[ssrc] = (index + 1) & 0x7FFFFFFF
        body = packet[8:]
        if encrypt:
            body = self._rtcp_ctr.apply(self._rtcp_salt_iv ^ (ssrc << 64) ^ (index << 16), body)
        out = packet[:8] + body + ((int(encrypt) << 31) | index).to_bytes(4, "big")
        return out + self.mki + self._rtcp_tag(out)
