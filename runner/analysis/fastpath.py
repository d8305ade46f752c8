"""The per-packet loops and their inline fast path.

Almost every packet of a capture is audio: RTP of a stream already known,
in order, plain (not SRTP), of the payload type the stream settled on.  Such
a packet changes nothing but a few counters of its :class:`RtpStream`, so the
loops below take it without a single call into the general path:

* one ``struct`` unpack of the fixed header fields (ethertype, IP version and
  protocol, addresses + ports, RTP flags, payload type, sequence number,
  timestamp, SSRC) at the offsets of the capture's link type;
* one dict lookup, ``fast_flows[addresses + ports]`` -> stream (filled by
  ``Analyzer._go_fast`` once the general path has seen the stream's audio);
* the checks that make the packet "the next one of that stream", then the
  updates ``RtpStream.add`` would make (``packets``, ``max_seq``,
  ``last_time``, RFC 3550 jitter).

Anything else (SIP, TCP, events, SRTP, a first, late or lost packet, VLAN
tags, IP options or extension headers, a frame too short for the unpack)
goes to ``Analyzer.packet``, which decides everything from scratch: the fast
path is only ever a shortcut to the result the general path would give.

``run_pcap`` walks classic pcap records straight in the reader's 4 MiB
buffers (no tuple, slice or float per record unless the packet needs it);
``run_batches`` takes ``(linktype, [(time, frame)])`` batches (pcapng).
The two fast paths are the same code over ``(buffer, offset)`` and must stay
in step.
"""
from __future__ import annotations

import struct

from runner.analysis.pcap import MAX_RECORD

# link type -> (offset of the IP header, offset of the ethertype or -1)
_OFFSETS = {1: (14, 12), 276: (20, 0), 113: (16, 14), 101: (0, -1), 228: (0, -1), 12: (0, -1),
            0: (4, -1), 108: (4, -1)}
_NEVER = 1 << 62      # "frame length needed" for link types without a fast path


def _layout(lt: int):
    """Unpackers and expected values of the fast path for link type ``lt``.

    Returns ``(v4, et4, need4, v6, et6, need6)``: ``v4(buf, off)`` /
    ``v6(buf, off)`` unpack ``(ethertype byte 0, ethertype byte 1, version
    byte, protocol, addresses + ports, RTP byte 0, RTP byte 1, seq,
    timestamp, SSRC)`` of a frame at ``off`` carrying UDP in IPv4 without
    options / IPv6 without extension headers; ``et4`` / ``et6`` are the first
    ethertype byte that must match (the second is 0x00 / 0xDD), ``need4`` /
    ``need6`` the frame length the unpack needs.  Link types without an
    ethertype (raw IP, BSD loopback) unpack two empty fields (``0s``) that
    match ``b""``.  (Single bytes, not a 16-bit ethertype: small ints are
    cached, 0x0800 would be a new object per packet.)
    """
    ipo, eto = _OFFSETS.get(lt, (-1, -1))
    if ipo < 0:
        return None, (None, None), _NEVER, None, (None, None), _NEVER
    if eto >= 0:
        head, et4, et6, e4, e6 = f"!{eto}xBB{ipo - eto - 2}x", 0x08, 0x86, 0x00, 0xDD
    else:
        head, et4, et6, e4, e6 = f"!{ipo}x0s0s", b"", b"", b"", b""
    # IPv4: version/IHL at +0, protocol at +9, addresses + ports at +12..+24, RTP at +28
    v4 = struct.Struct(head + "B8xB2x12s4xBBHII").unpack_from
    # IPv6: version at +0, next header at +6, addresses + ports at +8..+44, RTP at +48
    v6 = struct.Struct(head + "B5xB1x36s4xBBHII").unpack_from
    return v4, (et4, e4), ipo + 40, v6, (et6, e6), ipo + 60


def run_pcap(an, reader) -> None:
    """Feed every record of a classic pcap ``reader`` to analyzer ``an``."""
    lt = reader.linktype
    v4, (et4, e4), need4, v6, (et6, e6), need6 = _layout(lt)
    hdr = reader.record_header
    res = reader.tsres
    packet = an.packet
    calls = an.calls
    fast = an.fast_flows
    fast_get = fast.get
    gen = calls.generation
    for buf in reader.pcap_buffers():
        pos = 0
        n = len(buf)
        limit = n - 16
        count = 0
        while pos <= limit:
            sec, frac, incl = hdr(buf, pos)
            d = pos + 16
            end = d + incl
            if end > n or incl > MAX_RECORD:
                break                   # the reader reads on (or reports the damage)
            pos = end
            count += 1
            if incl >= need4:
                e0, e1, vi, proto, key, b0, b1, seq, ts, ssrc = v4(buf, d)
                if vi == 0x45:
                    st = fast_get(key) if proto == 17 and e0 == et4 and e1 == e4 else None
                elif vi >> 4 == 6 and incl >= need6:
                    e0, e1, vi, proto, key, b0, b1, seq, ts, ssrc = v6(buf, d)
                    st = fast_get(key) if proto == 17 and e0 == et6 and e1 == e6 else None
                else:
                    st = None
                # (seq - max_seq == 1: the next in order; a wrap to 0 takes the general path)
                if (st is not None and b1 == st.fastpt and b0 >> 6 == 2 and ssrc == st.ssrc
                        and seq - st.max_seq == 1):
                    # in-order plain audio of a known stream: RtpStream.add, inlined
                    t = sec + frac * res
                    st.max_seq = seq
                    st.packets += 1
                    st.last_time = t
                    transit = t * st.jclock - ts
                    dd = transit - st.transit
                    if dd < 0.0:
                        dd = -dd
                    if dd > 2147483648.0:
                        dd = abs(dd - 4294967296.0)
                    st.jitter += (dd - st.jitter) * 0.0625
                    st.transit = transit
                    continue
            packet(sec + frac * res, lt, buf[d:end])
            if calls.generation != gen:     # new SDP: streams re-resolve on the general path
                gen = calls.generation
                fast.clear()
        an.packets += count
        reader.taken(pos, count)


def run_batches(an, batches) -> None:
    """Feed ``(linktype, [(time, frame), ...])`` batches to analyzer ``an``."""
    packet = an.packet
    calls = an.calls
    fast = an.fast_flows
    fast_get = fast.get
    gen = calls.generation
    for lt, batch in batches:
        an.packets += len(batch)
        v4, (et4, e4), need4, v6, (et6, e6), need6 = _layout(lt)
        for t, data in batch:
            # the fast path of run_pcap, over (data, 0)
            incl = len(data)
            if incl >= need4:
                e0, e1, vi, proto, key, b0, b1, seq, ts, ssrc = v4(data, 0)
                if vi == 0x45:
                    st = fast_get(key) if proto == 17 and e0 == et4 and e1 == e4 else None
                elif vi >> 4 == 6 and incl >= need6:
                    e0, e1, vi, proto, key, b0, b1, seq, ts, ssrc = v6(data, 0)
                    st = fast_get(key) if proto == 17 and e0 == et6 and e1 == e6 else None
                else:
                    st = None
                # (seq - max_seq == 1: the next in order; a wrap to 0 takes the general path)
                if (st is not None and b1 == st.fastpt and b0 >> 6 == 2 and ssrc == st.ssrc
                        and seq - st.max_seq == 1):
                    st.max_seq = seq
                    st.packets += 1
                    st.last_time = t
                    transit = t * st.jclock - ts
                    dd = transit - st.transit
                    if dd < 0.0:
                        dd = -dd
                    if dd > 2147483648.0:
                        dd = abs(dd - 4294967296.0)
                    st.jitter += (dd - st.jitter) * 0.0625
                    st.transit = transit
                    continue
            packet(t, lt, data)
            if calls.generation != gen:
                gen = calls.generation
                fast.clear()
