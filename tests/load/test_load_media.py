"""Load with media on real SIPp runs: every call judged from the capture.

One small run (30 calls at 20 calls/s through the example Kamailio SUT, 3 s of
real speech both ways from SIPp's pcap play, the callee sending with 5 % loss,
every 10th caller silent) feeds every test here:

* the per-call loss and jitter agree with tshark's RTP stream analysis of the
  same capture (packets and loss: exactly; jitter: our RFC 3550 estimate at the
  last packet lies within tshark's least and greatest running estimate, and
  equals, within 0.01 ms, the RFC 3550 recurrence run here over tshark's own
  decoding of every packet: arrival time and RTP timestamp);
* the deliberately one-way calls (10, 20, 30) are counted one-way, named;
* every media bound passes as written and fails with the bound made false on
  the same evidence (negative controls), naming the worst calls;
* the time series in the result has the agreed shape and adds up;
* two halves of the calls, summarised apart and merged, give the same
  percentiles and counts as all calls judged in one place.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sipscen.checks import load_media, load_series
from sipscen.core.results import FAILED, PASSED

from tests.load.conftest import CALLS
from tests.sipp.conftest import by_name, needs_kamailio, needs_sipp

pytestmark = [pytest.mark.integration, needs_sipp, needs_kamailio,
              pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed"),
              pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")]


def _tshark_streams(pcap: str) -> dict[tuple[str, str], dict]:
    out = subprocess.run(["tshark", "-n", "-r", pcap, "--enable-heuristic=rtp_udp", "-q",
                          "-z", "rtp,streams"], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    streams = {}
    pattern = re.compile(r"(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+0x[0-9A-Fa-f]+\s+.*?\s(\d+)\s+(-?\d+) "
                         r"\([^)]*\)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)"
                         r"\s+([\d.]+)")
    for line in out.splitlines():
        m = pattern.search(line)
        if m:
            src, sport, dst, dport = m.group(1), m.group(2), m.group(3), m.group(4)
            streams[(f"{src}:{sport}", f"{dst}:{dport}")] = {
                "packets": int(m.group(5)), "lost": int(m.group(6)),
                "min_jitter": float(m.group(10)), "mean_jitter": float(m.group(11)),
                "max_jitter": float(m.group(12))}
    return streams


def _tshark_jitter(pcap: str) -> dict[tuple[str, str], float]:
    """RFC 3550 interarrival jitter (ms, 8 kHz) at each stream's last packet, computed
    here from tshark's own decoding of every RTP packet (arrival time, timestamp)."""
    out = subprocess.run(["tshark", "-n", "-r", pcap, "--enable-heuristic=rtp_udp", "-Y", "rtp",
                          "-T", "fields", "-e", "frame.time_epoch", "-e", "ip.src",
                          "-e", "udp.srcport", "-e", "ip.dst", "-e", "udp.dstport",
                          "-e", "rtp.timestamp"], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    state: dict[tuple[str, str], list[float]] = {}      # key -> [jitter, last transit]
    for line in out.splitlines():
        fields = line.split("\t")
        if len(fields) != 6 or not all(fields):
            continue            # not one RTP packet over IPv4/UDP (another program's traffic)
        t, src, sport, dst, dport, ts = fields
        key = (f"{src}:{sport}", f"{dst}:{dport}")
        transit = float(t) * 8000 - int(ts)
        j = state.get(key)
        if j is None:
            state[key] = [0.0, transit]
            continue
        j[0] += (abs(transit - j[1]) - j[0]) / 16
        j[1] = transit
    return {k: v[0] * 1000 / 8000 for k, v in state.items()}


def test_per_call_loss_and_jitter_agree_with_tshark(run):
    ours = [s for s in run.wire["rtp_streams"] if s.get("call_id")
            and s["call_id"].split("-")[0].isdigit()]
    theirs = _tshark_streams(run.artifacts["pcap"])
    jitter = _tshark_jitter(run.artifacts["pcap"])
    assert len(ours) >= 2 * CALLS - 3
    compared = lossy = 0
    for s in ours:
        t = theirs.get((s["src"], s["dst"]))
        assert t is not None, f"tshark has no stream {s['src']}->{s['dst']}"
        assert s["packets"] == t["packets"]
        assert s["lost"] == t["lost"], (s, t)
        # ours is the RFC 3550 running estimate at the stream's last packet; tshark gives
        # the least, mean and greatest of the same running estimate: ours lies within
        assert t["min_jitter"] - 0.01 <= s["jitter_ms"] <= t["max_jitter"] + 0.01, (s, t)
        # and it is the RFC 3550 recurrence over tshark's decoding of the same packets
        assert abs(s["jitter_ms"] - jitter[(s["src"], s["dst"])]) <= 0.01, (s, jitter)
        compared += 1
        lossy += s["lost"] > 0
    assert compared == len(ours)
    assert lossy >= CALLS - 1        # the callee's direction of every call lost packets


def test_deliberately_one_way_calls_are_counted_one_way(run):
    summary = run.load["caller"]
    assert summary["calls"] == CALLS and summary["answered"] == CALLS
    assert summary["one_way"] == 3 and summary["silent"] == 0
    assert summary["two_way"] == CALLS - 3
    named = sorted(c["call_id"].split("-")[0] for c in summary["one_way_calls"])
    assert named == ["10", "20", "30"]
    assert all(c["directions"] == ["uas->caller"] for c in summary["one_way_calls"])


def test_bounds_pass_as_written_and_fail_made_false(run):
    checks = by_name(run.checks)
    for name in ("MOS p5", "loss p95", "jitter p95", "two-way media",
                 "calls without two-way media", "setup time p95"):
        assert checks[f"load caller: {name}"].status == PASSED
    summary = run.load["caller"]
    loss = float(checks["load caller: loss p95"].actual.split("%")[0])
    assert 4.0 <= loss <= 6.0                    # 5 of every 100 packets left out
    assert float(checks["load caller: MOS p5"].actual.split()[0]) < 4.0
    false = {"mos_p5_min": 4.2, "loss_p95_max": "4%", "jitter_p95_max": "0.05ms",
             "two_way_media_min": "95%", "one_way_calls_max": 2, "setup_p95_max": "0.2ms"}
    results = load_media.judge("caller", false, summary, "here")
    assert len(results) == 6 and all(r.status == FAILED for r in results), \
        [r.to_dict() for r in results]
    by = {r.name: r for r in results}
    assert re.search(r"worst: \d+-\S+ uas->caller", by["load caller: MOS p5"].message)
    assert "uas->caller 5%" in by["load caller: loss p95"].message
    assert "10-" in by["load caller: calls without two-way media"].message
    assert "slowest: " in by["load caller: setup time p95"].message


def test_time_series_has_the_agreed_shape_and_adds_up(run):
    summary = run.load["caller"]
    assert summary["interval_s"] == 1.0
    series = summary["series"]
    assert len(series) >= 2
    for row in series:
        assert set(row) == {"t", "calls_per_s", "concurrent", "failed", "mos_p5", "mos_p50",
                            "loss_p95"}
        assert isinstance(row["concurrent"], int) and isinstance(row["failed"], int)
    assert round(sum(r["calls_per_s"] for r in series) * 1.0) == CALLS
    assert max(r["concurrent"] for r in series) >= 20      # 20 cps x ~3.5 s calls
    judged = [r for r in series if r["mos_p5"] is not None]
    assert judged and all(0.03 <= r["loss_p95"] <= 0.07 for r in judged)
    assert {"call_id", "direction", "mos", "loss"} <= set(summary["worst"][0])


def _context(run, wire, media_ports=None):
    """A CheckContext on ``wire`` for the run's parties (their SIP addresses from the
    facts; media attributed by the SDP, as in the run); ``media_ports``: party ->
    the media port range the capture listened to."""
    from sipscen.checks.context import CheckContext
    from sipscen.core.contact import Contact
    from sipscen.scenario.build import load_scenario
    contacts = {}
    for name, facts in {**run.agents, **run.services}.items():
        m = re.search(r"@?([\d.]+):(\d+)", str(facts.get("uri") or ""))
        if m:
            contacts[name] = Contact(name, m.group(1), int(m.group(2)), "udp",
                                     media_ports=(media_ports or {}).get(name))
    return CheckContext(load_scenario(Path(run.file)), run.agents, wire, contacts)


def test_two_halves_merged_equal_the_whole(run):
    wire = run.wire

    def summary(calls):
        return load_media.summarise("caller", _context(run, dict(wire, calls=calls)), 1.0)

    whole = summary(wire["calls"])
    merged = load_series.merge([summary(wire["calls"][0::2]), summary(wire["calls"][1::2])])
    for key in ("calls", "answered", "two_way", "one_way", "silent", "not_whole", "failed"):
        assert merged[key] == whole[key], key
    for kind in load_series.UNITS:
        for pct in (5, 50, 95, 100):
            assert (load_series.hist_percentile(merged["histograms"][kind], kind, pct)
                    == load_series.hist_percentile(whole["histograms"][kind], kind, pct)), kind
    assert whole["histograms"]["mos"] and whole["two_way"] == CALLS - 3
    assert merged["worst"][0]["mos"] == whole["worst"][0]["mos"]


def test_calls_the_capture_did_not_see_whole_are_counted_and_said(run):
    """A capture that lost a call's BYE, and one that lost a whole call (a fault the
    engine cannot cause for real: the run's own evidence with those messages cut)."""
    cut, gone = None, None
    calls = []
    for call in run.wire["calls"]:
        number = call["call_id"].split("-")[0]
        if number == "5":
            cut = call["call_id"]
            call = dict(call, messages=[m for m in call["messages"] if m["method"] != "BYE"])
        elif number == "6":
            gone = call["call_id"]
            continue
        calls.append(call)
    assert cut and gone
    summary = load_media.summarise("caller", _context(run, dict(run.wire, calls=calls)), 1.0,
                                   attempted=CALLS)
    assert summary["calls"] == CALLS - 1 and summary["not_whole"] == 1
    assert summary["not_whole_calls"] == [{"call_id": cut, "missing": "BYE"}]
    assert summary["two_way"] + summary["one_way"] == CALLS - 2       # the cut call left out
    [result] = load_media.judge("caller", {"mos_p5_min": 4.5}, summary, "here")
    assert result.status == FAILED
    assert f"1 answered call(s) not seen whole by the capture, left out: {cut} (no BYE)" \
        in result.message
    assert f"the capture holds {CALLS - 1} of the {CALLS} calls placed" in result.message
    [held] = load_media.judge("caller", {"mos_p5_min": 1.0}, summary, "here")
    assert held.status == PASSED and f"left out: {cut} (no BYE)" in held.message


def test_a_foreign_call_naming_a_load_address_takes_no_stream_away(run):
    """Seen for real on a shared machine: another program's call, captured because
    its SIP port fell in the load's media port range, named a media address of a
    load call in its SDP; the analysis linked that call's stream to the foreign
    call (the last SDP naming an address wins). The load's calls are judged by
    their own SDP and time, so the call stays two-way (the run's evidence, with
    that foreign call added)."""
    import copy
    wire = copy.deepcopy(run.wire)
    call = next(c for c in wire["calls"] if c["call_id"].startswith("5-"))
    caller_sdp = call["sdp"][0]["media"][0]
    stolen = f"{caller_sdp['address']}:{caller_sdp['port']}"
    for st in wire["rtp_streams"]:
        if st["dst"] == stolen or st["src"] == stolen:
            st["call_id"] = "foreign-call"
    wire["calls"].append({"call_id": "foreign-call", "messages": [], "status": 200,
                          "sdp": [{"from": "127.0.0.1:9", "kind": "offer", "media": [
                              dict(caller_sdp)]}]})
    summary = load_media.summarise("caller", _context(run, wire), 1.0)
    assert summary["two_way"] == CALLS - 3 and summary["one_way"] == 3
    assert all(not c["call_id"].startswith("5-") for c in summary["one_way_calls"])


def test_a_direction_the_capture_could_not_see_is_not_called_one_way(run):
    """A callee answering more calls than its reserved ports announces ports the
    capture does not listen to: its missing direction is unseen, not absent. With
    the callee's real range the silent callers' calls are one-way; with a range
    that leaves their ports out, they are calls not seen whole, named."""
    def ports(party):
        found = sorted(int(m["port"]) for c in run.wire["calls"] for s in c["sdp"]
                       for m in s["media"] if s["from"] in str(run.agents[party]["uri"]))
        return (found[0], found[-1])

    real = {"caller": ports("caller"), "uas": ports("uas")}
    summary = load_media.summarise("caller", _context(run, run.wire, real), 1.0)
    assert summary["one_way"] == 3 and summary["not_whole"] == 0
    narrow = dict(real, uas=(real["uas"][0], real["uas"][0] + 4 * 8))   # calls 1..9 only
    summary = load_media.summarise("caller", _context(run, run.wire, narrow), 1.0)
    assert summary["one_way"] == 0 and summary["two_way"] == CALLS - 3
    assert summary["not_whole"] == 3
    assert all("outside the captured ports" in c["missing"] for c in summary["not_whole_calls"])
