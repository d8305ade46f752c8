"""The JSON report: content per issue 2, redaction, round trip."""
import json

from sipscen.report.json_report import results_from_json_dict, to_json_dict, write_json


def test_json_report_content(results, tmp_path):
    path = write_json(results, tmp_path / "out" / "r.json")
    data = json.loads(path.read_text())
    assert set(data) >= {"scenarios", "summary"}
    assert data["summary"]["total"] == 3
    assert (data["summary"]["passed"], data["summary"]["failed"], data["summary"]["error"]) == (1, 1, 1)
    assert data["summary"]["status"] == "error"

    demo, wrong, broken = data["scenarios"]
    assert demo["status"] == "passed" and demo["duration"] == 3.42
    assert {c["name"] for c in demo["checks"]} >= {"dtmf alice->bob (wire)", "codec alice<->bob"}
    assert {a["codec"] for a in demo["codecs"]["agents"]} == {"PCMA"}
    assert [w["payload_types"] for w in demo["codecs"]["wire"]] == [[8, 101], [8]]
    assert {a["suite"] for a in demo["srtp"]["agents"]} == {"AES_CM_128_HMAC_SHA1_80"}
    assert all(w["encrypted"] for w in demo["srtp"]["wire"])
    assert demo["dtmf"]["agents"]["bob"]["received"] == "1234#"
    assert demo["dtmf"]["agents"]["alice"]["sent"] == "1234#"
    assert [(w["digits"], w["method"]) for w in demo["dtmf"]["wire"]] == [("1234#", "rfc4733")]
    assert demo["artifacts"]["pcap"].endswith("capture.pcap")

    failed = [c for c in wrong["checks"] if c["status"] == "failed"]
    assert {c["name"] for c in failed} == {"dtmf alice->bob (agent)", "dtmf alice->bob (wire)"}
    for c in failed:
        assert (c["expected"], c["actual"]) == ("1235#", "1234#")
        assert c["location"] == "examples/wrong_digits.sipscen.yaml:43:5"
    assert broken["status"] == "error" and "steps[2].dtmf.method" in broken["error"]
    assert broken["checks"] == [] and broken["dtmf"] == {"agents": {}, "wire": []}


def test_json_report_is_redacted(results, secret, tmp_path):
    text = write_json(results, tmp_path / "r.json").read_text()
    assert secret not in text
    data = json.loads(text)
    assert data["scenarios"][0]["agents"]["bob"]["account"]["password"] == "***"
    assert "password ***" in data["scenarios"][2]["error"]
    assert "secrets" not in data["scenarios"][0]
    # an extra secret passed by the caller is masked too
    assert "PCMA" not in json.dumps(to_json_dict(results, secrets=["PCMA"]))


def test_json_round_trip(results):
    data = to_json_dict(results)
    again = to_json_dict(results_from_json_dict(data))
    assert again["scenarios"] == data["scenarios"]
    assert again["summary"] == data["summary"]


def test_json_feeds_report_merge(results, tmp_path):
    """The shard merger (sipscen.report.merge) rebuilds results from this JSON, in order."""
    from sipscen.report.merge import merge_reports
    for i, r in enumerate(results):
        r.order = i
    a = write_json([results[2]], tmp_path / "a.json")
    b = write_json(results[:2], tmp_path / "b.json")
    merged = merge_reports([a, b])
    assert [r.name for r in merged] == [r.name for r in results]
    assert merged[1].checks[3].expected == "1235#"
    assert to_json_dict(merged)["scenarios"] == to_json_dict(results)["scenarios"]
