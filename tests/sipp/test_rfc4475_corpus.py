"""The RFC 4475 torture messages, sent by SIPp to the example Kamailio SUT.

The messages are read in place from ``<root>/../shared/corpus/rfc4475`` (never
copied into the project); the test skips when the corpus is absent. Each
message is sent as written except for what keeps the test on the loopback and
lets SIPp match the answer: every Via becomes one Via to SIPp's own address,
the Call-ID becomes ``[call_id]``, Route headers are dropped (they name hosts
off this machine), and literal ``[``/``\\`` are escaped for SIPp.

Verdicts: an *invalid* message (RFC 4475 section 3.1.2) must never be accepted
(no 2xx), and after every batch the platform must still answer an OPTIONS.
"""
from __future__ import annotations

import re
import pytest

from sipscen.core.contact import Contact
from sipscen.engine.services import Service, probe_sip_options
from sipscen.core.errors import Location
from sipscen.core.model import ServiceSpec

from .conftest import CORPUS, KAMAILIO_CFG, needs_kamailio, needs_sipp

pytestmark = [pytest.mark.integration, needs_sipp, needs_kamailio,
              pytest.mark.skipif(not CORPUS.is_dir(), reason=f"RFC 4475 corpus not found at {CORPUS}")]

# RFC 4475 3.1.2: syntactically invalid requests (responses cannot be sent by SIPp).
INVALID = ["badinv01", "clerr", "scalar02", "quotbal", "ltgtruri", "lwsruri", "lwsstart",
           "trws", "escruri", "baddate", "regbadct", "badaspec", "baddn", "badvers",
           "mismatch01", "mismatch02", "mcl01", "multi01", "insuf", "ncl"]
# RFC 4475 3.1.1 and 3.3: valid (if unusual) requests a parser must survive.
VALID = ["esc01", "esc02", "escnull", "longreq", "dblreq", "semiuri", "transports", "mpart01",
         "lwsdisp", "wsinv", "inv2543", "unksm2", "regaut01", "regescrt", "cparam01", "cparam02",
         "sdp01", "unkscm", "novelsc", "zeromf", "bext01", "invut", "badbranch"]

_VIA = re.compile(rb"^(via|v)[ \t]*:.*(\r\n[ \t].*)*\r\n", re.I | re.M)
_CALL_ID = re.compile(rb"^((?:call-id|i)[ \t]*:[ \t]*)[^\r\n]*", re.I | re.M)
_ROUTE = re.compile(rb"^route[ \t]*:.*(\r\n[ \t].*)*\r\n", re.I | re.M)


def loopback_variant(data: bytes) -> bytes:
    """The corpus message with the rewrites described in the module doc."""
    head, sep, body = data.partition(b"\r\n\r\n")
    head += b"\r\n"
    first_via = _VIA.search(head)
    head = _ROUTE.sub(b"", head)
    marker = b"Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]\r\n"
    if first_via:
        head = _VIA.sub(b"", head)
        request_line, _, rest = head.partition(b"\r\n")
        head = request_line + b"\r\n" + marker + rest
    head = _CALL_ID.sub(rb"\1[call_id]", head)
    return head[:-2] + sep + body


def as_send_text(data: bytes) -> str:
    """Bytes -> the YAML-level text the inline agent decodes back to these bytes.

    (The chosen corpus messages contain no ``[``: SIPp would read it as a keyword.)"""
    out = []
    for line in data.split(b"\r\n"):
        text = []
        for b in line:
            if b == 0x5C:
                text.append("\\\\")
            elif 0x20 <= b <= 0x7E:
                text.append(chr(b))
            else:
                text.append(f"\\x{b:02x}")
        out.append("".join(text))
    return "\n".join(out)


@pytest.fixture
def sut(tmp_path):
    from sipscen.core.ports import PortAllocator
    tmp = tmp_path
    ports = PortAllocator("127.0.0.1")
    spec = ServiceSpec("sut", {"command": ["kamailio", "-DD", "-E", "-f", str(KAMAILIO_CFG),
                                           "-l", "udp:127.0.0.1:${sut.port}"],
                               "address": "127.0.0.1", "port": "auto", "transport": "udp"},
                       Location("corpus", 1, 1), "services.sut")
    service = Service(spec, tmp / "sut", ports)
    contact: Contact = service.plan()
    try:
        service.start({"sut": contact}, tmp)
        service.ready(10)
        yield contact
    finally:
        service.stop()
        ports.release()


def send_batch(rig, sut_contact, names: list[str]) -> dict[str, dict]:
    messages = []
    for name in names:
        data = loopback_variant((CORPUS / f"{name}.dat").read_bytes())
        messages.append({"send": as_send_text(data), "timeout": "500ms"})
    agent = rig.agent(f"corpus{len(rig.agents)}", target=sut_contact.hostport, messages=messages)
    agent.start()
    agent.run()      # raises StepFailed if the SUT stops answering the probe
    agent.stop()
    responses = agent.facts()["responses"]
    assert responses[-1]["probe"] and responses[-1]["received"] is not None
    return {name: r for name, r in zip(names, responses)}


def test_rewrite_keeps_the_message_but_not_its_foreign_addresses():
    data = (CORPUS / "wsinv.dat").read_bytes()
    out = loopback_variant(data)
    assert out.count(b"[local_ip]:[local_port]") == 1
    assert not re.search(rb"(?im)^(via|v)\s*:.*192\.0\.2", out)
    assert not re.search(rb"(?im)^route\s*:", out)
    assert re.search(rb"(?im)^(call-id|i)\s*:\s*\[call_id\]", out)
    assert out.split(b"\r\n\r\n", 1)[1] == data.split(b"\r\n\r\n", 1)[1]


def test_invalid_torture_messages_are_never_accepted_and_the_sut_survives(rig, sut):
    results = send_batch(rig, sut, INVALID[:10])
    results.update(send_batch(rig, sut, INVALID[10:]))
    accepted = {n: r["received"]["status"] for n, r in results.items()
                if r["received"] is not None and 200 <= r["received"]["status"] < 300}
    assert accepted == {}
    # most are answered with a 4xx rather than silently dropped
    answered = [n for n, r in results.items() if r["received"] is not None]
    assert len(answered) >= len(INVALID) // 2, results
    assert probe_sip_options("127.0.0.1", sut.port, 1.0) == "SIP/2.0 200 Keepalive"


def test_valid_torture_messages_do_not_break_the_sut(rig, sut):
    results = send_batch(rig, sut, VALID[:12])
    results.update(send_batch(rig, sut, VALID[12:]))
    assert len(results) == len(VALID)
    assert probe_sip_options("127.0.0.1", sut.port, 1.0) == "SIP/2.0 200 Keepalive"
