"""Derived views: address labels, wire clock alignment, DTMF timeline, log tails."""
from sipscen.report.html import render_html
from sipscen.report.views import (address_labels, dtmf_timeline, log_tail, norm_addr,
                                 uri_hostport, wire_offset)

EPOCH = 1795680319.0


def absolute(result):
    """The capture analysis gives epoch times; agents count from the run's start."""
    for call in result.wire["calls"]:
        for m in call["messages"]:
            m["time"] += EPOCH - 0.012          # the capture lags the board by 12 ms
    for e in result.wire["dtmf"]:
        e["time"] += EPOCH - 0.012
    result.events = [{"t": 0.1, "agent": "engine", "kind": "planned"},
                     {"t": 0.4, "agent": "alice", "kind": "call_state", "state": "CALLING"}]
    return result


def test_addresses_and_labels(results):
    assert uri_hostport("sip:bob@127.0.0.1:5072;transport=tcp") == "127.0.0.1:5072"
    assert uri_hostport("sips:alice@[::1]") == "[::1]:5061"
    assert uri_hostport("sip:[::1]:5070") == "[::1]:5070"
    assert norm_addr("::1:5060") == "[::1]:5060" and norm_addr("[::1]:5060") == "[::1]:5060"
    labels = address_labels(results[0])
    assert labels["127.0.0.1:5070"] == "alice" and labels["127.0.0.1:5072"] == "bob"
    assert labels["127.0.0.1:40010"] == "bob (rtp)"


def test_wire_times_aligned_on_the_run_clock(results):
    r = absolute(results[0])
    assert abs(wire_offset(r) - (EPOCH - 0.012 + 0.412 - 0.4)) < 1e-6
    wire = [row for row in dtmf_timeline(r) if row["where"] == "wire"]
    # the INVITE (0.412 after the capture's start) lands on CALLING at 0.4: everything shifts 12 ms
    assert [round(row["time"], 3) for row in wire] == [0.998, 1.198, 1.398, 1.598, 1.798]
    sent = [row["time"] for row in dtmf_timeline(r) if row["where"] == "sent"]
    assert all(abs(w - s) < 0.05 for w, s in zip([row["time"] for row in wire], sent))
    # relative capture times are left alone
    assert wire_offset(results[1]) == 0.0
    html = render_html([r])
    assert '<text class="time" x="6" y="' in html and ">0.400s</text>" in html
    assert str(int(EPOCH)) not in html.split("<pre")[0]      # no epoch times in the ladder/timeline


def test_lanes_follow_the_call_not_the_facts_order(results):
    r = results[0]
    r.agents = {"bob": r.agents["bob"], "alice": r.agents["alice"]}
    html = render_html([r])
    import re
    assert re.findall(r'<text class="lane-name"[^>]*>([^<]*)</text>', html) == ["alice", "bob"]


def test_log_tail_is_bounded(tmp_path):
    log = tmp_path / "x.log"
    log.write_text("".join(f"line {i}\n" for i in range(10000)))
    tail = log_tail(str(log), max_lines=5, max_bytes=200)
    assert tail.splitlines() == [f"line {i}" for i in range(9995, 10000)]
    assert log_tail(str(tmp_path / "missing.log")) is None
