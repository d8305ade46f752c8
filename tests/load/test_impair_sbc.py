"""Impairment on the SUT's media path under load (issue 19): ``impair: {loss: 5%}``
on the service whose media ports are rtpengine's drops that share of the packets
on their way into rtpengine (iptables INPUT, core/netfilter.py). Real Kamailio,
rtpengine, SIPp, tcpdump; tshark and the iptables counters cross-check.

The library scenario (scenarios/load/media-sbc-impaired-5pct.yaml) is run with
40 calls instead of 100 (2 s of calls at 20 calls/s, 3 s of media each)."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sipscen.core import descendants, netfilter, process
from sipscen.core.results import ERROR, FAILED, PASSED
from sipscen.engine import run as engine_run
from tests.sipp.conftest import SCENARIOS, by_name, needs_kamailio, needs_sipp, run_file

pytestmark = [pytest.mark.integration, needs_sipp, needs_kamailio,
              pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed"),
              pytest.mark.skipif(shutil.which("rtpengine") is None,
                                 reason="rtpengine not installed"),
              pytest.mark.skipif(os.geteuid() != 0 or shutil.which("iptables") is None,
                                 reason="impairment needs root and iptables")]

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = SCENARIOS / "load" / "media-sbc-impaired-5pct.yaml"
CALLS = 40
IMPAIR_LINE = "    impair: {loss: 5%}"
MEDIA_BOUNDS = {"load caller: MOS p5", "load caller: loss p95"}


def scenario_text(impair: bool = True, calls: int = CALLS) -> str:
    """The library scenario with ``calls`` calls, its relative paths made absolute."""
    text = LIBRARY.read_text()
    assert IMPAIR_LINE in text and "deliberately-failing" in text
    text = text.replace("${scenario_dir}/../..", str(ROOT))
    text = text.replace("audio/g711a-3s.pcap", str(SCENARIOS / "load" / "audio" / "g711a-3s.pcap"))
    text = re.sub(r"(calls|calls_min): 100\b", rf"\1: {calls}", text)
    # the jitter bound is not what this tests: SIPp's pcap timing on this shared 2-core
    # box reached 30.6 ms p95 without the rule at load average 5 (the library's 30 ms)
    text = text.replace("jitter_p95_max: 30ms", "jitter_p95_max: 60ms")
    if not impair:
        text = "\n".join(line for line in text.splitlines() if not line.startswith(IMPAIR_LINE))
    return text


def chains_of(pid: int) -> list[str]:
    """The sipscen chains of process ``pid`` in the table now (`iptables -S`)."""
    out = subprocess.run(["iptables", "-w", "5", "-S"], capture_output=True, text=True,
                         check=True).stdout
    return re.findall(rf"^-N (SIPSCEN-{pid}-\d+)$", out, re.M)


def jumps_to(chain_prefix: str) -> list[str]:
    out = subprocess.run(["iptables", "-w", "5", "-S", "INPUT"], capture_output=True,
                         text=True, check=True).stdout
    return [line for line in out.splitlines() if chain_prefix in line]


def tshark_streams(pcap: Path) -> list[dict]:
    """tshark's own RTP stream table (-z rtp,streams) of the capture."""
    out = subprocess.run(["tshark", "-r", str(pcap), "-q", "-z", "rtp,streams",
                          "--enable-heuristic", "rtp_udp"], capture_output=True, text=True,
                         check=True).stdout
    rows = []
    for m in re.finditer(r"^\s*[\d.]+\s+[\d.]+\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(0x[0-9A-Fa-f]+)"
                         r"\s+\S+\s+(\d+)\s+(-?\d+) \(", out, re.M):
        rows.append({"src": f"{m[1]}:{m[2]}", "dst": f"{m[3]}:{m[4]}", "sport": int(m[2]),
                     "dport": int(m[4]), "packets": int(m[6]), "lost": int(m[7])})
    return rows


@pytest.fixture(scope="module")
def impaired(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("impaired")
    path = tmp / "impaired.yaml"
    path.write_text(scenario_text())
    result = run_file(path, tmp)
    return result


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("clean")
    path = tmp / "clean.yaml"
    path.write_text(scenario_text(impair=False))
    return run_file(path, tmp)


def test_the_impaired_run_fails_exactly_its_media_bounds_and_names_the_relayed_legs(impaired):
    assert impaired.status == FAILED, impaired.error
    failed = {c.name for c in impaired.checks if c.status == FAILED}
    assert failed == MEDIA_BOUNDS, failed
    checks = by_name(impaired.checks)
    for name in MEDIA_BOUNDS:
        msg = checks[name].message
        # the worst calls are named on the legs rtpengine sends (the far party's), and
        # the report says the media path was impaired on purpose, with the counts
        assert re.search(r"worst: \S+@127\.0\.0\.1 sut->(bob|caller) ", msg), msg
        assert "media path impaired on purpose (loss into sut 5%" in msg, msg
    summary = impaired.load["caller"]
    assert summary["calls"] == CALLS and summary["two_way"] == CALLS
    for d in summary["worst"] + summary["worst_loss"]:
        assert d["direction"] in ("sut->bob", "sut->caller") and d["loss"] > 0, d
    imp = impaired.services["sut"]["impair"]
    # 100 packets a leg; a callee's last ones may be cut by the caller's BYE (seen: 7,999)
    assert imp["loss_pct"] == 5.0 and 0.95 * CALLS * 2 * 100 <= imp["packets"] <= CALLS * 2 * 100
    assert 0.02 < imp["dropped"] / imp["packets"] < 0.08, imp
    assert "--mode random --probability 0.050000 -j DROP" in imp["rule"]
    said = [e for e in impaired.events if e["kind"] == "media_impaired"]   # live, and kept
    assert [(e["agent"], e["loss"], e["chain"]) for e in said] == \
        [("sut", "5%", imp["chain"])], said
    assert chains_of(os.getpid()) == []
    # the chart's series: the MOS falls in every interval with media (of 10 calls or
    # more: a tail interval of one call may have had the luck of no drop), not on average
    rows = [r for r in summary["series"] if r["mos_p5"] is not None and
            r["calls_per_s"] * summary["interval_s"] >= 10]
    assert rows and all(r["mos_p5"] < 4.0 and r["loss_p95"] > 0.01 for r in rows), rows


def test_judged_again_from_its_evidence_it_still_says_so(impaired, sipscen, tmp_path):
    code, out, err = sipscen("judge", impaired.artifacts["dir"], "--json", tmp_path / "j.json",
                             "--html", tmp_path / "j.html")
    assert code == 1, (out, err)
    page = (tmp_path / "j.html").read_text()        # the chart of the MOS per interval
    assert "MOS per interval (E-model)" in page and "media path impaired on purpose" in page
    scenario = json.loads((tmp_path / "j.json").read_text())["scenarios"][0]
    failed = {c["name"]: c for c in scenario["checks"] if c["status"] == "failed"}
    assert set(failed) == MEDIA_BOUNDS, failed
    assert all("media path impaired on purpose (loss into sut 5%" in c["message"]
               for c in failed.values())


def test_without_the_impairment_the_same_run_passes(clean):
    assert clean.status == PASSED, (clean.error, [c.to_dict() for c in clean.failed_checks])
    assert "impair" not in clean.services["sut"]
    assert clean.load["caller"]["histograms"]["loss"] == {"0": CALLS * 2}
    rows = [r for r in clean.load["caller"]["series"] if r["mos_p5"] is not None]
    assert rows and all(r["mos_p5"] >= 4.3 and r["loss_p95"] == 0 for r in rows), rows


def test_loss_per_stream_agrees_with_tshark_and_the_iptables_counters(impaired):
    """Every packet into rtpengine's ports is in the capture (the drop comes after
    the capture point); rtpengine relays what it got, sequence numbers kept:
    packets in minus packets out is exactly what iptables dropped, the legs into
    rtpengine are whole, and each outgoing leg's loss (from its sequence gaps) is
    the same in sipscen's analysis and in tshark's."""
    imp = impaired.services["sut"]["impair"]
    low, high = imp["ports"]
    pcap = Path(impaired.artifacts["dir"]) / "capture.pcap"
    parties = [range(lo, hi + 1) for lo, hi in imp["from_ports"]]
    streams = [s for s in tshark_streams(pcap)            # the run's own (the machine is
               if any(s["sport"] in r or s["dport"] in r for r in parties)]   # shared)
    into = [s for s in streams if low <= s["dport"] <= high]
    out = [s for s in streams if low <= s["sport"] <= high]
    # every call's two legs into rtpengine and two out of it (a stray short stream
    # between the run's ports, seen twice in some 30 runs and not explained yet, is
    # named in the message and counted in the sums, as iptables counts its packets)
    legs_in = [s for s in into if s["packets"] >= 50]
    legs_out = [s for s in out if s["packets"] >= 50]
    stray = [s for s in into + out if s["packets"] < 50]
    assert len(legs_in) == len(legs_out) == CALLS * 2, (len(legs_in), len(legs_out), stray)
    assert all(s["lost"] == 0 for s in into)
    assert sum(s["packets"] for s in into) == imp["packets"]
    # in - out is what iptables dropped; on this shared machine another program may
    # use a port of rtpengine's range (seen: 1 run in 10), and the kernel may give it a
    # packet meant for rtpengine: at most one such packet per foreign packet seen there
    foreign = _foreign_packets(pcap, low, high, parties)
    missing = sum(s["packets"] for s in into) - sum(s["packets"] for s in out)
    assert imp["dropped"] <= missing <= imp["dropped"] + foreign, (missing, imp, foreign)
    # a drop at a stream's first or last packet leaves no gap to see: at most two a leg
    seen = sum(s["lost"] for s in out)
    assert imp["dropped"] - 2 * len(out) <= seen <= imp["dropped"], (seen, imp)
    wire = _evidence(impaired)["wire"]["rtp_streams"]
    ours = {(s["src"], s["dst"]): s["lost"] for s in wire}
    for s in out:
        assert ours[(s["src"], s["dst"])] == s["lost"], s


def _foreign_packets(pcap: Path, low: int, high: int, parties: list[range]) -> int:
    """Packets between a port of the range and a port of no party of the run."""
    out = subprocess.run(["tshark", "-r", str(pcap), "-Y",
                          f"(udp.srcport >= {low} and udp.srcport <= {high}) or "
                          f"(udp.dstport >= {low} and udp.dstport <= {high})", "-T", "fields",
                          "-e", "udp.srcport", "-e", "udp.dstport"],
                         capture_output=True, text=True, check=True).stdout
    count = 0
    for line in out.splitlines():
        src, dst = (int(v) for v in line.split())
        other = dst if low <= src <= high else src
        count += not any(other in r for r in parties) and not low <= other <= high
    return count


def _evidence(result) -> dict:
    return json.loads((Path(result.artifacts["dir"]) / "evidence.json").read_text())


def test_no_rule_is_left_after_an_exception_in_the_middle(tmp_path, monkeypatch):
    seen: list[list[str]] = []

    def broken(self):
        seen.append(chains_of(os.getpid()))
        raise RuntimeError("broken in the middle")
    monkeypatch.setattr(engine_run._Run, "run_agents", broken)
    path = tmp_path / "s.yaml"
    path.write_text(scenario_text(calls=5))
    result = run_file(path, tmp_path)
    assert result.status == ERROR and "broken in the middle" in result.error
    assert len(seen) == 1 and len(seen[0]) == 1, seen      # it was installed
    assert chains_of(os.getpid()) == [] and jumps_to(seen[0][0]) == []


def _start_cli(tmp_path) -> subprocess.Popen:
    path = tmp_path / "s.yaml"
    path.write_text(scenario_text(calls=100))        # 5 s of calls: signalled after 2 s
    return subprocess.Popen([sys.executable, "-m", "sipscen", "run", path, "--artifacts",
                             tmp_path / "art", "--json", tmp_path / "r.json"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=ROOT)


def _wait_for_chain(proc: subprocess.Popen) -> str:
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline and proc.poll() is None:
        chains = chains_of(proc.pid)
        if chains:
            return chains[0]
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"no chain of {proc.pid}: {proc.communicate()[0]}")


def test_no_rule_is_left_after_sigint(tmp_path):
    proc = _start_cli(tmp_path)
    chain = _wait_for_chain(proc)
    time.sleep(2.0)                     # calls are up, packets being dropped
    proc.send_signal(signal.SIGINT)
    out = proc.communicate(timeout=60)[0]
    assert proc.returncode == 130, out
    assert chains_of(proc.pid) == [] and jumps_to(chain) == []


def test_no_rule_is_left_after_sigkill_the_watchdog_removes_it(tmp_path):
    proc = _start_cli(tmp_path)
    chain = _wait_for_chain(proc)
    proc.kill()
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 15.0
    while chains_of(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    _reap_orphans()
    assert chains_of(proc.pid) == [] and jumps_to(chain) == []


def _reap_orphans(within: float = 10.0) -> None:
    """The killed sipscen's children were reparented to this process (a subreaper
    since the in-process runs) and killed by its watchdog: collect their exits, so
    the next tests find no zombie of ours."""
    tools = {"kamailio", "rtpengine", "sipp", "tcpdump"}
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        left = []
        for pid in descendants.children() - process._popen_pids():
            try:
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
            except OSError:
                continue
            if comm in tools:
                left.append(pid)
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
        if not left:
            return
        time.sleep(0.05)


def test_a_dead_runs_chain_is_removed_by_the_next_install():
    """A chain whose sipscen is gone (killed with its watchdog) goes at the next
    install: a real chain named after a pid that no process has."""
    pid = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1 + os.getpid() % 1000  # never alive
    stale = f"SIPSCEN-{pid}-1"
    subprocess.run(["iptables", "-w", "5", "-N", stale], check=True)
    subprocess.run(["iptables", "-w", "5", "-I", "INPUT", "1", "-j", stale], check=True)
    try:
        assert chains_of(pid) == [stale]
        assert stale in netfilter.remove_stale(shutil.which("iptables"))
        assert chains_of(pid) == [] and jumps_to(stale) == []
    finally:
        for argv in (["-D", "INPUT", "-j", stale], ["-X", stale]):
            subprocess.run(["iptables", "-w", "5", *argv], capture_output=True)


def test_without_root_or_iptables_the_run_says_why_and_exits_2(tmp_path, monkeypatch):
    path = tmp_path / "s.yaml"
    path.write_text(scenario_text(calls=5))
    monkeypatch.setattr(netfilter.os, "geteuid", lambda: 1000)
    result = run_file(path, tmp_path)
    assert result.status == ERROR and result.exit_status == 2, result.error
    assert re.search(r"s\.yaml:\d+:\d+: services\.sut\.impair: .*needs root", result.error)
    monkeypatch.undo()
    monkeypatch.setattr(netfilter.shutil, "which", lambda name: None)
    result = run_file(path, tmp_path)
    assert result.status == ERROR and result.exit_status == 2, result.error
    assert "'iptables' not found on PATH" in result.error, result.error


BAD = {
    "    impair: {loss: 150%}": ("services.sut.impair.loss: not a percentage: '150%'",),
    "    impair: {loss: -1}": ("not a percentage",),
    "    impair: {}": ("loss",),
    "    impair: {loss: 5%, delay: 20ms}": ("delay",),
}


@pytest.mark.parametrize("line", list(BAD))
def test_bad_impairment_is_said_at_its_place(tmp_path, sipscen, line):
    text = scenario_text().replace(IMPAIR_LINE, line)
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    code, out, err = sipscen("validate", path)
    row = 1 + text.splitlines().index(next(x for x in text.splitlines() if x.startswith(line)))
    assert code == 2, (out, err)
    assert f"{path}:{row}:" in err and all(w in err for w in BAD[line]), err
    assert "Traceback" not in err


def test_an_impaired_service_needs_media_ports(tmp_path, sipscen):
    text = scenario_text().replace("    media_ports: 1000", "    # no media ports")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    code, out, err = sipscen("validate", path)
    row = 1 + text.splitlines().index(IMPAIR_LINE + next(
        x for x in text.splitlines() if x.startswith(IMPAIR_LINE))[len(IMPAIR_LINE):])
    assert code == 2, (out, err)
    assert f"{path}:{row}:5: services.sut.impair: drops packets on their way into the " \
           "service's media ports: give media_ports" in err, err


def test_a_kubernetes_service_cannot_be_impaired_here(tmp_path, sipscen):
    path = tmp_path / "bad.yaml"
    path.write_text("name: kube-impair\nservices:\n  sut:\n    kube: {name: sbc, port: sip}\n"
                    "    media_ports: [20000, 20099]\n    impair: {loss: 5%}\n"
                    "agents:\n  a: {type: sipp, scenario: uas, calls: 1}\n")
    code, out, err = sipscen("validate", path)
    assert code == 2, (out, err)
    assert f"{path}:6:5: services.sut.impair: drops packets in this machine's kernel" in err, err
