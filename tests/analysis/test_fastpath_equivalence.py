"""The fast path (runner/sipscen/analysis/fastpath.py) is an optimisation only: on every
capture it must give exactly what the general path, ``Analyzer.packet()`` fed
record by record, gives."""
import importlib.util
from pathlib import Path

import pytest

from sipscen.analysis.analyze import _build, analyze_capture
from sipscen.analysis.analyzer import Analyzer
from sipscen.analysis.pcap import CaptureReader

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus" / "captures"
SAMPLES = Path("/usr/share/sip-tester")


def _general_path(path: Path) -> dict:
    reader = CaptureReader(path)
    an = Analyzer([])
    try:
        for t, linktype, frame in reader.records():
            an.packets += 1         # the fast path counts in bulk; here one by one
            an.packet(t, linktype, frame)
        an.finish()
    finally:
        reader.close()
    return _build(str(path), an, reader.warnings + an.warnings, 2).to_dict()


def _batches_path(path: Path) -> dict:
    reader = CaptureReader(path)
    an = Analyzer([])
    try:
        an.run(reader.batches())
    finally:
        reader.close()
    return _build(str(path), an, reader.warnings + an.warnings, 2).to_dict()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A bench-style capture: many streams, SIP with SDP, telephone-events on
    varying payload types, records of mixed and equal sizes."""
    spec = importlib.util.spec_from_file_location("bench_analyze", ROOT / "bench" / "bench_analyze.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    path = tmp_path_factory.mktemp("fast") / "gen.pcap"
    bench.generate(path, packets=20000, calls=12)
    return path


def _captures():
    found = sorted(CORPUS.glob("*.pcap")) if CORPUS.is_dir() else []
    found += sorted(SAMPLES.glob("*.pcap")) if SAMPLES.is_dir() else []
    return found


def test_generated_capture_same_on_every_path(generated):
    fast = analyze_capture(generated).to_dict()
    assert len(fast["dtmf"]) > 10 and len(fast["rtp_streams"]) > 10
    assert fast == _general_path(generated)
    assert fast == _batches_path(generated)


@pytest.mark.parametrize("path", _captures(), ids=lambda p: p.name)
def test_real_captures_same_on_every_path(path):
    fast = analyze_capture(path).to_dict()
    assert fast == _general_path(path)
    assert fast == _batches_path(path)


def test_there_are_real_captures_to_compare():
    if not _captures():
        pytest.skip(f"neither {CORPUS} nor {SAMPLES} is here (./setup.sh installs the samples)")
    assert len(_captures()) >= 10
