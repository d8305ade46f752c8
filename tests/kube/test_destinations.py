"""A PJSUA call to a URI goes only where sipscen may send: a loopback IP here
(never a name to resolve, never another address)."""
import pytest

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("uri, message", [
    ("sip:bob@192.0.2.7:5060", "192.0.2.7 is not a loopback address"),
    ("sip:bob@sut.example.com", "'sut.example.com' is not an IP address"),
])
def test_call_uri_off_loopback_is_refused(sipscen, tmp_path, uri, message):
    path = tmp_path / "s.yaml"
    path.write_text(f"""\
name: off-loopback
timeout: 10s
capture: false
agents:
  alice:
    type: pjsua
    steps:
      - call: {{uri: "{uri}"}}
""")
    code, out, err = sipscen("run", path, "-q", "--artifacts", tmp_path / "a")
    assert code == 2 and message in out + err and "agents.alice.steps[0].call.uri" in out + err
