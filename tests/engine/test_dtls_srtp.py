"""DTLS-SRTP between two independent UAs (issue 10): baresip services keyed by
DTLS. The srtp check sees the handshake (use_srtp) on the media ports, then
only ciphertext-like RTP, and no keys in the SDP; the same call in plain RTP
fails it. Real baresip, tcpdump."""
from __future__ import annotations

import shutil

import pytest

from sipscen.analysis.dtls import _use_srtp, is_dtls
from sipscen.engine.run import RunOptions, run_scenario
from sipscen.scenario.build import load_scenario

from .conftest import ROOT

FILE = ROOT / "scenarios" / "sbc" / "baresip-dtls-srtp.yaml"
needs_baresip = pytest.mark.skipif(shutil.which("baresip") is None, reason="baresip needed")


def _run(tmp_path, **variables):
    result = run_scenario(load_scenario(FILE, variables),
                          RunOptions(artifacts_root=tmp_path / "art"))
    return result, {c.name: c for c in result.checks}


@pytest.mark.integration
@needs_baresip
def test_dtls_srtp_between_two_baresip_uas_is_proven_from_the_wire(tmp_path, no_leftovers):
    result, checks = _run(tmp_path)
    assert result.status == "passed", (result.error, [c for c in result.checks
                                                      if c.status != "passed"])
    wire = checks["srtp carol<->dave (wire, DTLS-SRTP)"]
    assert "ClientHello" in wire.actual["dtls"] and "ServerHello" in wire.actual["dtls"]
    assert "[AES_CM_128_HMAC_SHA1_80]" in wire.actual["dtls"]
    assert "no a=crypto" in wire.actual["sdp"] and "UDP/TLS/RTP/SAVP" in wire.actual["sdp"]
    assert "(CLEAR?)" not in wire.actual["rtp"]
    assert result.wire["dtls"]["flows"]


@pytest.mark.integration
@needs_baresip
def test_the_same_call_in_plain_rtp_fails_the_srtp_check(tmp_path, no_leftovers):
    result, checks = _run(tmp_path, MEDIAENC="")
    assert result.status == "failed"
    assert "dtls" not in result.wire               # no DTLS profile in any SDP: no scan
    assert checks["srtp carol<->dave (wire)"].status == "failed"
    assert "cleartext" in str(checks["srtp carol<->dave (wire)"].actual)
    assert checks["srtp at carol, from the capture"].status == "failed"


def test_server_hello_use_srtp_profile_is_read():
    ext = (14).to_bytes(2, "big") + (5).to_bytes(2, "big") + b"\x00\x02\x00\x02\x00"
    body = b"\xfe\xfd" + bytes(32) + b"\x00" + b"\xc0\x2b" + b"\x00" + \
        len(ext).to_bytes(2, "big") + ext
    assert _use_srtp(body) == "AES_CM_128_HMAC_SHA1_32"
    assert _use_srtp(body[:40]) is None
    assert is_dtls(b"\x16\xfe\xfd" + bytes(10)) and not is_dtls(b"\x80\x08" + bytes(11))
