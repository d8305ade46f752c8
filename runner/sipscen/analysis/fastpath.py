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
buffers (no tuple, slice or float per record unless the packet needs it),
and hands runs of records of one size to ``_Runs.take``, which unpacks them
with ``Struct.iter_unpack`` (no offset arithmetic, no call per record: about
a fifth fewer instructions per packet).  ``run_batches`` takes ``(linktype,
[(time, frame)])`` batches (pcapng).  The three copies of the fast path are
the same code over ``(buffer, offset)`` and must stay in step; the general
path is the reference: a capture's output must never depend on which path
took a packet.

A classic pcap is now read by ``fastcolumns.run_pcap`` (the same fast path
over whole buffers as numpy columns); it falls back to ``run_pcap`` here for
link types without a layout, and its per-record code for the records it
cannot take in bulk is this loop's body (keep them in step).
"""
from __future__ import annotations

import struct

from sipscen.analysis.pcap import MAX_RECORD

# link type -> (offset of the IP header, offset of the ethertype or -1)
_OFFSETS = {1: (14, 12), 276: (20, 0), 113: (16, 14), 101: (0, -1), 228: (0, -1), 12: (0, -1),
            0: (4, -1), 108: (4, -1)}
_NEVER = 1 << 62      # "frame length needed" for link types without a fast path


# the fast path's fields after the link header (see _layout), network order
_V4_FIELDS = "B8xB2x12s4xBBHII"   # version/IHL +0, protocol +9, addresses + ports +12..+24, RTP +28
_V6_FIELDS = "B5xB1x36s4xBBHII"   # version +0, next header +6, addresses + ports +8..+44, RTP +48


def _link_fields(lt: int, skip: int = 0) -> str:
    """Struct format of the link header part: the two ethertype bytes at their
    offset (``skip`` bytes further), padded up to the IP header."""
    ipo, eto = _OFFSETS[lt]
    if eto >= 0:
        return f"!{skip + eto}xBB{ipo - eto - 2}x"
    return f"!{skip + ipo}x0s0s"


def _layout(lt: int):
    """Unpackers and expected values of the fast path for link type ``lt``.

    Returns ``(v4, (et4, e4), need4, v6, (et6, e6), need6)``.  ``v4(buf, off)``
    unpacks, from a frame at ``off`` carrying UDP in IPv4 without options,
    ``(ethertype byte 0, ethertype byte 1, version/IHL byte, protocol,
    addresses + ports, RTP byte 0, RTP byte 1, seq, timestamp, SSRC)``;
    ``v6`` the same for IPv6 without extension headers.  ``et4, e4`` /
    ``et6, e6`` are the ethertype bytes that must match (0x08 0x00 / 0x86
    0xDD) and ``need4`` / ``need6`` the frame length each unpack needs.
    The ethertype comes as two bytes because small ints are cached objects
    while 0x0800 would be a new one per packet.  Link types without an
    ethertype (raw IP, BSD loopback) unpack two empty fields (``0s``) that
    match ``b""``.
    """
    if lt not in _OFFSETS:
        return None, (None, None), _NEVER, None, (None, None), _NEVER
    ipo, eto = _OFFSETS[lt]
    et4, e4, et6, e6 = (0x08, 0x00, 0x86, 0xDD) if eto >= 0 else (b"", b"", b"", b"")
    head = _link_fields(lt)
    v4 = struct.Struct(head + _V4_FIELDS).unpack_from
    v6 = struct.Struct(head + _V6_FIELDS).unpack_from
    return v4, (et4, e4), ipo + 40, v6, (et6, e6), ipo + 60


# _GAP: a packet of a fast flow (its SSRC, its audio payload type, plain, no
# marker) that is not the next in order -- packets were lost before it, or it
# is late or a duplicate -- would go through Analyzer.packet only to end in
# RtpStream.add(t, seq, ts, pt, timed=True) (the flow is only fast while its
# SDP generation is current, it is not SRTP, and audio decoding does not want
# it); the loops call that directly.  About 1 % of the packets of a capture
# with 1 % loss, each of which costs the general path several microseconds.


def run_pcap(an, reader) -> None:
    """Feed every record of a classic pcap ``reader`` to analyzer ``an``."""
    lt = reader.linktype
    v4, (et4, e4), need4, v6, (et6, e6), need6 = _layout(lt)
    hdr = reader.record_header
    res = reader.tsres
    packet = an.packet
    fast_get = an.fast_flows.get
    runs = _Runs(an, reader, lt)
    max_record = MAX_RECORD     # locals, not globals, in the loop below
    # Audio of one codec and packet time comes as runs of records of one size,
    # which _Runs.take unpacks much faster.  A record starts such a run when the
    # `streak` records just before it had its size and streak >= need.  need is
    # 1 at first; a run too short to pay for take's set-up doubles it (up to
    # 64), a long one resets it: captures of mixed sizes lose little.
    need = 1
    for buf in reader.pcap_buffers():
        pos = 0
        n = len(buf)
        limit = n - 16
        count = 0
        last = -1
        streak = 0
        while pos <= limit:
            sec, frac, incl = hdr(buf, pos)
            d = pos + 16
            end = d + incl
            if end > n or incl > max_record:
                break                   # the reader reads on (or reports the damage)
            if incl != last:
                last = incl
                streak = 0
            elif streak < need:
                streak += 1
            elif incl >= need4:
                pos, taken = runs.take(buf, pos, 16 + incl, an.packets + count)
                count += taken
                need = 1 if taken >= 32 else min(2 * need, 64)
                streak = 0
                continue
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
                # (seq - max_seq == 1: the next in order; anything else, a wrap to 0 too: _GAP)
                if st is not None and b1 == st.fastpt and b0 >> 6 == 2 and ssrc == st.ssrc:
                    t = sec + frac * res
                    if seq - st.max_seq == 1:
                        # the next in order: RtpStream.add, inlined
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
                    st.add(t, seq, ts, b1, True)     # lost before it, late or again: _GAP
                    continue
            an.frame = an.packets + count
            packet(sec + frac * res, lt, buf[d:end])
        an.packets += count
        reader.taken(pos, count)


class _Runs:
    """Runs of records of one size, unpacked with ``Struct.iter_unpack``.

    Audio of one codec and packet time makes frames of one length, often
    many in a row.  A run of records of ``size`` bytes (record header
    included) is a sequence of fixed-size structs: two ``iter_unpack``
    iterators walk it in step, one for the record headers (the file's byte
    order), one for the frame fields (network order; ``_layout``'s v4 fields
    padded to ``size``), with no offset arithmetic and no call per record.
    The run ends at the first record of another size (or the end of the
    buffer); :func:`run_pcap` goes on from there.  Same fast path, same
    general path as :func:`run_pcap`.
    """

    MAX_SIZES = 256     # structs kept for this many record sizes (then forgotten: bounded memory)

    def __init__(self, an, reader, lt: int):
        self.an = an
        self.lt = lt
        self.res = reader.tsres
        self.order = reader.byte_order
        self.layout = _layout(lt)
        self.structs: dict[int, tuple] = {}      # record size -> (headers, fields) iter_unpack

    def _structs(self, size: int) -> tuple:
        found = self.structs.get(size)
        if found is None:
            if len(self.structs) >= self.MAX_SIZES:
                self.structs.clear()
            headers = struct.Struct(f"{self.order}III{size - 12}x").iter_unpack
            fields = struct.Struct(f"{_link_fields(self.lt, 16)}{_V4_FIELDS}"
                                   f"{size - 16 - self.layout[2]}x").iter_unpack
            found = self.structs[size] = (headers, fields)
        return found

    def take(self, buf: bytes, pos: int, size: int, before: int) -> tuple[int, int]:
        """Records of ``size`` bytes from ``pos`` on (the first is known to be one):
        ``(position after the run, records taken)``; ``before``: frames read before it."""
        headers, fields = self._structs(size)
        _v4, (et4, e4), _need4, v6, (et6, e6), need6 = self.layout
        an, lt, res = self.an, self.lt, self.res
        fast_get = an.fast_flows.get
        packet = an.packet
        incl0 = size - 16
        region = memoryview(buf)[pos:pos + (len(buf) - pos) // size * size]
        count = 0
        for (sec, frac, incl), (e0, e1, vi, proto, key, b0, b1, seq, ts, ssrc) in zip(
                headers(region), fields(region)):
            if incl != incl0:
                break
            count += 1
            if vi == 0x45:
                st = fast_get(key) if proto == 17 and e0 == et4 and e1 == e4 else None
            elif vi >> 4 == 6 and incl >= need6:
                e0, e1, vi, proto, key, b0, b1, seq, ts, ssrc = v6(buf, pos + (count - 1) * size + 16)
                st = fast_get(key) if proto == 17 and e0 == et6 and e1 == e6 else None
            else:
                st = None
            if st is not None and b1 == st.fastpt and b0 >> 6 == 2 and ssrc == st.ssrc:
                t = sec + frac * res
                if seq - st.max_seq == 1:
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
                st.add(t, seq, ts, b1, True)     # lost before it, late or again: _GAP
                continue
            d = pos + (count - 1) * size + 16
            an.frame = before + count
            packet(sec + frac * res, lt, buf[d:d + incl0])
        region.release()
        return pos + count * size, count


def run_batches(an, batches) -> None:
    """Feed ``(linktype, [(time, frame), ...])`` batches to analyzer ``an``."""
    packet = an.packet
    fast_get = an.fast_flows.get
    for lt, batch in batches:
        before = an.packets
        an.packets += len(batch)
        v4, (et4, e4), need4, v6, (et6, e6), need6 = _layout(lt)
        for frame, (t, data) in enumerate(batch, before + 1):
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
                # (seq - max_seq == 1: the next in order; anything else, a wrap to 0 too: _GAP)
                if st is not None and b1 == st.fastpt and b0 >> 6 == 2 and ssrc == st.ssrc:
                    if seq - st.max_seq == 1:
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
                    st.add(t, seq, ts, b1, True)     # lost before it, late or again: _GAP
                    continue
            an.frame = frame
            packet(t, lt, data)
