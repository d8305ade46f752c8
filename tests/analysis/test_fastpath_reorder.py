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
