"""Streaming reader for pcap and pcapng capture files.

Yields ``(time, linktype, frame_bytes)`` records without dissecting anything:
the file is read in large chunks and the fixed record headers are unpacked
with :mod:`struct`, which is what makes million-packet captures affordable in
Python.  Supported containers:

* classic pcap, both byte orders, microsecond and nanosecond magic;
* pcapng: Section Header, Interface Description (link type, ``if_tsresol``,
  ``if_tsoffset``), Enhanced Packet, Simple Packet and the obsolete Packet
  block; several sections and interfaces with their own link types.

A truncated or damaged file yields every record up to the damage and appends a
warning to :attr:`CaptureReader.warnings`.  A file that is not a capture, or a
capture whose link type we cannot decode, raises
:class:`sipscen.core.errors.CaptureFileError`.
"""
from __future__ import annotations

import mmap
import os
import struct
from typing import BinaryIO, Iterator

from sipscen.core.errors import CaptureFileError
from sipscen.analysis.layers import SUPPORTED_LINKTYPES, linktype_name

CHUNK = 1 << 22  # 4 MiB reads
MAX_RECORD = 1 << 24  # a single record larger than 16 MiB means damage
MAX_TIME = 253402300800.0   # 10000-01-01: a pcapng's if_tsresol / if_tsoffset can reach far beyond

_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
_PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"


class CaptureReader:
    """Iterate over the records of one capture file.

    ``records()`` may be called once; warnings collected while reading are in
    ``warnings`` afterwards (and already during iteration).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self.warnings: list[str] = []
        try:
            self._f: BinaryIO = open(self.path, "rb")
        except IsADirectoryError:
            raise CaptureFileError(f"{self.path}: is a directory, not a capture file") from None
        except FileNotFoundError:
            raise CaptureFileError(f"{self.path}: no such file") from None
        except OSError as exc:
            raise CaptureFileError(f"{self.path}: cannot read: {exc.strerror or exc}") from None
        head = self._f.read(24)
        if len(head) >= 4 and head[:4] in _PCAP_MAGICS:
            if len(head) < 24:
                self._f.close()
                raise CaptureFileError(f"{self.path}: pcap file header is truncated ({len(head)} of 24 bytes)")
            self.format = "pcap"
            self._endian, self.tsres = _PCAP_MAGICS[head[:4]]
            self.byte_order = self._endian     # of the file's headers: "<" or ">"
            # a record header: seconds, fraction (in tsres units), captured length
            self.record_header = struct.Struct(self._endian + "III4x").unpack_from
            linktype = struct.unpack(self._endian + "I", head[20:24])[0] & 0xFFFF
            if linktype not in SUPPORTED_LINKTYPES:
                self._f.close()
                raise CaptureFileError(
                    f"{self.path}: unsupported link type {linktype} ({linktype_name(linktype)}); "
                    "sipscen reads Ethernet, Linux cooked v1/v2, raw IP and BSD loopback captures"
                )
            self.linktype = linktype
        elif len(head) >= 4 and head[:4] == _PCAPNG_SHB:
            self.format = "pcapng"
            self.linktype = None
        else:
            self._f.close()
            if not head:
                raise CaptureFileError(f"{self.path}: empty file, not a capture")
            raise CaptureFileError(
                f"{self.path}: not a pcap or pcapng capture (starts with {head[:4].hex()})"
            )
        self._head = head

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> "CaptureReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def records(self) -> Iterator[tuple[float, int, bytes]]:
        """Every record as ``(time, linktype, frame)``, one at a time."""
        for linktype, batch in self.batches():
            for t, frame in batch:
                yield t, linktype, frame

    def batches(self) -> Iterator[tuple[int, list[tuple[float, bytes]]]]:
        """``(linktype, [(time, frame), ...])``: runs of records of one link type, a few
        thousand at a time (far cheaper to iterate than records one by one)."""
        try:
            if self.format == "pcap":
                lt = self.linktype
                for batch in self._pcap_batches():
                    yield lt, batch
            else:
                batch: list[tuple[float, bytes]] = []
                lt = None
                for t, rlt, frame in self._pcapng_records():
                    if rlt != lt or len(batch) >= 4096:
                        if batch:
                            yield lt, batch
                        batch = []
                        lt = rlt
                    batch.append((t, frame))
                if batch:
                    yield lt, batch
        finally:
            self._f.close()

    # -- classic pcap -------------------------------------------------------

    def _pcap_batches(self) -> Iterator[list[tuple[float, bytes]]]:
        hdr = self.record_header
        res = self.tsres
        for buf in self.pcap_buffers():
            batch: list[tuple[float, bytes]] = []
            append = batch.append
            pos = 0
            n = len(buf)
            limit = n - 16
            while pos <= limit:
                sec, frac, incl = hdr(buf, pos)
                end = pos + 16 + incl
                if end > n or incl > MAX_RECORD:
                    break
                append((sec + frac * res, buf[pos + 16:end]))
                pos = end
            count = len(batch)
            if batch:
                yield batch
            del batch, append            # let the consumer's batch go before reading more
            self.taken(pos, count)

    def pcap_buffers(self) -> Iterator[bytes]:
        """Classic pcap: the records as raw buffers, for a consumer that walks them itself.

        Each buffer starts with a record header (16 bytes, unpacked by
        ``record_header`` into seconds, fraction in ``tsres`` units and
        captured length; the frame follows).  The consumer takes every whole
        record it can, stopping at one that is cut short by the end of the
        buffer or claims more than ``MAX_RECORD`` bytes, and reports with
        :meth:`taken` where it stopped before asking for the next buffer.
        Damage and truncation become warnings here, as in :meth:`batches`.
        """
        for buf, _n in self.pcap_windows(reuse=False):
            yield buf

    def pcap_windows(self, reuse: bool = True) -> Iterator[tuple[bytes | mmap.mmap, int]]:
        """:meth:`pcap_buffers` as ``(buffer, n)``: the records are in ``buffer[:n]``.

        With ``reuse`` the buffer is one anonymous memory map that each next window
        overwrites: no 4 MiB ``bytes`` allocated, faulted in and joined to the rest of
        the previous one per buffer (a tenth of the CPU time of a load test's analysis).
        A slice of it is a copy (``bytes``), as a slice of ``bytes`` is; nothing may
        keep a view of it (numpy array, memoryview) past its window."""
        f = self._f
        hdr = self.record_header
        if reuse:
            store = mmap.mmap(-1, CHUNK + (1 << 16))
            buf, n = store, _fill(f, store, 0, CHUNK)
        else:
            store = None
            buf = f.read(CHUNK)
            n = len(buf)
        count = 0
        while True:
            self._resume, self._taken = n, 0
            yield buf, n
            pos = self._resume
            count += self._taken
            incl = 0
            if pos <= n - 16:
                incl = hdr(buf, pos)[2]
                if incl > MAX_RECORD:
                    self.warnings.append(
                        f"damaged capture: record {count + 1} at byte {self._offset(pos, n)} claims "
                        f"{incl} bytes; stopped reading there"
                    )
                    return
            need = pos + 16 + incl - n if pos <= n - 16 else 0
            want = max(CHUNK, need)
            if store is None:
                more = f.read(want)
                if not more:
                    break
                rest = buf[pos:]
                buf = b""
                buf = rest + more
                n = len(buf)
                del rest, more
                continue
            rest = n - pos
            if rest + want > len(store):          # a record larger than the map
                store = mmap.mmap(-1, rest + want)
            store[:rest] = buf[pos:n]
            got = _fill(f, store, rest, want)
            if not got:
                break
            buf, n = store, rest + got
        if pos != n:
            if pos <= n - 16:
                self.warnings.append(
                    f"truncated capture: record {count + 1} is cut short "
                    f"({n - pos - 16} of {incl} bytes); read {count} records"
                )
            else:
                self.warnings.append(
                    f"truncated capture: {n - pos} trailing bytes after record {count} "
                    "(record header cut short)"
                )

    def taken(self, pos: int, count: int) -> None:
        """Consumer of :meth:`pcap_buffers`: ``count`` records taken, the rest starts at ``pos``."""
        self._resume = pos
        self._taken = count

    def _warn_once(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def _offset(self, pos: int, n: int) -> int:
        try:
            return self._f.tell() - n + pos
        except (OSError, ValueError):
            return -1

    # -- pcapng -------------------------------------------------------------

    def _pcapng_records(self) -> Iterator[tuple[float, int, bytes]]:
        read = self._f.read
        buf = self._head + read(CHUNK)
        pos = 0
        n = len(buf)
        endian = None
        u32 = None
        interfaces: list[tuple[int, float, float, int]] = []  # linktype, resol, offset, snaplen
        unsupported_seen: set[int] = set()
        any_supported = False
        count = 0
        last_t = 0.0
        while True:
            if pos + 12 > n:
                more = read(CHUNK)
                if not more:
                    break
                buf = buf[pos:] + more
                pos = 0
                n = len(buf)
                continue
            btype_raw = buf[pos:pos + 4]
            if btype_raw == _PCAPNG_SHB:
                bom = buf[pos + 8:pos + 12]
                if bom == b"\x4d\x3c\x2b\x1a":
                    endian = "<"
                elif bom == b"\x1a\x2b\x3c\x4d":
                    endian = ">"
                else:
                    if count == 0 and pos == 0:
                        raise CaptureFileError(f"{self.path}: pcapng section header has a bad byte-order magic")
                    self.warnings.append(f"damaged capture: bad pcapng section header after {count} packets; stopped")
                    return
                u32 = struct.Struct(endian + "I").unpack_from
                interfaces = []
            if u32 is None:
                raise CaptureFileError(f"{self.path}: pcapng file does not start with a section header")
            btype = u32(buf, pos)[0]
            blen = u32(buf, pos + 4)[0]
            if blen < 12 or blen % 4 or blen > MAX_RECORD:
                self.warnings.append(
                    f"damaged capture: pcapng block of type {btype:#x} has length {blen}; "
                    f"stopped after {count} packets"
                )
                return
            end = pos + blen
            if end > n:
                more = read(max(CHUNK, end - n))
                if not more:
                    self.warnings.append(
                        f"truncated capture: last pcapng block cut short ({n - pos} of {blen} bytes); "
                        f"read {count} packets"
                    )
                    return
                buf = buf[pos:] + more
                pos = 0
                n = len(buf)
                continue
            if u32(buf, end - 4)[0] != blen:
                self.warnings.append(
                    f"damaged capture: pcapng block of type {btype:#x} has mismatched lengths; "
                    f"stopped after {count} packets"
                )
                return
            if btype == 6 or btype == 2:  # Enhanced Packet / obsolete Packet block
                if btype == 6:
                    if blen < 32:
                        self._warn_once("damaged capture: short enhanced packet block(s) skipped")
                        pos = end
                        continue
                    ifid, tsh, tsl, caplen = struct.unpack_from(endian + "IIII", buf, pos + 8)
                else:
                    if blen < 32:
                        pos = end
                        continue
                    ifid, _drops, tsh, tsl, caplen = struct.unpack_from(endian + "HHIII", buf, pos + 8)
                data_start = pos + 28
                if ifid >= len(interfaces):
                    self._warn_once(f"damaged capture: packet(s) of unknown interface {ifid} skipped")
                    pos = end
                    continue
                lt, resol, tsoff, _snap = interfaces[ifid]
                if caplen > blen - 32:
                    caplen = blen - 32
                pos = end
                if lt < 0:
                    continue
                count += 1
                last_t = ((tsh << 32) | tsl) * resol + tsoff
                if not -MAX_TIME < last_t < MAX_TIME:
                    self._warn_once(f"pcapng timestamps beyond the year 9999 (interface {ifid}: "
                                    "if_tsresol / if_tsoffset); times are given in seconds as read")
                yield last_t, lt, buf[data_start:data_start + caplen]
                continue
            if btype == 3:  # Simple Packet block: interface 0, no timestamp
                if not interfaces or blen < 16:
                    pos = end
                    continue
                lt, resol, tsoff, snap = interfaces[0]
                orig = u32(buf, pos + 8)[0]
                caplen = min(orig, blen - 16)
                if snap:
                    caplen = min(caplen, snap)
                data_start = pos + 12
                pos = end
                if lt < 0:
                    continue
                count += 1
                yield last_t, lt, buf[data_start:data_start + caplen]  # no timestamp: the last one
                continue
            if btype == 1:  # Interface Description
                if blen < 20:
                    self._warn_once("damaged capture: short interface description block")
                    pos = end
                    continue
                lt, _res, snap = struct.unpack_from(endian + "HHI", buf, pos + 8)
                resol, tsoff, damaged = _idb_options(buf, pos + 16, end - 4, endian)
                if damaged:
                    self._warn_once("damaged capture: an interface description option runs past "
                                    "its block; the rest of its options ignored")
                if lt in SUPPORTED_LINKTYPES:
                    any_supported = True
                    interfaces.append((lt, resol, tsoff, snap))
                else:
                    if lt not in unsupported_seen:
                        unsupported_seen.add(lt)
                        self.warnings.append(
                            f"interface {len(interfaces)} has unsupported link type {lt} "
                            f"({linktype_name(lt)}); its packets are skipped"
                        )
                    interfaces.append((-1, resol, tsoff, snap))
            pos = end
        if pos != n:
            self.warnings.append(f"truncated capture: {n - pos} trailing bytes after the last pcapng block")
        if unsupported_seen and not any_supported:
            kinds = ", ".join(f"{lt} ({linktype_name(lt)})" for lt in sorted(unsupported_seen))
            raise CaptureFileError(
                f"{self.path}: unsupported link type {kinds}; sipscen reads Ethernet, "
                "Linux cooked v1/v2, raw IP and BSD loopback captures"
            )


def _idb_options(buf: bytes, pos: int, end: int, endian: str) -> tuple[float, float, bool]:
    """``if_tsresol`` (as seconds per tick) and ``if_tsoffset`` from IDB options,
    and whether an option ran past ``end`` (the options after it are ignored)."""
    resol = 1e-6
    tsoff = 0.0
    opt = struct.Struct(endian + "HH").unpack_from
    while pos + 4 <= end:
        code, length = opt(buf, pos)
        if code == 0:
            break
        if pos + 4 + length > end:
            return resol, tsoff, True
        val = buf[pos + 4:pos + 4 + length]
        if code == 9 and length >= 1:
            v = val[0]
            resol = 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
        elif code == 14 and length == 8:
            tsoff = float(struct.unpack(endian + "q", val)[0])
        pos += 4 + ((length + 3) & ~3)
    return resol, tsoff, False


def _fill(f: BinaryIO, store: mmap.mmap, start: int, want: int) -> int:
    """Read up to ``want`` bytes of ``f`` into ``store[start:]``; how many (fewer only at its end)."""
    got = 0
    with memoryview(store) as view:
        while got < want:
            k = f.readinto(view[start + got:start + want])
            if not k:
                break
            got += k
    return got


def iter_records(path: str | os.PathLike, warnings: list[str] | None = None) -> Iterator[tuple[float, int, bytes]]:
    """Convenience: records of ``path``; warnings are appended to ``warnings``."""
    reader = CaptureReader(path)
    try:
        yield from reader.records()
    finally:
        if warnings is not None:
            warnings.extend(reader.warnings)
