"""In-band DTMF over the column loop (issue 19): decoded streams stay on the fast
path and their payloads are handed over in runs (``fastcolumns`` ->
``AudioCollector.run`` -> ``AudioSink.add_run``), and without kept audio G.722 is
decoded to its lower sub-band at 8 kHz and opus to 8 kHz.

The reference is the per-record loop (``fastpath.run_pcap``), where decoded
streams never go fast and every packet is decoded one by one through the
general path: the column loop must give exactly its digits, stream figures
and (kept) audio, on a capture of concurrent PCMA, PCMU, G.722 and opus calls
with real encoders, loss, reordering, a codec change on one SSRC, one stream
with a header extension and padding, and noise between the digits. Without kept
audio the digits must be those found at the codecs' full rates.
"""
from __future__ import annotations

import random

import numpy as np
import pytest

from sipscen.analysis import analyze_capture, analyzer, fastcolumns, fastpath, opus, pcap, wire_audio
from sipscen.analysis.audio import encode_g711
from sipscen.analysis.inband import dtmf_audio

from .test_analysis_opus import Encoder

G722 = pytest.importorskip("G722")
pytestmark = pytest.mark.skipif(not opus.available(), reason="libopus.so.0 needed")

# per call: codec(s) of its two halves, digits, level (dBFS per tone), twist (dB)
CALLS = [
    (("PCMA", "PCMA"), "159#", -12.0, 0.0),
    (("PCMU", "PCMU"), "*0D7", -24.0, 4.0),
    (("G722", "G722"), "2486", -15.0, -3.0),
    (("OPUS", "OPUS"), "3A9*", -12.0, 2.0),
    (("PCMA", "G722"), "0#5C", -18.0, 0.0),      # a codec change on the same SSRC
    (("OPUS", "OPUS"), "71B", -20.0, 3.0),
    (("PCMA-DTX", "PCMA-DTX"), "46*2", -16.0, 1.0),  # silence suppressed: timestamps jump
    (("OPUS-ODD", "OPUS-ODD"), "852", -12.0, 0.0),  # 10-60 ms frames, timestamps 20 ms apart
]
ODD = 0x1000 + 7        # the SSRC of the last: its audio overlaps and has holes (digits unknown)
PT = {"PCMA": 8, "PCMU": 0, "G722": 9, "OPUS": 111, "PCMA-DTX": 8, "OPUS-ODD": 111}
RTPMAP = {8: "PCMA/8000", 0: "PCMU/8000", 9: "G722/8000", 111: "opus/48000/2",
          101: "telephone-event/8000"}
RATE = {"PCMA": 8000, "PCMU": 8000, "G722": 16000, "OPUS": 48000, "PCMA-DTX": 8000,
        "OPUS-ODD": 48000}
STEP = {"PCMA": 160, "PCMU": 160, "G722": 160, "OPUS": 960, "PCMA-DTX": 160,
        "OPUS-ODD": 960}                                         # RTP timestamp units per 20 ms


def _audio(digits: str, level: float, twist: float, rate: int, rnd: random.Random) -> np.ndarray:
    """Noise, then the digits (70-120 ms tones, 60-100 ms pauses) in light noise, then noise."""
    parts = [np.zeros(int(0.4 * rate))]
    for d in digits:
        on, off = rnd.choice((0.07, 0.09, 0.12)), rnd.choice((0.06, 0.08, 0.1))
        parts.append(dtmf_audio(d, rate=rate, duration=on, gap=off, level_dbfs=level,
                                twist_db=twist).astype(float))
    parts.append(np.zeros(int(0.5 * rate)))
    x = np.concatenate(parts)
    noise = np.random.default_rng(rnd.randrange(1 << 30)).normal(0, 60, len(x))
    return np.clip(x + noise, -32768, 32767).astype(np.int16)


def _payloads(codec: str, audio: np.ndarray, enc) -> list[bytes]:
    """20 ms payloads (None: a packet silence suppression leaves out)."""
    rate = RATE[codec]
    n = rate // 50
    frames = [audio[i:i + n] for i in range(0, len(audio) - n + 1, n)]
    if codec == "OPUS-ODD":
        sizes = (480, 960, 1920, 2880)
        return [enc.encode(np.resize(f, sizes[i % 4])) for i, f in enumerate(frames)]
    if codec == "PCMA-DTX":
        return [encode_g711(f, "PCMA") if np.abs(f).max() > 400 else None for f in frames]
    if codec in ("PCMA", "PCMU"):
        return [encode_g711(f, codec) for f in frames]
    if codec == "G722":
        return [bytes(enc.encode(f)) for f in frames]
    return [enc.encode(f) for f in frames]


def build(cap, seed: int = 7, odd_stream: bool = True):
    """The capture, and the digits each stream carries (by SSRC)."""
    rnd = random.Random(seed)
    records = []
    expected = {}
    for c, (codecs, digits, level, twist) in enumerate(CALLS):
        call = cap.Call(a=f"127.0.{c + 1}.1", b=f"127.0.{c + 1}.2", a_port=4000 + 2 * c,
                        b_port=6000 + 2 * c)
        pts = {PT[k]: RTPMAP[PT[k]] for k in codecs}
        pts[101] = RTPMAP[101]
        call.invite(0.5 + 0.01 * c, pts, pts, call_id=f"call-{c}")
        ssrc = 0x1000 + c
        packets = []
        half = len(digits) // 2
        ts = 1000
        seq = 100
        for part, (codec, chunk) in enumerate(zip(codecs, (digits[:half], digits[half:]))):
            enc = None
            if codec == "G722":
                enc = G722.G722(16000, 64000)
            elif codec.startswith("OPUS"):
                enc = Encoder()
            for payload in _payloads(codec, _audio(chunk, level, twist, RATE[codec], rnd), enc):
                if payload is not None:
                    packets.append((seq, ts, PT[codec], payload))
                    seq += 1
                ts += STEP[codec]
            if codecs[0] != codecs[1] or part == 1:
                ts += 8 * STEP[codec]                 # a pause in the timeline between the halves
        t = 1.0 + 0.0013 * c
        out = []
        for i, (sq, stamp, pt, payload) in enumerate(packets):
            if rnd.random() < 0.02 and 5 < i < len(packets) - 5:
                continue                              # lost
            pkt = cap.rtp(sq, stamp, ssrc, pt, payload)
            if odd_stream and c == 1 and i % 7 == 3:   # a header extension and padding
                body = pkt[12:]
                pkt = bytes([0x80 | 0x10 | 0x20]) + pkt[1:12] + b"\xbe\xde\x00\x01abcd" + body + \
                    b"\x00\x00\x03"
            out.append([t + 0.02 * i, pkt])
        for i in range(3, len(out) - 3):
            if rnd.random() < 0.02:                   # late by one packet
                out[i][0], out[i + 1][0] = out[i + 1][0], out[i][0]
        for when, pkt in out:
            call.udp(when, True, pkt)
        records += call.frames()
        if ssrc != ODD:
            expected[ssrc] = digits
    records.sort(key=lambda r: r[0])
    return cap.write_pcap(cap.path(), records), expected


def per_record(path, **kw):
    """The reference: the per-record loop (decoded streams on the general path)."""
    real = analyzer.Analyzer.run_pcap

    def run_pcap(self, reader):
        fastpath.run_pcap(self, reader)
        self.finish()
    analyzer.Analyzer.run_pcap = run_pcap
    try:
        return analyze_capture(path, **kw)
    finally:
        analyzer.Analyzer.run_pcap = real


def digits_by_ssrc(a, odd: bool = False) -> dict[int, str]:
    """In-band digits per SSRC (``odd``: also those of the stream of odd opus frames)."""
    out: dict[int, str] = {}
    for d in sorted((d for d in a.dtmf if d["method"] == "inband"), key=lambda d: d["time"]):
        if odd or int(d["ssrc"], 16) != ODD:
            out[int(d["ssrc"], 16)] = out.get(int(d["ssrc"], 16), "") + d["digit"]
    return out


def same(a, b) -> None:
    assert a.dtmf == b.dtmf
    assert a.rtp_streams == b.rtp_streams
    assert a.audio.keys() == b.audio.keys()
    for k in a.audio:
        assert np.array_equal(a.audio[k]["samples"], b.audio[k]["samples"])
        assert a.audio[k]["times"] == b.audio[k]["times"]


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    from .conftest import Cap
    return build(Cap(tmp_path_factory.mktemp("bulk")))


@pytest.mark.parametrize("keep", [False, True])
@pytest.mark.parametrize("chunk", [None, 3000, 20000])
def test_column_loop_gives_the_per_record_loops_digits_and_audio(capture, monkeypatch, keep, chunk):
    path, expected = capture
    if chunk:
        monkeypatch.setattr(pcap, "CHUNK", chunk)
        monkeypatch.setattr(fastcolumns, "SMALL", 2)
    ref = per_record(path, inband=True, keep_audio=keep)
    assert digits_by_ssrc(ref) == expected
    same(analyze_capture(path, inband=True, keep_audio=keep), ref)


def test_column_loop_without_the_hand_over_misses_digits(capture, monkeypatch):
    """Negative control: the comparison above sees the audio the hand-over carries."""
    path, expected = capture
    monkeypatch.setattr(wire_audio.AudioCollector, "run", lambda *a: None)
    found = digits_by_ssrc(analyze_capture(path, inband=True))
    assert found != expected
    assert all(len(found.get(s, "")) < len(d) for s, d in expected.items())


def test_eight_khz_decoding_finds_what_the_full_rates_find(capture):
    """G.722 (its lower sub-band) and opus decoded at 8 kHz when only digits are wanted:
    the same digits, times and durations within 10 ms, levels within 1 dB."""
    path, expected = capture
    fast = analyze_capture(path, inband=True)
    full = analyze_capture(path, inband=True, keep_audio=True)
    assert digits_by_ssrc(fast) == digits_by_ssrc(full) == expected
    odd_fast, odd_full = digits_by_ssrc(fast, odd=True), digits_by_ssrc(full, odd=True)
    assert odd_fast.get(ODD) == odd_full.get(ODD)
    a = sorted((d for d in fast.dtmf if d["method"] == "inband" and int(d["ssrc"], 16) != ODD),
               key=lambda d: (d["ssrc"], d["time"]))
    b = sorted((d for d in full.dtmf if d["method"] == "inband" and int(d["ssrc"], 16) != ODD),
               key=lambda d: (d["ssrc"], d["time"]))
    for x, y in zip(a, b):
        assert abs(x["time"] - y["time"]) <= 0.01
        assert abs(x["duration_ms"] - y["duration_ms"]) <= 10
        assert abs(x["level_dbfs"] - y["level_dbfs"]) <= 1.0
    # the stream figures name the codecs' own rates, whatever the rate decoded to
    codecs = {s["audio"]["codec"] for s in fast.rtp_streams if s.get("audio")}
    assert codecs == {s["audio"]["codec"] for s in full.rtp_streams if s.get("audio")}
    assert "G722/16000" in codecs and "OPUS/48000" in codecs


# ------------------------------------------------------------------ the detector's batching
def _reference_votes(x: np.ndarray) -> np.ndarray:
    """The votes by the module doc's rules, block by block in float64 (no segments, no batch)."""
    from sipscen.analysis import inband as ib
    out = []
    for at in range(0, len(x) - ib.BLOCK + 1, ib.HOP):
        b = x[at:at + ib.BLOCK].astype(np.float64)
        p = b @ (ib._TABLE * np.sqrt(ib._AMP))
        amp2 = p[:8] ** 2 + p[8:] ** 2
        total = (b * b) @ ib._WINDOW2.astype(np.float64)
        rows, cols = amp2[:4], amp2[4:]
        r, c = int(rows.argmax()), int(cols.argmax())
        ra, ca = rows[r], cols[c]
        ok = ra >= ib._MIN_AMP2 and ca >= ib._MIN_AMP2 and ra <= ca * ib._NORMAL and ca <= ra * ib._REVERSE
        ok = ok and np.delete(rows, r).max() * ib._PEAK <= ra and np.delete(cols, c).max() * ib._PEAK <= ca
        ok = ok and (ra + ca) / 2 >= ib.TONE_SHARE * max(total, 1e-9) and total >= 0.5 * ib._MIN_AMP2
        out.append(r * 4 + c if ok else -1)
    return np.array(out, dtype=np.int8)


def test_votes_of_many_pieces_at_once_are_each_pieces_own():
    from sipscen.analysis.inband import BLOCK, block_votes, votes_many
    rnd = np.random.default_rng(5)
    pieces = []
    for i, (digits, level, twist) in enumerate([("1", -10, 0), ("5D", -30, 8), ("#", -20, -4.5),
                                               ("", 0, 0), ("9", -35, 0), ("27", -15, 9.5)]):
        x = dtmf_audio(digits, duration=0.05 + 0.01 * i, gap=0.03, level_dbfs=level, twist_db=twist)
        noise = rnd.normal(0, 30 if i != 3 else 8000, len(x) + 333 * i)     # one piece: loud noise
        y = np.concatenate([x, np.zeros(333 * i)]) + noise
        pieces.append(np.clip(y, -32768, 32767).astype(np.int16))
    pieces += [pieces[0][:BLOCK - 1], pieces[1][:BLOCK], pieces[2][:BLOCK + 50]]
    together = votes_many(pieces)
    for p, (votes, levels) in zip(pieces, together):
        alone_votes, alone_levels = block_votes(p)
        assert np.array_equal(votes, alone_votes)
        assert np.allclose(levels, alone_levels, atol=1e-3)
        assert np.array_equal(votes, _reference_votes(p))
    assert sum(int((v >= 0).sum()) for v, _ in together) >= 20           # tones were there to vote


def test_a_detector_fed_in_any_pieces_finds_what_one_feed_finds():
    """Decimated rates too: what does not fill a decimation step waits for the next piece."""
    from sipscen.analysis.inband import InbandDetector
    rnd = random.Random(2)
    for rate in (8000, 16000, 48000):
        x = dtmf_audio("3#8", rate=rate, duration=0.06, gap=0.05, level_dbfs=-20)
        whole = InbandDetector(rate)
        whole.feed(x)
        expected = whole.finish()
        assert [d["digit"] for d in expected] == ["3", "#", "8"]
        det = InbandDetector(rate)
        at = 0
        while at < len(x):
            n = rnd.randrange(1, 2000)
            det.feed(x[at:at + n])
            at += n
        assert det.finish() == expected


# ------------------------------------------------------------------ the sink's runs
@pytest.mark.parametrize("keep", [False, True])
@pytest.mark.parametrize("codec", ["PCMA", "G722", "OPUS"])
def test_a_sink_given_runs_gives_what_it_gives_packet_by_packet(keep, codec):
    """``AudioSink.add_run`` against ``add`` one by one: the blocks the consumer gets, the
    kept samples and every figure, on packets that follow on, leave gaps (silence
    suppression), overlap (longer frames than their timestamps' step), come late, jump
    far ahead, and wrap the timestamp, cut into runs at random."""
    from sipscen.analysis.audio import AudioSink
    rnd = random.Random(hash((keep, codec)) & 0xFFFF)
    rate, step = {"PCMA": (8000, 160), "G722": (16000, 160), "OPUS": (48000, 960)}[codec]
    enc = G722.G722(16000, 64000) if codec == "G722" else Encoder() if codec == "OPUS" else None
    packets = []
    t, ts = 10.0, 0xFFFFFFFF - 50 * step        # wraps after 50 packets
    for i in range(900):
        n = rate // 50
        if codec == "OPUS":
            n = rnd.choice((480, 960, 960, 960, 1920))
        x = (3000 * np.sin(np.arange(n) * (0.05 + i % 7 * 0.01)) + rnd.gauss(0, 50)).astype(np.int16)
        payload = encode_g711(x, "PCMA") if codec == "PCMA" else bytes(enc.encode(x))
        packets.append((t, ts & 0xFFFFFFFF, payload))
        r = rnd.random()
        t += 0.02
        ts += step
        if r < 0.05:                             # silence suppressed: a gap
            ts += step * rnd.randrange(1, 20)
            t += 0.02 * rnd.randrange(1, 20)
        elif r < 0.06:                           # a jump far ahead (6-10 s of timestamps)
            ts += step * rnd.randrange(300, 500)
            t += 1.0
        elif r < 0.08 and i > 60:                # late: an older packet again, 60 ms to 1.2 s
            old = packets[-rnd.choice((3, 20, 60))]
            packets.append((t, old[1], old[2]))
    blocks = {}

    def consumer(key):
        def take(sink, samples, start):
            blocks.setdefault(key, []).append((start, samples.copy()))
        return take

    name = {"PCMA": "PCMA", "G722": "G722", "OPUS": "OPUS"}[codec]
    args = dict(keep=keep, ts_scale=2 if codec == "G722" else 1)
    one = AudioSink(name, rate, consumer=consumer("one"), key="one", **args)
    runs = AudioSink(name, rate, consumer=consumer("runs"), key="runs", **args)
    for tt, stamp, payload in packets:
        one.add(tt, stamp, payload)
    at = 0
    while at < len(packets):
        k = rnd.choice((1, 2, 5, 17, 60, 200))
        part = packets[at:at + k]
        runs.add_run([p[0] for p in part], [p[1] for p in part], [p[2] for p in part])
        at += k
    one.finish()
    runs.finish()
    assert len(blocks["one"]) == len(blocks["runs"]) > 5
    for (s1, b1), (s2, b2) in zip(blocks["one"], blocks["runs"]):
        assert s1 == s2 and np.array_equal(b1, b2)
    for attr in ("packets", "late", "restarts", "max_gap", "last_t", "head", "fed", "base_ts",
                 "first_time", "truncated", "times"):
        assert getattr(one, attr) == getattr(runs, attr), attr
    assert np.array_equal(one.samples(), runs.samples())
    assert one.late >= 1 and one.restarts >= 1       # (the rules beside the plain write met)
