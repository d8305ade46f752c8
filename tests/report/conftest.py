"""Realistic ScenarioResult objects for the report tests.

Three scenarios: the SRTP+DTMF demo that passed, the same call where the
expected digits were '1235#' but '1234#' arrived (failed), and an invalid file
(error). Bob's password is a secret and leaks into his facts, a SIP message,
an error text and his log file: every report must mask it.
"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from sipscen.core.results import CheckResult, ScenarioResult

SECRET = "Sup3r-S3cret-pw"
ALICE = "127.0.0.1:5070"
BOB = "127.0.0.1:5072"
ALICE_RTP = "127.0.0.1:40000"
BOB_RTP = "127.0.0.1:40010"
CALL_ID = "3c2a1f0e-demo@127.0.0.1"
SUITE = "AES_CM_128_HMAC_SHA1_80"


def sdp(port: int, pt: int = 8, codec: str = "PCMA") -> str:
    return (f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=pjmedia\r\nc=IN IP4 127.0.0.1\r\n"
            f"t=0 0\r\nm=audio {port} RTP/SAVP {pt} 101\r\na=rtpmap:{pt} {codec}/8000\r\n"
            f"a=rtpmap:101 telephone-event/8000\r\n"
            f"a=crypto:1 {SUITE} inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n")


def sip(first: str, src: str, dst: str, cseq: str, body: str = "", extra: str = "") -> str:
    head = (f"{first}\r\nVia: SIP/2.0/UDP {src};branch=z9hG4bK-1\r\n"
            f"From: <sip:alice@{ALICE}>;tag=a1\r\nTo: <sip:bob@{BOB}>\r\n"
            f"Call-ID: {CALL_ID}\r\nCSeq: {cseq}\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head + body


def ladder_messages() -> list[dict]:
    m = []
    t = 0.412

    def add(src, dst, summary, raw):
        nonlocal t
        m.append({"time": round(t, 6), "src": src, "dst": dst, "summary": summary, "raw": raw})
        t += 0.031

    add(ALICE, BOB, "INVITE sip:bob@127.0.0.1:5072",
        sip(f"INVITE sip:bob@{BOB} SIP/2.0", ALICE, BOB, "1 INVITE", sdp(40000),
            "Content-Type: application/sdp\r\n"))
    add(BOB, ALICE, "100 Trying", sip("SIP/2.0 100 Trying", ALICE, BOB, "1 INVITE"))
    add(BOB, ALICE, "180 Ringing", sip("SIP/2.0 180 Ringing", ALICE, BOB, "1 INVITE"))
    add(BOB, ALICE, "200 OK", sip("SIP/2.0 200 OK", ALICE, BOB, "1 INVITE", sdp(40010),
                                  "Content-Type: application/sdp\r\n"))
    add(ALICE, BOB, "ACK", sip(f"ACK sip:bob@{BOB} SIP/2.0", ALICE, BOB, "1 ACK"))
    add(ALICE, BOB, "BYE", sip(f"BYE sip:bob@{BOB} SIP/2.0", ALICE, BOB, "2 BYE",
                               extra=f"X-Debug: password={SECRET}\r\n"))
    add(BOB, ALICE, "200 OK", sip("SIP/2.0 200 OK", ALICE, BOB, "2 BYE"))
    # no raw on the last one: the contract says raw may be absent
    del m[-1]["raw"]
    return m


def agent_facts(digits_at_bob: str = "1234#") -> dict:
    def call(direction, remote, local_port, remote_port):
        return {"direction": direction, "call_id": CALL_ID, "remote_uri": remote,
                "status_code": 200, "reason": "OK", "answered": True,
                "confirmed_at": 0.55, "disconnected_at": 3.1, "duration": 2.55,
                "codec": "PCMA", "clock_rate": 8000, "payload_type": 8,
                "srtp": {"active": True, "suite": SUITE},
                "local_sdp": sdp(local_port), "remote_sdp": sdp(remote_port),
                "rtp": {"tx_packets": 120, "rx_packets": 118, "rx_lost": 2,
                        "rx_jitter_ms": 0.4}}
    sent = [{"digit": d, "method": "rfc4733", "t": 1.0 + 0.2 * i} for i, d in enumerate("1234#")]
    received = [{"digit": d, "method": "rfc4733", "t": 1.05 + 0.2 * i, "duration_ms": 100}
                for i, d in enumerate(digits_at_bob)]
    return {
        "alice": {"type": "pjsua", "uri": f"sip:alice@{ALICE}",
                  "calls": [call("outgoing", f"sip:bob@{BOB}", 40000, 40010)],
                  "dtmf_sent": sent, "dtmf_received": []},
        "bob": {"type": "pjsua", "uri": f"sip:bob@{BOB}",
                "account": {"user": "bob", "password": SECRET},
                "calls": [call("incoming", f"sip:alice@{ALICE}", 40010, 40000)],
                "dtmf_sent": [], "dtmf_received": received},
    }


def wire(digits: str = "1234#") -> dict:
    srtp = {"suite": SUITE, "key_source": "sdp", "authenticated": True, "auth_failed": 0}
    return {
        "packets": 260, "warnings": [],
        "calls": [{"call_id": CALL_ID, "messages": ladder_messages()}],
        "rtp_streams": [
            {"ssrc": "0x11223344", "src": ALICE_RTP, "dst": BOB_RTP, "payload_types": [8, 101],
             "packets": 125, "lost": 0, "jitter_ms": 0.31, "call_id": CALL_ID, "srtp": srtp},
            {"ssrc": "0x55667788", "src": BOB_RTP, "dst": ALICE_RTP, "payload_types": [8],
             "packets": 118, "lost": 2, "jitter_ms": 0.52, "call_id": CALL_ID, "srtp": srtp},
        ],
        "dtmf": [{"digit": d, "method": "rfc4733", "time": 1.01 + 0.2 * i, "duration_ms": 100,
                  "volume": 10, "ssrc": "0x11223344", "src": ALICE_RTP, "dst": BOB_RTP,
                  "payload_type": 101, "call_id": CALL_ID} for i, d in enumerate(digits)],
    }


def checks(expected_digits: str, file: str) -> list[CheckResult]:
    ok = expected_digits == "1234#"
    return [
        CheckResult("call alice->bob", "passed", {"answered": True, "status": 200},
                    {"answered": True, "status": 200}, "", f"{file}:40:5"),
        CheckResult("codec alice<->bob", "passed", "PCMA", "PCMA", "", f"{file}:41:5"),
        CheckResult("srtp alice<->bob", "passed", "SRTP", SUITE, "", f"{file}:42:5"),
        CheckResult("dtmf alice->bob (agent)", "passed" if ok else "failed", expected_digits,
                    "1234#", "" if ok else "digits differ at bob", f"{file}:43:5"),
        CheckResult("dtmf alice->bob (wire)", "passed" if ok else "failed", expected_digits,
                    "1234#", "" if ok else "digits differ on the wire", f"{file}:43:5"),
    ]


@pytest.fixture
def artifacts_dir(tmp_path: Path) -> Path:
    d = tmp_path / "artifacts"
    return d


def make_results(root: Path) -> list[ScenarioResult]:
    results = []
    for name, digits, stem in (("demo-srtp-dtmf", "1234#", "demo"),
                               ("demo-wrong-digits", "1235#", "wrong_digits")):
        file = f"examples/{stem}.sipscen.yaml"
        art = root / "artifacts" / name
        art.mkdir(parents=True, exist_ok=True)
        (art / "capture.pcap").write_bytes(b"\xd4\xc3\xb2\xa1" + b"\0" * 20)
        (art / "alice.log").write_text(
            "".join(f"alice line {i}\n" for i in range(200)) + "alice: call DISCONNECTED\n")
        (art / "bob.log").write_text(f"bob starting\nbob: registering with password {SECRET}\n"
                                     "bob: <dtmf> 1 2 3 4 # & done\n")
        results.append(ScenarioResult(
            name=name, file=file, status="passed" if digits == "1234#" else "failed",
            duration=3.42, checks=checks(digits, file), error=None,
            agents=agent_facts(), wire=wire(),
            artifacts={"pcap": str(art / "capture.pcap"), "alice.log": str(art / "alice.log"),
                       "bob.log": str(art / "bob.log")},
            events=[{"t": 0.4, "agent": "alice", "kind": "call_state", "state": "CALLING"}],
            tags=["demo", "srtp", "dtmf"], description="Alice calls Bob over SRTP <PCMA> & DTMF",
            location=f"{file}:1:1", scripted_wait=1.5, secrets=[SECRET]))
    results.append(ScenarioResult(
        name="broken-file", file="examples/broken.sipscen.yaml", status="error", duration=0.01,
        error=f"examples/broken.sipscen.yaml:7:9: agents.alice.steps[2].dtmf.method: "
              f"'rfc2833' is not one of ['rfc4733', 'sip-info'] (password {SECRET})",
        location="examples/broken.sipscen.yaml:7:9", tags=["broken"], secrets=[SECRET]))
    return results


@pytest.fixture
def results(tmp_path: Path) -> list[ScenarioResult]:
    return make_results(tmp_path)


@pytest.fixture
def secret() -> str:
    return SECRET


@pytest.fixture
def fresh(results):
    """A deep copy factory, for tests that mutate results."""
    return lambda: copy.deepcopy(results)


# ---------------------------------------------------------------- a real browser
CHROMIUM_PATH = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (its driver ships in the wheel;
    no browser is downloaded), one per session: pages are cheap, launches are not."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM_PATH, timeout=60_000,
                              args=["--no-sandbox", "--disable-gpu", "--disable-quic",
                                    "--disable-background-networking", "--no-first-run"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    """A fresh page that records every dialog (alert/confirm/prompt) and every request
    that would leave file: and data: URLs (a self-contained page makes none)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.dialogs, pg.requests = [], []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.on("request", lambda r: pg.requests.append(r.url)
          if not r.url.startswith(("file:", "data:")) else None)
    try:
        yield pg
    finally:
        context.close()


# ---------------------------------------------------------------- a load time series
INTERVALS = 12


def load_series(gap_at: int | None = 5, seed: int = 7) -> list[dict]:
    """Like a 2-minute run at 20 calls/s whose MOS falls (the result JSON's ``load``
    shape): the calls ramp up to 200 concurrent, a few fail, one interval
    (``gap_at``) had no stream to judge."""
    import random
    rnd = random.Random(seed)
    rows = []
    for i in range(INTERVALS):
        rows.append({"t": i * 10.0, "calls_per_s": round(20 + rnd.uniform(-2.5, 2.5), 1),
                     "concurrent": min(i * 40, 200), "failed": rnd.choice([0, 0, 0, 1, 3]),
                     "mos_p5": None if i == gap_at else round(4.3 - 0.1 * i, 2),
                     "mos_p50": None if i == gap_at else round(4.4 - 0.05 * i, 2),
                     "loss_p95": round(0.001 * i, 4)})
    return rows


def make_load_result(rows=None, **entry) -> ScenarioResult:
    r = ScenarioResult("load-with-media", "scenarios/load/media.yaml", "failed", 125.0,
                       checks=[CheckResult("load uac: mos p5", "failed", {"mos_p5_min": 4.0},
                                           {"mos_p5": 3.2}, "MOS p5 3.2 < 4.0")])
    r.load = {"uac": {"interval_s": 10, "series": load_series() if rows is None else rows,
                      "calls": 2400, "one_way": 0, **entry}}
    return r


@pytest.fixture
def series():
    return load_series


@pytest.fixture
def load_result():
    return make_load_result
