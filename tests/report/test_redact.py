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
