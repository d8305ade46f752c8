"""The fast path on interleaved records of mixed sizes, every link type it
knows, both pcap byte orders, IPv4 and IPv6, and RTP headers it must leave to
the general path (marker, padding, extension, CSRCs, a sequence wrap, an SSRC
change, a codec change on one SSRC, loss, reordering, duplicates, events): the
output must be exactly the general path's."""
import random
import struct

import pytest

from tests.analysis.test_fastpath_equivalence import _batches_path, _general_path
from sipscen.analysis.analyze import analyze_capture

# link type -> link header before an IPv4 / IPv6 packet
_LINK = {
    1: lambda v6: b"\x00" * 12 + (b"\x86\xdd" if v6 else b"\x08\x00"),
    113: lambda v6: b"\x00" * 14 + (b"\x86\xdd" if v6 else b"\x08\x00"),
    276: lambda v6: (b"\x86\xdd" if v6 else b"\x08\x00") + b"\x00" * 18,
    101: lambda v6: b"",
}


def _udp(lt, src, sport, dst, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    if len(src) == 16:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(udp), 17, 64, src, dst)
    else:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0xB8, 20 + len(udp), 0, 0x4000, 64, 17, 0, src, dst)
    return _LINK[lt](len(src) == 16) + ip + udp


def _sdp_msg(first, call, ip, port, pt, rtpmap, te):
    body = (f"v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP {pt} {te}\r\na=rtpmap:{pt} {rtpmap}\r\n"
            f"a=rtpmap:{te} telephone-event/8000\r\n")
    head = [first, f"Call-ID: {call}", "From: <sip:a@x>;tag=a", "To: <sip:b@x>;tag=b",
            "Via: SIP/2.0/UDP 10.0.0.1:5060", "CSeq: 1 INVITE", "Content-Type: application/sdp",
            f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


def _capture(path, lt, order):
    rnd = random.Random(lt * 7 + (order == ">"))
    a4, b4 = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    a6, b6 = b"\xfd" + b"\x00" * 14 + b"\x01", b"\xfd" + b"\x00" * 14 + b"\x02"
    frames = [(0.0, _udp(lt, a4, 5060, b4, 5060, _sdp_msg(
                  "INVITE sip:b@x SIP/2.0", "mixed-1", "10.0.0.1", 4000, 8, "PCMA/8000", 101))),
              (0.001, _udp(lt, b4, 5060, a4, 5060, _sdp_msg(
                  "SIP/2.0 200 OK", "mixed-1", "10.0.0.2", 6000, 8, "PCMA/8000", 101)))]
    # (src, sport, dst, dport, pt, clock, ssrc, sizes): SDP'd, no SDP, IPv6, opus-like
    streams = [(a4, 4000, b4, 6000, 8, 8000, 0x1111, (160,)),
               (b4, 6000, a4, 4000, 8, 8000, 0x2222, (160, 80)),
               (a4, 7000, b4, 7002, 0, 8000, 0x3333, (160,)),
               (a6, 8000, b6, 8002, 18, 8000, 0x4444, (20,)),
               (b4, 9000, a4, 9002, 111, 48000, 0x5555, tuple(range(40, 161, 8)))]
    for i, (src, sport, dst, dport, pt, clock, ssrc, sizes) in enumerate(streams):
        seq0 = 65500 if i == 2 else rnd.randrange(65536)      # stream 2 wraps its sequence
        for k in range(400):
            t = 0.01 + i * 0.003 + k * 0.02 + rnd.random() * 0.004
            b0, b1, extra, seq = 0x80, pt, b"", (seq0 + k) & 0xFFFF
            kind = rnd.random()
            if kind < 0.01:
                continue                                        # lost
            if k == 0 or kind < 0.02:
                b1 |= 0x80                                      # marker
            elif kind < 0.03:
                b0, extra = 0x90, b"\xbe\xde\x00\x01\x10\xaa\x00\x00"   # header extension
            elif kind < 0.04:
                b0, extra = 0x81, b"\x00\x00\x00\x09"           # one CSRC
            elif kind < 0.05:
                seq = (seq - 3) & 0xFFFF                        # late
            body = bytes(rnd.choice(sizes))
            if kind >= 0.05 and kind < 0.06:
                b0, body = b0 | 0x20, body + b"\x00\x00\x03"    # padding
            ts = ((seq0 + k) * clock // 50) & 0xFFFFFFFF
            if (i == 0 and k >= 200) or (i == 2 and 100 <= k < 250):
                b1 ^= 8                 # a codec change on the same SSRC (PCMA <-> PCMU)
            if i == 1 and 150 <= k < 160:                       # an RFC 4733 digit
                b1 = 101 | (0x80 if k == 150 else 0)
                body = struct.pack("!BBH", 5, 0x8A if k >= 157 else 10, 160 * (min(k, 156) - 149))
                ts = ((seq0 + 150) * clock // 50) & 0xFFFFFFFF
            issrc = ssrc + (1 if i == 3 and k >= 300 else 0)    # stream 3 changes SSRC
            frames.append((t, _udp(lt, src, sport, dst, dport,
                                   struct.pack("!BBHII", b0, b1, seq, ts, issrc) + extra + body)))
            if kind > 0.995:
                frames.append((t + 0.0001, frames[-1][1]))      # duplicate
    frames.sort(key=lambda f: f[0])
    with open(path, "wb") as f:
        f.write(struct.pack(order + "IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, lt))
        for t, frame in frames:
            sec = 1_700_000_000 + int(t)
            f.write(struct.pack(order + "IIII", sec, int((t % 1) * 1e6), len(frame), len(frame)) + frame)
    return len(frames)


@pytest.mark.parametrize("lt", sorted(_LINK))
@pytest.mark.parametrize("order", ["<", ">"])
def test_mixed_sizes_same_on_every_path(tmp_path, lt, order):
    path = tmp_path / "mixed.pcap"
    count = _capture(path, lt, order)
    fast = analyze_capture(path).to_dict()
    assert fast["packets"] == count
    assert len(fast["rtp_streams"]) == 6 and len(fast["dtmf"]) == 1
    for stream in fast["rtp_streams"]:      # counted per payload type, every packet once
        parts = stream["by_payload_type"]
        assert sum(p["packets"] for p in parts.values()) == stream["packets"]
        assert sorted(int(pt) for pt in parts) == stream["payload_types"]
    first = next(s for s in fast["rtp_streams"] if s["ssrc"] == "0x00001111")
    assert 180 <= first["by_payload_type"]["8"]["packets"] <= 205          # duplicates count as packets
    assert 180 <= first["by_payload_type"]["0"]["packets"] <= 205          # duplicates count as packets
    assert first["by_payload_type"]["8"]["last_time"] < first["by_payload_type"]["0"]["first_time"] + 0.1
    assert fast == _general_path(path)
    assert fast == _batches_path(path)
