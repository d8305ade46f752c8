"""Issue 12: a ${env:...} password never reaches a SIPp agent's artifacts: not the
generated inline.xml, not command.txt (also through extra_args), not SIPp's logs —
and the digest SIPp computes from it is still right (the real SUT answers 200)."""
from __future__ import annotations

import json

import pytest

from sipscen.core.results import PASSED

from .conftest import SCENARIOS, copy_scenario, needs_kamailio, needs_sipp

pytestmark = [pytest.mark.integration, needs_sipp, needs_kamailio]

PASSWORD = "sipscen-test"          # the example SUT's static password, here a secret


def test_env_password_is_in_no_sipp_artifact_and_still_authenticates(tmp_path, monkeypatch,
                                                                     sipscen):
    monkeypatch.setenv("SIPSCEN_SECRET_PW", PASSWORD)
    path = copy_scenario(SCENARIOS / "register" / "digest-auth.yaml", tmp_path, {
        "password=${password}]": "password=${env:SIPSCEN_SECRET_PW}]",
        "    target: sut\n": "    target: sut\n    extra_args: [-key, echo_pw, "
                             '"${env:SIPSCEN_SECRET_PW}"]\n'})
    report = tmp_path / "r.json"
    code, out, err = sipscen("run", path, "--json", report, "--artifacts", tmp_path / "art", "-q")
    doc = json.loads(report.read_text())
    assert code == 0, (out, err, doc["scenarios"][0]["error"])
    assert doc["scenarios"][0]["status"] == PASSED
    folder = tmp_path / "art"
    inline = next(folder.rglob("inline.xml")).read_text(encoding="latin-1")
    assert "[authentication username=alice]" in inline      # the password goes as -ap
    command = next(folder.rglob("alice/command.txt")).read_text()
    assert " -ap *** " in command and command.endswith("-key echo_pw ***\n")
    leaks = [str(p) for p in folder.rglob("*") if p.is_file() and p.suffix != ".pcap"
             and PASSWORD.encode() in p.read_bytes()]
    assert leaks == []
    assert PASSWORD not in report.read_text() and PASSWORD not in out + err


XML = ('<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="x">\n'
       "  <!-- message 0: OPTIONS tok-123 -->\n  <send><![CDATA[\nOPTIONS sip:x SIP/2.0\n"
       "[authentication username=alice password=pw-1]\nX-Token: tok-123\n]]></send>\n"
       '  <recv response="401" auth="true"/>\n</scenario>\n')


def test_hide_secrets_moves_every_secret_to_options():
    from sipscen.agents.sipp.secrets import hide_secrets

    xml, argv = hide_secrets(XML, {"pw-1", "tok-123", "401"})
    assert "pw-1" not in xml and "tok-123" not in xml
    assert "[authentication username=alice]" in xml and "X-Token: [$sipscen_secret_0]" in xml
    assert '<Global variables="sipscen_secret_0" />' in xml
    assert '<recv response="401" auth="true"/>' in xml        # markup is never touched
    assert "<!-- message 0: OPTIONS *** -->" in xml
    assert argv == ["-ap", "pw-1", "-set", "sipscen_secret_0", "tok-123"]


def test_two_secret_passwords_in_one_agent_are_refused():
    from sipscen.agents.sipp.secrets import hide_secrets

    two = XML.replace("X-Token: tok-123", "[authentication username=bob password=pw-2]")
    with pytest.raises(ValueError, match="two different secret passwords"):
        hide_secrets(two, {"pw-1", "pw-2"})
