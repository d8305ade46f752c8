"""A ${env:...} value (a secret) never appears in an error message: it reads ***."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from sipscen.core.errors import ScenarioError
from sipscen.scenario import load_scenario, load_scenarios, validate_file

SECRET = "hunter2secret"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "secret.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_validate_command_never_prints_an_env_secret(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch):
    from sipscen.cli import main

    monkeypatch.setenv("PW", SECRET)
    path = _write(tmp_path, "name: x\nagents:\n  a:\n    type: pjsua\n"
                            "    transport: \"${env:PW}\"\n")
    out, err = io.StringIO(), io.StringIO()
    assert main(["validate", str(path)], stdout=out, stderr=err) == 2
    printed = out.getvalue() + err.getvalue()
    assert SECRET not in printed
    assert f"{path}:5:16: agents.a.transport: unknown value '***' — expected one of: udp, tcp, " \
           "tls" in printed


def test_schema_and_semantic_errors_are_redacted(tmp_path: Path):
    path = _write(tmp_path, "name: x\nagents:\n  a:\n    type: pjsua\n"
                            "    port: 'p-${env:PW}-q'\n"
                            "    steps:\n      - call: {to: \"${env:WHO}\"}\n")
    environ = {"PW": SECRET, "WHO": "carol"}
    found = [str(e) for e in validate_file(path, environ=environ)]
    assert found == [f"{path}:5:11: agents.a.port: port must be an integer 1-65535 or 'auto', "
                     "got 'p-***-q'"]
    path.write_text("name: x\nagents:\n  a:\n    type: pjsua\n"
                    "    steps:\n      - call: {to: \"${env:WHO}\"}\n", encoding="utf-8")
    found = [str(e) for e in validate_file(path, environ=environ)]
    assert found == [f"{path}:6:20: agents.a.steps[0].call.to: unknown agent '***' — agents are: a"]
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, environ=environ)
    assert "carol" not in str(caught.value) and "***" in caught.value.message


def test_secret_escaped_by_repr_is_redacted_too(tmp_path: Path):
    tricky = "it's\\secret"
    path = _write(tmp_path, "name: x\nagents:\n  a: {type: pjsua, transport: \"${env:PW}\"}\n")
    (error,) = validate_file(path, environ={"PW": tricky})
    assert error.message == 'unknown value "***" — expected one of: udp, tcp, tls'


def test_passwords_are_redacted_in_errors_and_parameters_are_named(tmp_path: Path):
    path = _write(tmp_path, "name: x\nparametrize: {t: [udp, carrier]}\nagents:\n"
                            "  a: {type: pjsua, transport: \"${t}\", "
                            "account: {password: \"${PASS}\"}}\n"
                            "  b: {type: pjsua, srtp: {use: \"${PASS}\"}}\n")
    errors = validate_file(path, {"PASS": "pigeon-pass"}, environ={})
    assert [str(e) for e in errors] == [
        f"{path}:5:32: agents.b.srtp.use: unknown value '***' — expected one of: disabled, "
        "optional, mandatory [with t=udp]"]
    with pytest.raises(ScenarioError) as caught:
        load_scenarios(path, {"PASS": "pigeon-pass"}, environ={})
    assert "pigeon-pass" not in str(caught.value)


def test_valid_file_keeps_its_secrets_for_the_reports(tmp_path: Path):
    path = _write(tmp_path, "name: x\nagents:\n  a: {type: pjsua, account: "
                            "{password: \"${env:PW}\"}}\n")
    assert load_scenario(path, environ={"PW": SECRET}).secrets == frozenset({SECRET})
