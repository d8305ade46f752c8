"""Parity (issue 21) pieces that need no network: digest answers, header checks,
caller identity, the silent SIPp callee, repeats written out."""
from __future__ import annotations

import pytest

from sipscen.agents.pjsua import digest, identity
from sipscen.agents.sipp.answer import build_answer_uas
from sipscen.core import headers


def test_digest_answers_the_rfc_2617_example():
    """RFC 2617 3.5 (qop=auth): the response digest is the RFC's."""
    value = digest.authorization(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
        "GET", "/dir/index.html", "Mufasa", "Circle Of Life", cnonce="0a4f113b")
    assert 'response="6629fae49393a05397450978507c4ef1"' in value
    assert "qop=auth" in value and "nc=00000001" in value
    assert 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in value


def test_digest_without_qop_and_refusals():
    value = digest.authorization('Digest realm="r", nonce="n"', "OPTIONS", "sip:b@h", "u", "p")
    assert "qop" not in value and value.startswith('Digest username="u", realm="r"')
    with pytest.raises(digest.ChallengeError):
        digest.authorization('Basic realm="r"', "OPTIONS", "sip:b@h", "u", "p")
    with pytest.raises(digest.ChallengeError):
        digest.authorization('Digest realm="r", nonce="n", algorithm=SHA-512', "OPTIONS",
                             "sip:b@h", "u", "p")
    with pytest.raises(digest.ChallengeError):
        digest.authorization('Digest realm="r", nonce="n"', "OPTIONS", "sip:b@h", "u", "p",
                             realm_wanted="other")


@pytest.mark.parametrize("check, values, why", [
    ("^a$", ["b", "a"], None),                              # one of the repeated matches
    ("^a$", ["b"], "X 'b' does not match '^a$'"),
    ("^a$", [], "no X header"),
    ({"all": "^a"}, ["a1", "b"], "X 'b' (one of 2) does not match '^a'"),
    ({"all": "^a"}, [], "no X header"),
    ({"count": 1}, ["a", "a"], "2 X header(s), expected 1 (seen: 'a', 'a')"),
    ({"count": 0}, [], None),
    ({"matches": "^a", "count": {"min": 2}}, ["a", "b"], "1 X header(s) matching '^a', "
                                                        "expected >= 2 (seen: 'a', 'b')"),
])
def test_header_checks(check, values, why):
    assert headers.problem("X", check, values) == why


def test_header_mismatch_reads_repeated_headers_and_names_case_blind():
    got = {"Contact": ["<sip:a@h>", "<sip:b@h>"], "from": "x"}
    assert headers.mismatch({"contact": {"count": 1}}, got) == \
        "2 contact header(s), expected 1 (seen: '<sip:a@h>', '<sip:b@h>')"
    assert headers.mismatch({"From": "^x$", "Contact": "b@"}, got) is None


def test_identity_builds_from_to_and_asserted_headers():
    from_uri, to_uri, extra = identity.build(
        {"from": {"user": "+4412345", "display": 'A "x"'}, "to": {"user": "bob"},
         "asserted": "sip:+4412345@127.0.0.1", "preferred": "<sip:a@127.0.0.1>"},
        "sip:0044@127.0.0.1:5060;transport=udp", "127.0.0.1")
    assert from_uri == '"A \\"x\\"" <sip:+4412345@127.0.0.1>'
    assert to_uri == "<sip:bob@127.0.0.1:5060>"
    assert extra == {"P-Asserted-Identity": "<sip:+4412345@127.0.0.1>",
                     "P-Preferred-Identity": "<sip:a@127.0.0.1>"}
    assert identity.build(None, "sip:b@127.0.0.1", "127.0.0.1") == ("", "", {})


def test_silent_callee_sends_nothing_before_its_delay():
    xml = build_answer_uas({"delay": "6s", "code": 480, "reason": "Gone Fishing"})
    recv = xml.index('<recv request="INVITE"')
    pause = xml.index('<pause milliseconds="6000"/>')
    final = xml.index("SIP/2.0 480 Gone Fishing")
    assert recv < pause < final and "100 Trying" not in xml and "180" not in xml
    ringing = build_answer_uas({"ring": True})
    assert ringing.index("SIP/2.0 180 Ringing") < ringing.index("SIP/2.0 200 OK")
    assert "m=audio" in ringing and '<recv request="BYE"/>' in ringing


def _tone(freqs, seconds, rate=16000, amp=0.2):
    import numpy as np
    t = np.arange(int(rate * seconds)) / rate
    return (sum(np.sin(2 * np.pi * f * t) for f in freqs) * amp * 32767 / len(freqs)
            ).astype(np.int16)


@pytest.mark.parametrize("freqs, heard", [([440, 480], True), ([460], False), ([440], False),
                                          ([1000], False), ([437, 484], True)])
def test_tone_watch_hears_each_frequency_as_its_own_peak(freqs, heard):
    import numpy as np

    from sipscen.analysis.tone_watch import ToneWatch
    watch = ToneWatch(16000, [440, 480], tolerance=0.03, min_duration=0.3)
    audio = np.concatenate([np.zeros(8000, dtype=np.int16), _tone(freqs, 1.0)])
    found = None
    for i in range(0, len(audio), 1600):          # fed as the tap reads it, 100 ms at a time
        found = watch.feed(audio[i:i + 1600]) or found
    assert (found is not None) == heard
    if heard:
        assert 0.4 <= found["onset"] <= 0.55 and found["seconds"] >= 0.3


def test_tone_watch_needs_the_duration_and_the_level():
    import numpy as np

    from sipscen.analysis.tone_watch import ToneWatch
    short = ToneWatch(16000, [1000], min_duration=0.5)
    assert short.feed(np.concatenate([_tone([1000], 0.3), np.zeros(16000, np.int16)])) is None
    quiet = ToneWatch(16000, [1000], min_level_dbfs=-40)
    assert quiet.feed(_tone([1000], 1.0, amp=0.002)) is None
