"""The per-packet loop: frames -> SIP messages, RTP streams, DTMF events, SRTP,
and whatever else a binding of ``dissectors.py`` reads (DTLS, STUN, TLS records).

Hot path first: a frame is decoded by offset arithmetic, an RTP packet costs
one dict lookup for its stream and a few integer operations; only
telephone-event and SRTP packets do more.  Nothing here keeps packets:
memory grows with calls, streams and events.
"""
from __future__ import annotations

import struct

from sipscen.analysis.calls import CallTable
from sipscen.analysis import dtls, stun, tls  # noqa: F401 - they bind their collectors
from sipscen.analysis.websocket import WebSocketSip   # binds SIP over WebSocket (its module)
from sipscen.analysis.dissectors import (TCP, UDP, anything, bind_tcp, bind_udp, is_rtcp, is_rtp,
                                         starts_like_sip)
from sipscen.analysis.dtmf import EventClassifier, EventTracker
from sipscen.analysis.fastcolumns import run_pcap
from sipscen.analysis.fastpath import run_batches
from sipscen.analysis.layers import FRAGMENT, Defragmenter, endpoint_str, fragment_info, ip_payload
from sipscen.analysis.rtp import RtpStream
from sipscen.analysis.sip import TcpSipReassembler, looks_like_sip, parse_message
from sipscen.analysis.srtp_streams import (
    PROBE_PACKETS, SAMPLE_BYTES, KeyCandidate, SrtpStreamState, sdp_candidates,
)

_RTP = struct.Struct("!BBHII").unpack_from
_PORTS = struct.Struct("!HH").pack
# well-known ports of protocols whose first byte can look like RTP version 2
_NOT_RTP_PORTS = frozenset({53, 67, 68, 123, 137, 138, 161, 162, 443, 500, 514, 1900, 4500, 5353})
MAX_STREAMS = 200_000    # bounds memory on captures full of RTP-looking noise
MAX_SAMPLED = 1000       # streams whose payload is sampled for "looks encrypted"
MAX_CONNS = 100_000      # TCP connections whose protocol is remembered

# What reads which payload (dissectors.py): RTCP is skipped, RTP and SIP are this
# module's own readers (they share the call and stream state); DTLS, STUN and TLS
# bind their collectors in their own modules (imported above).
bind_udp("rtcp", is_rtcp, "_udp_ignore")
bind_udp("rtp", is_rtp, "_udp_rtp")
bind_udp("sip", starts_like_sip, "_udp_sip")
bind_tcp("sip", anything, "_tcp_sip")       # last: SIP's own framing decides the rest
_EV_EVENTS, _EV_AUDIO = EventClassifier.EVENTS, EventClassifier.AUDIO


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
    """State of one analysis: feed it record batches with :meth:`run`, then read
    ``calls``, ``streams``, ``events`` and ``warnings`` (``analyze.py`` does)."""

    def __init__(self, caller_keys: list[KeyCandidate], audio=None, sample_media: bool = False,
                 tls_keylog=None):
        self.audio = audio          # an AudioCollector (wire_audio.py) or None
        # set while a loop hands fast streams' payloads to ``audio`` (fastcolumns.py): then
        # decoded streams may go fast too
        self.audio_fast = False
        # sample every stream's payload (else only those on a DTLS pair): the evidence a
        # "plain RTP" verdict needs, that the payload does not look like ciphertext
        self.sample_media = sample_media
        self.samples: dict[RtpStream, list[bytearray]] = {}   # stream -> [payload, first bytes]
        self.warnings: list[str] = []
        self.packets = 0
        self.calls = CallTable(self.warnings)
        self.tcp = TcpSipReassembler(self.warnings)
        self.streams: dict[bytes, RtpStream] = {}   # addresses + ports + SSRC -> stream
        self.events: list = []
        self.caller_keys = caller_keys
        self.fragments = 0
        self.too_many = False
        self.fast_flows: dict[bytes, RtpStream] = {}   # addresses + ports -> stream
        # the keys of fast_flows set or removed, while a loop wants to know (fastcolumns.py)
        self.fast_touched: list[bytes] | None = None
        # the streams an SDP change may concern: by the endpoints they send from and to,
        # and by call those whose sender has no SDP (the call's other media are then
        # their SRTP key candidates)
        # (a value is the one stream, or a list of them: most endpoints and calls have one)
        self.by_endpoint: dict[tuple[bytes, int], RtpStream | list[RtpStream]] = {}
        self.by_call: dict[str, RtpStream | list[RtpStream]] = {}
        self.defrag = Defragmenter()
        self.non_ip = 0
        self.frame = 0      # number (1-based) of the frame the general path is reading; set by the loops
        # the bindings of dissectors.py: collectors by name, readers in table order
        self.collectors = {b.name: b.reader(self.warnings) for b in UDP + TCP
                           if isinstance(b.reader, type)}
        self._udp_readers = [(b.claims, self._reader(b, "datagram")) for b in UDP]
        self._tcp_readers = [(b.claims, self._reader(b, "segment")) for b in TCP]
        self.conns: dict[tuple, object] = {}    # TCP (src, sport, dst, dport) -> its reader
        self.ws = WebSocketSip(self.warnings, tls_keylog, self.collectors.get("tls"))

    def _reader(self, binding, method: str):
        if isinstance(binding.reader, str):
            return getattr(self, binding.reader)
        return getattr(self.collectors[binding.name], method)

    # ------------------------------------------------------------------ loop
    def run(self, batches) -> None:
        """Consume ``(linktype, [(time, frame), ...])`` batches (``CaptureReader.batches``)."""
        run_batches(self, batches)
        self.finish()

    def run_pcap(self, reader) -> None:
        """Consume a classic pcap ``CaptureReader`` (faster than :meth:`run`: no batches)."""
        run_pcap(self, reader)
        self.finish()

    def finish(self) -> None:
        self.calls.finish()
        if self.audio is not None:
            self.audio.finish()
        if self.defrag.pending or self.defrag.dropped:
            n = len(self.defrag.pending) + self.defrag.dropped
            self.warnings.append(f"{n} fragmented IP datagram(s) could not be reassembled (fragments missing)")

    def packet(self, t: float, lt: int, data: bytes) -> None:
        """The general path: one frame the inline fast path (``fastpath.py``) did not take."""
        r = ip_payload(lt, data)
        if r is None:
            self.non_ip += 1
            return
        src, dst, proto, off, end = r
        if proto != 17:
            if proto == 6:
                self._tcp(t, src, dst, data, off, end)
            elif proto == FRAGMENT:
                self._fragment(t, lt, data)
            return
        if end - off < 8:
            return
        sport = (data[off] << 8) | data[off + 1]
        dport = (data[off + 2] << 8) | data[off + 3]
        ulen = (data[off + 4] << 8) | data[off + 5]
        p = off + 8
        if 8 <= ulen and off + ulen < end:
            end = off + ulen
        self._udp_datagram(t, src, sport, dst, dport, data, off, p, end)

    def _udp_datagram(self, t, src, sport, dst, dport, data, off, p, end) -> None:
        """``data[p:end]``, the payload of the UDP header at ``off``: to the first
        binding that claims it."""
        for claims, read in self._udp_readers:
            if claims(data, p, end):
                read(t, src, sport, dst, dport, data, off, p, end)
                return

    def _udp_ignore(self, *_args) -> None:
        """RTCP: nothing the analysis reports."""

    def _udp_rtp(self, t, src, sport, dst, dport, data, off, p, end) -> None:
        key = src + dst + data[off:off + 4] + data[p + 8:p + 12]
        self._rtp(t, key, src, sport, dst, dport, self.streams.get(key), data, p, end)

    def _udp_sip(self, t, src, sport, dst, dport, data, off, p, end) -> None:
        self._sip_udp(t, src, sport, dst, dport, data[p:end])

    def _fragment(self, t, lt, data) -> None:
        """Reassemble IP fragments; a whole datagram goes through the UDP/TCP paths."""
        self.fragments += 1
        info = fragment_info(lt, data)
        if info is None:
            return
        key, offset, more, proto, payload = info
        whole = self.defrag.add(key, offset, more, payload)
        if whole is None:
            return
        src, dst = key[0], key[1]
        if proto == 6:
            self._tcp(t, src, dst, whole, 0, len(whole))
        elif proto == 17 and len(whole) >= 8:
            sport = (whole[0] << 8) | whole[1]
            dport = (whole[2] << 8) | whole[3]
            self._udp_datagram(t, src, sport, dst, dport, whole, 0, 8, len(whole))

    # ------------------------------------------------------------------ RTP
    def _rtp(self, t, key, src, sport, dst, dport, st, data, p, end) -> None:
        if st is None:
            if sport in _NOT_RTP_PORTS or dport in _NOT_RTP_PORTS:
                return
            if len(self.streams) >= MAX_STREAMS:
                if not self.too_many:
                    self.too_many = True
                    self.warnings.append(f"more than {MAX_STREAMS} RTP streams: later new streams ignored")
                return
            ssrc = int.from_bytes(data[p + 8:p + 12], "big")
            st = RtpStream(src, sport, dst, dport, ssrc, t, (data[p + 2] << 8) | data[p + 3], len(self.streams))
            self.streams[key] = st
            _index(self.by_endpoint, (src, sport), st)
            _index(self.by_endpoint, (dst, dport), st)
            self._resolve(st)
            if len(self.samples) < MAX_SAMPLED and (self.sample_media or self._on_dtls(st)):
                self.samples[st] = [bytearray(), bytearray()]
        elif st.sdp_gen < 0:        # SDP of its endpoints or call changed (_check_sdp)
            self._resolve(st)
        b0, b1, seq, ts, _ = _RTP(data, p)
        pt = b1 & 0x7F
        if st.srtp is None and self.caller_keys and not st.tried_keys:
            st.tried_keys = True
            st.srtp = SrtpStreamState(list(self.caller_keys), declared=False)
        srtp = st.srtp
        if srtp is not None:
            st.start_sampling()
            packet = data[p:end]
            if srtp.winner is not None:
                plain = srtp.unprotect(packet)
                if plain is None:
                    st.add(t, seq, ts, pt, True)
                else:
                    self._content(st, key, t, seq, ts, b1, plain, True)
                return
            if len(st.payload_sample) < SAMPLE_BYTES:
                body = _payload(packet) or b""
                st.payload_sample += body
                st.first_bytes += body[:1]
                st.sample_sizes.setdefault(pt, set()).add(len(body))
            plain = srtp.unprotect(packet)
            if plain is None:
                if srtp.gave_up and not srtp.declared:
                    st.srtp = None      # no key fits and no SDP says SRTP: treat as plain
                    probe, st.probe = st.probe, []
                    for bt, bseq, bts, bb1, bpkt in probe:   # already counted: content only
                        self._content(st, key, bt, bseq, bts, bb1, bpkt, False)
                    self._content(st, key, t, seq, ts, b1, packet, True)
                    return
                st.fastpt = -1
                st.add(t, seq, ts, pt, True)
                if not srtp.declared and len(st.probe) < PROBE_PACKETS:
                    st.probe.append((t, seq, ts, b1, packet))   # replayed if it proves plain
                return
            st.probe = []
            self._content(st, key, t, seq, ts, b1, plain, True)
            return
        self._content(st, key, t, seq, ts, b1, data[p:end], True)

    def _content(self, st: RtpStream, key: bytes, t, seq, ts, b1, pkt: bytes, count: bool) -> None:
        """Payload-type dispatch of one (plain) RTP packet: events or audio.

        ``count``: also account the packet in the stream statistics (false when
        replaying packets already counted)."""
        pt = b1 & 0x7F
        add = st.add if count else _ignore
        plain_rtp = count and st.srtp is None
        if plain_rtp and st in self.samples:
            self._sample(st, pkt)
        ep = st.event_pts
        if ep is not None:
            is_event = pt in ep
            add(t, seq, ts, pt, not is_event)
            if is_event:
                self._event(st, t, seq, ts, b1 & 0x80, pkt, pt, ep[pt])
                return
            if self.audio is not None:
                self.audio.packet(st, t, ts, pt, _payload(pkt))
            if plain_rtp:
                self._go_fast(st, key, pt)
            return
        cls = None
        if pt >= 35:            # a dynamic PT without SDP: its classifier says what it carries
            cls = st.classifiers.get(pt)
            if cls is None:
                cls = st.classifiers[pt] = EventClassifier()
            if cls.state == _EV_EVENTS:
                add(t, seq, ts, pt, False)
                self._event(st, t, seq, ts, b1 & 0x80, pkt, pt, 8000)
                return
        if cls is None or cls.state == _EV_AUDIO:      # static PTs (< 35) are never events
            add(t, seq, ts, pt, True)
            if self.audio is not None:
                self.audio.packet(st, t, ts, pt, _payload(pkt))
            if plain_rtp:
                self._go_fast(st, key, pt)
            return
        payload = _payload(pkt)
        add(t, seq, ts, pt, True)
        if payload is None:
            return
        if cls.add(t, seq, ts, b1 & 0x80, payload) == _EV_EVENTS:
            buffered, cls.buffer = cls.buffer, []
            for bt, bseq, bts, bmark, bpayload in buffered:
                self._feed(st, bt, bts, bmark, bpayload, pt, 8000)

    def _sample(self, st: RtpStream, pkt: bytes) -> None:
        sample = self.samples[st]
        if len(sample[0]) < SAMPLE_BYTES:
            body = _payload(pkt) or b""
            sample[0] += body
            sample[1] += body[:1]

    def _on_dtls(self, st: RtpStream) -> bool:
        flows = self.collectors["dtls"].flows
        if not flows:
            return False            # (no endpoint text made for every new stream)
        return (st.src_str, st.dst_str) in flows or (st.dst_str, st.src_str) in flows

    def _go_fast(self, st: RtpStream, key: bytes, pt: int) -> None:
        """Let the inline loop take this stream's next in-order packets of ``pt``."""
        if self.audio is not None and not self.audio_fast and self.audio.wants(st, pt):
            return      # this loop's fast path never sees payloads: stay on this path
        sample = self.samples.get(st)
        if sample is not None and len(sample[0]) < SAMPLE_BYTES:
            return      # its payload sample is not complete yet
        st.go_fast(pt)
        if st.fastpt == pt:
            self.fast_flows[key[:-4]] = st     # addresses + ports, without the SSRC
            if self.fast_touched is not None:
                self.fast_touched.append(key[:-4])

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
        st.fastpt = -1
        rx = table.endpoints.get((st.dst, st.dport))
        tx = table.endpoints.get((st.src, st.sport))
        st.rx_media = rx.media if rx else None
        st.tx_media = tx.media if tx else None
        st.call_id = rx.call_id if rx else (tx.call_id if tx else None)
        st.clocks = {}
        if st.call_id is not None and st.tx_media is None:
            _index(self.by_call, st.call_id, st)    # (its SRTP peers are the call's other media)
        side = st.rx_media or st.tx_media
        st.event_pts = _shared(side.telephone_events) if side is not None else None
        # SDES: the key in a side's SDP protects what that side sends (RFC 4568)
        peers = [st.tx_media] if st.tx_media is not None else (
            table.other_media(st.call_id, st.rx_media) if st.call_id else [])
        rx_crypto = st.rx_media is not None and bool(st.rx_media.crypto)
        peer_crypto = any(m.crypto for m in peers)
        # SRTP is agreed when a profile says SAVP, or when both sides offer keys
        # (PJSUA's "optional" SRTP offers RTP/AVP with a=crypto)
        declared = any(m is not None and m.secure for m in (st.rx_media, st.tx_media)) or (
            rx_crypto and peer_crypto)
        if not declared and not peer_crypto:
            return
        if st.srtp is not None and st.srtp.winner is not None:
            return
        cands: list[KeyCandidate] = []
        ordered = list(peers)
        if st.rx_media is not None:
            ordered.append(st.rx_media)   # last resort: a sender reusing the peer's key
        for m in ordered:
            for c in sdp_candidates(m.crypto, self.warnings):
                if c not in cands:
                    cands.append(c)
        for c in self.caller_keys:
            if c not in cands:
                cands.append(c)
        st.srtp = SrtpStreamState(cands, declared=declared)
        st.tried_keys = True

    # ------------------------------------------------------------------ SIP
    def _sip_udp(self, t, src, sport, dst, dport, payload: bytes) -> None:
        if not looks_like_sip(payload):
            return
        msg = parse_message(payload, udp=True)
        if msg is not None:
            self.calls.add_message(t, endpoint_str(src, sport), endpoint_str(dst, dport), "udp", msg,
                                   self.frame)
            self._check_sdp()

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
        self._connection((src, sport, dst, dport), flags, payload)(
            t, src, sport, dst, dport, seq, flags, payload)

    def _connection(self, key: tuple, flags: int, payload: bytes):
        """The reader of a TCP connection: the binding that claimed its first payload
        (SYN and data-less segments before that go to SIP's, which tracks sequence
        numbers from the SYN)."""
        src, sport, dst, dport = key
        back = (dst, dport, src, sport)
        read = self.conns.get(key)
        if flags & 0x02 and not payload:          # SYN: a new connection, not claimed yet
            self.conns.pop(key, None)
            self.conns.pop(back, None)
            read = None
        if read is None:
            if not payload:
                return self._tcp_sip
            read = next(r for claims, r in self._tcp_readers if claims(payload))
            if len(self.conns) < MAX_CONNS:
                self.conns[key] = self.conns[back] = read
        if flags & 0x05:                          # FIN or RST: forget the connection
            self.conns.pop(key, None)
            self.conns.pop(back, None)
        return read

    def _tcp_sip(self, t, src, sport, dst, dport, seq, flags, payload) -> None:
        for raw in self.tcp.segment((src, sport, dst, dport), seq, flags, payload):
            msg = parse_message(raw, udp=False)
            if msg is not None:
                self.calls.add_message(t, endpoint_str(src, sport), endpoint_str(dst, dport), "tcp", msg,
                                       self.frame)
                self._check_sdp()

    def _tcp_websocket(self, t, src, sport, dst, dport, seq, flags, payload) -> None:
        """SIP over WebSocket, ws or wss (``websocket.py`` binds it)."""
        for raw, transport in self.ws.segment(t, src, sport, dst, dport, seq, flags, payload):
            msg = parse_message(raw, udp=True)      # one WebSocket message, one SIP message
            if msg is not None:
                self.calls.add_message(t, endpoint_str(src, sport), endpoint_str(dst, dport),
                                       transport, msg)
                self._check_sdp()

    def _check_sdp(self) -> None:
        """New SDP: the streams it may concern go back to the general path to be resolved
        again (``_resolve``): those sending from or to an endpoint it registered, and
        those of its call.  What ``_resolve`` reads is only those endpoints' SDP and the
        call's other media, so no other stream's resolution can change.  (A load test's
        capture has calls starting all the time: sending every stream back to the
        general path at each SDP cost a quarter of the packets a trip through it.)

        (``fast_flows`` is changed in place, never replaced: the loops of
        ``fastpath.py`` hold its ``get``.)"""
        changes = self.calls.sdp_changes
        if not changes:
            return
        by_endpoint, by_call, fast = self.by_endpoint, self.by_call, self.fast_flows
        for cid, endpoints in changes:
            for group in [by_call.get(cid)] + [by_endpoint.get(ep) for ep in endpoints]:
                if group is None:
                    continue
                for st in group if group.__class__ is list else (group,):
                    st.sdp_gen = -1
                    if fast:
                        key = st.src + st.dst + _PORTS(st.sport, st.dport)
                        if fast.pop(key, None) is not None and self.fast_touched is not None:
                            self.fast_touched.append(key)
        changes.clear()


def _index(table: dict, key, st: RtpStream) -> None:
    """``st`` under ``key`` in ``by_endpoint`` / ``by_call``: the stream itself, then a list."""
    found = table.get(key)
    if found is None:
        table[key] = st
    elif found.__class__ is list:
        if found[-1] is not st and st not in found[-4:]:
            found.append(st)
    elif found is not st:
        table[key] = [found, st]


_SHARED_EVENT_PTS: dict[tuple, dict[int, int]] = {}


def _shared(event_pts: dict[int, int]) -> dict[int, int]:
    """One read-only dict per distinct telephone-event binding, shared by the
    streams that have it (tens of thousands of streams, a handful of bindings)."""
    key = tuple(sorted(event_pts.items()))
    found = _SHARED_EVENT_PTS.get(key)
    if found is None:
        if len(_SHARED_EVENT_PTS) >= 4096:      # bounded whatever the capture holds
            return event_pts
        found = _SHARED_EVENT_PTS[key] = event_pts
    return found


def _ignore(*_args) -> None:
    """Stands in for ``RtpStream.add`` when replaying packets already counted."""


def _payload(pkt: bytes) -> bytes | None:
    return rtp_payload(pkt)
