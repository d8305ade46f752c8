"""The fast path on a load test's capture (bench/capture_gen.generate_realistic):
calls coming and going, packets reordered (late by 1-3 packets of their stream),
lost, codecs changed by re-INVITE on the same SSRC, VBR and mixed packet sizes,
telephone-events on per-call payload types. Every path must give what the general
path gives: streams, loss, out-of-order counts, jitter, per payload type counts, DTMF."""
import importlib.util
from pathlib import Path

import pytest

from tests.analysis.test_fastpath_equivalence import _batches_path, _general_path
from sipscen.analysis.analyze import analyze_capture

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def realistic(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("capture_gen", ROOT / "bench" / "capture_gen.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    path = tmp_path_factory.mktemp("reorder") / "load.pcap"
    info = gen.generate_realistic(path, packets=40_000, concurrent=16, reorder=0.02,
                                  codec_change=0.6)
    return path, info


def test_reordered_and_codec_changing_capture_same_on_every_path(realistic):
    path, info = realistic
    fast = analyze_capture(path).to_dict()
    streams = fast["rtp_streams"]
    # the capture has what this test is about (else it would compare nothing)
    assert info["reordered"] > 100 and info["codec_changes"] >= 5 and info["lost"] > 100
    assert sum(s["out_of_order"] for s in streams) > 100
    assert sum(1 for s in streams if len(s["by_payload_type"]) >= 3) >= 10   # audio, audio', events
    assert sum(s["lost"] for s in streams) > 100
    assert len(fast["dtmf"]) == info["digits"]
    assert fast == _general_path(path)
    assert fast == _batches_path(path)


def test_a_difference_would_be_seen(realistic):
    """Negative control: the comparison sees a single stream's jitter change."""
    path, _info = realistic
    fast = analyze_capture(path).to_dict()
    general = _general_path(path)
    general["rtp_streams"][3]["jitter_ms"] += 0.001
    assert fast != general


def _records_path(path: Path) -> dict:
    """The per-record loop (fastpath.run_pcap), which the column loop replaced."""
    from sipscen.analysis import fastpath
    from sipscen.analysis.analyze import _build
    from sipscen.analysis.analyzer import Analyzer
    from sipscen.analysis.pcap import CaptureReader
    reader = CaptureReader(path)
    an = Analyzer([])
    try:
        fastpath.run_pcap(an, reader)
        an.finish()
    finally:
        reader.close()
    return _build(str(path), an, reader.warnings + an.warnings, 2).to_dict()


def test_the_per_record_loop_agrees(realistic):
    path, _info = realistic
    assert analyze_capture(path).to_dict() == _records_path(path)


@pytest.mark.parametrize("chunk", [2_000, 9_000, 50_000])
def test_small_buffers_same_result(realistic, monkeypatch, chunk):
    """Buffers of a few records (record by record), of a hundred and more (columns),
    records cut at every buffer boundary: the same result."""
    from sipscen.analysis import pcap
    path, _info = realistic
    whole = analyze_capture(path).to_dict()
    monkeypatch.setattr(pcap, "CHUNK", chunk)
    assert analyze_capture(path).to_dict() == whole


def test_flows_with_one_hash_same_result(realistic, monkeypatch):
    """Two flows whose keys hash alike are told apart (the buffer is taken record by
    record): with a multiplier of 0 every flow with the same ports collides."""
    from sipscen.analysis import fastcolumns
    path, _info = realistic
    whole = analyze_capture(path).to_dict()
    monkeypatch.setattr(fastcolumns, "_MIX", fastcolumns.np.uint64(0))
    monkeypatch.setattr(fastcolumns, "_MIXI", 0)
    assert analyze_capture(path).to_dict() == whole


@pytest.mark.parametrize("lt", [1, 113, 276, 101])
@pytest.mark.parametrize("order", ["<", ">"])
def test_columns_on_every_link_type_and_byte_order(tmp_path, monkeypatch, lt, order):
    """test_fastpath_mixed's captures (IPv4 and IPv6, marker, padding, extension, CSRC,
    wrap, SSRC and codec changes, loss, reordering, duplicates, an event) through the
    column loop in buffers of a few dozen records, every one taken by columns."""
    from sipscen.analysis import fastcolumns, pcap
    from tests.analysis.test_fastpath_mixed import _capture
    path = tmp_path / "mixed.pcap"
    _capture(path, lt, order)
    general = _general_path(path)
    monkeypatch.setattr(fastcolumns, "SMALL", 1)
    monkeypatch.setattr(pcap, "CHUNK", 4000)
    assert analyze_capture(path).to_dict() == general


def _rebinding_capture(path: Path) -> None:
    """A call whose re-INVITE binds the payload type in use to another clock (opus/48000
    -> L16/16000) and makes the other side's audio PT a telephone-event: the streams'
    next packets must be read with the new SDP, in the middle of a buffer."""
    import random
    import struct

    spec = importlib.util.spec_from_file_location("bench_analyze", ROOT / "bench" / "bench_analyze.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rnd = random.Random(5)
    a_ip, b_ip = bytes([127, 0, 0, 11]), bytes([127, 0, 0, 12])
    a, b = "127.0.0.11", "127.0.0.12"

    def sdp(ip, port, rtpmap):
        return (f"v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
                f"m=audio {port} RTP/AVP 96 97\r\n{rtpmap}a=sendrecv\r\n")

    common = ["Call-ID: rebind@x", "From: <sip:a@x>;tag=a", "Via: SIP/2.0/UDP 127.0.0.11:5060"]
    first = "a=rtpmap:96 opus/48000/2\r\na=rtpmap:97 PCMU/8000\r\n"
    second = "a=rtpmap:96 L16/16000\r\na=rtpmap:97 telephone-event/8000\r\n"
    with open(path, "wb") as f:
        w = bench.PcapWriter(f)
        t = 1_700_000_000.0
        for cseq, body in ((1, first), (2, second)):
            w.udp(t, a_ip, 5060, b_ip, 5060, bench._sip(
                ["INVITE sip:b@x SIP/2.0", *common, "To: <sip:b@x>", f"CSeq: {cseq} INVITE",
                 "Content-Type: application/sdp"], sdp(a, 20000, body)))
            w.udp(t + 0.001, b_ip, 5060, a_ip, 5060, bench._sip(
                ["SIP/2.0 200 OK", *common, "To: <sip:b@x>;tag=b", f"CSeq: {cseq} INVITE",
                 "Content-Type: application/sdp"], sdp(b, 40000, body)))
            for i in range(150 * (cseq - 1), 150 * cseq):
                at = t + 0.01 + i * 0.02 + rnd.uniform(0, 0.004)
                w.udp(at, a_ip, 20000, b_ip, 40000,
                      struct.pack("!BBHII", 0x80, 96, i, i * 960, 0xA0A0) + bytes(rnd.randrange(40, 90)))
                w.udp(at + 0.001, b_ip, 40000, a_ip, 20000,
                      struct.pack("!BBHII", 0x80, 97, i, i * 160, 0xB0B0) + bytes(160 if i < 150 else 4))
            t += 150 * 0.02
        w.flush()


def test_an_sdp_change_mid_buffer_is_read_on_every_path(tmp_path):
    path = tmp_path / "rebind.pcap"
    _rebinding_capture(path)
    fast = analyze_capture(path).to_dict()
    general = _general_path(path)
    a_to_b = next(s for s in general["rtp_streams"] if s["ssrc"] == "0x0000a0a0")
    assert a_to_b["packets"] == 300 and a_to_b["jitter_ms"] > 0
    assert len(general["dtmf"]) >= 1       # the other side's PT 97 became telephone-event
    assert fast == general
    assert fast == _records_path(path)
