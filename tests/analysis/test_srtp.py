"""SRTP/SRTCP: RFC test vectors, libsrtp (pylibsrtp) interoperability, robustness, corpus capture."""
from __future__ import annotations

import json
import random
import struct
from pathlib import Path

import pytest

from sipscen.analysis import srtp
from sipscen.analysis.srtp import (
    SUITES,
    SrtpReceiver,
    SrtpSender,
    aes_cm_keystream,
    derive_session_key,
    derive_session_keys,
    parse_key,
)

try:
    import pylibsrtp
except ImportError:     # only the libsrtp interoperability tests need it
    pylibsrtp = None

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
SRTP_CAPTURE = "captures/srtp-decrypt-marseillaise-srtp.pcap"

LIBSRTP_PROFILES = {          # the suites libsrtp (as pylibsrtp builds it) supports
    "AES_CM_128_HMAC_SHA1_80": "SRTP_PROFILE_AES128_CM_SHA1_80",
    "AES_CM_128_HMAC_SHA1_32": "SRTP_PROFILE_AES128_CM_SHA1_32",
}
ALL_SUITES = list(SUITES)


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


def rtp(seq: int, ssrc: int = 0x11223344, payload: bytes | None = None, pt: int = 8,
        csrcs: tuple[int, ...] = (), extension: bytes | None = None) -> bytes:
    """A plain RTP packet; ``extension`` is the extension body (a multiple of 4 bytes)."""
    if payload is None:
        payload = bytes((seq * 7 + i) & 0xFF for i in range(160))
    first = 0x80 | len(csrcs) | (0x10 if extension is not None else 0)
    head = struct.pack("!BBHII", first, pt, seq & 0xFFFF, (seq * 160) & 0xFFFFFFFF, ssrc)
    head += b"".join(struct.pack("!I", c) for c in csrcs)
    if extension is not None:
        head += struct.pack("!HH", 0xBEDE, len(extension) // 4) + extension
    return head + payload


def material(suite: str, seed: int = 1) -> tuple[bytes, bytes]:
    rnd = random.Random(seed)
    s = SUITES[suite]
    return rnd.randbytes(s.key_len), rnd.randbytes(s.salt_len)


def libsrtp_session(suite: str, key: bytes, salt: bytes, inbound: bool):
    """A pylibsrtp session for ``suite``; skips the test when pylibsrtp is absent."""
    if pylibsrtp is None:
        pytest.skip("pylibsrtp not installed (pip install .[test])")
    policy_cls = pylibsrtp.Policy
    ssrc_type = policy_cls.SSRC_ANY_INBOUND if inbound else policy_cls.SSRC_ANY_OUTBOUND
    policy = policy_cls(key=key + salt, ssrc_type=ssrc_type,
                        srtp_profile=getattr(policy_cls, LIBSRTP_PROFILES[suite]))
    policy.window_size = 1024
    return pylibsrtp.Session(policy)


def wrap_sequence(start: int = 65500, count: int = 100) -> list[int]:
    return [(start + i) & 0xFFFF for i in range(count)]


def reorder_across_wrap(items: list) -> list:
    """Swap neighbours pairwise and move a few packets further back, around the wrap."""
    out = list(items)
    for i in range(0, len(out) - 1, 2):
        out[i], out[i + 1] = out[i + 1], out[i]
    late = out.pop(30)          # a packet from before the wrap arrives after it
    out.insert(45, late)
    return out


# --------------------------------------------------------------------------- #
# RFC test vectors
# --------------------------------------------------------------------------- #

def test_rfc3711_b2_aes_cm_keystream():
    key = h("2B7E151628AED2A6ABF7158809CF4F3C")
    iv = h("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000")
    stream = aes_cm_keystream(key, iv, 0xFF02 * 16)
    assert stream[:48] == h("E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB"
                            "41E95B3BB0A2E8DD477901E4FCA894C0")
    assert stream[0xFEFF * 16:] == h("EC8CDF7398607CB0F2D21675EA9EA1E4 362B7C3C6773516318A077D7FC5073AE"
                                     "6A2CC3787889374FBEB4C81B17BA6C44")


def test_fast_counter_mode_matches_reference_keystream():
    key = bytes(range(16))
    iv = h("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000")
    ctr = srtp._CounterMode(key)
    for size in (0, 1, 15, 16, 17, 160, 1000, 1500, 2048, 2049, 9000, 65000):
        data = random.Random(size).randbytes(size)
        expected = bytes(a ^ b for a, b in zip(data, aes_cm_keystream(key, iv, size)))
        assert ctr.apply(int.from_bytes(iv, "big"), data) == expected


def test_rfc3711_b3_key_derivation():
    key, salt = h("E1F97A0D3E018BE0D64FA32C06DE4139"), h("0EC675AD498AFEEBB6960B3AABE6")
    keys = derive_session_keys(SUITES["AES_CM_128_HMAC_SHA1_80"], key, salt)
    assert keys.rtp_key == h("C61E7A93744F39EE10734AFE3FF7A087")
    assert keys.rtp_salt == h("30CBBC08863D8C85D49DB34A9AE1")
    assert keys.rtp_auth == h("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4")
    # B.3 lists a 94-octet authentication key: checks the multi-block counter.
    assert derive_session_key(key, salt, 0x01, 94) == h(
        "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCE"
        "E049646C43D9327AD175578EF72270986371C10C9A369AC2F94A8C5FBCDDDC25"
        "6D6E919A48B610EF17C2041E474035766B68642C59BBFC2F34DB60DBDFB2")


@pytest.mark.parametrize("key, first, last", [
    ("57f82fe3613fd170a85ec93c40b1f0922ec4cb0dc025b58272147cc438944a98",    # RFC 6188 7.1
     "92bdd28a93c3f52511c677d08b5515a49da71b2378a854f67050756ded165bac63c4868b7096d88421b563b8c94c9a31",
     "cea518c90fd91ced9cbb18c078a547113dbc4814f4da5f00a08772b63c6a046d6eb246913062a16891433e97dd01a57f"),
    ("eab234764e517b2d3d160d587d8c86219740f65f99b6bcf7",                    # RFC 6188 7.3
     "35096cba4610028dc1b57503804ce37c5de986291dcce161d5165ec4568f5c9a474a40c77894bc17180202272a4c264d",
     "d108d1a31a00bad6367ec23eb044b415c8f57129fdeb970b59f917b257662d4ca5dab625811034e8cebdfeb6dc158dd3"),
])
def test_rfc6188_keystream(key, first, last):
    stream = aes_cm_keystream(h(key), h("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"), 0xFF02 * 16)
    assert stream[:48] == h(first)
    assert stream[-48:] == h(last)


@pytest.mark.parametrize("suite, key, salt, enc, ssalt, auth", [
    ("AES_256_CM_HMAC_SHA1_80",                                              # RFC 6188 7.2
     "f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6", "3b04803de51ee7c96423ab5b78d2",
     "5ba1064e30ec51613cad926c5a28ef731ec7fb397f70a960653caf06554cd8c4", "fa31791685ca444a9e07c6c64e93",
     "fd9c32d39ed5fbb5a9dc96b30818454d1313dc05"),
    ("AES_192_CM_HMAC_SHA1_80",                                              # RFC 6188 7.4
     "73edc66c4fa15776fb57f9505c17136550ffda71f3e8e5f1", "c8522f3acd4ce86d5add78edbb11",
     "31874736a8f1143870c26e4857d8a5b2c4a354407faadabb", "2372b82d639b6d8503a47adc0a6c",
     "355b10973cd95b9eacf4061c7e1a7151e7cfbfcb"),
])
def test_rfc6188_key_derivation(suite, key, salt, enc, ssalt, auth):
    keys = derive_session_keys(SUITES[suite], h(key), h(salt))
    assert (keys.rtp_key, keys.rtp_salt, keys.rtp_auth) == (h(enc), h(ssalt), h(auth))


@pytest.mark.parametrize("suite, key, salt, protected", [
    # libsrtp test/srtp_driver.c reference packets (seq 0x1234, SSRC 0xcafebabe, 16 x 0xab).
    ("AES_CM_128_HMAC_SHA1_80", "e1f97a0d3e018be0d64fa32c06de4139", "0ec675ad498afeebb6960b3aabe6",
     "800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb"),
    ("AES_256_CM_HMAC_SHA1_80", "f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6",
     "3b04803de51ee7c96423ab5b78d2",
     "800f1234decafbadcafebabef1d9de17ff251ff1aa007774b0b4b40da08d9d9a5b3a55d8873b"),
])
def test_libsrtp_reference_packets(suite, key, salt, protected):
    plain = h("800f1234decafbadcafebabe" + "ab" * 16)
    assert SrtpSender(suite, h(key), h(salt)).protect(plain) == h(protected)
    receiver = SrtpReceiver(suite, h(key), h(salt))
    assert receiver.unprotect(h(protected)) == plain
    assert (receiver.authenticated, receiver.auth_failed) == (1, 0)


# --------------------------------------------------------------------------- #
# Interoperability with libsrtp, both directions
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("suite", list(LIBSRTP_PROFILES))
def test_libsrtp_protects_we_unprotect_across_wrap_reordered(suite):
    key, salt = material(suite)
    sender = libsrtp_session(suite, key, salt, inbound=False)
    seqs = wrap_sequence()
    packets = [(seq, sender.protect(rtp(seq))) for seq in seqs]       # in order: ROC 0 -> 1
    receiver = SrtpReceiver(suite, key, salt)
    for seq, packet in reorder_across_wrap(packets):
        assert receiver.unprotect(packet) == rtp(seq), seq
    assert (receiver.authenticated, receiver.auth_failed) == (len(seqs), 0)
    assert receiver.rollover_counter(0x11223344) == 1
    assert receiver.roc_corrections == 0          # the RFC 3711 guess was right every time


@pytest.mark.parametrize("suite", list(LIBSRTP_PROFILES))
def test_we_protect_libsrtp_unprotects_across_wrap_reordered(suite):
    key, salt = material(suite, seed=2)
    sender = SrtpSender(suite, key, salt)
    packets = [(seq, sender.protect(rtp(seq))) for seq in wrap_sequence()]
    receiver = libsrtp_session(suite, key, salt, inbound=True)
    for seq, packet in reorder_across_wrap(packets):
        assert receiver.unprotect(packet) == rtp(seq), seq


@pytest.mark.parametrize("suite", list(LIBSRTP_PROFILES))
def test_csrcs_and_header_extension_interoperate(suite):
    key, salt = material(suite, seed=3)
    packets = [rtp(7, csrcs=(1, 2, 3)), rtp(8, extension=b"\x10\xaa\x00\x00"),
               rtp(9, csrcs=(5,), extension=bytes(12)), rtp(10, payload=b""),
               rtp(11, payload=b"\x01"), rtp(12, payload=bytes(range(256)) * 4 + bytes(176))]
    theirs, ours = libsrtp_session(suite, key, salt, inbound=False), SrtpReceiver(suite, key, salt)
    for packet in packets:
        assert ours.unprotect(theirs.protect(packet)) == packet
    mine, their_rx = SrtpSender(suite, key, salt), libsrtp_session(suite, key, salt, inbound=True)
    for packet in packets:
        assert their_rx.unprotect(mine.protect(packet)) == packet


def test_capture_starting_mid_call_finds_the_rollover_counter():
    suite = "AES_CM_128_HMAC_SHA1_80"
    key, salt = material(suite, seed=4)
    sender = libsrtp_session(suite, key, salt, inbound=False)
    seq = 0
    for _ in range(7):                 # steps under 2^15 take libsrtp's index to ROC 3
        sender.protect(rtp(seq))
        seq += 30000
    assert seq >> 16 == 3
    tail = [seq + i for i in range(20)]
    packets = [(s & 0xFFFF, sender.protect(rtp(s & 0xFFFF))) for s in tail]
    receiver = SrtpReceiver(suite, key, salt)
    for s, packet in packets:
        assert receiver.unprotect(packet) == rtp(s)
    assert receiver.rollover_counter(0x11223344) == 3
    # Beyond the probe range the stream does not authenticate (and nothing raises).
    narrow = SrtpReceiver(suite, key, salt, max_initial_roc=2)
    assert narrow.unprotect(packets[0][1]) is None


@pytest.mark.parametrize("suite", ALL_SUITES)
def test_own_round_trip_every_suite_across_wrap_reordered(suite):
    key, salt = material(suite, seed=5)
    sender = SrtpSender(suite, key, salt)
    packets = [(seq, sender.protect(rtp(seq))) for seq in wrap_sequence(65530, 80)]
    assert len(packets[0][1]) == len(rtp(0)) + SUITES[suite].tag_len
    receiver = SrtpReceiver(suite, key, salt)
    for seq, packet in reorder_across_wrap(packets):
        assert receiver.unprotect(packet) == rtp(seq)
    assert receiver.authenticated == 80 and receiver.rollover_counter(0x11223344) == 1
    assert receiver.roc_corrections == 0


def test_first_packet_after_the_wrap_then_reordered_ones_from_before():
    suite = "AES_256_CM_HMAC_SHA1_80"
    key, salt = material(suite, seed=6)
    sender = SrtpSender(suite, key, salt)
    packets = {seq: sender.protect(rtp(seq)) for seq in wrap_sequence(65530, 12)}
    receiver = SrtpReceiver(suite, key, salt)
    for seq in (2, 65535, 0, 65531, 1, 5):     # first received has ROC 1
        assert receiver.unprotect(packets[seq]) == rtp(seq), seq
    assert receiver.rollover_counter(0x11223344) == 1
    assert receiver.roc_corrections == 0


def test_forward_jump_beyond_half_the_sequence_space_still_authenticates():
    # A stretch missing from the capture (or a sender resetting its sequence)
    # makes the RFC 3711 guess wrong; the neighbouring ROC is tried next.
    suite = "AES_CM_128_HMAC_SHA1_80"
    key, salt = material(suite, seed=16)
    sender, receiver = SrtpSender(suite, key, salt), SrtpReceiver(suite, key, salt)
    for seq in (100, 101, 40000, 40001, 100):
        assert receiver.unprotect(sender.protect(rtp(seq), roc=0)) == rtp(seq), seq
    assert receiver.roc_corrections == 2          # 40000 (guessed -1) and the late 100 (guessed 1)
    for seq in (65000, 3000, 3001):              # then an ordinary wrap to ROC 1
        assert receiver.unprotect(sender.protect(rtp(seq), roc=0 if seq > 60000 else 1)) == rtp(seq)
    assert receiver.rollover_counter(0x11223344) == 1


def test_long_stream_tracks_the_highest_sequence_through_two_wraps():
    suite = "AES_CM_128_HMAC_SHA1_80"
    key, salt = material(suite, seed=17)
    sender, receiver = SrtpSender(suite, key, salt), SrtpReceiver(suite, key, salt)
    for index in range(100, 3 * 65536, 997):       # gaps (lost packets) well under 2^15
        packet = rtp(index & 0xFFFF)
        assert receiver.unprotect(sender.protect(packet, roc=index >> 16)) == packet
    assert receiver.rollover_counter(0x11223344) == 2
    assert receiver.roc_corrections == 0


def test_streams_of_several_ssrcs_keep_their_own_counters():
    suite = "AES_CM_128_HMAC_SHA1_32"
    key, salt = material(suite, seed=7)
    sender, receiver = SrtpSender(suite, key, salt), SrtpReceiver(suite, key, salt)
    for seq in wrap_sequence(65000, 1000):
        assert receiver.unprotect(sender.protect(rtp(seq, ssrc=1))) == rtp(seq, ssrc=1)
    for seq in range(100, 120):
        assert receiver.unprotect(sender.protect(rtp(seq, ssrc=2))) == rtp(seq, ssrc=2)
    assert (receiver.rollover_counter(1), receiver.rollover_counter(2)) == (1, 0)
    assert receiver.roc_corrections == 0


# --------------------------------------------------------------------------- #
# MKI and SRTCP
# --------------------------------------------------------------------------- #

def test_mki_is_skipped_and_not_authenticated():
    suite = "AES_CM_128_HMAC_SHA1_80"
    key, salt = material(suite, seed=8)
    sender = libsrtp_session(suite, key, salt, inbound=False)
    receiver, plain_rx = SrtpReceiver(suite, key, salt, mki_len=4), SrtpReceiver(suite, key, salt)
    for seq in range(3):
        packet = sender.protect(rtp(seq))
        with_mki = packet[:-10] + b"\x00\x00\x00\x07" + packet[-10:]   # RFC 3711: MKI before the tag
        assert receiver.unprotect(with_mki) == rtp(seq)
        assert plain_rx.unprotect(with_mki) is None
    own = SrtpSender("AES_256_CM_HMAC_SHA1_32", *material("AES_256_CM_HMAC_SHA1_32"), mki=b"\x01\x02")
    protected = own.protect(rtp(42))
    assert protected[-6:-4] == b"\x01\x02"
    rx = SrtpReceiver("AES_256_CM_HMAC_SHA1_32", *material("AES_256_CM_HMAC_SHA1_32"), mki_len=2)
    assert rx.unprotect(protected) == rtp(42)


def rtcp_packet(ssrc: int = 0x11223344) -> bytes:
    body = struct.pack("!IIIII", 1, 2, 3, 4, 5)
    return struct.pack("!BBHI", 0x80, 200, 6, ssrc) + body


@pytest.mark.parametrize("suite", list(LIBSRTP_PROFILES))
def test_srtcp_interoperates_both_ways(suite):
    key, salt = material(suite, seed=9)
    theirs, ours = libsrtp_session(suite, key, salt, inbound=False), SrtpReceiver(suite, key, salt)
    for _ in range(3):
        assert ours.unprotect_rtcp(theirs.protect_rtcp(rtcp_packet())) == rtcp_packet()
    mine, their_rx = SrtpSender(suite, key, salt), libsrtp_session(suite, key, salt, inbound=True)
    for _ in range(3):
        assert their_rx.unprotect_rtcp(mine.protect_rtcp(rtcp_packet())) == rtcp_packet()
    wrong = SrtpReceiver(suite, *material(suite, seed=99))
    assert wrong.unprotect_rtcp(theirs.protect_rtcp(rtcp_packet())) is None
    assert (ours.rtcp_authenticated, wrong.rtcp_auth_failed) == (3, 1)


def test_unencrypted_srtcp_and_rtcp_garbage():
    suite = "AES_256_CM_HMAC_SHA1_80"
    key, salt = material(suite, seed=10)
    protected = SrtpSender(suite, key, salt).protect_rtcp(rtcp_packet(), index=5, encrypt=False)
    assert protected[8:28] == rtcp_packet()[8:]        # E flag clear: body in the clear
    receiver = SrtpReceiver(suite, key, salt)
    assert receiver.unprotect_rtcp(protected) == rtcp_packet()
    for cut in range(len(protected)):
        assert receiver.unprotect_rtcp(protected[:cut]) is None
    assert receiver.rtcp_auth_failed == len(protected)


# --------------------------------------------------------------------------- #
# Failures: wrong keys, tampering, garbage
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("suite", ALL_SUITES)
def test_wrong_key_fails_authentication(suite):
    key, salt = material(suite, seed=11)
    sender = SrtpSender(suite, key, salt)
    wrong = SrtpReceiver(suite, bytes(len(key)), salt)
    packets = [sender.protect(rtp(seq)) for seq in range(50)]
    assert all(wrong.unprotect(p) is None for p in packets)
    assert (wrong.authenticated, wrong.auth_failed) == (0, 50)
    assert wrong.rollover_counter(0x11223344) is None


def test_tampering_anywhere_fails():
    suite = "AES_CM_128_HMAC_SHA1_80"
    key, salt = material(suite, seed=12)
    packet = SrtpSender(suite, key, salt).protect(rtp(1000))
    receiver = SrtpReceiver(suite, key, salt)
    for position in (1, 3, 11, 12, 100, len(packet) - 11, len(packet) - 1):
        tampered = bytearray(packet)
        tampered[position] ^= 0x01
        assert receiver.unprotect(bytes(tampered)) is None, position
    assert receiver.unprotect(packet) == rtp(1000)


def test_failed_packets_do_not_advance_the_rollover_counter():
    suite = "AES_CM_128_HMAC_SHA1_80"
    key, salt = material(suite, seed=13)
    sender, receiver = SrtpSender(suite, key, salt), SrtpReceiver(suite, key, salt)
    for seq in range(40000, 40010):
        assert receiver.unprotect(sender.protect(rtp(seq))) == rtp(seq)
    forged = SrtpSender(suite, bytes(16), salt)
    for seq in (5, 100, 7000):          # would be guessed as ROC 1 and move s_l
        assert receiver.unprotect(forged.protect(rtp(seq), roc=1)) is None
    assert receiver.rollover_counter(0x11223344) == 0
    for seq in range(40010, 40020):
        assert receiver.unprotect(sender.protect(rtp(seq))) == rtp(seq)
    assert (receiver.authenticated, receiver.auth_failed) == (20, 3)


def test_garbage_and_truncated_packets_return_none_without_raising():
    suite = "AES_CM_128_HMAC_SHA1_80"
    key, salt = material(suite, seed=14)
    packet = SrtpSender(suite, key, salt).protect(rtp(3, csrcs=(9,), extension=bytes(8)))
    receiver = SrtpReceiver(suite, key, salt)
    for cut in range(len(packet)):
        assert receiver.unprotect(packet[:cut]) is None
    huge_extension = bytearray(packet)
    huge_extension[18:20] = b"\xff\xff"                  # extension length beyond the packet
    rnd = random.Random(15)
    garbage = [b"", b"\x80", bytes(11), bytes(12), b"\x00" * 40, bytes(huge_extension),
               bytearray(packet[:20]), None, "text", 12345]
    garbage += [rnd.randbytes(rnd.randrange(0, 300)) for _ in range(2000)]
    garbage += [bytes([0x80 | rnd.randrange(32)]) + rnd.randbytes(rnd.randrange(0, 200))
                for _ in range(2000)]
    for junk in garbage:
        assert receiver.unprotect(junk) is None
        assert receiver.unprotect_rtcp(junk) is None
    assert receiver.authenticated == 0
    assert receiver.auth_failed == len(packet) + len(garbage)
    assert receiver.unprotect(memoryview(packet)) == rtp(3, csrcs=(9,), extension=bytes(8))


def test_constructor_checks_suite_and_lengths():
    with pytest.raises(ValueError):
        SrtpReceiver("AES_CM_128_HMAC_SHA1_80", bytes(32), bytes(14))
    with pytest.raises(ValueError):
        SrtpReceiver("AEAD_AES_128_GCM", bytes(16), bytes(12))
    with pytest.raises(ValueError):
        SrtpSender("AES_256_CM_HMAC_SHA1_80", bytes(32), bytes(12))
    with pytest.raises(ValueError):
        SrtpSender("AES_CM_128_HMAC_SHA1_80", bytes(16), bytes(14)).protect(b"\x00" * 20)


# --------------------------------------------------------------------------- #
# The corpus capture (gteissier/srtp-decrypt, as in libsrtp's rtp_decoder)
# --------------------------------------------------------------------------- #

def srtp_payloads_from_capture(path: Path, port: int) -> list[bytes]:
    """UDP payloads to or from ``port`` in an Ethernet/IPv4 pcap, read with RawPcapReader."""
    from scapy.utils import RawPcapReader

    payloads = []
    with RawPcapReader(str(path)) as reader:
        assert reader.linktype == 1
        for frame, _meta in reader:
            if frame[12:14] != b"\x08\x00" or frame[23] != 17:
                continue
            ip_len = (frame[14] & 0x0F) * 4
            udp = frame[14 + ip_len:]
            sport, dport, length = struct.unpack("!HHH", udp[:6])
            if port in (sport, dport):
                payloads.append(bytes(udp[8:length]))
    return payloads


@pytest.fixture(scope="module")
def corpus_srtp():
    path = CORPUS / SRTP_CAPTURE
    if not path.is_file():
        pytest.skip(f"corpus capture absent: {path}")
    entry = json.loads((CORPUS / "MANIFEST.json").read_text())["captures"][SRTP_CAPTURE]["srtp"]
    return entry, srtp_payloads_from_capture(path, entry["udp_port"])


def test_corpus_capture_every_packet_authenticates(corpus_srtp):
    entry, payloads = corpus_srtp
    assert len(payloads) == entry["packets"] == 11888
    (suite, key, salt), = [c for c in parse_key(entry["inline_key"]) if c[0] == entry["suite"]]
    receiver = SrtpReceiver(suite, key, salt)
    plain = [receiver.unprotect(p) for p in payloads]
    assert (receiver.authenticated, receiver.auth_failed) == (11888, 0)
    ssrc = int(entry["ssrc"], 16)
    assert all(int.from_bytes(p[8:12], "big") == ssrc and p[1] & 0x7F == 8 for p in plain)
    assert sum(p[12:] != c[12:len(p)] for p, c in zip(plain, payloads)) > 11000


def test_corpus_capture_nothing_authenticates_with_a_wrong_key(corpus_srtp):
    entry, payloads = corpus_srtp
    (suite, key, salt), = [c for c in parse_key(entry["inline_key"]) if c[0] == entry["suite"]]
    for wrong_key, wrong_salt in ((bytes(16), salt), (key, bytes(14)),
                                  (key[:-1] + bytes([key[-1] ^ 1]), salt)):
        receiver = SrtpReceiver(suite, wrong_key, wrong_salt)
        assert all(receiver.unprotect(p) is None for p in payloads)
        assert (receiver.authenticated, receiver.auth_failed) == (0, 11888)
