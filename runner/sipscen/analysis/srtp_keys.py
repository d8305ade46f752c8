"""SDES keys for SRTP: the suites, ``a=crypto:`` attributes (RFC 4568) and ``--srtp-key`` strings.

Import these names from :mod:`sipscen.analysis.srtp`, which re-exports them.
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Suite:
    """An AES-CM / HMAC-SHA1 SRTP crypto suite."""

    name: str
    key_len: int          # master (and session) encryption key, bytes
    salt_len: int = 14    # master (and session) salt, bytes
    tag_len: int = 10     # SRTP authentication tag, bytes (SRTCP always uses 10)


SUITES: dict[str, Suite] = {s.name: s for s in (
    Suite("AES_CM_128_HMAC_SHA1_80", 16, 14, 10),
    Suite("AES_CM_128_HMAC_SHA1_32", 16, 14, 4),
    Suite("AES_192_CM_HMAC_SHA1_80", 24, 14, 10),
    Suite("AES_192_CM_HMAC_SHA1_32", 24, 14, 4),
    Suite("AES_256_CM_HMAC_SHA1_80", 32, 14, 10),
    Suite("AES_256_CM_HMAC_SHA1_32", 32, 14, 4),
)}

# Spellings some implementations (FreeSWITCH, older stacks) use for RFC 6188 suites.
SUITE_ALIASES: dict[str, str] = {
    "AES_CM_256_HMAC_SHA1_80": "AES_256_CM_HMAC_SHA1_80",
    "AES_CM_256_HMAC_SHA1_32": "AES_256_CM_HMAC_SHA1_32",
    "AES_CM_192_HMAC_SHA1_80": "AES_192_CM_HMAC_SHA1_80",
    "AES_CM_192_HMAC_SHA1_32": "AES_192_CM_HMAC_SHA1_32",
}


class UnsupportedCrypto(ValueError):
    """A well-formed crypto attribute this module cannot process (suite or session parameter)."""

    def __init__(self, message: str, suite: str = ""):
        super().__init__(message)
        self.suite = suite


@dataclass(frozen=True)
class CryptoAttribute:
    """One parsed ``a=crypto`` attribute (its first inline key)."""

    tag: int
    suite: str                 # canonical name, a key of SUITES
    key: bytes
    salt: bytes
    lifetime: int | None       # packets, if given
    mki: bytes | None          # MKI value as it appears on the wire (mki_len bytes)
    mki_len: int               # 0 without MKI


def suite_by_name(name: str) -> Suite:
    """The suite called ``name`` (case-insensitive, aliases accepted); UnsupportedCrypto if unknown."""
    upper = name.strip().upper() if isinstance(name, str) else ""
    suite = SUITES.get(SUITE_ALIASES.get(upper, upper))
    if suite is None:
        raise UnsupportedCrypto(f"unsupported SRTP crypto suite {name!r}", str(name))
    return suite


_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_DIGITS = re.compile(r"[0-9]{1,10}")
_LIFETIME = re.compile(r"(?:2\^([0-9]{1,2})|([0-9]{1,20}))")
_MKI = re.compile(r"([0-9]{1,39}):([0-9]{1,3})")


def _decode_material(text: str) -> bytes:
    """Base64 key||salt; missing '=' padding is tolerated."""
    if not _B64.fullmatch(text):
        raise ValueError(f"key is not base64: {text[:60]!r}")
    core = text.rstrip("=")
    try:
        return base64.b64decode(core + "=" * (-len(core) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"key is not valid base64: {exc}") from None


def _parse_lifetime(text: str) -> int:
    match = _LIFETIME.fullmatch(text)
    if not match:
        raise ValueError(f"bad key lifetime {text!r}")
    value = 1 << int(match.group(1)) if match.group(1) is not None else int(match.group(2))
    if value <= 0:
        raise ValueError(f"bad key lifetime {text!r}")
    return value


def _parse_mki(text: str) -> tuple[bytes, int]:
    match = _MKI.fullmatch(text)
    if not match:
        raise ValueError(f"bad MKI {text!r}")
    value, length = int(match.group(1)), int(match.group(2))
    if not 1 <= length <= 128 or value >= 1 << (8 * length):
        raise ValueError(f"bad MKI {text!r}: value does not fit {length} bytes")
    return value.to_bytes(length, "big"), length


def _split_key_info(info: str) -> tuple[bytes, int | None, bytes | None, int]:
    """``key||salt[|lifetime][|MKI:length]`` -> (material, lifetime, mki, mki_len)."""
    pieces = info.split("|")
    if len(pieces) > 3:
        raise ValueError(f"too many '|' fields in key {info[:60]!r}")
    material = _decode_material(pieces[0])
    lifetime: int | None = None
    mki: bytes | None = None
    mki_len = 0
    for piece in pieces[1:]:
        if ":" in piece:
            if mki is not None:
                raise ValueError("two MKI fields")
            mki, mki_len = _parse_mki(piece)
        elif lifetime is None and mki is None:
            lifetime = _parse_lifetime(piece)
        else:
            raise ValueError(f"unexpected key field {piece!r}")
    return material, lifetime, mki, mki_len


def _check_session_params(params: list[str], suite: str) -> None:
    """Reject session parameters that change processing; ignore the rest (FEC_*, WSH)."""
    for param in params:
        name = param.split("=", 1)[0].upper()
        if name in ("KDR", "UNENCRYPTED_SRTP", "UNAUTHENTICATED_SRTP"):
            raise UnsupportedCrypto(f"SRTP session parameter {param!r} is not supported", suite)


def parse_crypto_attribute(value: str) -> CryptoAttribute:
    """Parse the value of ``a=crypto:`` (``"a=crypto:"`` itself is also accepted).

    ``1 AES_CM_128_HMAC_SHA1_80 inline:KEY|2^20|1:4 [session params]``.
    Only the first of several ``;``-separated keys is returned. ValueError on
    garbage; :class:`UnsupportedCrypto` (a ValueError) for an unknown suite,
    a key method other than ``inline`` or a KDR / UNENCRYPTED / UNAUTHENTICATED
    session parameter.
    """
    if not isinstance(value, str):
        raise ValueError("crypto attribute must be text")
    text = value.strip()
    if text[:9].lower() == "a=crypto:":
        text = text[9:]
    parts = text.split()
    if len(parts) < 3:
        raise ValueError(f"crypto attribute needs 'tag suite key-params': {value[:80]!r}")
    if not _DIGITS.fullmatch(parts[0]):
        raise ValueError(f"bad crypto tag {parts[0][:20]!r}")
    suite = suite_by_name(parts[1])
    method, colon, info = parts[2].split(";")[0].partition(":")
    if not colon or not info:
        raise ValueError(f"bad key parameter {parts[2][:60]!r}")
    if method.lower() != "inline":
        raise UnsupportedCrypto(f"key method {method!r} is not supported", suite.name)
    material, lifetime, mki, mki_len = _split_key_info(info)
    if len(material) != suite.key_len + suite.salt_len:
        raise ValueError(f"{suite.name} key||salt must be {suite.key_len + suite.salt_len} "
                         f"bytes, got {len(material)}")
    _check_session_params(parts[3:], suite.name)
    return CryptoAttribute(int(parts[0]), suite.name, material[:suite.key_len],
                           material[suite.key_len:], lifetime, mki, mki_len)


def parse_key(text: str) -> list[tuple[str, bytes, bytes]]:
    """Candidate (suite, key, salt) for a ``--srtp-key`` string.

    Accepted: ``"SUITE inline:B64"``, ``"inline:B64"``, ``"B64"`` (a
    ``|lifetime`` suffix is ignored), or a whole ``a=crypto`` value. Without a
    suite, every suite whose key||salt length equals the decoded length is
    returned (30 bytes: the 128-bit suites; 38: 192-bit; 46: 256-bit), _80
    before _32. ValueError on garbage and on keys with an MKI (take those from
    the SDP).
    """
    if not isinstance(text, str):
        raise ValueError("key must be text")
    parts = text.split()
    if parts and (parts[0][:9].lower() == "a=crypto:" or (len(parts) >= 3 and parts[0].isdigit())):
        attr = parse_crypto_attribute(text)
        if attr.mki_len:
            raise ValueError("a key with an MKI cannot be given as --srtp-key")
        return [(attr.suite, attr.key, attr.salt)]
    if len(parts) not in (1, 2):
        raise ValueError(f"expected '[SUITE] [inline:]BASE64', got {text[:80]!r}")
    suite = suite_by_name(parts[0]) if len(parts) == 2 else None
    key_text = parts[-1]
    if key_text[:7].lower() == "inline:":
        key_text = key_text[7:]
    material, _lifetime, _mki, mki_len = _split_key_info(key_text)
    if mki_len:
        raise ValueError("a key with an MKI cannot be given as --srtp-key")
    fitting = [suite] if suite is not None else list(SUITES.values())
    found = [(s.name, material[:s.key_len], material[s.key_len:])
             for s in fitting if len(material) == s.key_len + s.salt_len]
    if not found:
        wanted = suite.name if suite is not None else "any supported suite"
        raise ValueError(f"a {len(material)}-byte key does not fit {wanted}")
    return found
