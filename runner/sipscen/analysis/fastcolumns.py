"""The fast path over whole buffers: fields as numpy columns, flows as chains.

On a load test's capture almost every packet is the next in-order audio
packet of a stream already taken by the fast path (``fastpath.py``), but the
streams are interleaved and their packet sizes vary, so ``fastpath.run_pcap``
pays a Python loop iteration (two ``struct`` unpacks, a dict lookup, the
checks) per packet.  Here, per 4 MiB buffer of a classic pcap:

1. the record walk (a short Python loop: only the offsets) gives every
   record's place;
2. numpy gathers the fixed header fields of every record at once (one
   structured view over a (records x width) copy) and groups the UDP-in-IPv4
   records by their addresses + ports (a 64-bit hash sorted with the record
   index, then the keys checked equal): per flow, a *chain* of its records in
   capture order;
3. a record is fast when it follows its chain predecessor exactly: RTP
   version 2, no marker, same payload type and SSRC, sequence number + 1; a
   flow's first record in the buffer when it is the next of its stream as the
   buffer starts.  The others are *breaks*;
4. the breaks are handled one by one in capture order by the per-record code
   of ``fastpath.run_pcap`` (``one``: its fast check, ``RtpStream.add`` for a
   gap, the telephone-event shortcut ``_event``, or the general path
   ``Analyzer.packet``).  A break that leaves a flow's state
   otherwise than the fast check passing (the general path, a late packet)
   makes the flow's next record a break too, as does a change of
   ``fast_flows`` under it (``Analyzer.fast_touched``: a new fast flow, SDP
   sending one back); after a loss (``RtpStream.add`` made it the highest) the
   stream's next record is fast again, as the fast check would find it;
5. between two of its breaks, a flow's records are all fast: they are applied
   in bulk, just before the flow's next break and at the buffer's end
   (packets, highest sequence number, last time, and the RFC 3550 jitter
   recurrence, left in Python in the same order of float operations so the
   result is bit for bit the per-record one).

Only a flow's own records change its stream; the general path reads no other
stream's counters, so applying a flow's fast records later than the records of
other flows between them changes nothing.  ``run_pcap`` here must give exactly
what ``fastpath.run_pcap`` and the general path give (the equivalence tests run
all of them).
"""
from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
import struct
from array import array

import numpy as np

from sipscen.analysis import fastpath
from sipscen.analysis.dtmf import EventTracker
from sipscen.analysis.fastpath import _OFFSETS, _layout
from sipscen.analysis.pcap import MAX_RECORD

_MIXI = 0x9E3779B97F4A7C15
_MIX = np.uint64(_MIXI)
_M64 = (1 << 64) - 1
_SHIFT = np.uint64(18)          # a 4 MiB buffer holds at most 2**18 records
_LOW = np.uint64((1 << 18) - 1)
SMALL = 64          # a buffer with fewer records is walked record by record
_MASK20 = (1 << 20) - 1
_MASK40 = (1 << 40) - 1
_NONE = _MASK40     # a break outside the chains (not UDP in IPv4)


def _columns(lt: int, order: str, need4: int) -> np.dtype:
    """The structured dtype of one gathered row: the record header and the fields
    of ``fastpath``'s IPv4 fast path (network order) at the link type's offsets."""
    ipo, eto = _OFFSETS[lt]
    b = 16 + ipo
    fields = [("sec", order + "u4", 0), ("frac", order + "u4", 4), ("incl", order + "u4", 8),
              ("vi", "u1", b), ("proto", "u1", b + 9), ("k1", ">u8", b + 12), ("k2", ">u4", b + 20),
              ("b0", "u1", b + 28), ("b1", "u1", b + 29), ("seq", ">u2", b + 30),
              ("ts", ">u4", b + 32), ("ssrc", ">u4", b + 36)]
    if eto >= 0:
        fields.append(("et", ">u2", 16 + eto))
    names, formats, offsets = zip(*fields)
    return np.dtype({"names": list(names), "formats": list(formats), "offsets": list(offsets),
                     "itemsize": 16 + need4})


def run_pcap(an, reader) -> None:
    """Feed every record of a classic pcap ``reader`` to analyzer ``an``."""
    lt = reader.linktype
    if lt not in _OFFSETS:
        fastpath.run_pcap(an, reader)
        return
    v4, (et4, e4), need4, v6, (et6, e6), need6 = _layout(lt)
    ipo, eto = _OFFSETS[lt]
    width = 16 + need4
    rows_dtype = _columns(lt, reader.byte_order, need4)
    incl_at = struct.Struct(reader.byte_order + "8xI").unpack_from
    hdr = reader.record_header
    res = reader.tsres
    packet = an.packet
    fast_get = an.fast_flows.get
    touched = an.fast_touched = []
    max_record = MAX_RECORD
    key_at = 16 + ipo + 12          # the flow key (addresses + ports) in a record
    aud = an.audio                  # decoded streams go fast too: their payloads go to it
    an.audio_fast = aud is not None

    def one(buf, pos, frame):
        """One record, as ``fastpath.run_pcap`` takes it: the stream it was fast for, else None."""
        sec, frac, incl = hdr(buf, pos)
        d = pos + 16
        if incl >= need4:
            e0, e1, vi, proto, key, b0, b1, seq, ts, ssrc = v4(buf, d)
            if vi == 0x45:
                st = fast_get(key) if proto == 17 and e0 == et4 and e1 == e4 else None
            elif vi >> 4 == 6 and incl >= need6:
                e0, e1, vi, proto, key, b0, b1, seq, ts, ssrc = v6(buf, d)
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
                    if aud is not None:
                        aud.frame(st, t, ts, b1, lt, buf[d:d + incl])
                    return st
                st.add(t, seq, ts, b1, True)     # lost before it, late or again: _GAP
                if aud is not None:
                    aud.frame(st, t, ts, b1, lt, buf[d:d + incl])
                # lost before it (or again the highest): the next of the stream is fast
                # again, as the fast check would find it; a late one is not the highest
                return st if st.max_seq == seq else None
            if st is not None and vi == 0x45 and b0 >> 6 == 2 and ssrc == st.ssrc:
                ep = st.event_pts
                if ep is not None and (b1 & 0x7F) in ep and st.sdp_gen >= 0 and st.srtp is None \
                        and not an.caller_keys and not an.samples:
                    an.frame = frame
                    if _event(an, st, buf, d + ipo, d + incl, sec + frac * res, b1, seq, ts, ep):
                        return None
        an.frame = frame
        packet(sec + frac * res, lt, buf[d:d + incl])
        return None


    def slow(buf, offs, count, base) -> None:
        for i in range(count):
            one(buf, offs[i], base + i + 1)

    # (one memory map read into again for each buffer: its slices are bytes, and no view
    # of it outlives the buffer's turn)
    for buf, n in reader.pcap_windows():
        # 1. the record walk (a record cut short by the buffer's end, or claiming more than
        # MAX_RECORD bytes, and those after it are left to the reader)
        # (a list: array("q").append parses its argument with PyArg_Parse, ~200 machine
        # instructions a record; the list goes with the buffer, nothing outlives it)
        offs = []
        append = offs.append
        pos = 0
        limit = n - 16
        while pos <= limit:
            append(pos)
            pos += 16 + incl_at(buf, pos)[0]
        if pos > n:
            pos = offs.pop()
        count = len(offs)
        base = an.packets
        touched.clear()
        if count < SMALL:
            for i in range(count):
                if incl_at(buf, offs[i])[0] > max_record:
                    count, pos = i, offs[i]
                    break
            slow(buf, offs, count, base)
            an.packets += count
            reader.taken(pos, count)
            continue
        o = np.array(offs, dtype=np.int64)
        # 2. columns, flows, chains
        # (a record too close to the buffer's end for a whole row is gathered from an
        # earlier place and left out of the chains: one() reads it where it is)
        rows = np.ndarray((n - width + 1,), dtype=(np.void, width), buffer=buf,
                          strides=(1,))[np.minimum(o, n - width)]
        col = _as(rows, rows_dtype)
        incl = col["incl"]
        big = np.flatnonzero(incl > max_record)
        if len(big):
            count = int(big[0])
            pos = offs[count]
            o, col, incl, rows = o[:count], col[:count], incl[:count], rows[:count]
        ip = (incl >= need4) & (col["vi"] == 0x45) & (col["proto"] == 17) & (o <= n - width)
        if eto >= 0:
            ip &= col["et"] == 0x0800
        idx = np.flatnonzero(ip)
        m = len(idx)
        if m == 0 or m > _LOW:
            slow(buf, offs, count, base)
            an.packets += count
            reader.taken(pos, count)
            continue
        k1 = col["k1"][idx]
        k2 = col["k2"][idx].astype(np.uint64)
        h = k1 * _MIX + k2
        # flows, each in capture order: the hash's top 46 bits, then the position (a sort of
        # distinct numbers, no stable argsort; two flows sharing those bits are caught below)
        key = np.sort((h >> _SHIFT << _SHIFT) | np.arange(m, dtype=np.uint64))
        chain = (key & _LOW).astype(np.int64)     # positions in idx
        hs = key >> _SHIFT
        h = h[chain]
        first = np.empty(m, dtype=bool)
        first[0] = True
        np.not_equal(hs[1:], hs[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        gid = np.cumsum(first) - 1
        k1c, k2c = k1[chain], k2[chain]
        if (((k1c[1:] != k1c[:-1]) | (k2c[1:] != k2c[:-1])) & ~first[1:]).any():
            slow(buf, offs, count, base)          # two flows with one hash: record by record
            an.packets += count
            reader.taken(pos, count)
            continue
        pi = idx[chain]                           # capture index of each chain position
        pia = array("q", pi.tobytes())
        cc = _as(rows[pi], rows_dtype)            # the chains' rows, in chain order
        seq = cc["seq"].astype(np.int64)
        b1 = cc["b1"]
        ssrc = cc["ssrc"].astype(np.int64)
        follows = (cc["b0"] >> 6) == 2
        follows &= b1 < 128
        follows[1:] &= ~first[1:] & (seq[1:] - seq[:-1] == 1) & (b1[1:] == b1[:-1]) & (
            ssrc[1:] == ssrc[:-1]) | first[1:]    # (a first record: decided below)
        # the flows, and the clock each one's stream is fast with now
        # (arrays, not lists: no object per record or flow that would outlive the
        # buffer among the calls and streams made meanwhile, and fragment the heap)
        bounds = array("q", starts.tobytes())     # group g: chain positions bounds[g]..bounds[g+1]-1
        bounds.append(m)
        ghash = h[starts].tolist()                # per group its hash, ascending
        groups = len(starts)
        clocks = []
        fast_st = [None] * groups                 # per group: the stream its pending records are fast for
        state = []
        streams = []
        for i in pi[starts].tolist():
            p = offs[i] + key_at
            st = fast_get(buf[p:p + 12])
            streams.append(st)
            if st is None:
                clocks.append(0.0)
                state += (-1, -1, -1)
            else:
                clocks.append(st.jclock)
                state += (st.fastpt, st.ssrc, st.max_seq)
        # a flow's first record in the buffer is fast when it is the next of its stream as
        # the buffer starts (a change under it before its turn makes it a break again)
        fastpt, ssrc0, max0 = np.array(state, dtype=np.int64).reshape(groups, 3).T
        ok = follows[starts] & (b1[starts] == fastpt) & (ssrc[starts] == ssrc0) & (
            seq[starts] - max0 == 1)
        for g in np.flatnonzero(ok).tolist():
            fast_st[g] = streams[g]
        follows[starts] = ok
        fol = follows.tobytes()                   # per chain position: 1 = not among the breaks
        # the fast records' jitter terms, as the loop computes them (valid while the
        # stream's clock is the one assumed here; _apply checks)
        tc = cc["sec"] + cc["frac"] * res
        tsc = cc["ts"].astype(np.int64)
        transit = tc * np.array(clocks)[gid] - tsc
        dd = np.empty(m)
        dd[0] = 0.0
        np.subtract(transit[1:], transit[:-1], out=dd[1:])
        np.abs(dd, out=dd)
        wrap = dd > 2147483648.0
        if wrap.any():
            dd[wrap] = np.abs(dd[wrap] - 4294967296.0)
        ddl = array("d", dd.tobytes())
        # what _apply reads one by one, as arrays (a numpy scalar costs far more to read)
        tcl, tsl, seql = array("d", tc.tobytes()), array("q", tsc.tobytes()), array("q", seq.tobytes())
        pay = None if aud is None else aud.bounds(buf, o[pi], cc["incl"], ipo)
        # 3. the breaks, in capture order: (capture index, chain position or NONE, group)
        brk = np.zeros(count, dtype=bool)
        nf = np.flatnonzero(~follows)
        brk[pi[nf]] = True
        brk[~ip] = True
        where = np.full(count, _NONE, dtype=np.int64)
        where[pi[nf]] = (nf << 20) | gid[nf]
        bi = np.flatnonzero(brk)
        breaks = array("q", ((bi << 40) | where[bi]).tobytes())
        done = bounds[:-1]                        # per group: chain positions before it are handled
        dyn: list[int] = []
        last = -1
        nb = len(breaks)
        si = 0
        # 4. the breaks, one by one
        while True:
            if dyn and (si >= nb or dyn[0] < breaks[si]):
                item = heapq.heappop(dyn)
            elif si < nb:
                item = breaks[si]
                si += 1
            else:
                break
            i = item >> 40
            if i <= last:
                continue
            last = i
            kg = item & _MASK40
            if kg != _NONE:
                k = kg >> 20
                g = kg & _MASK20
                a = done[g]
                if a < k:
                    _apply(fast_st[g], a, k, clocks[g], tcl, tsl, seql, ddl)
                    if pay is not None:
                        aud.run(fast_st[g], buf, pay, a, k, tc, tsc)
                st = one(buf, offs[i], base + i + 1)
                done[g] = k + 1
                if st is not None:
                    fast_st[g] = st
                elif k + 1 < bounds[g + 1] and fol[k + 1]:    # (else a break already)
                    heapq.heappush(dyn, (pia[k + 1] << 40) | ((k + 1) << 20) | g)
            else:
                one(buf, offs[i], base + i + 1)
            if touched:
                own = offs[i] + key_at
                own = buf[own:own + 12] if kg != _NONE else None
                for key in touched:
                    if len(key) != 12 or key == own:
                        continue                  # IPv6: not in the chains; its own: done above
                    g = bisect_left(ghash, (int.from_bytes(key[:8], "big") * _MIXI
                                            + int.from_bytes(key[8:], "big")) & _M64)
                    at = offs[pia[bounds[g]]] + key_at if g < groups else 0
                    if g < groups and key == buf[at:at + 12]:
                        lo, hi = bounds[g], bounds[g + 1]
                        p = bisect_right(pia, i, lo, hi)
                        if p < hi:
                            heapq.heappush(dyn, (pia[p] << 40) | (p << 20) | g)
                touched.clear()
        # 5. what is left of each flow's chain is fast
        for g, a in enumerate(done):
            b = bounds[g + 1]
            if a < b:
                _apply(fast_st[g], a, b, clocks[g], tcl, tsl, seql, ddl)
                if pay is not None:
                    aud.run(fast_st[g], buf, pay, a, b, tc, tsc)
        an.packets += count
        reader.taken(pos, count)
        # this buffer's columns go before the next buffer's are made (peak memory)
        offs = o = rows = col = cc = incl = ip = idx = k1 = k2 = h = key = chain = hs = first = None
        starts = gid = k1c = k2c = pi = pia = seq = b1 = ssrc = follows = tc = tsc = None
        transit = dd = fol = ddl = tcl = tsl = seql = brk = where = bi = breaks = dyn = ghash = ok = pay = None
    an.fast_touched = None
    an.audio_fast = False


def _as(rows: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Gathered rows (contiguous, of ``dtype``'s size) seen as ``dtype``'s fields: what
    ``rows.view(dtype)`` gives, without numpy's Python-level check of every field that
    a view to a structured dtype runs (3 % of the analysis; the fields hold no objects)."""
    return np.ndarray(rows.shape, dtype=dtype, buffer=rows)


def _event(an, st, buf: bytes, ip: int, n: int, t: float, b1: int, seq: int, ts: int,
           ep: dict) -> bool:
    """A telephone-event packet of a fast stream (IPv4 without options at ``buf[ip]``, the
    frame ending at ``n``): what the general path does with it (``Analyzer._content``),
    without its way there; False, and nothing done, for one the general path should see
    (a fragment, a UDP datagram too short for RTP, a claim before RTP's could differ)."""
    if buf[ip + 6] & 0x3F or buf[ip + 7]:
        return False                        # a fragment: Analyzer._fragment
    total = (buf[ip + 2] << 8) | buf[ip + 3]
    end = ip + total if total >= 20 else n
    if end > n:
        end = n
    off = ip + 20
    if end - off < 8:
        return False
    ulen = (buf[off + 4] << 8) | buf[off + 5]
    if 8 <= ulen and off + ulen < end:
        end = off + ulen
    p = off + 8
    if end - p < 12 or 192 <= b1 <= 223:
        return False                        # not RTP's to read, or RTCP's
    pt = b1 & 0x7F
    st.add(t, seq, ts, pt, False)
    # its payload as analyzer.rtp_payload cuts it (CSRCs, extension, padding), then what
    # Analyzer._event and _feed do with it, without their three calls and two copies
    b0 = buf[p]
    q = p + 12 + 4 * (b0 & 0x0F)
    if b0 & 0x10:
        if end < q + 4:
            return True
        q += 4 + 4 * ((buf[q + 2] << 8) | buf[q + 3])
    if b0 & 0x20 and end > q:
        end -= buf[end - 1]
    if end < q:
        return True
    tracker = st.tracker
    if tracker is None:
        tracker = st.tracker = EventTracker(st, an.events)
    tracker.feed(t, ts, bool(b1 & 0x80), buf[q:end], pt, ep[pt])
    return True


def _apply(st, a: int, b: int, clock: float, tc: array, tsc: array, seq: array, ddl: array) -> None:
    """Chain positions ``a..b-1``: in-order audio of ``st``, counted as the per-record
    fast path would have counted them one by one (the same float operations in the
    same order; ``ddl``: the jitter terms computed with ``clock``; ``tc``, ``tsc``,
    ``seq``: the chain's times, RTP timestamps and sequence numbers)."""
    jclock = st.jclock
    transit = tc[a] * jclock - tsc[a]
    dd = transit - st.transit
    if dd < 0.0:
        dd = -dd
    if dd > 2147483648.0:
        dd = abs(dd - 4294967296.0)
    jitter = st.jitter + (dd - st.jitter) * 0.0625
    if jclock == clock:
        for d in ddl[a + 1:b]:
            jitter += (d - jitter) * 0.0625
        if b - 1 > a:
            transit = tc[b - 1] * jclock - tsc[b - 1]
    else:                   # the stream's clock changed in this buffer: term by term
        for t, ts in zip(tc[a + 1:b], tsc[a + 1:b]):
            now = t * jclock - ts
            dd = now - transit
            if dd < 0.0:
                dd = -dd
            if dd > 2147483648.0:
                dd = abs(dd - 4294967296.0)
            jitter += (dd - jitter) * 0.0625
            transit = now
    st.jitter = jitter
    st.transit = transit
    st.packets += b - a
    st.max_seq = seq[b - 1]
    st.last_time = tc[b - 1]
