"""The console view: checks with expected/actual, no escape codes off a terminal."""
import io
import re

from rich.console import Console

from sipscen.core.events import Event, EventBoard
from sipscen.report.console import LiveProgress, make_console, render_results

ANSI = re.compile(r"\x1b\[")


def plain_console():
    buf = io.StringIO()
    return buf, make_console(buf)          # a StringIO is not a terminal


def test_render_results_on_a_non_terminal(results, secret):
    buf, console = plain_console()
    render_results(results, console)
    out = buf.getvalue()
    assert not ANSI.search(out), "escape codes in a CI log"
    assert "PASS demo-srtp-dtmf" in out and "FAIL demo-wrong-digits" in out
    assert "ERROR broken-file" in out
    line = next(l for l in out.splitlines() if "dtmf alice->bob (wire)" in l and "FAIL" in l)
    assert re.search(r"\| 1235# +\| 1234# +\|", line)           # for people: no repr quotes
    assert "examples/wrong_digits.sipscen.yaml:43:5" in out
    assert "steps[2].dtmf.method" in out
    assert "artifacts: " in out and "demo-srtp-dtmf" in out
    assert out.rstrip().splitlines()[-1].startswith("ERROR 3 scenarios: 1 passed, 1 failed, 1 error")
    assert secret not in out and "password ***" in out


def test_render_results_colours_on_a_terminal(results):
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, color_system="standard", width=140)
    render_results(results[:2], console)
    out = buf.getvalue()
    assert ANSI.search(out)
    assert "1235#" in out


def test_markup_in_user_data_is_not_interpreted(results):
    buf, console = plain_console()
    results[0].name = "[bold]weird[/bold] name"
    render_results(results[:1], console)
    assert "[bold]weird[/bold] name" in buf.getvalue()


def test_live_progress_prints_events(secret):
    buf, console = plain_console()
    board = EventBoard()
    board.add_listener(LiveProgress(console).bind("demo", secrets=[secret]))
    board.post("engine", "scenario_start", name="demo")
    board.post("alice", "call_state", state="CONFIRMED", code=200, reason="OK", call_id="x")
    board.post("bob", "media", state="active", codec="PCMA", srtp={"suite": "AES_CM_128_HMAC_SHA1_80"})
    board.post("bob", "dtmf", digit="5", method="rfc4733")
    board.post("alice", "signal", name="done")
    board.post("alice", "step", index=3, step="dtmf", status="done")
    board.post("bob", "custom", note=f"uses {secret}")
    board.post("engine", "scenario_end", name="demo", status="failed")
    lines = buf.getvalue().splitlines()
    assert len(lines) == 8
    assert all("[demo]" in l for l in lines)
    assert "call CONFIRMED 200 OK" in lines[1]
    assert "codec=PCMA" in lines[2] and "srtp=AES_CM_128_HMAC_SHA1_80" in lines[2]
    assert "DTMF received 5 (rfc4733)" in lines[3]
    assert "signal done" in lines[4] and "step 3 dtmf done" in lines[5]
    assert "uses ***" in lines[6] and secret not in buf.getvalue()
    assert "failed" in lines[7]
    assert not ANSI.search(buf.getvalue())


def test_live_progress_step_kind_in_data():
    """The contract names the step's kind 'kind' in the data; an Event built directly has it."""
    buf, console = plain_console()
    LiveProgress(console)(Event(1.5, "alice", "step", {"index": 2, "kind": "call", "status": "failed",
                                                        "message": "no answer"}))
    assert "step 2 call failed - no answer" in buf.getvalue()


def test_live_progress_engine_events():
    buf, console = plain_console()
    progress = LiveProgress(console)
    board = EventBoard()
    board.add_listener(progress)
    board.post("engine", "scenario_started", name="demo", file="examples/demo.yaml")
    board.post("engine", "planned", contacts={"alice": "sip:alice@127.0.0.1:5070"})
    board.post("engine", "capture_started", path="/tmp/a/capture.pcap")
    board.post("engine", "agents_ready", names=["bob", "alice"])
    board.post("alice", "failed", message="wait media_active timed out")
    board.post("engine", "scenario_finished", name="demo", status="failed")
    lines = buf.getvalue().splitlines()
    assert "scenario demo started (examples/demo.yaml)" in lines[0]
    assert "alice=sip:alice@127.0.0.1:5070" in lines[1]
    assert "capture started -> /tmp/a/capture.pcap" in lines[2]
    assert "agents ready: bob, alice" in lines[3]
    assert "failed: wait media_active timed out" in lines[4]
    LiveProgress(console)(Event(2.0, "alice", "dtmf_sent", {"digit": "#", "method": "sip-info"}))
    assert "DTMF sent # (sip-info)" in buf.getvalue()
    assert "scenario demo failed" in lines[5]


def test_only_status_lines_for_passed_scenarios_on_request(results):
    buf, console = plain_console()
    render_results(results, console, show_passed=False)
    out = buf.getvalue()
    assert "PASS demo-srtp-dtmf" in out
    assert "examples/demo.sipscen.yaml:40:5" not in out          # its checks are not listed
    assert "examples/wrong_digits.sipscen.yaml:43:5" in out      # the failed one's are
