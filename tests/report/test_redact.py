"""redact(): every secret masked in nested data, nothing else touched."""
from sipscen.core.redaction import MASK, redact, redact_text, secrets_of


def test_masks_substrings_keys_and_nested_values():
    data = {"pw": "abc123", "uri": "sip:bob:abc123@host", "list": ["x", ("abc123",)],
            "abc123": 1, "n": 42, "pin": 4711}
    out = redact(data, ["abc123", "4711", ""])
    assert out["pw"] == MASK
    assert out["uri"] == "sip:bob:***@host"
    assert out["list"] == ["x", [MASK]]
    assert MASK in out and "abc123" not in out
    assert out["n"] == 42 and out["pin"] == MASK
    assert data["pw"] == "abc123"          # the input is not mutated


def test_longest_secret_first_and_no_secrets_is_a_copy():
    assert redact_text("token=abcdef", ["abc", "abcdef"]) == "token=***"
    data = {"a": [1, {"b": "c"}]}
    copy = redact(data, [])
    assert copy == data and copy is not data and copy["a"][1] is not data["a"][1]


def test_secrets_of_collects_from_results(results, secret):
    assert secrets_of(results) == [secret]
    assert set(secrets_of(results, ["other"])) == {secret, "other"}


def test_redact_file_masks_text_whole_and_binary_in_place(tmp_path):
    """Issue 20: the one pass over a run's artifacts. A text file gets ``***``; a
    binary one (a capture) keeps its length, the secret overwritten by '*'."""
    from sipscen.core.redaction import redact_file, redact_tree

    secret = "s3cr3t-Token"
    log = tmp_path / "pjsua.log"
    log.write_text(f"X-Token: {secret}\nagain {secret}\n")
    pcap = tmp_path / "capture.pcap"
    blob = b"\xd4\xc3\xb2\xa1\0\0" + f"X-Token: {secret}\r\n".encode() + b"\0\x01"
    pcap.write_bytes(blob)
    clean = tmp_path / "sub" / "clean.log"
    clean.parent.mkdir()
    clean.write_text("nothing here\n")
    before = clean.stat().st_mtime_ns
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text(secret)
    (tmp_path / "sub" / "link").symlink_to(outside)

    changed = redact_tree(tmp_path, [secret, "ab"])
    assert sorted(p.name for p in changed) == ["capture.pcap", "pjsua.log"]
    assert log.read_text() == "X-Token: ***\nagain ***\n"
    masked = pcap.read_bytes()
    assert len(masked) == len(blob) and secret.encode() not in masked
    assert b"X-Token: " + b"*" * len(secret) + b"\r\n" in masked
    assert clean.stat().st_mtime_ns == before            # only read
    assert outside.read_text() == secret                 # a link is not followed
    assert not redact_file(log, [secret])                # nothing left
    # a secret shorter than 4 bytes is masked in text only (in binary it matches by chance)
    pcap.write_bytes(b"\0\x01ab\x02")
    assert not redact_file(pcap, ["ab"]) and pcap.read_bytes() == b"\0\x01ab\x02"
