"""Issue 20: inputs that `validate` said ok to and `run` then refused (or crashed
on) are refused at validation, exit 2, at FILE:LINE:COL of the offending key."""
import re

import pytest

SERVICE = """name: s
services:
  sut:
    command: [sleep, "10"]
{extra}
agents:
  a: {{type: pjsua}}
"""
AGENT = """name: a
agents:
  a:
    type: {type}
{extra}
"""

CASES = [
    ("env-key-with-equals", SERVICE.format(extra='    env: {"A=B": x}'), 5, 11,
     "services.sut.env['A=B']: invalid environment variable name 'A=B'"),
    ("env-key-empty", SERVICE.format(extra='    env: {"": x}'), 5, 11,
     "services.sut.env['']: invalid environment variable name ''"),
    ("files-dotdot", SERVICE.format(extra='    files: {"..": x}'), 5, 13,
     "services.sut.files['..']: invalid file name '..'"),
    ("files-dot", SERVICE.format(extra='    files: {".": x}'), 5, 13,
     "services.sut.files['.']: invalid file name '.'"),
    ("env-value-nul", SERVICE.format(extra='    env: {A: "x\\0y"}'), 5, 14,
     "services.sut.env.A: an environment value cannot hold a NUL character"),
    ("service-address-0", SERVICE.format(extra='    address: "0"'), 5, 14,
     "services.sut.address: '0' is not an IP address"),
    ("agent-address-0", AGENT.format(type="pjsua", extra='    address: "0"'), 5, 14,
     "agents.a.address: '0' is not an IP address"),
    ("sipp-address-0", AGENT.format(type="sipp", extra='    scenario: uas\n    address: "0"'),
     6, 14, "agents.a.address: '0' is not an IP address"),
    ("baresip-address-0", AGENT.format(type="baresip", extra='    address: "0"'), 5, 14,
     "agents.a.address: '0' is not an IP address"),
    ("impair-delay-20s", AGENT.format(type="pjsua", extra="    impair: {delay: 20s}"), 5, 21,
     "agents.a.impair.delay: at most 10s, not 20s"),
    ("impair-jitter-11s", AGENT.format(type="pjsua", extra="    impair: {jitter: 11s}"), 5, 22,
     "agents.a.impair.jitter: at most 10s, not 11s"),
    ("port-range-reversed",
     AGENT.format(type="pjsua", extra="    media: {port_range: [65535, 1024]}"), 5, 25,
     "agents.a.media.port_range: media.port_range must be [first, last] with 1024 <= first"),
    ("tls-without-cert-and-key", AGENT.format(type="pjsua", extra="    transport: tls"), 5, 16,
     "agents.a.transport: transport tls needs tls.cert and tls.key"),
    ("sipp-tls", AGENT.format(type="sipp", extra="    scenario: uas\n    transport: tls"), 6, 16,
     "agents.a.transport: SIPp on this machine has no TLS"),
]


@pytest.mark.parametrize("name, text, line, col, message", CASES, ids=[c[0] for c in CASES])
def test_validate_refuses_what_run_refuses(tmp_path, sipscen, name, text, line, col, message):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    code, out, err = sipscen("validate", path)
    assert code == 2, out + err
    assert f"{path}:{line}:{col}: {message}" in err, err
    assert "internal error" not in err and "Traceback" not in err


def test_tls_with_cert_and_key_and_the_good_values_validate(tmp_path, sipscen, tls_files):
    """The negative control: the same keys with good values are fine."""
    path = tmp_path / "ok.yaml"
    path.write_text(f"""name: ok
services:
  sut:
    command: [sleep, "10"]
    env: {{A_B: "x=y"}}
    files: {{a..b: x, .hidden: y}}
    address: 127.0.0.1
agents:
  a:
    type: pjsua
    address: 127.0.0.1
    transport: tls
    tls: {{cert: {tls_files['cert']}, key: {tls_files['key']}}}
    impair: {{delay: 10s, jitter: 10s}}
    media: {{port_range: [1024, 65535]}}
""")
    code, out, err = sipscen("validate", path)
    assert code == 0, err


@pytest.mark.parametrize("text, line, col, where", [
    ('name: "bad\\udc80"\n', 1, 7, "name"),
    ('name: n\ntags: [ok, "t\\udc80"]\n', 2, 12, "tags[1]"),
    ('name: n\nvariables: {V: "x\\udc80"}\ndescription: "${V}"\n', 3, 14, "description"),
    ('name: n\ndescription: "\\ud83d\\ude00 a pair of halves"\n', 2, 14, "description"),
    ('name: n\nparametrize: {P: ["\\udc80"]}\n', 2, 14, "parametrize: variable P"),
])
def test_a_lone_surrogate_is_refused_at_its_place(tmp_path, sipscen, text, line, col, where):
    """Issue 20: "\\udc80" in a name, tag or variable validated, ran, passed, then lost
    every report to a UnicodeEncodeError."""
    path = tmp_path / "s.yaml"
    path.write_text(text + "agents:\n  a: {type: pjsua}\n")
    code, out, err = sipscen("validate", path)
    assert code == 2, out + err
    assert re.search(rf"{re.escape(str(path))}:{line}:{col}: {re.escape(where)}: not valid "
                     r"Unicode: a lone surrogate \\ud[89a-f][0-9a-f]{2}", err), err
    err.encode("utf-8")                  # the message itself is writable


def test_a_surrogate_from_the_environment_or_the_command_line_is_refused(
        tmp_path, sipscen, monkeypatch, capsys):
    path = tmp_path / "s.yaml"
    path.write_text('name: n\ntags: ["${env:SIPSCEN_T_BYTES}", "${V}"]\n'
                    "agents:\n  a: {type: pjsua}\n")
    monkeypatch.setenv("SIPSCEN_T_BYTES", "ok")
    code, out, err = sipscen("validate", path, "--var", "V=b\udcff")    # argv bytes b'\xff'
    assert code == 2
    assert "--var: V: not valid Unicode" in capsys.readouterr().err
    monkeypatch.setenv("SIPSCEN_T_BYTES", "x\udc80")       # os.environ of b'x\x80'
    code, out, err = sipscen("validate", path, "--var", "V=fine")
    assert code == 2 and f"{path}:2:8: tags[0]: not valid Unicode" in err, err


def test_duplicate_scenario_names_in_a_folder_are_flagged(tmp_path, sipscen, monkeypatch):
    """Issue 20: two library scenarios shared the name register-wrong-password."""
    folder = tmp_path / "lib"
    (folder / "sub").mkdir(parents=True)
    one = "name: same\nagents:\n  a: {type: pjsua}\n"
    (folder / "a.yaml").write_text(one)
    (folder / "sub" / "b.yaml").write_text("\n" + one)
    (folder / "c.yaml").write_text(one.replace("same", "other"))
    code, out, err = sipscen("validate", folder)
    assert code == 2, out + err
    assert f"{folder / 'sub' / 'b.yaml'}:2:7: name: duplicate scenario name 'same' (also " \
           f"{folder / 'a.yaml'}:1:7)" in err, err
    monkeypatch.chdir(tmp_path)                 # a relative folder, as typed
    code, out, err = sipscen("validate", "lib")
    assert code == 2 and "lib/sub/b.yaml:2:7: name: duplicate scenario name 'same' (also " \
        "lib/a.yaml:1:7)" in err, err
    (folder / "sub" / "b.yaml").write_text("\n" + one.replace("same", "third"))
    code, out, err = sipscen("validate", folder)
    assert code == 0, err
