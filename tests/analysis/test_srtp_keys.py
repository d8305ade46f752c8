"""SDES key parsing: a=crypto attributes (RFC 4568) and --srtp-key strings."""
from __future__ import annotations

import base64

import pytest

from sipscen.analysis.srtp import (
    SUITES,
    CryptoAttribute,
    UnsupportedCrypto,
    parse_crypto_attribute,
    parse_key,
    suite_by_name,
)

KEY30 = bytes(range(30))
KEY38 = bytes(range(100, 138))
KEY46 = bytes(range(200, 246))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_rfc4568_example_with_lifetime_and_mki():
    attr = parse_crypto_attribute(
        "1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4")
    material = base64.b64decode("WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz")
    assert attr == CryptoAttribute(1, "AES_CM_128_HMAC_SHA1_80", material[:16], material[16:],
                                   1 << 20, b"\x00\x00\x00\x01", 4)


@pytest.mark.parametrize("value, suite, key, lifetime, mki, mki_len", [
    (f"2 AES_CM_128_HMAC_SHA1_32 inline:{b64(KEY30)}", "AES_CM_128_HMAC_SHA1_32", KEY30, None, None, 0),
    (f"a=crypto:3 AES_256_CM_HMAC_SHA1_80 inline:{b64(KEY46)}", "AES_256_CM_HMAC_SHA1_80", KEY46,
     None, None, 0),
    (f"1 AES_256_CM_HMAC_SHA1_32 inline:{b64(KEY46).rstrip('=')}|1048576",        # no '=' padding
     "AES_256_CM_HMAC_SHA1_32", KEY46, 1048576, None, 0),
    (f"7 aes_cm_256_hmac_sha1_80 inline:{b64(KEY46)}|300:2 FEC_ORDER=FEC_SRTP",   # alias, MKI only
     "AES_256_CM_HMAC_SHA1_80", KEY46, None, b"\x01\x2c", 2),
    (f"1 AES_192_CM_HMAC_SHA1_80 inline:{b64(KEY38)}|2^31|5:1;inline:{b64(KEY38[::-1])}|2^31|6:1",
     "AES_192_CM_HMAC_SHA1_80", KEY38, 1 << 31, b"\x05", 1),
])
def test_attribute_forms(value, suite, key, lifetime, mki, mki_len):
    attr = parse_crypto_attribute(value)
    key_len = SUITES[suite].key_len
    assert (attr.suite, attr.key, attr.salt) == (suite, key[:key_len], key[key_len:])
    assert (attr.lifetime, attr.mki, attr.mki_len) == (lifetime, mki, mki_len)


@pytest.mark.parametrize("value", [
    "", "1", "1 AES_CM_128_HMAC_SHA1_80", "x AES_CM_128_HMAC_SHA1_80 inline:" + b64(KEY30),
    "1 AES_CM_128_HMAC_SHA1_80 " + b64(KEY30),                       # no method
    "1 AES_CM_128_HMAC_SHA1_80 inline:",
    "1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(KEY46),                # wrong length for the suite
    "1 AES_256_CM_HMAC_SHA1_80 inline:" + b64(KEY30),
    "1 AES_CM_128_HMAC_SHA1_80 inline:!!notbase64!!",
    "1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(KEY30) + "|2^x",
    "1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(KEY30) + "|1:0",       # zero-length MKI
    "1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(KEY30) + "|256:1",     # MKI value too big
    "1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(KEY30) + "|1:4|2^20",  # lifetime after MKI
    "1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(KEY30) + "|1|2|3",
    "1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(KEY30)[:-1],           # 39 base64 characters
    "\x00\xff garbage \u00e9",
])
def test_garbage_attributes_raise_value_error(value):
    with pytest.raises(ValueError):
        parse_crypto_attribute(value)


@pytest.mark.parametrize("value", [
    "1 AEAD_AES_128_GCM inline:" + b64(bytes(28)),
    "1 F8_128_HMAC_SHA1_80 inline:" + b64(KEY30),
    "1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(KEY30) + " KDR=10",
    "1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(KEY30) + " UNENCRYPTED_SRTP",
    "1 AES_CM_128_HMAC_SHA1_80 mikey:" + b64(KEY30),
])
def test_well_formed_but_unsupported_attributes(value):
    with pytest.raises(UnsupportedCrypto) as info:
        parse_crypto_attribute(value)
    assert isinstance(info.value, ValueError) and info.value.suite


def test_non_text_attribute_is_a_value_error():
    with pytest.raises(ValueError):
        parse_crypto_attribute(None)  # type: ignore[arg-type]


def test_parse_key_with_and_without_suite():
    assert parse_key(f"AES_256_CM_HMAC_SHA1_32 inline:{b64(KEY46)}") == [
        ("AES_256_CM_HMAC_SHA1_32", KEY46[:32], KEY46[32:])]
    assert parse_key(f"  inline:{b64(KEY30)}|2^31 ") == [
        ("AES_CM_128_HMAC_SHA1_80", KEY30[:16], KEY30[16:]),
        ("AES_CM_128_HMAC_SHA1_32", KEY30[:16], KEY30[16:])]
    assert [s for s, _, _ in parse_key(b64(KEY46))] == ["AES_256_CM_HMAC_SHA1_80", "AES_256_CM_HMAC_SHA1_32"]
    assert [s for s, _, _ in parse_key(b64(KEY38))] == ["AES_192_CM_HMAC_SHA1_80", "AES_192_CM_HMAC_SHA1_32"]
    assert parse_key(f"a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:{b64(KEY30)}") == [
        ("AES_CM_128_HMAC_SHA1_32", KEY30[:16], KEY30[16:])]


@pytest.mark.parametrize("text", [
    "", "   ", "inline:", b64(bytes(20)), b64(bytes(31)), "AES_CM_128_HMAC_SHA1_80 " + b64(KEY46),
    "NOT_A_SUITE " + b64(KEY30), "a b c", "inline:" + b64(KEY30) + "|1:4", "%%%%",
    f"1 AES_CM_128_HMAC_SHA1_80 inline:{b64(KEY30)}|1:4",
])
def test_parse_key_garbage(text):
    with pytest.raises(ValueError):
        parse_key(text)


def test_suite_table_and_lookup():
    for name, suite in SUITES.items():
        assert suite.name == name and suite.salt_len == 14 and suite.tag_len in (4, 10)
        assert suite.key_len in (16, 24, 32)
    assert suite_by_name("aes_256_cm_hmac_sha1_80") is SUITES["AES_256_CM_HMAC_SHA1_80"]
    with pytest.raises(ValueError):
        suite_by_name("AES_CM_128_NULL_AUTH")
