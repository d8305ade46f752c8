"""TLS streams read with a key log: the application data of TLS 1.3 and TLS 1.2
(AEAD suites) connections whose secrets a client logged (``SSLKEYLOGFILE``,
the NSS key log format Chromium, Firefox, curl and OpenSSL's keylog callback
write).

``KeyLog.read(paths)`` loads the secrets by client random. A
:class:`TlsConnection` is fed each direction's reassembled TCP bytes
(``feed(from_client, data)``) and returns that direction's plaintext
application data. It reads the ClientHello (client random) and the
ServerHello (version, cipher suite, server random) in the clear, then:

* TLS 1.3 (RFC 8446): handshake records with the ``*_HANDSHAKE_TRAFFIC_SECRET``,
  application data with ``*_TRAFFIC_SECRET_0`` (key and IV by HKDF-Expand-Label;
  the switch after each side's Finished); AES-128/256-GCM, ChaCha20-Poly1305;
* TLS 1.2 (RFC 5246/5288/7905): the key block from ``CLIENT_RANDOM``'s master
  secret (PRF with SHA-256 or SHA-384), records after each ChangeCipherSpec;
  AES-GCM and ChaCha20-Poly1305 suites (CBC suites are reported, not read).

A connection without its secrets in the log (``missing``) or with a suite not
read here (``unsupported``) says so and returns nothing: the caller words the
warning. Memory: a partial record per direction.
"""
from __future__ import annotations

import hmac
import os
from dataclasses import dataclass, field
from typing import Iterable

HANDSHAKE, CCS, ALERT, APPDATA = 22, 20, 21, 23
TLS13 = 0x0304
MAX_RECORD = (1 << 14) + 2048

# TLS 1.3 suites: (key length, hash)
SUITES13 = {0x1301: (16, "sha256"), 0x1302: (32, "sha384"), 0x1303: (32, "sha256")}
# TLS 1.2 AEAD suites: (cipher, key length, fixed IV length, PRF hash)
SUITES12 = {
    0x009C: ("gcm", 16, 4, "sha256"), 0x009D: ("gcm", 32, 4, "sha384"),
    0xC02B: ("gcm", 16, 4, "sha256"), 0xC02C: ("gcm", 32, 4, "sha384"),
    0xC02F: ("gcm", 16, 4, "sha256"), 0xC030: ("gcm", 32, 4, "sha384"),
    0xCCA8: ("chacha", 32, 12, "sha256"), 0xCCA9: ("chacha", 32, 12, "sha256"),
}


class KeyLog:
    """Secrets by (label, client random)."""

    def __init__(self) -> None:
        self.secrets: dict[tuple[str, bytes], bytes] = {}

    @classmethod
    def read(cls, paths: Iterable[str | os.PathLike]) -> "KeyLog":
        log = cls()
        for path in paths:
            try:
                text = open(path, encoding="ascii", errors="replace").read()
            except OSError:
                continue
            log.add_text(text)
        return log

    def add_text(self, text: str) -> None:
        for line in text.splitlines():
            parts = line.split()
            if len(parts) != 3 or line.startswith("#"):
                continue
            try:
                self.secrets[(parts[0], bytes.fromhex(parts[1]))] = bytes.fromhex(parts[2])
            except ValueError:
                continue

    def get(self, label: str, client_random: bytes) -> bytes | None:
        return self.secrets.get((label, client_random))

    def __bool__(self) -> bool:
        return bool(self.secrets)


def _hkdf_expand_label(secret: bytes, label: str, length: int, hash_name: str) -> bytes:
    full = b"tls13 " + label.encode()
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + b"\x00"
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(secret, block + info + bytes([counter]), hash_name).digest()
        out += block
        counter += 1
    return out[:length]


def _prf12(secret: bytes, label: bytes, seed: bytes, length: int, hash_name: str) -> bytes:
    seed = label + seed
    out, a = b"", seed
    while len(out) < length:
        a = hmac.new(secret, a, hash_name).digest()
        out += hmac.new(secret, a + seed, hash_name).digest()
    return out[:length]


def _aead(kind: str, key: bytes):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305  # lazy: cryptography only with a TLS key log
    return ChaCha20Poly1305(key) if kind == "chacha" else AESGCM(key)


@dataclass
class _Direction:
    buf: bytearray = field(default_factory=bytearray)
    keys: list = field(default_factory=list)      # [(aead, iv, kind)] in the order they apply
    key_index: int = -1                           # -1: still in the clear
    seq: int = 0
    finished: bool = False                        # TLS 1.3: its Finished went by


class TlsConnection:
    """One TLS connection (both directions) with a key log."""

    def __init__(self, keylog: KeyLog):
        self.keylog = keylog
        self.client = _Direction()
        self.server = _Direction()
        self.client_random: bytes | None = None
        self.server_random: bytes | None = None
        self.version: int | None = None
        self.suite: int | None = None
        self.missing = False          # no secrets for it in the log
        self.unsupported = ""         # a suite or version not read here
        self.failed = 0               # records that did not authenticate

    @property
    def readable(self) -> bool:
        return not (self.missing or self.unsupported)

    def feed(self, from_client: bool, data: bytes) -> list[bytes]:
        side = self.client if from_client else self.server
        side.buf += data
        out: list[bytes] = []
        buf = side.buf
        while len(buf) >= 5:
            length = int.from_bytes(buf[3:5], "big")
            if length > MAX_RECORD:
                buf.clear()            # not TLS (any more): give up on this direction
                self.unsupported = self.unsupported or "a record longer than TLS allows"
                break
            if len(buf) < 5 + length:
                break
            header, body = bytes(buf[:5]), bytes(buf[5:5 + length])
            del buf[:5 + length]
            plain = self._record(side, from_client, header, body)
            if plain:
                out.append(plain)
        return out

    # -- records ---------------------------------------------------------------------
    def _record(self, side: _Direction, from_client: bool, header: bytes,
                body: bytes) -> bytes | None:
        rtype = header[0]
        if rtype == CCS:
            if self.version is not None and self.version != TLS13 and self.readable:
                self._keys12()
                side.key_index, side.seq = 0, 0
            return None
        if side.key_index < 0:
            if rtype == HANDSHAKE:
                self._clear_handshake(body)
            if rtype == APPDATA and self.version == TLS13 and self.readable:
                self._keys13()
                side.key_index = 0 if side.keys else -1
                if side.key_index == 0:
                    return self._record(side, from_client, header, body)
            return None
        if not self.readable:
            return None
        inner, plain = self._open(side, header, body)
        if inner is None:
            self.failed += 1
            return None
        if self.version == TLS13 and inner == HANDSHAKE and not side.finished \
                and _has_finished(plain):
            side.finished = True
            side.key_index, side.seq = 1, 0
            return None
        return plain if inner == APPDATA else None

    def _open(self, side: _Direction, header: bytes, body: bytes) -> tuple[int | None, bytes]:
        from cryptography.exceptions import InvalidTag  # lazy: cryptography only with a TLS key log
        indexes = [side.key_index]
        if self.version == TLS13 and side.key_index == 0 and len(side.keys) > 1:
            indexes.append(1)              # a Finished we missed: try the traffic keys
        for index in indexes:
            aead, iv, kind = side.keys[index]
            seq = side.seq if index == side.key_index else 0
            try:
                if self.version == TLS13:
                    nonce = _xor(iv, seq)
                    plain = aead.decrypt(nonce, body, header)
                    plain = plain.rstrip(b"\x00")
                    if not plain:
                        return None, b""
                    inner, plain = plain[-1], plain[:-1]
                elif kind == "gcm":
                    nonce, sealed = iv + body[:8], body[8:]
                    aad = seq.to_bytes(8, "big") + header[:3] + (len(sealed) - 16).to_bytes(2, "big")
                    plain, inner = aead.decrypt(nonce, sealed, aad), header[0]
                else:
                    aad = seq.to_bytes(8, "big") + header[:3] + (len(body) - 16).to_bytes(2, "big")
                    plain, inner = aead.decrypt(_xor(iv, seq), body, aad), header[0]
            except (InvalidTag, ValueError):
                continue
            if index != side.key_index:
                side.key_index, side.finished = index, True
            side.seq = seq + 1
            return inner, plain
        side.seq += 1
        return None, b""

    # -- the handshake in the clear ---------------------------------------------------
    def _clear_handshake(self, body: bytes) -> None:
        pos = 0
        while pos + 4 <= len(body):
            htype = body[pos]
            hlen = int.from_bytes(body[pos + 1:pos + 4], "big")
            msg = body[pos + 4:pos + 4 + hlen]
            if htype == 1 and len(msg) >= 34:                 # ClientHello
                self.client_random = bytes(msg[2:34])
            elif htype == 2 and len(msg) >= 38:               # ServerHello
                self._server_hello(msg)
            pos += 4 + hlen

    def _server_hello(self, msg: bytes) -> None:
        self.server_random = bytes(msg[2:34])
        pos = 34
        pos += 1 + msg[pos]
        self.suite = int.from_bytes(msg[pos:pos + 2], "big")
        pos += 3
        self.version = int.from_bytes(msg[0:2], "big")
        if pos + 2 <= len(msg):
            end = pos + 2 + int.from_bytes(msg[pos:pos + 2], "big")
            pos += 2
            while pos + 4 <= min(end, len(msg)):
                etype = int.from_bytes(msg[pos:pos + 2], "big")
                elen = int.from_bytes(msg[pos + 2:pos + 4], "big")
                if etype == 0x002B and elen == 2:             # supported_versions
                    self.version = int.from_bytes(msg[pos + 4:pos + 6], "big")
                pos += 4 + elen
        if self.client_random is None:
            self.missing = True
        elif self.version == TLS13:
            if self.suite not in SUITES13:
                self.unsupported = f"TLS 1.3 suite 0x{self.suite:04x}"
            elif self.keylog.get("CLIENT_HANDSHAKE_TRAFFIC_SECRET", self.client_random) is None:
                self.missing = True
        elif self.version == 0x0303:
            if self.suite not in SUITES12:
                self.unsupported = f"TLS 1.2 suite 0x{self.suite:04x} (AEAD suites are read)"
            elif self.keylog.get("CLIENT_RANDOM", self.client_random) is None:
                self.missing = True
        else:
            self.unsupported = f"TLS version 0x{self.version:04x}"

    def _keys13(self) -> None:
        if self.client.keys:
            return
        key_len, hash_name = SUITES13[self.suite]
        kind = "chacha" if self.suite == 0x1303 else "gcm"
        for side, prefix in ((self.client, "CLIENT"), (self.server, "SERVER")):
            for label in (f"{prefix}_HANDSHAKE_TRAFFIC_SECRET", f"{prefix}_TRAFFIC_SECRET_0"):
                secret = self.keylog.get(label, self.client_random)
                if secret is None:
                    self.missing = True
                    return
                side.keys.append((_aead(kind, _hkdf_expand_label(secret, "key", key_len, hash_name)),
                                  _hkdf_expand_label(secret, "iv", 12, hash_name), kind))

    def _keys12(self) -> None:
        if self.client.keys or self.server_random is None:
            return
        kind, key_len, iv_len, hash_name = SUITES12[self.suite]
        master = self.keylog.get("CLIENT_RANDOM", self.client_random)
        block = _prf12(master, b"key expansion", self.server_random + self.client_random,
                       2 * (key_len + iv_len), hash_name)
        ck, sk = block[:key_len], block[key_len:2 * key_len]
        civ, siv = block[2 * key_len:2 * key_len + iv_len], block[2 * key_len + iv_len:]
        self.client.keys = [(_aead(kind, ck), civ, kind)]
        self.server.keys = [(_aead(kind, sk), siv, kind)]

    def describe(self) -> str:
        version = {TLS13: "TLS 1.3", 0x0303: "TLS 1.2"}.get(self.version or 0, "TLS")
        return f"{version} suite 0x{(self.suite or 0):04x}"


def _has_finished(plain: bytes) -> bool:
    pos = 0
    while pos + 4 <= len(plain):
        if plain[pos] == 20:
            return True
        pos += 4 + int.from_bytes(plain[pos + 1:pos + 4], "big")
    return False


def _xor(iv: bytes, seq: int) -> bytes:
    pad = seq.to_bytes(len(iv), "big")
    return bytes(a ^ b for a, b in zip(iv, pad))


def looks_like_tls(data: bytes) -> bool:
    """A TLS handshake record (a ClientHello's first bytes)."""
    return len(data) >= 6 and data[0] == HANDSHAKE and data[1] == 3 and data[2] <= 4


__all__ = ["KeyLog", "TlsConnection", "looks_like_tls"]
