"""Opus decoding for the wire: a small ctypes binding to the system libopus.

Only two entry points are used: ``opus_decoder_create`` and ``opus_decode``
(plus ``opus_decoder_destroy``). Streams are decoded at 48 kHz mono: the
RTP clock of opus is always 48000 (RFC 7587, whatever the SDP's
``maxplaybackrate``), so one timestamp unit is one sample and the
:class:`~sipscen.analysis.audio.AudioSink` places packets without scaling
(for in-band DTMF alone, at 8 kHz: six timestamp units a sample; libopus
costs about as much per packet either way, 10-15 % less at 8 kHz);
a stereo packet is mixed down by libopus itself (a decoder created with one
channel). The quality functions (levels, tones, similarity, in-band DTMF by
a factor-6 decimation) work at any rate that is a multiple of 8 kHz.

Lost packets are **not** concealed: like the other codecs, a gap in the RTP
timestamps is silence in the sink (``opus_decode`` with a NULL packet -- PLC --
is never called), so what the wire carried is what is judged. A packet the
decoder refuses (corrupt, not opus) decodes to nothing and is counted as
``errors``.

libopus is ``libopus.so.0`` (Debian's ``libopus0``, pulled in by
``baresip-core``; setup.sh lists it). Without it opus is simply not decoded
(``available()`` is False), like G.722 without its decoder.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import threading

import numpy as np

RATE = 48000
MAX_FRAME = 5760          # 120 ms at 48 kHz: the longest an opus packet can hold
MANY_CHUNK = 128          # packets decoded into one array at a time (OpusDecoder.many)

_lib = None
_tried = False
_local = threading.local()     # one output buffer per thread, shared by its decoders (11.5 KB)


def _load():
    global _lib, _tried
    if _tried:
        return _lib
    _tried = True
    for name in ("libopus.so.0", ctypes.util.find_library("opus")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.opus_decoder_create.restype = ctypes.c_void_p
        lib.opus_decoder_create.argtypes = [ctypes.c_int32, ctypes.c_int,
                                            ctypes.POINTER(ctypes.c_int)]
        lib.opus_decode.restype = ctypes.c_int
        lib.opus_decode.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32,
                                    ctypes.POINTER(ctypes.c_int16), ctypes.c_int, ctypes.c_int]
        lib.opus_decoder_destroy.restype = None
        lib.opus_decoder_destroy.argtypes = [ctypes.c_void_p]
        # the same function taking the output as an address (OpusDecoder.many writes
        # packet after packet into one array: no ctypes object per packet)
        raw = lib["opus_decode"]
        raw.restype = ctypes.c_int
        raw.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32, ctypes.c_void_p,
                        ctypes.c_int, ctypes.c_int]
        lib.raw_decode = raw
        _lib = lib
        break
    return _lib


def available() -> bool:
    return _load() is not None


class OpusDecoder:
    """One stream's decoder (opus keeps state between packets: decode in arrival order)."""

    def __init__(self, rate: int = RATE):
        lib = _load()
        if lib is None:
            raise OSError("libopus.so.0 not found")
        err = ctypes.c_int(0)
        handle = lib.opus_decoder_create(rate, 1, ctypes.byref(err))
        if not handle or err.value != 0:
            raise OSError(f"opus_decoder_create failed ({err.value})")
        self._lib, self._handle = lib, handle
        self.errors = 0
        self.max_frame = rate * 120 // 1000     # samples of the longest packet (120 ms)

    def decode(self, payload: bytes) -> np.ndarray:
        if not payload or self._handle is None:
            return np.zeros(0, dtype=np.int16)
        out = getattr(_local, "out", None)
        if out is None:
            out = _local.out = (ctypes.c_int16 * MAX_FRAME)()
        n = self._lib.opus_decode(self._handle, payload, len(payload), out, MAX_FRAME, 0)
        if n < 0:
            self.errors += 1
            return np.zeros(0, dtype=np.int16)
        return np.ctypeslib.as_array(out)[:n].copy()

    def many(self, payloads: list[bytes]) -> tuple[np.ndarray, list[int]]:
        """Non-empty payloads decoded one after the other (as :meth:`decode` would, in
        order): all their samples in one array, and each one's count (0: refused)."""
        raw, handle, frame = self._lib.raw_decode, self._handle, self.max_frame
        lens: list[int] = []
        parts = []
        for c in range(0, len(payloads), MANY_CHUNK):
            chunk = payloads[c:c + MANY_CHUNK]
            out = np.empty(len(chunk) * frame, dtype=np.int16)
            at = out.ctypes.data
            used = 0
            for b in chunk:
                k = raw(handle, b, len(b), at + 2 * used, frame, 0) if handle is not None else 0
                if k < 0:
                    self.errors += 1
                    k = 0
                lens.append(k)
                used += k
            parts.append(out[:used])
        return (parts[0] if len(parts) == 1 else np.concatenate(parts)), lens

    def __call__(self, payload: bytes) -> np.ndarray:
        return self.decode(payload)

    def close(self) -> None:
        if self._handle is not None:
            self._lib.opus_decoder_destroy(self._handle)
            self._handle = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


__all__ = ["OpusDecoder", "available", "RATE"]
