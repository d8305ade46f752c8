"""Customer-like SIP traffic as a capture, for `sipscen scaffold`'s bench and tests.

A proxy (an SBC at 10.0.0.1:5060, domain voip.acme.example) in front of phones
(10.1.x.y:5060): each phone registers with digest authentication; each call
goes phone A -> proxy -> phone B: INVITE (SDP, PCMA, telephone-event, SDES-SRTP
keys on every ``srtp_every``-th call; its packets are not real SRTP, so they never
authenticate), 100 from the proxy, 180, 200 with SDP, ACK, RTP
both ways every 20 ms for ``rtp_seconds``, RFC 4733 digits on every second
call, BYE from the caller, 200. Calls overlap (one starts every ``spacing``
seconds). Written with bench_analyze's pcap writer (raw struct, no scapy).

    write_traffic(path, calls=10_000, rtp_seconds=1.0) -> {"packets", "call_ids", ...}
"""
from __future__ import annotations

import hashlib
import importlib.util
import struct
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "bench_analyze", Path(__file__).resolve().parent / "bench_analyze.py")
_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_bench)
PcapWriter = _bench.PcapWriter

PROXY = (bytes([10, 0, 0, 1]), "10.0.0.1")
DOMAIN = "voip.acme.example"
KEY = "WVNfX19zZWNyZXRfa2V5X29mX2FjbWVfY29ycF8xMjM0"    # 30 bytes, base64
REALM = DOMAIN
RTP = struct.Struct("!BBHII").pack


def phone(n: int) -> tuple[bytes, str, str]:
    raw = bytes([10, 1, (n >> 8) & 0xFF, 1 + n % 250])
    return raw, ".".join(map(str, raw)), f"{4100 + n}"


def _msg(lines: list[str], body: str = "") -> bytes:
    ctype = ["Content-Type: application/sdp"] if body else []
    head = "\r\n".join(lines + ctype + [f"Content-Length: {len(body.encode())}"])
    return (head + "\r\n\r\n" + body).encode()


def _sdp(ip: str, port: int, srtp: bool, seed: str) -> str:
    proto = "RTP/SAVP" if srtp else "RTP/AVP"
    lines = ["v=0", f"o=acme 1 1 IN IP4 {ip}", "s=call", f"c=IN IP4 {ip}", "t=0 0",
             f"m=audio {port} {proto} 8 101", "a=rtpmap:8 PCMA/8000",
             "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=sendrecv"]
    if srtp:
        lines.append(f"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{seed}")
    return "\r\n".join(lines) + "\r\n"


def _key(text: str) -> str:
    import base64
    return base64.b64encode(hashlib.sha256(text.encode()).digest()[:30]).decode()


class _Ordered:
    """Packets of overlapping calls written in time order (a heap of the pending ones)."""

    def __init__(self, writer):
        self.w = writer
        self.heap: list = []
        self.n = 0

    def udp(self, t, src, sport, dst, dport, payload) -> None:
        import heapq
        self.n += 1
        heapq.heappush(self.heap, (t, self.n, src, sport, dst, dport, payload))

    def until(self, t: float) -> None:
        import heapq
        while self.heap and self.heap[0][0] < t:
            self._write(heapq.heappop(self.heap))

    def _write(self, item) -> None:
        t, _, src, sport, dst, dport, payload = item
        self.w.udp(t, src, sport, dst, dport, payload)


def write_traffic(path: Path, calls: int, rtp_seconds: float = 1.0, phones: int = 40,
                  spacing: float = 0.05, srtp_every: int = 3) -> dict:
    """Write the capture; returns its packets, Call-IDs and what it contains."""
    info: dict = {"call_ids": [], "users": set(), "hosts": {"10.0.0.1", DOMAIN},
                  "keys": set(), "tags": set(), "digits": {}}
    with open(path, "wb") as f:
        writer = PcapWriter(f)
        w = _Ordered(writer)
        t = 1_700_000_000.0
        for n in range(phones):            # registrations with digest
            raw, ip, user = phone(n)
            info["users"].add(user)
            info["hosts"].add(ip)
            cid, tag = f"reg-{n}-7f3a@{ip}", f"rt{n}x"
            info["tags"].add(tag)
            base = [f"Via: SIP/2.0/UDP {ip}:5060;branch=z9hG4bKr{n}a",
                    f"From: <sip:{user}@{DOMAIN}>;tag={tag}", f"To: <sip:{user}@{DOMAIN}>",
                    f"Call-ID: {cid}", "Max-Forwards: 70",
                    f"Contact: <sip:{user}@{ip}:5060>", "Expires: 3600"]
            w.udp(t, raw, 5060, PROXY[0], 5060, _msg([f"REGISTER sip:{DOMAIN} SIP/2.0", *base,
                                                      "CSeq: 1 REGISTER"]))
            nonce = f"n{n}c0ffee"
            w.udp(t + 0.001, PROXY[0], 5060, raw, 5060, _msg([
                "SIP/2.0 401 Unauthorized", *base[:4], "CSeq: 1 REGISTER",
                f'WWW-Authenticate: Digest realm="{REALM}", nonce="{nonce}"']))
            response = hashlib.md5(f"{user}{nonce}".encode()).hexdigest()
            info["keys"].add(response)
            auth = (f'Authorization: Digest username="{user}", realm="{REALM}", '
                    f'nonce="{nonce}", uri="sip:{DOMAIN}", response="{response}"')
            w.udp(t + 0.002, raw, 5060, PROXY[0], 5060, _msg([
                f"REGISTER sip:{DOMAIN} SIP/2.0", *base, "CSeq: 2 REGISTER", auth]))
            w.udp(t + 0.003, PROXY[0], 5060, raw, 5060, _msg([
                "SIP/2.0 200 OK", *base[:4], "CSeq: 2 REGISTER",
                f"Contact: <sip:{user}@{ip}:5060>;expires=3600"]))
            t += 0.01
        packets_per_way = max(1, int(rtp_seconds / 0.02))
        for c in range(calls):
            a_raw, a_ip, a_user = phone(c % phones)
            b_raw, b_ip, b_user = phone((c * 7 + 1) % phones)
            if a_user == b_user:
                b_raw, b_ip, b_user = phone((c + 1) % phones)
            cid = f"{hashlib.md5(str(c).encode()).hexdigest()[:16]}@{a_ip}"
            info["call_ids"].append(cid)
            ftag, ttag = f"ft{c}q", f"tt{c}w"
            info["tags"] |= {ftag, ttag}
            srtp = bool(srtp_every) and c % srtp_every == 0
            a_key, b_key = _key(f"a{c}"), _key(f"b{c}")
            if srtp:
                info["keys"] |= {a_key, b_key}
            a_port, b_port = 16000 + 2 * (c % 4000), 26000 + 2 * (c % 4000)
            start = 1_700_001_000.0 + c * spacing
            w.until(start)
            via_a = f"Via: SIP/2.0/UDP {a_ip}:5060;branch=z9hG4bKa{c}"
            via_p = f"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKp{c}"
            common = [f"From: \"Phone {a_user}\" <sip:{a_user}@{DOMAIN}>;tag={ftag}",
                      f"Call-ID: {cid}", "Max-Forwards: 70"]
            to = f"To: <sip:{b_user}@{DOMAIN}>"
            to_t = f"{to};tag={ttag}"
            offer = _sdp(a_ip, a_port, srtp, a_key)
            answer = _sdp(b_ip, b_port, srtp, b_key)
            inv = [f"INVITE sip:{b_user}@{DOMAIN} SIP/2.0", via_a, *common, to,
                   "CSeq: 101 INVITE", f"Contact: <sip:{a_user}@{a_ip}:5060>",
                   f"X-Customer-Ref: acme-{c}"]
            w.udp(start, a_raw, 5060, PROXY[0], 5060, _msg(inv, offer))
            w.udp(start + 0.001, PROXY[0], 5060, a_raw, 5060, _msg(
                ["SIP/2.0 100 Trying", via_a, *common[:2], to, "CSeq: 101 INVITE"]))
            fwd = [f"INVITE sip:{b_user}@{b_ip}:5060 SIP/2.0", via_p, via_a, *common, to,
                   "CSeq: 101 INVITE", f"Contact: <sip:{a_user}@{a_ip}:5060>",
                   f"X-Customer-Ref: acme-{c}", "Record-Route: <sip:10.0.0.1;lr>"]
            w.udp(start + 0.002, PROXY[0], 5060, b_raw, 5060, _msg(fwd, offer))
            for dt, status, body in ((0.05, "180 Ringing", ""), (0.8, "200 OK", answer)):
                lines = [f"SIP/2.0 {status}", via_p, via_a, *common[:2], to_t,
                         "CSeq: 101 INVITE", f"Contact: <sip:{b_user}@{b_ip}:5060>",
                         "Record-Route: <sip:10.0.0.1;lr>"]
                w.udp(start + dt, b_raw, 5060, PROXY[0], 5060, _msg(lines, body))
                w.udp(start + dt + 0.001, PROXY[0], 5060, a_raw, 5060,
                      _msg([lines[0]] + lines[2:], body))
            ack = [f"ACK sip:{b_user}@{b_ip}:5060 SIP/2.0", via_a, *common, to_t,
                   "CSeq: 101 ACK", "Route: <sip:10.0.0.1;lr>"]
            w.udp(start + 0.81, a_raw, 5060, PROXY[0], 5060, _msg(ack))
            w.udp(start + 0.811, PROXY[0], 5060, b_raw, 5060, _msg([ack[0], via_p] + ack[1:]))
            t = start + 0.82
            digits = "1234" if c % 2 == 0 else ""
            if digits:
                info["digits"][cid] = digits
            for i in range(packets_per_way):
                for src, sport, dst, dport, ssrc in (
                        (a_raw, a_port, b_raw, b_port, 0x1000 + c),
                        (b_raw, b_port, a_raw, a_port, 0x2000 + c)):
                    w.udp(t + i * 0.02, src, sport, dst, dport,
                          RTP(0x80, 8, i, i * 160, ssrc) + bytes(160))
            for k, d in enumerate(digits):
                code = int(d)
                at = t + 0.1 + k * 0.25
                for j in range(4):
                    end = 0x80 if j >= 2 else 0
                    w.udp(at + j * 0.02, a_raw, a_port, b_raw, b_port,
                          RTP(0x80 | 0, 101 | (0x80 if j == 0 else 0), 50000 + k * 10 + j,
                              10000 + k * 2000, 0x1000 + c)
                          + bytes([code, end | 10]) + struct.pack("!H", 160 * (j + 1)))
            bye_t = t + packets_per_way * 0.02 + 0.01
            bye = [f"BYE sip:{b_user}@{b_ip}:5060 SIP/2.0", via_a, *common, to_t,
                   "CSeq: 102 BYE", "Route: <sip:10.0.0.1;lr>"]
            w.udp(bye_t, a_raw, 5060, PROXY[0], 5060, _msg(bye))
            w.udp(bye_t + 0.001, PROXY[0], 5060, b_raw, 5060, _msg([bye[0], via_p] + bye[1:]))
            ok = ["SIP/2.0 200 OK", via_p, via_a, *common[:2], to_t, "CSeq: 102 BYE"]
            w.udp(bye_t + 0.003, b_raw, 5060, PROXY[0], 5060, _msg(ok))
            w.udp(bye_t + 0.004, PROXY[0], 5060, a_raw, 5060, _msg([ok[0]] + ok[2:]))
        w.until(float("inf"))
        writer.flush()
    info["packets"] = writer.count
    return info


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="write customer-like SIP traffic as a pcap")
    parser.add_argument("output", type=Path)
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--rtp-seconds", type=float, default=1.0)
    parser.add_argument("--srtp-every", type=int, default=3)
    args = parser.parse_args()
    made = write_traffic(args.output, args.calls, args.rtp_seconds,
                         srtp_every=args.srtp_every)
    print(f"{args.output}: {made['packets']} packets, {args.calls} calls")


def write_one_side(path: Path) -> dict:
    """One call captured at the phone only: it registers (401, retry), calls 4101 through
    the SBC (407, retry with Proxy-Authorization), the SBC relays 180 and 200 (the far
    end's Contact, a Record-Route, the SBC's own media address), RTP both ways between
    the phone and the SBC for 2 s with RFC 4733 digits 42 from the phone, then the far
    end hangs up (a BYE from the SBC)."""
    raw, ip, user = phone(0)
    sbc_media = 40000
    cid, ftag, ttag = "onesided-93b1@10.1.0.1", "ft1", "far9"
    w_info = {"call_id": cid}
    with open(path, "wb") as f:
        w = PcapWriter(f)
        t = 1_700_000_000.0
        base = [f"Via: SIP/2.0/UDP {ip}:5060;branch=z9hG4bKreg1",
                f"From: <sip:{user}@{DOMAIN}>;tag=r1", f"To: <sip:{user}@{DOMAIN}>",
                "Call-ID: reg-onesided@10.1.0.1", "Max-Forwards: 70",
                f"Contact: <sip:{user}@{ip}:5060>", "Expires: 600"]
        w.udp(t, raw, 5060, PROXY[0], 5060, _msg([f"REGISTER sip:{DOMAIN} SIP/2.0", *base,
                                                  "CSeq: 1 REGISTER"]))
        w.udp(t + 0.01, PROXY[0], 5060, raw, 5060, _msg([
            "SIP/2.0 401 Unauthorized", *base[:4], "CSeq: 1 REGISTER",
            f'WWW-Authenticate: Digest realm="{REALM}", nonce="n1"']))
        auth = (f'Authorization: Digest username="{user}", realm="{REALM}", nonce="n1", '
                f'uri="sip:{DOMAIN}", response="0123456789abcdef0123456789abcdef"')
        w.udp(t + 0.02, raw, 5060, PROXY[0], 5060, _msg([
            f"REGISTER sip:{DOMAIN} SIP/2.0", *base, "CSeq: 2 REGISTER", auth]))
        w.udp(t + 0.03, PROXY[0], 5060, raw, 5060, _msg([
            "SIP/2.0 200 OK", *base[:4], "CSeq: 2 REGISTER",
            f"Contact: <sip:{user}@{ip}:5060>;expires=600"]))
        t = 1_700_000_002.0
        via = f"Via: SIP/2.0/UDP {ip}:5060;branch=z9hG4bKinv"
        common = [f"From: <sip:{user}@{DOMAIN}>;tag={ftag}", f"Call-ID: {cid}", "Max-Forwards: 70"]
        to = "To: <sip:4101@voip.acme.example>"
        offer = _sdp(ip, 16000, False, "")
        inv = ["INVITE sip:4101@voip.acme.example SIP/2.0", via, *common, to,
               f"Contact: <sip:{user}@{ip}:5060>"]
        w.udp(t, raw, 5060, PROXY[0], 5060, _msg(inv + ["CSeq: 1 INVITE"], offer))
        w.udp(t + 0.01, PROXY[0], 5060, raw, 5060, _msg([
            "SIP/2.0 407 Proxy Authentication Required", via, *common[:2], to + ";tag=sbc1",
            "CSeq: 1 INVITE", f'Proxy-Authenticate: Digest realm="{REALM}", nonce="n2"']))
        w.udp(t + 0.011, raw, 5060, PROXY[0], 5060, _msg([
            "ACK sip:4101@voip.acme.example SIP/2.0", via, *common, to + ";tag=sbc1",
            "CSeq: 1 ACK"]))
        via2 = f"Via: SIP/2.0/UDP {ip}:5060;branch=z9hG4bKinv2"
        pauth = (f'Proxy-Authorization: Digest username="{user}", realm="{REALM}", '
                 'nonce="n2", uri="sip:4101@voip.acme.example", '
                 'response="fedcba9876543210fedcba9876543210"')
        w.udp(t + 0.02, raw, 5060, PROXY[0], 5060,
              _msg([inv[0], via2] + inv[2:] + ["CSeq: 2 INVITE", pauth], offer))
        w.udp(t + 0.03, PROXY[0], 5060, raw, 5060, _msg([
            "SIP/2.0 100 Trying", via2, *common[:2], to, "CSeq: 2 INVITE"]))
        far = ["Contact: <sip:4101@10.5.5.5:5060>", "Record-Route: <sip:10.0.0.1;lr>"]
        w.udp(t + 0.2, PROXY[0], 5060, raw, 5060, _msg([
            "SIP/2.0 180 Ringing", via2, *common[:2], f"{to};tag={ttag}", "CSeq: 2 INVITE",
            *far]))
        answer = _sdp("10.0.0.1", sbc_media, False, "")
        w.udp(t + 1.7, PROXY[0], 5060, raw, 5060, _msg([
            "SIP/2.0 200 OK", via2, *common[:2], f"{to};tag={ttag}", "CSeq: 2 INVITE", *far],
            answer))
        w.udp(t + 1.71, raw, 5060, PROXY[0], 5060, _msg([
            "ACK sip:4101@10.5.5.5:5060 SIP/2.0", f"Via: SIP/2.0/UDP {ip}:5060;branch=z9hG4bKack",
            *common, f"{to};tag={ttag}", "CSeq: 2 ACK", "Route: <sip:10.0.0.1;lr>"]))
        start = t + 1.72
        for i in range(100):
            w.udp(start + i * 0.02, raw, 16000, PROXY[0], sbc_media,
                  RTP(0x80, 8, i, i * 160, 0xA1) + bytes(160))
            w.udp(start + i * 0.02 + 0.001, PROXY[0], sbc_media, raw, 16000,
                  RTP(0x80, 8, i, i * 160, 0xB2) + bytes(160))
        for k, d in enumerate("42"):
            at = start + 0.5 + k * 0.3
            for j in range(4):
                end = 0x80 if j >= 2 else 0
                w.udp(at + j * 0.02 + 0.005, raw, 16000, PROXY[0], sbc_media,
                      RTP(0x80, 101 | (0x80 if j == 0 else 0), 60000 + k * 10 + j,
                          20000 + k * 3000, 0xA1) + bytes([int(d), end | 10])
                      + struct.pack("!H", 160 * (j + 1)))
        bye_t = start + 2.01
        w.udp(bye_t, PROXY[0], 5060, raw, 5060, _msg([
            f"BYE sip:{user}@{ip}:5060 SIP/2.0", "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKbye",
            f"From: {to[4:]};tag={ttag}", f"To: <sip:{user}@{DOMAIN}>;tag={ftag}",
            f"Call-ID: {cid}", "CSeq: 1 BYE", "Max-Forwards: 69"]))
        w.udp(bye_t + 0.005, raw, 5060, PROXY[0], 5060, _msg([
            "SIP/2.0 200 OK", "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKbye",
            f"From: {to[4:]};tag={ttag}", f"To: <sip:{user}@{DOMAIN}>;tag={ftag}",
            f"Call-ID: {cid}", "CSeq: 1 BYE"]))
        w.flush()
    w_info["packets"] = w.count
    return w_info
