"""SRTP in captures: keys from SDP (per sending side) or given, authentication counts, DTMF inside."""
from __future__ import annotations

import base64
import os
import random

import pytest

from sipscen.analysis import analyze_capture
from sipscen.analysis.srtp import SUITES, SrtpSender
from sipscen.core.errors import UsageError

pylibsrtp = pytest.importorskip("pylibsrtp")

FOUR = ["AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AES_256_CM_HMAC_SHA1_80", "AES_256_CM_HMAC_SHA1_32"]
LIBSRTP = {"AES_CM_128_HMAC_SHA1_80": pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
           "AES_CM_128_HMAC_SHA1_32": pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_32}


def material(suite: str, seed: int) -> bytes:
    s = SUITES[suite]
    return random.Random(seed).randbytes(s.key_len + s.salt_len)


def protector(suite: str, key: bytes):
    """pylibsrtp (libsrtp 2) where it has the suite, else our SrtpSender."""
    if suite in LIBSRTP:
        policy = pylibsrtp.Policy(key=key, ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND,
                                  srtp_profile=LIBSRTP[suite])
        return pylibsrtp.Session(policy).protect
    s = SUITES[suite]
    return SrtpSender(suite, key[:s.key_len], key[s.key_len:]).protect


def media(cap, ssrc, protect, digits, pt_event, seq0=1, t0=2.0):
    """Audio + digits as (time, packet), protected."""
    out, seq, ts, t = [], seq0, 8000, t0
    rnd = random.Random(ssrc)
    for code in digits:
        for _ in range(10):
            out.append((t, protect(cap.rtp(seq, ts, ssrc, 8, bytes(rnd.randrange(0x50, 0x58) for _ in range(160))))))
            seq, ts, t = seq + 1, ts + 160, t + 0.02
        pk, seq = cap.digit_packets(code, seq, ts, t, ssrc, pt_event)
        out += [(tt, protect(p)) for tt, p in pk]
        ts, t = ts + 1600, t + 0.2
    return out


@pytest.mark.parametrize("suite", FOUR)
def test_keys_from_sdp_each_side_protects_what_it_sends(cap, suite):
    ka, kb = material(suite, 1), material(suite, 2)
    call = cap.Call()
    call.invite(1.0, {8: "PCMA/8000", 101: "telephone-event/8000"}, {8: "PCMA/8000", 120: "telephone-event/8000"},
                a_proto="RTP/SAVP", b_proto="RTP/SAVP",
                a_crypto=[f"1 {suite} inline:{base64.b64encode(ka).decode()}"],
                b_crypto=[f"1 {suite} inline:{base64.b64encode(kb).decode()}"])
    for t, p in media(cap, 0xA1A1A1A1, protector(suite, ka), [1, 2, 3], 120):     # alice -> bob: alice's key
        call.udp(t, True, p)
    for t, p in media(cap, 0xB2B2B2B2, protector(suite, kb), [9, 11], 101):       # bob -> alice: bob's key
        call.udp(t, False, p)
    a = analyze_capture(cap.pcap_of(call))
    streams = {s["ssrc"]: s for s in a.rtp_streams}
    for ssrc in ("0xa1a1a1a1", "0xb2b2b2b2"):
        s = streams[ssrc]
        assert s["srtp"] == {"suite": suite, "key_source": "sdp",
                             "authenticated": s["packets"], "auth_failed": 0}
        assert s["call_id"] == "call-1"
    assert "".join(e["digit"] for e in a.dtmf if e["ssrc"] == "0xa1a1a1a1") == "123"
    assert "".join(e["digit"] for e in a.dtmf if e["ssrc"] == "0xb2b2b2b2") == "9#"


@pytest.mark.parametrize("suite", FOUR)
def test_given_keys_without_sdp(cap, suite):
    ka, kb = material(suite, 3), material(suite, 4)
    pa = media(cap, 0x0000AAAA, protector(suite, ka), [4, 5], 101)
    pb = media(cap, 0x0000BBBB, protector(suite, kb), [6], 101)
    frames = [(t, cap.link(1, cap.udp_ip("127.0.0.1", "127.0.0.2", 4000, 5000, p))) for t, p in pa]
    frames += [(t + 0.005, cap.link(1, cap.udp_ip("127.0.0.2", "127.0.0.1", 5000, 4000, p))) for t, p in pb]
    path = cap.write_pcap(cap.path(), sorted(frames, key=lambda r: r[0]))
    keys = [f"inline:{base64.b64encode(kb).decode()}", f"{suite} inline:{base64.b64encode(ka).decode()}"]
    a = analyze_capture(path, srtp_keys=keys)
    for s in a.rtp_streams:
        assert s["srtp"]["suite"] == suite and s["srtp"]["key_source"] == "given"
        assert s["srtp"]["authenticated"] == s["packets"] and s["srtp"]["auth_failed"] == 0
    assert a.digits() == "456" or sorted(a.digits()) == sorted("456")
    # no keys: the digits are hidden and no stream claims to be authenticated
    b = analyze_capture(path)
    assert b.digits() == ""
    assert all(not s["srtp"] or s["srtp"]["authenticated"] == 0 for s in b.rtp_streams)


def test_plain_rtp_on_an_srtp_path_is_never_reported_as_plain(cap):
    suite = "AES_CM_128_HMAC_SHA1_80"
    ka, kb = material(suite, 5), material(suite, 6)
    call = cap.Call()
    te = {8: "PCMA/8000", 101: "telephone-event/8000"}
    call.invite(1.0, te, te, a_proto="RTP/SAVP", b_proto="RTP/SAVP",
                a_crypto=[f"1 {suite} inline:{base64.b64encode(ka).decode()}"],
                b_crypto=[f"1 {suite} inline:{base64.b64encode(kb).decode()}"])
    for t, p in media(cap, 0x1, protector(suite, ka), [1], 101):
        call.udp(t, True, p)
    for t, p in media(cap, 0x2, lambda p: p, [2], 101):          # bob sends cleartext anyway
        call.udp(t, False, p)
    a = analyze_capture(cap.pcap_of(call))
    streams = {s["ssrc"]: s for s in a.rtp_streams}
    good, bad = streams["0x00000001"], streams["0x00000002"]
    assert good["srtp"]["authenticated"] == good["packets"]
    assert bad["srtp"] is not None
    assert bad["srtp"]["authenticated"] == 0 and bad["srtp"]["auth_failed"] == bad["packets"]
    assert a.digits() == "1"          # the cleartext stream's digit is not trusted as SRTP content


def test_plain_call_with_keys_given_stays_plain(cap):
    call = cap.Call()
    call.invite(1.0, {8: "PCMA/8000", 101: "telephone-event/8000"}, {8: "PCMA/8000", 101: "telephone-event/8000"})
    for t, p in media(cap, 0x3, lambda p: p, [7], 101):
        call.udp(t, True, p)
    key = base64.b64encode(material("AES_CM_128_HMAC_SHA1_80", 7)).decode()
    a = analyze_capture(cap.pcap_of(call), srtp_keys=[f"inline:{key}"])
    assert a.rtp_streams[0]["srtp"] is None
    assert a.digits() == "7"


def test_tampered_packets_fail_authentication(cap):
    suite = "AES_CM_128_HMAC_SHA1_80"
    key = material(suite, 8)
    pkts = media(cap, 0x4, protector(suite, key), [3], 101)
    bad = {5, 12, 13}
    frames = []
    for i, (t, p) in enumerate(pkts):
        if i in bad:
            p = p[:20] + bytes([p[20] ^ 0xFF]) + p[21:]
        frames.append((t, cap.link(1, cap.udp_ip("127.0.0.1", "127.0.0.2", 4000, 5000, p))))
    a = analyze_capture(cap.write_pcap(cap.path(), frames), srtp_keys=[base64.b64encode(key).decode()])
    s = a.rtp_streams[0]
    assert s["srtp"]["auth_failed"] == len(bad)
    assert s["srtp"]["authenticated"] == len(pkts) - len(bad)
    assert a.digits() == "3"


def test_bad_key_is_a_usage_error(cap):
    path = cap.rtp_only([(1.0, cap.rtp(1, 1, 1, 8, b"x" * 160))])
    with pytest.raises(UsageError, match="bad SRTP key"):
        analyze_capture(path, srtp_keys=["not-base64!"])
    with pytest.raises(UsageError):
        analyze_capture(path, srtp_keys=["AES_CM_128_HMAC_SHA1_80 inline:" + base64.b64encode(os.urandom(10)).decode()])


def test_lenient_keys_skip_a_bad_one_with_a_warning(cap):
    suite = "AES_CM_128_HMAC_SHA1_32"
    key = material(suite, 9)
    pkts = media(cap, 0x5, protector(suite, key), [8], 101)
    path = cap.rtp_only(pkts)
    a = analyze_capture(path, srtp_keys=["garbage", f"{suite} inline:{base64.b64encode(key).decode()}"],
                        strict_keys=False)
    assert a.digits() == "8"
    assert a.rtp_streams[0]["srtp"]["authenticated"] == len(pkts)
    assert len(a.warnings) == 1 and "bad SRTP key 'garbage'" in a.warnings[0]


def test_plain_high_entropy_audio_with_keys_given_stays_plain(cap):
    """G.722 (PT 9) is near-random bytes, like ciphertext, but 160-byte payloads are whole frames."""
    rnd = random.Random(10)
    pkts = [(1 + 0.02 * i, cap.rtp(i, 160 * i, 0x6, 9, rnd.randbytes(160))) for i in range(100)]
    key = base64.b64encode(material("AES_CM_128_HMAC_SHA1_80", 11)).decode()
    a = analyze_capture(cap.rtp_only(pkts), srtp_keys=[key])
    assert a.rtp_streams[0]["srtp"] is None
    # the same stream protected with a key we do not have: not plain
    prot = protector("AES_CM_128_HMAC_SHA1_80", material("AES_CM_128_HMAC_SHA1_80", 12))
    b = analyze_capture(cap.rtp_only([(t, prot(p)) for t, p in pkts]), srtp_keys=[key])
    s = b.rtp_streams[0]
    assert s["srtp"] == {"suite": None, "key_source": None, "authenticated": 0, "auth_failed": 100}


def test_optional_srtp_offered_on_rtp_avp(cap):
    """PJSUA's optional SRTP: RTP/AVP with a=crypto; SRTP when the answer has a key, plain when not."""
    suite = "AES_CM_128_HMAC_SHA1_80"
    ka, kb = material(suite, 13), material(suite, 14)
    te = {8: "PCMA/8000", 101: "telephone-event/8000"}
    ca = [f"1 {suite} inline:{base64.b64encode(ka).decode()}"]
    cb = [f"1 {suite} inline:{base64.b64encode(kb).decode()}"]
    call = cap.Call()
    call.invite(1.0, te, te, a_crypto=ca, b_crypto=cb)                 # both keep RTP/AVP
    for t, p in media(cap, 0x7, protector(suite, ka), [1], 101):
        call.udp(t, True, p)
    for t, p in media(cap, 0x8, protector(suite, kb), [2], 101):
        call.udp(t, False, p)
    a = analyze_capture(cap.pcap_of(call))
    assert sorted(a.digits()) == ["1", "2"]
    for s in a.rtp_streams:
        assert s["srtp"]["key_source"] == "sdp" and s["srtp"]["authenticated"] == s["packets"]

    plain = cap.Call()
    plain.invite(1.0, te, te, a_crypto=ca)                             # the answer declines SRTP
    for t, p in media(cap, 0x9, lambda p: p, [3], 101):
        plain.udp(t, True, p)
    for t, p in media(cap, 0xA, lambda p: p, [4], 101):
        plain.udp(t, False, p)
    b = analyze_capture(cap.pcap_of(plain))
    assert sorted(b.digits()) == ["3", "4"]
    assert [s["srtp"] for s in b.rtp_streams] == [None, None]


def test_digits_in_the_key_probing_window_of_a_plain_stream_are_kept(cap):
    """Keys are tried on the first packets; when none fits, those packets are read as plain RTP."""
    pkts, seq = cap.digit_packets(5, 1, 100, 1.0, 0xB, 101, updates=3, ends=3)     # a digit first
    more, seq = cap.digit_packets(6, seq, 2000, 1.2, 0xB, 101, updates=3, ends=3)  # and another
    pkts += more
    pkts += [(1.5 + 0.02 * i, cap.rtp(seq + i, 4000 + 160 * i, 0xB, 0, b"\xff" * 160)) for i in range(20)]
    key = base64.b64encode(material("AES_CM_128_HMAC_SHA1_80", 15)).decode()
    a = analyze_capture(cap.rtp_only(pkts), srtp_keys=[key])
    assert a.digits() == "56"
    s = a.rtp_streams[0]
    assert s["srtp"] is None and s["packets"] == 32 and s["lost"] == 0
