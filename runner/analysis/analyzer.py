"""The per-packet loop: frames -> SIP messages, RTP streams, DTMF events, SRTP.

Hot path first: a frame is decoded by offset arithmetic, an RTP packet costs
one dict lookup for its stream and a few integer operations; only
telephone-event and SRTP packets do more.  Nothing here keeps packets:
memory grows with calls, streams and events.
"""
from __future__ import annotations

import struct

from runner.analysis.calls import CallTable
from runner.analysis.dtmf import EventClassifier, EventTracker
from runner.analysis.layers import FRAGMENT, ip_payload, endpoint_str
from runner.analysis.rtp import RtpStream
from runner.analysis.sip import TcpSipReassembler, looks_like_sip, parse_message
from runner.analysis.srtp_streams import (
    SAMPLE_BYTES, KeyCandidate, SrtpStreamState, sdp_candidates,
)

_RTP = struct.Struct("!BBHII").unpack_from
_UPPER = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_EV_UNDECIDED, _EV_EVENTS, _EV_AUDIO = EventClassifier.UNDECIDED, EventClassifier.EVENTS, EventClassifier.AUDIO


def rtp_payload(pkt: bytes) -> bytes | None:
    """Payload of an RTP packet (CSRCs, header extension and padding removed)."""
    n = len(pkt)
    if n < 12:
        return None
    b0 = pkt[0]
    p = 12 + 4 * (b0 & 0x0F)
    if b0 & 0x10:
        if n < p + 4:
            return None
        p += 4 + 4 * ((pkt[p + 2] << 8) | pkt[p + 3])
    end = n
    if b0 & 0x20 and n > p:
        end -= pkt[-1]
    if end < p:
        return None
    return pkt[p:end]


class Analyzer:
    def __init__(self, caller_keys: list[KeyCandidate]):
        self.warnings: list[str] = []
        self.packets = 0
        self.calls = CallTable(self.warnings)
        self.tcp = TcpSipReassembler(self.warnings)
        self.streams: dict[tuple, RtpStream] = {}
        self.events: list = []
        self.caller_keys = caller_keys
        self.fragments = 0
        self.non_ip = 0
        self.last_time = 0.0

    # ------------------------------------------------------------------ loop
    def run(self, records) -> None:
        streams = self.streams
        calls = self.calls
        rtp = self._rtp
        t = 0.0
        for t, lt, data in records:
            self.packets += 1
            if t == 0.0:          # pcapng simple packet block: no timestamp
                t = self.last_time
            else:
                self.last_time = t
            # fast path: Ethernet / IPv4 without options / UDP
            if lt == 1 and len(data) >= 42 and data[12] == 8 and data[13] == 0 and data[14] == 0x45 and data[23] == 17 \
                    and not (data[20] & 0x3F or data[21]):
                end = 14 + ((data[16] << 8) | data[17])
                if end > len(data) or end < 42:
                    end = len(data)
                src = data[26:30]
                dst = data[30:34]
                off = 34
            else:
                r = ip_payload(lt, data)
                if r is None:
                    self.non_ip += 1
                    continue
                src, dst, proto, off, end = r
                if proto != 17:
                    if proto == 6:
                        self._tcp(t, src, dst, data, off, end)
                    elif proto == FRAGMENT:
                        self.fragments += 1
                    continue
                if end - off < 8:
                    continue
            sport = (data[off] << 8) | data[off + 1]
            dport = (data[off + 2] << 8) | data[off + 3]
            ulen = (data[off + 4] << 8) | data[off + 5]
            p = off + 8
            if 8 <= ulen and off + ulen < end:
                end = off + ulen
            if end - p < 12:
                if end > p and data[p] in _UPPER:
                    self._sip_udp(t, src, sport, dst, dport, data[p:end])
                continue
            b0 = data[p]
            if b0 & 0xC0 == 0x80:
                b1 = data[p + 1]
                if 200 <= b1 <= 204:
                    continue  # RTCP
                ssrc = (data[p + 8] << 24) | (data[p + 9] << 16) | (data[p + 10] << 8) | data[p + 11]
                st = streams.get((src, sport, dst, dport, ssrc))
                if st is None or st.sdp_gen != calls.generation or st.srtp is not None \
                        or st.event_pts is None or (b1 & 0x7F) in st.event_pts:
                    rtp(t, src, sport, dst, dport, ssrc, st, data, p, end)
                else:
                    st.add(t, (data[p + 2] << 8) | data[p + 3],
                           (data[p + 4] << 24) | (data[p + 5] << 16) | (data[p + 6] << 8) | data[p + 7],
                           b1 & 0x7F, True)
            elif b0 in _UPPER:
                self._sip_udp(t, src, sport, dst, dport, data[p:end])
        if self.fragments:
            self.warnings.append(f"{self.fragments} IP fragments not reassembled (skipped)")

    # ------------------------------------------------------------------ RTP
    def _rtp(self, t, src, sport, dst, dport, ssrc, st, data, p, end) -> None:
        if st is None:
            st = RtpStream(src, sport, dst, dport, ssrc, t, (data[p + 2] << 8) | data[p + 3], len(self.streams))
            self.streams[(src, sport, dst, dport, ssrc)] = st
            self._resolve(st)
        elif st.sdp_gen != self.calls.generation:
            self._resolve(st)
        b0, b1, seq, ts, _ = _RTP(data, p)
        pt = b1 & 0x7F
        if st.srtp is None and self.caller_keys and not st.tried_keys:
            st.tried_keys = True
            st.srtp = SrtpStreamState(list(self.caller_keys), declared=False)
        srtp = st.srtp
        if srtp is not None:
            packet = data[p:end]
            if srtp.winner is None and len(st.payload_sample) < SAMPLE_BYTES:
                st.payload_sample += packet[12:]
            plain = srtp.unprotect(packet)
            if plain is None:
                if srtp.gave_up and not srtp.declared:
                    st.srtp = None      # no key fits and no SDP says SRTP: treat as plain
                    srtp = None
                    plain = packet
                else:
                    st.add(t, seq, ts, pt, True)
                    return
        else:
            plain = None
        ep = st.event_pts
        if ep is not None:
            is_event = pt in ep
            st.add(t, seq, ts, pt, not is_event)
            if is_event:
                self._event(st, t, seq, ts, b1 & 0x80, plain if plain is not None else data[p:end], pt, ep[pt])
            return
        if pt < 35:
            st.add(t, seq, ts, pt, True)
            return
        cls = st.classifiers.get(pt)
        if cls is None:
            cls = st.classifiers[pt] = EventClassifier()
        if cls.state == _EV_AUDIO:
            st.add(t, seq, ts, pt, True)
            return
        pkt = plain if plain is not None else data[p:end]
        if cls.state == _EV_EVENTS:
            st.add(t, seq, ts, pt, False)
            self._event(st, t, seq, ts, b1 & 0x80, pkt, pt, 8000)
            return
        payload = _payload(pkt)
        st.add(t, seq, ts, pt, True)
        if payload is None:
            return
        if cls.add(t, seq, ts, b1 & 0x80, payload) == _EV_EVENTS:
            buffered, cls.buffer = cls.buffer, []
            for bt, bseq, bts, bmark, bpayload in buffered:
                self._feed(st, bt, bts, bmark, bpayload, pt, 8000)

    def _event(self, st, t, seq, ts, marker, pkt, pt, clock) -> None:
        payload = _payload(pkt)
        if payload is not None:
            self._feed(st, t, ts, marker, payload, pt, clock)

    def _feed(self, st, t, ts, marker, payload, pt, clock) -> None:
        if st.tracker is None:
            st.tracker = EventTracker(st, self.events)
        st.tracker.feed(t, ts, bool(marker), payload, pt, clock)

    def _resolve(self, st: RtpStream) -> None:
        """Attach SDP knowledge (call, payload types, SRTP keys) to a stream."""
        table = self.calls
        st.sdp_gen = table.generation
        rx = table.endpoints.get((st.dst, st.dport))
        tx = table.endpoints.get((st.src, st.sport))
        st.rx_media = rx.media if rx else None
        st.tx_media = tx.media if tx else None
        st.call_id = rx.call_id if rx else (tx.call_id if tx else None)
        st.clocks = {}
        side = st.rx_media or st.tx_media
        st.event_pts = dict(side.telephone_events) if side is not None else None
        declared = any(m is not None and m.secure for m in (st.rx_media, st.tx_media))
        if not declared:
            return
        if st.srtp is not None and st.srtp.winner is not None:
            return
        cands: list[KeyCandidate] = []
        ordered = []
        if st.tx_media is not None:
            ordered.append(st.tx_media)
        if st.call_id:
            ordered += [m for m in table.other_media(st.call_id, st.rx_media) if m is not st.tx_media]
        if st.rx_media is not None:
            ordered.append(st.rx_media)   # last resort: a sender reusing the peer's key
        for m in ordered:
            for c in sdp_candidates(m.crypto, self.warnings):
                if c not in cands:
                    cands.append(c)
        for c in self.caller_keys:
            if c not in cands:
                cands.append(c)
        st.srtp = SrtpStreamState(cands, declared=True)
        st.tried_keys = True

    # ------------------------------------------------------------------ SIP
    def _sip_udp(self, t, src, sport, dst, dport, payload: bytes) -> None:
        if not looks_like_sip(payload):
            return
        msg = parse_message(payload, udp=True)
        if msg is not None:
            self.calls.add_message(t, endpoint_str(src, sport), endpoint_str(dst, dport), "udp", msg)

    def _tcp(self, t, src, dst, data, off, end) -> None:
        if end - off < 20:
            return
        sport = (data[off] << 8) | data[off + 1]
        dport = (data[off + 2] << 8) | data[off + 3]
        seq = int.from_bytes(data[off + 4:off + 8], "big")
        hlen = (data[off + 12] >> 4) * 4
        flags = data[off + 13]
        if hlen < 20 or off + hlen > end:
            return
        payload = data[off + hlen:end]
        for raw in self.tcp.segment((src, sport, dst, dport), seq, flags, payload):
            msg = parse_message(raw, udp=False)
            if msg is not None:
                self.calls.add_message(t, endpoint_str(src, sport), endpoint_str(dst, dport), "tcp", msg)


def _payload(pkt: bytes) -> bytes | None:
    return rtp_payload(pkt)
