"""`sipscen scaffold` on captures read from files: what it writes, --list, --sut,
--anonymise, and hostile captures (clear errors or a warned scaffold, never a
traceback). Runs nothing; the round trips are in test_roundtrip.py."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from sipscen.scaffold.emit import Node, emit_mapping, header_comment
from sipscen.scenario.build import validate_file
from sipscen.scenario.loader import load_yaml
from tests.scaffold.captures import CORPUS, ROOT, traffic_gen, udp_frame, write_pcap


def first_call(traffic) -> str:
    return traffic[1]["call_ids"][0]


def test_customer_call_through_a_proxy(sipscen, traffic, tmp_path):
    path, info = traffic
    out = tmp_path / "call.yaml"
    code, _, err = sipscen("scaffold", path, "--call", first_call(traffic), "-o", out)
    assert code == 0, err
    assert validate_file(out) == []
    doc = load_yaml(out.read_text(), "call.yaml")
    assert set(doc["agents"]) == {"u4100", "u4101"}          # the proxy is no agent
    caller = doc["agents"]["u4100"]
    assert caller["account"] == {"user": "4100", "domain": "voip.acme.example",
                                 "registrar": "sut", "password": "${password}"}
    call = caller["steps"][0]["call"]
    assert call == {"uri": "sip:4101@${sut.hostport}", "headers": {"X-Customer-Ref": "acme-0"}}
    assert doc["agents"]["u4101"]["answer"] == {"delay": "800ms"}
    assert "sut" in doc["services"] and "kamailio" in doc["services"]["sut"]["command"]
    assert "placeholder service" in err                       # said on the console too
    families = [next(iter(e)) for e in doc["expect"]]
    assert families.count("call") == 1 and "registration" in families and "sip" in families
    assert {"call": {"from": "u4100", "to": "u4101", "answered": True, "status": 200,
                     "min_duration": "520ms", "max_duration": "2540ms"}} in doc["expect"]
    # the left-out dialogs are counted in the header, not silently dropped
    assert "3 dialog(s)" in out.read_text() and "Left out: 40 other dialog(s)" in out.read_text()


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_frame_numbers_match_tshark(sipscen, traffic, tmp_path):
    path, _ = traffic
    out = tmp_path / "call.yaml"
    assert sipscen("scaffold", path, "--call", first_call(traffic), "-o", out)[0] == 0
    line = next(x for x in out.read_text().splitlines() if "- call: {uri:" in x)
    frame = int(line.rsplit("frame ", 1)[1])
    shown = subprocess.run(["tshark", "-r", str(path), "-Y", f"frame.number == {frame}",
                            "-T", "fields", "-e", "sip.Method", "-e", "sip.Call-ID"],
                           capture_output=True, text=True, timeout=60).stdout.split()
    assert shown == ["INVITE", first_call(traffic)]


def test_list_shows_calls_and_registrations(sipscen, traffic):
    path, info = traffic
    code, out, _ = sipscen("scaffold", "--list", path)
    assert code == 0
    assert "40 registrations, 3 calls" in out
    assert "system under test (relays or registers): 10.0.0.1:5060" in out
    for cid in info["call_ids"]:
        assert cid in out
    assert "4100 -> 4101" in out


def test_scaffold_is_deterministic(sipscen, traffic, tmp_path):
    path, _ = traffic
    texts = []
    for name in ("a.yaml", "b.yaml"):
        assert sipscen("scaffold", path, "-o", tmp_path / name)[0] == 0
        texts.append((tmp_path / name).read_text().replace("name: scaffold-b", "name: scaffold-a"))
    assert texts[0] == texts[1]


def test_sut_piece_is_included(sipscen, traffic, tmp_path):
    path, _ = traffic
    out = tmp_path / "with-sut.yaml"
    piece = ROOT / "scenarios" / "lib" / "kamailio-sut.yaml"
    code, _, err = sipscen("scaffold", path, "--call", first_call(traffic),
                           "--sut", f"sut={piece}", "-o", out)
    assert code == 0, err
    doc = load_yaml(out.read_text(), "with-sut.yaml")
    assert "services" not in doc and len(doc["include"]) == 1
    assert (out.parent / doc["include"][0]).resolve() == piece.resolve()
    assert "placeholder" not in err


def test_sut_address_names_the_proxy(sipscen, traffic, tmp_path):
    path, _ = traffic
    out = tmp_path / "named.yaml"
    code, _, err = sipscen("scaffold", path, "--call", first_call(traffic),
                           "--sut", "sbc=10.0.0.1:5060", "-o", out)
    assert code == 0, err
    doc = load_yaml(out.read_text(), "named.yaml")
    assert list(doc["services"]) == ["sbc"]
    assert doc["agents"]["u4100"]["steps"][0]["call"]["uri"] == "sip:4101@${sbc.hostport}"


@pytest.mark.parametrize("value, message", [
    ("sut", "expected NAME=HOST:PORT"),
    ("1sut=10.0.0.1:5060", "expected NAME=HOST:PORT"),
    ("sut=nowhere.yaml", "no such file"),
    ("sut=10.0.0.1", "neither HOST:PORT nor a .yaml file"),
])
def test_bad_sut_is_a_usage_error(sipscen, traffic, value, message):
    code, _, err = sipscen("scaffold", traffic[0], "--sut", value)
    assert code == 2 and message in err and "Traceback" not in err


def test_sut_piece_without_the_service(sipscen, traffic, tmp_path):
    piece = tmp_path / "other.yaml"
    piece.write_text("services:\n  proxy: {command: [true], port: auto}\n")
    code, _, err = sipscen("scaffold", traffic[0], "--sut", f"sut={piece}", "-o",
                           tmp_path / "x.yaml")
    assert code == 2 and "defines no service 'sut' (it has: proxy)" in err


def test_unknown_call_id(sipscen, traffic):
    code, _, err = sipscen("scaffold", traffic[0], "--call", "no-such-call")
    assert code == 2 and "--call no-such-call: no dialog with that Call-ID" in err


# -- anonymisation -------------------------------------------------------------------------

def _malformed_capture(tmp_path):
    """A customer capture where a device sends what no user agent would: two
    Content-Length headers, SDES keys and digest credentials in an INVITE."""
    sdp = ("v=0\r\no=acme 1 1 IN IP4 10.9.8.7\r\ns=x\r\nc=IN IP4 10.9.8.7\r\nt=0 0\r\n"
           "m=audio 4000 RTP/SAVP 8\r\na=rtpmap:8 PCMA/8000\r\n"
           "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:QUNNRS1zZWNyZXQta2V5LW9mLXRoZS1jdXN0b21lcg\r\n")
    invite = ("INVITE sip:support@pbx.acme-corp.example SIP/2.0\r\n"
              "Via: SIP/2.0/UDP 10.9.8.7:5060;branch=z9hG4bKcust123\r\n"
              "From: \"Jane Customer\" <sip:jane.customer@acme-corp.example>;tag=tagJANE42\r\n"
              "To: <sip:support@pbx.acme-corp.example>\r\n"
              "Call-ID: 7c3f9e2a-custcall@10.9.8.7\r\nCSeq: 1 INVITE\r\n"
              "Contact: <sip:jane.customer@10.9.8.7:5060>\r\nMax-Forwards: 70\r\n"
              'Proxy-Authorization: Digest username="jane.customer", realm="acme-corp.example", '
              'nonce="abcdef0123", uri="sip:support@pbx.acme-corp.example", '
              'response="5f2b9c6d7e8f9a0b1c2d3e4f5a6b7c8d"\r\n'
              "Content-Type: application/sdp\r\nContent-Length: 12\r\n"
              f"Content-Length: {len(sdp)}\r\n\r\n{sdp}")
    reply = ("SIP/2.0 400 Bad Request\r\nVia: SIP/2.0/UDP 10.9.8.7:5060;branch=z9hG4bKcust123\r\n"
             "From: \"Jane Customer\" <sip:jane.customer@acme-corp.example>;tag=tagJANE42\r\n"
             "To: <sip:support@pbx.acme-corp.example>;tag=srv77\r\n"
             "Call-ID: 7c3f9e2a-custcall@10.9.8.7\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
    return write_pcap(tmp_path / "customer.pcap", [
        (1.0, udp_frame("10.9.8.7", 5060, "10.20.30.40", 5060, invite.encode())),
        (1.01, udp_frame("10.20.30.40", 5060, "10.9.8.7", 5060, reply.encode()))])


SECRETS = ["jane.customer", "Jane Customer", "acme-corp", "10.9.8.7", "10.20.30.40",
           "tagJANE42", "srv77", "7c3f9e2a", "custcall", "QUNNRS1zZWNyZXQta2V5",
           "5f2b9c6d7e8f", "abcdef0123", "z9hG4bKcust123", "customer.pcap"]


def test_malformed_device_becomes_sipp_and_anonymise_strips_everything(sipscen, tmp_path):
    capture = _malformed_capture(tmp_path)
    plain = tmp_path / "plain.yaml"
    code, _, err = sipscen("scaffold", capture, "-o", plain)
    assert code == 0, err
    text = plain.read_text()
    assert "type: sipp" in text and "2 Content-Length headers" in text
    # negative control: without --anonymise the customer's users, hosts, tag and key are
    # there (credentials never are: SIPp computes them from the challenge)
    shown = {s for s in SECRETS if s in text}
    assert {"jane.customer", "Jane Customer", "acme-corp", "10.9.8.7", "10.20.30.40",
            "tagJANE42", "QUNNRS1zZWNyZXQta2V5"} <= shown
    assert not shown & {"5f2b9c6d7e8f", "abcdef0123"}
    anon = tmp_path / "anon.yaml"
    code, _, err = sipscen("scaffold", capture, "-o", anon, "--anonymise")
    assert code == 0, err
    text = anon.read_text()
    assert validate_file(anon) == []
    assert [s for s in SECRETS if s in text] == []
    assert [s for s in SECRETS if s in err] == []             # the warnings too
    assert "inline:AAAAAAAA" in text                         # the key's shape stays, not its value
    assert "[authentication username=" in text               # credentials from SIPp, not the capture


def test_anonymise_customer_traffic(sipscen, traffic, tmp_path):
    path, info = traffic
    out = tmp_path / "anon.yaml"
    code, _, err = sipscen("scaffold", path, "--anonymise", "-o", out)
    assert code == 0, err
    text = out.read_text() + err
    leaked = [s for s in sorted(info["users"] | info["hosts"] | info["tags"] |
                                set(info["call_ids"]) | info["keys"]) if s in text]
    assert leaked == []
    assert "customer.pcap" not in text and validate_file(out) == []


# -- hostile captures ----------------------------------------------------------------------

def test_not_a_capture(sipscen, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("INVITE sip:x SIP/2.0\r\n")
    code, _, err = sipscen("scaffold", bad)
    assert code == 2, err
    assert "not a pcap or pcapng" in err.lower() or "not a capture" in err.lower(), err
    assert "Traceback" not in err and "internal error" not in err


@pytest.mark.parametrize("make", ["empty", "header-only", "missing", "folder"])
def test_empty_or_missing_capture(sipscen, tmp_path, make):
    path = tmp_path / "c.pcap"
    if make == "empty":
        path.write_bytes(b"")
    elif make == "header-only":
        write_pcap(path, [])
    elif make == "folder":
        path.mkdir()
    code, _, err = sipscen("scaffold", path)
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err
    assert str(path.name) in err


def test_no_sip_no_rtp(sipscen, tmp_path):
    junk = write_pcap(tmp_path / "dns.pcap", [
        (float(i), udp_frame("10.0.0.9", 53, "10.0.0.8", 40000 + i, b"\x12\x34" + bytes(30)))
        for i in range(20)])
    code, _, err = sipscen("scaffold", junk)
    assert code == 2 and "no SIP message and no RTP stream" in err and "20 packets" in err


def test_truncated_capture_is_scaffolded_with_a_warning(sipscen, traffic, tmp_path):
    data = traffic[0].read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[:len(data) * 2 // 3 + 7])          # inside a record
    out = tmp_path / "cut.yaml"
    code, _, err = sipscen("scaffold", cut, "-o", out)
    assert code == 0, err
    assert "warning: the capture:" in err and "truncat" in err.lower()
    assert "truncat" in out.read_text().lower() and validate_file(out) == []


def test_two_thousand_calls(sipscen, tmp_path):
    """A capture of many calls: the scaffold covers the first 20 and says so, and
    `--call` picks one deep inside (bench/bench_scaffold.py times 10,000 calls)."""
    big = tmp_path / "big.pcap"
    info = traffic_gen.write_traffic(big, calls=2_000, rtp_seconds=0.04, phones=200,
                                     spacing=0.01)
    out = tmp_path / "big.yaml"
    code, _, err = sipscen("scaffold", big, "-o", out)
    assert code == 0, err
    assert "the capture holds 2000 calls: the scaffold covers the first 20" in err
    doc = load_yaml(out.read_text(), "big.yaml")
    calls = [e for e in doc["expect"] if "call" in e]
    assert len(calls) == 20 and validate_file(out) == []
    one = tmp_path / "one.yaml"
    code, _, err = sipscen("scaffold", big, "--call", info["call_ids"][1777], "-o", one)
    assert code == 0, err
    assert len([e for e in load_yaml(one.read_text(), "one")["expect"] if "call" in e]) == 1


RFC4475 = CORPUS / "rfc4475"


@pytest.mark.skipif(not RFC4475.is_dir(), reason=f"RFC 4475 corpus not found at {RFC4475}")
def test_torture_messages(sipscen, tmp_path):
    """Each RFC 4475 message as a UDP packet to a proxy: a scaffold that validates (a
    SIPp agent sends what a UA would not) or a clear error; never a traceback."""
    outcomes = {}
    for dat in sorted(RFC4475.glob("*.dat")):
        capture = write_pcap(tmp_path / f"{dat.stem}.pcap", [
            (1.0, udp_frame("10.1.1.1", 5060, "10.2.2.2", 5060, dat.read_bytes()[:65000]))])
        out = tmp_path / f"{dat.stem}.yaml"
        code, _, err = sipscen("scaffold", capture, "-o", out)
        assert "Traceback" not in err and "internal error" not in err, (dat.name, err)
        assert code in (0, 2), (dat.name, err)
        if code == 0:
            assert validate_file(out) == [], dat.name
        outcomes[dat.stem] = code
    assert sum(1 for c in outcomes.values() if c == 0) >= 30, outcomes
    assert outcomes["badvers"] == 2        # SIP/7.0: not SIP to the analyser, said so


# -- the writer ----------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["yes", "no", "1234", "1234#", "a: b", "x #y", "${sut.port}",
                                   "-DD", "[x]", "{y}", "null", "", " lead", "tail ",
                                   "multi\nline\n", "quote\"s", "0x10", "1e3", "ümlaut", "~"])
def test_emitted_scalars_read_back(value):
    text = "\n".join(emit_mapping({"k": value, "flow": {"a": value}, "list": [value, value],
                                   "node": Node({"b": value}, "a comment")}))
    back = load_yaml(text + "\n", "t.yaml")
    assert back == {"k": value, "flow": {"a": value}, "list": [value, value],
                    "node": {"b": value}}


def test_capture_of_one_side_of_the_sut(sipscen, tmp_path):
    """Captured at the phone: the SBC relays the far end's answers (its Contact, a
    Record-Route) and challenges the INVITE. The SBC is the SUT; the far end, not in the
    capture, becomes an agent of its own, said in the file and on the console."""
    capture = tmp_path / "phone-side.pcap"
    traffic_gen.write_one_side(capture)
    out = tmp_path / "phone-side.yaml"
    code, _, err = sipscen("scaffold", capture, "-o", out)
    assert code == 0, err
    assert "no leg beyond sut for the call from u4100" in err and "u4101 stands for the far end" \
        in err
    doc = load_yaml(out.read_text(), "phone-side.yaml")
    assert set(doc["agents"]) == {"u4100", "u4101"} and "sut" in doc["services"]
    far = doc["agents"]["u4101"]
    assert far["account"]["registrar"] == "sut" and far["answer"] == {"delay": "1680ms"}
    assert far["steps"][0] == {"wait": {"event": "dtmf", "digits": "42", "timeout": "9s"}}
    assert {"hangup": {}} in far["steps"]                  # the far end hung up (the SBC's BYE)
    caller = doc["agents"]["u4100"]["steps"]
    assert caller[0] == {"call": {"uri": "sip:4101@${sut.hostport}"}}   # the 407 retry: its own
    assert {"dtmf": {"digits": "42", "method": "rfc4733", "duration": "80ms", "gap": "220ms"}} \
        in caller
    seq = next(e["sip"]["sequence"] for e in doc["expect"]
               if "sip" in e and e["sip"]["from"] == "sut" and e["sip"]["to"] == "u4100")
    assert seq == [{"status": 401, "method": "REGISTER"}, {"status": 200, "method": "REGISTER"},
                   407, 180, 200, "BYE"]
    assert "assumed: this leg is not in the capture" in out.read_text()


def test_comments_with_control_bytes_still_load():
    text = "\n".join(header_comment(["a note with \x00 and \x1b and \u2028 in it"]) +
                     emit_mapping({"k": Node("v", "frame 3: '\x07bell'")}))
    assert load_yaml(text + "\n", "t.yaml") == {"k": "v"}
    assert "\\x00" in text and "\\x07" in text
