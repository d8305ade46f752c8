"""Audio on the wire: G.711/L16 decoding, tones, silence, in-band DTMF, WAV export, quality."""
from __future__ import annotations

import base64
import json
import random
import shutil
import subprocess
import warnings

import numpy as np
import pytest

from sipscen.analysis import analyze_capture
from sipscen.analysis.audio import ALAW, ULAW, AudioSink, encode_g711, read_wav
from sipscen.analysis.inband import detect_dtmf, dtmf_audio
from sipscen.analysis.quality import audio_summary, e_model, find_tone, similarity
from sipscen.analysis.srtp import SrtpSender

RATE = 8000


def sine(freqs, seconds, level_dbfs=-10.0, rate=RATE):
    t = np.arange(int(seconds * rate)) / rate
    amp = 32768 * 10 ** (level_dbfs / 20)
    return sum(amp * np.sin(2 * np.pi * f * t) for f in freqs).astype(np.int16)


def packets(cap, samples, codec_pt, ssrc, t0=2.0, seq0=100, ts0=1000, drop=(), swap=(), protect=None):
    """(time, rtp) of 20 ms G.711 packets of ``samples``; ``drop``/``swap`` packet indexes."""
    codec = "PCMU" if codec_pt == 0 else "PCMA"
    out = []
    for i in range(len(samples) // 160):
        if i in drop:
            continue
        pkt = cap.rtp(seq0 + i, ts0 + 160 * i, ssrc, codec_pt, encode_g711(samples[160 * i:160 * i + 160], codec))
        out.append((t0 + 0.02 * i, protect(pkt) if protect else pkt))
    for i in swap:
        out[i], out[i + 1] = (out[i][0], out[i + 1][1]), (out[i + 1][0], out[i][1])
    return out


def call_capture(cap, a_to_b, b_to_a, pt=8, a_crypto=(), b_crypto=(), proto="RTP/AVP"):
    call = cap.Call()
    name = {0: "PCMU/8000", 8: "PCMA/8000"}[pt]
    call.invite(1.0, {pt: name, 101: "telephone-event/8000"}, {pt: name, 101: "telephone-event/8000"},
                a_proto=proto, b_proto=proto, a_crypto=a_crypto, b_crypto=b_crypto)
    for t, p in a_to_b:
        call.udp(t, True, p)
    for t, p in b_to_a:
        call.udp(t, False, p)
    return cap.pcap_of(call)


# ------------------------------------------------------------------ codecs
def test_g711_tables_match_the_standard_library_decoder():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop
    everything = bytes(range(256))
    assert ULAW.tobytes() == audioop.ulaw2lin(everything, 2)
    assert ALAW.tobytes() == audioop.alaw2lin(everything, 2)
    x = sine([1000], 0.1)
    for codec, table in (("PCMU", ULAW), ("PCMA", ALAW)):
        back = table[np.frombuffer(encode_g711(x, codec), np.uint8)]
        assert np.max(np.abs(back.astype(int) - x)) < 600


def test_sink_places_late_packets_and_fills_gaps_with_silence():
    sink = AudioSink("L16", 8000)
    one = np.full(160, 1000, dtype=">i2").tobytes()
    sink.add(0.00, 0, one)
    sink.add(0.04, 320, one)        # 160..320 missing so far
    sink.add(0.05, 160, one)        # late: fills the hole
    sink.add(0.10, 800, one)        # 480..800 lost: silence
    s = sink.samples()
    assert len(s) == 960
    assert np.all(s[:480] == 1000) and np.all(s[480:800] == 0) and np.all(s[800:] == 1000)
    assert sink.late == 0 and round(sink.max_gap, 2) == 0.05


# ------------------------------------------------------------------ tones, silence
@pytest.mark.parametrize("pt", [0, 8])
def test_tone_one_way_and_silence_per_direction(cap, pt):
    tone = sine([1000], 2.0)
    quiet = np.zeros(16000, dtype=np.int16)
    path = call_capture(cap, packets(cap, tone, pt, 0xA1), packets(cap, quiet, pt, 0xB2), pt)
    a = analyze_capture(path, keep_audio=True)
    by = {s["ssrc"]: (i, s) for i, s in enumerate(a.rtp_streams)}
    i, ab = by["0x000000a1"]
    j, ba = by["0x000000b2"]
    assert ab["audio"]["frequencies"][0] == pytest.approx(1000, abs=5)
    assert ab["audio"]["level_dbfs"] == pytest.approx(-10, abs=1)
    assert ab["audio"]["active_seconds"] >= 1.9
    assert ba["audio"]["active_seconds"] == 0 and ba["audio"]["frequencies"] == []
    samples, rate = a.audio[i]["samples"], a.audio[i]["rate"]
    assert find_tone(samples, rate, [1000])["seconds"] >= 1.9
    assert find_tone(samples, rate, [1100], tolerance=0.03)["seconds"] == 0
    assert find_tone(a.audio[j]["samples"], rate, [1000])["seconds"] == 0
    # the default analysis never decodes audio
    assert "audio" not in analyze_capture(path).rtp_streams[0]


def test_tone_with_loss_and_reordering_is_still_found(cap):
    tone = sine([440, 480], 2.0, -20)
    pk = packets(cap, tone, 8, 0xA1, drop=set(range(5, 100, 10)), swap=(20, 40))
    a = analyze_capture(call_capture(cap, pk, []), keep_audio=True)
    s = a.rtp_streams[0]
    assert s["lost"] == 10 and s["out_of_order"] == 2
    assert s["audio"]["late"] == 0       # a reordered packet still lands in its place
    assert find_tone(a.audio[0]["samples"], 8000, [440, 480], min_level_dbfs=-30)["seconds"] >= 0.15
    assert s["quality"]["loss_pct"] == 10.0
    assert s["quality"]["mos"] < e_model("PCMA", 0)["mos"]


def test_srtp_audio_is_decoded_with_the_sdp_key(cap):
    suite = "AES_CM_128_HMAC_SHA1_80"
    key = random.Random(5).randbytes(30)
    sender = SrtpSender(suite, key[:16], key[16:])
    crypto = [f"1 {suite} inline:{base64.b64encode(key).decode()}"]
    other = [f"1 {suite} inline:{base64.b64encode(random.Random(6).randbytes(30)).decode()}"]
    pk = packets(cap, sine([1000], 1.0), 0, 0xA1, protect=sender.protect)
    a = analyze_capture(call_capture(cap, pk, [], pt=0, a_crypto=crypto, b_crypto=other, proto="RTP/SAVP"),
                        keep_audio=True)
    s = a.rtp_streams[0]
    assert s["srtp"]["authenticated"] == s["packets"]
    assert s["audio"]["frequencies"][0] == pytest.approx(1000, abs=5)


# ------------------------------------------------------------------ in-band DTMF
def test_inband_digits_on_the_wire_have_the_rfc4733_fields(cap, sipscen, tmp_path):
    audio = np.concatenate([np.zeros(1600, np.int16), dtmf_audio("159#*0", level_dbfs=-15, twist_db=2),
                            np.zeros(1600, np.int16)])
    path = call_capture(cap, packets(cap, audio, 0, 0xA1), packets(cap, sine([1000], 1.0), 0, 0xB2), pt=0)
    plain = analyze_capture(path)
    assert plain.dtmf == []                    # off unless asked for
    a = analyze_capture(path, inband=True)
    digits = [d for d in a.dtmf if d["method"] == "inband"]
    assert "".join(d["digit"] for d in digits) == "159#*0"
    first = digits[0]
    assert first["ssrc"] == "0x000000a1" and first["call_id"] == "call-1" and first["payload_type"] == 0
    assert first["time"] == pytest.approx(2.2, abs=0.03)
    assert 80 <= first["duration_ms"] <= 110
    assert set(first) >= {"digit", "method", "time", "duration_ms", "volume", "ssrc", "src", "dst",
                          "payload_type", "call_id"}
    code, out, _ = sipscen("analyze", path, "--json", "-", "--inband", "--wav-dir", tmp_path / "wav")
    assert code == 0
    doc = json.loads(out)
    assert "".join(d["digit"] for d in doc["dtmf"] if d["method"] == "inband") == "159#*0"
    wavs = sorted((tmp_path / "wav").glob("*.wav"))
    assert len(wavs) == 2
    back, rate = read_wav([w for w in wavs if w.name.startswith("000000b2")][0])
    assert rate == 8000 and len(back) == 8000
    assert audio_summary(back, rate)["frequencies"][0] == pytest.approx(1000, abs=5)


def test_inband_alongside_rfc4733_from_one_gateway(cap):
    audio = np.concatenate([dtmf_audio("7", duration=0.12), np.zeros(8000, np.int16)])
    pk = packets(cap, audio, 0, 0xA1)
    ev, _ = cap.digit_packets(7, 1000, 1000 + 160 * 60, 3.5, 0xA1, 101)
    a = analyze_capture(call_capture(cap, pk + ev, [], pt=0), inband=True)
    assert [(d["digit"], d["method"]) for d in a.dtmf] == [("7", "inband"), ("7", "rfc4733")]


def test_detector_q24_limits():
    assert "".join(d["digit"] for d in detect_dtmf(dtmf_audio("0123456789*#ABCD", duration=0.045,
                                                               gap=0.045))) == "0123456789*#ABCD"
    assert detect_dtmf(dtmf_audio("5", duration=0.02)) == []                    # too short
    assert detect_dtmf(dtmf_audio("5", level_dbfs=-45)) == []                   # too quiet
    assert detect_dtmf(dtmf_audio("5", twist_db=10)) == []                      # too much twist
    assert detect_dtmf(dtmf_audio("5", twist_db=-6)) == []                      # reverse twist
    assert [d["digit"] for d in detect_dtmf(dtmf_audio("5", twist_db=6))] == ["5"]
    noisy = dtmf_audio("88", level_dbfs=-12).astype(float) + np.random.default_rng(1).normal(0, 300, 3200)
    assert "".join(d["digit"] for d in detect_dtmf(noisy.astype(np.int16))) == "88"


def test_a_tone_tolerance_means_what_it_says_in_noise():
    noise = np.random.default_rng(3).normal(0, 300, 16000)
    tone = (sine([1000], 2.0, -12) + noise).astype(np.int16)
    found = find_tone(tone, RATE, [1000], tolerance_hz=1)
    assert found["seconds"] >= 1.9 and found["frequencies"][0] == pytest.approx(1000, abs=0.3)
    assert find_tone(tone, RATE, [1010], tolerance_hz=11)["seconds"] >= 1.9
    assert find_tone(tone, RATE, [1010], tolerance_hz=9)["seconds"] == 0
    assert find_tone(tone, RATE, [1060], tolerance_hz=10)["seconds"] == 0       # was +-77 Hz
    assert find_tone(tone, RATE, [1030], tolerance=0.03)["seconds"] >= 1.9      # 3 % of 1030 = 30.9
    assert find_tone(tone, RATE, [1032], tolerance=0.03)["seconds"] == 0
    quiet = find_tone(tone, RATE, [1000], min_level_dbfs=-6)
    assert quiet["seconds"] == 0 and quiet["unleveled"]["seconds"] >= 1.9
    assert quiet["unleveled"]["level_dbfs"] == pytest.approx(-12, abs=0.5)
    assert find_tone(tone, RATE, [5000])["above_nyquist"] == [5000.0]


def test_a_dual_tone_is_two_peaks():
    ringback = sine([440, 480], 2.0, -13)
    assert find_tone(ringback, RATE, [440, 480], tolerance=0.01)["frequencies"] == \
        pytest.approx([440, 480], abs=0.1)
    for single in (440, 460, 480):
        assert find_tone(sine([single], 2.0, -10), RATE, [440, 480], tolerance=0.05)["seconds"] == 0
    assert find_tone(ringback, RATE, [440], tolerance=0.05)["seconds"] == 0     # not a single tone
    assert find_tone(sine([350, 440], 2.0, -13), RATE, [440, 480], tolerance=0.01)["seconds"] == 0


def _through_pcma(samples: np.ndarray, noise_dbfs: float, seed: int) -> np.ndarray:
    """``samples`` with white noise at ``noise_dbfs`` (sine-referenced), A-law coded and decoded."""
    rng = np.random.default_rng(seed)
    x = samples.astype(float) + rng.normal(0, 32768 * 10 ** (noise_dbfs / 20) / np.sqrt(2), len(samples))
    coded = encode_g711(x.clip(-32768, 32767).astype(np.int16), "PCMA")
    return ALAW[np.frombuffer(coded, np.uint8)]


# Q.24 / Bellcore: 40 ms tones, 40 ms pauses, twist from +4 dB (high group louder) to -8 dB
# (high group quieter). dtmf_audio's twist_db is how much quieter the high group is.
@pytest.mark.parametrize("twist_db", [4.0, 0.0, -4.0, 8.0], ids=["high-4dB", "flat", "high+4dB", "high-8dB"])
@pytest.mark.parametrize("on_ms", [40, 45])
def test_detector_at_the_q24_edge_in_light_noise_through_pcma(twist_db, on_ms):
    keys = "0123456789*#ABCD"
    for seed in range(3):
        audio = np.concatenate([np.zeros(400, np.int16), dtmf_audio(
            keys, duration=on_ms / 1000, gap=on_ms / 1000, twist_db=twist_db), np.zeros(400, np.int16)])
        got = detect_dtmf(_through_pcma(audio, -35.0, seed))
        assert "".join(d["digit"] for d in got) == keys, (twist_db, on_ms, seed)
        assert all(on_ms - 12 <= d["duration_ms"] <= on_ms + 12 for d in got), got


def test_detector_refuses_beyond_the_edge_and_bridges_short_breaks():
    # negative controls of the test above: too short, too much twist either way
    assert detect_dtmf(_through_pcma(dtmf_audio("5555", duration=0.022, gap=0.04), -35.0, 1)) == []
    assert detect_dtmf(_through_pcma(dtmf_audio("5555", duration=0.04, gap=0.04, twist_db=-6.5), -35.0, 1)) == []
    assert detect_dtmf(_through_pcma(dtmf_audio("5555", duration=0.04, gap=0.04, twist_db=10.5), -35.0, 1)) == []
    # a 10 ms break inside a digit (Q.24) does not split it, wherever it falls
    for at in range(480, 560, 7):
        tone = dtmf_audio("7", duration=0.2, gap=0.1).copy()
        tone[at:at + 80] = 0
        assert [d["digit"] for d in detect_dtmf(tone)] == ["7"], at


# ------------------------------------------------------------------ talk-off
def _tool_wav(tmp_path, name, argv):
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} not installed")
    subprocess.run(argv, check=True, capture_output=True, timeout=60)
    out = tmp_path / f"{name}-8k.wav"
    subprocess.run(["sox", str(tmp_path / f"{name}.wav"), "-r", "8000", "-c", "1", "-b", "16", str(out)],
                   check=True, capture_output=True, timeout=60)
    return read_wav(out)[0]


TEXT = ("Please enter your account number followed by the pound key. One two three four five six "
        "seven eight nine zero star hash. Thank you for calling; your call is important to us, "
        "please hold while we transfer you to the next available agent.")


@pytest.mark.parametrize("voice", ["en", "en+f3", "de", "fr"])
def test_talk_off_speech(tmp_path, voice):
    samples = _tool_wav(tmp_path, "speech", ["espeak-ng", "-v", voice, "-w", str(tmp_path / "speech.wav"), TEXT])
    assert audio_summary(samples, RATE)["active_seconds"] > 5      # there is speech to resist
    for codec, table in (("PCMU", ULAW), ("PCMA", ALAW)):
        decoded = table[np.frombuffer(encode_g711(samples, codec), np.uint8)]
        assert detect_dtmf(decoded) == []
        assert detect_dtmf((decoded.astype(float) * 3).clip(-32768, 32767).astype(np.int16)) == []


@pytest.mark.parametrize("synth", [["pluck", "C4", "pluck", "E4", "pluck", "G4"], ["sine", "300-3000"],
                                   ["sine", "697", "sine", "1000"], ["pinknoise"]])
def test_talk_off_music_and_noise(tmp_path, synth):
    samples = _tool_wav(tmp_path, "music", ["sox", "-n", "-r", "8000", "-c", "1", "-b", "16",
                                            str(tmp_path / "music.wav"), "synth", "4", *synth, "remix", "-",
                                            "gain", "-n", "-3"])
    assert detect_dtmf(samples) == []


@pytest.mark.parametrize("tone", [(350, 440), (440, 480), (480, 620), (425, 425), (400, 450), (1000, 1000)])
def test_talk_off_call_progress_tones(tone):
    assert detect_dtmf(sine(tone, 3.0, -10)) == []


# ------------------------------------------------------------------ quality
def test_similarity_is_delay_compensated_and_falls_with_loss(tmp_path):
    samples = _tool_wav(tmp_path, "speech", ["espeak-ng", "-w", str(tmp_path / "speech.wav"), TEXT[:120]])
    delayed = np.concatenate([np.zeros(2400, np.int16), ALAW[np.frombuffer(encode_g711(samples, "PCMA"), np.uint8)]])
    clean = similarity(delayed, RATE, samples, RATE)
    assert clean["score"] > 0.95 and clean["delay_ms"] == pytest.approx(300, abs=1)
    lossy = delayed.copy()
    rng = random.Random(3)
    for i in range(0, len(lossy) - 160, 160):
        if rng.random() < 0.15:
            lossy[i:i + 160] = 0
    worse = similarity(lossy, RATE, samples, RATE)["score"]
    assert 0.5 < worse < clean["score"] - 0.05
    assert similarity(sine([500], 3.0), RATE, samples, RATE)["score"] < 0.3


def test_e_model_figures():
    assert e_model("PCMA", 0)["mos"] == pytest.approx(4.4, abs=0.05)
    mos = [e_model("PCMU", loss)["mos"] for loss in (0, 1, 5, 15)]
    assert mos == sorted(mos, reverse=True) and mos[-1] < 3.0
    assert e_model("G729", 0)["mos"] < e_model("PCMU", 0)["mos"]
    assert e_model("PCMU", 0, jitter_ms=100)["mos"] < e_model("PCMU", 0)["mos"]


def test_g722_on_the_wire_is_decoded_to_16khz(cap):
    G722 = pytest.importorskip("G722")
    enc = G722.G722(16000, 64000)
    tone = sine([1000], 1.0, -12, rate=16000)
    digits = dtmf_audio("47", rate=16000, level_dbfs=-12)
    audio = np.concatenate([tone, digits])
    call = cap.Call()
    call.invite(1.0, {9: "G722/8000"}, {9: "G722/8000"})
    for i in range(len(audio) // 320):           # 20 ms = 320 samples = 160 bytes, ts += 160
        payload = enc.encode(audio[320 * i:320 * i + 320])
        call.udp(2.0 + 0.02 * i, True, cap.rtp(100 + i, 160 * i, 0xA1, 9, payload))
    a = analyze_capture(cap.pcap_of(call), keep_audio=True, inband=True)
    s = a.rtp_streams[0]
    assert s["audio"]["codec"] == "G722/16000"
    assert a.audio[0]["rate"] == 16000 and len(a.audio[0]["samples"]) == len(audio)
    assert find_tone(a.audio[0]["samples"][:16000], 16000, [1000])["seconds"] >= 0.9
    assert "".join(d["digit"] for d in a.dtmf if d["method"] == "inband") == "47"


def test_wav_dir_that_cannot_be_used_is_a_usage_error(cap, sipscen, tmp_path):
    path = call_capture(cap, packets(cap, sine([1000], 0.2), 0, 0xA1), [], pt=0)
    afile = tmp_path / "afile"
    afile.write_text("x")
    for bad in (afile, "/proc/sipscen-nope"):
        code, out, err = sipscen("analyze", path, "--wav-dir", bad)
        assert code == 2 and "--wav-dir" in err and "Traceback" not in err


def test_a_timestamp_jump_keeps_the_capture_clock():
    sink = AudioSink("L16", 8000)
    one = np.full(160, 1000, dtype=">i2").tobytes()
    sink.add(10.0, 0, one)
    sink.add(30.0, 4_000_000, one)      # 20 s later by the clock, a wild jump by the timestamp
    assert len(sink.samples()) == 20 * 8000 + 160
    assert sink.restarts == 1 and np.all(sink.samples()[160:-160] == 0)
