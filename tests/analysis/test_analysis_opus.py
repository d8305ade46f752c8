"""Opus on the wire (issue 9): decoded by the system libopus through ctypes
(analysis/opus.py) at 48 kHz mono, lost packets as silence, also inside SRTP.
The packets here are made by libopus's own encoder (bound in this test only)."""
from __future__ import annotations

import base64
import ctypes
import random

import numpy as np
import pytest

from sipscen.analysis import analyze_capture, opus
from sipscen.analysis.quality import find_tone
from sipscen.analysis.srtp import SrtpSender

pytestmark = pytest.mark.skipif(not opus.available(), reason="libopus.so.0 needed")

SUITE = "AES_CM_128_HMAC_SHA1_80"


class Encoder:
    def __init__(self, channels=1):
        lib = ctypes.CDLL("libopus.so.0")
        lib.opus_encoder_create.restype = ctypes.c_void_p
        lib.opus_encoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.c_int,
                                            ctypes.POINTER(ctypes.c_int)]
        lib.opus_encode.restype = ctypes.c_int32
        lib.opus_encode.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int16), ctypes.c_int,
                                    ctypes.c_char_p, ctypes.c_int32]
        err = ctypes.c_int(0)
        self.lib, self.channels = lib, channels
        self.h = lib.opus_encoder_create(48000, channels, 2048, ctypes.byref(err))  # VOIP
        assert self.h and err.value == 0

    def encode(self, frame: np.ndarray) -> bytes:
        pcm = np.ascontiguousarray(frame, dtype=np.int16)
        out = ctypes.create_string_buffer(1500)
        n = self.lib.opus_encode(self.h, pcm.ctypes.data_as(ctypes.POINTER(ctypes.c_int16)),
                                 len(pcm) // self.channels, out, 1500)
        assert n > 0
        return out.raw[:n]


def tone(freq, seconds, rate=48000, level=0.3):
    t = np.arange(int(seconds * rate)) / rate
    return (level * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def opus_call(cap, a_audio, b_audio, drop=(), channels=1, a_crypto=(), b_crypto=(),
              proto="RTP/AVP", protect=(None, None)):
    call = cap.Call()
    codec = {111: "opus/48000/2"}
    call.invite(1.0, codec, codec, a_proto=proto, b_proto=proto, a_crypto=a_crypto,
                b_crypto=b_crypto)
    for forward, audio, ssrc, guard in ((True, a_audio, 0xA1, protect[0]),
                                        (False, b_audio, 0xB2, protect[1])):
        enc = Encoder(channels)
        frames = audio if channels == 1 else np.repeat(audio, 2)
        step = 960 * channels
        for i in range(len(frames) // step):
            payload = enc.encode(frames[step * i:step * i + step])
            if forward and i in drop:        # loss on alice->bob only
                continue
            pkt = cap.rtp(100 + i, 5000 + 960 * i, ssrc, 111, payload)
            call.udp(2.0 + 0.02 * i + (0.001 if not forward else 0), forward,
                     guard(pkt) if guard else pkt)
    return cap.pcap_of(call)


def test_opus_both_ways_is_decoded_at_48k_and_a_lost_packet_is_silence(cap):
    a = analyze_capture(opus_call(cap, tone(1000, 1.0), tone(600, 1.0), drop=(20, 21, 22)),
                        keep_audio=True)
    by_ssrc = {s["ssrc"]: (i, s) for i, s in enumerate(a.rtp_streams)}
    i, s = by_ssrc["0x000000a1"]
    assert s["audio"]["codec"] == "OPUS/48000" and s["audio"]["payload_type"] == 111
    samples = a.audio[i]["samples"]
    assert a.audio[i]["rate"] == 48000 and len(samples) == 48000
    assert find_tone(samples, 48000, [1000])["seconds"] >= 0.5       # the longest run: after the gap
    assert not np.any(samples[20 * 960:23 * 960])           # three lost packets: silence, no PLC
    assert np.abs(samples[10 * 960:19 * 960]).max() > 5000
    j, back = by_ssrc["0x000000b2"]
    assert find_tone(a.audio[j]["samples"], 48000, [600])["seconds"] >= 0.9
    assert find_tone(a.audio[j]["samples"], 48000, [1000])["seconds"] == 0


def test_stereo_opus_is_mixed_down_and_srtp_opus_is_decrypted(cap):
    a_key, b_key = random.Random(5).randbytes(30), random.Random(6).randbytes(30)
    crypto = [[f"1 {SUITE} inline:{base64.b64encode(k).decode()}"] for k in (a_key, b_key)]
    pcap = opus_call(cap, tone(1000, 1.0), tone(600, 1.0), channels=2, proto="RTP/SAVP",
                     a_crypto=crypto[0], b_crypto=crypto[1],
                     protect=(SrtpSender(SUITE, a_key[:16], a_key[16:]).protect,
                              SrtpSender(SUITE, b_key[:16], b_key[16:]).protect))
    a = analyze_capture(pcap, keep_audio=True)
    found = {s["ssrc"]: find_tone(a.audio[i]["samples"], 48000, [f])["seconds"]
             for i, s in enumerate(a.rtp_streams)
             for f in ([1000] if s["ssrc"] == "0x000000a1" else [600])}
    assert found["0x000000a1"] >= 0.9 and found["0x000000b2"] >= 0.9
    assert all(s["srtp"]["authenticated"] == 50 for s in a.rtp_streams)
