"""Issue 20: a response whose status code is not three digits ("2OO") has no
status in the analysis, and is still a response to the `sip` expectation: never
counted as a request, never as an answer with a code."""
from __future__ import annotations

import struct
from pathlib import Path

import pytest

from sipscen.analysis import analyze_capture
from sipscen.checks import evaluate
from sipscen.checks.context import CheckContext
from sipscen.core.contact import Contact
from sipscen.core.errors import Location
from sipscen.core.model import Expectation, Scenario

ALICE, BOB = ("127.0.0.1", 20000), ("127.0.0.2", 20100)


def datagram(src, dst, text: str) -> bytes:
    payload = text.replace("\n", "\r\n").encode()
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(payload), 0, 0x4000, 64, 17, 0,
                     bytes(map(int, src[0].split("."))), bytes(map(int, dst[0].split("."))))
    return (b"\0" * 12 + b"\x08\x00" + ip + struct.pack("!HHHH", src[1], dst[1], 8 + len(payload), 0)
            + payload)


HEAD = ("Via: SIP/2.0/UDP 127.0.0.1:20000;branch=z9hG4bK-1\nFrom: <sip:alice@127.0.0.1>;tag=a\n"
        "To: <sip:bob@127.0.0.2>\nCall-ID: c1\nCSeq: 1 INVITE\nContent-Length: 0\n\n")


@pytest.fixture
def ctx(tmp_path: Path) -> CheckContext:
    frames = [datagram(ALICE, BOB, "INVITE sip:bob@127.0.0.2 SIP/2.0\n" + HEAD),
              datagram(BOB, ALICE, "SIP/2.0 2OO OK\n" + HEAD)]
    path = tmp_path / "c.pcap"
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) + b"".join(
        struct.pack("<IIII", 1000 + i, 0, len(f), len(f)) + f for i, f in enumerate(frames)))
    wire = analyze_capture(path).to_dict()
    assert wire["calls"][0]["messages"][1]["status"] is None
    contacts = {"alice": Contact("alice", *ALICE), "bob": Contact("bob", *BOB)}
    return CheckContext(Scenario(name="t", file=Path("t.yaml")), {}, wire, contacts)


def verdict(ctx: CheckContext, **params) -> str:
    (r,) = evaluate([Expectation("sip", params, Location("t.yaml", 3, 5), "expect[0]")], ctx)
    return r.status


def test_a_malformed_status_is_a_response_not_a_request(ctx):
    assert verdict(ctx, **{"from": "bob", "count": 0}) == "passed"          # bob sent no request
    assert verdict(ctx, **{"from": "bob", "method": "INVITE", "count": 0}) == "passed"
    assert verdict(ctx, **{"from": "bob", "status": "2xx", "count": 0}) == "passed"
    assert verdict(ctx, **{"from": "bob", "response": True, "count": 1}) == "passed"
    # negative controls: the same expectations made false fail
    assert verdict(ctx, **{"from": "bob", "count": 1}) == "failed"
    assert verdict(ctx, **{"from": "bob", "response": True, "count": 0}) == "failed"
    assert verdict(ctx, **{"from": "alice", "method": "INVITE", "count": 0}) == "failed"
