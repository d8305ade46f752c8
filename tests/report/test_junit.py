"""JUnit XML: valid against the Jenkins schema, failures and errors carry the reason."""
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sipscen.report.junit import classname_for, write_junit

xmlschema = pytest.importorskip("xmlschema", reason="xmlschema is a test dependency (pip install -e .[test])")
XSD = Path(__file__).parent / "data" / "jenkins-junit.xsd"


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema(str(XSD))


def test_junit_validates_against_jenkins_xsd(results, schema, tmp_path):
    path = write_junit(results, tmp_path / "junit" / "r.xml")
    schema.validate(str(path))          # raises with the reason when invalid
    assert schema.is_valid(str(path))


def test_schema_really_rejects_bad_documents(schema, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text('<testsuite name="x" tests="1"><testcase name="a">'
                   '<failure/><error/></testcase></testsuite>')   # error must precede failure
    assert not schema.is_valid(str(bad))


def test_junit_content(results, tmp_path):
    root = ET.parse(write_junit(results, tmp_path / "r.xml")).getroot()
    assert root.tag == "testsuite" and root.get("name") == "sipscen"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "1")
    cases = root.findall("testcase")
    assert [c.get("name") for c in cases] == ["demo-srtp-dtmf", "demo-wrong-digits", "broken-file"]
    assert cases[0].get("classname") == "examples.demo"
    assert cases[0].get("time") == "3.420"
    assert cases[0].find("failure") is None and cases[0].find("error") is None

    failure = cases[1].find("failure")
    msg = failure.get("message")
    assert "dtmf alice->bob (agent)" in msg and "'1235#'" in msg and "'1234#'" in msg
    assert "examples/wrong_digits.sipscen.yaml:43:5" in msg
    assert "and 1 more" in msg
    assert "dtmf alice->bob (wire)" in failure.text          # every failed check in the body

    error = cases[2].find("error")
    assert error is not None and cases[2].find("failure") is None
    assert "examples/broken.sipscen.yaml:7:9" in error.get("message")

    out = cases[1].find("system-out").text
    assert "----- alice.log" in out and "alice: call DISCONNECTED" in out
    assert "alice line 199" in out and "alice line 100" not in out     # a bounded tail
    assert "bob: <dtmf> 1 2 3 4 # & done" in out                       # escaped, intact

    props = {p.get("name"): p.get("value") for p in root.find("properties")}
    assert props["demo-srtp-dtmf.tags"] == "demo,srtp,dtmf"
    assert props["demo-wrong-digits.artifact.pcap"].endswith("capture.pcap")
    assert props["broken-file.tags"] == "broken"


def test_junit_redacts_everywhere(results, secret, tmp_path):
    text = write_junit(results, tmp_path / "r.xml").read_text()
    assert secret not in text
    assert "registering with password ***" in text       # the log tail, masked
    assert "(password ***)" in text                      # the error message, masked


def test_junit_strips_xml_invalid_characters(results, schema, tmp_path):
    results[0].checks[0].actual = "bad\x00\x07char"
    path = write_junit(results, tmp_path / "r.xml")
    assert schema.is_valid(str(path))


def test_classname_for():
    assert classname_for("examples/demo.sipscen.yaml") == "examples.demo"
    assert classname_for("suite/a.b/x.yml") == "suite.a_b.x"
    assert classname_for("") == "scenario"


def test_step_failure_without_failed_checks(results, schema, tmp_path):
    r = results[0]
    r.status = "failed"
    r.error = "examples/demo.sipscen.yaml:22:9: alice: wait media_active timed out after 5s"
    root = ET.parse(write_junit([r], tmp_path / "r.xml")).getroot()
    assert schema.is_valid(str(tmp_path / "r.xml"))
    failure = root.find("testcase/failure")
    assert failure.get("type") == "step"
    assert failure.get("message") == r.error
    assert root.get("failures") == "1" and root.get("errors") == "0"
