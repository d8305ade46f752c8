"""The HTML report's content: self-contained, escaped, redacted, ladder with one arrow per message."""
import re
from html.parser import HTMLParser

from sipscen.report.html import payload_names, render_html, write_html


class Collector(HTMLParser):
    """Tags with attributes, and every external reference (src/href to a network)."""

    def __init__(self):
        super().__init__()
        self.tags = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Collector:
    c = Collector()
    c.feed(html)
    return c


def scenario_tags(c: Collector, sid_prefix: str):
    return [(t, a) for t, a in c.tags if t == "g" and "msg" in a.get("class", "")
            and a.get("data-raw", "").startswith(sid_prefix)]


def test_html_structure_and_ladder(results, tmp_path):
    path = write_html(results, tmp_path / "report" / "r.html")
    html = path.read_text()
    c = parse(html)
    # self-contained: no external resources
    for tag, attrs in c.tags:
        assert tag not in ("link", "img", "iframe"), tag
        if tag == "script":
            assert "src" not in attrs
    assert not re.search(r"https?://", html)
    assert "Content-Security-Policy" in html

    # one ladder per scenario with a capture, one arrow per SIP message
    ladders = [a for t, a in c.tags if t == "svg" and a.get("class") == "ladder"]
    assert len(ladders) == 2
    assert len(scenario_tags(c, "s0-")) == 7 and len(scenario_tags(c, "s1-")) == 7
    assert not scenario_tags(c, "s2-")
    lanes = re.findall(r'<text class="lane-name"[^>]*>([^<]*)</text>', html)
    assert lanes[:2] == ["alice", "bob"]
    summaries = re.findall(r'<text class="summary"[^>]*>([^<]*)</text>', html)[:7]
    assert summaries == ["INVITE sip:bob@127.0.0.1:5072", "100 Trying", "180 Ringing", "200 OK",
                         "ACK", "BYE", "200 OK"]
    # the arrows go the right way: INVITE alice -> bob, 200 OK bob -> alice
    arrows = re.findall(r'<line class="arrow" x1="(\d+)" y1="\d+" x2="(\d+)"', html)
    assert int(arrows[0][0]) < int(arrows[0][1]) and int(arrows[3][0]) > int(arrows[3][1])

    # every message is there whole (escaped), the one without raw says so
    raws = [a for t, a in c.tags if t == "pre" and a.get("class") == "raw"]
    assert len(raws) == 14
    assert "Content-Type: application/sdp" in html and "a=crypto:1 AES_CM_128_HMAC_SHA1_80" in html
    assert "the whole message was not captured" in html


def test_html_checks_streams_dtmf_artifacts(results, tmp_path):
    path = write_html(results, tmp_path / "out" / "r.html")
    html = path.read_text()
    failed_rows = re.findall(r'<tr class="check failed">(.*?)</tr>', html)
    assert len(failed_rows) == 2
    assert all('<td class="mono expected">1235#</td>' in r and '<td class="mono actual">1234#</td>' in r
               for r in failed_rows)                  # values for people: no repr quotes
    assert "examples/wrong_digits.sipscen.yaml:43:5" in failed_rows[0]
    assert "8 (PCMA), 101 (telephone-event)" in html
    assert "AES_CM_128_HMAC_SHA1_80 (authenticated" in html
    sections = re.findall(r'<section class="scenario (\w+)" id="([^"]+)"', html)
    assert sections == [("failed", "s1-demo-wrong-digits"), ("error", "s2-broken-file"),
                        ("passed", "s0-demo-srtp-dtmf")]          # what broke comes first
    assert html.count('<tr class="dtmf wire">') == 10 and html.count('<tr class="dtmf received">') == 10
    assert "alice (rtp) -&gt; bob (rtp)" in html
    assert "steps[2].dtmf.method" in html
    # artifact links relative to the report's folder
    hrefs = [a["href"] for t, a in parse(html).tags if t == "a" and "capture.pcap" in a.get("href", "")]
    assert hrefs and all(h.startswith("../artifacts/") for h in hrefs)
    assert (path.parent / hrefs[0]).resolve().exists()


def test_html_escapes_everything(results):
    results[0].description = "<script>alert(1)</script>"
    results[0].wire["calls"][0]["messages"][0]["summary"] = "INVITE <sip:x@y>"
    results[0].checks[0].actual = "<b>bold</b>"
    html = render_html(results)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "INVITE &lt;sip:x@y&gt;" in html and "<b>bold</b>" not in html
    assert html.count("<script>") == 1          # only the report's own script
    assert "Alice calls Bob over SRTP &lt;PCMA&gt; &amp; DTMF" in html


def test_html_is_redacted(results, secret):
    html = render_html(results)
    assert secret not in html
    assert "X-Debug: password=***" in html               # inside a raw SIP message
    assert "(password ***)" in html                      # in the error text
    assert "&#34;password&#34;: &#34;***&#34;" in html   # in bob's facts


def test_payload_names_from_sdp(results):
    names = payload_names(results[0])
    assert names[8] == "PCMA" and names[101] == "telephone-event" and names[0] == "PCMU"


def test_sipp_agent_facts_are_summarised(results):
    r = results[0]
    r.agents["uac"] = {
        "type": "sipp", "uri": "sip:uac@127.0.0.1:5090", "side": "uac", "exit_code": 0,
        "stats": {"available": True, "attempted": 10, "successful": 9, "failed": 1,
                  "failed_by_reason": {"UnexpectedMsg": 1}, "call_rate": 4.5,
                  "response_time_ms": {"p50": 12.0, "p95": 30.5}},
        "responses": [{"index": 0, "probe": None, "sent": "OPTIONS sip:sut@127.0.0.1 SIP/2.0",
                       "was_sent": True, "expected": {"status": 200},
                       "received": {"status": 200, "reason": "OK", "headers": {}},
                       "provisional": [100]}],
        "calls": [], "errors": ["<xml> unexpected message 486"]}
    html = render_html([r])
    assert "attempted=10, successful=9, failed=1" in html
    assert "response time (ms): p50=12.0, p95=30.5" in html
    assert "OPTIONS sip:sut@127.0.0.1 SIP/2.0 -&gt; 100, 200 OK" in html
    assert "&lt;xml&gt; unexpected message 486" in html


def test_ladder_with_a_proxy_ipv6_and_two_calls(results):
    """alice -> SUT proxy -> bob on ::1; the proxy is labelled from the engine's planned contacts."""
    r = results[0]
    A, P, B = "[::1]:5070", "[::1]:5060", "[::1]:5072"
    r.agents["alice"]["uri"] = "sip:alice@[::1]:5070"
    r.agents["bob"]["uri"] = "sip:bob@[::1]:5072"
    r.events = [{"t": 0.1, "agent": "engine", "kind": "planned",
                 "contacts": {"alice": "sip:alice@[::1]:5070", "sut": "sip:[::1]:5060",
                              "bob": "sip:bob@[::1]:5072"}}]
    msgs = lambda cid, t0: [  # noqa: E731
        {"time": t0, "src": "::1:5070", "dst": "::1:5060", "summary": "INVITE sip:bob@sut"},
        {"time": t0 + 0.01, "src": "::1:5060", "dst": "::1:5072", "summary": "INVITE sip:bob@sut"},
        {"time": t0 + 0.02, "src": "::1:5072", "dst": "::1:5060", "summary": "486 Busy Here"},
        {"time": t0 + 0.03, "src": "::1:5060", "dst": "::1:5070", "summary": "486 Busy Here"}]
    r.wire = {"calls": [{"call_id": "first@x", "messages": msgs("first@x", 1.0)},
                        {"call_id": "second@x", "messages": msgs("second@x", 0.5)}],
              "rtp_streams": [], "dtmf": []}
    html = render_html([r])
    lanes = re.findall(r'<text class="lane-name"[^>]*>([^<]*)</text>', html)
    addrs = re.findall(r'<text class="lane-addr"[^>]*>([^<]*)</text>', html)
    assert lanes == ["alice", "sut", "bob"] and addrs == [A, P, B]
    assert len(re.findall(r'<g class="msg ', html)) == 8
    times = re.findall(r'<text class="time"[^>]*>([^<]*)</text>', html)
    assert times == sorted(times)                       # both calls merged in time order
    assert html.count('class="msg r3xx"') == 4
    assert "Call-ID second@x" in html.split('<p class="legend">')[1]


def test_a_load_runs_thousands_of_messages_and_streams_are_capped(results):
    """The ladder draws the first MAX_ARROWS messages and says how many there were;
    the streams table its first MAX_STREAM_ROWS (the page of a load run stays small)."""
    from sipscen.report.html import MAX_STREAM_ROWS
    from sipscen.report.html_ladder import MAX_ARROWS
    r = results[0]
    call = r.wire["calls"][0]
    call["messages"] = [dict(call["messages"][i % 7], time=1.0 + i * 0.01) for i in range(1000)]
    r.wire["rtp_streams"] = [dict(r.wire["rtp_streams"][0], ssrc=f"0x{i:08x}") for i in range(700)]
    html = render_html([r])
    assert html.count('<g class="msg ') == MAX_ARROWS
    assert f"the first {MAX_ARROWS} of 1000 SIP messages" in html
    assert f"(the first {MAX_STREAM_ROWS} of 700)" in html
    assert html.count('<pre id="s0-') == MAX_ARROWS
    # negative control: a small call flow says its own count, no "first ... of"
    assert "the first" not in render_html([results[1]])
